//! Parquet exports (polars): a leaderboard snapshot's rows, one row per model,
//! with the snapshot's competition, block and period on every row; a ledger's
//! records, one row per record, which read back to the very records signed
//! (and audit like the JSON Lines they came from); a ledger's samples, one row
//! per sample, for analysis.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use gauntlet_ledger::{canonical, Ledger, Output, MAX_LEDGER_FILE_BYTES};
use gauntlet_validator::state::LeaderboardSnapshot;
use polars::prelude::{Column, DataFrame, ParquetReader, ParquetWriter, SerReader};

/// Writes `s`'s rows to `file` (through a temporary file and a rename, so a
/// crash never leaves half a file under the name).
pub fn write_leaderboard(file: &Path, s: &LeaderboardSnapshot) -> Result<()> {
    let n = s.rows.len();
    let col = |name: &str, c: Column| -> Column { c.with_name(name.into()) };
    let columns = vec![
        col(
            "competition_id",
            Column::new("".into(), vec![u32::from(s.competition_id); n]),
        ),
        col("snapshot_block", Column::new("".into(), vec![s.block; n])),
        col("period", Column::new("".into(), vec![s.period; n])),
        col("sync_block", Column::new("".into(), vec![s.sync_block; n])),
        col(
            "rank",
            Column::new("".into(), s.rows.iter().map(|r| r.rank).collect::<Vec<_>>()),
        ),
        col(
            "uid",
            Column::new(
                "".into(),
                s.rows.iter().map(|r| u32::from(r.uid)).collect::<Vec<_>>(),
            ),
        ),
        col(
            "hotkey",
            Column::new(
                "".into(),
                s.rows.iter().map(|r| r.hotkey.as_str()).collect::<Vec<_>>(),
            ),
        ),
        col(
            "model",
            Column::new(
                "".into(),
                s.rows.iter().map(|r| r.model.as_str()).collect::<Vec<_>>(),
            ),
        ),
        col(
            "commit_block",
            Column::new(
                "".into(),
                s.rows.iter().map(|r| r.commit_block).collect::<Vec<_>>(),
            ),
        ),
        col(
            "score",
            Column::new(
                "".into(),
                s.rows.iter().map(|r| r.score).collect::<Vec<_>>(),
            ),
        ),
        col(
            "win_rate",
            Column::new(
                "".into(),
                s.rows.iter().map(|r| r.win_rate).collect::<Vec<_>>(),
            ),
        ),
        col(
            "ema",
            Column::new("".into(), s.rows.iter().map(|r| r.ema).collect::<Vec<_>>()),
        ),
        col(
            "verdict",
            Column::new(
                "".into(),
                s.rows
                    .iter()
                    .map(|r| r.verdict.as_str())
                    .collect::<Vec<_>>(),
            ),
        ),
        col(
            "reason",
            Column::new(
                "".into(),
                s.rows
                    .iter()
                    .map(|r| r.reason.as_deref())
                    .collect::<Vec<_>>(),
            ),
        ),
        col(
            "copy_of",
            Column::new(
                "".into(),
                s.rows
                    .iter()
                    .map(|r| r.copy_of.map(u32::from))
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    write_frame(
        file,
        DataFrame::new(n, columns).context("building the table")?,
    )
}

/// Writes `df` to `file` through a temporary file and a rename.
fn write_frame(file: &Path, mut df: DataFrame) -> Result<()> {
    let tmp = file.with_extension("parquet.tmp");
    let out = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    ParquetWriter::new(out)
        .finish(&mut df)
        .context("writing Parquet")?;
    std::fs::rename(&tmp, file).with_context(|| format!("renaming to {}", file.display()))?;
    Ok(())
}

/// The columns of a ledger's records table that hold a record whole; the
/// others repeat its fields for readers who only want to filter.
const LINE_COLUMNS: [&str; 3] = ["hash", "record", "signature"];

/// Writes `ledger`'s records to `file`, one row per record in ledger order:
/// `hash`, `record` (the signed canonical JSON, byte for byte) and
/// `signature` (`0x…`), then `sync_block`, `block`, `competition_id`,
/// `validator`, `uid`, `hotkey`, `repo`, `commit`, `score`, `verdict` and
/// `prev_hash` copied out of the record.
pub fn write_ledger(file: &Path, ledger: &Ledger) -> Result<()> {
    let rs: Vec<_> = ledger.records.iter().map(|(_, r)| r).collect();
    let n = rs.len();
    let text = |name: &str, f: &dyn Fn(usize) -> String| -> Column {
        Column::new(name.into(), (0..n).map(f).collect::<Vec<_>>())
    };
    let columns = vec![
        text("hash", &|i| rs[i].line_hash.clone()),
        text("record", &|i| {
            String::from_utf8_lossy(&rs[i].bytes).into_owned()
        }),
        text("signature", &|i| {
            let hex: String = rs[i].signature.iter().map(|b| format!("{b:02x}")).collect();
            format!("0x{hex}")
        }),
        Column::new(
            "sync_block".into(),
            rs.iter()
                .map(|r| r.record.round.sync_block)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "block".into(),
            rs.iter().map(|r| r.record.round.block).collect::<Vec<_>>(),
        ),
        Column::new(
            "competition_id".into(),
            rs.iter()
                .map(|r| u32::from(r.record.competition.id))
                .collect::<Vec<_>>(),
        ),
        text("validator", &|i| rs[i].record.validator.hotkey.clone()),
        Column::new(
            "uid".into(),
            rs.iter()
                .map(|r| u32::from(r.record.model.uid))
                .collect::<Vec<_>>(),
        ),
        text("hotkey", &|i| rs[i].record.model.hotkey.clone()),
        text("repo", &|i| rs[i].record.model.repo.clone()),
        text("commit", &|i| rs[i].record.model.commit.clone()),
        Column::new(
            "score".into(),
            rs.iter().map(|r| r.record.score).collect::<Vec<_>>(),
        ),
        text("verdict", &|i| rs[i].record.verdict.clone()),
        text("prev_hash", &|i| rs[i].record.prev_hash.hex()),
    ];
    write_frame(
        file,
        DataFrame::new(n, columns).context("building the table")?,
    )
}

/// Writes `ledger`'s samples to `file`, one row per sample: the record's
/// `sync_block`, `competition_id`, `uid` and `hotkey`, then the sample's
/// `task`, `index`, `item_hash`, `score` and `output` (its JSON, packed
/// losses as numbers, or null).
pub fn write_samples(file: &Path, ledger: &Ledger) -> Result<()> {
    let rows: Vec<_> = ledger
        .records
        .iter()
        .flat_map(|(_, r)| r.record.samples.iter().map(move |s| (&r.record, s)))
        .collect();
    let n = rows.len();
    // Losses as numbers for analysis, whichever form the record packs them in.
    let output = |o: &Output| -> Result<String> {
        let bytes = match o {
            Output::LossesF32(l) => canonical::to_canonical_of(&Output::Losses(l.clone()))?,
            other => canonical::to_canonical_of(other)?,
        };
        Ok(String::from_utf8(bytes)?)
    };
    let columns = vec![
        Column::new(
            "sync_block".into(),
            rows.iter()
                .map(|(r, _)| r.round.sync_block)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "competition_id".into(),
            rows.iter()
                .map(|(r, _)| u32::from(r.competition.id))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "uid".into(),
            rows.iter()
                .map(|(r, _)| u32::from(r.model.uid))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "hotkey".into(),
            rows.iter()
                .map(|(r, _)| r.model.hotkey.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "task".into(),
            rows.iter()
                .map(|(_, s)| s.task.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "index".into(),
            rows.iter().map(|(_, s)| s.index).collect::<Vec<_>>(),
        ),
        Column::new(
            "item_hash".into(),
            rows.iter()
                .map(|(_, s)| s.item_hash.hex())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "score".into(),
            rows.iter().map(|(_, s)| s.score).collect::<Vec<_>>(),
        ),
        Column::new(
            "output".into(),
            rows.iter()
                .map(|(_, s)| s.output.as_ref().map(output).transpose())
                .collect::<Result<Vec<_>>>()?,
        ),
    ];
    write_frame(
        file,
        DataFrame::new(n, columns).context("building the table")?,
    )
}

/// Bytes a ledger table's columns may take decompressed, as its footer
/// declares them: twice the JSON Lines a ledger may hold (the table repeats
/// some fields of each record in columns of their own).
pub const MAX_DECOMPRESSED_BYTES: u64 = 2 * MAX_LEDGER_FILE_BYTES;

/// Reads a ledger written by [`write_ledger`]: each row's `hash`, `record`
/// and `signature` make the JSON Lines line they came from, which is then read
/// as any ledger line (so verification sees the very bytes signed). A file
/// that is not such a table (truncated, another table, nulls where a record
/// belongs) is an error naming the file, never a panic.
pub fn read_ledger(file: &Path) -> Result<Ledger> {
    read_ledger_within(file, MAX_DECOMPRESSED_BYTES)
}

/// [`read_ledger`], with `cap` bytes of decompressed columns at most.
fn read_ledger_within(file: &Path, cap: u64) -> Result<Ledger> {
    let name = file.display().to_string();
    let f = std::fs::File::open(file).with_context(|| format!("opening {name}"))?;
    // The same bound as the JSON Lines it stands for, before polars holds it.
    let size = f
        .metadata()
        .with_context(|| format!("reading {name}"))?
        .len();
    if size > MAX_LEDGER_FILE_BYTES {
        bail!("{name}: {size} bytes, more than the {MAX_LEDGER_FILE_BYTES} a ledger may hold");
    }
    // Polars reads untrusted bytes: a panic in it is this file's fault, not ours.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut reader = ParquetReader::new(f);
        // What the footer says the columns take once decompressed, bounded
        // before any page is decompressed (a small file may claim much).
        let declared = {
            let metadata = reader.get_metadata()?;
            metadata
                .row_groups
                .iter()
                .map(|g| {
                    let columns: i64 = g
                        .parquet_columns()
                        .iter()
                        .map(|c| c.uncompressed_size().max(0))
                        .fold(0i64, i64::saturating_add);
                    u64::try_from(columns)
                        .unwrap_or(u64::MAX)
                        .max(g.total_byte_size() as u64)
                })
                .fold(0u64, u64::saturating_add)
        };
        if declared > cap {
            return Ok(Err(declared));
        }
        reader.finish().map(Ok)
    }));
    let df = match read {
        Ok(Ok(Ok(df))) => df,
        Ok(Ok(Err(declared))) => bail!(
            "{name}: its columns take {declared} bytes decompressed, more than the \
             {cap} a ledger table may"
        ),
        Ok(Err(e)) => bail!("{name}: not a readable Parquet file: {e}"),
        Err(_) => bail!("{name}: not a readable Parquet file (the reader gave up)"),
    };
    let mut columns = Vec::new();
    for c in LINE_COLUMNS {
        let column = df
            .column(c)
            .map_err(|_| anyhow!("{name}: no column {c:?}: not a ledger table"))?
            .str()
            .map_err(|_| anyhow!("{name}: column {c:?} is not text"))?
            .clone();
        columns.push(column);
    }
    let mut text = String::new();
    for row in 0..df.height() {
        let field = |c: usize| {
            columns[c]
                .get(row)
                .ok_or_else(|| anyhow!("{name}: row {}: {} is null", row + 1, LINE_COLUMNS[c]))
        };
        let (hash, record, signature) = (field(0)?, field(1)?, field(2)?);
        // Canonical JSON is one line: a record spanning several is not one.
        if record.contains(['\n', '\r']) {
            bail!("{name}: row {}: record is not one line of JSON", row + 1);
        }
        // The same line `SignedRecord::to_line` writes; every field is re-read and checked.
        text.push_str(&format!(
            "{{\"hash\":{},\"record\":{record},\"signature\":{}}}\n",
            serde_json::to_string(hash)?,
            serde_json::to_string(signature)?
        ));
    }
    Ok(Ledger::from_jsonl(&text, &name)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use gauntlet_ledger::testing::record_for;
    use gauntlet_ledger::{Digest, Item, ItemSet, KeypairSigner, SignedRecord};

    use super::*;

    #[test]
    fn a_table_is_refused_before_decompression_when_its_footer_claims_too_much() {
        let items = ItemSet {
            items: vec![Item {
                task: "t".into(),
                index: 0,
                item: serde_json::json!({"text": "a"}),
                private: false,
            }],
        };
        let signer = KeypairSigner::from_seed(&[4; 32]).unwrap();
        let signed =
            SignedRecord::sign(record_for(&items, 1, &[0.5], Digest::ZERO), &signer).unwrap();
        let ledger = Ledger::from_jsonl(&signed.to_line(), "l").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("ledger.parquet");
        write_ledger(&file, &ledger).unwrap();
        // Within the cap, the record reads back as signed.
        let back = read_ledger(&file).unwrap();
        assert_eq!(back.records[0].1, signed);
        // The same table against a cap below what its columns declare.
        let err = read_ledger_within(&file, 16).unwrap_err().to_string();
        assert!(
            err.contains("bytes decompressed, more than the 16"),
            "{err}"
        );
    }
}
