//! A port of Python's `difflib.SequenceMatcher(...).ratio()` over characters,
//! used by the IFEval duplicate-answer guard. Validators must agree on which
//! answers are "near-identical", so this follows difflib step by step,
//! including its junk and "popular element" (autojunk) heuristics.

use std::collections::{HashMap, HashSet};

/// `difflib.SequenceMatcher(None, a, b).ratio()` over the characters of `a`
/// and `b`: `2·M / (len(a) + len(b))` where `M` is the number of characters
/// in the matching blocks, and 1.0 when both are empty.
///
/// As in difflib, the result is not symmetric in general, and when `b` has
/// 200 or more characters, characters occurring more than `len(b)/100 + 1`
/// times in `b` are "popular" and never start a match (autojunk).
pub fn ratio(a: &str, b: &str) -> f64 {
    ratio_with_junk(a, b, |_| false)
}

/// `difflib.SequenceMatcher(lambda x: x in " \t", a, b).ratio()`: blanks and
/// tabs are junk. This is the reference validator's similarity score.
pub fn ratio_ignoring_blanks(a: &str, b: &str) -> f64 {
    ratio_with_junk(a, b, |c| c == ' ' || c == '\t')
}

/// `difflib.SequenceMatcher(is_junk, a, b).ratio()` with autojunk on.
pub fn ratio_with_junk(a: &str, b: &str, is_junk: impl Fn(char) -> bool) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let matcher = Matcher::new(&a, &b, is_junk);
    2.0 * matcher.matched() as f64 / total as f64
}

/// difflib's `SequenceMatcher` state for one pair of sequences.
struct Matcher<'s> {
    a: &'s [char],
    b: &'s [char],
    /// For each non-junk, non-popular element of `b`, its indices, ascending.
    b2j: HashMap<char, Vec<usize>>,
    /// Elements of `b` the junk predicate accepted (popular ones excluded).
    bjunk: HashSet<char>,
}

impl<'s> Matcher<'s> {
    /// difflib's `__chain_b`.
    fn new(a: &'s [char], b: &'s [char], is_junk: impl Fn(char) -> bool) -> Self {
        let mut b2j: HashMap<char, Vec<usize>> = HashMap::new();
        for (j, &c) in b.iter().enumerate() {
            b2j.entry(c).or_default().push(j);
        }
        let bjunk: HashSet<char> = b2j.keys().copied().filter(|&c| is_junk(c)).collect();
        b2j.retain(|c, _| !bjunk.contains(c));
        if b.len() >= 200 {
            let ntest = b.len() / 100 + 1;
            b2j.retain(|_, idxs| idxs.len() <= ntest);
        }
        Self { a, b, b2j, bjunk }
    }

