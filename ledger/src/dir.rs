//! The published form of a validator's ledger: one directory.
//!
//! ```text
//! DIR/ledger.jsonl                       the signed records, in hash-chain order
//! DIR/rounds/<sync block>/round.json     the round's commitment and competition roots
//! DIR/rounds/<sync block>/items-<id>.jsonl   competition <id>'s items, in order
//! ```
//!
//! `round.json` is `{"commitment": "gauntlet-items:1:…", "competitions": [{"id", "name",
//! "root", "items"}], "sync_block"}`. Files are written whole to a temporary name and renamed,
//! so a reader never sees half a file; `ledger.jsonl` is appended one whole line at a time.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::commitment::ItemsCommitment;
use crate::digest::Digest;
use crate::error::LedgerError;
use crate::item::ItemSet;
use crate::sign::SignedRecord;
use crate::verify::{Ledger, RoundKey};

/// The ledger file's name in a ledger directory.
pub const LEDGER_FILE: &str = "ledger.jsonl";

/// Bytes of a ledger file read at most (records carry per-token losses: a few
/// hundred megabytes a round at most; the file is read whole, so it is bounded).
pub const MAX_LEDGER_FILE_BYTES: u64 = 4 << 30;
/// Bytes of a round's manifest or items file read at most.
pub const MAX_ROUND_FILE_BYTES: u64 = 1 << 30;

/// Reads a file as UTF-8, refusing one longer than `cap` bytes before holding it.
fn read_capped(path: &Path, cap: u64) -> Result<String, LedgerError> {
    use std::io::Read;
    let f = fs::File::open(path).map_err(io(path))?;
    let mut text = String::new();
    f.take(cap.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(io(path))?;
    if text.len() as u64 > cap {
        return Err(LedgerError::Io {
            path: path.display().to_string(),
            reason: format!("longer than {cap} bytes: refused"),
        });
    }
    Ok(text)
}

/// One competition of a published round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundCompetition {
    /// The competition id.
    pub id: u16,
    /// Its name.
    pub name: String,
    /// The Merkle root of its items.
    pub root: Digest,
    /// The items file, relative to the round's directory.
    pub items: String,
}

/// A published round's `round.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundManifest {
    /// The sync block.
    pub sync_block: u64,
    /// The commitment string the validator put on chain.
    pub commitment: String,
    /// The competitions, by id.
    pub competitions: Vec<RoundCompetition>,
}

