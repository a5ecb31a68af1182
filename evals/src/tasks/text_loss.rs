//! Text loss (REFERENCE §2, FineWeb-style): per document the mean next-token
//! cross-entropy over its first `max_tokens` tokens; raw = mean over
//! documents. Documents are packed without padding, so — unlike the
//! reference, which pads to the sequence length and counts the pad tokens —
//! no pad token is ever scored.
//!
//! The sanity guard [`degenerate_output`] catches models that minimise loss
//! by collapsing: greedy 20-token continuations of two different prefixes
//! that agree in ≥ 10 positions, or that both repeat one token more than 10
//! times, mark the model as degenerate (raw = +inf).

use std::collections::HashMap;

use super::loss::{finish, logprobs, LossOptions, LossResult};
use crate::backend::{generator, Backend, Capability, Prompt, Sampling, ScoreInput, Token};
use crate::error::EvalError;
use crate::eval::{Eval, EvalOptions, EvalScore};

/// The method's name.
const NAME: &str = "text_loss";

/// Tokens of each of the two documents used as the guard's prefixes (the
/// reference's `prompt_length = 100`).
pub const SANITY_PREFIX_TOKENS: usize = 100;
/// Tokens generated per prefix by the guard (the reference asks for exactly
/// 20: `min_new_tokens = max_new_tokens = 20`, so EOS does not stop it).
const SANITY_NEW_TOKENS: usize = 20;
/// Agreeing positions (of 20) at which two continuations count as the same.
const SANITY_MAX_AGREEMENT: usize = 10;
/// A continuation repeating one token more often than this is a loop.
const SANITY_MAX_REPEATS: usize = 10;

/// Text loss as an [`Eval`]: the sanity guard on the first two documents
/// (a degenerate model fails the task), then each document's mean NLL.
#[derive(Debug, Clone, Copy)]
pub struct TextLoss {
    /// Truncation and batching.
    pub options: LossOptions,
    /// Run [`degenerate_output`] first (the reference always does).
    pub sanity_guard: bool,
}

impl Default for TextLoss {
    fn default() -> Self {
        Self {
            options: LossOptions::default(),
            sanity_guard: true,
        }
    }
}

impl Eval for TextLoss {
    type Sample = String;
    const NAME: &'static str = NAME;

    fn configure(opts: &EvalOptions) -> Self {
        TextLoss {
            options: LossOptions {
                max_tokens: opts.max_tokens,
            },
            sanity_guard: true,
        }
    }

    fn needs(&self) -> &'static [Capability] {
        if self.sanity_guard {
            &[Capability::Logprobs, Capability::Generate]
        } else {
            &[Capability::Logprobs]
        }
    }

    fn evaluate(
        &self,
        model: &mut dyn Backend,
        documents: &[String],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        if let (true, [a, b, ..]) = (self.sanity_guard, documents) {
            let v = degenerate_output(model, [a, b])?;
            if v.degenerate {
                return Err(EvalError::Degenerate(format!(
                    "continuations of two documents agree in {} of {SANITY_NEW_TOKENS} positions; \
                     most repeated token counts {:?}",
                    v.agreeing_positions, v.max_repeats
                )));
            }
        }
        Ok(text_loss(model, documents, self.options, progress)?.into_score())
    }
}

/// Scores each document's first `opts.max_tokens` tokens (with the
/// tokenizer's default special tokens, as `tokenizer(text)` in transformers).
/// Documents of fewer than two tokens have nothing to predict and are skipped.
pub fn text_loss(
    model: &mut dyn Backend,
    documents: &[String],
    opts: LossOptions,
    progress: &mut dyn FnMut(usize),
) -> Result<LossResult, EvalError> {
    if documents.is_empty() {
        return Err(EvalError::Empty);
    }
    let inputs: Vec<ScoreInput> = documents
        .iter()
        .map(|d| ScoreInput {
            context: None,
            text: d.clone(),
            max_tokens: opts.max_tokens,
        })
        .collect();
    finish(logprobs(model, NAME, &inputs, progress)?)
}

