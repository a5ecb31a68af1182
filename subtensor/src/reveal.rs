//! Commit–reveal bookkeeping: the weights and salt behind each hash committed with
//! `commit_weights`, kept until the chain opens its reveal window.
//!
//! The chain stores each commit as `(hash, commit_block, first_reveal_block,
//! last_reveal_block)` in `WeightCommits(netuid, hotkey)`; a reveal is accepted only
//! inside that window, and a commit past it expires. Pending reveals live in memory:
//! after a restart their salts are gone and the commits simply expire.

use gauntlet_chain::{ChainError, Hotkey};

use crate::calls;
use crate::client::Connection;
use crate::reads;
use crate::writes::{lock, Sender};
use crate::{storage, SubtensorChain, SubtensorError};

/// A commit whose weights are still to be revealed.
#[derive(Debug, Clone)]
pub(crate) struct PendingReveal {
    /// The committing hotkey (signs the reveal).
    pub hotkey: Hotkey,
    /// The subnet.
    pub netuid: u16,
    /// The uids of the weights.
    pub uids: Vec<u16>,
    /// The weights.
    pub values: Vec<u16>,
    /// The random salt hashed with them.
    pub salt: Vec<u16>,
    /// The version key hashed with them.
    pub version_key: u64,
    /// The hash committed.
    pub hash: [u8; 32],
}

/// What to do with a pending reveal now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RevealStep {
    /// The window is open: reveal.
    Reveal,
    /// The window opens at this block.
    Wait {
        /// The first block of the window.
        first_block: u64,
    },
    /// The window has passed: the commit expired.
    Expired,
    /// The chain no longer holds the commit (revealed already, or pruned).
    Gone,
}

/// The step for the commit `hash` at block `current`, given the hotkey's commits on
/// chain as `(hash, commit_block, first_reveal_block, last_reveal_block)`.
pub(crate) fn step(
    hash: &[u8; 32],
    on_chain: &[([u8; 32], u64, u64, u64)],
    current: u64,
) -> RevealStep {
    match on_chain.iter().find(|commit| commit.0 == *hash) {
        None => RevealStep::Gone,
        Some(&(_, _, first_block, _)) if current < first_block => RevealStep::Wait { first_block },
        Some(&(_, _, _, last_block)) if current <= last_block => RevealStep::Reveal,
        Some(_) => RevealStep::Expired,
    }
}

/// Number of `u16`s in a salt (as the Python SDK uses).
pub(crate) const SALT_LEN: usize = 8;

/// A fresh random salt from the operating system.
pub(crate) fn random_salt() -> Result<Vec<u16>, getrandom::Error> {
    let mut bytes = [0u8; 2 * SALT_LEN];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect())
}

impl SubtensorChain {
    pub(crate) fn remember(&self, pending: PendingReveal) {
        let mut list = lock(&self.pending);
        if !list.iter().any(|p| p.hash == pending.hash) {
            list.push(pending);
        }
    }

    /// Reveals every committed set of weights whose reveal window is open now;
    /// drops those that expired or that the chain no longer holds. Returns how
    /// many were revealed. Call it every few blocks on a commit–reveal subnet.
    pub async fn reveal_pending(&self) -> Result<usize, ChainError> {
        let pending: Vec<PendingReveal> = lock(&self.pending).clone();
        let mut revealed = 0;
        for item in pending {
            let outcome = self.reveal_one(&item).await;
            let keep = match outcome {
                Ok(RevealStep::Wait { .. }) => true,
                Ok(RevealStep::Reveal) => {
                    revealed += 1;
                    false
                }
                Ok(step @ (RevealStep::Expired | RevealStep::Gone)) => {
                    tracing::warn!(
                        netuid = item.netuid,
                        ?step,
                        "dropping a weights commit that can no longer be revealed"
                    );
                    false
                }
                Err(e) => {
                    let error = e.into_chain_error(self.endpoint());
                    if error.is_transient() {
                        return Err(error);
                    }
                    tracing::warn!(netuid = item.netuid, %error, "revealing weights failed; dropping the commit");
                    false
                }
            };
            if !keep {
                lock(&self.pending).retain(|p| p.hash != item.hash);
            }
        }
        Ok(revealed)
    }

    /// The number of commits waiting for their reveal window.
    pub fn pending_reveals(&self) -> usize {
        lock(&self.pending).len()
    }

    async fn reveal_one(&self, item: &PendingReveal) -> Result<RevealStep, SubtensorError> {
        let sender = Sender {
            hotkey: &item.hotkey,
            netuid: item.netuid,
        };
        self.run("reveal_weights", |conn: Connection| {
            let sender = &sender;
            async move {
                let (at, block) = conn.at_best().await?;
                let on_chain = reads::try_fetch_value(
                    &at,
                    "reveal_weights",
                    storage::weight_commits(),
                    (item.netuid, item.hotkey.public_key()),
                )
                .await?
                .unwrap_or_default();
                let step = step(&item.hash, &on_chain, block);
                if step == RevealStep::Reveal {
                    let call = calls::reveal_weights(
                        item.netuid,
                        &item.uids,
                        &item.values,
                        &item.salt,
                        item.version_key,
                    );
                    self.submit(&at, sender, &call).await?;
                }
                Ok(step)
            }
        })
        .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn reveal_only_inside_the_window() {
        let ours = [1u8; 32];
        let other = [2u8; 32];
        let on_chain = [(other, 90, 100, 130), (ours, 95, 460, 820)];
        assert_eq!(
            step(&ours, &on_chain, 459),
            RevealStep::Wait { first_block: 460 }
        );
        assert_eq!(step(&ours, &on_chain, 460), RevealStep::Reveal);
        assert_eq!(step(&ours, &on_chain, 820), RevealStep::Reveal);
        assert_eq!(step(&ours, &on_chain, 821), RevealStep::Expired);
        assert_eq!(step(&[3u8; 32], &on_chain, 500), RevealStep::Gone);
    }

    #[test]
    fn salts_are_random() {
        let a = random_salt().unwrap();
        let b = random_salt().unwrap();
        assert_eq!(a.len(), SALT_LEN);
        // 128 random bits colliding would be a broken generator.
        assert_ne!(a, b);
    }
}
