//! Stage 4: check, load and evaluate every fetched model in its sandbox,
//! saving each evaluation as soon as it finishes.
//!
//! Before a model's sandbox starts, an "evaluating" mark is committed to the
//! state; the evaluation's save removes it in the same transaction. A mark
//! left by a validator that died during the evaluation counts one start:
//! after [`MAX_STARTS`] starts without a finish the model is judged
//! `crashed` instead of taking the validator down again.
//!
//! With several GPUs, one sandbox per device runs at a time; this thread
//! owns the state, marks each model before handing it to a device and saves
//! each result as it comes back.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use gauntlet_competitions::{ActiveCompetition, Registry};
use gauntlet_constants::Block;
use gauntlet_datasets::Seed;
use gauntlet_hub::LocalModel;

use super::fetch::Fetched;
use super::select::Candidate;
use super::{Stop, ValidatorConfig};
use crate::fault::Fault;
use crate::sandbox::{ChildOutcome, Isolation, Job};
use crate::state::{Evaluation, State};
use crate::suite::early_stop::{Benchmark, BenchmarkScores};
use crate::suite::TaskDetail;
use crate::verdict::Verdict;

/// Starts of one model's evaluation that may end with the validator dying
/// before the model is judged `crashed`: the first restart is given the
/// benefit of the doubt (an operator restarting), the second is not.
pub const MAX_STARTS: u32 = 2;

/// What every job of a competition's round shares.
pub(crate) struct JobTemplate<'a> {
    pub hotkey: &'a gauntlet_chain::Hotkey,
    pub ledger: Option<&'a crate::ledger::RecordContext>,
    pub registry: &'a Registry,
    pub competition: &'a ActiveCompetition<'a>,
    pub config: &'a ValidatorConfig,
    pub seed: &'a Seed,
    pub block: Block,
    pub sync: Block,
    pub tokenizer: Option<&'a Path>,
    /// The metagraph the round read (the sequential test's benchmark is
    /// the candidate the chain rewards most).
    pub metagraph: &'a gauntlet_chain::Metagraph,
}

impl JobTemplate<'_> {
    fn job(&self, model: &LocalModel) -> Job {
        let placement = self.config.placement;
        Job {
            model_dir: model.dir.clone(),
            tokenizer_dir: self.tokenizer.map(Path::to_path_buf),
            definitions: self.registry.definitions().clone(),
            competition: self.competition.competition.id.0,
            block: self.block.0,
            seed: self.seed.hex(),
            sample_cap: self.config.sample_cap,
            data_root: self.config.data.path(""),
            device: placement.device.name().into(),
            precision: placement.precision.map(|p| p.name().to_string()),
            oom_marker: None,
            only: None,
            private: self
                .ledger
                .map(|l| crate::private::of_items(&l.items.items))
                .unwrap_or_default(),
            early_stop: None,
        }
    }
}

/// One model to run, with its place in the output.
struct Pending {
    slot: usize,
    repo_hash: Option<String>,
    candidate: Candidate,
    job: Job,
}

