//! `gauntlet audit`: checks a validator's published ledger against the chain.
//!
//! In order: every published round's items hash to its competition roots and
//! those to its commitment string; the validator's items commitment on chain
//! is one of those rounds'; every record's signature, hash chain, items root
//! (a round after the one on chain has no commitment and fails), samples and
//! aggregates (`gauntlet-ledger`'s verification); then the ledger's scores are
//! replayed through the validator's own scoring and the resulting weights
//! compared with the validator's weights on chain. Any failure is an error
//! naming the round, model, sample and field, and a non-zero exit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use gauntlet_competitions::Registry;
use gauntlet_constants::Uid;
use gauntlet_datasets::DataCache;
use gauntlet_hub::ModelId;
use gauntlet_ledger::commitment::ItemsCommitment;
use gauntlet_ledger::LedgerRecord;
use gauntlet_ledger::{Digest, Expectations, Ledger, LedgerDir, PublishedRounds, RoundKey};
use gauntlet_validator::audit::{replay, ReplayedRound};
use gauntlet_validator::rerun::{self, Rerun};
use serde::Serialize;

use super::backends::{repo_arg, ChainArgs, HubArgs};
use super::competitions::registry;
use super::print_json;
use super::rerun::{rerun_all, RerunArgs};

/// `gauntlet audit`.
#[derive(clap::Args)]
pub struct Args {
    /// The validator's ledger directory (`validator run --ledger-dir`; the
    /// demo's is `<dir>/ledger`), or its records exported as Parquet
    /// (`gauntlet ledger export`: `<dir>/ledger.parquet`).
    #[arg(
        long,
        required_unless_present = "ledger_repo",
        conflicts_with = "ledger_repo"
    )]
    ledger: Option<PathBuf>,
    /// Or the ledger as the validator published it to the hub
    /// (`validator run --publish-ledger`; a dataset repository on the Hugging
    /// Face Hub): `namespace/name`, its latest revision, or
    /// `namespace/name@commit`.
    #[arg(long)]
    ledger_repo: Option<String>,
    #[command(flatten)]
    chain: ChainArgs,
    /// Extra competition definitions (directory of TOML files), as the
    /// validator was given.
    #[arg(long)]
    defs: Option<PathBuf>,
    /// The validator that must have signed the ledger (SS58); default: the
    /// signer of its first record.
    #[arg(long)]
    validator: Option<String>,
    /// Audit only the rounds from this sync block on (a ledger too long to
    /// hold whole): the window's first record must chain to a record before
    /// it, whose hash is taken as given (the report's `anchor`), and the
    /// weights are replayed from the window's first round (they match the
    /// chain once the scores from before it have decayed out of the EMA).
    #[arg(long, value_name = "SYNC_BLOCK")]
    from_round: Option<u64>,
    /// Print the report as JSON on stdout (also on failure, with `ok: false`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    rerun: RerunArgs,
}

