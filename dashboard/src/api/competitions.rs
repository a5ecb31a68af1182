//! The competitions overview, a competition's leaderboard and its history
//! over rounds (what the plots draw).

use std::collections::{BTreeMap, HashMap};

use gauntlet_competitions::{describe, Competition};
use gauntlet_constants::{CompetitionId, Uid};
use gauntlet_validator::state::LeaderboardRow;
use serde::Serialize;

use super::Sources;
use crate::DashboardError;

/// How many rounds the history plots go back.
const HISTORY_ROUNDS: usize = 100;

/// The front page: the schedule by block and every competition.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The subnet.
    pub netuid: u16,
    /// The chain's block now.
    pub block: u64,
    /// The schedule, one row per entry, the one in force marked.
    pub schedule: Vec<ScheduleRow>,
    /// Every competition, the active ones first.
    pub competitions: Vec<CompetitionSummary>,
    /// Commitments that name no competition (malformed, unknown
    /// competition): what their miners need to read.
    pub unplaced: Vec<Unplaced>,
}

/// A commitment that entered no competition.
#[derive(Debug, Clone, Serialize)]
pub struct Unplaced {
    /// The uid.
    pub uid: u16,
    /// The miner's hotkey.
    pub hotkey: String,
    /// The raw commitment (a miner's text).
    pub commitment: String,
    /// The block it was made at.
    pub commit_block: u64,
    /// The verdict label.
    pub verdict: String,
    /// Why.
    pub reason: Option<String>,
}

/// One schedule entry.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleRow {
    /// Its first block.
    pub start_block: u64,
    /// Whether it is the entry in force at the current block.
    pub current: bool,
    /// Its competitions and reward shares.
    pub competitions: Vec<ShareRow>,
}

/// A competition's share in a schedule entry.
#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    /// The competition's id.
    pub id: u16,
    /// Its name.
    pub name: String,
    /// Its share of the subnet's reward.
    pub reward_share: f64,
    /// The task set version it runs with.
    pub task_set: u32,
}

/// A competition with where it stands now.
#[derive(Debug, Clone, Serialize)]
pub struct CompetitionSummary {
    /// Whether it runs at the current block.
    pub active: bool,
    /// Its reward share now (0 when not running).
    pub reward_share: f64,
    /// The sync block of its last finished round on this validator.
    pub last_round: Option<u64>,
    /// The competition itself: constraints and task sets, as
    /// `gauntlet competitions --json` gives it.
    pub definition: serde_json::Value,
}

/// A competition's leaderboard: its last finished round, ranked.
#[derive(Debug, Clone, Serialize)]
pub struct Leaderboard {
    /// The competition's id.
    pub competition_id: u16,
    /// Its name.
    pub name: String,
    /// The chain's block now.
    pub block: u64,
    /// The round shown; `None` before the first finishes.
    pub sync_block: Option<u64>,
    /// The task names, in definition order (the columns of `tasks`).
    pub task_names: Vec<String>,
    /// The models, best first.
    pub rows: Vec<LeaderboardEntry>,
    /// The periodic snapshots taken so far, newest first.
    pub snapshots: Vec<SnapshotRef>,
}

/// One model on the leaderboard.
#[derive(Debug, Clone, Serialize)]
pub struct LeaderboardEntry {
    /// Rank, score, win rate, EMA share, verdict and reason as the validator
    /// ranks them.
    #[serde(flatten)]
    pub row: LeaderboardRow,
    /// The raw commitment (what the model page is keyed by).
    pub commitment: Option<String>,
    /// The model's web page on the hub, where it has one.
    pub repo_url: Option<String>,
    /// Each task's raw score (a loss; `None` when the task failed or was
    /// dropped), by task name.
    pub tasks: BTreeMap<String, Option<f64>>,
    /// This validator's last weight on the uid, as a fraction.
    pub weight: f64,
    /// The uid's incentive on chain now, as a fraction.
    pub incentive: f64,
}

/// A periodic leaderboard snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRef {
    /// The period's index.
    pub period: u64,
    /// Blocks per period.
    pub period_blocks: u64,
    /// The block it was taken at.
    pub block: u64,
    /// The round it shows.
    pub sync_block: u64,
}

/// A competition's models over rounds: score, weight and incentive by uid.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The competition's id.
    pub competition_id: u16,
    /// Each model's score (a loss) at each round's sync block. The series
    /// are those of the last round's models, best score first.
    pub scores: Vec<Series>,
    /// The weight this validator gave each uid at each weights setting.
    pub weights: Vec<Series>,
    /// Each uid's incentive on chain as seen at each round.
    pub incentive: Vec<Series>,
}

