//! The one validation path: raw TOML text → checked [`Registry`]. Builtin
//! definitions and an author's extra directory both go through [`build`].
//! Competition files are checked here, the schedule in [`schedule`].

mod schedule;

use std::collections::BTreeMap;

use gauntlet_constants::CompetitionId;

use crate::raw::{self, CompetitionFile, ScheduleFile};
use crate::{
    Competition, CompetitionError, Constraints, DatasetId, DatasetKwargs, Epsilon, EvalMethod,
    EvalTask, IfEvalVersion, Normalization, Registry, TaskSet, TokenizerPolicy,
};

/// How far a sum of weights or shares may stray from 1.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// A definition file's text and where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// Where the text came from: a file path, or `builtin:<file>`.
    pub origin: String,
    /// The TOML text.
    pub text: String,
}

pub(super) type Result<T> = std::result::Result<T, CompetitionError>;

/// Parses and validates competition files and a schedule into a registry.
pub(crate) fn build(competitions: &[Source], schedule: &Source) -> Result<Registry> {
    let competitions_texts = competitions;
    let mut by_id: BTreeMap<u16, Competition> = BTreeMap::new();
    for source in competitions {
        let file: CompetitionFile = parse(source)?;
        let competition = competition(file, &source.origin)?;
        let f = &source.origin;
        if let Some(other) = by_id.get(&competition.id.0) {
            let msg = format!(
                "id {} is already used by {} ({})",
                competition.id, other.name, other.source
            );
            return Err(CompetitionError::invalid(f, "id", msg));
        }
        if let Some(other) = by_id
            .values()
            .find(|c| c.name.eq_ignore_ascii_case(&competition.name))
        {
            let msg = format!(
                "name {:?} is already used by id {} ({})",
                competition.name, other.id, other.source
            );
            return Err(CompetitionError::invalid(f, "name", msg));
        }
        by_id.insert(competition.id.0, competition);
    }
    let competitions: Vec<Competition> = by_id.into_values().collect();
    let file: ScheduleFile = parse(schedule)?;
    let entries = schedule::entries(file, &schedule.origin, &competitions)?;
    Ok(Registry::new(
        competitions,
        entries,
        crate::registry::Definitions {
            competitions: competitions_texts.to_vec(),
            schedule: schedule.clone(),
        },
    ))
}

fn parse<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T> {
    toml::from_str(&source.text)
        .map_err(|e| CompetitionError::parse(&source.origin, &source.text, &e))
}

fn competition(file: CompetitionFile, f: &str) -> Result<Competition> {
    let name = file.name.trim().to_owned();
    if name.is_empty() || name.parse::<u16>().is_ok() {
        return Err(CompetitionError::invalid(
            f,
            "name",
            "must be non-empty and not a number",
        ));
    }
    let constraints = constraints(file.constraints, f)?;
    if !file.retired && file.task_sets.is_empty() {
        return Err(CompetitionError::invalid(
            f,
            "task_sets",
            "an active competition needs at least one task set",
        ));
    }
    let mut task_sets: Vec<TaskSet> = Vec::with_capacity(file.task_sets.len());
    for (i, set) in file.task_sets.into_iter().enumerate() {
        let set = task_set(set, f, &format!("task_sets[{i}]"))?;
        if task_sets.iter().any(|s| s.version == set.version) {
            let msg = format!("version {} is defined twice", set.version);
            return Err(CompetitionError::invalid(
                f,
                format!("task_sets[{i}].version"),
                msg,
            ));
        }
        task_sets.push(set);
    }
    Ok(Competition {
        id: CompetitionId(file.id),
        name,
        description: file.description.trim().to_owned(),
        retired: file.retired,
        constraints,
        task_sets,
        references: crate::reference::references(file.references, f)?,
        source: f.to_owned(),
    })
}

fn constraints(c: raw::ConstraintsTable, f: &str) -> Result<Constraints> {
    let bad = |field: &str, msg: String| {
        CompetitionError::invalid(f, format!("constraints.{field}"), msg)
    };
    if c.max_params == 0 {
        return Err(bad("max_params", "must be greater than 0".into()));
    }
    if c.min_params > c.max_params {
        return Err(bad(
            "min_params",
            format!("{} exceeds max_params {}", c.min_params, c.max_params),
        ));
    }
    if c.sequence_length == 0 {
        return Err(bad("sequence_length", "must be greater than 0".into()));
    }
    if c.max_repo_bytes == 0 {
        return Err(bad("max_repo_bytes", "must be greater than 0".into()));
    }
    if c.architectures.is_empty() || c.architectures.iter().any(|a| a.trim().is_empty()) {
        return Err(bad(
            "architectures",
            "must list at least one non-empty class name".into(),
        ));
    }
    if let TokenizerPolicy::Fixed(fixed) = &c.tokenizer {
        fixed.check().map_err(|msg| bad("tokenizer", msg))?;
    }
    let max_eval_seconds = c
        .max_eval_seconds
        .unwrap_or(crate::DEFAULT_MAX_EVAL_SECONDS);
    if max_eval_seconds == 0 {
        return Err(bad("max_eval_seconds", "must be greater than 0".into()));
    }
    let epsilon = match c.epsilon {
        raw::EpsilonTable::Fixed { value } => Epsilon::Fixed(value),
        raw::EpsilonTable::LinearDecay { start, end, blocks } => {
            Epsilon::LinearDecay { start, end, blocks }
        }
    };
    epsilon.check().map_err(|msg| bad("epsilon", msg))?;
    for (field, level) in [
        ("significance", c.significance),
        ("early_stop", c.early_stop),
    ] {
        if let Some(level) = level {
            if !(level > 0.5 && level < 1.0) {
                return Err(bad(
                    field,
                    format!("{level} is not a confidence level in (0.5, 1)"),
                ));
            }
        }
    }
    c.weight_norm
        .check()
        .map_err(|msg| bad("weight_norm", msg))?;
    Ok(Constraints {
        max_params: c.max_params,
        min_params: c.min_params,
        sequence_length: c.sequence_length,
        architectures: c.architectures,
        tokenizer: c.tokenizer,
        eval_block_delay: c.eval_block_delay,
        epsilon,
        max_repo_bytes: c.max_repo_bytes,
        weight_norm: c.weight_norm,
        max_eval_seconds,
        significance: c.significance,
        early_stop: c.early_stop,
    })
}