/// What an audit found.
#[derive(Debug, Serialize, Default)]
pub(crate) struct Report {
    pub ok: bool,
    ledger: String,
    pub validator: String,
    records: usize,
    rounds: usize,
    /// With `--from-round`: the first round audited.
    from_round: Option<u64>,
    /// With `--from-round`: the hash the window's first record chains to,
    /// taken as given.
    anchor: Option<String>,
    /// The round whose commitment is on chain now (older ones are superseded).
    committed_round: Option<u64>,
    /// The weights the ledger gives after its last round, by uid.
    replayed_weights: Vec<(u16, u16)>,
    /// The validator's weights on chain, by uid.
    chain_weights: Vec<(u16, u16)>,
    /// The round whose replayed weights equal the chain's.
    weights_match_round: Option<u64>,
    /// Whether the weights on chain were required to follow from the
    /// ledger: always for a whole ledger; for a window (`--from-round`) only
    /// once it holds [`ema_settle_rounds`] rounds, since the EMA from before
    /// it is unknown.
    weights_checked: bool,
    rounds_replayed: Vec<ReplayedRound>,
    /// Models whose sequential-test decisions (stopped early, or run to the
    /// end) were replayed from the ledger and found to follow from it.
    early_stops_checked: usize,
    /// Samples re-run with the local runtime (`--replay`), each with the
    /// ledger's score and the re-run's.
    replayed_samples: Vec<Rerun>,
    error: Option<String>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut report = Report::default();
    let fetched = match (&args.ledger, &args.ledger_repo) {
        (Some(dir), _) => Ok(dir.clone()),
        (None, Some(repo)) => runtime.block_on(fetch_ledger(&args.rerun.hub, repo)),
        (None, None) => Err(anyhow!("give --ledger DIR or --ledger-repo NAMESPACE/NAME")),
    };
    let dir = match fetched {
        Ok(dir) => dir,
        Err(e) => {
            report.error = Some(format!("{e:#}"));
            if args.json {
                print_json(&report)?;
            }
            return Err(e.context("audit failed"));
        }
    };
    report.ledger = match &args.ledger_repo {
        Some(repo) if args.ledger.is_none() => format!("{repo} ({})", dir.display()),
        _ => dir.display().to_string(),
    };
    let target = Target {
        ledger: &dir,
        chain: &args.chain,
        defs: args.defs.as_deref(),
        validator: args.validator.as_deref(),
        from_round: args.from_round,
    };
    let outcome = runtime.block_on(async {
        let (ledger, registry) = check(&target, &mut report).await?;
        replay_samples(&args, (&ledger, &ledger_dir(&dir)), &registry, &mut report).await
    });
    if let Err(e) = &outcome {
        report.error = Some(format!("{e:#}"));
    }
    report.ok = outcome.is_ok();
    if args.json {
        print_json(&report)?;
    } else if report.ok {
        let weights = if report.weights_checked {
            format!(
                "weights on chain are the ledger's after round {}",
                report
                    .weights_match_round
                    .map_or("-".into(), |r| r.to_string())
            )
        } else {
            format!(
                "weights not checked (a window of {} rounds; the EMA from before it settles \
                 after {})",
                report.rounds_replayed.len(),
                ema_settle_rounds()
            )
        };
        println!(
            "audit passed: {} records of {} over {} rounds; items commitment of round {} on chain; \
             {weights}",
            report.records,
            report.validator,
            report.rounds,
            report.committed_round.map_or("-".into(), |r| r.to_string()),
        );
        if let (Some(from), Some(anchor)) = (report.from_round, &report.anchor) {
            println!("from round {from} on, chained to the record with hash {anchor}");
        }
        if !report.replayed_samples.is_empty() {
            println!(
                "{} samples re-run with the local runtime agree with the ledger (tolerance {})",
                report.replayed_samples.len(),
                args.rerun.tolerance
            );
        }
    }
    outcome.context("audit failed")
}

/// Largest published ledger revision downloaded (items and records).
const MAX_LEDGER_BYTES: u64 = 4 << 30;

/// Downloads a ledger published to the hub (`namespace/name[@commit]`) and
/// returns its directory.
async fn fetch_ledger(hub: &HubArgs, spec: &str) -> Result<PathBuf> {
    let (repo, commit) = match spec.split_once('@') {
        Some((repo, commit)) => (repo, Some(commit)),
        None => (spec, None),
    };
    let (namespace, name) = repo_arg("--ledger-repo", repo)?;
    let data = DataCache::from_env();
    let store = hub.open_ledgers(data.path("ledgers"))?;
    let id = match commit {
        Some(c) => ModelId::new(&namespace, &name, c)?,
        None => store
            .main_revision(&namespace, &name)
            .await
            .with_context(|| format!("finding the latest revision of {repo}"))?,
    };
    let local = store
        .download(&id, MAX_LEDGER_BYTES)
        .await
        .with_context(|| format!("downloading the ledger {id}"))?;
    tracing::info!(revision = %id, dir = %local.dir.display(), "ledger downloaded");
    Ok(local.dir)
}

/// A ledger and the directory its rounds are published in: `path` is a
/// ledger directory (its round segments), or a records table exported by
/// `gauntlet ledger export` (`*.parquet`, its rounds in the same directory).
pub(crate) fn read(path: &Path) -> Result<(LedgerDir, Ledger)> {
    read_from(path, None)
}

/// [`read`], keeping only the rounds from `first` (a sync block) on.
pub(crate) fn read_from(path: &Path, first: Option<u64>) -> Result<(LedgerDir, Ledger)> {
    let dir = ledger_dir(path);
    if is_parquet(path) {
        let mut ledger = super::parquet::read_ledger(path)?;
        if let Some(first) = first {
            ledger
                .records
                .retain(|(_, r)| r.record.round.sync_block >= first);
        }
        return Ok((dir, ledger));
    }
    let ledger = dir.read_ledger_from(first)?;
    Ok((dir, ledger))
}

fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "parquet")
}

/// The directory a ledger path's rounds are published in: the path itself,
/// or the directory of a records table.
pub(crate) fn ledger_dir(path: &Path) -> LedgerDir {
    if is_parquet(path) {
        LedgerDir::new(path.parent().unwrap_or(Path::new(".")))
    } else {
        LedgerDir::new(path)
    }
}

/// What one audit checks: a ledger directory against a chain.
pub(crate) struct Target<'a> {
    /// The ledger directory.
    pub ledger: &'a Path,
    /// The chain.
    pub chain: &'a ChainArgs,
    /// Extra competition definitions.
    pub defs: Option<&'a Path>,
    /// The validator that must have signed it (default: its signer).
    pub validator: Option<&'a str>,
    /// Only the rounds from this sync block on (`--from-round`).
    pub from_round: Option<u64>,
}

