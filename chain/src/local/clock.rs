//! The block clock: wall time (12 s blocks since genesis) or stepped by hand, fixed
//! when the chain is created; and deterministic block hashes.

use std::time::{SystemTime, UNIX_EPOCH};

use gauntlet_constants::{Block, BLOCK_TIME_SECS};
use rusqlite::Transaction;
use sha2::{Digest, Sha256};

use super::schema::{require_meta, set_meta};
use crate::ChainError;

/// How the chain's block number moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockMode {
    /// One block every 12 s of wall time since the chain's genesis.
    #[default]
    Wall,
    /// Only when told (`advance`, `set_block`): for tests and the demo.
    Manual,
}

impl ClockMode {
    fn as_str(self) -> &'static str {
        match self {
            ClockMode::Wall => "wall",
            ClockMode::Manual => "manual",
        }
    }

    fn parse(s: &str) -> Result<ClockMode, ChainError> {
        match s {
            "wall" => Ok(ClockMode::Wall),
            "manual" => Ok(ClockMode::Manual),
            other => Err(ChainError::Corrupt {
                reason: format!("unknown clock mode {other:?}"),
            }),
        }
    }
}

/// How a new chain starts; ignored when the file already holds a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Genesis {
    /// The block clock.
    pub clock: ClockMode,
    /// The block number at genesis.
    pub start_block: Block,
    /// Wall-clock genesis time in milliseconds since the Unix epoch; `None` means
    /// now. A time in the past starts a wall-clock chain that many blocks along.
    pub genesis_unix_ms: Option<u64>,
}

impl Genesis {
    /// A chain whose blocks follow wall time from `start_block`.
    pub fn wall(start_block: Block) -> Genesis {
        Genesis {
            clock: ClockMode::Wall,
            start_block,
            genesis_unix_ms: None,
        }
    }

    /// A chain whose blocks move only by hand, starting at `start_block`.
    pub fn manual(start_block: Block) -> Genesis {
        Genesis {
            clock: ClockMode::Manual,
            start_block,
            genesis_unix_ms: None,
        }
    }
}

/// The immutable facts of a chain, read once when a handle opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainInfo {
    pub(crate) clock: ClockMode,
    pub(crate) start_block: u64,
    /// Milliseconds since the Unix epoch at genesis.
    pub(crate) genesis_ms: u64,
    /// Random bytes fixed at genesis: every block hash derives from them.
    pub(crate) genesis_id: [u8; 32],
}

impl ChainInfo {
    /// Records a new chain's genesis in `meta`.
    pub(crate) fn create(tx: &Transaction<'_>, genesis: &Genesis) -> Result<(), ChainError> {
        let mut id = [0u8; 32];
        getrandom::getrandom(&mut id).map_err(|e| ChainError::Corrupt {
            reason: format!("no randomness for the genesis id: {e}"),
        })?;
        set_meta(tx, "clock", genesis.clock.as_str())?;
        set_meta(tx, "start_block", &genesis.start_block.0.to_string())?;
        let genesis_ms = genesis.genesis_unix_ms.unwrap_or_else(now_ms);
        set_meta(tx, "genesis_ms", &genesis_ms.to_string())?;
        set_meta(tx, "genesis_id", &hex::encode(id))?;
        set_meta(tx, "manual_block", &genesis.start_block.0.to_string())?;
        Ok(())
    }

    /// Reads a chain's genesis from `meta`.
    pub(crate) fn load(tx: &Transaction<'_>) -> Result<ChainInfo, ChainError> {
        let mut genesis_id = [0u8; 32];
        let id = require_meta(tx, "genesis_id")?;
        hex::decode_to_slice(&id, &mut genesis_id).map_err(|_| ChainError::Corrupt {
            reason: format!("genesis_id {id:?} is not 32 bytes of hex"),
        })?;
        Ok(ChainInfo {
            clock: ClockMode::parse(&require_meta(tx, "clock")?)?,
            start_block: meta_u64(tx, "start_block")?,
            genesis_ms: meta_u64(tx, "genesis_ms")?,
            genesis_id,
        })
    }

    /// The current block.
    pub(crate) fn current_block(&self, tx: &Transaction<'_>) -> Result<Block, ChainError> {
        match self.clock {
            ClockMode::Wall => {
                let elapsed_ms = now_ms().saturating_sub(self.genesis_ms);
                Ok(Block(
                    self.start_block + elapsed_ms / (BLOCK_TIME_SECS * 1000),
                ))
            }
            ClockMode::Manual => Ok(Block(meta_u64(tx, "manual_block")?)),
        }
    }

    /// Moves a manual clock to `block` (never backwards); refused on a wall clock.
    pub(crate) fn set_block(&self, tx: &Transaction<'_>, block: Block) -> Result<(), ChainError> {
        if self.clock == ClockMode::Wall {
            return Err(ChainError::Clock {
                reason: "this chain's blocks follow wall time; they cannot be set".into(),
            });
        }
        let current = self.current_block(tx)?;
        if block < current {
            return Err(ChainError::Clock {
                reason: format!("block {block} is before the current block {current}"),
            });
        }
        set_meta(tx, "manual_block", &block.0.to_string())
    }

    /// The hash of `block`: `sha256(genesis id ‖ block as u64 little-endian)`, the
    /// same for every handle on the chain.
    pub(crate) fn block_hash(&self, block: Block) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.genesis_id);
        h.update(block.0.to_le_bytes());
        h.finalize().into()
    }
}

fn meta_u64(tx: &Transaction<'_>, key: &str) -> Result<u64, ChainError> {
    let v = require_meta(tx, key)?;
    v.parse().map_err(|_| ChainError::Corrupt {
        reason: format!("meta {key} = {v:?} is not a block number"),
    })
}

/// Milliseconds since the Unix epoch now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
