//! Conversions from dataset samples and competition definitions to the eval
//! crate's inputs.

use gauntlet_competitions::Normalization as CompNormalization;
use gauntlet_datasets::{McRow, ReferenceSample};
use gauntlet_evals::multiple_choice::McItem;
use gauntlet_evals::normalize::{InverseExponential, Normalization};
use gauntlet_evals::tasks::ReferencePrompt;
use gauntlet_evals::ChatMessage;

/// A competition's normalisation as the eval crate applies it.
pub(crate) fn normalization(n: CompNormalization) -> Normalization {
    match n {
        CompNormalization::None => Normalization::None,
        CompNormalization::InverseExponential { ceiling } => {
            Normalization::InverseExponential(InverseExponential { ceiling })
        }
    }
}

/// A dataset row as a multiple-choice item.
pub(crate) fn mc_item(row: &McRow) -> McItem {
    McItem {
        question: row.question.clone(),
        choices: row.choices.clone(),
        answer: row.answer.clone(),
    }
}

/// A reference sample as a prompt: optional system turn, then the user turn.
pub(crate) fn reference_prompt(s: &ReferenceSample) -> ReferencePrompt {
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = &s.system {
        messages.push(ChatMessage::system(system.clone()));
    }
    messages.push(ChatMessage::user(s.user.clone()));
    ReferencePrompt {
        messages,
        reference: s.reference.clone(),
    }
}

/// The correct answer's text of a multiple-choice row (IFEval keywords are
/// drawn from it), or the letter itself when it names no choice.
pub(crate) fn answer_text(row: &McRow) -> &str {
    let index = row
        .answer
        .trim()
        .chars()
        .next()
        .and_then(|c| (c as usize).checked_sub('A' as usize));
    match index.and_then(|i| row.choices.get(i)) {
        Some(choice) => choice,
        None => &row.answer,
    }
}
