//! The reference subnet's synthetic instruction-following eval, IFEval V1 and
//! V2 (REFERENCE §2): pairs of questions share a few random rules (word and
//! sentence counts, casing, commas, keywords, bullets, an ending phrase,
//! quotation marks); a model answers both and is scored on the rules it
//! follows, with a guard against answering every question the same way.
//!
//! Rules are data ([`Rule`]): [`Rule::describe`] gives the instruction,
//! [`Rule::check`] judges a response. Sampling takes the caller's random
//! source ([`sample_pair`]); scoring is [`score_pairs`]. The word and
//! sentence definitions are in [`text`].

pub mod kind;
pub mod rule;
pub mod sample;
pub mod score;
pub mod text;

use serde::{Deserialize, Serialize};

pub use kind::RuleKind;
pub use rule::{Rule, ENDS_WITH_PHRASES};
pub use sample::{keyword_candidates, sample_pair_rules, PairRules};
pub use score::{
    is_near_duplicate, response_score, score_pairs, IfEvalScore, PairOutcome, DUPLICATE_SIMILARITY,
    MAX_DUPLICATE_SHARE,
};

/// Tokens generated per answer (the reference's `max_new_tokens`).
pub const MAX_NEW_TOKENS: usize = 200;

/// Repetition penalty of the greedy generation (the reference's value).
pub const REPETITION_PENALTY: f32 = 1.2;

/// Pairs per task in the reference.
pub const REFERENCE_PAIRS: usize = 20;

/// The rule-set version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfEvalVersion {
    /// 1..=4 rules from rules 1–7.
    V1 = 1,
    /// 2..=5 rules from every implemented rule.
    V2 = 2,
}

impl IfEvalVersion {
    /// The rule kinds this version draws from.
    pub fn pool(self) -> &'static [RuleKind] {
        match self {
            IfEvalVersion::V1 => &RuleKind::V1,
            IfEvalVersion::V2 => &RuleKind::ALL,
        }
    }

    /// The inclusive range of the number of rules per pair, `(min, max)`.
    pub fn rule_count(self) -> (usize, usize) {
        match self {
            IfEvalVersion::V1 => (1, 4),
            IfEvalVersion::V2 => (2, 5),
        }
    }
}

/// The user turn for `question` under `rules` (the reference's format):
///
/// ```text
/// Please answer the question below, denoted between quotes. Your response must follow these rules:
/// 1. <rule>
/// 2. <rule>
///
/// "<question>"
/// ```
pub fn prompt(question: &str, rules: &[Rule]) -> String {
    let mut out = String::from(
        "Please answer the question below, denoted between quotes. \
         Your response must follow these rules:\n",
    );
    for (i, rule) in rules.iter().enumerate() {
        out.push_str(&format!("{}. {}\n", i + 1, rule.describe()));
    }
    out.push_str(&format!("\n\"{question}\"\n"));
    out
}

/// One question of a pair: its text and its correct answer (keywords are
/// drawn from the answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    /// The question.
    pub question: &'a str,
    /// Its correct answer.
    pub answer: &'a str,
}

/// One IFEval pair, ready to generate from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IfEvalSample {
    /// The user turns for the first and second question.
    pub prompts: [String; 2],
    /// The rules each answer is judged by.
    pub rules: PairRules,
}

/// Draws a pair's rules (see [`sample`] for the order of draws) and builds
/// its two prompts. `rng(n)` must return a uniform draw in `0..n`.
pub fn sample_pair(
    version: IfEvalVersion,
    questions: [Question<'_>; 2],
    rng: &mut impl FnMut(u64) -> u64,
) -> IfEvalSample {
    let rules = sample_pair_rules(version, [questions[0].answer, questions[1].answer], rng);
    IfEvalSample {
        prompts: [
            prompt(questions[0].question, &rules.first),
            prompt(questions[1].question, &rules.second),
        ],
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_has_the_reference_format() {
        let rules = [Rule::NoCommas, Rule::WordCountAtMost { n: 30 }];
        let expected = "Please answer the question below, denoted between quotes. \
                        Your response must follow these rules:\n\
                        1. Your response must not contain any commas.\n\
                        2. Your response must contain at most 30 words.\n\
                        \n\
                        \"What is 2 + 2?\"\n";
        assert_eq!(prompt("What is 2 + 2?", &rules), expected);
    }

    #[test]
    fn sample_pair_builds_both_prompts_from_shared_rules() {
        let mut state = 0u64;
        let mut rng = |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let questions = [
            Question {
                question: "Which organelle makes ATP?",
                answer: "The mitochondria",
            },
            Question {
                question: "What is the capital of France?",
                answer: "Paris, France",
            },
        ];
        for _ in 0..200 {
            let sample = sample_pair(IfEvalVersion::V2, questions, &mut rng);
            assert_eq!(
                sample.prompts[0],
                prompt(questions[0].question, &sample.rules.first)
            );
            assert_eq!(
                sample.prompts[1],
                prompt(questions[1].question, &sample.rules.second)
            );
            let (min, max) = IfEvalVersion::V2.rule_count();
            assert!((min..=max).contains(&sample.rules.first.len()));
        }
    }

    #[test]
    fn version_pools() {
        assert_eq!(IfEvalVersion::V1.pool().len(), 7);
        assert!(IfEvalVersion::V1.pool().iter().all(|k| k.id() <= 7));
        assert_eq!(IfEvalVersion::V2.pool().len(), 13);
    }
}
