//! A pool as people read it: its terms with its balance, what was deposited
//! and who joined (what `gauntlet pool list|status` and the dashboard show).

use serde::Serialize;

use crate::{Entry, Payout, Pool, PoolError, PoolStore, Tao, Treasury};

/// A pool with its balance and entrants.
#[derive(Debug, Clone, Serialize)]
pub struct PoolView {
    /// The pool's terms.
    #[serde(flatten)]
    pub pool: Pool,
    /// The account that holds its funds.
    pub account: String,
    /// Its balance now, in rao.
    pub balance_rao: u64,
    /// Its balance now, in TAO (decimal text, exact).
    pub balance_tao: String,
    /// Everything deposited so far, in TAO.
    pub deposited_tao: String,
    /// The hotkeys that joined (a pool entered by joining; empty otherwise).
    pub entrants: Vec<String>,
    /// Every period settled so far, oldest first.
    pub payouts: Vec<Payout>,
}

impl PoolView {
    /// Reads `pool`'s balance from `treasury` and its history from `store`.
    pub fn read(store: &PoolStore, treasury: &dyn Treasury, pool: Pool) -> Result<Self, PoolError> {
        let account = treasury.account_of(&pool);
        let balance = treasury.balance(&account)?;
        Ok(Self {
            account,
            balance_rao: balance,
            balance_tao: Tao::from_rao(balance).to_string(),
            deposited_tao: Tao::from_rao(store.deposited(pool.id)?).to_string(),
            entrants: if pool.entry == Entry::Join {
                store.joined(pool.id)?
            } else {
                Vec::new()
            },
            payouts: store.payouts(pool.id)?,
            pool,
        })
    }
}
