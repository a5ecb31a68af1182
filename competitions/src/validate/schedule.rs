//! Validation of the schedule file against the loaded competitions.

use std::collections::HashSet;

use gauntlet_constants::Block;

use super::{check_sum, Result};
use crate::raw::{self, ScheduleFile};
use crate::{Competition, CompetitionError, CompetitionShare, ScheduleEntry};

pub(super) fn entries(
    file: ScheduleFile,
    f: &str,
    competitions: &[Competition],
) -> Result<Vec<ScheduleEntry>> {
    if file.entries.is_empty() {
        return Err(CompetitionError::invalid(
            f,
            "entry",
            "the schedule needs at least one entry",
        ));
    }
    let mut entries: Vec<ScheduleEntry> = Vec::with_capacity(file.entries.len());
    for (i, e) in file.entries.into_iter().enumerate() {
        let path = format!("entry[{i}]");
        let start_ok = match entries.last() {
            None => e.start_block == 0,
            Some(prev) => e.start_block > prev.start_block.0,
        };
        if !start_ok {
            let msg = if i == 0 {
                format!(
                    "the first entry must start at block 0, not {}",
                    e.start_block
                )
            } else {
                format!(
                    "{} does not come after the previous entry's start",
                    e.start_block
                )
            };
            return Err(CompetitionError::invalid(
                f,
                format!("{path}.start_block"),
                msg,
            ));
        }
        if e.competitions.is_empty() {
            return Err(CompetitionError::invalid(
                f,
                format!("{path}.competitions"),
                "an entry needs at least one competition",
            ));
        }
        let mut shares: Vec<CompetitionShare> = Vec::with_capacity(e.competitions.len());
        let mut seen = HashSet::new();
        for (j, s) in e.competitions.into_iter().enumerate() {
            let share = share(s, f, &format!("{path}.competitions[{j}]"), competitions)?;
            if !seen.insert(share.id) {
                let msg = format!("competition {} is listed twice in this entry", share.id);
                return Err(CompetitionError::invalid(
                    f,
                    format!("{path}.competitions[{j}].competition"),
                    msg,
                ));
            }
            shares.push(share);
        }
        check_sum(
            shares.iter().map(|s| s.reward_share),
            f,
            &format!("{path}.competitions[].reward_share"),
            "reward shares",
        )?;
        entries.push(ScheduleEntry {
            start_block: Block(e.start_block),
            competitions: shares,
        });
    }
    Ok(entries)
}

fn share(
    s: raw::ShareTable,
    f: &str,
    path: &str,
    competitions: &[Competition],
) -> Result<CompetitionShare> {
    let bad =
        |field: &str, msg: String| CompetitionError::invalid(f, format!("{path}.{field}"), msg);
    let Some(c) = competitions
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(s.competition.trim()))
    else {
        let known: Vec<&str> = competitions.iter().map(|c| c.name.as_str()).collect();
        let msg = format!(
            "unknown competition {:?} (known: {})",
            s.competition,
            known.join(", ")
        );
        return Err(bad("competition", msg));
    };
    if c.retired {
        return Err(bad("competition", format!("{} is retired", c.name)));
    }
    if c.task_set(s.task_set).is_none() {
        let versions: Vec<String> = c.task_sets.iter().map(|t| t.version.to_string()).collect();
        let msg = format!(
            "{} has no task set {} (has: {})",
            c.name,
            s.task_set,
            versions.join(", ")
        );
        return Err(bad("task_set", msg));
    }
    if !(s.reward_share.is_finite() && s.reward_share > 0.0) {
        return Err(bad(
            "reward_share",
            format!(
                "must be a finite number greater than 0, got {}",
                s.reward_share
            ),
        ));
    }
    Ok(CompetitionShare {
        id: c.id,
        reward_share: s.reward_share,
        task_set: s.task_set,
    })
}
