//! `check_following` of each instruction, ported from
//! `if_verifiable/ifeval/instructions.py`.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;

use super::instruction::Instruction;
use super::language::is_language;
use super::text::{count_words, py_islower, py_isupper, py_split, py_strip};
use super::{punkt, treebank};

/// The options `detectable_format:constrained_response` accepts.
pub const CONSTRAINED_RESPONSE_OPTIONS: [&str; 3] = [
    "My answer is yes.",
    "My answer is no.",
    "My answer is maybe.",
];

/// Compiled patterns by source. Patterns come from the instructions (a few
/// hundred in the dataset) and compiling the Unicode case-insensitive ones
/// costs far more than matching, so each is compiled once per process.
static PATTERNS: LazyLock<Mutex<HashMap<String, Regex>>> = LazyLock::new(Mutex::default);

/// The compiled `pattern` (`None` if it does not compile, which parsing rules
/// out for instruction patterns).
pub(super) fn pattern(pattern: &str) -> Option<Regex> {
    let mut cache = PATTERNS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(re) = cache.get(pattern) {
        return Some(re.clone());
    }
    let re = Regex::new(pattern).ok()?;
    cache.insert(pattern.to_owned(), re.clone());
    Some(re)
}

/// Number of matches of `pat` in `text`.
fn count_matches(pat: &str, text: &str) -> usize {
    pattern(pat).map_or(0, |re| re.find_iter(text).count())
}

fn has_match(pat: &str, text: &str) -> bool {
    pattern(pat).is_some_and(|re| re.is_match(text))
}

/// `check_following`: whether `response` follows `instruction`, as judged
/// on exactly this text.
pub fn check_following(instruction: &Instruction, response: &str) -> bool {
    use Instruction as I;
    let value = response;
    match instruction {
        I::KeywordsExistence { keywords } => keywords
            .iter()
            .all(|k| has_match(&format!("(?i){k}"), value)),
        I::KeywordsFrequency {
            keyword,
            frequency,
            relation,
        } => relation.holds(count_matches(&format!("(?i){keyword}"), value), *frequency),
        I::ForbiddenWords { forbidden_words } => !forbidden_words
            .iter()
            .any(|w| has_match(&format!(r"(?i)\b{w}\b"), value)),
        I::LetterFrequency {
            letter,
            frequency,
            relation,
        } => {
            let n = value.to_lowercase().chars().filter(|c| c == letter).count();
            relation.holds(n, *frequency)
        }
        I::ResponseLanguage { language } => is_language(value, language),
        I::NumberSentences {
            num_sentences,
            relation,
        } => relation.holds(punkt::count_sentences(value), *num_sentences),
        I::NumberParagraphs { num_paragraphs } => paragraphs_ok(value, *num_paragraphs),
        I::NumberWords {
            num_words,
            relation,
        } => relation.holds(count_words(value), *num_words),
        I::NthParagraphFirstWord {
            num_paragraphs,
            nth_paragraph,
            first_word,
        } => nth_paragraph_ok(value, *num_paragraphs, *nth_paragraph, first_word),
        I::NumberPlaceholders { num_placeholders } => {
            count_matches(r"\[.*?\]", value) >= *num_placeholders
        }
        I::Postscript { postscript_marker } => {
            let pattern = match postscript_marker.as_str() {
                "P.P.S" => r"(?m)\s*p\.\s?p\.\s?s.*$".to_owned(),
                "P.S." => r"(?m)\s*p\.\s?s\..*$".to_owned(),
                other => format!(r"(?m)\s*{}.*$", other.to_lowercase()),
            };
            has_match(&pattern, &value.to_lowercase())
        }
        I::NumberBulletLists { num_bullets } => {
            let stars = count_matches(r"(?m)^\s*\*[^*].*$", value);
            let dashes = count_matches(r"(?m)^\s*-.*$", value);
            stars + dashes == *num_bullets
        }
        I::ConstrainedResponse => {
            let v = py_strip(value);
            CONSTRAINED_RESPONSE_OPTIONS.iter().any(|o| v.contains(o))
        }
        I::NumberHighlightedSections { num_highlights } => highlights(value) >= *num_highlights,
        I::MultipleSections {
            section_spliter,
            num_sections,
        } => count_matches(&format!(r"\s?{section_spliter}\s?\d+\s?"), value) >= *num_sections,
        I::JsonFormat => is_json(value),
        I::Title => pattern(r"<<[^\n]+>>").is_some_and(|re| {
            re.find_iter(value).any(|m| {
                !py_strip(m.as_str().trim_start_matches('<').trim_end_matches('>')).is_empty()
            })
        }),
        I::TwoResponses => two_responses(value),
        I::RepeatPrompt { prompt_to_repeat } => py_strip(value)
            .to_lowercase()
            .starts_with(&py_strip(prompt_to_repeat).to_lowercase()),
        I::EndChecker { end_phrase } => py_strip(value)
            .trim_matches('"')
            .to_lowercase()
            .ends_with(&py_strip(end_phrase).to_lowercase()),
        I::CapitalWordFrequency {
            capital_frequency,
            capital_relation,
        } => {
            let n = treebank::word_tokenize(value)
                .iter()
                .filter(|w| py_isupper(w))
                .count();
            capital_relation.holds(n, *capital_frequency)
        }
        I::EnglishCapital => py_isupper(value) && is_language(value, "en"),
        I::EnglishLowercase => py_islower(value) && is_language(value, "en"),
        I::NoComma => !value.contains(','),
        I::Quotation => {
            let v = py_strip(value);
            v.chars().count() > 1 && v.starts_with('"') && v.ends_with('"')
        }
    }
}

