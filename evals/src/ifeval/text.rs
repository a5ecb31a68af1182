//! Text measures the IFEval rules check: words, sentences, keyword words,
//! casing. The definitions are Gauntlet's own (the reference uses
//! `str.split()` and NLTK's Punkt tokenizer); they are stated here because
//! every validator must count the same way.

/// Words of `text`: whitespace-separated tokens that contain at least one
/// letter or digit (so a lone `-` or `*` is not a word, `don't` and `3.14`
/// are one word each).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .filter(|t| t.chars().any(char::is_alphanumeric))
}

/// Number of [`words`].
pub fn word_count(text: &str) -> usize {
    words(text).count()
}

/// Characters that may close a sentence after its terminator (`."`, `?)`).
fn is_closer(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '”' | '’' | '»')
}

/// Sentences of `text`.
///
/// A sentence ends at a run of `.`, `!` or `?`, optionally followed by closing
/// quotes or brackets, that is followed by whitespace or the end of the text.
/// Pieces without a letter or digit are not sentences. So `"Hi. Bye!"` has 2,
/// `"3.14 is pi"` has 1 (no whitespace after the dot), `"Wait... what?"` has
/// 2, an unterminated last sentence counts, and an abbreviation followed by a
/// space (`"e.g. this"`) splits.
pub fn sentences(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if !matches!(c, '.' | '!' | '?') {
            i += 1;
            continue;
        }
        let mut end = i;
        while end + 1 < chars.len() && matches!(chars[end + 1].1, '.' | '!' | '?') {
            end += 1;
        }
        while end + 1 < chars.len() && is_closer(chars[end + 1].1) {
            end += 1;
        }
        let boundary = chars.get(end + 1).is_none_or(|&(_, n)| n.is_whitespace());
        if boundary {
            let stop = chars.get(end + 1).map_or(text.len(), |&(b, _)| b);
            push_sentence(&mut out, text.get(start..stop).unwrap_or_default());
            start = stop;
        }
        i = end + 1;
    }
    push_sentence(&mut out, text.get(start..).unwrap_or_default());
    out
}

fn push_sentence<'t>(out: &mut Vec<&'t str>, piece: &'t str) {
    let piece = piece.trim();
    if piece.chars().any(char::is_alphanumeric) {
        out.push(piece);
    }
}

/// Number of [`sentences`].
pub fn sentence_count(text: &str) -> usize {
    sentences(text).len()
}

/// Keyword words of `text`: every character that is not a letter, digit or
/// whitespace is deleted (as Python's `str.translate` with
/// `string.punctuation` does for ASCII, extended to all of Unicode), the
/// rest is split on whitespace and lower-cased. `"Isn't it?"` gives
/// `["isnt", "it"]`.
pub fn keyword_words(text: &str) -> Vec<String> {
    let kept: String = text
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect();
    kept.split_whitespace().map(str::to_lowercase).collect()
}

/// A keyword as rules store and compare it: [`keyword_words`] of it, joined.
pub fn normalize_keyword(word: &str) -> String {
    keyword_words(word).concat()
}

/// Whether every cased letter is upper case and there is at least one (as
/// Python's `str.isupper`).
pub fn is_all_upper(text: &str) -> bool {
    text.chars().any(char::is_uppercase) && !text.chars().any(char::is_lowercase)
}

/// Whether every cased letter is lower case and there is at least one (as
/// Python's `str.islower`).
pub fn is_all_lower(text: &str) -> bool {
    text.chars().any(char::is_lowercase) && !text.chars().any(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_definition() {
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("  one two\tthree\nfour "), 4);
        assert_eq!(word_count("a - b * c"), 3);
        assert_eq!(word_count("don't stop 3.14 — 42!"), 4);
        assert_eq!(word_count("élan vital"), 2);
    }

    #[test]
    fn sentence_definition() {
        assert_eq!(sentence_count(""), 0);
        assert_eq!(sentence_count("   "), 0);
        assert_eq!(sentence_count("Hi. Bye!"), 2);
        assert_eq!(sentence_count("No terminator here"), 1);
        assert_eq!(sentence_count("3.14 is pi."), 1);
        assert_eq!(sentence_count("Wait... what?! Really."), 3);
        assert_eq!(sentence_count("He said \"hi.\" Then left."), 2);
        assert_eq!(sentence_count("e.g. this"), 2);
        assert_eq!(sentence_count("One.\nTwo.\n\nThree"), 3);
        assert_eq!(sentence_count("... ! ?"), 0);
        assert_eq!(sentences("A b. C d!"), vec!["A b.", "C d!"]);
    }

    #[test]
    fn keyword_normalisation() {
        assert_eq!(
            keyword_words("Isn't it? A TEST, test."),
            ["isnt", "it", "a", "test", "test"]
        );
        assert_eq!(
            keyword_words("“Quoted” well-known"),
            ["quoted", "wellknown"]
        );
        assert_eq!(normalize_keyword("Paris,"), "paris");
    }

    #[test]
    fn casing() {
        assert!(is_all_upper("HELLO, WORLD 42!"));
        assert!(!is_all_upper("HELLO, World"));
        assert!(!is_all_upper("1234 !!"));
        assert!(is_all_lower("hello, world 42!"));
        assert!(!is_all_lower("hello, World"));
        assert!(!is_all_lower(""));
    }
}
