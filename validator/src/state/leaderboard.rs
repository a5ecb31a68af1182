//! Periodic leaderboard snapshots: at most one per competition and period
//! (default a day of blocks), taken from the competition's last finished
//! round and never rewritten, so that what a funding pool pays by is fixed
//! once its period has ended.

use std::collections::HashMap;

use gauntlet_constants::{Block, CompetitionId};
use gauntlet_evals::bootstrap::PairedInterval;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{State, StateError};
use crate::summary::RoundSummary;

/// Blocks in a day at 12 s a block: the default leaderboard period.
pub const DAY_BLOCKS: u64 = 7_200;

/// One model on a leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderboardRow {
    /// 1 for the best; `None` for a model that is not ranked (disqualified,
    /// a copy, failed to download or evaluate).
    pub rank: Option<u32>,
    /// Its uid.
    pub uid: u16,
    /// Its hotkey (SS58).
    pub hotkey: String,
    /// `namespace/name@commit`, or the raw commitment.
    pub model: String,
    /// The block of its commitment (earlier wins ties).
    pub commit_block: u64,
    /// The competition score (a loss; lower is better); `None` for +inf.
    pub score: Option<f64>,
    /// Its pairwise win rate in the round.
    pub win_rate: f64,
    /// Its share of the competition's EMA of round weights.
    pub ema: f64,
    /// The verdict's label.
    pub verdict: String,
    /// Why, for a rejected model.
    pub reason: Option<String>,
    /// The uid of the model it copies.
    pub copy_of: Option<u16>,
    /// The paired bootstrap interval (95 %) of its score minus the round
    /// winner's (see [`RoundModel::vs_winner`](crate::RoundModel)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_winner: Option<PairedInterval>,
}

/// A competition's leaderboard as it stood at a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderboardSnapshot {
    /// The competition.
    pub competition_id: u16,
    /// The period's index (`block / period_blocks`).
    pub period: u64,
    /// The period's length in blocks.
    pub period_blocks: u64,
    /// The block it was taken at.
    pub block: u64,
    /// The sync block of the round it shows.
    pub sync_block: u64,
    /// The models, ranked ones first in rank order.
    pub rows: Vec<LeaderboardRow>,
}

/// Ranks `rows`: only evaluated models with a finite score are ranked, by win
/// rate (highest first), then score (lowest first), then the earlier
/// commitment, then the lower uid; the rest follow unranked, by uid.
pub fn rank(rows: &mut [LeaderboardRow]) {
    let ranked =
        |r: &LeaderboardRow| r.verdict == "evaluated" && r.score.is_some_and(f64::is_finite);
    rows.sort_by(|a, b| match (ranked(a), ranked(b)) {
        (true, true) => b
            .win_rate
            .total_cmp(&a.win_rate)
            .then(
                a.score
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.score.unwrap_or(f64::INFINITY)),
            )
            .then(a.commit_block.cmp(&b.commit_block))
            .then(a.uid.cmp(&b.uid)),
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (false, false) => a.uid.cmp(&b.uid),
    });
    let mut next = 1;
    for r in rows.iter_mut() {
        r.rank = if ranked(r) {
            next += 1;
            Some(next - 1)
        } else {
            None
        };
    }
}

