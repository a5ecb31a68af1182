//! `gauntlet import-gguf`: a GGUF file to a complete Hugging Face model directory.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::print_json;

/// Arguments of `gauntlet import-gguf`.
#[derive(clap::Args)]
pub struct Args {
    /// The GGUF file.
    #[arg(long)]
    gguf: PathBuf,
    /// The directory to write (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Print the import report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let report = gauntlet_model::gguf::import_gguf(&args.gguf, &args.out)
        .with_context(|| format!("importing {}", args.gguf.display()))?;
    if args.json {
        print_json(&report)?;
    } else {
        eprintln!("wrote {}", args.out.display());
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}
