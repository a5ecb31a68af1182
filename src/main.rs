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

/// The system allocator, telling a sandboxed evaluation's parent when an
/// allocation failed (see `gauntlet_validator::sandbox`).
#[global_allocator]
static ALLOCATOR: gauntlet_validator::sandbox::OomAware = gauntlet_validator::sandbox::OomAware;

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
    /// Serve a model directory over an OpenAI-compatible HTTP API.
    Serve(cmd::serve::Args),
    /// Check a model directory against a competition's constraints.
    Check(cmd::check::Args),
    /// Measure scoring and generation speed and print a table.
    Bench(cmd::bench::Args),
    /// List the competitions, their schedule, constraints and tasks.
    Competitions(cmd::competitions::Args),
    /// Datasets: fetch and cache them.
    #[command(subcommand)]
    Data(cmd::data::Command),
    /// The whole subnet on this machine: local chain and hub, miners, a
    /// validator round, weights, a Yuma epoch and the leaderboard.
    Demo(cmd::demo::Args),
    /// Miner: check, evaluate and push models.
    #[command(subcommand)]
    Miner(cmd::miner::Command),
    /// Validator: run rounds, show state.
    #[command(subcommand)]
    Validator(cmd::validator::Command),
    /// Hotkeys in Bittensor's wallet layout.
    #[command(subcommand)]
    Wallet(cmd::wallet::Command),
    /// Inspect a chain; administer the local chain.
    #[command(subcommand)]
    Chain(cmd::chain_admin::Command),
    /// A competition's periodic leaderboard snapshot (table, JSON, Parquet).
    Leaderboard(cmd::leaderboard::Args),
    /// Funding pools: create, deposit, join, list, status, settle.
    #[command(subcommand)]
    Pool(cmd::pool::Command),
    /// The web dashboard: competitions, leaderboards, plots, models,
    /// validators and pools, as HTML and JSON.
    Dashboard(cmd::dashboard::Args),
    /// Check a validator's published ledger: signatures, hash chain, item
    /// roots against its on-chain commitment, and its weights recomputed.
    Audit(cmd::audit::Args),
    /// A validator's signed ledger: export it as Parquet tables.
    #[command(subcommand)]
    Ledger(cmd::ledger::Command),
    /// Compare several validators' ledgers: each audited, each model's
    /// scores side by side (median, MAD, agreement), disagreements settled by
    /// re-running the disputed samples; the wrong validators named.
    Consensus(cmd::consensus::Args),
}

fn main() -> std::process::ExitCode {
    let filter = EnvFilter::try_from_env("GAUNTLET_LOG").unwrap_or_else(|_| {
        EnvFilter::new(
            "warn,gauntlet=info,gauntlet_model=info,gauntlet_evals=info,gauntlet_validator=info,gauntlet_datasets=info,gauntlet_hub=info,gauntlet_chain=info,gauntlet_dashboard=info,gauntlet_remote=info,gauntlet_retry=info",
        )
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
        Command::Serve(a) => cmd::serve::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Competitions(a) => cmd::competitions::run(a),
        Command::Data(c) => cmd::data::run(c),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Miner(c) => cmd::miner::run(c),
        Command::Validator(c) => cmd::validator::run(c),
        Command::Wallet(c) => cmd::wallet::run(c),
        Command::Chain(c) => cmd::chain_admin::run(c),
        Command::Leaderboard(a) => cmd::leaderboard::run(a),
        Command::Pool(c) => cmd::pool::run(c),
        Command::Dashboard(a) => cmd::dashboard::run(a),
        Command::Audit(a) => cmd::audit::run(a),
        Command::Ledger(c) => cmd::ledger::run(c),
        Command::Consensus(a) => cmd::consensus::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
