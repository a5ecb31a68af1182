//! TAO amounts, exact: parsed from decimal text into integer rao, never
//! through a float.

use crate::PoolError;

/// Rao in one TAO.
pub const RAO_PER_TAO: u64 = 1_000_000_000;

/// An amount of TAO, held in rao.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tao(u64);

impl Tao {
    /// The amount of `rao` rao.
    pub fn from_rao(rao: u64) -> Self {
        Self(rao)
    }

    /// The amount in rao.
    pub fn rao(self) -> u64 {
        self.0
    }

    /// Parses a positive decimal amount of TAO (`1000`, `0.5`, `12.000000001`):
    /// at most 9 decimals, nothing negative, zero or beyond `u64` rao.
    pub fn parse(text: &str) -> Result<Self, PoolError> {
        let bad = |why: &str| PoolError::Amount {
            text: text.to_owned(),
            reason: why.to_owned(),
        };
        let t = text.trim();
        if t.starts_with('-') {
            return Err(bad("negative"));
        }
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(bad("empty"));
        }
        if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad("not a decimal number"));
        }
        if frac.len() > 9 {
            return Err(bad("more than 9 decimals (1 rao = 1e-9 TAO)"));
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad("too large"))?
        };
        let frac_rao: u64 = format!("{frac:0<9}")
            .parse()
            .map_err(|_| bad("not a number"))?;
        let rao = whole
            .checked_mul(RAO_PER_TAO)
            .and_then(|r| r.checked_add(frac_rao))
            .ok_or_else(|| bad("too large"))?;
        if rao == 0 {
            return Err(bad("zero"));
        }
        Ok(Self(rao))
    }
}

impl std::fmt::Display for Tao {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let frac = self.0 % RAO_PER_TAO;
        if frac == 0 {
            write!(f, "{}", self.0 / RAO_PER_TAO)
        } else {
            let digits = format!("{frac:09}");
            write!(
                f,
                "{}.{}",
                self.0 / RAO_PER_TAO,
                digits.trim_end_matches('0')
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly_and_prints_back() {
        for (text, rao) in [
            ("1000", 1_000 * RAO_PER_TAO),
            ("0.5", 500_000_000),
            ("12.000000001", 12 * RAO_PER_TAO + 1),
            (".25", 250_000_000),
            ("7.", 7 * RAO_PER_TAO),
        ] {
            let t = Tao::parse(text).expect(text);
            assert_eq!(t.rao(), rao, "{text}");
            assert_eq!(Tao::parse(&t.to_string()).expect("again"), t);
        }
        assert_eq!(Tao::from_rao(1_500_000_000).to_string(), "1.5");
    }

    #[test]
    fn refuses_zero_negative_garbage_and_overflow() {
        for text in [
            "0",
            "0.000",
            "-1",
            "",
            ".",
            "1e3",
            "1,5",
            "0.0000000001",
            "99999999999999999999",
        ] {
            assert!(Tao::parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
