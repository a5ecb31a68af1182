//! Stage 4: check constraints and run the competition's suite on every
//! fetched model, saving each evaluation as soon as it finishes.
//!
//! Evaluation is CPU-bound and synchronous; the validator runs one round at a
//! time, so it runs on the calling thread.

use std::path::Path;

use gauntlet_competitions::ActiveCompetition;
use gauntlet_constants::Block;
use gauntlet_datasets::Seed;
use gauntlet_model::{constraints, Model};

use super::fetch::Fetched;
use super::ValidatorConfig;
use crate::checks::model_constraints;
use crate::error_chain;
use crate::state::{Evaluation, State, StateError};
use crate::suite::{prepare, run_prepared, PreparedTask, SuiteOptions};
use crate::verdict::Verdict;

/// Evaluates every fetched model (or reads back its saved evaluation), with
/// the competition's fixed tokenizer when it has one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_all(
    state: &mut State,
    competition: &ActiveCompetition<'_>,
    fetched: Vec<Fetched>,
    config: &ValidatorConfig,
    seed: &Seed,
    sync: Block,
    opts: &SuiteOptions,
    tokenizer: Option<&Path>,
) -> Result<Vec<Evaluation>, StateError> {
    let id = competition.competition.id;
    let mut out = Vec::with_capacity(fetched.len());
    // Drawn once, when the first model needs them: every model of the round
    // is scored on the same inputs.
    let mut prepared: Option<Vec<PreparedTask>> = None;
    for f in fetched {
        let c = &f.candidate;
        let Some(outcome) = f.outcome else {
            if let Some(saved) = state.evaluation(sync, id, &c.key)? {
                tracing::info!(uid = c.uid.0, "evaluation already saved; not redone");
                out.push(saved);
            }
            continue;
        };
        let mut eval = Evaluation {
            key: c.key.clone(),
            uid: c.uid,
            commit_block: c.commit_block,
            score: f64::INFINITY,
            verdict: Verdict::Evaluated,
            tasks: serde_json::Value::Array(Vec::new()),
        };
        let mut details = Vec::new();
        match outcome {
            Err(verdict) => eval.verdict = verdict,
            Ok(local) => {
                let limits = model_constraints(&competition.competition.constraints);
                let report = constraints::check(&local.dir, &limits);
                let problem = match &report {
                    Err(e) => Some(error_chain(e)),
                    Ok(r) if !r.passed() => Some(
                        r.violations
                            .iter()
                            .map(|v| v.reason.clone())
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    Ok(_) => None,
                };
                if let Some(reason) = problem {
                    tracing::warn!(uid = c.uid.0, %reason, "model disqualified");
                    eval.verdict = Verdict::Disqualified { reason };
                } else {
                    match Model::load_with_tokenizer(&local.dir, tokenizer, config.placement) {
                        Err(e) if e.is_device_fault() => {
                            // The validator's own device failed (no driver,
                            // out of memory on load): not the miner's fault.
                            // Nothing is recorded; the model is tried again
                            // next round.
                            tracing::error!(
                                uid = c.uid.0,
                                error = %error_chain(&e),
                                "cannot load the model on this validator's device; skipped this round"
                            );
                            continue;
                        }
                        Err(e) => {
                            eval.verdict = Verdict::Disqualified {
                                reason: format!("does not load: {}", error_chain(&e)),
                            }
                        }
                        Ok(mut model) => {
                            tracing::info!(uid = c.uid.0, model = %local.id.repo_id(), "evaluating");
                            let inputs = prepared.get_or_insert_with(|| {
                                prepare(competition, &config.data, seed, config.sample_cap)
                            });
                            let result =
                                run_prepared(&mut model, competition, inputs, opts, &mut |_| {});
                            tracing::info!(uid = c.uid.0, score = result.score, "evaluated");
                            eval.score = result.score;
                            eval.tasks = serde_json::to_value(&result.tasks)?;
                            details = result.details;
                        }
                    }
                }
            }
        }
        state.save_evaluation(sync, id, &eval, &details)?;
        state.record_model(
            &eval.key,
            eval.uid,
            Some(id),
            eval.commit_block,
            None,
            &eval.verdict,
            sync,
        )?;
        out.push(eval);
    }
    Ok(out)
}
