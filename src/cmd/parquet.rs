//! Parquet exports (polars): a leaderboard snapshot's rows, one row per model,
//! with the snapshot's competition, block and period on every row.

use std::path::Path;

use anyhow::{Context, Result};
use gauntlet_validator::state::LeaderboardSnapshot;
use polars::prelude::{Column, DataFrame, ParquetWriter};

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
    let mut df = DataFrame::new(n, columns).context("building the table")?;
    let tmp = file.with_extension("parquet.tmp");
    let out = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    ParquetWriter::new(out)
        .finish(&mut df)
        .context("writing Parquet")?;
    std::fs::rename(&tmp, file).with_context(|| format!("renaming to {}", file.display()))?;
    Ok(())
}
