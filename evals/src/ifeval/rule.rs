//! IFEval rules as data: each [`Rule`] carries its parameters, describes
//! itself as the instruction put in the prompt and checks a response.

use serde::{Deserialize, Serialize};

use super::text;
use super::RuleKind;

/// The phrases rule 13 ("ends with") chooses from, as in the reference.
pub const ENDS_WITH_PHRASES: [&str; 3] = [
    "Let me know if you have additional questions.",
    "Is there anything else I can help with?",
    "Hope that helps.",
];

/// One instruction a response must follow, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// At most `n` [`text::words`].
    WordCountAtMost {
        /// The most words allowed.
        n: u32,
    },
    /// At least `n` [`text::words`].
    WordCountAtLeast {
        /// The fewest words allowed.
        n: u32,
    },
    /// At most `n` [`text::sentences`].
    SentenceCountAtMost {
        /// The most sentences allowed.
        n: u32,
    },
    /// At least `n` [`text::sentences`].
    SentenceCountAtLeast {
        /// The fewest sentences allowed.
        n: u32,
    },
    /// Every cased letter upper case, and at least one letter.
    AllUpperCase,
    /// Every cased letter lower case, and at least one letter.
    AllLowerCase,
    /// No `,` anywhere.
    NoCommas,
    /// `keyword` is one of the [`text::keyword_words`].
    KeywordIncluded {
        /// The keyword, already normalised (lower case, no punctuation).
        keyword: String,
    },
    /// `keyword` is exactly `n` of the [`text::keyword_words`].
    KeywordFrequency {
        /// The keyword, already normalised.
        keyword: String,
        /// The exact number of occurrences.
        n: u32,
    },
    /// `keyword` is none of the [`text::keyword_words`].
    KeywordForbidden {
        /// The keyword, already normalised.
        keyword: String,
    },
    /// Exactly `n` lines that, after leading whitespace, start with `*`
    /// followed by whitespace (a Markdown bullet; `**bold**` is not one).
    BulletCount {
        /// The exact number of bullets.
        n: u32,
    },
    /// The response, without trailing whitespace, ends with `phrase`
    /// (compared case-insensitively).
    EndsWith {
        /// The closing phrase.
        phrase: String,
    },
    /// The response, without surrounding whitespace, starts and ends with a
    /// double quotation mark (`"` or the typographic `“`/`”`).
    Quotation,
}

impl Rule {
    /// The rule's kind.
    pub fn kind(&self) -> RuleKind {
        match self {
            Rule::WordCountAtMost { .. } => RuleKind::WordCountAtMost,
            Rule::WordCountAtLeast { .. } => RuleKind::WordCountAtLeast,
            Rule::SentenceCountAtMost { .. } => RuleKind::SentenceCountAtMost,
            Rule::SentenceCountAtLeast { .. } => RuleKind::SentenceCountAtLeast,
            Rule::AllUpperCase => RuleKind::AllUpperCase,
            Rule::AllLowerCase => RuleKind::AllLowerCase,
            Rule::NoCommas => RuleKind::NoCommas,
            Rule::KeywordIncluded { .. } => RuleKind::KeywordIncluded,
            Rule::KeywordFrequency { .. } => RuleKind::KeywordFrequency,
            Rule::KeywordForbidden { .. } => RuleKind::KeywordForbidden,
            Rule::BulletCount { .. } => RuleKind::BulletCount,
            Rule::EndsWith { .. } => RuleKind::EndsWith,
            Rule::Quotation => RuleKind::Quotation,
        }
    }

    /// The instruction text put in the prompt, one sentence.
    pub fn describe(&self) -> String {
        // "1 word", "30 words".
        let count = |n: u32, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        let must = "Your response must";
        match self {
            Rule::WordCountAtMost { n } => format!("{must} contain at most {}.", count(*n, "word")),
            Rule::WordCountAtLeast { n } => {
                format!("{must} contain at least {}.", count(*n, "word"))
            }
            Rule::SentenceCountAtMost { n } => {
                format!("{must} contain at most {}.", count(*n, "sentence"))
            }
            Rule::SentenceCountAtLeast { n } => {
                format!("{must} contain at least {}.", count(*n, "sentence"))
            }
            Rule::AllUpperCase => "Your entire response must be in uppercase letters.".to_owned(),
            Rule::AllLowerCase => "Your entire response must be in lowercase letters.".to_owned(),
            Rule::NoCommas => format!("{must} not contain any commas."),
            Rule::KeywordIncluded { keyword } => format!("{must} include the word \"{keyword}\"."),
            Rule::KeywordFrequency { keyword, n } => format!(
                "{must} include the word \"{keyword}\" exactly {}.",
                count(*n, "time")
            ),
            Rule::KeywordForbidden { keyword } => {
                format!("{must} not include the word \"{keyword}\".")
            }
            Rule::BulletCount { n } => format!(
                "{must} contain exactly {}, each on its own line starting with \"* \".",
                count(*n, "bullet point")
            ),
            Rule::EndsWith { phrase } => {
                format!(
                    "End your response with the exact phrase \"{phrase}\" and nothing after it."
                )
            }
            Rule::Quotation => "Wrap your entire response in double quotation marks.".to_owned(),
        }
    }

