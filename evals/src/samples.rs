//! [`Samples`]: a task's prepared samples, in the eval methods' own types.
//!
//! Datasets produce these directly (no mirror types, no conversion step);
//! each eval method takes one kind of sample ([`SampleSet`]), so a method and
//! a dataset fit together exactly when their [`SampleKind`]s agree.

use serde::{Deserialize, Serialize};

use crate::google_ifeval::IfevalPrompt;
use crate::ifeval::IfEvalSample;
use crate::multiple_choice::McItem;
use crate::tasks::ReferencePrompt;

/// The kinds of sample a dataset can produce and a method can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleKind {
    /// Multiple-choice questions ([`McItem`]).
    MultipleChoice,
    /// Conversations with a reference answer ([`ReferencePrompt`]).
    Reference,
    /// Whole documents (`String`).
    Documents,
    /// Synthetic IFEval pairs ([`IfEvalSample`]).
    IfEval,
    /// Google's IFEval prompts ([`IfevalPrompt`]).
    GoogleIfeval,
}

/// A task's samples, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "samples", rename_all = "snake_case")]
pub enum Samples {
    /// Multiple-choice questions.
    MultipleChoice(Vec<McItem>),
    /// Conversations with the reference answer whose loss is measured.
    Reference(Vec<ReferencePrompt>),
    /// Whole documents.
    Documents(Vec<String>),
    /// Synthetic IFEval pairs: two prompts with their rules each.
    IfEval(Vec<IfEvalSample>),
    /// Google's IFEval prompts with their parsed instructions.
    GoogleIfeval(Vec<IfevalPrompt>),
}

impl Samples {
    /// Samples (pairs for the synthetic IFEval).
    pub fn len(&self) -> usize {
        match self {
            Samples::MultipleChoice(v) => v.len(),
            Samples::Reference(v) => v.len(),
            Samples::Documents(v) => v.len(),
            Samples::IfEval(v) => v.len(),
            Samples::GoogleIfeval(v) => v.len(),
        }
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples at `indices`, in that order (repeats allowed); `None`
    /// when an index is out of range. Re-running chosen samples of a round
    /// (`gauntlet audit --replay`) evaluates exactly these.
    pub fn select(&self, indices: &[usize]) -> Option<Samples> {
        fn pick<T: Clone>(v: &[T], indices: &[usize]) -> Option<Vec<T>> {
            indices.iter().map(|&i| v.get(i).cloned()).collect()
        }
        Some(match self {
            Samples::MultipleChoice(v) => Samples::MultipleChoice(pick(v, indices)?),
            Samples::Reference(v) => Samples::Reference(pick(v, indices)?),
            Samples::Documents(v) => Samples::Documents(pick(v, indices)?),
            Samples::IfEval(v) => Samples::IfEval(pick(v, indices)?),
            Samples::GoogleIfeval(v) => Samples::GoogleIfeval(pick(v, indices)?),
        })
    }

    /// Appends `items`, each one sample of this kind as [`Samples`]
    /// serialises it (an element of its `samples` list): how a validator's
    /// private items join the public draw, and how an auditor puts back the
    /// private items a ledger published. Nothing is appended when one item
    /// is not a sample of this kind.
    pub fn extend_json(&mut self, items: &[serde_json::Value]) -> Result<(), serde_json::Error> {
        fn parse<T: serde::de::DeserializeOwned>(
            items: &[serde_json::Value],
        ) -> Result<Vec<T>, serde_json::Error> {
            items.iter().map(T::deserialize).collect()
        }
        match self {
            Samples::MultipleChoice(v) => v.extend(parse(items)?),
            Samples::Reference(v) => v.extend(parse(items)?),
            Samples::Documents(v) => v.extend(parse(items)?),
            Samples::IfEval(v) => v.extend(parse(items)?),
            Samples::GoogleIfeval(v) => v.extend(parse(items)?),
        }
        Ok(())
    }

    /// Each sample as [`Samples`] serialises it (the elements of its
    /// `samples` list), in order.
    pub fn to_json_items(&self) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        fn each<T: Serialize>(v: &[T]) -> Result<Vec<serde_json::Value>, serde_json::Error> {
            v.iter().map(serde_json::to_value).collect()
        }
        match self {
            Samples::MultipleChoice(v) => each(v),
            Samples::Reference(v) => each(v),
            Samples::Documents(v) => each(v),
            Samples::IfEval(v) => each(v),
            Samples::GoogleIfeval(v) => each(v),
        }
    }

    /// Their kind.
    pub fn kind(&self) -> SampleKind {
        match self {
            Samples::MultipleChoice(_) => SampleKind::MultipleChoice,
            Samples::Reference(_) => SampleKind::Reference,
            Samples::Documents(_) => SampleKind::Documents,
            Samples::IfEval(_) => SampleKind::IfEval,
            Samples::GoogleIfeval(_) => SampleKind::GoogleIfeval,
        }
    }
}

/// A sample type that [`Samples`] can hold.
pub trait SampleSet: Sized {
    /// Its kind.
    const KIND: SampleKind;

    /// The samples as a slice of this type, when they are of this kind.
    fn slice(samples: &Samples) -> Option<&[Self]>;
}

macro_rules! sample_set {
    ($ty:ty, $variant:ident) => {
        impl SampleSet for $ty {
            const KIND: SampleKind = SampleKind::$variant;
            fn slice(samples: &Samples) -> Option<&[Self]> {
                match samples {
                    Samples::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

sample_set!(McItem, MultipleChoice);
sample_set!(ReferencePrompt, Reference);
sample_set!(String, Documents);
sample_set!(IfEvalSample, IfEval);
sample_set!(IfevalPrompt, GoogleIfeval);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_written_as_json_read_back_as_the_same_samples() {
        let mc = McItem {
            question: "Which?".into(),
            choices: vec!["a".into(), "b".into()],
            answer: "B".into(),
        };
        let mut set = Samples::MultipleChoice(vec![mc.clone()]);
        let items = set.to_json_items().expect("serialises");
        set.extend_json(&items).expect("reads back");
        assert_eq!(set, Samples::MultipleChoice(vec![mc.clone(), mc]));
        // An item of another kind is refused and nothing is appended.
        let mut docs = Samples::Documents(vec!["x".into()]);
        assert!(docs.extend_json(&items).is_err());
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn select_keeps_the_order_asked_and_refuses_a_missing_index() {
        let docs = Samples::Documents(vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(
            docs.select(&[2, 0]),
            Some(Samples::Documents(vec!["c".into(), "a".into()]))
        );
        assert_eq!(docs.select(&[]), Some(Samples::Documents(Vec::new())));
        assert_eq!(docs.select(&[1, 3]), None);
    }
}
