//! Eval tasks: which method scores a competition on which dataset, how the
//! raw score is normalised, and with what weight.

use std::fmt;

pub use gauntlet_evals::{EvalMethod, SampleKind};

/// Defines a name-mapped enum with explicit, never-reused discriminants, a
/// `name()`/`from_name()` pair and `Display`.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $($(#[$vmeta:meta])* $variant:ident = $id:literal => $name:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $ty { $($(#[$vmeta])* $variant = $id,)* }

        impl $ty {
            /// Every variant, in discriminant order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant,)*];

            /// The name used in definition files.
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name,)* }
            }

            /// Parses a name as written in definition files (exact match).
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($name => Some($ty::$variant),)* _ => None }
            }

            /// All names, comma-separated, for error messages.
            pub(crate) fn known_names() -> String {
                Self::ALL.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum! {
    /// A dataset an eval task draws its samples from.
    pub enum DatasetId {
        /// Four-choice questions (MMLU-style).
        SyntheticMmlu = 1 => "SYNTHETIC_MMLU",
        /// Generated word-sorting prompts with their sorted reference.
        WordSorting = 2 => "WORD_SORTING",
        /// Web documents (FineWeb-style).
        Fineweb = 3 => "FINEWEB",
        /// Question pairs for the synthetic IFEval.
        IfEval = 4 => "IF_EVAL",
        /// Reasoning traces (SYNTHETIC-1 SFT).
        Synthetic1Sft = 5 => "SYNTHETIC_1_SFT",
        /// Competitive-programming chains of thought (codeforces-cots).
        CodeforcesCots = 6 => "CODEFORCES_COTS",
        /// Google's IFEval prompts.
        GoogleIfeval = 7 => "GOOGLE_IFEVAL",
    }
}

named_enum! {
    /// Version of the synthetic IFEval rule set (REFERENCE §2).
    pub enum IfEvalVersion {
        /// 1..=4 rules drawn from rules 1–7 (length, casing, commas).
        V1 = 1 => "v1",
        /// 2..=5 rules drawn from all rules (adds keywords, bullets, endings, quotes).
        V2 = 2 => "v2",
    }
}

impl DatasetId {
    /// The kind of sample the dataset produces.
    pub fn sample_kind(self) -> SampleKind {
        use DatasetId as D;
        match self {
            D::SyntheticMmlu => SampleKind::MultipleChoice,
            D::WordSorting | D::Synthetic1Sft | D::CodeforcesCots => SampleKind::Reference,
            D::Fineweb => SampleKind::Documents,
            D::IfEval => SampleKind::IfEval,
            D::GoogleIfeval => SampleKind::GoogleIfeval,
        }
    }

    /// Whether this dataset can feed `method`: it produces the kind of
    /// sample the method takes.
    pub fn feeds(self, method: EvalMethod) -> bool {
        method.sample_kind() == self.sample_kind()
    }
}

/// How a task's raw score (a loss) is mapped into `[0, 1]` before weighting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Normalization {
    /// The raw score is used as is.
    None,
    /// `1 if s >= c else (1 - e^(-s/c)) / (1 - e^(-1))` with `c = ceiling`.
    InverseExponential {
        /// The raw score at and above which the normalised score is 1.
        ceiling: f64,
    },
}

/// Dataset parameters of a task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DatasetKwargs {
    /// Samples to draw (pairs for IFEval).
    pub samples: u32,
    /// The IFEval rule-set version; set exactly when the method is `if_eval`.
    pub if_eval_version: Option<IfEvalVersion>,
}

/// One eval task of a competition.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalTask {
    /// The task's name, unique within its task set (e.g. `IF_EVAL_V2`).
    pub name: String,
    /// How the model is scored.
    pub method: EvalMethod,
    /// Where the samples come from.
    pub dataset: DatasetId,
    /// How the raw score is normalised.
    pub normalization: Normalization,
    /// Dataset parameters.
    pub dataset_kwargs: DatasetKwargs,
    /// Weight of the normalised score in the competition score; the weights of
    /// a task set sum to 1.
    pub weight: f64,
}

/// A versioned list of eval tasks of one competition; the schedule says which
/// version applies at which block.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSet {
    /// The version number, unique within the competition.
    pub version: u32,
    /// The tasks, with weights summing to 1.
    pub tasks: Vec<EvalTask>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DatasetId::ALL {
            assert_eq!(DatasetId::from_name(d.name()), Some(*d));
        }
        assert_eq!(IfEvalVersion::from_name("v2"), Some(IfEvalVersion::V2));
    }

    #[test]
    fn every_dataset_has_a_method() {
        for d in DatasetId::ALL {
            assert!(EvalMethod::ALL.iter().any(|m| d.feeds(*m)), "{d}");
        }
    }
}
