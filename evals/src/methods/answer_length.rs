//! A test-only eval, the worked example of docs/COMPETITIONS.md: the mean
//! length of a model's answers to multiple-choice questions, in words (a
//! "loss" that rewards brevity). Adding it took this file and one line of
//! the method table (`methods/mod.rs`); the tests below run it through that
//! table and check that no other source file names it.

use crate::backend::{generator, Backend, Capability, Prompt, Sampling};
use crate::error::EvalError;
use crate::eval::{Eval, EvalOptions, EvalScore};
use crate::multiple_choice::{prompt, McItem};

/// Mean answer length in words.
#[derive(Debug, Clone, Copy)]
pub struct AnswerLength {
    batch_size: usize,
}

impl Eval for AnswerLength {
    type Sample = McItem;
    const NAME: &'static str = "answer_length";

    fn configure(opts: &EvalOptions) -> Self {
        Self {
            batch_size: opts.batch_size,
        }
    }

    fn needs(&self) -> &'static [Capability] {
        &[Capability::Generate]
    }

    fn evaluate(
        &self,
        model: &mut dyn Backend,
        samples: &[McItem],
        progress: &mut dyn FnMut(usize),
    ) -> Result<EvalScore, EvalError> {
        let prompts: Vec<Prompt> = samples.iter().map(|s| Prompt::user(prompt(s))).collect();
        let sampling = Sampling {
            max_new_tokens: 20,
            batch_hint: self.batch_size,
            ..Sampling::default()
        };
        let answers = generator(model, Self::NAME)?
            .generate(&prompts, &sampling, progress)
            .map_err(EvalError::Model)?;
        EvalScore::mean_of(
            answers
                .iter()
                .map(|a| Some(a.text.split_whitespace().count() as f64))
                .collect(),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use std::path::{Path, PathBuf};

    use crate::backend::{Backend, Generate, Generation, Score, Tokenize};
    use crate::model::ModelError;
    use crate::{EvalError, EvalMethod, EvalOptions, Samples};

    /// Answers every prompt with its own index in words ("one two …").
    struct Counting;

    impl Generate for Counting {
        fn generate(
            &mut self,
            prompts: &[Prompt],
            _: &Sampling<'_>,
            progress: &mut dyn FnMut(usize),
        ) -> Result<Vec<Generation>, ModelError> {
            progress(prompts.len());
            Ok((0..prompts.len())
                .map(|i| Generation {
                    text: vec!["word"; i + 1].join(" "),
                    ..Generation::default()
                })
                .collect())
        }
    }

    impl Backend for Counting {
        fn describe(&self) -> String {
            "a counting double".into()
        }
        fn generator(&mut self) -> Option<&mut dyn Generate> {
            Some(self)
        }
        fn scorer(&mut self) -> Option<&mut dyn Score> {
            None
        }
        fn tokenizer(&mut self) -> Option<&mut dyn Tokenize> {
            None
        }
    }

    use super::*;

    fn items(n: usize) -> Samples {
        Samples::MultipleChoice(
            (0..n)
                .map(|i| McItem {
                    question: format!("q{i}"),
                    choices: vec!["a".into(), "b".into()],
                    answer: "A".into(),
                })
                .collect(),
        )
    }

    #[test]
    fn runs_through_the_method_table() {
        let method = EvalMethod::from_name("answer_length").unwrap();
        assert_eq!(method.sample_kind(), crate::SampleKind::MultipleChoice);
        let eval = method.eval(&EvalOptions::default());
        let mut done = 0;
        let score = eval
            .run(&mut Counting, &items(3), &mut |n| done += n)
            .unwrap();
        assert_eq!(score.raw_score, 2.0); // (1 + 2 + 3) / 3 words
        assert_eq!(done, 3);
        let wrong = eval.run(
            &mut Counting,
            &Samples::Documents(vec!["x".into()]),
            &mut |_| {},
        );
        assert!(matches!(wrong, Err(EvalError::InvalidSample(_))));
    }

    /// Every `.rs` file under `dir`, skipping build output and hidden folders.
    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    sources(&path, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn adding_it_touched_two_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let mut naming: Vec<String> = files
            .iter()
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                text.contains("answer_length") || text.contains("AnswerLength")
            })
            .map(|p| {
                p.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        naming.sort();
        assert_eq!(
            naming,
            [
                "evals/src/methods/answer_length.rs",
                "evals/src/methods/mod.rs"
            ]
        );
    }
}
