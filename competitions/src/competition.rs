//! A validated competition and the schedule entries that activate it.

use gauntlet_constants::{Block, CompetitionId};

use crate::{Constraints, EvalTask, TaskSet};

/// A competition, validated: constraints plus its versioned task sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Competition {
    /// The stable numeric id (never reused).
    pub id: CompetitionId,
    /// The unique name, e.g. `INSTRUCT_8B` (looked up case-insensitively).
    pub name: String,
    /// One line for listings.
    pub description: String,
    /// A retired competition keeps its id but appears in no schedule entry.
    pub retired: bool,
    /// What a model must satisfy to be evaluated.
    pub constraints: Constraints,
    /// The task sets, by version; the schedule picks one per entry.
    pub task_sets: Vec<TaskSet>,
    /// API-hosted reference entrants, evaluated on the same items and never
    /// weighted.
    pub references: Vec<crate::ReferenceEntrant>,
    /// Where the definition came from (a file path, or `builtin:<file>`).
    pub source: String,
}

impl Competition {
    /// The task set with this version, if any.
    pub fn task_set(&self, version: u32) -> Option<&TaskSet> {
        self.task_sets.iter().find(|s| s.version == version)
    }
}

/// One competition's place in a schedule entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompetitionShare {
    /// The competition.
    pub id: CompetitionId,
    /// Its share of the subnet's reward; the shares of an entry sum to 1.
    pub reward_share: f64,
    /// The version of its task set that scores it during this entry.
    pub task_set: u32,
}

/// A schedule entry: from `start_block` until the next entry's start, these
/// competitions run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleEntry {
    /// The first block at which this entry applies.
    pub start_block: Block,
    /// The competitions running, with their reward shares.
    pub competitions: Vec<CompetitionShare>,
}

/// A competition as it runs at some block: the competition, its reward share
/// and the task set that scores it then.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActiveCompetition<'a> {
    /// The competition.
    pub competition: &'a Competition,
    /// Its share of the subnet's reward at that block.
    pub reward_share: f64,
    /// The task set in force at that block.
    pub task_set: &'a TaskSet,
}

impl<'a> ActiveCompetition<'a> {
    /// The eval tasks in force.
    pub fn tasks(&self) -> &'a [EvalTask] {
        &self.task_set.tasks
    }
}
