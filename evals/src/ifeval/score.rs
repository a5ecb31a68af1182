//! Scoring IFEval responses (REFERENCE §2): per response `1 - r²` with `r` the
//! share of rules satisfied, counted once per rule; the raw score is the mean,
//! unless too many pairs got near-identical answers.

use super::rule::Rule;
use super::sample::PairRules;
use crate::similarity;

/// Two answers of a pair are near-identical when their similarity ratio
/// exceeds this.
pub const DUPLICATE_SIMILARITY: f64 = 0.6;

/// When more than this share of pairs get near-identical answers, the raw
/// score is 1 (the worst): the model ignores the questions.
pub const MAX_DUPLICATE_SHARE: f64 = 0.1;

/// The score of one response, a loss in `[0, 1]`: `1 - r²` where `r` is the
/// share of `rules` it satisfies. With no rules there is nothing to violate: 0.
pub fn response_score(rules: &[Rule], response: &str) -> f64 {
    if rules.is_empty() {
        return 0.0;
    }
    let satisfied = rules.iter().filter(|r| r.check(response)).count();
    let r = satisfied as f64 / rules.len() as f64;
    1.0 - r * r
}

/// Whether two answers are near-identical: the reference's
/// `difflib.SequenceMatcher(lambda x: x in " \t", a, b).ratio() > 0.6`.
pub fn is_near_duplicate(a: &str, b: &str) -> bool {
    similarity::ratio_ignoring_blanks(a, b) > DUPLICATE_SIMILARITY
}

/// One pair's rules and the model's two answers; `None` when generation
/// failed, which fails every rule (and is not counted as a duplicate).
#[derive(Debug, Clone, Copy)]
pub struct PairOutcome<'a> {
    /// The pair's rules.
    pub rules: &'a PairRules,
    /// The answers to the first and second question.
    pub responses: Option<[&'a str; 2]>,
}

/// The result of scoring an IFEval task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IfEvalScore {
    /// The raw score (a loss in `[0, 1]`; 1 when there was nothing to score
    /// or the duplicate guard tripped).
    pub raw: f64,
    /// Pairs whose two answers were near-identical.
    pub duplicate_pairs: usize,
    /// Whether the duplicate guard set the raw score to 1.
    pub duplicate_guard: bool,
}

/// Scores every pair: each response's [`response_score`] is counted once per
/// rule of its question, and the raw score is their mean; if more than
/// [`MAX_DUPLICATE_SHARE`] of the pairs are [near-duplicates](is_near_duplicate),
/// the raw score is 1.
pub fn score_pairs(outcomes: &[PairOutcome<'_>]) -> IfEvalScore {
    let mut total = 0.0;
    let mut counted = 0usize;
    let mut duplicate_pairs = 0usize;
    for outcome in outcomes {
        let sides = [&outcome.rules.first, &outcome.rules.second];
        match outcome.responses {
            Some(responses) => {
                if is_near_duplicate(responses[0], responses[1]) {
                    duplicate_pairs += 1;
                }
                for (rules, response) in sides.into_iter().zip(responses) {
                    total += response_score(rules, response) * rules.len() as f64;
                    counted += rules.len();
                }
            }
            None => {
                for rules in sides {
                    total += rules.len() as f64;
                    counted += rules.len();
                }
            }
        }
    }
    let duplicate_guard = duplicate_pairs as f64 > outcomes.len() as f64 * MAX_DUPLICATE_SHARE;
    let raw = if duplicate_guard || counted == 0 {
        1.0
    } else {
        total / counted as f64
    };
    IfEvalScore {
        raw,
        duplicate_pairs,
        duplicate_guard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(rules: Vec<Rule>) -> PairRules {
        PairRules {
            first: rules.clone(),
            second: rules,
        }
    }

    #[test]
    fn response_score_is_one_minus_share_squared() {
        let rules = vec![
            Rule::NoCommas,
            Rule::AllLowerCase,
            Rule::WordCountAtMost { n: 5 },
        ];
        assert_eq!(response_score(&rules, "all good here"), 0.0);
        // 2 of 3 satisfied: 1 - (2/3)^2 = 5/9.
        assert!((response_score(&rules, "not, lower") - 5.0 / 9.0).abs() < 1e-12);
        // None satisfied.
        assert_eq!(
            response_score(&rules, "No, This Has Far Too Many Words"),
            1.0
        );
        assert_eq!(response_score(&[], "anything"), 0.0);
    }

    #[test]
    fn raw_score_weights_responses_by_rule_count() {
        let two = pair(vec![Rule::NoCommas, Rule::AllLowerCase]);
        let four = pair(vec![
            Rule::NoCommas,
            Rule::AllLowerCase,
            Rule::Quotation,
            Rule::WordCountAtLeast { n: 2 },
        ]);
        let outcomes = [
            // Both perfect on 2 rules: four zeros.
            PairOutcome {
                rules: &two,
                responses: Some(["fine text", "other words entirely"]),
            },
            // 2/4 satisfied each: 1 - 1/4 = 0.75, eight times.
            PairOutcome {
                rules: &four,
                responses: Some(["upper, case", "BERLIN maybe"]),
            },
        ];
        let score = score_pairs(&outcomes);
        assert!(!score.duplicate_guard);
        assert!((score.raw - (8.0 * 0.75) / 12.0).abs() < 1e-12, "{score:?}");
    }

    #[test]
    fn failed_generation_fails_every_rule() {
        let two = pair(vec![Rule::NoCommas, Rule::AllLowerCase]);
        let outcomes = [
            PairOutcome {
                rules: &two,
                responses: Some(["fine text", "different words"]),
            },
            PairOutcome {
                rules: &two,
                responses: None,
            },
        ];
        assert_eq!(score_pairs(&outcomes).raw, 0.5);
        assert_eq!(score_pairs(&[]).raw, 1.0);
    }

    #[test]
    fn duplicate_guard_trips_above_ten_percent() {
        let rules = pair(vec![Rule::NoCommas]);
        let same = Some(["the answer is forty two", "the answer is forty two"]);
        let distinct = Some(["paris is in france", "mitochondria make energy"]);
        assert!(is_near_duplicate(
            "the answer is forty two",
            "the answer is forty two!"
        ));
        assert!(!is_near_duplicate(
            "paris is in france",
            "mitochondria make energy"
        ));
        // 2 of 20 pairs duplicated (10%): not more than 10%, guard stays off.
        let mut outcomes: Vec<PairOutcome> = (0..20)
            .map(|_| PairOutcome {
                rules: &rules,
                responses: distinct,
            })
            .collect();
        outcomes[0].responses = same;
        outcomes[1].responses = same;
        let score = score_pairs(&outcomes);
        assert_eq!(
            (score.duplicate_pairs, score.duplicate_guard, score.raw),
            (2, false, 0.0)
        );
        // 3 of 20 (15%): raw = 1 even though every rule is followed.
        outcomes[2].responses = same;
        let score = score_pairs(&outcomes);
        assert_eq!(
            (score.duplicate_pairs, score.duplicate_guard, score.raw),
            (3, true, 1.0)
        );
    }
}
