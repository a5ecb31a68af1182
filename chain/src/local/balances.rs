//! Free balances of the local chain and batches of transfers between them.
//!
//! A batch of transfers is the local chain's `utility.batch_all` of
//! `transfer_keep_alive`s: all of it or nothing, in one SQLite transaction. A
//! batch carries a key; a key seen before is answered with the batch already
//! made instead of paying twice, so a payout that is retried after a crash pays
//! exactly once.

use gauntlet_constants::Block;
use rusqlite::{params, OptionalExtension, Transaction};

use crate::ChainError;

/// One payment of a batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transfer {
    /// The receiving account (an SS58 address).
    pub dest: String,
    /// The amount, in rao.
    pub rao: u64,
}

/// What became of a batch of transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Made now, at this block.
    Made(Block),
    /// A batch with this key was made earlier, at this block; nothing moved now.
    AlreadyMade(Block),
}

/// The balance of `account` (0 for an account never seen).
pub(crate) fn balance(tx: &Transaction<'_>, account: &str) -> Result<u64, ChainError> {
    let rao: Option<i64> = tx
        .query_row(
            "SELECT rao FROM balances WHERE account = ?1",
            [account],
            |r| r.get(0),
        )
        .optional()?;
    let rao = rao.unwrap_or(0);
    u64::try_from(rao).map_err(|_| ChainError::Corrupt {
        reason: format!("negative balance {rao} of {account}"),
    })
}

/// Sets `account`'s balance.
fn set_balance(tx: &Transaction<'_>, account: &str, rao: u64) -> Result<(), ChainError> {
    let stored = i64::try_from(rao).map_err(|_| ChainError::InvalidAmount {
        reason: format!("a balance of {rao} rao is beyond the chain's range"),
    })?;
    tx.execute(
        "INSERT INTO balances (account, rao) VALUES (?1, ?2)
         ON CONFLICT (account) DO UPDATE SET rao = excluded.rao",
        params![account, stored],
    )?;
    Ok(())
}

/// Adds `rao` to `account` out of nothing (the local network's faucet).
pub(crate) fn mint(tx: &Transaction<'_>, account: &str, rao: u64) -> Result<u64, ChainError> {
    if rao == 0 {
        return Err(ChainError::InvalidAmount {
            reason: "minting 0 rao".into(),
        });
    }
    let total =
        balance(tx, account)?
            .checked_add(rao)
            .ok_or_else(|| ChainError::InvalidAmount {
                reason: format!("{account}'s balance would overflow"),
            })?;
    set_balance(tx, account, total)?;
    Ok(total)
}

/// Makes the batch `key`: every transfer from `source`, all or nothing; a key
/// made before is not made again. Zero-amount transfers are skipped.
pub(crate) fn transfer_batch(
    tx: &Transaction<'_>,
    key: &str,
    source: &str,
    transfers: &[Transfer],
    now: Block,
) -> Result<BatchOutcome, ChainError> {
    let earlier: Option<i64> = tx
        .query_row(
            "SELECT block FROM transfer_batches WHERE batch = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(block) = earlier {
        return Ok(BatchOutcome::AlreadyMade(Block(block as u64)));
    }
    let needed = transfers.iter().try_fold(0u64, |sum, t| {
        sum.checked_add(t.rao)
            .ok_or_else(|| ChainError::InvalidAmount {
                reason: "the batch's total overflows".into(),
            })
    })?;
    let available = balance(tx, source)?;
    if needed > available {
        return Err(ChainError::InsufficientBalance {
            account: source.to_owned(),
            needed,
            available,
        });
    }
    tx.execute(
        "INSERT INTO transfer_batches (batch, block) VALUES (?1, ?2)",
        params![key, now.0 as i64],
    )?;
    set_balance(tx, source, available - needed)?;
    for t in transfers.iter().filter(|t| t.rao > 0) {
        let total =
            balance(tx, &t.dest)?
                .checked_add(t.rao)
                .ok_or_else(|| ChainError::InvalidAmount {
                    reason: format!("{}'s balance would overflow", t.dest),
                })?;
        set_balance(tx, &t.dest, total)?;
        tx.execute(
            "INSERT INTO transfers (batch, source, dest, rao, block) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key, source, t.dest, t.rao as i64, now.0 as i64],
        )?;
    }
    Ok(BatchOutcome::Made(now))
}

/// The transfers of batch `key`, in order (empty for an unknown key).
pub(crate) fn batch(tx: &Transaction<'_>, key: &str) -> Result<Vec<Transfer>, ChainError> {
    let mut stmt = tx.prepare("SELECT dest, rao FROM transfers WHERE batch = ?1 ORDER BY id")?;
    let rows = stmt
        .query_map([key], |r| {
            Ok(Transfer {
                dest: r.get(0)?,
                rao: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
