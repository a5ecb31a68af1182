//! Rule kinds: the reference's rule ids, the version pools and which rules
//! may be given together.

use serde::{Deserialize, Serialize};

/// The kind of a rule, with the reference's rule ids as explicit
/// discriminants (12, "starts with", is not implemented by the reference and
/// stays unused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Rule 1: at most `n` words.
    WordCountAtMost = 1,
    /// Rule 2: at least `n` words.
    WordCountAtLeast = 2,
    /// Rule 3: at most `n` sentences.
    SentenceCountAtMost = 3,
    /// Rule 4: at least `n` sentences.
    SentenceCountAtLeast = 4,
    /// Rule 5: every cased letter upper case.
    AllUpperCase = 5,
    /// Rule 6: every cased letter lower case.
    AllLowerCase = 6,
    /// Rule 7: no commas.
    NoCommas = 7,
    /// Rule 8: a keyword appears.
    KeywordIncluded = 8,
    /// Rule 9: a keyword appears exactly `n` times.
    KeywordFrequency = 9,
    /// Rule 10: a keyword does not appear.
    KeywordForbidden = 10,
    /// Rule 11: exactly `n` bullet points.
    BulletCount = 11,
    /// Rule 13: ends with a fixed phrase.
    EndsWith = 13,
    /// Rule 14: wrapped in double quotation marks.
    Quotation = 14,
}

impl RuleKind {
    /// Rules 1–7, the V1 pool.
    pub const V1: [RuleKind; 7] = [
        RuleKind::WordCountAtMost,
        RuleKind::WordCountAtLeast,
        RuleKind::SentenceCountAtMost,
        RuleKind::SentenceCountAtLeast,
        RuleKind::AllUpperCase,
        RuleKind::AllLowerCase,
        RuleKind::NoCommas,
    ];

    /// Every implemented rule, the V2 pool.
    pub const ALL: [RuleKind; 13] = [
        RuleKind::WordCountAtMost,
        RuleKind::WordCountAtLeast,
        RuleKind::SentenceCountAtMost,
        RuleKind::SentenceCountAtLeast,
        RuleKind::AllUpperCase,
        RuleKind::AllLowerCase,
        RuleKind::NoCommas,
        RuleKind::KeywordIncluded,
        RuleKind::KeywordFrequency,
        RuleKind::KeywordForbidden,
        RuleKind::BulletCount,
        RuleKind::EndsWith,
        RuleKind::Quotation,
    ];

    /// The reference's rule id.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// Whether two rules may be given together (symmetric). Never combined:
    /// an at-most count (words or sentences) with the other at-most count,
    /// with either at-least count, with bullets or with an ending phrase;
    /// upper with lower case; an ending phrase with quotation marks; two
    /// keyword rules (as in the reference); a rule with itself.
    pub fn compatible_with(self, other: RuleKind) -> bool {
        use RuleKind as K;
        let conflicts = |a: K, b: K| match a {
            K::WordCountAtMost | K::SentenceCountAtMost => matches!(
                b,
                K::WordCountAtMost
                    | K::SentenceCountAtMost
                    | K::WordCountAtLeast
                    | K::SentenceCountAtLeast
                    | K::BulletCount
                    | K::EndsWith
            ),
            K::AllUpperCase => b == K::AllLowerCase,
            K::EndsWith => b == K::Quotation,
            K::KeywordIncluded | K::KeywordFrequency | K::KeywordForbidden => matches!(
                b,
                K::KeywordIncluded | K::KeywordFrequency | K::KeywordForbidden
            ),
            _ => false,
        };
        self != other && !conflicts(self, other) && !conflicts(other, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_is_symmetric_and_matches_the_table() {
        use RuleKind as K;
        for a in RuleKind::ALL {
            assert!(!a.compatible_with(a));
            for b in RuleKind::ALL {
                assert_eq!(a.compatible_with(b), b.compatible_with(a), "{a:?} {b:?}");
            }
        }
        assert!(!K::WordCountAtMost.compatible_with(K::SentenceCountAtMost));
        assert!(!K::SentenceCountAtMost.compatible_with(K::WordCountAtLeast));
        assert!(!K::WordCountAtMost.compatible_with(K::BulletCount));
        assert!(!K::SentenceCountAtMost.compatible_with(K::EndsWith));
        assert!(!K::AllUpperCase.compatible_with(K::AllLowerCase));
        assert!(!K::EndsWith.compatible_with(K::Quotation));
        assert!(!K::KeywordIncluded.compatible_with(K::KeywordForbidden));
        assert!(K::WordCountAtLeast.compatible_with(K::SentenceCountAtLeast));
        assert!(K::NoCommas.compatible_with(K::Quotation));
        assert!(K::BulletCount.compatible_with(K::EndsWith));
    }

    #[test]
    fn ids_are_the_reference_ones() {
        let ids: Vec<u8> = RuleKind::ALL.iter().map(|k| k.id()).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14]);
    }
}