/// A ledger directory.
#[derive(Debug, Clone)]
pub struct LedgerDir {
    root: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LedgerError + '_ {
    move |e| LedgerError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

impl LedgerDir {
    /// The ledger directory at `root` (created when written to).
    pub fn new(root: impl Into<PathBuf>) -> LedgerDir {
        LedgerDir { root: root.into() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The ledger file.
    pub fn ledger_file(&self) -> PathBuf {
        self.root.join(LEDGER_FILE)
    }

    fn round_dir(&self, sync_block: u64) -> PathBuf {
        self.root.join("rounds").join(sync_block.to_string())
    }

    /// Writes a round's items (competitions as `(id, name, items)`) and its manifest; returns
    /// the commitment to put on chain. Writing the same round again replaces it.
    pub fn write_round(
        &self,
        sync_block: u64,
        competitions: &[(u16, String, ItemSet)],
    ) -> Result<ItemsCommitment, LedgerError> {
        let dir = self.round_dir(sync_block);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut entries = Vec::new();
        for (id, name, items) in competitions {
            let file = format!("items-{id}.jsonl");
            write_atomic(&dir.join(&file), items.to_jsonl()?.as_bytes())?;
            entries.push(RoundCompetition {
                id: *id,
                name: name.clone(),
                root: items.root(),
                items: file,
            });
        }
        entries.sort_by_key(|c| c.id);
        let pairs: Vec<(u16, Digest)> = entries.iter().map(|c| (c.id, c.root)).collect();
        let commitment = ItemsCommitment::of_round(sync_block, &pairs);
        let manifest = RoundManifest {
            sync_block,
            commitment: commitment.to_string(),
            competitions: entries,
        };
        let bytes = crate::canonical::to_canonical_of(&manifest).map_err(LedgerError::encode)?;
        write_atomic(&dir.join("round.json"), &bytes)?;
        Ok(commitment)
    }

    /// Appends one record to the ledger file (one whole line, flushed to disk).
    pub fn append(&self, record: &SignedRecord) -> Result<(), LedgerError> {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let path = self.ledger_file();
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut line = record.to_line();
        line.push('\n');
        f.write_all(line.as_bytes()).map_err(io(&path))?;
        f.sync_all().map_err(io(&path))
    }

    /// Replaces the ledger file with these records (an export from the validator's state).
    pub fn write_ledger<'a>(
        &self,
        records: impl IntoIterator<Item = &'a SignedRecord>,
    ) -> Result<(), LedgerError> {
        fs::create_dir_all(&self.root).map_err(io(&self.root))?;
        let mut text = String::new();
        for r in records {
            text.push_str(&r.to_line());
            text.push('\n');
        }
        write_atomic(&self.ledger_file(), text.as_bytes())
    }

    /// Reads the ledger file.
    pub fn read_ledger(&self) -> Result<Ledger, LedgerError> {
        let path = self.ledger_file();
        let text = read_capped(&path, MAX_LEDGER_FILE_BYTES)?;
        Ledger::from_jsonl(&text, &path.display().to_string())
    }

    /// Reads every published round: manifests by sync block, and items by round key.
    pub fn read_rounds(&self) -> Result<PublishedRounds, LedgerError> {
        let mut out = PublishedRounds::default();
        let rounds = self.root.join("rounds");
        if !rounds.exists() {
            return Ok(out);
        }
        for entry in fs::read_dir(&rounds).map_err(io(&rounds))? {
            let dir = entry.map_err(io(&rounds))?.path();
            let manifest = read_manifest(&dir)?;
            for c in &manifest.competitions {
                let items = read_items(&dir, c)?;
                out.items.insert((manifest.sync_block, c.id), items);
            }
            out.manifests.insert(manifest.sync_block, manifest);
        }
        Ok(out)
    }

    /// One competition's items of one published round; `None` when the round
    /// is not published here or has no such competition.
    pub fn read_round_items(
        &self,
        sync_block: u64,
        competition: u16,
    ) -> Result<Option<ItemSet>, LedgerError> {
        let dir = self.round_dir(sync_block);
        if !dir.join("round.json").is_file() {
            return Ok(None);
        }
        let manifest = read_manifest(&dir)?;
        if manifest.sync_block != sync_block {
            return Err(LedgerError::Malformed {
                source_name: dir.join("round.json").display().to_string(),
                line: 1,
                reason: format!(
                    "sync_block {} in the directory of round {sync_block}",
                    manifest.sync_block
                ),
            });
        }
        let Some(c) = manifest.competitions.iter().find(|c| c.id == competition) else {
            return Ok(None);
        };
        let items = read_items(&dir, c)?;
        // The items a caller gets are the ones the manifest's root commits.
        if items.root() != c.root {
            return Err(LedgerError::Malformed {
                source_name: dir.join(&c.items).display().to_string(),
                line: 1,
                reason: format!(
                    "the items hash to {}, round.json says {}",
                    items.root().hex(),
                    c.root.hex()
                ),
            });
        }
        Ok(Some(items))
    }
}

/// A round directory's `round.json`.
fn read_manifest(dir: &Path) -> Result<RoundManifest, LedgerError> {
    let path = dir.join("round.json");
    let text = read_capped(&path, MAX_ROUND_FILE_BYTES)?;
    serde_json::from_str(&text).map_err(|e| LedgerError::Malformed {
        source_name: path.display().to_string(),
        line: 1,
        reason: e.to_string(),
    })
}

/// A competition's items file in a round directory (its name from the
/// manifest: anything but a plain file name is refused).
fn read_items(dir: &Path, c: &RoundCompetition) -> Result<ItemSet, LedgerError> {
    if c.items.contains(['/', '\\']) || c.items.starts_with('.') {
        return Err(LedgerError::Malformed {
            source_name: dir.join("round.json").display().to_string(),
            line: 1,
            reason: format!("items file {:?} is not a plain file name", c.items),
        });
    }
    let path = dir.join(&c.items);
    let text = read_capped(&path, MAX_ROUND_FILE_BYTES)?;
    ItemSet::from_jsonl(&text, &path.display().to_string())
}

/// What a ledger directory publishes about its rounds.
#[derive(Debug, Clone, Default)]
pub struct PublishedRounds {
    /// Each round's manifest, by sync block.
    pub manifests: BTreeMap<u64, RoundManifest>,
    /// Each competition's items, by round key.
    pub items: BTreeMap<RoundKey, ItemSet>,
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LedgerError> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Item;
    use crate::sign::KeypairSigner;
    use crate::testing::record_for;

    #[test]
    fn a_round_and_its_records_read_back() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = LedgerDir::new(tmp.path().join("ledger"));
        let items = ItemSet {
            items: vec![Item {
                task: "t".into(),
                index: 0,
                item: serde_json::json!({"text": "a"}),
                private: false,
            }],
        };
        let c = dir
            .write_round(7200, &[(1, "c".into(), items.clone())])
            .expect("round");
        assert_eq!(c.root, crate::commitment::round_root(&[(1, items.root())]));
        let signer = KeypairSigner::from_seed(&[3; 32]).expect("key");
        let r = SignedRecord::sign(record_for(&items, 1, &[0.25], Digest::ZERO), &signer)
            .expect("sign");
        dir.append(&r).expect("append");
        let ledger = dir.read_ledger().expect("read");
        assert_eq!(ledger.records.len(), 1);
        let rounds = dir.read_rounds().expect("rounds");
        assert_eq!(rounds.items.get(&(7200, 1)), Some(&items));
        assert_eq!(rounds.manifests[&7200].commitment, c.to_string());
        // One round's items alone; a round or competition not published is none.
        assert_eq!(dir.read_round_items(7200, 1).expect("items"), Some(items));
        assert_eq!(
            dir.read_round_items(7200, 2).expect("no such competition"),
            None
        );
        assert_eq!(dir.read_round_items(7201, 1).expect("no such round"), None);
    }

    #[test]
    fn files_longer_than_the_cap_are_refused_before_being_held() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("f");
        fs::write(&path, "0123456789").expect("write");
        assert_eq!(read_capped(&path, 10).expect("at the cap"), "0123456789");
        let err = read_capped(&path, 9).expect_err("over the cap");
        assert!(err.to_string().contains("longer than 9 bytes"), "{err}");
    }
}
