//! The private items each round used (`validator run --private-data`):
//! recorded when the round's items are fixed, in the same place as the rest
//! of the state, so that a restart in the same round uses the very same
//! items (they are in the committed root) and no later round uses one again
//! (it was revealed with the round's items).

use std::collections::{BTreeMap, HashSet};

use gauntlet_constants::{Block, CompetitionId};
use gauntlet_ledger::Digest;
use rusqlite::params;
use serde_json::Value;

use super::{State, StateError};

/// Private items by task, each task's in order.
pub type PrivateItems = BTreeMap<String, Vec<Value>>;

impl State {
    /// The private items `competition`'s round at `sync` used, by task
    /// (`None` when none were recorded for it).
    pub fn private_items(
        &self,
        sync: Block,
        competition: CompetitionId,
    ) -> Result<Option<PrivateItems>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT task, item FROM private_items WHERE sync_block = ?1 AND competition_id = ?2
             ORDER BY task, position",
        )?;
        let rows: Vec<(String, String)> = stmt
            .query_map(params![sync.0 as i64, competition.0], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut items = PrivateItems::new();
        for (task, item) in rows {
            items
                .entry(task)
                .or_default()
                .push(serde_json::from_str(&item)?);
        }
        Ok(Some(items))
    }

    /// The hashes of every private item any round used, by task.
    pub fn used_private_items(&self) -> Result<BTreeMap<String, HashSet<Digest>>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT task, item_hash FROM private_items")?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut used: BTreeMap<String, HashSet<Digest>> = BTreeMap::new();
        for (task, hash) in rows {
            let hash = hash
                .parse()
                .map_err(|e: gauntlet_ledger::DigestParseError| {
                    StateError::Ledger(gauntlet_ledger::LedgerError::Encode(format!(
                        "stored private item hash: {e}"
                    )))
                })?;
            used.entry(task).or_default().insert(hash);
        }
        Ok(used)
    }

    /// Records the private items of `competition`'s round at `sync`, all in
    /// one transaction; a round already recorded keeps its items.
    pub fn record_private_items(
        &mut self,
        sync: Block,
        competition: CompetitionId,
        items: &BTreeMap<String, Vec<(Digest, Value)>>,
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        for (task, list) in items {
            for (position, (hash, item)) in list.iter().enumerate() {
                tx.execute(
                    "INSERT OR IGNORE INTO private_items
                     (sync_block, competition_id, task, position, item_hash, item)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        sync.0 as i64,
                        competition.0,
                        task,
                        position as i64,
                        hash.hex(),
                        serde_json::to_string(item)?
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn a_round_keeps_its_private_items_and_every_hash_counts_as_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::open(&dir.path().join("v.sqlite")).unwrap();
        let (sync, c) = (Block(100), CompetitionId(42));
        assert_eq!(state.private_items(sync, c).unwrap(), None);
        let a = (Digest::of(b"a"), json!({"question": "a"}));
        let b = (Digest::of(b"b"), json!({"question": "b"}));
        let items = BTreeMap::from([("MMLU".to_string(), vec![a.clone(), b.clone()])]);
        state.record_private_items(sync, c, &items).unwrap();
        // Recording again (a restart) changes nothing.
        let other = BTreeMap::from([("MMLU".to_string(), vec![b.clone()])]);
        state.record_private_items(sync, c, &other).unwrap();
        let kept = state.private_items(sync, c).unwrap().unwrap();
        assert_eq!(kept["MMLU"], vec![a.1, b.1]);
        assert_eq!(
            state.used_private_items().unwrap(),
            BTreeMap::from([("MMLU".to_string(), HashSet::from([a.0, b.0]))])
        );
        assert_eq!(state.private_items(Block(200), c).unwrap(), None);
    }
}
