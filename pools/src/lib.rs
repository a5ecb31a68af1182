//! Gauntlet's funding pools.
//!
//! A funder creates a [`Pool`] tied to a competition with an allocation
//! [`Rule`] and a period in blocks, and deposits TAO into it; models enter by
//! competing (or, for a pool created with [`Entry::Join`], by joining). At the
//! end of each period, [`settle`] takes the competition's first leaderboard
//! snapshot at or after that end, ranks the entrants by it and pays out the
//! pool's whole balance by the rule: nothing to disqualified models or copies
//! (they are not ranked), and the funds stay when nobody entered. Each
//! period's payout is one batch of transfers under a key of its own, so it is
//! made once whatever crashes in between ([`Treasury`]).
//!
//! ```
//! use gauntlet_chain::LocalChain;
//! use gauntlet_pools::{settle, Entry, NewPool, PoolStore, Rule, Standing, Standings, Tao};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let chain = LocalChain::open(&dir.path().join("chain.sqlite"))?;
//! chain.fund("funder", Tao::parse("1000")?.rao())?;
//! let mut pools = PoolStore::open(&dir.path().join("pools.sqlite"))?;
//! let id = pools.create(&chain, &NewPool {
//!     competition: 3,
//!     funder: "funder".into(),
//!     funds: Tao::parse("1000")?,
//!     period_blocks: 100,
//!     rule: Rule::ArithmeticDecrease,
//!     entry: Entry::Open,
//!     start_block: 0,
//! })?;
//! // The competition's leaderboard after the period: two ranked models.
//! let board = Standings {
//!     block: 120,
//!     rows: vec![
//!         Standing { hotkey: "alice".into(), uid: 1, rank: Some(1) },
//!         Standing { hotkey: "bob".into(), uid: 2, rank: Some(2) },
//!     ],
//! };
//! let paid = settle(&mut pools, &chain, id, 130, |_| Ok(Some(board.clone())))?;
//! assert_eq!(paid.len(), 1);
//! assert_eq!(chain.balance("alice")? + chain.balance("bob")?, Tao::parse("1000")?.rao());
//! # Ok(())
//! # }
//! ```

mod amount;
mod error;
mod plan;
mod settle;
mod store;
mod subtensor;
mod view;

pub use amount::{Tao, RAO_PER_TAO};
pub use error::PoolError;
pub use plan::{plan_payout, Payment, Rule, Standing, Standings};
pub use settle::{settle, Treasury};
pub use store::{Entry, NewPool, Payout, PayoutStatus, Pool, PoolStore, SignedBatch};
pub use subtensor::{SubtensorTreasury, Unsigned};
pub use view::PoolView;
