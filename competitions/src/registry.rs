//! The registry of competitions and the block schedule: loaded from the
//! builtin definitions (embedded in the binary) and, optionally, an author's
//! extra directory.

use std::path::Path;

use gauntlet_constants::{Block, CompetitionId};

use crate::validate::{build, Source};
use crate::{ActiveCompetition, Competition, CompetitionError, ScheduleEntry};

/// The builtin competition files, embedded so the CLI works from any directory.
const BUILTIN_COMPETITIONS: &[(&str, &str)] = &[
    ("sn9_model.toml", include_str!("../defs/sn9_model.toml")),
    (
        "b7_multi_choice.toml",
        include_str!("../defs/b7_multi_choice.toml"),
    ),
    ("instruct_8b.toml", include_str!("../defs/instruct_8b.toml")),
    (
        "distilled_reasoning_3b.toml",
        include_str!("../defs/distilled_reasoning_3b.toml"),
    ),
];

/// The builtin schedule file.
const BUILTIN_SCHEDULE: &str = include_str!("../defs/schedule.toml");

/// The file name that holds a schedule (in `defs/` and in extra directories).
pub const SCHEDULE_FILE: &str = "schedule.toml";

/// Every known competition and the block schedule, validated.
///
/// Invariants (checked at load): ids and names are unique, the schedule has
/// at least one entry, the first starts at block 0 and starts strictly
/// increase, every scheduled competition exists, is not retired and has the
/// referenced task set, and weights and reward shares sum to 1.
#[derive(Debug, Clone)]
pub struct Registry {
    competitions: Vec<Competition>,
    schedule: Vec<ScheduleEntry>,
    definitions: Definitions,
}

/// The texts a registry was built from: enough to build the same registry
/// again elsewhere (a validator hands them to the process that evaluates a
/// model, so both judge by the same definitions).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Definitions {
    /// Every competition file.
    pub competitions: Vec<Source>,
    /// The schedule file.
    pub schedule: Source,
}

impl Registry {
    /// Assembles a registry; only [`build`] calls this, after validation.
    pub(crate) fn new(
        competitions: Vec<Competition>,
        schedule: Vec<ScheduleEntry>,
        definitions: Definitions,
    ) -> Self {
        Self {
            competitions,
            schedule,
            definitions,
        }
    }

    /// The definition texts this registry was built from.
    pub fn definitions(&self) -> &Definitions {
        &self.definitions
    }

    /// Builds a registry from the texts of [`Registry::definitions`].
    pub fn from_definitions(definitions: &Definitions) -> Result<Self, CompetitionError> {
        build(&definitions.competitions, &definitions.schedule)
    }

    /// The builtin competitions and schedule (`competitions/defs/`).
    pub fn builtin() -> Result<Self, CompetitionError> {
        build(&builtin_sources(), &builtin_schedule())
    }