/// Evaluates every fetched model (or reads back its saved evaluation). A
/// fault of the validator's own stops the competition once the sandboxes
/// already running have finished (their results are saved).
pub(crate) fn evaluate_all(
    state: &mut State,
    fetched: Vec<Fetched>,
    t: &JobTemplate<'_>,
) -> Result<Vec<Evaluation>, Stop> {
    let id = t.competition.competition.id;
    let mut out: Vec<Option<Evaluation>> = Vec::with_capacity(fetched.len());
    let mut queue = VecDeque::new();
    // Models that were (or will be) run: the sequential test's benchmark is
    // one of them.
    let mut runnable: Vec<(usize, Candidate)> = Vec::new();
    for f in fetched {
        let c = f.candidate;
        let slot = out.len();
        out.push(None);
        match f.outcome {
            None => {
                if let Some(saved) = state.evaluation(t.sync, id, &c.key)? {
                    tracing::info!(uid = c.uid.0, "evaluation already saved; not redone");
                    if saved.verdict == Verdict::Evaluated {
                        runnable.push((slot, c.clone()));
                    }
                    out[slot] = Some(saved);
                }
            }
            Some(Err(verdict)) => out[slot] = Some(save(state, t, &c, None, verdict, None, None)?),
            Some(Ok(local)) => {
                let starts = state.starts(id, &c.key)?;
                if starts >= MAX_STARTS {
                    let reason = format!(
                        "the validator stopped {starts} times while evaluating this model \
                         (killed, or brought down by it)"
                    );
                    tracing::warn!(uid = c.uid.0, %reason, "model judged crashed");
                    out[slot] = Some(save(
                        state,
                        t,
                        &c,
                        None,
                        Verdict::Crashed { reason },
                        None,
                        None,
                    )?);
                } else {
                    runnable.push((slot, c.clone()));
                    queue.push_back(Pending {
                        slot,
                        repo_hash: Some(local.repo_hash.clone()),
                        job: t.job(&local),
                        candidate: c,
                    });
                }
            }
        }
    }
    if let Some(level) = t.competition.competition.constraints.early_stop {
        if let Some(b) = choose_benchmark(state, t.sync, id, &runnable, t.metagraph)? {
            // The benchmark runs first, alone, in full.
            if let Some(at) = queue.iter().position(|p| p.slot == b) {
                let first: VecDeque<Pending> = queue.remove(at).into_iter().collect();
                if let Some(fault) = run_queue(state, t, first, &mut out)? {
                    return Err(Stop::Wait(fault));
                }
            }
            if let Some(bench) = out[b].as_ref().filter(|e| e.score.is_finite()) {
                let samples = super::intervals::per_task(state, t.sync, t.competition, bench)?;
                for p in &mut queue {
                    p.job.early_stop = Some(benchmark_for(t, level, bench, &samples, &p.candidate));
                }
            }
        }
    }
    let fault = run_queue(state, t, queue, &mut out)?;
    if let Some(fault) = fault {
        return Err(Stop::Wait(fault));
    }
    Ok(out.into_iter().flatten().collect())
}

/// The slot of the round's benchmark: the one recorded for the round (a
/// restart; `None` if it is no longer among the models run), else the one
/// [`benchmark`] picks, recorded before it runs so that every model of the
/// round is tested against it, however the chain's incentives move before
/// the round ends.
fn choose_benchmark(
    state: &State,
    sync: Block,
    competition: gauntlet_constants::CompetitionId,
    runnable: &[(usize, Candidate)],
    metagraph: &gauntlet_chain::Metagraph,
) -> Result<Option<usize>, Stop> {
    if let Some(key) = state.round_benchmark(sync, competition)? {
        let slot = runnable.iter().find(|(_, c)| c.key == key).map(|(s, _)| *s);
        if slot.is_none() {
            tracing::warn!(
                hotkey = %key.hotkey,
                "the round's benchmark is no longer among its models; the rest run in full"
            );
        }
        return Ok(slot);
    }
    let Some((slot, c)) = benchmark(runnable, metagraph) else {
        return Ok(None);
    };
    state.record_round_benchmark(sync, competition, &c.key)?;
    Ok(Some(*slot))
}

/// The sequential test's benchmark among the models run: the highest chain
/// incentive (of the hotkey still at its uid), then the earliest commit,
/// then the lowest uid. The same on every validator that reads the same
/// block and candidates.
fn benchmark<'c>(
    runnable: &'c [(usize, Candidate)],
    metagraph: &gauntlet_chain::Metagraph,
) -> Option<&'c (usize, Candidate)> {
    let incentive = |c: &Candidate| {
        metagraph
            .by_uid(c.uid)
            .filter(|n| n.hotkey == c.key.hotkey)
            .map_or(0.0, |n| n.incentive)
    };
    runnable.iter().min_by(|(_, a), (_, b)| {
        incentive(b)
            .total_cmp(&incentive(a))
            .then(a.commit_block.cmp(&b.commit_block))
            .then(a.uid.cmp(&b.uid))
    })
}