/// Every check but the re-runs; on success, the ledger and the registry it
/// was scored with.
pub(crate) async fn check(t: &Target<'_>, report: &mut Report) -> Result<(Ledger, Registry)> {
    let (dir, ledger) = read_from(t.ledger, t.from_round)?;
    let published = dir.read_rounds_from(t.from_round)?;
    report.records = ledger.records.len();
    report.rounds = published.manifests.len();
    // A window chains to the record before it, taken as given.
    let start = match t.from_round {
        Some(first) => {
            let head = ledger.records.first().ok_or_else(|| {
                anyhow!(
                    "{} holds no record from round {first} on",
                    dir.path().display()
                )
            })?;
            report.from_round = Some(first);
            report.anchor = Some(head.1.record.prev_hash.hex());
            Some(head.1.record.prev_hash)
        }
        None => None,
    };
    check_rounds(&published)?;
    let validator = match t.validator {
        Some(v) => v.to_string(),
        None => signer(&ledger)
            .ok_or_else(|| anyhow!("{} holds no record", dir.ledger_file().display()))?,
    };
    report.validator = validator.clone();
    // The ledger on its own first (signatures, hash chain, one signer, items),
    // so a record signed by another key is named before the chain is asked.
    ledger.verify(&Expectations {
        validator: Some(&validator),
        start,
        committed_roots: None,
        items: Some(&published.items),
    })?;

    let chain = t.chain.connect().await?;
    let netuid = t.chain.netuid();
    let commitments = chain.commitments(netuid).await?;
    let on_chain = commitments
        .iter()
        .find(|c| c.hotkey == validator)
        .ok_or_else(|| anyhow!("validator {validator} has no commitment on chain"))?;
    let committed: ItemsCommitment = on_chain.data.parse().with_context(|| {
        format!(
            "validator {validator}'s commitment {:?} is not an items commitment",
            on_chain.data
        )
    })?;
    let manifest = published
        .manifests
        .get(&committed.sync_block)
        .ok_or_else(|| {
            anyhow!(
                "round {}: committed on chain ({}) but not published in the ledger directory",
                committed.sync_block,
                on_chain.data
            )
        })?;
    if manifest.commitment != on_chain.data {
        bail!(
            "round {}: field commitment: published {:?}, on chain {:?}",
            committed.sync_block,
            manifest.commitment,
            on_chain.data
        );
    }
    report.committed_round = Some(committed.sync_block);
    // Rounds up to the one on chain: their roots as published (each checked
    // above to hash to its commitment string); later rounds have none.
    let roots: BTreeMap<RoundKey, Digest> = published
        .manifests
        .range(..=committed.sync_block)
        .flat_map(|(sync, m)| m.competitions.iter().map(move |c| ((*sync, c.id), c.root)))
        .collect();
    ledger.verify(&Expectations {
        validator: Some(&validator),
        start,
        committed_roots: Some(&roots),
        items: Some(&published.items),
    })?;

    let registry = registry(t.defs)?;
    let metagraph = chain.metagraph(netuid).await?;
    let records: Vec<_> = ledger.records.iter().map(|(_, r)| &r.record).collect();
    report.early_stops_checked = gauntlet_validator::audit::early_stop::check(&records, &registry)?;
    let replayed = replay(&records, &registry, &metagraph);
    report.replayed_weights = replayed
        .last()
        .map(|r| r.weights.clone())
        .unwrap_or_default();
    let uid = metagraph
        .by_hotkey(&validator)
        .map(|n| n.uid)
        .ok_or_else(|| anyhow!("validator {validator} is not registered on subnet {netuid}"))?;
    let weights = chain.weights(netuid).await?;
    report.chain_weights = weights
        .iter()
        .find(|(setter, _)| *setter == uid)
        .map(|(_, w)| w.iter().map(|(u, v)| (u.0, *v)).collect())
        .unwrap_or_default();
    report.rounds_replayed = replayed;
    report.weights_checked =
        t.from_round.is_none() || report.rounds_replayed.len() >= ema_settle_rounds();
    if report.weights_checked {
        weights_match(report, uid)?;
    } else {
        // Shown, not required: the window is too short for the EMA from
        // before it to have decayed.
        report.weights_match_round = matching_round(report);
    }
    Ok((ledger, registry))
}

