//! The eval-method table: one line per method, keyed by [`EvalMethod`].
//!
//! Each line gives the method's stable discriminant (never reused), its name
//! in competition files and on the command line, and the [`Eval`]
//! implementation that runs it. The suite, `gauntlet eval --task` and the
//! competition validation all read this table: the sample kind a method takes
//! (and so which datasets can feed it), the capabilities it needs and how it
//! runs come from its implementation. Adding a method is a line here and the
//! file that implements it (docs/COMPETITIONS.md).

use std::fmt;

use crate::backend::Capability;
use crate::eval::{AnyEval, Eval, EvalOptions};
use crate::samples::{SampleKind, SampleSet};

#[cfg(test)]
mod answer_length;

macro_rules! methods {
    (
        $($(#[doc = $doc:literal])* $variant:ident = $id:literal => $name:literal, $eval:ty;)*
        @test_only: $($(#[doc = $tdoc:literal])* $tvariant:ident = $tid:literal => $tname:literal, $teval:ty;)*
    ) => {
        /// How a task scores a model (the reference's `EvalMethodId`, plus
        /// Gauntlet's own). Every method yields a loss: lower is better.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EvalMethod {
            $($(#[doc = $doc])* $variant = $id,)*
            $($(#[doc = $tdoc])* #[cfg(test)] $tvariant = $tid,)*
        }

        impl EvalMethod {
            /// Every method, in table order.
            #[cfg(not(test))]
            pub const ALL: &'static [EvalMethod] = &[$(EvalMethod::$variant,)*];
            /// Every method, in table order (the test-only ones last).
            #[cfg(test)]
            pub const ALL: &'static [EvalMethod] =
                &[$(EvalMethod::$variant,)* $(EvalMethod::$tvariant,)*];

            /// The name used in definition files.
            pub fn name(self) -> &'static str {
                match self {
                    $(EvalMethod::$variant => $name,)*
                    $(#[cfg(test)] EvalMethod::$tvariant => $tname,)*
                }
            }

            /// Parses a name as written in definition files (exact match).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(EvalMethod::$variant),)*
                    $(#[cfg(test)] $tname => Some(EvalMethod::$tvariant),)*
                    _ => None,
                }
            }

            /// The method configured by `opts`, ready to run.
            pub fn eval(self, opts: &EvalOptions) -> Box<dyn AnyEval> {
                match self {
                    $(EvalMethod::$variant => Box::new(<$eval as Eval>::configure(opts)),)*
                    $(#[cfg(test)] EvalMethod::$tvariant => Box::new(<$teval as Eval>::configure(opts)),)*
                }
            }

            /// The kind of sample the method takes.
            pub fn sample_kind(self) -> SampleKind {
                match self {
                    $(EvalMethod::$variant => <<$eval as Eval>::Sample as SampleSet>::KIND,)*
                    $(#[cfg(test)] EvalMethod::$tvariant => <<$teval as Eval>::Sample as SampleSet>::KIND,)*
                }
            }
        }
    };
}

methods! {
    /// Generated answers to four-choice questions; raw = fraction wrong.
    MultipleChoice = 1 => "multiple_choice", crate::multiple_choice::MultipleChoice;
    /// Mean cross-entropy over a reference continuation of a prompt.
    ReferenceLoss = 2 => "reference_loss", crate::tasks::ReferenceLoss;
    /// Mean cross-entropy over whole documents, with a sanity guard.
    TextLoss = 3 => "text_loss", crate::tasks::TextLoss;
    /// The reference's synthetic instruction-following eval (V1/V2).
    IfEval = 4 => "if_eval", crate::tasks::IfEval;
    /// Google's IFEval benchmark (strict accuracy, as a loss).
    GoogleIfeval = 5 => "google_ifeval", crate::google_ifeval::GoogleIfeval;
    /// Four-choice questions by the log-likelihood of each choice letter
    /// (lm-eval style, no generation); raw = fraction wrong.
    MultipleChoiceLikelihood = 6 => "multiple_choice_likelihood", crate::likelihood::MultipleChoiceLikelihood;
  @test_only:
    /// The example of docs/COMPETITIONS.md: the mean length of generated
    /// answers to multiple-choice questions, in words.
    AnswerLength = 99 => "answer_length", answer_length::AnswerLength;
}

impl EvalMethod {
    /// All names, comma-separated, for error messages.
    pub fn known_names() -> String {
        Self::ALL
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The capabilities the method needs from a backend.
    pub fn needs(self) -> &'static [Capability] {
        self.eval(&EvalOptions::default()).needs()
    }

    /// The name with `-` for `_` (`multiple-choice`), as `--task` takes it.
    pub fn cli_name(self) -> String {
        self.name().replace('_', "-")
    }

    /// Parses a `--task` name (`multiple-choice` or `multiple_choice`).
    pub fn from_cli_name(name: &str) -> Option<Self> {
        Self::from_name(&name.replace('-', "_"))
    }
}

impl fmt::Display for EvalMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_discriminants_are_stable() {
        for m in EvalMethod::ALL {
            assert_eq!(EvalMethod::from_name(m.name()), Some(*m));
            assert_eq!(EvalMethod::from_cli_name(&m.cli_name()), Some(*m));
        }
        assert_eq!(EvalMethod::MultipleChoice as u8, 1);
        assert_eq!(EvalMethod::MultipleChoiceLikelihood as u8, 6);
        assert_eq!(EvalMethod::from_name("MULTIPLE_CHOICE"), None);
    }

    #[test]
    fn every_method_states_its_needs() {
        use Capability as C;
        assert_eq!(EvalMethod::MultipleChoice.needs(), &[C::Generate]);
        assert_eq!(EvalMethod::ReferenceLoss.needs(), &[C::ChatLogprobs]);
        assert_eq!(EvalMethod::TextLoss.needs(), &[C::Logprobs, C::Generate]);
        assert_eq!(
            EvalMethod::MultipleChoiceLikelihood.needs(),
            &[C::ChatLogprobs]
        );
    }
}
