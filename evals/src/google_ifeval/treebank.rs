//! `nltk.word_tokenize`: Punkt sentences, each split by NLTK's improved
//! Treebank word tokenizer (`NLTKWordTokenizer`, NLTK 3.10): a fixed list of
//! regex substitutions followed by a whitespace split. Only
//! `change_case:capital_word_frequency` uses it.
//!
//! Python's `$` (end, or before a final newline) is written `(?=\n?\z)`, and
//! Python's `\w` is [`PY_WORD_CLASS`]; everything else is the NLTK pattern.

use std::sync::LazyLock;

use fancy_regex::Regex;

use super::punkt;
use super::text::{py_split, PY_WORD_CLASS};

/// One substitution step: pattern and replacement (`${n}` groups).
type Rule = (Regex, &'static str);

fn rules(list: &[(&str, &'static str)]) -> Vec<Rule> {
    list.iter()
        .map(|&(pat, rep)| {
            let pat = pat
                .replace(r"\w", PY_WORD_CLASS)
                .replace("$PYEND", r"(?=\n?\z)");
            (Regex::new(&pat).expect("static regex compiles"), rep)
        })
        .collect()
}

/// STARTING_QUOTES, PUNCTUATION, PARENS_BRACKETS and DOUBLE_DASHES, in order.
static BEFORE_PAD: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        ("([«“‘„]|[`]+)", " ${1} "),
        (r#"^""#, "``"),
        ("(``)", " ${1} "),
        (r#"([ (\[{<])("|'{2})"#, "${1} `` "),
        (r"(?i)(?<!\w)(')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", "${1} "),
        (r#"([^.])(\.)([\])}>"'»”’ ]*)\s*$PYEND"#, "${1} ${2} ${3} "),
        (r"([:,])([^\d])", " ${1} ${2}"),
        (r"([:,])$PYEND", " ${1} "),
        (r"\.{2,}", " ${0} "),
        (r"[;@#$%&]", " ${0} "),
        ("[\u{2012}-\u{2015}]", " ${0} "),
        (r#"([^.])(\.)([\])}>"']*)\s*$PYEND"#, "${1} ${2}${3} "),
        (r"[?!]", " ${0} "),
        (r"([^'])' ", "${1} ' "),
        (r"[*]", " ${0} "),
        (r"[\]\[(){}<>]", " ${0} "),
        (r"--", " -- "),
    ])
});

/// ENDING_QUOTES and the MacIntyre contractions, applied after padding.
static AFTER_PAD: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    rules(&[
        ("([»”’])", " ${1} "),
        ("''", " '' "),
        ("\"", " '' "),
        (r"\s+", " "),
        (r"([^' ])('[sS]|'[mM]|'[dD]|') ", "${1} ${2} "),
        (r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "${1} ${2} "),
        (r"(?i)\b(can)(not)\b", " ${1} ${2} "),
        (r"(?i)\b(d)('ye)\b", " ${1} ${2} "),
        (r"(?i)\b(gim)(me)\b", " ${1} ${2} "),
        (r"(?i)\b(gon)(na)\b", " ${1} ${2} "),
        (r"(?i)\b(got)(ta)\b", " ${1} ${2} "),
        (r"(?i)\b(lem)(me)\b", " ${1} ${2} "),
        (r"(?i)\b(more)('n)\b", " ${1} ${2} "),
        (r"(?i)\b(wan)(na)(?=\s)", " ${1} ${2} "),
        (r"(?i) ('t)(is)\b", " ${1} ${2} "),
        (r"(?i) ('t)(was)\b", " ${1} ${2} "),
    ])
});

fn apply(rules: &[Rule], mut text: String) -> String {
    for (re, rep) in rules {
        match re.try_replacen(&text, 0, *rep) {
            Ok(s) => text = s.into_owned(),
            Err(e) => tracing::warn!("word tokenizer rule {} skipped: {e}", re.as_str()),
        }
    }
    text
}

/// `NLTKWordTokenizer().tokenize(sentence)`.
pub fn tokenize_sentence(sentence: &str) -> Vec<String> {
    let padded = format!(" {} ", apply(&BEFORE_PAD, sentence.to_owned()));
    let text = apply(&AFTER_PAD, padded);
    py_split(&text).map(str::to_owned).collect()
}

/// `nltk.word_tokenize(text)`.
pub fn word_tokenize(text: &str) -> Vec<String> {
    punkt::sentences(text)
        .iter()
        .flat_map(|s| tokenize_sentence(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_nltk() {
        // Expected values from `nltk.word_tokenize(...)` (NLTK 3.10.4).
        assert_eq!(
            word_tokenize("HELLO, DON'T stop-it U.S.A. now."),
            ["HELLO", ",", "DO", "N'T", "stop-it", "U.S.A.", "now", "."]
        );
        assert_eq!(
            word_tokenize(
                "Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\nThanks."
            ),
            [
                "Good", "muffins", "cost", "$", "3.88", "in", "New", "York", ".", "Please", "buy",
                "me", "two", "of", "them", ".", "Thanks", "."
            ]
        );
        assert_eq!(
            word_tokenize("\"I cannot,\" she said -- 'gonna' (maybe)!"),
            [
                "``", "I", "can", "not", ",", "''", "she", "said", "--", "'", "gon", "na", "'",
                "(", "maybe", ")", "!"
            ]
        );
    }
}
