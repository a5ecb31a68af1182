//! Paying out the periods that have ended, each exactly once.
//!
//! The order of a payout is: plan it from the snapshot and the pool's
//! balance; make it as one batch of transfers keyed by `pool:<id>:period:<p>`
//! (the chain makes a key at most once); record it in the pools file. A
//! crash after the transfer and before the record is finished on the next
//! run: the chain answers that the key was made, and the transfers it made
//! are recorded — never paid again, never lost.

use gauntlet_chain::{BatchOutcome, ChainError, LocalChain, Transfer};

use crate::plan::{plan_payout, Payment, Standings};
use crate::store::{Entry, Payout, PayoutStatus, Pool, PoolStore};
use crate::PoolError;

/// Periods settled in one call at most (a pool with a tiny period left alone
/// for long catches up over several calls).
const MAX_PERIODS_PER_CALL: u64 = 1_000;

/// Where a pool's money is held and moved.
pub trait Treasury {
    /// The account that holds pool `pool`'s funds.
    fn account_of(&self, pool: &Pool) -> String;
    /// The balance of `account`, in rao.
    fn balance(&self, account: &str) -> Result<u64, ChainError>;
    /// Makes the batch `key` of `transfers` from `source`, at most once.
    fn pay(
        &self,
        key: &str,
        source: &str,
        transfers: &[Transfer],
    ) -> Result<BatchOutcome, ChainError>;
    /// The transfers batch `key` made.
    fn made(&self, key: &str) -> Result<Vec<Transfer>, ChainError>;
    /// The current block.
    fn block(&self) -> Result<u64, ChainError>;
}

/// On the local chain a pool is an account of its own, `pool:<id>`, and
/// payouts are real balance transfers.
impl Treasury for LocalChain {
    fn account_of(&self, pool: &Pool) -> String {
        format!("pool:{}", pool.id)
    }

    fn balance(&self, account: &str) -> Result<u64, ChainError> {
        LocalChain::balance(self, account)
    }

    fn pay(
        &self,
        key: &str,
        source: &str,
        transfers: &[Transfer],
    ) -> Result<BatchOutcome, ChainError> {
        self.transfer_batch(key, source, transfers)
    }

    fn made(&self, key: &str) -> Result<Vec<Transfer>, ChainError> {
        self.transfers_of(key)
    }

    fn block(&self) -> Result<u64, ChainError> {
        Ok(LocalChain::block(self)?.0)
    }
}

/// Settles every period of pool `id` that ended by `now` and is not yet
/// settled, in order, each by the competition's first leaderboard snapshot
/// taken at or after its end (`snapshot(end_block)`; `None` stops: the
/// period waits for a snapshot). Returns the payouts recorded now.
pub fn settle(
    store: &mut PoolStore,
    treasury: &dyn Treasury,
    id: i64,
    now: u64,
    mut snapshot: impl FnMut(u64) -> Result<Option<Standings>, PoolError>,
) -> Result<Vec<Payout>, PoolError> {
    store.reconcile(treasury)?;
    let pool = store.pool(id)?;
    let entrants = match pool.entry {
        Entry::Open => None,
        Entry::Join => Some(store.joined(id)?),
    };
    let mut done = Vec::new();
    let first = store.next_period(id)?;
    for period in first..first.saturating_add(MAX_PERIODS_PER_CALL) {
        let end = pool.period_end(period);
        if end > now {
            break;
        }
        let Some(board) = snapshot(end)? else {
            tracing::info!(
                pool = id,
                period,
                end,
                "no leaderboard snapshot at or after the period's end yet"
            );
            break;
        };
        let payout = settle_period(store, treasury, &pool, period, &board, entrants.as_deref())?;
        done.push(payout);
    }
    Ok(done)
}

fn settle_period(
    store: &PoolStore,
    treasury: &dyn Treasury,
    pool: &Pool,
    period: u64,
    board: &Standings,
    entrants: Option<&[String]>,
) -> Result<Payout, PoolError> {
    let account = treasury.account_of(pool);
    let key = format!("pool:{}:period:{period}", pool.id);
    // Paid by a run that did not live to record it: record what the chain
    // made, whatever would be planned now (the pool may be empty since).
    let earlier = treasury.made(&key)?;
    if !earlier.is_empty() {
        let payout = Payout {
            pool: pool.id,
            period,
            block: treasury.block()?,
            snapshot_block: board.block,
            status: PayoutStatus::Paid,
            payments: ranked_like(earlier, board, entrants),
        };
        store.record(&payout)?;
        tracing::info!(pool = pool.id, period, "pool period found paid; recorded");
        return Ok(payout);
    }
    let balance = treasury.balance(&account)?;
    let plan = plan_payout(board, entrants, balance, pool.rule);
    let status = if !plan.is_empty() {
        PayoutStatus::Paid
    } else if balance == 0 {
        PayoutStatus::Empty
    } else {
        PayoutStatus::NoEntrants
    };
    let payments = if status == PayoutStatus::Paid {
        let transfers: Vec<Transfer> = plan
            .iter()
            .map(|p| Transfer {
                dest: p.hotkey.clone(),
                rao: p.rao,
            })
            .collect();
        match treasury.pay(&key, &account, &transfers)? {
            BatchOutcome::Made(_) => plan,
            // Made by another run in between: record what it made.
            BatchOutcome::AlreadyMade(_) => ranked_like(treasury.made(&key)?, board, entrants),
        }
    } else {
        Vec::new()
    };
    failpoint("pool-after-transfer");
    let payout = Payout {
        pool: pool.id,
        period,
        block: treasury.block()?,
        snapshot_block: board.block,
        status,
        payments,
    };
    store.record(&payout)?;
    tracing::info!(pool = pool.id, period, status = ?payout.status, "pool period settled");
    Ok(payout)
}

/// `transfers` as payments, each with its hotkey's rank among the board's
/// ranked entrants (the order of the transfers for a hotkey it does not rank).
fn ranked_like(
    transfers: Vec<Transfer>,
    board: &Standings,
    entrants: Option<&[String]>,
) -> Vec<Payment> {
    let mut ranked: Vec<&crate::plan::Standing> = board
        .rows
        .iter()
        .filter(|s| s.rank.is_some())
        .filter(|s| entrants.is_none_or(|e| e.contains(&s.hotkey)))
        .collect();
    ranked.sort_by_key(|s| (s.rank, s.uid));
    transfers
        .into_iter()
        .enumerate()
        .map(|(i, t)| Payment {
            rank: ranked
                .iter()
                .position(|s| s.hotkey == t.dest)
                .map_or(i as u32 + 1, |r| r as u32 + 1),
            hotkey: t.dest,
            rao: t.rao,
        })
        .collect()
}

/// Aborts the process here when `GAUNTLET_FAILPOINT` names this point: the
/// crash tests kill a payout between its transfer and its record this way
/// (an abort leaves the files exactly as a SIGKILL would).
fn failpoint(name: &str) {
    if std::env::var("GAUNTLET_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}
