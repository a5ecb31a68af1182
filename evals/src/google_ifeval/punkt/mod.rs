//! NLTK's Punkt sentence tokenizer (inference only) with NLTK's pretrained
//! English model, as `nltk.sent_tokenize` runs it: the period-context scan,
//! the two annotation passes (abbreviations, collocations, orthographic and
//! sentence-starter heuristics) and the boundary realignment of closing
//! quotes and brackets. Ported from `nltk/tokenize/punkt.py` (NLTK 3.10);
//! the model tables live in `english.tsv`.
//!
//! Positions are character indices, as in Python, so slices line up with the
//! reference exactly.

mod annotate;

use annotate::{contains_sentbreak, is_non_word};

use super::text::is_py_space;

/// A match of the period-context pattern: the end character at `at`, the
/// context after it ending at `after_end`, and where the next token starts.
#[derive(Debug, Clone, Copy)]
struct EndMatch {
    at: usize,
    after_end: usize,
    next_tok: Option<usize>,
}

fn end_matches(c: &[char]) -> Vec<EndMatch> {
    let mut out = Vec::new();
    for i in 0..c.len() {
        if !matches!(c[i], '.' | '?' | '!') || i + 1 >= c.len() {
            continue;
        }
        if is_non_word(c[i + 1]) {
            out.push(EndMatch {
                at: i,
                after_end: i + 2,
                next_tok: None,
            });
        } else if is_py_space(c[i + 1]) {
            let k = (i + 1..c.len()).find(|&k| !is_py_space(c[k]));
            if let Some(k) = k {
                let l = (k..c.len()).find(|&l| is_py_space(c[l])).unwrap_or(c.len());
                out.push(EndMatch {
                    at: i,
                    after_end: l,
                    next_tok: Some(k),
                });
            }
        }
    }
    out
}

/// `_match_potential_end_contexts`: each candidate with the text around it.
fn end_contexts(c: &[char]) -> Vec<(EndMatch, Vec<char>)> {
    let context = |slice: (usize, usize), m: &EndMatch| {
        let mut v: Vec<char> = c[slice.0..slice.1].to_vec();
        v.extend_from_slice(&c[m.at..m.after_end]);
        v
    };
    let mut out = Vec::new();
    let mut prev_slice = (0, 0);
    let mut prev: Option<EndMatch> = None;
    for m in end_matches(c) {
        let before = &c[prev_slice.1..m.at];
        let ascii_space = |&ch: &char| matches!(ch, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
        let last_space = before.iter().rposition(ascii_space).unwrap_or(0);
        let start = if last_space != 0 {
            last_space + prev_slice.1 + 1
        } else {
            prev_slice.0
        };
        let word = (start, m.at);
        if let Some(pm) = prev {
            if prev_slice.1 <= word.0 {
                out.push((pm, context(prev_slice, &pm)));
            }
        }
        prev = Some(m);
        prev_slice = word;
    }
    if let Some(pm) = prev {
        out.push((pm, context(prev_slice, &pm)));
    }
    out
}

/// `_realign_boundaries` on the slices of `_slices_from_text`.
fn realign(c: &[char], slices: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let closing = |ch: char| {
        matches!(
            ch,
            '"' | '\''
                | ')'
                | ']'
                | '}'
                | '\u{2018}'
                | '\u{2019}'
                | '\u{201c}'
                | '\u{201d}'
                | '\u{ab}'
                | '\u{bb}'
        )
    };
    let non_empty = |s: (usize, usize)| s.0 < s.1;
    let mut out = Vec::new();
    let mut shift = 0;
    for (i, &s1) in slices.iter().enumerate() {
        let s1 = (s1.0 + shift, s1.1);
        let Some(&s2) = slices.get(i + 1) else {
            if non_empty(s1) {
                out.push(s1);
            }
            continue;
        };
        // ["')\]}‘’“”«»]+?(?:\s+|(?=--)|$) anchored at the start of sentence 2.
        let seg = if s2.0 < s2.1 { &c[s2.0..s2.1] } else { &[][..] };
        let mut matched = None;
        for k in 1..=seg.len() {
            if !closing(seg[k - 1]) {
                break;
            }
            let rest = &seg[k..];
            if rest.first().is_some_and(|&ch| is_py_space(ch)) {
                let ws = rest.iter().take_while(|&&ch| is_py_space(ch)).count();
                matched = Some((k, k + ws));
            } else if rest.starts_with(&['-', '-']) || rest.is_empty() {
                matched = Some((k, k));
            }
            if matched.is_some() {
                break;
            }
        }
        if let Some((quotes, end)) = matched {
            out.push((s1.0, s2.0 + quotes));
            shift = end;
        } else {
            shift = 0;
            if non_empty(s1) {
                out.push(s1);
            }
        }
    }
    out
}

/// Sentence spans (character indices) of `text`, as `span_tokenize` yields them.
fn sentence_spans(c: &[char]) -> Vec<(usize, usize)> {
    let mut slices = Vec::new();
    let mut last_break = 0;
    for (m, context) in end_contexts(c) {
        if contains_sentbreak(&context) {
            slices.push((last_break, m.at + 1));
            last_break = m.next_tok.unwrap_or(m.at + 1);
        }
    }
    let trimmed = c.len() - c.iter().rev().take_while(|&&ch| is_py_space(ch)).count();
    slices.push((last_break, trimmed));
    realign(c, &slices)
}

/// The sentences of `text`, as `nltk.sent_tokenize(text)` returns them.
pub fn sentences(text: &str) -> Vec<String> {
    let c: Vec<char> = text.chars().collect();
    sentence_spans(&c)
        .into_iter()
        .map(|(s, e)| c[s..e].iter().collect())
        .collect()
}

/// `instructions_util.count_sentences`: how many sentences Punkt finds.
pub fn count_sentences(text: &str) -> usize {
    let c: Vec<char> = text.chars().collect();
    sentence_spans(&c).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_match_nltk_sent_tokenize() {
        // Expected values from `nltk.sent_tokenize(...)` (NLTK 3.10.4, punkt_tab).
        let cases: [(&str, &[&str]); 10] = [
            (
                "Dr. Smith went home. He was tired! OK?",
                &["Dr. Smith went home.", "He was tired!", "OK?"],
            ),
            ("(Sent1.) Sent2.", &["(Sent1.)", "Sent2."]),
            (
                "He said \"Stop.\" Then he left.",
                &["He said \"Stop.\"", "Then he left."],
            ),
            (
                "Very bad acting!!! I promise.",
                &["Very bad acting!!!", "I promise."],
            ),
            ("", &[]),
            ("   ", &[]),
            (
                "J. S. Bach was a composer. He wrote music.",
                &["J. S. Bach was a composer.", "He wrote music."],
            ),
            ("Wait... what? No way.", &["Wait... what?", "No way."]),
            (
                "It costs 3.5 dollars. Cheap.\n\nNew paragraph here",
                &["It costs 3.5 dollars.", "Cheap.", "New paragraph here"],
            ),
            (
                "I live in St. Louis. It is nice.",
                &["I live in St. Louis.", "It is nice."],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(sentences(text), want, "{text:?}");
            assert_eq!(count_sentences(text), want.len());
        }
    }
}
