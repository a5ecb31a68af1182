//! The Punkt model and its word-level work: NLTK's English tables, the
//! punctuation-splitting word tokenizer (`PunktLanguageVars.word_tokenize`)
//! and the two annotation passes that decide which periods end sentences.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::google_ifeval::text::{is_py_space, PY_WORD_CLASS};

const ORTHO_BEG_UC: u32 = 1 << 1;
const ORTHO_MID_UC: u32 = 1 << 2;
const ORTHO_UNK_UC: u32 = 1 << 3;
const ORTHO_BEG_LC: u32 = 1 << 4;
const ORTHO_MID_LC: u32 = 1 << 5;
const ORTHO_UNK_LC: u32 = 1 << 6;
const ORTHO_UC: u32 = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC;
const ORTHO_LC: u32 = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC;

/// The learned tables of a Punkt model.
#[derive(Debug, Default)]
struct Params {
    abbrev_types: HashSet<String>,
    sent_starters: HashSet<String>,
    collocations: HashSet<(String, String)>,
    ortho_context: HashMap<String, u32>,
}

fn parse_params(src: &str) -> Params {
    let mut p = Params::default();
    let mut section = "";
    for line in src.split('\n') {
        if matches!(
            line,
            "[abbrev]" | "[starters]" | "[collocations]" | "[ortho]"
        ) {
            section = line;
            continue;
        }
        match section {
            "[abbrev]" if !line.is_empty() => {
                p.abbrev_types.insert(line.to_owned());
            }
            "[starters]" if !line.is_empty() => {
                p.sent_starters.insert(line.to_owned());
            }
            "[collocations]" => {
                if let Some((a, b)) = line.split_once('\t') {
                    p.collocations.insert((a.to_owned(), b.to_owned()));
                }
            }
            "[ortho]" => {
                if let Some((k, v)) = line.split_once('\t') {
                    if let Ok(v) = v.parse() {
                        p.ortho_context.insert(k.to_owned(), v);
                    }
                }
            }
            _ => {}
        }
    }
    p
}

static ENGLISH: LazyLock<Params> = LazyLock::new(|| parse_params(include_str!("english.tsv")));

static RE_NUMERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^-?[.,]?\d[\d,.\-]*\.?$").expect("static regex compiles"));
static RE_INITIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^[{PY_WORD_CLASS}--\d]\.$")).expect("static regex compiles")
});

/// Characters that cannot appear inside a word (`_re_non_word_chars`).
pub(super) fn is_non_word(c: char) -> bool {
    matches!(
        c,
        ')' | '"'
            | ';'
            | '}'
            | ']'
            | '*'
            | ':'
            | '@'
            | '\''
            | '('
            | '{'
            | '['
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201c}'
            | '\u{201d}'
            | '\u{ab}'
            | '\u{bb}'
            | '?'
            | '!'
    )
}

/// Characters that cannot start a word token (`_re_word_start` excludes them).
fn is_not_word_start(c: char) -> bool {
    matches!(
        c,
        '(' | '"'
            | '`'
            | '{'
            | '['
            | ':'
            | ';'
            | '&'
            | '#'
            | '*'
            | '@'
            | ')'
            | '}'
            | ']'
            | '-'
            | ','
    )
}

/// Length of the multi-character punctuation (`--`, `..`, `. . .`) at `i`.
fn multi_char_at(c: &[char], i: usize) -> Option<usize> {
    let run = |ch: char| c[i..].iter().take_while(|&&x| x == ch).count();
    let hyphens = run('-');
    if hyphens >= 2 {
        return Some(hyphens);
    }
    let dots = run('.');
    if dots >= 2 {
        return Some(dots);
    }
    // (?:\.\s){2,}\.  — greedy repetitions, backing off until a dot follows.
    let mut reps = 0;
    while i + 2 * reps + 1 < c.len() && c[i + 2 * reps] == '.' && is_py_space(c[i + 2 * reps + 1]) {
        reps += 1;
    }
    (2..=reps)
        .rev()
        .find(|r| c.get(i + 2 * r) == Some(&'.'))
        .map(|r| 2 * r + 1)
}

/// Whether a lazily growing word may end before position `j`.
fn word_may_end(c: &[char], j: usize) -> bool {
    let boundary = |k: usize| {
        k == c.len() || is_py_space(c[k]) || is_non_word(c[k]) || multi_char_at(c, k).is_some()
    };
    boundary(j) || (c[j] == ',' && boundary(j + 1))
}

/// `PunktLanguageVars.word_tokenize` on one line.
fn word_tokenize_line(line: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if is_py_space(line[i]) {
            i += 1;
            continue;
        }
        let len = if let Some(n) = multi_char_at(line, i) {
            n
        } else if !is_not_word_start(line[i]) {
            let mut j = i + 1;
            while j < line.len() && !is_py_space(line[j]) && !word_may_end(line, j) {
                j += 1;
            }
            j - i
        } else {
            1
        };
        out.push(line[i..i + len].iter().collect());
        i += len;
    }
    out
}

/// A word token with its first-pass and second-pass annotations.
#[derive(Debug)]
struct Token {
    tok: String,
    typ: String,
    sentbreak: bool,
    abbr: bool,
    ellipsis: bool,
}

impl Token {
    fn new(tok: String) -> Self {
        let lower = tok.to_lowercase();
        let typ = if RE_NUMERIC.is_match(&lower) {
            "##number##".to_owned()
        } else {
            lower
        };
        Self {
            tok,
            typ,
            sentbreak: false,
            abbr: false,
            ellipsis: false,
        }
    }

