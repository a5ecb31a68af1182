//! Running the synthetic IFEval (REFERENCE §2): every prompt of every pair is
//! one user turn, generated greedily (≤ 200 new tokens, repetition penalty
//! 1.2) — all prompts in length-sorted batches rather than one at a time —
//! and the responses are scored by [`crate::ifeval::score_pairs`].

use crate::backend::{generator, Backend, Capability, Prompt, Sampling};
use crate::error::EvalError;
use crate::eval::{Eval, EvalOptions, EvalScore, SampleOutput};
use crate::ifeval::{
    score_pairs, IfEvalSample, IfEvalScore, PairOutcome, MAX_NEW_TOKENS, REPETITION_PENALTY,
};

/// The method's name.
const NAME: &str = "if_eval";

/// Prompts generated together.
const BATCH: usize = 8;

/// The outcome of an IFEval run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IfEvalRun {
    /// The raw score (a loss in `[0, 1]`).
    pub raw_score: f64,
    /// Pairs whose answers were near-identical.
    pub duplicate_pairs: usize,
    /// Whether the duplicate guard set the raw score to 1.
    pub duplicate_guard: bool,
    /// Each pair's two responses, in input order.
    pub responses: Vec<[String; 2]>,
    /// Each response's score `1 - r²`, in input order.
    pub per_sample: Vec<[f64; 2]>,
}

/// The synthetic IFEval as an [`Eval`]: two responses per pair, so two
/// units of work per pair, and one per-sample score per pair: its two
/// responses' scores (`1 - r²`) weighted by their rule counts, as the raw
/// score weighs them (the raw score also applies the duplicate guard, which
/// per-sample scores do not).
#[derive(Debug, Clone, Copy, Default)]
pub struct IfEval;

impl Eval for IfEval {
    type Sample = IfEvalSample;
    const NAME: &'static str = NAME;

    fn configure(_: &EvalOptions) -> Self {
        IfEval
    }

    fn needs(&self) -> &'static [Capability] {
        &[Capability::Generate]
    }

    fn work(&self, samples: &[IfEvalSample]) -> usize {
        samples.len() * 2
    }

    fn evaluate(
        &self,
        model: &mut dyn Backend,
        samples: &[IfEvalSample],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let r = if_eval(model, samples, progress)?;
        Ok(EvalScore {
            raw_score: r.raw_score,
            samples: samples.len(),
            per_sample: samples
                .iter()
                .zip(&r.per_sample)
                .map(|(s, scores)| Some(pair_score(s, *scores)))
                .collect(),
            report: serde_json::Value::Null,
            outputs: r
                .responses
                .iter()
                .map(|pair| Some(SampleOutput::Texts(pair.to_vec())))
                .collect(),
        }
        .with_report(serde_json::json!({
            "duplicate_pairs": r.duplicate_pairs,
            "duplicate_guard": r.duplicate_guard,
            "responses": r.responses,
        })))
    }
}

/// A pair's score: its responses' scores weighted by their questions' rule
/// counts (their plain mean when neither question has a rule).
fn pair_score(sample: &IfEvalSample, scores: [f64; 2]) -> f64 {
    let n = [
        sample.rules.first.len() as f64,
        sample.rules.second.len() as f64,
    ];
    if n[0] + n[1] == 0.0 {
        return (scores[0] + scores[1]) / 2.0;
    }
    (scores[0] * n[0] + scores[1] * n[1]) / (n[0] + n[1])
}

/// Generates both answers of every pair and scores them.
pub fn if_eval(
    model: &mut dyn Backend,
    samples: &[IfEvalSample],
    progress: &mut dyn FnMut(usize),
) -> Result<IfEvalRun, EvalError> {
    if samples.is_empty() {
        return Err(EvalError::Empty);
    }
    let prompts: Vec<Prompt> = samples
        .iter()
        .flat_map(|s| s.prompts.iter())
        .map(|p| Prompt::user(p.clone()))
        .collect();
    let sampling = Sampling {
        max_new_tokens: MAX_NEW_TOKENS,
        repetition_penalty: REPETITION_PENALTY,
        batch_hint: BATCH,
        ..Sampling::default()
    };
    let outs = generator(model, NAME)?
        .generate(&prompts, &sampling, progress)
        .map_err(EvalError::Model)?;
    if outs.len() != prompts.len() {
        return Err(EvalError::Model(
            format!("{} responses for {} prompts", outs.len(), prompts.len()).into(),
        ));
    }
    let texts: Vec<String> = outs.into_iter().map(|g| g.text).collect();
    let responses: Vec<[String; 2]> = texts
        .chunks(2)
        .map(|c| [c[0].clone(), c.get(1).cloned().unwrap_or_default()])
        .collect();
    let outcomes: Vec<PairOutcome<'_>> = samples
        .iter()
        .zip(&responses)
        .map(|(s, r)| PairOutcome {
            rules: &s.rules,
            responses: Some([r[0].as_str(), r[1].as_str()]),
        })
        .collect();
    let IfEvalScore {
        raw,
        duplicate_pairs,
        duplicate_guard,
    } = score_pairs(&outcomes);
    let per_sample = samples
        .iter()
        .zip(&responses)
        .map(|(s, r)| {
            [
                crate::ifeval::response_score(&s.rules.first, &r[0]),
                crate::ifeval::response_score(&s.rules.second, &r[1]),
            ]
        })
        .collect();
    Ok(IfEvalRun {
        raw_score: raw,
        duplicate_pairs,
        duplicate_guard,
        responses,
        per_sample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ifeval::{PairRules, Rule};

    fn pair(first: usize, second: usize) -> IfEvalSample {
        IfEvalSample {
            prompts: ["a".into(), "b".into()],
            rules: PairRules {
                first: vec![Rule::AllLowerCase; first],
                second: vec![Rule::AllLowerCase; second],
            },
        }
    }

    #[test]
    fn a_pair_scores_its_responses_weighted_by_their_rule_counts() {
        // One rule against three: the second response counts three times.
        assert!((pair_score(&pair(1, 3), [0.0, 1.0]) - 0.75).abs() < 1e-12);
        assert!((pair_score(&pair(2, 2), [0.5, 1.0]) - 0.75).abs() < 1e-12);
        // No rule on either side: the plain mean.
        assert!((pair_score(&pair(0, 0), [0.0, 1.0]) - 0.5).abs() < 1e-12);
        // A side with no rule does not count.
        assert!((pair_score(&pair(0, 2), [0.0, 1.0]) - 1.0).abs() < 1e-12);
    }
}