/// One line of a plot: a uid's values by block.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// The uid.
    pub uid: u16,
    /// `(block, value)`, by block.
    pub points: Vec<Point>,
}

/// One point of a series.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    /// The block.
    pub block: u64,
    /// The value.
    pub value: f64,
}

/// The series of `points`, in the order of `order` (uids missing from it last).
fn series(mut points: BTreeMap<u16, Vec<Point>>, order: &[u16]) -> Vec<Series> {
    let first: Vec<(u16, Vec<Point>)> = order
        .iter()
        .filter_map(|uid| points.remove(uid).map(|p| (*uid, p)))
        .collect();
    let mut out: Vec<Series> = first
        .into_iter()
        .chain(points)
        .map(|(uid, mut points)| {
            points.sort_by_key(|p| p.block);
            Series { uid, points }
        })
        .collect();
    out.retain(|s| !s.points.is_empty());
    out
}

impl Sources {
    /// The competition `key` (id or name).
    pub fn competition(&self, key: &str) -> Result<&Competition, DashboardError> {
        self.registry
            .find(key)
            .ok_or_else(|| DashboardError::NotFound(format!("competition {key:?}")))
    }

    /// The front page's data.
    pub async fn overview(&self) -> Result<Overview, DashboardError> {
        let block = self.chain.current_block().await?;
        let (last, models) = self
            .read_state(|s| Ok((s.last_rounds()?, s.models()?)))
            .await?
            .unwrap_or_default();
        let unplaced = models
            .into_iter()
            .filter(|m| m.competition.is_none())
            .map(|m| Unplaced {
                uid: m.uid.0,
                hotkey: m.key.hotkey,
                commitment: m.key.commitment,
                commit_block: m.commit_block.0,
                verdict: m.verdict,
                reason: m.reason,
            })
            .collect();
        let last: HashMap<u16, u64> = last.into_iter().map(|(c, b, _)| (c.0, b.0)).collect();
        let current = self.registry.schedule_at(block).start_block;
        let name = |id: CompetitionId| {
            self.registry
                .get(id)
                .map_or_else(|| format!("#{}", id.0), |c| c.name.clone())
        };
        let schedule = self
            .registry
            .schedule()
            .iter()
            .map(|e| ScheduleRow {
                start_block: e.start_block.0,
                current: e.start_block == current,
                competitions: e
                    .competitions
                    .iter()
                    .map(|s| ShareRow {
                        id: s.id.0,
                        name: name(s.id),
                        reward_share: s.reward_share,
                        task_set: s.task_set,
                    })
                    .collect(),
            })
            .collect();
        let active = self.registry.active_at(block);
        let mut competitions: Vec<CompetitionSummary> = self
            .registry
            .competitions()
            .iter()
            .map(|c| {
                let now = active.iter().find(|a| a.competition.id == c.id);
                CompetitionSummary {
                    active: now.is_some(),
                    reward_share: now.map_or(0.0, |a| a.reward_share),
                    last_round: last.get(&c.id.0).copied(),
                    definition: describe::competition(c),
                }
            })
            .collect();
        competitions.sort_by_key(|c| !c.active);
        Ok(Overview {
            netuid: self.netuid.0,
            block: block.0,
            schedule,
            competitions,
            unplaced,
        })
    }

