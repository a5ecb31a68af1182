//! Integration tests of `LocalChain` on real SQLite files in temporary directories.

mod balances;
mod basics;
mod concurrency;
mod refusals;
mod yuma;

use std::path::Path;

use gauntlet_chain::{Genesis, Hotkey, LocalChain, SubnetParams};
use gauntlet_constants::{Block, NetUid};

/// The subnet most tests use.
pub const NET: NetUid = NetUid(37);

/// A deterministic hotkey per `(group, index)`.
pub fn hotkey(group: u8, index: u16) -> Hotkey {
    let mut seed = [7u8; 32];
    seed[0] = group;
    seed[1..3].copy_from_slice(&index.to_le_bytes());
    Hotkey::from_seed(seed).expect("any 32 bytes are a mini secret")
}

/// A manual-clock chain at block 0 in `dir`, with subnet [`NET`] made with `params`.
pub fn manual_chain(dir: &Path, params: &SubnetParams) -> LocalChain {
    let chain = LocalChain::open_with(&dir.join("chain.db"), &Genesis::manual(Block(0)))
        .expect("open chain");
    chain.create_subnet(NET, params).expect("create subnet");
    chain
}
