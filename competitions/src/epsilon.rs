//! Epsilon: the advantage an older model keeps over a newer one in pairwise
//! comparisons, as a function of the older model's age in blocks.

use gauntlet_constants::Block;

/// How much an earlier model's loss is discounted when compared with a later
/// one (REFERENCE §1, §4): the earlier model's loss is multiplied by
/// `1 - epsilon`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Epsilon {
    /// The same epsilon at every age.
    Fixed(f64),
    /// Starts at `start` when the model is committed and falls linearly to
    /// `end` over `blocks` blocks of age, then stays at `end`.
    LinearDecay {
        /// Epsilon at age 0.
        start: f64,
        /// Epsilon once the model is `blocks` blocks old or older.
        end: f64,
        /// Blocks over which epsilon decays.
        blocks: u64,
    },
}

impl Epsilon {
    /// Epsilon at `current_block` for a model committed at `model_block`.
    ///
    /// `LinearDecay` is `start - min(max(cur - model, 0) / blocks, 1) · (start - end)`
    /// as in the reference. Ages past `blocks` return `end` exactly, and the
    /// result is clamped between `start` and `end` so rounding can never take
    /// it outside. A model "from the future" has age 0; `blocks == 0` means
    /// fully decayed at once.
    pub fn at(&self, current_block: Block, model_block: Block) -> f64 {
        match *self {
            Epsilon::Fixed(e) => e,
            Epsilon::LinearDecay { start, end, blocks } => {
                let age = current_block.0.saturating_sub(model_block.0);
                if blocks == 0 || age >= blocks {
                    return end;
                }
                // Both below 2^53 in any realistic chain, so exact as f64.
                let fraction = age as f64 / blocks as f64;
                let value = start - fraction * (start - end);
                value.max(start.min(end)).min(start.max(end))
            }
        }
    }

    /// Checks the parameters: every epsilon in `[0, 1)`, `end <= start`,
    /// `blocks > 0`. Returns the reason when they are not.
    pub fn check(&self) -> Result<(), String> {
        let in_range = |e: f64| e.is_finite() && (0.0..1.0).contains(&e);
        match *self {
            Epsilon::Fixed(e) if !in_range(e) => Err(format!("epsilon {e} is not in [0, 1)")),
            Epsilon::Fixed(_) => Ok(()),
            Epsilon::LinearDecay { start, end, blocks } => {
                if !in_range(start) || !in_range(end) {
                    Err(format!(
                        "start {start} and end {end} must both be in [0, 1)"
                    ))
                } else if end > start {
                    Err(format!("end {end} is greater than start {start}"))
                } else if blocks == 0 {
                    Err("blocks must be greater than 0".to_owned())
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Valid linear decays: `0 <= end <= start < 1`, `blocks >= 1`.
    fn linear_decay() -> impl Strategy<Value = Epsilon> {
        (0.0f64..0.99, 0.0f64..1.0, 1u64..1_000_000).prop_map(|(start, frac, blocks)| {
            Epsilon::LinearDecay {
                start,
                end: start * frac,
                blocks,
            }
        })
    }

    #[test]
    fn reference_values() {
        let eps = Epsilon::LinearDecay {
            start: 0.05,
            end: 0.01,
            blocks: 7200,
        };
        assert_eq!(eps.at(Block(100), Block(100)), 0.05);
        assert!((eps.at(Block(3700), Block(100)) - 0.03).abs() < 1e-12);
        assert_eq!(eps.at(Block(7300), Block(100)), 0.01);
        assert_eq!(
            eps.at(Block(50), Block(100)),
            0.05,
            "future model has age 0"
        );
    }

    #[test]
    fn check_rejects_bad_parameters() {
        assert!(Epsilon::Fixed(0.1).check().is_ok());
        assert!(Epsilon::Fixed(1.0).check().is_err());
        assert!(Epsilon::Fixed(f64::NAN).check().is_err());
        let bad_order = Epsilon::LinearDecay {
            start: 0.01,
            end: 0.05,
            blocks: 10,
        };
        assert!(bad_order.check().is_err());
        let no_blocks = Epsilon::LinearDecay {
            start: 0.05,
            end: 0.01,
            blocks: 0,
        };
        assert!(no_blocks.check().is_err());
    }

    proptest! {
        #[test]
        fn linear_decay_is_monotone_non_increasing(
            eps in linear_decay(),
            model in 0u64..10_000_000,
            a in 0u64..2_000_000,
            b in 0u64..2_000_000,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let at = |age: u64| eps.at(Block(model + age), Block(model));
            prop_assert!(at(hi) <= at(lo));
        }

        #[test]
        fn linear_decay_stays_between_end_and_start(
            eps in linear_decay(), model in 0u64..10_000_000, cur in 0u64..20_000_000,
        ) {
            if let Epsilon::LinearDecay { start, end, .. } = eps {
                let e = eps.at(Block(cur), Block(model));
                prop_assert!(end <= e && e <= start, "{e} not in [{end}, {start}]");
            }
        }

        #[test]
        fn linear_decay_endpoints(
            eps in linear_decay(),
            model in 0u64..10_000_000,
            extra in 0u64..1_000_000,
        ) {
            if let Epsilon::LinearDecay { start, end, blocks } = eps {
                prop_assert_eq!(eps.at(Block(model), Block(model)), start);
                prop_assert_eq!(eps.at(Block(model + blocks), Block(model)), end);
                prop_assert_eq!(eps.at(Block(model + blocks + extra), Block(model)), end);
            }
        }

        #[test]
        fn fixed_is_constant(e in 0.0f64..1.0, model in 0u64..u64::MAX, cur in 0u64..u64::MAX) {
            prop_assert_eq!(Epsilon::Fixed(e).at(Block(cur), Block(model)), e);
        }
    }
}
