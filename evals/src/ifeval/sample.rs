//! Drawing the rules of an IFEval pair from a caller's random source.
//!
//! The source is any `FnMut(u64) -> u64` returning a uniform draw in `0..n`
//! for the `n` it is given (never 0), so the datasets crate can plug in its
//! ChaCha20 generator and this crate needs no `rand`. Draws happen in this
//! order, which is part of the protocol (same draws ⇒ same rules):
//!
//! 1. Fisher–Yates shuffle of the version's rule pool: for `i` from
//!    `len - 1` down to 1, draw `n = i + 1` and swap positions `i` and the draw.
//! 2. The rule count: draw `n = max - min + 1`, add `min`.
//! 3. Walking the shuffled pool, each kind compatible with those already
//!    taken is taken until the count is reached (so an unlucky order may give
//!    fewer rules, as in the reference), drawing its parameters:
//!    word counts one draw among 25, 30, 35, 40, 45; sentence at most among
//!    1, 2, 3; sentence at least among 2, 3; bullets among 1, 2, 3; an ending
//!    among [`ENDS_WITH_PHRASES`]; a keyword rule one draw per question
//!    (first, then second) among that answer's candidate keywords when it has
//!    any, then for frequency one draw among 1..=4.

use super::rule::{Rule, ENDS_WITH_PHRASES};
use super::text;
use super::IfEvalVersion;
use super::RuleKind;

/// Word-count limits of rules 1 and 2.
const WORD_COUNTS: [u32; 5] = [25, 30, 35, 40, 45];

/// Keywords used when an answer offers no candidate at all (as in the reference).
const FALLBACK_KEYWORDS: [&str; 3] = ["answer", "question", "response"];

/// Common function words never chosen as keywords: the reference prefers
/// nouns, verbs, adjectives and adverbs with an NLTK part-of-speech tagger;
/// Gauntlet approximates that with this stop list.
const STOP_WORDS: &[&str] = &[
    "about", "above", "after", "again", "all", "also", "and", "any", "are", "because", "been",
    "before", "being", "between", "both", "but", "can", "could", "did", "does", "doing", "down",
    "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "into", "its", "itself", "just",
    "may", "might", "more", "most", "must", "nor", "not", "now", "off", "once", "only", "other",
    "our", "ours", "out", "over", "own", "same", "shall", "she", "should", "some", "such", "than",
    "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those",
    "through", "too", "under", "until", "upon", "very", "was", "were", "what", "when", "where",
    "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your",
];

/// The rules of one IFEval pair: the same kinds and counts for both
/// questions, with keywords drawn from each question's own answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PairRules {
    /// Rules for the first question.
    pub first: Vec<Rule>,
    /// Rules for the second question.
    pub second: Vec<Rule>,
}

/// Uniform index in `0..n` from the caller's source (`n > 0`); an
/// out-of-range draw is folded back into range rather than trusted.
fn draw(rng: &mut impl FnMut(u64) -> u64, n: usize) -> usize {
    let n = n.max(1) as u64;
    (rng(n) % n) as usize
}

fn choose<T: Copy>(rng: &mut impl FnMut(u64) -> u64, items: &[T]) -> Option<T> {
    if items.is_empty() {
        return None;
    }
    items.get(draw(rng, items.len())).copied()
}

/// Candidate keywords of an answer: its [`text::keyword_words`] longer than
/// two characters, not stop words, without repeats, in order of appearance.
/// When there are none, every keyword word of the answer; when the answer has
/// none either, the fallback words.
pub fn keyword_candidates(answer: &str) -> Vec<String> {
    let all = text::keyword_words(answer);
    let mut out: Vec<String> = Vec::new();
    for w in &all {
        let long = w.chars().count() > 2;
        if long && !STOP_WORDS.contains(&w.as_str()) && !out.contains(w) {
            out.push(w.clone());
        }
    }
    if out.is_empty() {
        for w in all {
            if !out.contains(&w) {
                out.push(w);
            }
        }
    }
    if out.is_empty() {
        out = FALLBACK_KEYWORDS.iter().map(|w| (*w).to_owned()).collect();
    }
    out
}