    fn period_final(&self) -> bool {
        self.tok.ends_with('.')
    }

    fn type_no_period(&self) -> &str {
        if self.typ.chars().count() > 1 && self.typ.ends_with('.') {
            &self.typ[..self.typ.len() - 1]
        } else {
            &self.typ
        }
    }

    fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak {
            self.type_no_period()
        } else {
            &self.typ
        }
    }

    fn first_upper(&self) -> bool {
        self.tok.chars().next().is_some_and(char::is_uppercase)
    }

    fn first_lower(&self) -> bool {
        self.tok.chars().next().is_some_and(char::is_lowercase)
    }

    fn is_initial(&self) -> bool {
        RE_INITIAL.is_match(&self.tok)
    }
}

fn first_pass(t: &mut Token, p: &Params) {
    let tok = t.tok.as_str();
    if matches!(tok, "." | "?" | "!") {
        t.sentbreak = true;
    } else if tok.len() >= 2 && tok.chars().all(|c| c == '.') {
        t.ellipsis = true;
    } else if t.period_final() && !tok.ends_with("..") {
        let stem = tok[..tok.len() - 1].to_lowercase();
        let last = stem.rsplit('-').next().unwrap_or(&stem);
        if p.abbrev_types.contains(&stem) || p.abbrev_types.contains(last) {
            t.abbr = true;
        } else {
            t.sentbreak = true;
        }
    }
}

/// `_ortho_heuristic`: `Some(true)` starts a sentence, `Some(false)` does not,
/// `None` is "unknown".
fn ortho_heuristic(t: &Token, p: &Params) -> Option<bool> {
    if matches!(t.tok.as_str(), ";" | ":" | "," | "." | "!" | "?") {
        return Some(false);
    }
    let ctx = p
        .ortho_context
        .get(t.type_no_sentperiod())
        .copied()
        .unwrap_or(0);
    if t.first_upper() && ctx & ORTHO_LC != 0 && ctx & ORTHO_MID_UC == 0 {
        return Some(true);
    }
    if t.first_lower() && (ctx & ORTHO_UC != 0 || ctx & ORTHO_BEG_LC == 0) {
        return Some(false);
    }
    None
}

fn second_pass(t1: &mut Token, t2: &Token, p: &Params) {
    if !t1.period_final() {
        return;
    }
    let typ = t1.type_no_period().to_owned();
    let next_typ = t2.type_no_sentperiod();
    let is_initial = t1.is_initial();
    if p.collocations.contains(&(typ.clone(), next_typ.to_owned())) {
        t1.sentbreak = false;
        t1.abbr = true;
        return;
    }
    if (t1.abbr || t1.ellipsis) && !is_initial {
        if ortho_heuristic(t2, p) == Some(true) {
            t1.sentbreak = true;
            return;
        }
        if t2.first_upper() && p.sent_starters.contains(next_typ) {
            t1.sentbreak = true;
            return;
        }
    }
    if is_initial || typ == "##number##" {
        let starter = ortho_heuristic(t2, p);
        if starter == Some(false) {
            t1.sentbreak = false;
            t1.abbr = true;
            return;
        }
        let ctx = p.ortho_context.get(next_typ).copied().unwrap_or(0);
        if starter.is_none() && is_initial && t2.first_upper() && ctx & ORTHO_LC == 0 {
            t1.sentbreak = false;
            t1.abbr = true;
        }
    }
}

/// `text_contains_sentbreak` with the English model: some token follows the
/// first sentence break.
pub(super) fn contains_sentbreak(context: &[char]) -> bool {
    let p = &*ENGLISH;
    let mut toks: Vec<Token> = Vec::new();
    for line in context.split(|&c| c == '\n') {
        if line.iter().any(|&c| !is_py_space(c)) {
            toks.extend(word_tokenize_line(line).into_iter().map(Token::new));
        }
    }
    toks.iter_mut().for_each(|t| first_pass(t, p));
    for i in 0..toks.len() {
        if let [t1, t2, ..] = &mut toks[i..] {
            second_pass(t1, t2, p);
        }
    }
    toks.iter()
        .position(|t| t.sentbreak)
        .is_some_and(|i| i + 1 < toks.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_tables_load_completely() {
        let p = &*ENGLISH;
        assert_eq!(p.abbrev_types.len(), 156);
        assert!(p.abbrev_types.contains(". . "));
        assert_eq!(p.sent_starters.len(), 39);
        assert_eq!(p.collocations.len(), 37);
        assert_eq!(p.ortho_context.len(), 20366);
        assert_eq!(p.ortho_context.get("ability"), Some(&100));
    }

    #[test]
    fn word_tokens_match_punkt_language_vars() {
        let t = |s: &str| word_tokenize_line(&s.chars().collect::<Vec<_>>());
        // Expected values from `PunktLanguageVars().word_tokenize(...)`.
        assert_eq!(
            t("Hello, world... (Dr. Who) said: \"yes!\""),
            [
                "Hello", ",", "world", "...", "(", "Dr.", "Who", ")", "said", ":", "\"", "yes",
                "!", "\""
            ]
        );
        assert_eq!(
            t("a--b . . . c 3,000,5 x,y"),
            ["a", "--", "b", ". . .", "c", "3,000,5", "x,y"]
        );
    }
}
