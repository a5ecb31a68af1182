//! Drawing a task's samples from a seed: every draw comes from the task's own
//! ChaCha20 stream (`seed.rng(label)`), so the same seed, label and pool give
//! the same samples on every machine.

use gauntlet_competitions::{DatasetId, DatasetKwargs};
use serde::Serialize;

use crate::{
    DataCache, DatasetError, GoogleIfevalRow, McRow, Pools, ReasoningTrace, SampleRng, Seed,
};

/// System prompt of the reasoning-trace tasks (REFERENCE §2, verbatim).
pub const REASONING_SYSTEM_PROMPT: &str = "You are a reflective AI capable of using extended chains of thought to consider the problem thoroughly and deliberate through systematic reasoning to arrive at a correct solution before answering. Enclose your internal monologue in <think> ... </think> tags, then provide your final answer in the format that the user requests.";

/// The word-sorting prompt before the words (the reference's
/// `WORD_SORTING_CHALLENGE_PROMPT`); the words follow, space-separated, then `". "`.
pub const WORD_SORTING_PROMPT: &str = "Sort the following words alphabetically: ";
/// Fewest words in a word-sorting prompt.
pub const MIN_SORT_WORDS: u64 = 2;
/// Most words in a word-sorting prompt.
pub const MAX_SORT_WORDS: u64 = 20;
/// IF_EVAL uses rows whose correct answer has at least this many words.
pub const IF_EVAL_MIN_ANSWER_WORDS: usize = 2;

/// A prompt and the reference answer whose loss is measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceSample {
    /// The system turn, if any.
    pub system: Option<String>,
    /// The user turn.
    pub user: String,
    /// The reference answer.
    pub reference: String,
}

/// The samples of one task, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "samples", rename_all = "snake_case")]
pub enum TaskData {
    /// Four-choice questions.
    MultipleChoice(Vec<McRow>),
    /// Prompts with reference answers.
    Reference(Vec<ReferenceSample>),
    /// Whole documents.
    Documents(Vec<String>),
    /// Question pairs for the synthetic IFEval.
    IfEvalPairs(Vec<[McRow; 2]>),
    /// Google's IFEval prompts.
    GoogleIfeval(Vec<GoogleIfevalRow>),
}

