//! A finished round as the state stores it and `validator status` shows it:
//! typed, so a reader never looks fields up by string.

use gauntlet_evals::bootstrap::PairedInterval;
use serde::{Deserialize, Deserializer, Serialize};

use crate::state::ModelKey;

/// A model's line in a round's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundModel {
    /// Its uid.
    pub uid: u16,
    /// Its hotkey.
    pub hotkey: String,
    /// `namespace/name@commit`, or the raw commitment when it did not parse.
    pub model: String,
    /// The competition score (a loss); `null` in JSON for +inf.
    #[serde(deserialize_with = "null_is_infinite")]
    pub score: f64,
    /// Its pairwise win rate.
    pub win_rate: f64,
    /// Its weight in this round (winner takes all).
    pub round_weight: f64,
    /// The verdict's label.
    pub verdict: String,
    /// Why, for a rejected model.
    pub reason: Option<String>,
    /// The uid of the model it copies.
    pub copy_of: Option<u16>,
    /// The paired bootstrap interval (95 %) of its score minus the round
    /// winner's, on the samples both answered: how clearly it lost (`None`
    /// for the winner, and for models without per-sample scores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_winner: Option<PairedInterval>,
}

/// What a finished round of one competition leaves behind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// Every model of the round.
    pub models: Vec<RoundModel>,
    /// The models carried over to the next round (the best by win rate).
    #[serde(default)]
    pub keep: Vec<ModelKey>,
    /// The winner's score; `None` when nobody scored.
    #[serde(default)]
    pub winner_score: Option<f64>,
}

/// JSON writes +inf as `null`; read it back as +inf.
fn null_is_infinite<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_infinite_score_round_trips_through_null() {
        let s = RoundSummary {
            models: vec![RoundModel {
                uid: 3,
                hotkey: "h".into(),
                model: "a/b@01234567".into(),
                score: f64::INFINITY,
                win_rate: 0.0,
                round_weight: 0.0,
                verdict: "crashed".into(),
                reason: Some("signal 11".into()),
                copy_of: None,
                vs_winner: None,
            }],
            keep: Vec::new(),
            winner_score: None,
        };
        let json = serde_json::to_string(&s).expect("json");
        assert!(json.contains(r#""score":null"#), "{json}");
        let back: RoundSummary = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, s);
    }
}
