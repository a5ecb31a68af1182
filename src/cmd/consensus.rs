//! `gauntlet consensus`: several validators' ledgers side by side.
//!
//! Each ledger is first audited on its own (signatures, hash chain, items
//! against the on-chain commitment, weights recomputed: `gauntlet audit`).
//! Then every model that two or more validators evaluated in the same round
//! is compared: the median and the median absolute deviation (MAD) of their
//! scores, and whether they agree within `--tolerance` on every public item's
//! score and output (Gauntlet's scores are deterministic: the same samples on
//! the same hardware class give the same scores, so a disagreement is
//! evidence, not noise). Each validator's private items are its own and are
//! not compared. A disagreement is
//! settled by the replayable truth: up to `--replay K` of the disputed
//! samples are scored again with the local runtime, and each validator whose
//! recorded score differs from the re-run is flagged. Without re-runs, a
//! strict majority agreeing with the median flags the outliers; with no
//! majority (two validators) the model stays disputed. Any flag or dispute
//! is a non-zero exit.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use gauntlet_ledger::{Digest, LedgerRecord, SampleEntry};
use gauntlet_validator::rerun::{agree, outputs_differ, show, Pick};
use serde::Serialize;

use super::audit::{check, Report as AuditReport, Target};
use super::backends::ChainArgs;
use super::competitions::registry;
use super::print_json;
use super::rerun::{rerun_all, RerunArgs};

/// `gauntlet consensus`.
#[derive(clap::Args)]
pub struct Args {
    /// The validators' ledger directories (two or more).
    #[arg(required = true, num_args = 2..)]
    ledgers: Vec<PathBuf>,
    #[command(flatten)]
    chain: ChainArgs,
    /// Extra competition definitions (directory of TOML files), as the
    /// validators were given.
    #[arg(long)]
    defs: Option<PathBuf>,
    /// Print the report as JSON on stdout (also when validators are flagged).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    rerun: RerunArgs,
}

/// One validator's ledger and its own audit.
#[derive(Debug, Serialize)]
struct ValidatorRow {
    ledger: String,
    hotkey: String,
    records: usize,
    /// `None` when its audit passed, else why not.
    audit_error: Option<String>,
}

/// One model of one round, as the validators scored it.
#[derive(Debug, Serialize)]
struct ModelRow {
    sync_block: u64,
    competition: u16,
    uid: u16,
    hotkey: String,
    repo: String,
    /// Each validator's score (`null`: not finite), by validator hotkey.
    scores: Vec<(String, Option<f64>)>,
    median: Option<f64>,
    mad: Option<f64>,
    /// Whether every validator's score and verdict agree.
    agreed: bool,
}

/// How often two validators agreed on the models both evaluated.
#[derive(Debug, Serialize)]
struct AgreementRow {
    a: String,
    b: String,
    shared: usize,
    agreed: usize,
}

/// A disputed sample scored again.
#[derive(Debug, Serialize)]
struct ReplayedRow {
    sync_block: u64,
    competition: u16,
    uid: u16,
    task: String,
    index: u64,
    /// The re-run's score.
    replayed: Option<f64>,
    /// Each validator's recorded score.
    recorded: Vec<(String, Option<f64>)>,
}

/// A validator found wrong, and why.
#[derive(Debug, Serialize)]
struct Flag {
    validator: String,
    reason: String,
}

#[derive(Debug, Serialize, Default)]
struct Report {
    ok: bool,
    validators: Vec<ValidatorRow>,
    models: Vec<ModelRow>,
    agreement: Vec<AgreementRow>,
    replayed: Vec<ReplayedRow>,
    flagged: Vec<Flag>,
    /// Models the validators disagree on with nothing to settle it.
    disputed: Vec<String>,
    error: Option<String>,
}

/// A model of a round: sync block, competition, miner hotkey, commitment.
type ModelKey = (u64, u16, String, String);

