//! Each round's sequential-test benchmark (a competition's `early_stop`):
//! recorded when first chosen, so that a round resumed after a restart
//! tests its remaining models against the same model as the ones already
//! saved, even if the chain's incentives (which choose it) have moved since.

use gauntlet_constants::{Block, CompetitionId};
use rusqlite::{params, OptionalExtension};

use super::{ModelKey, State, StateError};

impl State {
    /// The benchmark recorded for `competition`'s round at `sync`, if any.
    pub fn round_benchmark(
        &self,
        sync: Block,
        competition: CompetitionId,
    ) -> Result<Option<ModelKey>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT hotkey, commitment FROM round_benchmarks
                 WHERE sync_block = ?1 AND competition_id = ?2",
                params![sync.0 as i64, competition.0],
                |r| {
                    Ok(ModelKey {
                        hotkey: r.get(0)?,
                        commitment: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records `key` as the benchmark of `competition`'s round at `sync`; a
    /// round that already has one keeps it.
    pub fn record_round_benchmark(
        &self,
        sync: Block,
        competition: CompetitionId,
        key: &ModelKey,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO round_benchmarks (sync_block, competition_id, hotkey, commitment)
             VALUES (?1, ?2, ?3, ?4)",
            params![sync.0 as i64, competition.0, key.hotkey, key.commitment],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_round_keeps_the_first_benchmark_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("v.sqlite")).unwrap();
        let key = |h: &str| ModelKey {
            hotkey: h.into(),
            commitment: format!("{h}:model:rev:hash:1"),
        };
        let (sync, c) = (Block(100), CompetitionId(1));
        assert_eq!(state.round_benchmark(sync, c).unwrap(), None);
        state.record_round_benchmark(sync, c, &key("a")).unwrap();
        state.record_round_benchmark(sync, c, &key("b")).unwrap();
        assert_eq!(state.round_benchmark(sync, c).unwrap(), Some(key("a")));
        assert_eq!(state.round_benchmark(Block(200), c).unwrap(), None);
        assert_eq!(state.round_benchmark(sync, CompetitionId(2)).unwrap(), None);
    }
}
