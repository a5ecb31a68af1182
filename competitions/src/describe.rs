//! Competitions as JSON, the one shape that `gauntlet competitions --json`
//! and the dashboard's API give them in.

use serde_json::{json, Value};

use crate::{Competition, Epsilon, Normalization, Registry, TokenizerPolicy};

/// The epsilon rule in words (`fixed 0.005`, `linear 0.05 → 0.01 over 7200 blocks`).
pub fn epsilon(e: &Epsilon) -> String {
    match e {
        Epsilon::Fixed(v) => format!("fixed {v}"),
        Epsilon::LinearDecay { start, end, blocks } => {
            format!("linear {start} → {end} over {blocks} blocks")
        }
    }
}

/// The tokenizer policy in words (`own`, `fixed <repo>`).
pub fn tokenizer(t: &TokenizerPolicy) -> String {
    match t {
        TokenizerPolicy::Own => "own".into(),
        TokenizerPolicy::Fixed(repo) => format!("fixed {repo}"),
    }
}

/// A competition: id, name, constraints and every task set with its tasks.
pub fn competition(c: &Competition) -> Value {
    let k = &c.constraints;
    json!({
        "id": c.id.0,
        "name": c.name,
        "description": c.description,
        "retired": c.retired,
        "source": c.source,
        "constraints": {
            "max_params": k.max_params,
            "min_params": k.min_params,
            "sequence_length": k.sequence_length,
            "architectures": k.architectures,
            "tokenizer": tokenizer(&k.tokenizer),
            "eval_block_delay": k.eval_block_delay,
            "max_repo_bytes": k.max_repo_bytes,
            "epsilon": epsilon(&k.epsilon),
            "significance": k.significance,
            "early_stop": k.early_stop,
        },
        "task_sets": c.task_sets.iter().map(|s| json!({
            "version": s.version,
            "tasks": s.tasks.iter().map(|t| json!({
                "name": t.name,
                "method": t.method.name(),
                "dataset": t.dataset.name(),
                "samples": t.dataset_kwargs.samples,
                "weight": t.weight,
                "normalization": match t.normalization {
                    Normalization::None => json!(null),
                    Normalization::InverseExponential { ceiling } => json!({"inverse_exponential": ceiling}),
                },
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The schedule (each entry's start block and competitions with their reward
/// shares and task sets) and every competition.
pub fn registry(registry: &Registry) -> Value {
    let name = |id| {
        registry
            .get(id)
            .map(|c: &Competition| c.name.clone())
            .unwrap_or_else(|| format!("#{}", id.0))
    };
    let schedule: Vec<Value> = registry
        .schedule()
        .iter()
        .map(|e| {
            json!({
                "start_block": e.start_block.0,
                "competitions": e.competitions.iter().map(|s| json!({
                    "id": s.id.0, "name": name(s.id), "reward_share": s.reward_share, "task_set": s.task_set,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let competitions: Vec<Value> = registry.competitions().iter().map(competition).collect();
    json!({"schedule": schedule, "competitions": competitions})
}
