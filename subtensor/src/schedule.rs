//! When a timelocked commit is revealed: the first block of its reveal epoch, and
//! the drand round to encrypt it to, computed as `bittensor-drand` 2.x
//! (`get_encrypted_commit_v2`, used by the Python SDK 11.x) computes them.
//!
//! The chain keys a commit by the subnet's epoch at the block it lands in and
//! reveals it at the first block of the epoch `reveal_period_epochs` later, with
//! the drand pulse of the commit's round, if the chain has ingested it by then.
//! The SDK therefore simulates the epoch schedule up to that block, aims three
//! blocks later (pulses reach the chain with a delay), turns the blocks left into
//! seconds and those into a quicknet round, rounding down.
//!
//! Runtimes differ in how they schedule epochs. Newer ones keep a stateful
//! counter (`LastEpochBlock`, `PendingEpochAt`, `SubnetEpochIndex`,
//! `BlocksSinceLastStep`); older ones, like the shipped finney metadata's, run a
//! subnet's epoch at the blocks `b` with `(b + netuid + 1) % (tempo + 1) == 0`,
//! which [`EpochState::modulo`] expresses in the same state.

use crate::timelock::{QUICKNET_GENESIS_SECS, QUICKNET_PERIOD_SECS};

/// The largest tempo a subnet owner may set (≈ 7 days of 12 s blocks).
pub const MAX_TEMPO: u64 = 50_400;
/// Blocks after the reveal epoch's first block at which the commit's drand
/// pulse should be on chain.
pub const SECURITY_BLOCK_OFFSET: u64 = 3;
/// A commit sent at the best block lands in the next one.
pub const INCLUSION_OFFSET: u64 = 1;

/// A subnet's epoch schedule at a block (the SDK's `EpochScheduleState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochState {
    /// The block its last epoch ran at.
    pub last_epoch_block: u64,
    /// A pending owner-triggered epoch's block (0 if none).
    pub pending_epoch_at: u64,
    /// The epoch counter.
    pub subnet_epoch_index: u64,
    /// Blocks between epochs.
    pub tempo: u64,
    /// Blocks since the subnet's last step.
    pub blocks_since_last_step: u64,
    /// The block this state is at.
    pub current_block: u64,
}

/// Why no reveal block could be predicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The subnet's tempo is 0: it runs no epochs, so nothing is ever revealed.
    #[error("tempo is 0: the subnet runs no epochs")]
    TempoIsZero,
    /// The simulation ran past its bound without reaching the reveal epoch.
    #[error("no reveal epoch within {blocks} blocks")]
    BoundExceeded {
        /// The blocks simulated.
        blocks: u64,
    },
}

impl EpochState {
    /// The state of a runtime whose epochs run at the blocks `b` with
    /// `(b + netuid + 1) % (tempo + 1) == 0`, at block `block`: an epoch every
    /// `tempo + 1` blocks, the counter `(block + netuid + 1) / (tempo + 1)`. A
    /// tempo of 0 runs no epochs there, and gives a state with tempo 0.
    pub fn modulo(netuid: u16, tempo: u16, block: u64) -> EpochState {
        let period = u64::from(tempo) + 1;
        let shifted = block + u64::from(netuid) + 1;
        let since = shifted % period;
        EpochState {
            last_epoch_block: block - since.min(block),
            pending_epoch_at: 0,
            subnet_epoch_index: shifted / period,
            tempo: if tempo == 0 { 0 } else { period },
            blocks_since_last_step: since.min(block),
            current_block: block,
        }
    }

    /// Whether the subnet's epoch runs at `block` (subtensor's `should_run_epoch`).
    fn runs_epoch_at(&self, block: u64) -> bool {
        if self.tempo == 0 {
            return false;
        }
        if self.pending_epoch_at > 0 && block >= self.pending_epoch_at {
            return true;
        }
        self.blocks_since_last_step > MAX_TEMPO
            || block.saturating_sub(self.last_epoch_block) >= self.tempo
    }

    /// The epoch a commit or reveal at `block` belongs to (the counter plus one
    /// if the epoch runs at that block: reveals run before the counter moves).
    fn epoch_at(&self, block: u64) -> u64 {
        self.subnet_epoch_index + u64::from(self.runs_epoch_at(block))
    }

    /// The state after the coinbase of `block`.
    fn step(&self, block: u64) -> EpochState {
        let mut next = EpochState {
            blocks_since_last_step: self.blocks_since_last_step.saturating_add(1),
            current_block: block,
            ..*self
        };
        if next.runs_epoch_at(block) {
            next.last_epoch_block = block;
            next.pending_epoch_at = 0;
            next.subnet_epoch_index = next.subnet_epoch_index.saturating_add(1);
            next.blocks_since_last_step = 0;
        }
        next
    }

