//! The `gauntlet` command-line tool: every Gauntlet role behind one binary.
//!
//! Library crates return typed errors; this binary wraps them with `anyhow`
//! context, prints them as `error: …` chains on stderr and exits non-zero.
//! `--json` output goes to stdout and nothing else does; logs go to stderr.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod cmd;
mod input;
mod progress;

/// Gauntlet: decentralized LLM evaluation, a Bittensor-style subnet in Rust.
#[derive(Parser)]
#[command(name = "gauntlet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a GGUF file into a Hugging Face model directory.
    ImportGguf(cmd::import_gguf::Args),
    /// Mean next-token loss of each text of a JSONL file.
    Loss(cmd::loss::Args),
    /// Run an eval task on a model.
    Eval(cmd::eval::Args),
    /// Check a model directory against a competition's constraints.
    Check(cmd::check::Args),
    /// Measure scoring and generation speed and print a table.
    Bench(cmd::bench::Args),
}

fn main() -> std::process::ExitCode {
    let filter = EnvFilter::try_from_env("GAUNTLET_LOG").unwrap_or_else(|_| {
        EnvFilter::new("warn,gauntlet=info,gauntlet_model=info,gauntlet_evals=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::ImportGguf(a) => cmd::import_gguf::run(a),
        Command::Loss(a) => cmd::loss::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Bench(a) => cmd::bench::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