fn task_set(set: raw::TaskSetTable, f: &str, path: &str) -> Result<TaskSet> {
    if set.tasks.is_empty() {
        return Err(CompetitionError::invalid(
            f,
            format!("{path}.tasks"),
            "a task set needs at least one task",
        ));
    }
    let mut tasks: Vec<EvalTask> = Vec::with_capacity(set.tasks.len());
    for (j, t) in set.tasks.into_iter().enumerate() {
        let t = task(t, f, &format!("{path}.tasks[{j}]"))?;
        if tasks.iter().any(|other| other.name == t.name) {
            let msg = format!("task {:?} appears twice in this task set", t.name);
            return Err(CompetitionError::invalid(
                f,
                format!("{path}.tasks[{j}].name"),
                msg,
            ));
        }
        tasks.push(t);
    }
    check_sum(
        tasks.iter().map(|t| t.weight),
        f,
        &format!("{path}.tasks[].weight"),
        "task weights",
    )?;
    Ok(TaskSet {
        version: set.version,
        tasks,
    })
}

fn task(t: raw::TaskTable, f: &str, path: &str) -> Result<EvalTask> {
    let bad =
        |field: &str, msg: String| CompetitionError::invalid(f, format!("{path}.{field}"), msg);
    let name = t.name.trim().to_owned();
    if name.is_empty() {
        return Err(bad("name", "must be non-empty".into()));
    }
    let method = EvalMethod::from_name(&t.method).ok_or_else(|| {
        bad(
            "method",
            format!(
                "unknown eval method {:?} (known: {})",
                t.method,
                EvalMethod::known_names()
            ),
        )
    })?;
    let dataset = DatasetId::from_name(&t.dataset).ok_or_else(|| {
        bad(
            "dataset",
            format!(
                "unknown dataset {:?} (known: {})",
                t.dataset,
                DatasetId::known_names()
            ),
        )
    })?;
    if !dataset.feeds(method) {
        return Err(bad(
            "dataset",
            format!("method {method} cannot run on dataset {dataset}"),
        ));
    }
    let normalization = normalization(t.normalization.as_deref(), t.normalization_kwargs, &bad)?;
    if t.dataset_kwargs.samples == 0 {
        return Err(bad(
            "dataset_kwargs.samples",
            "must be greater than 0".into(),
        ));
    }
    let if_eval_version = match (method, t.dataset_kwargs.if_eval_version.as_deref()) {
        (EvalMethod::IfEval, Some(v)) => Some(IfEvalVersion::from_name(v).ok_or_else(|| {
            let known = IfEvalVersion::known_names();
            bad(
                "dataset_kwargs.if_eval_version",
                format!("unknown version {v:?} (known: {known})"),
            )
        })?),
        (EvalMethod::IfEval, None) => {
            return Err(bad(
                "dataset_kwargs.if_eval_version",
                "required for method if_eval".into(),
            ))
        }
        (_, Some(_)) => {
            return Err(bad(
                "dataset_kwargs.if_eval_version",
                format!("only method if_eval takes it, not {method}"),
            ))
        }
        (_, None) => None,
    };
    if !(t.weight.is_finite() && t.weight > 0.0) {
        return Err(bad(
            "weight",
            format!("must be a finite number greater than 0, got {}", t.weight),
        ));
    }
    Ok(EvalTask {
        name,
        method,
        dataset,
        normalization,
        dataset_kwargs: DatasetKwargs {
            samples: t.dataset_kwargs.samples,
            if_eval_version,
        },
        weight: t.weight,
    })
}

fn normalization(
    kind: Option<&str>,
    kwargs: Option<raw::NormalizationKwargs>,
    bad: &dyn Fn(&str, String) -> CompetitionError,
) -> Result<Normalization> {
    let ceiling = kwargs.as_ref().and_then(|k| k.ceiling);
    match kind.unwrap_or("none") {
        "none" if kwargs.is_some() => Err(bad(
            "normalization_kwargs",
            "normalization \"none\" takes no kwargs".into(),
        )),
        "none" => Ok(Normalization::None),
        "inverse_exponential" => match ceiling {
            Some(c) if c.is_finite() && c > 0.0 => {
                Ok(Normalization::InverseExponential { ceiling: c })
            }
            Some(c) => Err(bad(
                "normalization_kwargs.ceiling",
                format!("must be finite and greater than 0, got {c}"),
            )),
            None => Err(bad(
                "normalization_kwargs.ceiling",
                "required for inverse_exponential".into(),
            )),
        },
        other => Err(bad(
            "normalization",
            format!("unknown normalization {other:?} (known: none, inverse_exponential)"),
        )),
    }
}

pub(super) fn check_sum(
    values: impl Iterator<Item = f64>,
    f: &str,
    field: &str,
    what: &str,
) -> Result<()> {
    let sum: f64 = values.sum();
    if (sum - 1.0).abs() > SUM_TOLERANCE {
        let msg = format!("{what} sum to {sum}, but must sum to 1 (within {SUM_TOLERANCE:e})");
        return Err(CompetitionError::invalid(f, field, msg));
    }
    Ok(())
}