impl State {
    /// Takes the snapshot of every competition with a finished round whose
    /// period (`now / period_blocks`) has none yet; returns those taken.
    pub fn snapshot_leaderboards(
        &mut self,
        now: Block,
        period_blocks: u64,
    ) -> Result<Vec<LeaderboardSnapshot>, StateError> {
        let period_blocks = period_blocks.max(1);
        let period = now.0 / period_blocks;
        let mut taken = Vec::new();
        for (competition, sync, summary) in self.last_rounds()? {
            let exists: Option<i64> = self
                .conn
                .query_row(
                    "SELECT block FROM leaderboards
                     WHERE competition_id = ?1 AND period_blocks = ?2 AND period = ?3",
                    params![competition.0, period_blocks as i64, period as i64],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                continue;
            }
            let snapshot = LeaderboardSnapshot {
                competition_id: competition.0,
                period,
                period_blocks,
                block: now.0,
                sync_block: sync.0,
                rows: self.leaderboard_rows(competition, &summary)?,
            };
            self.conn.execute(
                "INSERT INTO leaderboards
                 (competition_id, period, period_blocks, block, sync_block, rows)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    competition.0,
                    period as i64,
                    period_blocks as i64,
                    now.0 as i64,
                    sync.0 as i64,
                    serde_json::to_string(&snapshot.rows)?
                ],
            )?;
            taken.push(snapshot);
        }
        Ok(taken)
    }

    /// The snapshots of a competition, oldest first.
    pub fn leaderboards(
        &self,
        competition: CompetitionId,
    ) -> Result<Vec<LeaderboardSnapshot>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT period, period_blocks, block, sync_block, rows FROM leaderboards
             WHERE competition_id = ?1 ORDER BY block, period_blocks",
        )?;
        let rows = stmt.query_map([competition.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (period, period_blocks, block, sync, json) = row?;
            out.push(LeaderboardSnapshot {
                competition_id: competition.0,
                period: period as u64,
                period_blocks: period_blocks as u64,
                block: block as u64,
                sync_block: sync as u64,
                rows: serde_json::from_str(&json)?,
            });
        }
        Ok(out)
    }

    /// The latest snapshot of a competition taken at or before `at` (the
    /// latest of all without it).
    pub fn leaderboard_at(
        &self,
        competition: CompetitionId,
        at: Option<Block>,
    ) -> Result<Option<LeaderboardSnapshot>, StateError> {
        Ok(self
            .leaderboards(competition)?
            .into_iter()
            .rfind(|s| at.is_none_or(|b| s.block <= b.0)))
    }

    /// The leaderboard of a competition's last finished round, ranked: what
    /// a snapshot taken now would hold, with the round's sync block.
    pub fn current_leaderboard(
        &self,
        competition: CompetitionId,
    ) -> Result<Option<(Block, Vec<LeaderboardRow>)>, StateError> {
        let Some((sync, summary)) = self.last_round(competition)? else {
            return Ok(None);
        };
        Ok(Some((sync, self.leaderboard_rows(competition, &summary)?)))
    }

    /// A round summary's models as ranked leaderboard rows, with each one's
    /// commit block and EMA share.
    fn leaderboard_rows(
        &self,
        competition: CompetitionId,
        summary: &RoundSummary,
    ) -> Result<Vec<LeaderboardRow>, StateError> {
        let models = summary.models.clone();
        let ema = self.ema(competition)?;
        let total: f64 = ema.values().map(|(_, v)| *v).sum();
        let commit_blocks: HashMap<(String, u16), u64> = self
            .models()?
            .into_iter()
            .filter(|m| m.competition == Some(competition))
            .map(|m| ((m.key.hotkey, m.uid.0), m.commit_block.0))
            .fold(HashMap::new(), |mut acc, (k, b)| {
                let e = acc.entry(k).or_insert(b);
                *e = (*e).max(b);
                acc
            });
        let mut rows: Vec<LeaderboardRow> = models
            .into_iter()
            .map(|m| LeaderboardRow {
                rank: None,
                commit_block: commit_blocks
                    .get(&(m.hotkey.clone(), m.uid))
                    .copied()
                    .unwrap_or(u64::MAX),
                ema: ema
                    .get(&m.hotkey)
                    .filter(|_| total > 0.0)
                    .map_or(0.0, |(_, v)| v / total),
                uid: m.uid,
                hotkey: m.hotkey,
                model: m.model,
                score: Some(m.score).filter(|s| s.is_finite()),
                win_rate: m.win_rate,
                verdict: m.verdict,
                reason: m.reason,
                copy_of: m.copy_of,
                vs_winner: m.vs_winner,
            })
            .collect();
        rank(&mut rows);
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        uid: u16,
        score: Option<f64>,
        win_rate: f64,
        commit: u64,
        verdict: &str,
    ) -> LeaderboardRow {
        LeaderboardRow {
            rank: None,
            uid,
            hotkey: format!("h{uid}"),
            model: format!("m/{uid}"),
            commit_block: commit,
            score,
            win_rate,
            ema: 0.0,
            verdict: verdict.into(),
            reason: None,
            copy_of: None,
            vs_winner: None,
        }
    }

    #[test]
    fn ranks_by_win_rate_then_score_then_earlier_commit_and_leaves_rejects_unranked() {
        let mut rows = vec![
            row(1, Some(2.0), 0.5, 10, "evaluated"),
            row(2, Some(1.0), 1.0, 30, "evaluated"),
            row(3, None, 0.0, 5, "disqualified"),
            row(4, Some(2.0), 0.5, 5, "evaluated"),
            row(5, Some(1.5), 0.5, 1, "evaluated"),
            row(6, Some(0.1), 0.0, 1, "copy"),
            row(7, Some(2.0), 0.5, 5, "evaluated"),
        ];
        rank(&mut rows);
        let order: Vec<(u16, Option<u32>)> = rows.iter().map(|r| (r.uid, r.rank)).collect();
        assert_eq!(
            order,
            vec![
                (2, Some(1)),
                (5, Some(2)),
                // A tie on win rate and score: the earlier commitment, then the lower uid.
                (4, Some(3)),
                (7, Some(4)),
                (1, Some(5)),
                (3, None),
                (6, None),
            ]
        );
    }
}
