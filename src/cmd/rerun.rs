//! Re-running chosen samples of ledgers with the local runtime (`gauntlet
//! audit --replay`, `gauntlet consensus --replay`): each record's model
//! downloaded from the hub and checked against the record's repository hash,
//! the round's items drawn again from its seed (they must be the committed
//! ones; private items come from the round's published items), and the
//! chosen samples scored again in the sandbox.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use gauntlet_chain::Commitment;
use gauntlet_competitions::Registry;
use gauntlet_constants::{Block, CompetitionId};
use gauntlet_datasets::DataCache;
use gauntlet_hub::{ExpectedHash, ModelId, ModelStore};
use gauntlet_ledger::{ItemSet, LedgerDir, LedgerRecord};
use gauntlet_validator::rerun::{self, Pick, Rerun, RerunSetup};
use gauntlet_validator::sandbox::ProcessSandbox;

use super::backends::HubArgs;
use super::validator::sandbox::default_memory_limit;
use super::RuntimeArgs;

/// How samples are re-run: the hub the models come from, where they run.
#[derive(clap::Args, Debug, Clone)]
pub struct RerunArgs {
    /// Re-run this many samples with the local runtime and compare their
    /// scores with the ledger's (0: none). `audit` chooses them at random
    /// among the evaluated models' (deterministically from
    /// `--replay-seed`); `consensus` among those the validators disagree on.
    #[arg(long, default_value_t = 0)]
    pub replay: usize,
    /// The seed of the choice (any text; default: the hash of the ledger's
    /// last record, so a rerun audit re-runs the same samples).
    #[arg(long)]
    pub replay_seed: Option<String>,
    /// Largest difference between a recorded and a re-run sample score taken
    /// as agreement, relative to the larger score when above 1. The default
    /// covers batch composition on the same hardware class; a bf16 GPU
    /// against the CPU's f32 needs about 0.05.
    #[arg(long, default_value_t = rerun::DEFAULT_TOLERANCE)]
    pub tolerance: f64,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Address-space limit of the re-running process, in MiB (default: 90 %
    /// of the machine's memory on the CPU, none on CUDA).
    #[arg(long)]
    pub memory_limit_mib: Option<u64>,
}

/// Re-runs the models of `records` on their `picks` (from [`rerun::pick`]),
/// one sandboxed process per record. `lines` names each record's place for
/// messages, `dirs` the ledger directory it was published in (its round's
/// items, private ones included). An error is the auditor's problem or a record that cannot be
/// reproduced (its model is not on the hub as recorded, its items are not its
/// round's draw); disagreeing scores are not errors, they come back.
pub async fn rerun_all(
    args: &RerunArgs,
    records: &[&LedgerRecord],
    lines: &[String],
    dirs: &[&LedgerDir],
    picks: &[Pick],
    registry: &Registry,
) -> Result<Vec<Rerun>> {
    if picks.is_empty() {
        return Ok(Vec::new());
    }
    let data = DataCache::from_env();
    let hub = args.hub.open(data.path("models"))?;
    let exe = std::env::current_exe().context("finding the gauntlet executable")?;
    let placement = args.runtime.placement();
    let memory = match (args.memory_limit_mib, placement.device) {
        (Some(mib), _) => Some(mib.saturating_mul(1 << 20)),
        (None, gauntlet_model::DeviceKind::Cuda) => None,
        (None, gauntlet_model::DeviceKind::Cpu) => default_memory_limit(),
    };
    let sandbox = ProcessSandbox::new(exe, memory);
    let mut by_record: BTreeMap<usize, Vec<&Pick>> = BTreeMap::new();
    for p in picks {
        by_record.entry(p.record).or_default().push(p);
    }
    let mut out = Vec::new();
    for (r, picks) in by_record {
        let record = records
            .get(r)
            .ok_or_else(|| anyhow!("no record {r} to re-run"))?;
        let place = lines
            .get(r)
            .cloned()
            .unwrap_or_else(|| format!("record {r}"));
        let items = match dirs.get(r) {
            Some(dir) => dir
                .read_round_items(record.round.sync_block, record.competition.id)
                .with_context(|| format!("{place}: reading its round's items"))?,
            None => None,
        };
        let reruns = rerun_record(
            &hub,
            &sandbox,
            &data,
            registry,
            (record, items.as_ref()),
            &picks,
            args,
        )
        .await
        .with_context(|| {
            format!(
                "{place}: round {} competition {} model uid {} ({})",
                record.round.sync_block,
                record.competition.id,
                record.model.uid,
                record.model.hotkey
            )
        })?;
        out.extend(reruns);
    }
    Ok(out)
}

async fn rerun_record(
    hub: &Arc<dyn ModelStore>,
    sandbox: &ProcessSandbox,
    data: &DataCache,
    registry: &Registry,
    (record, items): (&LedgerRecord, Option<&ItemSet>),
    picks: &[&Pick],
    args: &RerunArgs,
) -> Result<Vec<Rerun>> {
    let placement = args.runtime.placement();
    let active = registry
        .competition_at(
            CompetitionId(record.competition.id),
            Block(record.round.block),
        )
        .ok_or_else(|| {
            anyhow!(
                "field competition: {} is not active at block {} in these definitions",
                record.competition.id,
                record.round.block
            )
        })?;
    let commitment = Commitment::parse(&record.model.commitment)
        .with_context(|| format!("field model.commitment: {:?}", record.model.commitment))?;
    let id = ModelId::new(
        commitment.namespace(),
        commitment.name(),
        commitment.commit(),
    )?;
    let expected = ExpectedHash {
        hotkey: record.model.hotkey.clone(),
        secure_hash: commitment.secure_hash().to_string(),
    };
    let max = active.competition.constraints.max_repo_bytes;
    let local = hub
        .download_expecting(&id, max, &expected)
        .await
        .with_context(|| format!("downloading {} to re-run it", id.repo_id()))?;
    if record.model.repo_hash.as_deref() != Some(local.repo_hash.as_str()) {
        bail!(
            "field model.repo_hash: recorded {:?}, the hub's revision hashes to {}",
            record.model.repo_hash,
            local.repo_hash
        );
    }
    let tokenizer_dir = gauntlet_validator::tokenizer::tokenizer_dir(
        &active.competition.constraints.tokenizer,
        data,
    )
    .await
    .map_err(|why| anyhow!("the competition's tokenizer: {why}"))?;
    let sample_cap = rerun::redraw(record, &active, data, items)?;
    let setup = RerunSetup {
        model_dir: local.dir.clone(),
        tokenizer_dir,
        data_root: data.path(""),
        sample_cap,
        placement,
    };
    let job = rerun::job(record, registry, &setup, picks, items);
    let deadline = Duration::from_secs(active.competition.constraints.max_eval_seconds);
    tracing::info!(
        model = %id.repo_id(),
        samples = picks.len(),
        "re-running samples"
    );
    let outcome = sandbox.run(&job, deadline, None);
    rerun::compare(record, picks, outcome, args.tolerance).map_err(|e| anyhow!(e))
}
