//! Strict and loose judging of responses and the four IFEval accuracies,
//! following `if_verifiable/common.py` (`evaluate_instructions`).

use serde::Serialize;

use super::check::check_following;
use super::error::IfevalError;
use super::instruction::Instruction;
use super::prompt::IfevalPrompt;
use super::text::py_strip;

/// `strip_thinking`: the trimmed text after the first `</think>`; an
/// unfinished `<think>` block leaves nothing.
pub fn strip_thinking(content: &str) -> &str {
    let s = py_strip(content);
    if let Some((_, after)) = s.split_once("</think>") {
        return py_strip(after);
    }
    if s.starts_with("<think>") {
        return "";
    }
    s
}

/// `get_loose_transformations`, in Python's order: the response; it without
/// `*`; it without its first line, last line, both (each trimmed); and those
/// three without `*`.
pub fn loose_variants(response: &str) -> Vec<String> {
    let lines: Vec<&str> = response.split('\n').collect();
    let n = lines.len();
    let join = |from: usize, to: usize| py_strip(&lines[from.min(to)..to].join("\n")).to_owned();
    let remove_first = join(1, n);
    let remove_last = join(0, n - 1);
    let remove_both = join(1, n - 1);
    let unstar = |s: &str| s.replace('*', "");
    let starless = [
        unstar(&remove_first),
        unstar(&remove_last),
        unstar(&remove_both),
    ];
    let mut out = vec![
        response.to_owned(),
        unstar(response),
        remove_first,
        remove_last,
        remove_both,
    ];
    out.extend(starless);
    out
}

/// The strict check: a non-blank response that follows the instruction.
pub fn check(instruction: &Instruction, response: &str) -> bool {
    !py_strip(response).is_empty() && check_following(instruction, response)
}

/// The loose check: any non-blank [`loose_variants`] follows the instruction.
pub fn check_loose(instruction: &Instruction, response: &str) -> bool {
    loose_variants(response)
        .iter()
        .any(|v| check(instruction, v))
}

/// How one response fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptOutcome {
    /// The prompt's key.
    pub key: i64,
    /// The instruction ids, in the prompt's order.
    pub instruction_ids: Vec<&'static str>,
    /// Strict verdict per instruction.
    pub strict: Vec<bool>,
    /// Loose verdict per instruction.
    pub loose: Vec<bool>,
}

impl PromptOutcome {
    /// Every instruction followed strictly (false for a prompt without any).
    pub fn all_strict(&self) -> bool {
        !self.strict.is_empty() && self.strict.iter().all(|&b| b)
    }

    /// Every instruction followed loosely (false for a prompt without any).
    pub fn all_loose(&self) -> bool {
        !self.loose.is_empty() && self.loose.iter().all(|&b| b)
    }
}

/// Judges one response (reasoning blocks removed first). A blank response
/// fails every instruction.
pub fn judge(prompt: &IfevalPrompt, response: &str) -> PromptOutcome {
    let response = strip_thinking(response);
    let ids = prompt.instructions.iter().map(Instruction::id).collect();
    if response.is_empty() {
        let none = vec![false; prompt.instructions.len()];
        return PromptOutcome {
            key: prompt.key,
            instruction_ids: ids,
            strict: none.clone(),
            loose: none,
        };
    }
    let variants = loose_variants(response);
    let strict = prompt
        .instructions
        .iter()
        .map(|i| check(i, response))
        .collect();
    let loose = prompt
        .instructions
        .iter()
        .map(|i| variants.iter().any(|v| check(i, v)))
        .collect();
    PromptOutcome {
        key: prompt.key,
        instruction_ids: ids,
        strict,
        loose,
    }
}

/// The four IFEval accuracies (higher is better) with per-prompt outcomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IfevalScore {
    /// Fraction of prompts whose instructions all pass strictly.
    pub prompt_strict: f64,
    /// Fraction of prompts whose instructions all pass loosely.
    pub prompt_loose: f64,
    /// Fraction of all instructions (pooled over prompts) passed strictly.
    pub instruction_strict: f64,
    /// Fraction of all instructions passed loosely.
    pub instruction_loose: f64,
    /// One outcome per prompt, in input order.
    pub per_prompt: Vec<PromptOutcome>,
}

/// Scores `responses[i]` against `prompts[i]`.
pub fn score<S: AsRef<str>>(
    prompts: &[IfevalPrompt],
    responses: &[S],
) -> Result<IfevalScore, IfevalError> {
    if prompts.len() != responses.len() {
        return Err(IfevalError::LengthMismatch {
            prompts: prompts.len(),
            responses: responses.len(),
        });
    }
    if prompts.is_empty() {
        return Err(IfevalError::Empty);
    }
    let per_prompt: Vec<PromptOutcome> = prompts
        .iter()
        .zip(responses)
        .map(|(p, r)| judge(p, r.as_ref()))
        .collect();
    let n = per_prompt.len() as f64;
    let frac = |num: usize, den: usize| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let total: usize = per_prompt.iter().map(|o| o.strict.len()).sum();
    let passed = |f: fn(&PromptOutcome) -> &Vec<bool>| {
        per_prompt
            .iter()
            .map(|o| f(o).iter().filter(|&&b| b).count())
            .sum::<usize>()
    };
    Ok(IfevalScore {
        prompt_strict: per_prompt.iter().filter(|o| o.all_strict()).count() as f64 / n,
        prompt_loose: per_prompt.iter().filter(|o| o.all_loose()).count() as f64 / n,
        instruction_strict: frac(passed(|o| &o.strict), total),
        instruction_loose: frac(passed(|o| &o.loose), total),
        per_prompt,
    })
}
