//! The evaluating side of the sandbox: [`evaluate_one`] checks, loads and
//! evaluates one model and says how it went; [`child_main`] runs it as the
//! child process (`gauntlet validator evaluate-one --job FILE`), printing
//! [`ChildLine`]s on stdout.
//!
//! Everything that reads a miner's files happens here: the constraint check
//! (file walk, `config.json`, safetensors headers, weight norms), a probe of
//! the tokenizer and the chat template, the load, and the suite.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use gauntlet_competitions::Registry;
use gauntlet_constants::{Block, CompetitionId};
use gauntlet_datasets::{DataCache, Seed};
use gauntlet_evals::ChatMessage;
use gauntlet_model::tokenizer::TextTokenizer;
use gauntlet_model::{constraints, DeviceKind, Model, ModelError, Placement, Precision};

use super::guard::Guarded;
use super::job::{ChildLine, ChildOutcome, Job, SampleScores};
use crate::checks::model_constraints;
use crate::error_chain;
use crate::fault::{is_machine_io, Fault};
use crate::suite::{prepare, run_prepared, PreparedTask, SuiteOptions, Unprepared};
use crate::verdict::Verdict;

/// Largest job file the child reads (the definitions are a few kilobytes).
const MAX_JOB_BYTES: u64 = 16 << 20;

/// Text the tokenizer must encode before the model is loaded: prose,
/// digits, accents, code and whitespace, so that a pre-tokenizer or
/// normalizer that fails on ordinary input is caught by the checks.
const PROBE_TEXT: &str = "The quick brown fox jumps over the lazy dog, 1234 times. \
Ça coûte 5 €? Ünïcödé — “quotes” and 'apostrophes'.\n\tdef snake_case(x): return x**2  # code\n";

/// Checks, loads and evaluates the model of `job`. `checked` is called once
/// every check has passed (the model is then within the competition's
/// limits). Never panics on a miner's input: every outcome is a value.
pub fn evaluate_one(job: &Job, checked: &mut dyn FnMut()) -> ChildOutcome {
    match run(job, checked) {
        Ok(outcome) => outcome,
        Err(Stop::Verdict(verdict)) => ChildOutcome::Rejected { verdict },
        Err(Stop::Fault(fault)) => ChildOutcome::Fault { fault },
    }
}

/// Why the evaluation stopped early.
enum Stop {
    Verdict(Verdict),
    Fault(Fault),
}

fn disqualified(reason: String) -> Stop {
    Stop::Verdict(Verdict::Disqualified { reason })
}

/// A model error as a verdict, or as the validator's fault when the device
/// or the machine's disk failed.
fn judged(e: ModelError, context: &str) -> Stop {
    if e.is_device_fault() {
        return Stop::Fault(Fault::Device(error_chain(&e)));
    }
    if let ModelError::Io { source, .. } = &e {
        if source.kind() == std::io::ErrorKind::OutOfMemory {
            return Stop::Fault(Fault::OutOfMemory(error_chain(&e)));
        }
        if is_machine_io(source.kind()) {
            return Stop::Fault(Fault::Disk(error_chain(&e)));
        }
    }
    disqualified(format!("{context}{}", error_chain(&e)))
}

fn run(job: &Job, checked: &mut dyn FnMut()) -> Result<ChildOutcome, Stop> {
    let sandbox = |why: String| Stop::Fault(Fault::Sandbox(why));
    let registry = Registry::from_definitions(&job.definitions)
        .map_err(|e| sandbox(format!("competition definitions: {e}")))?;
    let active = registry
        .competition_at(CompetitionId(job.competition), Block(job.block))
        .ok_or_else(|| {
            sandbox(format!(
                "competition {} is not active at block {}",
                job.competition, job.block
            ))
        })?;
    let seed = Seed::from_hex(&job.seed).ok_or_else(|| sandbox("malformed seed".into()))?;
    let placement = placement(job).map_err(sandbox)?;
    let c = &active.competition.constraints;
    let dir = job.model_dir.as_path();

    let report = constraints::check(dir, &model_constraints(c)).map_err(|e| judged(e, ""))?;
    if !report.passed() {
        let reasons: Vec<String> = report.violations.iter().map(|v| v.reason.clone()).collect();
        return Err(disqualified(reasons.join("; ")));
    }
    probe_tokenizer(
        job.tokenizer_dir.as_deref().unwrap_or(dir),
        job.tokenizer_dir.is_some(),
    )?;
    checked();

    let mut model = Model::load_with_tokenizer(dir, job.tokenizer_dir.as_deref(), placement)
        .map_err(|e| judged(e, "does not load: "))?;
    tracing::info!(model = %dir.display(), "evaluating");
    let data = DataCache::new(&job.data_root);
    let mut inputs = prepare(&active, &data, &seed, job.sample_cap);
    crate::private::append(&mut inputs, &job.private).map_err(sandbox)?;
    if let Some(only) = &job.only {
        inputs = restrict(inputs, only).map_err(sandbox)?;
    }
    if let Some((name, why)) = inputs.iter().find_map(|p| match &p.input {
        Err(Unprepared::Dropped(why)) => Some((&p.name, why)),
        _ => None,
    }) {
        return Err(Stop::Fault(Fault::Dataset(format!("{name}: {why}"))));
    }
    let opts = SuiteOptions {
        sample_cap: job.sample_cap,
        keep_details: true,
        early_stop: job.early_stop.clone(),
        ..SuiteOptions::default()
    };
    let mut guarded = Guarded::new(&mut model, c.sequence_length as usize);
    let result = run_prepared(&mut guarded, &active, &inputs, &opts, &mut |_| {});
    if let Some(fault) = guarded.device_fault.take() {
        return Err(Stop::Fault(Fault::Device(fault)));
    }
    Ok(ChildOutcome::Evaluated {
        score: result.score.is_finite().then_some(result.score),
        tasks: serde_json::to_value(&result.tasks)
            .map_err(|e| sandbox(format!("task outcomes: {e}")))?,
        details: result.details.iter().map(SampleScores::from).collect(),
        overlong_prompts: guarded.overlong,
    })
}

