//! Python `str` semantics the checkers depend on: whitespace, case predicates
//! and `\w`, which differ from Rust's defaults in small but visible ways.

use std::sync::LazyLock;

use regex::Regex;

/// Python's `\w` for `str` patterns: letters, numbers and `_` (Rust's `\w`
/// also takes combining marks, which would glue Indic words together).
pub const PY_WORD_CLASS: &str = r"[\p{L}\p{N}_]";

/// Python's `str.isspace()` for one character: Unicode white space plus the
/// four ASCII separators U+001C–U+001F.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.rstrip()`.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// Python's `str.split()` without arguments.
pub fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|w| !w.is_empty())
}

/// Unicode titlecase letters (category Lt), which Python counts as cased but
/// neither upper nor lower case.
fn is_titlecase(c: char) -> bool {
    matches!(c,
        '\u{01C5}' | '\u{01C8}' | '\u{01CB}' | '\u{01F2}'
        | '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}' | '\u{1FA8}'..='\u{1FAF}'
        | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

/// Python's `str.isupper()`: at least one upper-case character and no lower-
/// or title-case one.
pub fn py_isupper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Python's `str.islower()`: at least one lower-case character and no upper-
/// or title-case one.
pub fn py_islower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

static WORD_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("{PY_WORD_CLASS}+")).expect("static regex compiles"));

/// `instructions_util.count_words`: the number of `\w+` runs
/// (`nltk.tokenize.RegexpTokenizer(r"\w+")`).
pub fn count_words(text: &str) -> usize {
    WORD_RUN.find_iter(text).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_predicates_follow_python() {
        assert!(py_isupper("HELLO, WORLD 42!"));
        assert!(!py_isupper("HELLO World"));
        assert!(!py_isupper("123 !?"));
        assert!(py_islower("hello, world 42!"));
        assert!(!py_islower("hello World"));
        assert!(!py_islower(""));
        // Greek capital and small sigma; a titlecase digraph is neither.
        assert!(py_isupper("ΣΑΣ"));
        assert!(py_islower("σας"));
        assert!(!py_isupper("ǅ") && !py_islower("ǅ"));
    }

    #[test]
    fn words_are_python_word_runs() {
        assert_eq!(count_words("Hello, world! It's 2024_x."), 5);
        assert_eq!(count_words("  "), 0);
        // A Devanagari vowel sign (a combining mark) ends a Python `\w` run.
        assert_eq!(count_words("हिन्दी"), 3);
    }

    #[test]
    fn whitespace_follows_python() {
        assert_eq!(py_strip("\u{1f} a b \n"), "a b");
        assert_eq!(
            py_split(" a\u{a0}b\tc ").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }
}