/// The guard's verdict, with what it saw (for logs and state).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SanityVerdict {
    /// Whether the model's output is degenerate (its text loss becomes +inf).
    pub degenerate: bool,
    /// Positions where the two continuations hold the same token.
    pub agreeing_positions: usize,
    /// The highest count of a single token in each continuation.
    pub max_repeats: [usize; 2],
}

/// Runs the sanity guard on the first [`SANITY_PREFIX_TOKENS`] tokens of two
/// documents: greedy, exactly 20 new tokens each (where the backend can
/// ignore end-of-sequence).
pub fn degenerate_output(
    model: &mut dyn Backend,
    documents: [&str; 2],
) -> Result<SanityVerdict, EvalError> {
    if documents.iter().any(|d| d.is_empty()) {
        return Err(EvalError::Empty);
    }
    let prompts: Vec<Prompt> = documents
        .iter()
        .map(|d| Prompt::Text {
            text: d.to_string(),
            max_tokens: Some(SANITY_PREFIX_TOKENS),
        })
        .collect();
    let sampling = Sampling {
        max_new_tokens: SANITY_NEW_TOKENS,
        ignore_eos: true,
        batch_hint: 2,
        ..Sampling::default()
    };
    let outs = generator(model, NAME)?
        .generate(&prompts, &sampling, &mut |_| {})
        .map_err(EvalError::Model)?;
    let (a, b) = match outs.as_slice() {
        [a, b] => (a, b),
        _ => return Err(EvalError::Empty),
    };
    Ok(judge(&a.tokens, &b.tokens))
}

/// The guard's rule on two continuations.
fn judge(a: &[Token], b: &[Token]) -> SanityVerdict {
    let agreeing_positions = a.iter().zip(b).filter(|(x, y)| x == y).count();
    let max_repeats = [max_count(a), max_count(b)];
    let degenerate = agreeing_positions >= SANITY_MAX_AGREEMENT
        || max_repeats.iter().all(|&m| m > SANITY_MAX_REPEATS);
    SanityVerdict {
        degenerate,
        agreeing_positions,
        max_repeats,
    }
}

fn max_count(tokens: &[Token]) -> usize {
    let mut counts: HashMap<&Token, usize> = HashMap::new();
    for t in tokens {
        *counts.entry(t).or_default() += 1;
    }
    counts.into_values().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(a: &[u32], b: &[u32]) -> SanityVerdict {
        let t = |v: &[u32]| v.iter().map(|&i| Token::Id(i)).collect::<Vec<_>>();
        super::judge(&t(a), &t(b))
    }

    #[test]
    fn distinct_varied_outputs_pass() {
        let a: Vec<u32> = (0..20).collect();
        let b: Vec<u32> = (100..120).collect();
        let v = judge(&a, &b);
        assert!(!v.degenerate);
        assert_eq!(v.agreeing_positions, 0);
        assert_eq!(v.max_repeats, [1, 1]);
    }

    #[test]
    fn ten_agreeing_positions_fail() {
        let a: Vec<u32> = (0..20).collect();
        let mut b: Vec<u32> = (100..120).collect();
        b[..9].copy_from_slice(&a[..9]);
        assert!(!judge(&a, &b).degenerate, "9 agreeing positions pass");
        b[9] = a[9];
        let v = judge(&a, &b);
        assert_eq!(v.agreeing_positions, 10);
        assert!(v.degenerate);
    }

    #[test]
    fn loops_fail_only_when_both_loop() {
        let looped: Vec<u32> = [vec![7; 11], (200..209).collect()].concat();
        let other_loop: Vec<u32> = [(300..309).collect(), vec![8; 11]].concat();
        let varied: Vec<u32> = (100..120).collect();
        assert!(!judge(&looped, &varied).degenerate);
        let v = judge(&looped, &other_loop);
        assert_eq!(v.max_repeats, [11, 11]);
        assert!(v.degenerate);
        let ten: Vec<u32> = [vec![7; 10], (200..210).collect()].concat();
        assert!(
            !judge(&ten, &other_loop).degenerate,
            "exactly 10 repeats pass"
        );
    }

    #[test]
    fn short_outputs_are_judged_on_what_exists() {
        assert!(!judge(&[], &[]).degenerate);
        assert!(!judge(&[1, 2], &[1, 2]).degenerate);
    }
}