    /// Sum of the sizes of difflib's `get_matching_blocks()`.
    fn matched(&self) -> usize {
        let mut total = 0;
        let mut queue = vec![(0, self.a.len(), 0, self.b.len())];
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let (i, j, k) = self.find_longest_match(alo, ahi, blo, bhi);
            if k > 0 {
                total += k;
                if alo < i && blo < j {
                    queue.push((alo, i, blo, j));
                }
                if i + k < ahi && j + k < bhi {
                    queue.push((i + k, ahi, j + k, bhi));
                }
            }
        }
        total
    }

    /// difflib's `find_longest_match`: the longest junk-free match in
    /// `a[alo..ahi]`, `b[blo..bhi]` (earliest in `a`, then in `b`, on ties),
    /// extended by equal non-junk and then equal junk elements on both sides.
    fn find_longest_match(
        &self,
        alo: usize,
        ahi: usize,
        blo: usize,
        bhi: usize,
    ) -> (usize, usize, usize) {
        let (a, b) = (self.a, self.b);
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        // j2len[j] = length of the longest match ending at a[i-1], b[j].
        let mut j2len: HashMap<usize, usize> = HashMap::new();
        for (i, c) in a.iter().enumerate().take(ahi).skip(alo) {
            let mut next: HashMap<usize, usize> = HashMap::new();
            for &j in self.b2j.get(c).map(Vec::as_slice).unwrap_or(&[]) {
                if j < blo {
                    continue;
                }
                if j >= bhi {
                    break;
                }
                let prev = j.checked_sub(1).and_then(|p| j2len.get(&p)).copied();
                let k = prev.unwrap_or(0) + 1;
                next.insert(j, k);
                if k > bestsize {
                    (besti, bestj, bestsize) = (i + 1 - k, j + 1 - k, k);
                }
            }
            j2len = next;
        }
        let junk = |c: char| self.bjunk.contains(&c);
        for want_junk in [false, true] {
            while besti > alo
                && bestj > blo
                && junk(b[bestj - 1]) == want_junk
                && a[besti - 1] == b[bestj - 1]
            {
                (besti, bestj, bestsize) = (besti - 1, bestj - 1, bestsize + 1);
            }
            while besti + bestsize < ahi
                && bestj + bestsize < bhi
                && junk(b[bestj + bestsize]) == want_junk
                && a[besti + bestsize] == b[bestj + bestsize]
            {
                bestsize += 1;
            }
        }
        (besti, bestj, bestsize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values from CPython 3.11's difflib:
    //   from difflib import SequenceMatcher as SM
    //   r  = lambda a, b: SM(None, a, b).ratio()
    //   rb = lambda a, b: SM(lambda x: x in " \t", a, b).ratio()
    // Both compute 2.0 * matches / length in the same order, so the floats
    // must be bit-identical.

    #[test]
    fn short_strings_match_difflib() {
        let cases: &[(&str, &str, f64)] = &[
            ("", "", 1.0),
            ("abc", "", 0.0),
            ("", "abc", 0.0),
            ("abcd", "bcde", 0.75),
            // difflib's documented asymmetry.
            ("tide", "diet", 0.25),
            ("diet", "tide", 0.5),
            (
                "The quick brown fox",
                "The quick brown dog",
                0.8947368421052632,
            ),
            ("naïve café", "naive cafe", 0.8),
            (
                "private Thread currentThread;",
                "private volatile Thread currentThread;",
                0.8656716417910447,
            ),
        ];
        for &(a, b, expected) in cases {
            assert_eq!(ratio(a, b), expected, "ratio({a:?}, {b:?})");
        }
    }

    #[test]
    fn autojunk_applies_from_200_elements() {
        // a = "the cat sat on the mat. " * 10; b = "the dog sat on the log. " * 10
        // r(a, b) == 0.016666666666666666 (autojunk=False would give 0.75)
        let a = "the cat sat on the mat. ".repeat(10);
        let b = "the dog sat on the log. ".repeat(10);
        assert_eq!(ratio(&a, &b), 0.016666666666666666);
        assert_eq!(ratio_ignoring_blanks(&a, &b), 0.016666666666666666);

        // a2 = "".join(chr(97 + (i*7) % 26) for i in range(250)), b2 likewise with 11
        // r(a2, b2) == 0.004 (autojunk=False: 0.336)
        let gen = |step: usize| -> String {
            (0..250u32)
                .filter_map(|i| char::from_u32(97 + (i * step as u32) % 26))
                .collect()
        };
        assert_eq!(ratio(&gen(7), &gen(11)), 0.004);

        // a3 = "Paris is the capital of France. " * 7 (224 chars);
        // b3 = "Berlin is the capital of Germany. " * 7 (238 chars)
        // r(a3, b3) == r(b3, a3) == rb(a3, b3) == 0.0 (autojunk=False: 0.7878787878787878)
        let a3 = "Paris is the capital of France. ".repeat(7);
        let b3 = "Berlin is the capital of Germany. ".repeat(7);
        assert_eq!(ratio(&a3, &b3), 0.0);
        assert_eq!(ratio(&b3, &a3), 0.0);
        assert_eq!(ratio_ignoring_blanks(&a3, &b3), 0.0);

        // a5 = "abcdefghij" * 19 + "xyz"; b5 = "xyz" + "jihgfedcba" * 19 (193 chars: no autojunk)
        // r(a5, b5) == rb(a5, b5) == 0.015544041450777202
        let a5 = format!("{}xyz", "abcdefghij".repeat(19));
        let b5 = format!("xyz{}", "jihgfedcba".repeat(19));
        assert_eq!(ratio(&a5, &b5), 0.015544041450777202);
    }

    #[test]
    fn blank_junk_matches_the_reference_score() {
        // rb("a b c", "a  b c") == r("a b c", "a  b c") == 0.9090909090909091
        // rb(" x\ty ", "x y") == 0.5
        assert_eq!(ratio_ignoring_blanks("a b c", "a  b c"), 0.9090909090909091);
        assert_eq!(ratio("a b c", "a  b c"), 0.9090909090909091);
        assert_eq!(ratio_ignoring_blanks(" x\ty ", "x y"), 0.5);
        // a4/b4 below: r == 0.6620689655172414, rb(a4, b4) == rb(b4, a4) == 0.6344827586206897
        let a4 = "Sure! Here is the answer: 42. Let me know if you have additional questions.";
        let b4 = "SURE, the answer is forty-two; let me know if you have more questions!";
        assert_eq!(ratio(a4, b4), 0.6620689655172414);
        assert_eq!(ratio_ignoring_blanks(a4, b4), 0.6344827586206897);
        assert_eq!(ratio_ignoring_blanks(b4, a4), 0.6344827586206897);
    }

    #[test]
    fn identical_strings_are_fully_similar_below_autojunk() {
        for s in ["x", "hello world", "aaaaaaaaaaaaaaaa"] {
            assert_eq!(ratio(s, s), 1.0);
        }
    }
}