    /// The builtin definitions plus every `*.toml` file in `dir`.
    ///
    /// Each file in `dir` is one competition, added to the builtin ones (ids
    /// and names must not collide). A `schedule.toml` in `dir` replaces the
    /// builtin schedule as a whole, so it must list every entry (copy the
    /// builtin one and add to it). Other files and subdirectories are ignored.
    pub fn load_dir(dir: &Path) -> Result<Self, CompetitionError> {
        let io = |path: &Path, source| CompetitionError::Io {
            path: path.to_owned(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let path = entry.map_err(|e| io(dir, e))?.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut competitions = builtin_sources();
        let mut schedule = builtin_schedule();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            let source = Source {
                origin: path.display().to_string(),
                text,
            };
            if path.file_name().is_some_and(|n| n == SCHEDULE_FILE) {
                schedule = source;
            } else {
                competitions.push(source);
            }
        }
        build(&competitions, &schedule)
    }

    /// Builds a registry from definition texts: `(origin, toml)` pairs for the
    /// competitions and one for the schedule. `origin` names the text in errors.
    pub fn from_toml(
        competitions: &[(&str, &str)],
        schedule: (&str, &str),
    ) -> Result<Self, CompetitionError> {
        let source = |(origin, text): (&str, &str)| Source {
            origin: origin.to_owned(),
            text: text.to_owned(),
        };
        let sources: Vec<Source> = competitions.iter().copied().map(source).collect();
        build(&sources, &source(schedule))
    }

    /// Every competition, ordered by id (retired ones included).
    pub fn competitions(&self) -> &[Competition] {
        &self.competitions
    }

    /// The competition with this id.
    pub fn get(&self, id: CompetitionId) -> Option<&Competition> {
        self.competitions.iter().find(|c| c.id == id)
    }

    /// The competition with this name, compared case-insensitively.
    pub fn by_name(&self, name: &str) -> Option<&Competition> {
        let name = name.trim();
        self.competitions
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The competition named by `key`: a numeric id or a name (case-insensitive),
    /// as a user types it on the command line.
    pub fn find(&self, key: &str) -> Option<&Competition> {
        match key.trim().parse::<u16>() {
            Ok(id) => self.get(CompetitionId(id)),
            Err(_) => self.by_name(key),
        }
    }

    /// The whole schedule, ordered by start block.
    pub fn schedule(&self) -> &[ScheduleEntry] {
        &self.schedule
    }

    /// Where the schedule came from (a file path, or `builtin:schedule.toml`).
    pub fn schedule_source(&self) -> &str {
        &self.definitions.schedule.origin
    }

    /// The schedule entry in force at `block`: the last one starting at or
    /// before it.
    pub fn schedule_at(&self, block: Block) -> &ScheduleEntry {
        // Validation guarantees a first entry at block 0, so `after >= 1`.
        let after = self.schedule.partition_point(|e| e.start_block <= block);
        &self.schedule[after.saturating_sub(1)]
    }

    /// Every competition running at `block`, in schedule order.
    pub fn active_at(&self, block: Block) -> Vec<ActiveCompetition<'_>> {
        self.schedule_at(block)
            .competitions
            .iter()
            .filter_map(|share| {
                let competition = self.get(share.id)?;
                Some(ActiveCompetition {
                    competition,
                    reward_share: share.reward_share,
                    task_set: competition.task_set(share.task_set)?,
                })
            })
            .collect()
    }

    /// Competition `id` as it runs at `block`, or `None` when it is not
    /// scheduled then.
    pub fn competition_at(&self, id: CompetitionId, block: Block) -> Option<ActiveCompetition<'_>> {
        self.active_at(block)
            .into_iter()
            .find(|a| a.competition.id == id)
    }

    /// The last schedule entry that runs competition `id`: its start block
    /// and the competition as it runs there. `None` for a competition that
    /// is never scheduled (retired). Used when no block is given: a
    /// competition is then evaluated with its most recent task set.
    pub fn latest_run(&self, id: CompetitionId) -> Option<(Block, ActiveCompetition<'_>)> {
        self.schedule.iter().rev().find_map(|entry| {
            self.competition_at(id, entry.start_block)
                .map(|active| (entry.start_block, active))
        })
    }
}

fn builtin_sources() -> Vec<Source> {
    BUILTIN_COMPETITIONS
        .iter()
        .map(|(file, text)| Source {
            origin: format!("builtin:{file}"),
            text: (*text).to_owned(),
        })
        .collect()
}

fn builtin_schedule() -> Source {
    Source {
        origin: format!("builtin:{SCHEDULE_FILE}"),
        text: BUILTIN_SCHEDULE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_defs_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("defs");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml") && n != SCHEDULE_FILE)
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = BUILTIN_COMPETITIONS
            .iter()
            .map(|(f, _)| (*f).to_owned())
            .collect();
        embedded.sort();
        assert_eq!(
            on_disk, embedded,
            "add new defs files to BUILTIN_COMPETITIONS"
        );
    }
}