/// `--replay K`: K samples re-run with the local runtime must score what the
/// ledger says (within `--tolerance`).
async fn replay_samples(
    args: &Args,
    (ledger, dir): (&Ledger, &LedgerDir),
    registry: &Registry,
    report: &mut Report,
) -> Result<()> {
    if args.rerun.replay == 0 {
        return Ok(());
    }
    let records: Vec<&LedgerRecord> = ledger.records.iter().map(|(_, r)| &r.record).collect();
    let lines: Vec<String> = ledger
        .records
        .iter()
        .enumerate()
        .map(|(i, (line, _))| format!("{} line {line}", ledger.source_of(i)))
        .collect();
    let seed = match &args.rerun.replay_seed {
        Some(s) => s.as_bytes().to_vec(),
        None => ledger
            .records
            .last()
            .map(|(_, r)| r.hash().0.to_vec())
            .unwrap_or_default(),
    };
    let picks = rerun::pick(&records, args.rerun.replay, &seed);
    let dirs = vec![dir; records.len()];
    let reruns = rerun_all(&args.rerun, &records, &lines, &dirs, &picks, registry).await?;
    report.replayed_samples = reruns.clone();
    let bad = reruns
        .iter()
        .find_map(|r| r.disagreement(args.rerun.tolerance).map(|d| (r, d)));
    match bad {
        None => Ok(()),
        Some((bad, (field, why))) => {
            let record = records[bad.pick.record];
            bail!(
                "{}: round {} competition {} model uid {} ({}): sample {}#{}: field {field}: {why}",
                lines[bad.pick.record],
                record.round.sync_block,
                record.competition.id,
                record.model.uid,
                record.model.hotkey,
                bad.pick.task,
                bad.pick.index,
            )
        }
    }
}

/// The hotkey that signed most of the ledger's records (the first of those
/// tied): the validator whose ledger it is, unless `--validator` says
/// otherwise. `None` for an empty ledger.
fn signer(ledger: &Ledger) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, r) in &ledger.records {
        let hotkey = r.record.validator.hotkey.as_str();
        match counts.iter_mut().find(|(h, _)| *h == hotkey) {
            Some((_, n)) => *n += 1,
            None => counts.push((hotkey, 1)),
        }
    }
    let most = counts.iter().map(|(_, n)| *n).max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(h, _)| h.to_string())
}

/// Every published round's items hash to its roots, and its roots to its
/// commitment string.
fn check_rounds(published: &PublishedRounds) -> Result<()> {
    for (sync, m) in &published.manifests {
        let mut pairs = Vec::new();
        for c in &m.competitions {
            let items = published
                .items
                .get(&(*sync, c.id))
                .ok_or_else(|| anyhow!("round {sync} competition {}: no items", c.id))?;
            let root = items.root();
            if root != c.root {
                bail!(
                    "round {sync} competition {}: field root: the items hash to {root}, round.json says {}",
                    c.id,
                    c.root
                );
            }
            pairs.push((c.id, root));
        }
        let expected = ItemsCommitment::of_round(*sync, &pairs).to_string();
        if m.commitment != expected {
            bail!(
                "round {sync}: field commitment: round.json says {:?}, its roots give {expected:?}",
                m.commitment
            );
        }
    }
    Ok(())
}

/// The chain's weights must be what the ledger gives after one of its
/// rounds (the validator sets weights at most once per rate-limit period).
/// Rounds after which the EMA from before a window weighs less than one
/// step of a `u16` weight: `(1 − α)ⁿ < 1 / 65,535`, with the validator's α.
pub(crate) fn ema_settle_rounds() -> usize {
    let keep = 1.0 - gauntlet_evals::weights::EMA_ALPHA;
    (f64::from(u16::MAX).ln() / -keep.ln()).ceil() as usize
}

/// The latest replayed round whose weights are the chain's.
fn matching_round(report: &Report) -> Option<u64> {
    report
        .rounds_replayed
        .iter()
        .rev()
        .find(|r| r.weights == report.chain_weights)
        .map(|r| r.sync_block)
}

fn weights_match(report: &mut Report, uid: Uid) -> Result<()> {
    if report.chain_weights.is_empty() {
        bail!(
            "validator uid {} has no weights on chain (the ledger gives {:?})",
            uid.0,
            report.replayed_weights
        );
    }
    report.weights_match_round = matching_round(report);
    if report.weights_match_round.is_none() {
        bail!(
            "field weights: validator uid {} has {:?} on chain, but its ledger gives {:?} after round {}",
            uid.0,
            report.chain_weights,
            report.replayed_weights,
            report
                .rounds_replayed
                .last()
                .map_or("-".into(), |r| r.sync_block.to_string())
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_settles_once_the_ema_before_it_is_below_one_u16_step() {
        let n = ema_settle_rounds();
        let keep = 1.0 - gauntlet_evals::weights::EMA_ALPHA;
        let step = 1.0 / f64::from(u16::MAX);
        assert!(keep.powi(n as i32) < step);
        assert!(keep.powi(n as i32 - 1) >= step);
        assert_eq!(n, 106);
    }
}
