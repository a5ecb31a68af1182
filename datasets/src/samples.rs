//! Drawing a task's samples from a seed: every draw comes from the task's own
//! ChaCha20 stream (`seed.rng(label)`), so the same seed, label and pool give
//! the same samples on every machine. Samples come out as the eval methods'
//! own types ([`Samples`]).

use gauntlet_competitions::{DatasetId, DatasetKwargs, IfEvalVersion};
use gauntlet_evals::google_ifeval::IfevalPrompt;
use gauntlet_evals::ifeval::{self, IfEvalSample, Question};
use gauntlet_evals::tasks::ReferencePrompt;
use gauntlet_evals::{ChatMessage, Samples};
use serde_json::json;

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

/// Loads the pool `dataset` needs from `cache` and draws `kwargs.samples`
/// samples with `seed.rng(label)` (see [`task_samples_from`]). To draw for
/// several tasks, load [`Pools`] once and call [`task_samples_from`].
pub fn task_samples(
    cache: &DataCache,
    dataset: DatasetId,
    kwargs: &DatasetKwargs,
    seed: &Seed,
    label: &str,
) -> Result<Samples, DatasetError> {
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
///   paired as the reference does (`zip(rows, rows[1:])`: row i with row i+1);
///   each pair's rules drawn from the stream `seed.rng("{label}/rules")` (so
///   they do not depend on how many draws the questions took) for
///   `kwargs.if_eval_version` (V2 when absent).
/// - GOOGLE_IFEVAL rows are parsed into prompts with their instructions; an
///   unknown instruction or bad arguments is [`DatasetError::InvalidRow`].
///
/// A pool that is not loaded is `Missing`; one too small is `TooFewRows`.
pub fn task_samples_from(
    pools: &Pools,
    dataset: DatasetId,
    kwargs: &DatasetKwargs,
    seed: &Seed,
    label: &str,
) -> Result<Samples, DatasetError> {
    use DatasetId as D;
    let n = kwargs.samples as usize;
    let mut rng = seed.rng(label);
    let missing = || DataCache::missing(dataset);
    Ok(match dataset {
        D::SyntheticMmlu => Samples::MultipleChoice(pick(
            pools.mmlu.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::Fineweb => Samples::Documents(pick(
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
            Samples::GoogleIfeval(google_prompts(&pick(rows, n, dataset, &mut rng)?)?)
        }
        D::WordSorting => Samples::Reference(word_sorting(
            pools.words.as_deref().ok_or_else(missing)?,
            n,
            &mut rng,
        )?),
        D::Synthetic1Sft => Samples::Reference(traces(
            pools.reasoning.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::CodeforcesCots => Samples::Reference(traces(
            pools.code.as_deref().ok_or_else(missing)?,
            n,
            dataset,
            &mut rng,
        )?),
        D::IfEval => {
            let pairs = if_eval_pairs(pools.mmlu.as_deref().ok_or_else(missing)?, n, &mut rng)?;
            let version = match kwargs.if_eval_version {
                Some(IfEvalVersion::V1) => ifeval::IfEvalVersion::V1,
                _ => ifeval::IfEvalVersion::V2,
            };
            Samples::IfEval(if_eval_samples(&pairs, version, seed, label))
        }
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
) -> Result<Vec<ReferencePrompt>, DatasetError> {
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
            ReferencePrompt {
                messages: vec![ChatMessage::user(user)],
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
) -> Result<Vec<ReferencePrompt>, DatasetError> {
    Ok(pick(pool, n, dataset, rng)?
        .into_iter()
        .map(|t| ReferencePrompt {
            messages: vec![
                ChatMessage::system(REASONING_SYSTEM_PROMPT),
                ChatMessage::user(t.problem),
            ],
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

/// Draws each pair's rules and builds its two prompts.
fn if_eval_samples(
    pairs: &[[McRow; 2]],
    version: ifeval::IfEvalVersion,
    seed: &Seed,
    label: &str,
) -> Vec<IfEvalSample> {
    let mut rng = seed.rng(&format!("{label}/rules"));
    let mut draw = rng.as_draw();
    pairs
        .iter()
        .map(|[a, b]| {
            let questions = [
                Question {
                    question: &a.question,
                    answer: answer_text(a),
                },
                Question {
                    question: &b.question,
                    answer: answer_text(b),
                },
            ];
            ifeval::sample_pair(version, questions, &mut draw)
        })
        .collect()
}

/// The correct answer's text of a row (IFEval keywords are drawn from it),
/// or the letter itself when it names no choice.
fn answer_text(row: &McRow) -> &str {
    row.answer_text().unwrap_or(&row.answer)
}

/// Google's IFEval rows as prompts with parsed instructions.
fn google_prompts(rows: &[GoogleIfevalRow]) -> Result<Vec<IfevalPrompt>, DatasetError> {
    rows.iter()
        .map(|r| {
            IfevalPrompt::from_json(&json!({
                "key": r.key,
                "prompt": r.prompt,
                "instruction_id_list": r.instruction_id_list,
                "kwargs": r.kwargs,
            }))
            .map_err(|e| DatasetError::InvalidRow {
                dataset: DatasetId::GoogleIfeval,
                row: format!("key {}", r.key),
                reason: e.to_string(),
            })
        })
        .collect()
}