    /// A competition's leaderboard now.
    pub async fn leaderboard(&self, key: &str) -> Result<Leaderboard, DashboardError> {
        let competition = self.competition(key)?;
        let id = competition.id;
        let block = self.chain.current_block().await?;
        let metagraph = self.metagraph().await?;
        let task_names: Vec<String> = self
            .registry
            .competition_at(id, block)
            .or_else(|| self.registry.latest_run(id).map(|(_, a)| a))
            .map(|a| a.tasks().iter().map(|t| t.name.clone()).collect())
            .unwrap_or_default();
        let read = self
            .read_state(move |s| {
                let board = s.current_leaderboard(id)?;
                let evaluations = match &board {
                    Some((sync, _)) => s
                        .evaluations_of_competition(id, 1)?
                        .into_iter()
                        .filter(|e| e.sync_block == sync.0)
                        .collect(),
                    None => Vec::new(),
                };
                let weights = s.weights_history(1)?;
                let snapshots = s.leaderboards(id)?;
                Ok((board, evaluations, weights, snapshots))
            })
            .await?;
        let Some((board, evaluations, weights, snapshots)) = read else {
            return Ok(Leaderboard {
                competition_id: id.0,
                name: competition.name.clone(),
                block: block.0,
                sync_block: None,
                task_names,
                rows: Vec::new(),
                snapshots: Vec::new(),
            });
        };
        let weight_of: HashMap<u16, f64> = weights
            .first()
            .map(|w| w.weights.iter().map(|(uid, f, _)| (*uid, *f)).collect())
            .unwrap_or_default();
        let by_model: HashMap<(String, u16), _> = evaluations
            .into_iter()
            .map(|e| ((e.hotkey.clone(), e.uid), e))
            .collect();
        let (sync, rows) = match board {
            Some((sync, rows)) => (Some(sync.0), rows),
            None => (None, Vec::new()),
        };
        let rows = rows
            .into_iter()
            .map(|row| {
                let evaluation = by_model.get(&(row.hotkey.clone(), row.uid));
                let commitment = evaluation.map(|e| e.commitment.clone());
                let tasks = evaluation
                    .and_then(|e| e.tasks.as_array())
                    .map(|tasks| {
                        tasks
                            .iter()
                            .filter_map(|t| {
                                let name = t.get("name")?.as_str()?.to_string();
                                Some((name, t.get("raw_score").and_then(|v| v.as_f64())))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let incentive = metagraph
                    .by_uid(Uid(row.uid))
                    .filter(|n| n.hotkey == row.hotkey)
                    .map_or(0.0, |n| n.incentive);
                LeaderboardEntry {
                    repo_url: commitment.as_deref().and_then(|c| self.repo_url(c)),
                    commitment,
                    tasks,
                    weight: weight_of.get(&row.uid).copied().unwrap_or(0.0),
                    incentive,
                    row,
                }
            })
            .collect();
        let mut snapshots: Vec<SnapshotRef> = snapshots
            .into_iter()
            .map(|s| SnapshotRef {
                period: s.period,
                period_blocks: s.period_blocks,
                block: s.block,
                sync_block: s.sync_block,
            })
            .collect();
        snapshots.reverse();
        Ok(Leaderboard {
            competition_id: id.0,
            name: competition.name.clone(),
            block: block.0,
            sync_block: sync,
            task_names,
            rows,
            snapshots,
        })
    }

    /// A competition's scores, weights and incentive over its last rounds,
    /// for the uids that competed in it.
    pub async fn history(&self, key: &str) -> Result<History, DashboardError> {
        let id = self.competition(key)?.id;
        let read = self
            .read_state(move |s| {
                Ok((
                    s.evaluations_of_competition(id, HISTORY_ROUNDS)?,
                    s.weights_history(HISTORY_ROUNDS)?,
                    s.neuron_history(HISTORY_ROUNDS)?,
                ))
            })
            .await?;
        let Some((evaluations, weights, neurons)) = read else {
            return Ok(History {
                competition_id: id.0,
                scores: Vec::new(),
                weights: Vec::new(),
                incentive: Vec::new(),
            });
        };
        // The models of the last round (what the leaderboard shows), best
        // score first: a plot of every uid ever evaluated would be unreadable.
        let last_sync = evaluations.iter().map(|e| e.sync_block).max();
        let mut latest: Vec<(f64, u16)> = evaluations
            .iter()
            .filter(|e| Some(e.sync_block) == last_sync)
            .map(|e| {
                (
                    e.score.filter(|v| v.is_finite()).unwrap_or(f64::INFINITY),
                    e.uid,
                )
            })
            .collect();
        latest.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let order: Vec<u16> = latest.iter().map(|(_, uid)| *uid).collect();
        let uids: std::collections::BTreeSet<u16> = order.iter().copied().collect();
        let mut scores: BTreeMap<u16, Vec<Point>> = BTreeMap::new();
        for e in &evaluations {
            if let Some(value) = e.score.filter(|v| v.is_finite() && uids.contains(&e.uid)) {
                scores.entry(e.uid).or_default().push(Point {
                    block: e.sync_block,
                    value,
                });
            }
        }
        let mut weight_points: BTreeMap<u16, Vec<Point>> = BTreeMap::new();
        for w in &weights {
            for uid in &uids {
                let value = w
                    .weights
                    .iter()
                    .find(|(u, _, _)| u == uid)
                    .map_or(0.0, |(_, f, _)| *f);
                weight_points.entry(*uid).or_default().push(Point {
                    block: w.block.0,
                    value,
                });
            }
        }
        let mut incentive: BTreeMap<u16, Vec<Point>> = BTreeMap::new();
        for n in neurons.iter().filter(|n| uids.contains(&n.uid)) {
            incentive.entry(n.uid).or_default().push(Point {
                block: n.block,
                value: n.incentive,
            });
        }
        Ok(History {
            competition_id: id.0,
            scores: series(scores, &order),
            weights: series(weight_points, &order),
            incentive: series(incentive, &order),
        })
    }
}