/// What `candidate`'s evaluation needs of the benchmark's: its per-sample
/// and normalised task scores, the margin the candidate could claim (the
/// epsilon of an earlier commit, in score units) and the pair's seed.
fn benchmark_for(
    t: &JobTemplate<'_>,
    level: f64,
    bench: &Evaluation,
    samples: &super::intervals::PerTask,
    candidate: &Candidate,
) -> Benchmark {
    let normalized = bench
        .tasks
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .filter_map(|o| {
                    let name = o.get("name")?.as_str()?.to_string();
                    Some((name, o.get("normalized")?.as_f64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    let scores = BenchmarkScores {
        uid: bench.uid.0,
        commit_block: bench.commit_block,
        score: bench.score,
        normalized,
        samples: samples.clone(),
    };
    Benchmark::against(
        t.competition,
        (t.block, t.seed),
        level,
        &scores,
        (candidate.uid.0, candidate.commit_block),
    )
}

/// Runs the queued jobs, one per device at a time; returns the first fault.
fn run_queue(
    state: &mut State,
    t: &JobTemplate<'_>,
    mut queue: VecDeque<Pending>,
    out: &mut [Option<Evaluation>],
) -> Result<Option<Fault>, Stop> {
    if queue.is_empty() {
        return Ok(None);
    }
    let id = t.competition.competition.id;
    let isolation = &t.config.isolation;
    let deadline = t.config.eval_deadline(t.competition);
    let gpus = &t.config.gpus;
    let workers = isolation.parallelism(gpus).min(queue.len());
    let mut fault = None;
    std::thread::scope(|scope| -> Result<(), Stop> {
        let (done_tx, done_rx) = mpsc::channel::<(usize, Pending, ChildOutcome)>();
        let mut inboxes = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = mpsc::channel::<Pending>();
            inboxes.push(tx);
            let done = done_tx.clone();
            let gpu = gpus.get(w).copied();
            scope.spawn(move || {
                for p in rx {
                    let outcome = run_one(isolation, &p.job, deadline, gpu);
                    if done.send((w, p, outcome)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut running = 0;
        for inbox in &inboxes {
            if let Some(p) = queue.pop_front() {
                start(state, t, inbox, p)?;
                running += 1;
            }
        }
        while running > 0 {
            let Ok((w, p, outcome)) = done_rx.recv() else {
                break;
            };
            running -= 1;
            match outcome {
                ChildOutcome::Fault { fault: f } => {
                    tracing::error!(uid = p.candidate.uid.0, fault = %f, "validator fault while evaluating");
                    state.clear_mark(id, &p.candidate.key)?;
                    fault.get_or_insert(f);
                }
                ChildOutcome::Rejected { verdict } => {
                    tracing::warn!(uid = p.candidate.uid.0, verdict = verdict.label(), reason = ?verdict.reason(), "model rejected");
                    out[p.slot] = Some(save(
                        state,
                        t,
                        &p.candidate,
                        p.repo_hash.clone(),
                        verdict,
                        None,
                        None,
                    )?);
                }
                ChildOutcome::Evaluated {
                    score,
                    tasks,
                    details,
                    overlong_prompts,
                } => {
                    let score = score.unwrap_or(f64::INFINITY);
                    tracing::info!(
                        uid = p.candidate.uid.0,
                        score,
                        overlong_prompts,
                        "evaluated"
                    );
                    let details: Vec<TaskDetail> = details.into_iter().map(Into::into).collect();
                    out[p.slot] = Some(save(
                        state,
                        t,
                        &p.candidate,
                        p.repo_hash.clone(),
                        Verdict::Evaluated,
                        Some((score, tasks, details)),
                        p.job.early_stop.as_ref().map(|b| b.uid),
                    )?);
                }
            }
            if fault.is_none() {
                if let Some(next) = queue.pop_front() {
                    start(state, t, &inboxes[w], next)?;
                    running += 1;
                }
            }
        }
        Ok(())
    })?;
    Ok(fault)
}

/// Marks `p` as started (committed first), then hands it to a device.
fn start(
    state: &State,
    t: &JobTemplate<'_>,
    inbox: &mpsc::Sender<Pending>,
    p: Pending,
) -> Result<(), Stop> {
    let id = t.competition.competition.id;
    state.mark_started(id, &p.candidate.key, t.block)?;
    tracing::info!(uid = p.candidate.uid.0, model = %p.job.model_dir.display(), "evaluating in a sandbox");
    inbox
        .send(p)
        .map_err(|_| Stop::Wait(Fault::Sandbox("an evaluation worker stopped".into())))
}

/// Runs one job; a panic of an in-process evaluation becomes a crash.
fn run_one(isolation: &Isolation, job: &Job, deadline: Duration, gpu: Option<u32>) -> ChildOutcome {
    let run = std::panic::AssertUnwindSafe(|| isolation.run(job, deadline, gpu));
    std::panic::catch_unwind(run).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("a panic");
        ChildOutcome::Rejected {
            verdict: Verdict::Crashed {
                reason: format!("the evaluation panicked: {what}"),
            },
        }
    })
}

/// Saves a model's evaluation (a verdict, or a score with its tasks and
/// per-sample scores) with its signed ledger record, and its latest verdict,
/// clearing its mark.
fn save(
    state: &mut State,
    t: &JobTemplate<'_>,
    c: &Candidate,
    repo_hash: Option<String>,
    verdict: Verdict,
    scored: Option<(f64, serde_json::Value, Vec<TaskDetail>)>,
    benchmark: Option<u16>,
) -> Result<Evaluation, Stop> {
    let id = t.competition.competition.id;
    let (score, tasks, details) = scored.unwrap_or((
        f64::INFINITY,
        serde_json::Value::Array(Vec::new()),
        Vec::new(),
    ));
    let eval = Evaluation {
        key: c.key.clone(),
        uid: c.uid,
        commit_block: c.commit_block,
        score,
        verdict,
        tasks,
    };
    match t.ledger {
        Some(ledger) => {
            let signer = crate::ledger::HotkeySigner(t.hotkey);
            let sign = |prev: gauntlet_ledger::Digest| {
                let record =
                    ledger.record(c, repo_hash.clone(), (&eval, &details), benchmark, prev);
                gauntlet_ledger::SignedRecord::sign(record, &signer)
            };
            state.save_evaluation_signed(t.sync, id, &eval, &details, &sign)?;
        }
        None => state.save_evaluation(t.sync, id, &eval, &details)?,
    }
    state.record_model(
        &eval.key,
        eval.uid,
        Some(id),
        eval.commit_block,
        None,
        &eval.verdict,
        t.sync,
    )?;
    Ok(eval)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use gauntlet_chain::{Commitment, Metagraph, Neuron};
    use gauntlet_constants::{CompetitionId, NetUid, Uid};

    use super::*;
    use crate::state::ModelKey;

    fn candidate(uid: u16, commit_block: u64) -> Candidate {
        let text = format!("miner{uid}:model:{}:{}=:1", "a".repeat(40), "A".repeat(43));
        Candidate {
            key: ModelKey {
                hotkey: format!("hotkey{uid}"),
                commitment: text.clone(),
            },
            uid: Uid(uid),
            commit_block: Block(commit_block),
            commitment: Commitment::parse(&text).expect("a valid commitment"),
        }
    }

    fn metagraph(incentives: &[(u16, f64)]) -> Metagraph {
        Metagraph {
            netuid: NetUid(1),
            block: Block(0),
            neurons: incentives
                .iter()
                .map(|&(uid, incentive)| Neuron {
                    uid: Uid(uid),
                    hotkey: format!("hotkey{uid}"),
                    stake: 0,
                    validator_permit: false,
                    last_update: 0,
                    incentive,
                    dividends: 0.0,
                    emission: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn a_resumed_round_keeps_its_benchmark_when_incentives_move() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("v.sqlite")).unwrap();
        let (sync, id) = (Block(100), CompetitionId(1));
        let runnable = vec![(0, candidate(3, 10)), (1, candidate(5, 20))];
        // No incentive yet: the earlier commit.
        let none = metagraph(&[(3, 0.0), (5, 0.0)]);
        assert_eq!(benchmark(&runnable, &none).map(|(s, _)| *s), Some(0));
        // The chain rewards uid 5 most: it is the benchmark, and recorded.
        let five = metagraph(&[(3, 0.2), (5, 0.8)]);
        let chosen = choose_benchmark(&state, sync, id, &runnable, &five);
        assert_eq!(chosen.ok(), Some(Some(1)));
        // Resumed after the incentives moved to uid 3: still uid 5.
        let three = metagraph(&[(3, 0.9), (5, 0.1)]);
        assert_eq!(benchmark(&runnable, &three).map(|(s, _)| *s), Some(0));
        let resumed = choose_benchmark(&state, sync, id, &runnable, &three);
        assert_eq!(resumed.ok(), Some(Some(1)));
        // Its slot is looked up by model, not by position.
        let reordered = vec![(0, candidate(5, 20)), (1, candidate(3, 10))];
        let moved = choose_benchmark(&state, sync, id, &reordered, &three);
        assert_eq!(moved.ok(), Some(Some(0)));
        // Gone from the round's models: no benchmark, rather than another.
        let without = vec![(0, candidate(3, 10))];
        let gone = choose_benchmark(&state, sync, id, &without, &three);
        assert_eq!(gone.ok(), Some(None));
        // The next round chooses afresh.
        let next = choose_benchmark(&state, Block(200), id, &runnable, &three);
        assert_eq!(next.ok(), Some(Some(0)));
    }
}
