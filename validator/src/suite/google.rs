//! Google's IFEval as a competition task: the dataset rows become prompts
//! with parsed instructions (an unknown instruction or bad arguments fail the
//! task, as a definition error would).

use gauntlet_datasets::GoogleIfevalRow;
use gauntlet_evals::google_ifeval::IfevalPrompt;
use serde_json::json;

/// Parses every row into a prompt with its instructions.
pub(crate) fn prompts(rows: &[GoogleIfevalRow]) -> Result<Vec<IfevalPrompt>, String> {
    rows.iter()
        .map(|r| {
            IfevalPrompt::from_json(&json!({
                "key": r.key,
                "prompt": r.prompt,
                "instruction_id_list": r.instruction_id_list,
                "kwargs": r.kwargs,
            }))
            .map_err(|e| format!("IFEval row {}: {e}", r.key))
        })
        .collect()
}