impl TaskData {
    /// Samples (pairs for IFEval).
    pub fn len(&self) -> usize {
        match self {
            TaskData::MultipleChoice(v) => v.len(),
            TaskData::Reference(v) => v.len(),
            TaskData::Documents(v) => v.len(),
            TaskData::IfEvalPairs(v) => v.len(),
            TaskData::GoogleIfeval(v) => v.len(),
        }
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Loads the pool `dataset` needs from `cache` and draws `kwargs.samples`
/// samples with `seed.rng(label)` (see [`task_samples_from`]). To draw for
/// several tasks, load [`Pools`] once and call [`task_samples_from`].
pub fn task_samples(
    cache: &DataCache,
    dataset: DatasetId,
    kwargs: &DatasetKwargs,
    seed: &Seed,
    label: &str,
) -> Result<TaskData, DatasetError> {
    let pools = Pools::load(cache, &[dataset])?;
    task_samples_from(&pools, dataset, kwargs, seed, label)
}

/// Draws exactly `kwargs.samples` samples of `dataset` from `pools`:
/// - SYNTHETIC_MMLU, FINEWEB, GOOGLE_IFEVAL: that many distinct rows
///   ([`SampleRng::choose_indices`], in draw order).
/// - WORD_SORTING: per sample `n = in_range(2, 20)` then `n` distinct words;
///   prompt `"Sort the following words alphabetically: w1 … wn. "`, reference
///   the words sorted (byte order), space-separated; no system turn.
/// - SYNTHETIC_1_SFT, CODEFORCES_COTS: that many distinct traces with
///   [`REASONING_SYSTEM_PROMPT`]; user = problem, reference = solution.
/// - IF_EVAL: `samples + 1` distinct rows whose correct answer has ≥ 2 words,
///   paired as the reference does (`zip(rows, rows[1:])`: row i with row i+1).
///
/// A pool that is not loaded is `Missing`; one too small is `TooFewRows`.
pub fn task_samples_from(
    pools: &Pools,
    dataset: DatasetId,
    kwargs: &DatasetKwargs,
    seed: &Seed,
    label: &str,
) -> Result<TaskData, DatasetError> {
    use DatasetId as D;
    let n = kwargs.samples as usize;
    let mut rng = seed.rng(label);
    let missing = || DataCache::missing(dataset);
    Ok(match dataset {
        D::SyntheticMmlu => TaskData::MultipleChoice(pick(
            pools.mmlu.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::Fineweb => TaskData::Documents(pick(
            pools.documents.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::GoogleIfeval => {
            let rows = pools.google_ifeval.as_deref().ok_or_else(|| DatasetError::Missing {
                dataset,
                hint: "place Google's IFEval input_data.jsonl (the google/IFEval dataset on the Hugging Face \
                       Hub) at $GAUNTLET_CACHE/ifeval/input_data.jsonl or set GAUNTLET_IFEVAL_FILE"
                    .into(),
            })?;
            TaskData::GoogleIfeval(pick(rows, n, dataset, &mut rng)?)
        }
        D::WordSorting => TaskData::Reference(word_sorting(
            pools.words.as_deref().ok_or_else(missing)?,
            n,
            &mut rng,
        )?),
        D::Synthetic1Sft => TaskData::Reference(traces(
            pools.reasoning.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::CodeforcesCots => TaskData::Reference(traces(
            pools.code.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::IfEval => TaskData::IfEvalPairs(if_eval_pairs(
            pools.mmlu.as_deref().ok_or_else(missing)?,
            n,
            &mut rng,
        )?),
    })
}

/// `n` distinct rows in draw order.
fn pick<T: Clone>(
    rows: &[T],
    n: usize,
    dataset: DatasetId,
    rng: &mut SampleRng,
) -> Result<Vec<T>, DatasetError> {
    if rows.len() < n {
        return Err(DatasetError::TooFewRows {
            dataset,
            available: rows.len(),
            requested: n,
        });
    }
    Ok(rng
        .choose_indices(rows.len(), n)
        .into_iter()
        .map(|i| rows[i].clone())
        .collect())
}

fn word_sorting(
    words: &[String],
    n: usize,
    rng: &mut SampleRng,
) -> Result<Vec<ReferenceSample>, DatasetError> {
    if words.len() < MAX_SORT_WORDS as usize {
        return Err(DatasetError::TooFewRows {
            dataset: DatasetId::WordSorting,
            available: words.len(),
            requested: MAX_SORT_WORDS as usize,
        });
    }
    Ok((0..n)
        .map(|_| {
            let count = rng.in_range(MIN_SORT_WORDS, MAX_SORT_WORDS) as usize;
            let mut drawn: Vec<&str> = rng
                .choose_indices(words.len(), count)
                .into_iter()
                .map(|i| words[i].as_str())
                .collect();
            let user = format!("{WORD_SORTING_PROMPT}{}. ", drawn.join(" "));
            drawn.sort_unstable();
            ReferenceSample {
                system: None,
                user,
                reference: drawn.join(" "),
            }
        })
        .collect())
}

fn traces(
    pool: &[ReasoningTrace],
    n: usize,
    dataset: DatasetId,
    rng: &mut SampleRng,
) -> Result<Vec<ReferenceSample>, DatasetError> {
    Ok(pick(pool, n, dataset, rng)?
        .into_iter()
        .map(|t| ReferenceSample {
            system: Some(REASONING_SYSTEM_PROMPT.to_string()),
            user: t.problem,
            reference: t.solution,
        })
        .collect())
}

fn if_eval_pairs(
    rows: &[McRow],
    n: usize,
    rng: &mut SampleRng,
) -> Result<Vec<[McRow; 2]>, DatasetError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let eligible: Vec<&McRow> = rows
        .iter()
        .filter(|r| {
            r.answer_text()
                .is_some_and(|a| a.split_whitespace().count() >= IF_EVAL_MIN_ANSWER_WORDS)
        })
        .collect();
    if eligible.len() < n + 1 {
        return Err(DatasetError::TooFewRows {
            dataset: DatasetId::IfEval,
            available: eligible.len(),
            requested: n + 1,
        });
    }
    let chosen: Vec<&McRow> = rng
        .choose_indices(eligible.len(), n + 1)
        .into_iter()
        .map(|i| eligible[i])
        .collect();
    Ok(chosen
        .windows(2)
        .map(|w| [w[0].clone(), w[1].clone()])
        .collect())
}