    /// The first block at which the chain reveals a commit sent now (it lands in
    /// the next block) with the subnet's `reveal_period_epochs`.
    pub fn first_reveal_block(&self, reveal_period_epochs: u64) -> Result<u64, ScheduleError> {
        if self.tempo == 0 {
            return Err(ScheduleError::TempoIsZero);
        }
        let landing = self.current_block + INCLUSION_OFFSET;
        let mut state = *self;
        for block in self.current_block + 1..landing {
            state = state.step(block);
        }
        let target = state.epoch_at(landing) + reveal_period_epochs;
        let bound = reveal_period_epochs
            .saturating_mul(MAX_TEMPO)
            .saturating_add(MAX_TEMPO);
        for block in landing..=landing.saturating_add(bound) {
            if state.epoch_at(block) == target {
                return Ok(block);
            }
            state = state.step(block);
        }
        Err(ScheduleError::BoundExceeded { blocks: bound })
    }
}

/// The drand quicknet round to encrypt to, at Unix time `now_secs`, for a commit
/// sent at `current_block` and revealed from `first_reveal_block`, with blocks of
/// `block_secs` seconds: the round published [`SECURITY_BLOCK_OFFSET`] blocks
/// after the first reveal block, rounded down (at least 1).
pub fn reveal_round(
    now_secs: f64,
    current_block: u64,
    first_reveal_block: u64,
    block_secs: f64,
) -> u64 {
    let blocks = (first_reveal_block + SECURITY_BLOCK_OFFSET).saturating_sub(current_block);
    let target = now_secs + blocks as f64 * block_secs;
    let round = ((target - QUICKNET_GENESIS_SECS as f64) / QUICKNET_PERIOD_SECS as f64).floor();
    if round < 1.0 {
        1
    } else {
        round as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(
        last: u64,
        pending: u64,
        index: u64,
        tempo: u64,
        since: u64,
        block: u64,
    ) -> EpochState {
        EpochState {
            last_epoch_block: last,
            pending_epoch_at: pending,
            subnet_epoch_index: index,
            tempo,
            blocks_since_last_step: since,
            current_block: block,
        }
    }

    #[test]
    fn bittensor_drands_own_vectors() {
        // epoch_schedule_vectors.rs of bittensor-drand 2.0.0.
        assert_eq!(
            state(10, 0, 0, 0, 0, 10).first_reveal_block(1),
            Err(ScheduleError::TempoIsZero)
        );
        assert_eq!(state(10, 0, 0, 50, 0, 10).first_reveal_block(1), Ok(60));
        assert_eq!(state(80, 95, 0, 20, 0, 91).first_reveal_block(1), Ok(95));
        assert_eq!(state(100, 0, 0, 50, 0, 120).epoch_at(121), 0);
    }

    #[test]
    fn the_modulo_schedule_reveals_at_the_first_block_of_the_reveal_epoch() {
        // netuid 1, tempo 99: epochs run at the blocks b with (b + 2) % 100 == 0.
        let s = EpochState::modulo(1, 99, 1_000);
        assert_eq!(
            (s.last_epoch_block, s.subnet_epoch_index, s.tempo),
            (998, 10, 100)
        );
        assert_eq!(s.first_reveal_block(1), Ok(1_098));
        assert_eq!(s.first_reveal_block(2), Ok(1_198));
        // Sent just before an epoch block, the commit lands in the new epoch.
        assert_eq!(
            EpochState::modulo(1, 99, 1_097).first_reveal_block(1),
            Ok(1_198)
        );
        // Near genesis nothing underflows.
        let early = EpochState::modulo(37, 360, 3);
        assert_eq!(
            (early.last_epoch_block, early.blocks_since_last_step),
            (0, 3)
        );
        assert_eq!(
            EpochState::modulo(37, 0, 500).first_reveal_block(1),
            Err(ScheduleError::TempoIsZero)
        );
    }

    #[test]
    fn rounds_follow_the_clock_and_round_down() {
        // Round r is published at genesis + 3·r seconds... the arithmetic only.
        let genesis = QUICKNET_GENESIS_SECS as f64;
        assert_eq!(reveal_round(genesis + 3_000.0, 10, 7, 12.0), 1_000);
        assert_eq!(reveal_round(genesis + 3_002.9, 10, 7, 12.0), 1_000);
        // 10 blocks to go (7 + 3 from 0) at 12 s: 40 rounds later.
        assert_eq!(reveal_round(genesis + 3_000.0, 0, 7, 12.0), 1_040);
        assert_eq!(reveal_round(0.0, 0, 7, 12.0), 1);
    }
}