/// Runs the subcommand.
pub fn run(args: Args) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut report = Report::default();
    let outcome = runtime.block_on(consensus(&args, &mut report));
    if let Err(e) = &outcome {
        report.error = Some(format!("{e:#}"));
    }
    report.ok = outcome.is_ok() && report.flagged.is_empty() && report.disputed.is_empty();
    if args.json {
        print_json(&report)?;
    } else {
        print_tables(&report);
    }
    outcome?;
    if !report.ok {
        bail!(
            "consensus failed: {} validator flag(s), {} disputed model(s)",
            report.flagged.len(),
            report.disputed.len()
        );
    }
    Ok(())
}

async fn consensus(args: &Args, report: &mut Report) -> Result<()> {
    // Each ledger on its own first.
    let mut ledgers: Vec<(String, Vec<LedgerRecord>)> = Vec::new();
    for path in &args.ledgers {
        let mut audit = AuditReport::default();
        let target = Target {
            ledger: path,
            chain: &args.chain,
            defs: args.defs.as_deref(),
            validator: None,
            from_round: None,
        };
        let audited = check(&target, &mut audit).await;
        let read = super::audit::read(path).map(|(_, l)| l);
        let records: Vec<LedgerRecord> = read
            .as_ref()
            .map(|l| l.records.iter().map(|(_, r)| r.record.clone()).collect())
            .unwrap_or_default();
        let hotkey = if audit.validator.is_empty() {
            path.display().to_string()
        } else {
            audit.validator.clone()
        };
        let audit_error = audited.err().map(|e| format!("{e:#}"));
        if let Some(e) = &audit_error {
            report.flagged.push(Flag {
                validator: hotkey.clone(),
                reason: format!("its ledger fails its audit: {e}"),
            });
        }
        report.validators.push(ValidatorRow {
            ledger: path.display().to_string(),
            hotkey: hotkey.clone(),
            records: records.len(),
            audit_error,
        });
        ledgers.push((hotkey, records));
    }

    // Every model of a round, with each validator's record of it.
    let mut models: BTreeMap<ModelKey, Vec<(usize, &LedgerRecord)>> = BTreeMap::new();
    for (v, (_, records)) in ledgers.iter().enumerate() {
        for r in records {
            let key = (
                r.round.sync_block,
                r.competition.id,
                r.model.hotkey.clone(),
                r.model.commitment.clone(),
            );
            models.entry(key).or_default().push((v, r));
        }
    }
    let tolerance = args.rerun.tolerance;
    // Each validator's private items, round by round (from its published items).
    let private = private_items(&args.ledgers, &ledgers);
    let mut disputes: Vec<(&ModelKey, Vec<usize>)> = Vec::new();
    for (key, seen) in &models {
        if seen.len() < 2 {
            continue;
        }
        let first = seen[0].1;
        let views: Vec<Seen<'_>> = seen.iter().map(|(v, r)| view(&private, *v, r)).collect();
        let agreed = views.iter().all(|s| records_agree(&views[0], s, tolerance));
        let finite: Vec<f64> = seen.iter().filter_map(|(_, r)| r.score).collect();
        let median = median(&finite);
        report.models.push(ModelRow {
            sync_block: key.0,
            competition: key.1,
            uid: first.model.uid,
            hotkey: key.2.clone(),
            repo: first.model.repo.clone(),
            scores: seen
                .iter()
                .map(|(v, r)| (ledgers[*v].0.clone(), r.score))
                .collect(),
            median,
            mad: median.and_then(|m| {
                let deviations: Vec<f64> = finite.iter().map(|x| (x - m).abs()).collect();
                self::median(&deviations)
            }),
            agreed,
        });
        if !agreed {
            disputes.push((key, disputed_samples(&views, tolerance)));
        }
    }
    for a in 0..ledgers.len() {
        for b in a + 1..ledgers.len() {
            let mut row = AgreementRow {
                a: ledgers[a].0.clone(),
                b: ledgers[b].0.clone(),
                shared: 0,
                agreed: 0,
            };
            for seen in models.values() {
                let ra = seen.iter().find(|(v, _)| *v == a);
                let rb = seen.iter().find(|(v, _)| *v == b);
                if let (Some((_, ra)), Some((_, rb))) = (ra, rb) {
                    row.shared += 1;
                    if records_agree(&view(&private, a, ra), &view(&private, b, rb), tolerance) {
                        row.agreed += 1;
                    }
                }
            }
            report.agreement.push(row);
        }
    }

    // Disputed samples scored again, up to --replay of them, spread over the
    // disputed models in turn.
    let mut representatives: Vec<&LedgerRecord> = Vec::new();
    let mut rep_dirs: Vec<gauntlet_ledger::LedgerDir> = Vec::new();
    let mut picks: Vec<Pick> = Vec::new();
    let mut queues: Vec<(usize, &ModelKey, std::vec::IntoIter<usize>)> = Vec::new();
    for (key, samples) in &disputes {
        // Re-run from the first validator's record; a position only another
        // validator's (longer) record has cannot be re-run from it and stays
        // with the majority rule below.
        let (v, record) = models[*key][0];
        let runnable: Vec<usize> = samples
            .iter()
            .copied()
            .filter(|&s| s < record.samples.len())
            .collect();
        if runnable.is_empty() {
            continue;
        }
        representatives.push(record);
        rep_dirs.push(super::audit::ledger_dir(&args.ledgers[v]));
        queues.push((representatives.len() - 1, *key, runnable.into_iter()));
    }
    while picks.len() < args.rerun.replay {
        let mut any = false;
        for (r, _, queue) in &mut queues {
            if picks.len() >= args.rerun.replay {
                break;
            }
            if let Some(s) = queue.next() {
                let sample = &representatives[*r].samples[s];
                picks.push(Pick {
                    record: *r,
                    sample: s,
                    task: sample.task.clone(),
                    index: sample.index,
                });
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    picks.sort();
    let lines: Vec<String> = representatives
        .iter()
        .map(|r| format!("model uid {} of round {}", r.model.uid, r.round.sync_block))
        .collect();
    let registry = registry(args.defs.as_deref())?;
    let dirs: Vec<&gauntlet_ledger::LedgerDir> = rep_dirs.iter().collect();
    let reruns = rerun_all(
        &args.rerun,
        &representatives,
        &lines,
        &dirs,
        &picks,
        &registry,
    )
    .await?;
    let mut settled: Vec<&ModelKey> = Vec::new();
    for rerun in &reruns {
        let key = queues
            .iter()
            .find(|(r, _, _)| *r == rerun.pick.record)
            .map(|(_, k, _)| *k);
        let Some(key) = key else { continue };
        let seen = &models[key];
        let picked = representatives
            .get(rerun.pick.record)
            .and_then(|r| r.samples.get(rerun.pick.sample))
            .map(|s| s.item_hash);
        let mut recorded = Vec::new();
        for (v, r) in seen {
            // The same item in this validator's record (by hash: private
            // items may shift positions).
            let sample = r.samples.iter().find(|s| Some(s.item_hash) == picked);
            let score = sample.and_then(|s| s.score);
            recorded.push((ledgers[*v].0.clone(), score));
            let name = format!(
                "round {} competition {} model uid {} ({}): sample {}#{}",
                key.0, key.1, r.model.uid, key.2, rerun.pick.task, rerun.pick.index,
            );
            let wrong = if !agree(score, rerun.replayed, tolerance) {
                Some(format!(
                    "field score: it says {}, re-running it gives {}",
                    show(score),
                    show(rerun.replayed)
                ))
            } else {
                match (
                    sample.and_then(|s| s.output.as_ref()),
                    &rerun.replayed_output,
                ) {
                    (Some(said), Some(truth)) => {
                        outputs_differ(said, truth, tolerance, ("it", "the re-run"))
                            .map(|d| format!("field output: {d}"))
                    }
                    _ => None,
                }
            };
            if let Some(why) = wrong {
                report.flagged.push(Flag {
                    validator: ledgers[*v].0.clone(),
                    reason: format!("{name}: {why}"),
                });
            }
        }
        if !settled.contains(&key) {
            settled.push(key);
        }
        report.replayed.push(ReplayedRow {
            sync_block: key.0,
            competition: key.1,
            uid: seen[0].1.model.uid,
            task: rerun.pick.task.clone(),
            index: rerun.pick.index,
            replayed: rerun.replayed,
            recorded,
        });
    }

    // What no re-run settled: the majority, if there is one.
    for (key, _) in &disputes {
        if settled.contains(key) {
            continue;
        }
        let seen = &models[*key];
        let name = format!(
            "round {} competition {} model uid {} ({})",
            key.0, key.1, seen[0].1.model.uid, key.2
        );
        // Validators with private items scored different item sets: their
        // scores have no majority to compare with.
        if seen
            .iter()
            .any(|(v, r)| !view(&private, *v, r).private.is_empty())
        {
            report.disputed.push(format!(
                "{name}: validators with private items disagree on their shared items \
                 (--replay K settles it)"
            ));
            continue;
        }
        let finite: Vec<f64> = seen.iter().filter_map(|(_, r)| r.score).collect();
        let center = median(&finite);
        let with_center: Vec<bool> = seen
            .iter()
            .map(|(_, r)| agree(r.score, center, tolerance))
            .collect();
        let majority = with_center.iter().filter(|x| **x).count() * 2 > seen.len();
        if !majority {
            report.disputed.push(format!(
                "{name}: {} validators disagree with no majority (--replay K settles it)",
                seen.len()
            ));
            continue;
        }
        for ((v, r), ok) in seen.iter().zip(with_center) {
            if !ok {
                report.flagged.push(Flag {
                    validator: ledgers[*v].0.clone(),
                    reason: format!(
                        "{name}: field score: it says {}, the majority {}",
                        show(r.score),
                        show(center)
                    ),
                });
            }
        }
    }
    Ok(())
}

/// One validator's record of a model, with the items it marks private.
struct Seen<'r> {
    record: &'r LedgerRecord,
    private: HashSet<Digest>,
}

impl Seen<'_> {
    /// The record's samples of public items, in order.
    fn public(&self) -> Vec<(usize, &SampleEntry)> {
        self.record
            .samples
            .iter()
            .enumerate()
            .filter(|(_, s)| !self.private.contains(&s.item_hash))
            .collect()
    }
}

/// Validator `v`'s record `r`, with the items it marks private.
fn view<'r>(private: &PrivateSets, v: usize, r: &'r LedgerRecord) -> Seen<'r> {
    Seen {
        record: r,
        private: private
            .get(&(v, r.round.sync_block, r.competition.id))
            .cloned()
            .unwrap_or_default(),
    }
}

