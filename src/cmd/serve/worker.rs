//! The model's thread: takes the jobs that arrived together (waiting a few
//! milliseconds after the first for others), runs generation jobs with the
//! same settings as one batch of the runtime's batched generation and
//! scoring jobs as one packed scoring call, and answers each job.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use gauntlet_evals::{GenerateOptions, ScoreRequest};
use gauntlet_model::Model;
use tokio::sync::oneshot;

/// Greedy generation settings; jobs with equal settings share a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenSettings {
    /// New tokens at most.
    pub max_new_tokens: usize,
    /// Repetition penalty (1 = off).
    pub repetition_penalty: f32,
    /// Generate past EOS.
    pub ignore_eos: bool,
}

/// Work for the model.
pub enum Job {
    /// Continue a prompt; answers the new token ids.
    Generate {
        /// The prompt's ids.
        prompt: Vec<u32>,
        /// How.
        settings: GenSettings,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Vec<u32>, String>>,
    },
    /// Log-probabilities of tokens `1..n` of a sequence.
    Score {
        /// The sequence's ids (at least two).
        tokens: Vec<u32>,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Vec<f32>, String>>,
    },
}

/// Starts the model's thread; jobs are sent on the returned channel.
pub fn spawn(model: Model, max_batch: usize, wait: Duration) -> Sender<Job> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve(model, rx, max_batch, wait));
    tx
}

fn serve(model: Model, rx: Receiver<Job>, max_batch: usize, wait: Duration) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + wait;
        while jobs.len() < max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(job) => jobs.push(job),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        run_batch(&model, jobs);
    }
}

/// Prompts that generate with the same settings, each with where its
/// answer goes.
type GenGroup = (
    GenSettings,
    Vec<(Vec<u32>, oneshot::Sender<Result<Vec<u32>, String>>)>,
);

/// Answers every job of one batch.
fn run_batch(model: &Model, jobs: Vec<Job>) {
    let mut scores = Vec::new();
    let mut groups: Vec<GenGroup> = Vec::new();
    for job in jobs {
        match job {
            Job::Score { tokens, reply } => scores.push((tokens, reply)),
            Job::Generate {
                prompt,
                settings,
                reply,
            } => match groups.iter_mut().find(|(s, _)| *s == settings) {
                Some((_, g)) => g.push((prompt, reply)),
                None => groups.push((settings, vec![(prompt, reply)])),
            },
        }
    }
    if !scores.is_empty() {
        let requests: Vec<ScoreRequest> = scores
            .iter()
            .map(|(t, _)| ScoreRequest::full(t.clone()))
            .collect();
        tracing::debug!(sequences = requests.len(), "scoring");
        match model.score(&requests) {
            Ok(out) => {
                for ((_, reply), lp) in scores.into_iter().zip(out) {
                    let _ = reply.send(Ok(lp));
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                for (_, reply) in scores {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
    }
    for (settings, group) in groups {
        let prompts: Vec<Vec<u32>> = group.iter().map(|(p, _)| p.clone()).collect();
        let opts = GenerateOptions {
            max_new_tokens: settings.max_new_tokens,
            repetition_penalty: settings.repetition_penalty,
            ignore_eos: settings.ignore_eos,
            ..GenerateOptions::default()
        };
        tracing::debug!(prompts = prompts.len(), "generating");
        match model.generate_tokens(&prompts, &opts) {
            Ok(out) => {
                for ((_, reply), ids) in group.into_iter().zip(out) {
                    let _ = reply.send(Ok(ids));
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                for (_, reply) in group {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
    }
}