/// The tasks of `only`, each with only the samples it names, in its order.
/// A task or index the draw does not have is the caller's mistake.
fn restrict(
    inputs: Vec<PreparedTask>,
    only: &BTreeMap<String, Vec<u64>>,
) -> Result<Vec<PreparedTask>, String> {
    if let Some(missing) = only.keys().find(|t| !inputs.iter().any(|p| &p.name == *t)) {
        return Err(format!("the competition has no task {missing}"));
    }
    let mut kept = Vec::new();
    for mut p in inputs {
        let Some(indices) = only.get(&p.name) else {
            continue;
        };
        let samples = p
            .input
            .as_ref()
            .map_err(|why| format!("task {} has no samples: {why:?}", p.name))?;
        let indices: Vec<usize> = indices
            .iter()
            .map(|&i| usize::try_from(i).unwrap_or(usize::MAX))
            .collect();
        let selected = samples.select(&indices).ok_or_else(|| {
            format!(
                "task {} draws {} samples; asked for {indices:?}",
                p.name,
                samples.len()
            )
        })?;
        p.input = Ok(selected);
        kept.push(p);
    }
    Ok(kept)
}

/// The device and precision of the job.
fn placement(job: &Job) -> Result<Placement, String> {
    let device = match job.device.as_str() {
        "cpu" => DeviceKind::Cpu,
        "cuda" => DeviceKind::Cuda,
        other => return Err(format!("unknown device {other:?}")),
    };
    let precision = match &job.precision {
        None => None,
        Some(p) => Some(Precision::parse(p).ok_or_else(|| format!("unknown precision {p:?}"))?),
    };
    Ok(Placement::new(device, precision))
}

/// Loads the tokenizer (the model's, or the competition's fixed one) and
/// makes it encode ordinary text and, through the chat template, a one-turn
/// conversation, within [`PROBE_SECONDS`]: a tokenizer that cannot (or only
/// slowly — a normalizer or pre-tokenizer built to stall), or a template that
/// exceeds its fuel or output limit, disqualifies the model before any weight
/// is loaded. A fixed tokenizer failing is the validator's problem.
fn probe_tokenizer(dir: &Path, fixed: bool) -> Result<(), Stop> {
    let fault_or_verdict = move |e: ModelError| {
        if fixed {
            Stop::Fault(Fault::Tokenizer(error_chain(&e)))
        } else {
            judged(e, "tokenizer: ")
        }
    };
    let tokenizer = TextTokenizer::load(dir, &[]).map_err(fault_or_verdict)?;
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread, so that a stalling tokenizer can be abandoned: the child
    // process exits soon after, taking it along.
    std::thread::spawn(move || {
        let _ = tx.send(probe(&tokenizer));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(PROBE_SECONDS)) {
        Ok(result) => result.map_err(fault_or_verdict),
        Err(_) if fixed => Err(Stop::Fault(Fault::Tokenizer(format!(
            "the fixed tokenizer takes more than {PROBE_SECONDS} s to encode a sentence"
        )))),
        Err(_) => Err(disqualified(format!(
            "tokenizer: encoding a {}-byte sentence takes more than {PROBE_SECONDS} s",
            PROBE_TEXT.len()
        ))),
    }
}

/// Seconds the tokenizer probe may take (a real tokenizer needs well under
/// a millisecond).
const PROBE_SECONDS: u64 = 10;

/// Encodes the probe text, plain and through the chat template.
fn probe(tokenizer: &TextTokenizer) -> Result<(), ModelError> {
    tokenizer.encode(PROBE_TEXT, true)?;
    if let Some(template) = &tokenizer.chat_template {
        match template.render(&[ChatMessage::user(PROBE_TEXT)], true) {
            Ok(text) => {
                tokenizer.encode(&text, false)?;
            }
            Err(e @ ModelError::TemplateLimit(_)) => return Err(e),
            // Other template errors (a `raise_exception` on some roles) are
            // left to the tasks that need the template, as before.
            Err(e) => tracing::warn!(error = %e, "the chat template refuses the probe"),
        }
    }
    Ok(())
}

/// The child process: reads the job at `job_path`, evaluates, prints
/// [`ChildLine`]s on stdout. Returns the exit code: 0 when a `done` line
/// was printed.
pub fn child_main(job_path: &Path) -> i32 {
    let job: Job = match gauntlet_model::limits::read_capped(job_path, MAX_JOB_BYTES, "the job")
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(job) => job,
        Err(e) => {
            let outcome = ChildOutcome::Fault {
                fault: Fault::Sandbox(format!("cannot read the job {}: {e}", job_path.display())),
            };
            return print_line(&ChildLine::Done { outcome });
        }
    };
    if let Some(marker) = &job.oom_marker {
        super::oom::arm(marker);
    }
    let outcome = evaluate_one(&job, &mut || {
        print_line(&ChildLine::Checked);
    });
    print_line(&ChildLine::Done { outcome })
}

/// Prints one line of JSON on stdout and flushes it; 0 on success.
fn print_line(line: &ChildLine) -> i32 {
    let Ok(text) = serde_json::to_string(line) else {
        return 3;
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|_| out.flush()) {
        Ok(()) => 0,
        Err(_) => 3,
    }
}
