//! Normalisation of raw task scores (losses, lower is better) into `[0, 1]`
//! before tasks are weighted together (REFERENCE §2).

use serde::{Deserialize, Serialize};

/// Inverse-exponential normalisation with a ceiling `c`:
/// `1 if s >= c else (1 - e^(-s/c)) / (1 - e^(-1))`.
///
/// It is 0 at 0, rises steeply for small losses and reaches 1 at the
/// ceiling, so differences between good models (small losses) stay visible
/// while a diverging model cannot drag the combined score past 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InverseExponential {
    /// The raw score at and above which the result is 1 (must be > 0).
    pub ceiling: f64,
}

impl InverseExponential {
    /// Normalises `score`. NaN and +inf (a failed eval) give 1; a negative
    /// score gives 0; a non-positive or NaN ceiling makes every score 1.
    pub fn apply(&self, score: f64) -> f64 {
        let c = self.ceiling;
        if score.is_nan() || c.is_nan() || c <= 0.0 || score >= c {
            return 1.0;
        }
        if score <= 0.0 {
            return 0.0;
        }
        let value = (1.0 - (-score / c).exp()) / (1.0 - (-1.0f64).exp());
        value.clamp(0.0, 1.0)
    }
}

/// How a task's raw score is normalised.
///
/// Serialised with a `kind` tag: `{"kind": "none"}` or
/// `{"kind": "inverse_exponential", "ceiling": 40.0}`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Normalization {
    /// The raw score is used unchanged (a failed eval's +inf stays +inf, as
    /// in the reference).
    #[default]
    None,
    /// See [`InverseExponential`].
    InverseExponential(InverseExponential),
}

impl Normalization {
    /// Normalises `score`.
    pub fn apply(&self, score: f64) -> f64 {
        match self {
            Normalization::None => score,
            Normalization::InverseExponential(n) => n.apply(score),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn inv(ceiling: f64) -> InverseExponential {
        InverseExponential { ceiling }
    }

    #[test]
    fn reference_points() {
        let n = inv(40.0);
        assert_eq!(n.apply(0.0), 0.0);
        assert_eq!(n.apply(40.0), 1.0);
        assert_eq!(n.apply(1e9), 1.0);
        assert_eq!(n.apply(f64::INFINITY), 1.0);
        assert_eq!(n.apply(f64::NAN), 1.0);
        assert_eq!(n.apply(-3.0), 0.0);
        // (1 - e^-0.5) / (1 - e^-1) for s = c/2.
        let half = (1.0 - (-0.5f64).exp()) / (1.0 - (-1.0f64).exp());
        assert!((n.apply(20.0) - half).abs() < 1e-15);
        assert!((half - 0.6224593312018546).abs() < 1e-12);
        assert_eq!(inv(0.0).apply(0.5), 1.0);
        assert_eq!(inv(f64::NAN).apply(0.5), 1.0);
    }

    #[test]
    fn none_is_identity() {
        assert_eq!(Normalization::None.apply(0.37), 0.37);
        assert_eq!(Normalization::None.apply(f64::INFINITY), f64::INFINITY);
        let n = Normalization::InverseExponential(inv(20.0));
        assert_eq!(n.apply(f64::INFINITY), 1.0);
    }

    #[test]
    fn serde_shape() {
        let n = Normalization::InverseExponential(inv(40.0));
        let json = serde_json::to_string(&n).unwrap_or_default();
        assert_eq!(json, r#"{"kind":"inverse_exponential","ceiling":40.0}"#);
        let back: Normalization = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, n);
        let none: Result<Normalization, _> = serde_json::from_str(r#"{"kind":"none"}"#);
        assert_eq!(none.ok(), Some(Normalization::None));
        let typo: Result<Normalization, _> =
            serde_json::from_str(r#"{"kind":"inverse_exponential","cieling":4}"#);
        assert!(typo.is_err());
    }

    proptest! {
        #[test]
        fn monotone(c in 0.01f64..1000.0, a in 0.0f64..2000.0, b in 0.0f64..2000.0) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(inv(c).apply(lo) <= inv(c).apply(hi));
        }

        #[test]
        fn within_unit_interval(c in 0.01f64..1000.0, s in -1000.0f64..1e6) {
            let v = inv(c).apply(s);
            prop_assert!((0.0..=1.0).contains(&v), "{v}");
        }

        #[test]
        fn zero_at_zero_one_at_ceiling(c in 1e-3f64..1e4, extra in 0.0f64..1e4) {
            prop_assert_eq!(inv(c).apply(0.0), 0.0);
            prop_assert_eq!(inv(c).apply(c), 1.0);
            prop_assert_eq!(inv(c).apply(c + extra), 1.0);
        }

        #[test]
        fn continuous_just_below_ceiling(c in 0.1f64..1000.0) {
            let just_below = c * (1.0 - 1e-9);
            prop_assert!((inv(c).apply(just_below) - 1.0).abs() < 1e-6);
        }
    }
}