    /// Whether `response` follows the rule.
    pub fn check(&self, response: &str) -> bool {
        let at_most = |count: usize, n: u32| count <= n as usize;
        let at_least = |count: usize, n: u32| count >= n as usize;
        let occurrences = |keyword: &str| {
            text::keyword_words(response)
                .iter()
                .filter(|w| *w == keyword)
                .count()
        };
        match self {
            Rule::WordCountAtMost { n } => at_most(text::word_count(response), *n),
            Rule::WordCountAtLeast { n } => at_least(text::word_count(response), *n),
            Rule::SentenceCountAtMost { n } => at_most(text::sentence_count(response), *n),
            Rule::SentenceCountAtLeast { n } => at_least(text::sentence_count(response), *n),
            Rule::AllUpperCase => text::is_all_upper(response),
            Rule::AllLowerCase => text::is_all_lower(response),
            Rule::NoCommas => !response.contains(','),
            Rule::KeywordIncluded { keyword } => occurrences(keyword) > 0,
            Rule::KeywordFrequency { keyword, n } => occurrences(keyword) == *n as usize,
            Rule::KeywordForbidden { keyword } => occurrences(keyword) == 0,
            Rule::BulletCount { n } => bullet_count(response) == *n as usize,
            Rule::EndsWith { phrase } => {
                let end = response.trim_end().to_lowercase();
                end.ends_with(&phrase.trim().to_lowercase())
            }
            Rule::Quotation => {
                let t = response.trim();
                let mut chars = t.chars();
                let first = chars.next();
                let last = chars.next_back();
                matches!(first, Some('"' | '“')) && matches!(last, Some('"' | '”'))
            }
        }
    }
}

/// Lines that start (after leading whitespace) with `*` and then whitespace.
fn bullet_count(response: &str) -> usize {
    response
        .lines()
        .filter(|line| {
            let mut chars = line.trim_start().chars();
            chars.next() == Some('*') && chars.next().is_some_and(char::is_whitespace)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(k: &str) -> String {
        k.to_owned()
    }

    /// Every rule with a text that passes and one that fails.
    fn cases() -> Vec<(Rule, &'static str, &'static str)> {
        vec![
            (
                Rule::WordCountAtMost { n: 3 },
                "One two - three.",
                "One two three four.",
            ),
            (
                Rule::WordCountAtLeast { n: 3 },
                "One two three.",
                "One - two.",
            ),
            (
                Rule::SentenceCountAtMost { n: 1 },
                "Pi is 3.14 exactly.",
                "One. Two.",
            ),
            (
                Rule::SentenceCountAtLeast { n: 2 },
                "One! Two?",
                "Only one here.",
            ),
            (Rule::AllUpperCase, "SHOUT, 42 TIMES!", "Shout"),
            (Rule::AllLowerCase, "quiet, 42 times.", "quiet Times"),
            (Rule::NoCommas, "No commas at all.", "Yes, one comma."),
            (
                Rule::KeywordIncluded {
                    keyword: kw("paris"),
                },
                "It is PARIS!",
                "It is Parisian.",
            ),
            (
                Rule::KeywordFrequency {
                    keyword: kw("test"),
                    n: 2,
                },
                "A test, then a Test.",
                "A test, a test and a test.",
            ),
            (
                Rule::KeywordForbidden { keyword: kw("is") },
                "This isn't a match.",
                "It is here.",
            ),
            (
                Rule::BulletCount { n: 2 },
                "Intro:\n* one\n  * two\n**bold**",
                "* one\n* two\n* three",
            ),
            (
                Rule::EndsWith {
                    phrase: ENDS_WITH_PHRASES[2].to_owned(),
                },
                "Answer: 4. hope that HELPS.\n",
                "Hope that helps. Bye.",
            ),
            (
                Rule::Quotation,
                "  \"Quoted answer.\"\n",
                "\"Only an opening quote.",
            ),
        ]
    }

    #[test]
    fn each_rule_passes_and_fails() {
        let cases = cases();
        let kinds: Vec<RuleKind> = cases.iter().map(|(r, _, _)| r.kind()).collect();
        assert_eq!(kinds, RuleKind::ALL, "one case per rule kind");
        for (rule, pass, fail) in &cases {
            assert!(rule.check(pass), "{rule:?} should accept {pass:?}");
            assert!(!rule.check(fail), "{rule:?} should reject {fail:?}");
        }
    }

    #[test]
    fn edge_cases() {
        assert!(!Rule::AllUpperCase.check(""));
        assert!(!Rule::AllLowerCase.check("123"));
        assert!(Rule::WordCountAtMost { n: 25 }.check(""));
        assert!(Rule::Quotation.check("“Typographic quotes.”"));
        assert!(!Rule::Quotation.check("\""));
        assert!(Rule::BulletCount { n: 1 }.check("*\tA tab bullet"));
        assert!(!Rule::BulletCount { n: 1 }.check("*no space"));
        let freq = Rule::KeywordFrequency {
            keyword: kw("is"),
            n: 2,
        };
        assert!(!freq.check("This isn't isn't a match."));
    }

    #[test]
    fn descriptions_are_clear_sentences() {
        assert_eq!(
            Rule::WordCountAtMost { n: 30 }.describe(),
            "Your response must contain at most 30 words."
        );
        assert_eq!(
            Rule::SentenceCountAtMost { n: 1 }.describe(),
            "Your response must contain at most 1 sentence."
        );
        assert_eq!(
            Rule::KeywordFrequency {
                keyword: kw("paris"),
                n: 1
            }
            .describe(),
            "Your response must include the word \"paris\" exactly 1 time."
        );
        assert_eq!(
            Rule::EndsWith {
                phrase: ENDS_WITH_PHRASES[0].to_owned()
            }
            .describe(),
            "End your response with the exact phrase \"Let me know if you have additional \
             questions.\" and nothing after it."
        );
        for (rule, _, _) in cases() {
            let d = rule.describe();
            assert!(
                d.ends_with('.') && d.chars().next().is_some_and(char::is_uppercase),
                "{d}"
            );
        }
    }
}