/// `ParagraphChecker`: paragraphs split by `\s?\*\*\*\s?`; empty ones are
/// allowed only at either end.
fn paragraphs_ok(value: &str, want: usize) -> bool {
    let Some(re) = pattern(r"\s?\*\*\*\s?") else {
        return false;
    };
    let parts: Vec<&str> = re.split(value).collect();
    let mut n = parts.len();
    for (i, p) in parts.iter().enumerate() {
        if py_strip(p).is_empty() {
            if i == 0 || i == parts.len() - 1 {
                n -= 1;
            } else {
                return false;
            }
        }
    }
    n == want
}

/// `ParagraphFirstWordCheck`: paragraphs split by `\n\n`.
fn nth_paragraph_ok(value: &str, want: usize, nth: usize, first_word: &str) -> bool {
    let parts: Vec<&str> = value.split("\n\n").collect();
    let n = parts.iter().filter(|p| !py_strip(p).is_empty()).count();
    // Python indexes the raw split (empty parts included) with a count that
    // excludes them.
    if nth == 0 || nth > n {
        return false;
    }
    let paragraph = py_strip(parts[nth - 1]);
    let Some(word) = py_split(paragraph).next() else {
        return false;
    };
    let word = word.trim_start_matches('\'').trim_start_matches('"');
    let found: String = word
        .chars()
        .take_while(|c| !matches!(c, '.' | ',' | '?' | '!' | '\'' | '"'))
        .flat_map(char::to_lowercase)
        .collect();
    n == want && found == first_word
}

/// `HighlightSectionChecker`: non-empty `*...*` plus non-empty `**...**` spans.
fn highlights(value: &str) -> usize {
    let single = pattern(r"\*[^\n*]*\*").map_or(0, |re| {
        re.find_iter(value)
            .filter(|m| !py_strip(m.as_str().trim_matches('*')).is_empty())
            .count()
    });
    let double = pattern(r"\*\*[^\n*]*\*\*").map_or(0, |re| {
        re.find_iter(value)
            .filter(|m| {
                let s = m.as_str();
                !py_strip(&s[2..s.len() - 2]).is_empty()
            })
            .count()
    });
    single + double
}

/// `JsonFormat`: the stripped text without a leading ```json/```Json/```JSON
/// or ``` fence and a trailing ``` fence parses as JSON.
fn is_json(value: &str) -> bool {
    let mut v = py_strip(value);
    for prefix in ["```json", "```Json", "```JSON", "```"] {
        v = v.strip_prefix(prefix).unwrap_or(v);
    }
    v = v.strip_suffix("```").unwrap_or(v);
    serde_json::from_str::<serde_json::Value>(py_strip(v)).is_ok()
}

/// `TwoResponsesChecker`: exactly two different non-empty responses around
/// `******`, empty parts allowed only at either end.
fn two_responses(value: &str) -> bool {
    let parts: Vec<&str> = value.split("******").collect();
    let mut valid = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if py_strip(p).is_empty() {
            if i != 0 && i != parts.len() - 1 {
                return false;
            }
        } else {
            valid.push(*p);
        }
    }
    valid.len() == 2 && py_strip(valid[0]) != py_strip(valid[1])
}