/// Each validator's private item hashes by (validator, round, competition).
type PrivateSets = BTreeMap<(usize, u64, u16), HashSet<Digest>>;

/// Whether two samples of the same item agree: scores within `tolerance`,
/// outputs alike where both kept one.
fn samples_agree(a: &SampleEntry, b: &SampleEntry, tolerance: f64) -> bool {
    let outputs = match (&a.output, &b.output) {
        (Some(x), Some(y)) => outputs_differ(x, y, tolerance, ("a", "b")).is_none(),
        _ => true,
    };
    a.item_hash == b.item_hash && agree(a.score, b.score, tolerance) && outputs
}

/// Whether two validators' records of one model agree: the same verdict, the
/// same public items with the same scores and outputs, and, when neither
/// has private items (the same item set), the same score. Private items are
/// each validator's own and are not compared.
fn records_agree(a: &Seen<'_>, b: &Seen<'_>, tolerance: f64) -> bool {
    let (pa, pb) = (a.public(), b.public());
    a.record.verdict == b.record.verdict
        && pa.len() == pb.len()
        && pa
            .iter()
            .zip(&pb)
            .all(|((_, x), (_, y))| samples_agree(x, y, tolerance))
        && (!(a.private.is_empty() && b.private.is_empty())
            || agree(a.record.score, b.record.score, tolerance))
}

