//! The published form of a validator's ledger: one directory.
//!
//! ```text
//! DIR/rounds/<sync block>/round.json     the round's commitment and competition roots
//! DIR/rounds/<sync block>/items-<id>.jsonl   competition <id>'s items, in order
//! DIR/rounds/<sync block>/records.jsonl  the round's signed records, in hash-chain order
//! DIR/ledger.jsonl                       (before segments) every signed record, in order
//! ```
//!
//! The ledger is the round segments' records, rounds in increasing sync block: one hash chain
//! across them. A directory without any `records.jsonl` is read from its `ledger.jsonl` (the
//! earlier, single-file layout); one with segments ignores that file.
//!
//! `round.json` is `{"commitment": "gauntlet-items:1:…", "competitions": [{"id", "name",
//! "root", "items"}], "sync_block"}`. Files are written whole to a temporary name and renamed,
//! so a reader never sees half a file; a segment is appended one whole line at a time.

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

/// The single-file ledger's name in a ledger directory (the layout before segments).
pub const LEDGER_FILE: &str = "ledger.jsonl";

/// A round segment's file name in its round's directory.
pub const RECORDS_FILE: &str = "records.jsonl";

/// Bytes of a ledger read at most, all segments together (records carry per-token losses:
/// a few hundred megabytes a round; what is read is held, so it is bounded). A longer ledger
/// is read a window of rounds at a time ([`LedgerDir::read_ledger_from`]).
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

    /// The segment holding round `sync_block`'s records.
    pub fn records_file(&self, sync_block: u64) -> PathBuf {
        self.round_dir(sync_block).join(RECORDS_FILE)
    }

    /// The size in bytes of round `sync_block`'s segment (`None` when it has none).
    pub fn records_len(&self, sync_block: u64) -> Option<u64> {
        fs::metadata(self.records_file(sync_block))
            .ok()
            .map(|m| m.len())
    }

    /// The sync blocks of the rounds with a segment, in increasing order.
    pub fn segment_rounds(&self) -> Result<Vec<u64>, LedgerError> {
        let rounds = self.root.join("rounds");
        if !rounds.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in fs::read_dir(&rounds).map_err(io(&rounds))? {
            let entry = entry.map_err(io(&rounds))?;
            let Some(sync) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if entry.path().join(RECORDS_FILE).is_file() {
                out.push(sync);
            }
        }
        out.sort_unstable();
        Ok(out)
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

    /// Appends one record to its round's segment (one whole line, flushed to disk).
    pub fn append(&self, record: &SignedRecord) -> Result<(), LedgerError> {
        let dir = self.round_dir(record.record.round.sync_block);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(RECORDS_FILE);
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

    /// Writes round `sync_block`'s segment whole: these lines (signed records of that
    /// round, in chain order, each already checked by the caller), replacing it.
    pub fn write_segment(&self, sync_block: u64, lines: &[String]) -> Result<(), LedgerError> {
        let dir = self.round_dir(sync_block);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        write_atomic(&dir.join(RECORDS_FILE), text.as_bytes())
    }

    /// Replaces the ledger with these records (in chain order): each round's segment is
    /// written, and the single-file `ledger.jsonl` of the earlier layout removed. A round's
    /// records must follow one another in the chain, or the segments would not read back
    /// in the chain's order: that is refused.
    pub fn write_ledger<'a>(
        &self,
        records: impl IntoIterator<Item = &'a SignedRecord>,
    ) -> Result<(), LedgerError> {
        let mut segments: Vec<(u64, Vec<String>)> = Vec::new();
        for r in records {
            let sync = r.record.round.sync_block;
            match segments.last_mut() {
                Some((last, lines)) if *last == sync => lines.push(r.to_line()),
                Some((last, _)) if *last > sync => {
                    return Err(LedgerError::Encode(format!(
                        "a record of round {sync} follows one of round {last}: segments by \
                         round would not keep the chain's order"
                    )))
                }
                _ => segments.push((sync, vec![r.to_line()])),
            }
        }
        for (sync, lines) in &segments {
            self.write_segment(*sync, lines)?;
        }
        self.remove_single_file()
    }

    /// Removes the earlier layout's `ledger.jsonl` (once every record is in a segment).
    pub fn remove_single_file(&self) -> Result<(), LedgerError> {
        let path = self.ledger_file();
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Reads the whole ledger: every segment in round order, or (with none) `ledger.jsonl`.
    pub fn read_ledger(&self) -> Result<Ledger, LedgerError> {
        self.read_ledger_from(None)
    }

    /// Reads the ledger's rounds from `first` (a sync block) on; `None` reads them all. The
    /// segments read must hold at most [`MAX_LEDGER_FILE_BYTES`] together. A window's first
    /// record chains to a record before it: verify it with [`crate::Expectations::start`].
    pub fn read_ledger_from(&self, first: Option<u64>) -> Result<Ledger, LedgerError> {
        let rounds = self.segment_rounds()?;
        if rounds.is_empty() {
            let path = self.ledger_file();
            let text = read_capped(&path, MAX_LEDGER_FILE_BYTES)?;
            let mut ledger = Ledger::from_jsonl(&text, &path.display().to_string())?;
            if let Some(first) = first {
                ledger
                    .records
                    .retain(|(_, r)| r.record.round.sync_block >= first);
            }
            return Ok(ledger);
        }
        let mut ledger = Ledger {
            source_name: self.root.display().to_string(),
            ..Ledger::default()
        };
        let mut left = MAX_LEDGER_FILE_BYTES;
        for sync in rounds.into_iter().filter(|s| first.is_none_or(|f| *s >= f)) {
            let path = self.records_file(sync);
            let text = read_capped(&path, left).map_err(|e| match e {
                LedgerError::Io { path, reason } if reason.starts_with("longer than") => {
                    LedgerError::Io {
                        path,
                        reason: format!(
                            "the segments read hold more than {MAX_LEDGER_FILE_BYTES} bytes \
                             together: read the ledger from a later round"
                        ),
                    }
                }
                other => other,
            })?;
            left -= text.len() as u64;
            let name = path.display().to_string();
            let segment = Ledger::from_jsonl(&text, &name)?;
            if let Some((_, r)) = segment
                .records
                .iter()
                .find(|(_, r)| r.record.round.sync_block != sync)
            {
                return Err(LedgerError::Malformed {
                    source_name: name,
                    line: 1,
                    reason: format!(
                        "a record of round {} in the segment of round {sync}",
                        r.record.round.sync_block
                    ),
                });
            }
            ledger.push_segment(name, segment.records);
        }
        Ok(ledger)
    }

    /// Reads every published round: manifests by sync block, and items by round key.
    pub fn read_rounds(&self) -> Result<PublishedRounds, LedgerError> {
        self.read_rounds_from(None)
    }

    /// Reads the published rounds from `first` (a sync block) on; `None` reads them all.
    pub fn read_rounds_from(&self, first: Option<u64>) -> Result<PublishedRounds, LedgerError> {
        let mut out = PublishedRounds::default();
        let rounds = self.root.join("rounds");
        if !rounds.exists() {
            return Ok(out);
        }
        for entry in fs::read_dir(&rounds).map_err(io(&rounds))? {
            let dir = entry.map_err(io(&rounds))?.path();
            // A round whose items were not published (its records may be).
            if !dir.join("round.json").is_file() {
                continue;
            }
            let named = dir
                .file_name()
                .and_then(|n| n.to_str()?.parse::<u64>().ok());
            if let (Some(first), Some(sync)) = (first, named) {
                if sync < first {
                    continue;
                }
            }
            let manifest = read_manifest(&dir)?;
            if first.is_some_and(|f| manifest.sync_block < f) {
                continue;
            }
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
    use crate::verify::Expectations;

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

    /// Five records over rounds 7200, 7560 and 7920 (two, two, one), chained.
    fn three_rounds() -> Vec<SignedRecord> {
        let items = ItemSet {
            items: vec![Item {
                task: "t".into(),
                index: 0,
                item: serde_json::json!({"text": "a"}),
                private: false,
            }],
        };
        let signer = KeypairSigner::from_seed(&[3; 32]).expect("key");
        let mut prev = Digest::ZERO;
        let mut out = Vec::new();
        for (uid, sync) in [(1, 7200), (2, 7200), (1, 7560), (2, 7560), (1, 7920)] {
            let mut record = record_for(&items, uid, &[0.25], prev);
            record.round.sync_block = sync;
            let signed = SignedRecord::sign(record, &signer).expect("sign");
            prev = signed.hash();
            out.push(signed);
        }
        out
    }

    #[test]
    fn a_ledger_is_written_as_round_segments_and_read_back_in_chain_order() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = LedgerDir::new(tmp.path().join("ledger"));
        // An earlier single-file ledger is read while there is no segment...
        let records = three_rounds();
        fs::create_dir_all(dir.path()).expect("dir");
        let single: String = records[..2].iter().map(|r| r.to_line() + "\n").collect();
        fs::write(dir.ledger_file(), single).expect("single file");
        assert_eq!(dir.read_ledger().expect("single").records.len(), 2);
        // ...and replaced by the segments.
        dir.write_ledger(&records).expect("write");
        assert!(!dir.ledger_file().exists());
        assert_eq!(
            dir.segment_rounds().expect("rounds"),
            vec![7200, 7560, 7920]
        );
        let ledger = dir.read_ledger().expect("read");
        let read: Vec<&SignedRecord> = ledger.records.iter().map(|(_, r)| r).collect();
        assert_eq!(read, records.iter().collect::<Vec<_>>());
        assert_eq!(ledger.verify(&Default::default()).expect("chain"), 5);
        // Lines are numbered within each segment, and errors name it.
        let lines: Vec<usize> = ledger.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 2, 1, 2, 1]);
        assert!(ledger.source_of(3).ends_with("rounds/7560/records.jsonl"));
        // A window of rounds verifies from the hash before it.
        let window = dir.read_ledger_from(Some(7560)).expect("window");
        assert_eq!(window.records.len(), 3);
        window
            .verify(&Expectations {
                start: Some(records[1].hash()),
                ..Default::default()
            })
            .expect("window chain");
        // A round's segment lost: the chain breaks at the next round's first
        // record, in its own file.
        fs::remove_file(dir.records_file(7560)).expect("remove");
        let broken = dir.read_ledger().expect("read").verify(&Default::default());
        let err = broken.expect_err("a segment missing").to_string();
        assert!(err.contains("rounds/7920/records.jsonl line 1"), "{err}");
        assert!(err.contains("prev_hash"), "{err}");
        // A record of another round in a segment is refused on reading.
        let moved = records[0].to_line() + "\n";
        fs::write(dir.records_file(7920), moved).expect("write");
        let err = dir.read_ledger().expect_err("misplaced").to_string();
        assert!(
            err.contains("a record of round 7200 in the segment of round 7920"),
            "{err}"
        );
    }

    #[test]
    fn records_of_a_round_after_a_later_round_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = LedgerDir::new(tmp.path().join("ledger"));
        let mut records = three_rounds();
        records.swap(1, 2);
        let err = dir
            .write_ledger(&records)
            .expect_err("interleaved")
            .to_string();
        assert!(
            err.contains("a record of round 7200 follows one of round 7560"),
            "{err}"
        );
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
