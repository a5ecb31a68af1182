//! `gauntlet check`: a model directory against a competition's constraints.

use std::path::PathBuf;

use anyhow::{Context, Result};
use gauntlet_model::constraints::{self, CheckReport, ModelConstraints, NormCheck};

use super::print_json;

/// Arguments of `gauntlet check` (defaults: INSTRUCT_8B's constraints).
#[derive(clap::Args)]
pub struct Args {
    /// Hugging Face model directory.
    #[arg(long)]
    model: PathBuf,
    /// Largest parameter count.
    #[arg(long, default_value_t = 8_100_000_000)]
    max_params: u64,
    /// Smallest parameter count.
    #[arg(long, default_value_t = 0)]
    min_params: u64,
    /// Largest total size of the files, in bytes.
    #[arg(long, default_value_t = 20 * (1 << 30))]
    max_bytes: u64,
    /// Allowed architectures (comma-separated Hugging Face class names).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "MistralForCausalLM,LlamaForCausalLM,BartForCausalLM,FalconForCausalLM,GPTNeoXForCausalLM,PhiForCausalLM,GemmaForCausalLM,Gemma2ForCausalLM,Phi3ForCausalLM"
    )]
    architectures: Vec<String>,
    /// Allowed stored dtypes (comma-separated; empty: any float).
    #[arg(long, value_delimiter = ',')]
    dtypes: Vec<String>,
    /// Skip the weight-norm check.
    #[arg(long)]
    no_norm_check: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand; exits non-zero when a constraint is broken.
pub fn run(args: Args) -> Result<()> {
    let c = ModelConstraints {
        max_params: args.max_params,
        min_params: args.min_params,
        architectures: args.architectures,
        max_bytes: args.max_bytes,
        dtypes: args.dtypes,
        norm_check: (!args.no_norm_check).then_some(NormCheck::REFERENCE),
    };
    let report = constraints::check(&args.model, &c)
        .with_context(|| format!("checking {}", args.model.display()))?;
    print_report(&report, args.json, None)
}

/// Prints a constraint report (as JSON, or as a table under an optional
/// competition name) and fails when a constraint is broken.
pub fn print_report(report: &CheckReport, json: bool, competition: Option<&str>) -> Result<()> {
    if json {
        print_json(report)?;
    } else {
        if let Some(name) = competition {
            println!("competition    {name}");
        }
        println!("architecture   {}", report.architecture);
        println!("parameters     {}", report.parameters);
        println!("bytes          {}", report.bytes);
        println!("dtypes         {}", report.dtypes.join(", "));
        println!("max norm       {:.2}", report.max_projection_norm);
        for v in &report.violations {
            println!("FAIL {:?}: {}", v.kind, v.reason);
        }
        if report.passed() {
            println!("PASS");
        }
    }
    if !report.passed() {
        anyhow::bail!("{} constraint(s) broken", report.violations.len());
    }
    Ok(())
}