/// The positions (in the first record's samples) of the public items on which
/// the validators' records of one model do not all agree; a public item some
/// record lacks is disputed too.
fn disputed_samples(views: &[Seen<'_>], tolerance: f64) -> Vec<usize> {
    let Some(first) = views.first() else {
        return Vec::new();
    };
    let publics: Vec<Vec<(usize, &SampleEntry)>> = views.iter().map(Seen::public).collect();
    publics[0]
        .iter()
        .enumerate()
        .filter(|(k, (_, a))| {
            publics.iter().any(|p| {
                p.get(*k)
                    .is_none_or(|(_, b)| !samples_agree(a, b, tolerance))
            })
        })
        .map(|(_, (s, _))| *s)
        .filter(|&s| s < first.record.samples.len())
        .collect()
}

/// Each validator's private item hashes by (validator, round, competition),
/// from the items its ledger directory publishes (none where it publishes
/// none, or its items cannot be read: its own audit says why).
fn private_items(paths: &[PathBuf], ledgers: &[(String, Vec<LedgerRecord>)]) -> PrivateSets {
    let mut out = BTreeMap::new();
    for (v, (_, records)) in ledgers.iter().enumerate() {
        let Some(path) = paths.get(v) else { continue };
        let dir = super::audit::ledger_dir(path);
        for r in records {
            let key = (v, r.round.sync_block, r.competition.id);
            if out.contains_key(&key) {
                continue;
            }
            let hashes: HashSet<Digest> = dir
                .read_round_items(r.round.sync_block, r.competition.id)
                .ok()
                .flatten()
                .map(|set| {
                    set.items
                        .iter()
                        .filter(|i| i.private)
                        .map(|i| i.hash())
                        .collect()
                })
                .unwrap_or_default();
            out.insert(key, hashes);
        }
    }
    out
}

/// The median of `xs` (`None` when empty).
fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// A hotkey shortened for tables.
fn short(hotkey: &str) -> String {
    let chars: Vec<char> = hotkey.chars().collect();
    if chars.len() <= 12 {
        return hotkey.to_string();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

fn print_tables(report: &Report) {
    println!("validators");
    for v in &report.validators {
        println!(
            "  {:<14} {:>5} records  audit {}",
            short(&v.hotkey),
            v.records,
            v.audit_error.as_deref().map_or("passed", |_| "FAILED")
        );
    }
    println!("\nmodels (median and MAD of the validators' scores)");
    println!(
        "  {:>8} {:>4} {:>5} {:>10} {:>12} {:>12}  agree",
        "round", "comp", "uid", "validators", "median", "MAD"
    );
    for m in &report.models {
        println!(
            "  {:>8} {:>4} {:>5} {:>10} {:>12} {:>12}  {}",
            m.sync_block,
            m.competition,
            m.uid,
            m.scores.len(),
            m.median.map_or("-".into(), |x| format!("{x:.6}")),
            m.mad.map_or("-".into(), |x| format!("{x:.2e}")),
            if m.agreed { "yes" } else { "NO" }
        );
    }
    println!("\nagreement (models both evaluated, and agreed on)");
    for a in &report.agreement {
        println!(
            "  {:<14} {:<14} {:>4} / {:<4}",
            short(&a.a),
            short(&a.b),
            a.agreed,
            a.shared
        );
    }
    if !report.replayed.is_empty() {
        println!("\nre-run samples");
        for r in &report.replayed {
            let said: Vec<String> = r
                .recorded
                .iter()
                .map(|(v, s)| format!("{} says {}", short(v), show(*s)))
                .collect();
            println!(
                "  round {} uid {} {}#{}: re-run {}; {}",
                r.sync_block,
                r.uid,
                r.task,
                r.index,
                show(r.replayed),
                said.join(", ")
            );
        }
    }
    for f in &report.flagged {
        println!("\nFLAGGED {}: {}", f.validator, f.reason);
    }
    for d in &report.disputed {
        println!("\nDISPUTED {d}");
    }
    if report.ok {
        println!("\nconsensus: every validator agrees");
    }
}