fn keyword(rng: &mut impl FnMut(u64) -> u64, answer: &str) -> String {
    let candidates = keyword_candidates(answer);
    let index = draw(rng, candidates.len());
    candidates
        .get(index)
        .cloned()
        .unwrap_or_else(|| FALLBACK_KEYWORDS[0].to_owned())
}

/// Draws the rules of one pair whose questions have answers `answers`.
pub fn sample_pair_rules(
    version: IfEvalVersion,
    answers: [&str; 2],
    rng: &mut impl FnMut(u64) -> u64,
) -> PairRules {
    let mut pool: Vec<RuleKind> = version.pool().to_vec();
    for i in (1..pool.len()).rev() {
        let j = draw(rng, i + 1);
        pool.swap(i, j);
    }
    let (min, max) = version.rule_count();
    let count = min + draw(rng, max - min + 1);

    let mut rules = PairRules {
        first: Vec::new(),
        second: Vec::new(),
    };
    for kind in pool {
        if rules.first.len() >= count {
            break;
        }
        if rules.first.iter().all(|r| r.kind().compatible_with(kind)) {
            let (first, second) = draw_rule(kind, answers, rng);
            rules.first.push(first);
            rules.second.push(second);
        }
    }
    rules
}

/// Draws the parameters of a rule of `kind` for both questions.
fn draw_rule(kind: RuleKind, answers: [&str; 2], rng: &mut impl FnMut(u64) -> u64) -> (Rule, Rule) {
    let both = |r: Rule| (r.clone(), r);
    let mut count = |options: &[u32]| choose(rng, options).unwrap_or_default();
    match kind {
        RuleKind::WordCountAtMost => both(Rule::WordCountAtMost {
            n: count(&WORD_COUNTS),
        }),
        RuleKind::WordCountAtLeast => both(Rule::WordCountAtLeast {
            n: count(&WORD_COUNTS),
        }),
        RuleKind::SentenceCountAtMost => both(Rule::SentenceCountAtMost {
            n: count(&[1, 2, 3]),
        }),
        RuleKind::SentenceCountAtLeast => both(Rule::SentenceCountAtLeast { n: count(&[2, 3]) }),
        RuleKind::AllUpperCase => both(Rule::AllUpperCase),
        RuleKind::AllLowerCase => both(Rule::AllLowerCase),
        RuleKind::NoCommas => both(Rule::NoCommas),
        RuleKind::BulletCount => both(Rule::BulletCount {
            n: count(&[1, 2, 3]),
        }),
        RuleKind::Quotation => both(Rule::Quotation),
        RuleKind::EndsWith => {
            let phrase = choose(rng, &ENDS_WITH_PHRASES).unwrap_or(ENDS_WITH_PHRASES[0]);
            both(Rule::EndsWith {
                phrase: phrase.to_owned(),
            })
        }
        RuleKind::KeywordIncluded => {
            let [a, b] = answers.map(|answer| keyword(rng, answer));
            (
                Rule::KeywordIncluded { keyword: a },
                Rule::KeywordIncluded { keyword: b },
            )
        }
        RuleKind::KeywordForbidden => {
            let [a, b] = answers.map(|answer| keyword(rng, answer));
            (
                Rule::KeywordForbidden { keyword: a },
                Rule::KeywordForbidden { keyword: b },
            )
        }
        RuleKind::KeywordFrequency => {
            let [a, b] = answers.map(|answer| keyword(rng, answer));
            let n = choose(rng, &[1, 2, 3, 4]).unwrap_or(1);
            (
                Rule::KeywordFrequency { keyword: a, n },
                Rule::KeywordFrequency { keyword: b, n },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64 with a uniform (modulo, fine for tests) draw in `0..n`.
    fn rng(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut state = seed;
        move |n| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) % n
        }
    }

    const ANSWERS: [&str; 2] = [
        "The mitochondria produce energy",
        "Paris, the French capital",
    ];

    #[test]
    fn incompatible_rules_are_never_combined() {
        for version in [IfEvalVersion::V1, IfEvalVersion::V2] {
            let (min, max) = version.rule_count();
            let mut r = rng(7);
            let mut seen_max = 0;
            for _ in 0..5000 {
                let rules = sample_pair_rules(version, ANSWERS, &mut r);
                let kinds: Vec<RuleKind> = rules.first.iter().map(Rule::kind).collect();
                let second: Vec<RuleKind> = rules.second.iter().map(Rule::kind).collect();
                assert_eq!(kinds, second, "both questions get the same kinds");
                assert!(!kinds.is_empty() && kinds.len() <= max, "{kinds:?}");
                seen_max = seen_max.max(kinds.len());
                for (i, a) in kinds.iter().enumerate() {
                    assert!(version.pool().contains(a), "{a:?} not in {version:?}");
                    for b in &kinds[i + 1..] {
                        assert!(a.compatible_with(*b), "{a:?} with {b:?}");
                    }
                }
                if version == IfEvalVersion::V2 {
                    assert!(
                        kinds.len() >= min,
                        "V2 always reaches its minimum: {kinds:?}"
                    );
                }
            }
            assert_eq!(seen_max, max);
        }
    }

    #[test]
    fn parameters_come_from_the_reference_ranges() {
        let mut r = rng(11);
        for _ in 0..3000 {
            let rules = sample_pair_rules(IfEvalVersion::V2, ANSWERS, &mut r);
            for (a, b) in rules.first.iter().zip(&rules.second) {
                match (a, b) {
                    (Rule::WordCountAtMost { n }, _) | (Rule::WordCountAtLeast { n }, _) => {
                        assert!([25, 30, 35, 40, 45].contains(n))
                    }
                    (Rule::SentenceCountAtMost { n }, _) => assert!((1..=3).contains(n)),
                    (Rule::SentenceCountAtLeast { n }, _) => assert!((2..=3).contains(n)),
                    (Rule::BulletCount { n }, _) => assert!((1..=3).contains(n)),
                    (Rule::EndsWith { phrase }, _) => {
                        assert!(ENDS_WITH_PHRASES.contains(&phrase.as_str()))
                    }
                    (
                        Rule::KeywordFrequency { keyword: k1, n: n1 },
                        Rule::KeywordFrequency { keyword: k2, n: n2 },
                    ) => {
                        assert!((1..=4).contains(n1) && n1 == n2);
                        assert!(keyword_candidates(ANSWERS[0]).contains(k1));
                        assert!(keyword_candidates(ANSWERS[1]).contains(k2));
                    }
                    (
                        Rule::KeywordIncluded { keyword: k1 },
                        Rule::KeywordIncluded { keyword: k2 },
                    )
                    | (
                        Rule::KeywordForbidden { keyword: k1 },
                        Rule::KeywordForbidden { keyword: k2 },
                    ) => {
                        assert!(keyword_candidates(ANSWERS[0]).contains(k1));
                        assert!(keyword_candidates(ANSWERS[1]).contains(k2));
                    }
                    _ => assert_eq!(a, b),
                }
            }
        }
    }

    #[test]
    fn same_draws_give_same_rules() {
        let a = sample_pair_rules(IfEvalVersion::V2, ANSWERS, &mut rng(3));
        let b = sample_pair_rules(IfEvalVersion::V2, ANSWERS, &mut rng(3));
        assert_eq!(a, b);
    }

    #[test]
    fn out_of_range_draws_do_not_panic() {
        let mut always_huge = |_n: u64| u64::MAX;
        let rules = sample_pair_rules(IfEvalVersion::V2, ["", ""], &mut always_huge);
        assert!(!rules.first.is_empty());
        let mut zero = |_n: u64| 0;
        let rules = sample_pair_rules(IfEvalVersion::V1, ["", ""], &mut zero);
        assert!(!rules.first.is_empty());
    }

    #[test]
    fn keyword_candidates_prefer_content_words() {
        assert_eq!(
            keyword_candidates("The mitochondria, the powerhouse!"),
            ["mitochondria", "powerhouse"]
        );
        assert_eq!(keyword_candidates("It is so"), ["it", "is", "so"]);
        assert_eq!(keyword_candidates("?!"), ["answer", "question", "response"]);
    }
}
