//! `gauntlet ledger export`: a validator's signed ledger as Parquet tables
//! (polars), beside the JSON Lines it is kept in.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_ledger::LedgerDir;
use serde::Serialize;

use super::print_json;

/// `gauntlet ledger …`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Export a ledger directory's records as Parquet: `ledger.parquet`
    /// (one row per signed record, which `gauntlet audit --ledger` reads
    /// back and verifies like the JSON Lines) and `samples.parquet` (one row
    /// per sample: task, index, item hash, score, output).
    Export(ExportArgs),
}

/// Arguments of `gauntlet ledger export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The ledger directory (`validator run --ledger-dir`; the demo's is
    /// `<dir>/ledger`).
    #[arg(long)]
    ledger: PathBuf,
    /// Where to write the records table (default `<ledger>/ledger.parquet`).
    #[arg(long)]
    records: Option<PathBuf>,
    /// Where to write the samples table (default `<ledger>/samples.parquet`).
    #[arg(long)]
    samples: Option<PathBuf>,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Exported {
    records: usize,
    samples: usize,
    records_file: PathBuf,
    samples_file: PathBuf,
}

/// Runs the subcommand.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Export(args) => export(args),
    }
}

fn export(args: ExportArgs) -> Result<()> {
    let dir = LedgerDir::new(&args.ledger);
    let ledger = dir
        .read_ledger()
        .with_context(|| format!("reading the ledger in {}", args.ledger.display()))?;
    let records_file = args
        .records
        .unwrap_or_else(|| args.ledger.join("ledger.parquet"));
    let samples_file = args
        .samples
        .unwrap_or_else(|| args.ledger.join("samples.parquet"));
    super::parquet::write_ledger(&records_file, &ledger)?;
    super::parquet::write_samples(&samples_file, &ledger)?;
    let out = Exported {
        records: ledger.records.len(),
        samples: ledger
            .records
            .iter()
            .map(|(_, r)| r.record.samples.len())
            .sum(),
        records_file,
        samples_file,
    };
    if args.json {
        print_json(&out)
    } else {
        println!(
            "{} records to {}, {} samples to {}",
            out.records,
            out.records_file.display(),
            out.samples,
            out.samples_file.display()
        );
        Ok(())
    }
}
