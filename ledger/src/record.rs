//! The ledger record: what one validator measured of one model in one round.
//!
//! Every field is always present (an absent value is `null`), so a record has one canonical
//! form. Scores are the competition's (losses: lower is better); a non-finite score (a model
//! that produced nothing) is `null`.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// The version of the record format written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// The round a record belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRef {
    /// The sync block (whose hash seeds the draw).
    pub sync_block: u64,
    /// The block the round ran at.
    pub block: u64,
    /// The draw's seed, 64 hex digits.
    pub seed: String,
}

/// The competition evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompetitionRef {
    /// Its stable numeric id.
    pub id: u16,
    /// Its name.
    pub name: String,
}

/// The validator that signed the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorRef {
    /// Its hotkey, SS58 (prefix 42).
    pub hotkey: String,
    /// Its sr25519 public key, 64 hex digits.
    pub public_key: String,
}

/// The model evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// The miner's uid at the round.
    pub uid: u16,
    /// The miner's hotkey, SS58.
    pub hotkey: String,
    /// The miner's raw on-chain commitment.
    pub commitment: String,
    /// The hub repository, `namespace/name`.
    pub repo: String,
    /// The pinned revision.
    pub commit: String,
    /// The block the commitment was made at (its age decides the epsilon advantage).
    pub commit_block: u64,
    /// The hash of the repository's content as downloaded (the miner's secure hash binds it
    /// to the hotkey), or `null` when it was never downloaded.
    pub repo_hash: Option<String>,
}

/// Where and how the validator ran the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeRef {
    /// The Gauntlet version.
    pub gauntlet_version: String,
    /// The device (`cpu`, `cuda:0`).
    pub device: String,
    /// The compute dtype (`f32`, `bf16`, `f16`).
    pub dtype: String,
}

/// A model's output on one sample: what a third party needs to check the sample's score
/// without running the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// One generated text (multiple choice by generation, Google's IFEval).
    Text(String),
    /// One generated text per prompt of the sample (the synthetic IFEval's pair).
    Texts(Vec<String>),
    /// Per-token losses (negative log-probabilities, nats) of the scored tokens, as the
    /// runtime computed them (f32 values, written exactly as JSON numbers): the sample's score
    /// is their mean, summed in order in f64. Records written before
    /// [`Output::LossesF32`] hold these; validators now write the packed form.
    Losses(#[serde(deserialize_with = "exact::vec")] Vec<f64>),
    /// The same per-token losses, packed: each value is an `f32`, and the JSON holds their
    /// little-endian bytes in standard base64 (`{"losses_f32": "…"}`), about a quarter of
    /// the JSON numbers' size. The sample's score is their mean, widened to f64 and summed in
    /// order. Writing a value that is not a finite `f32` fails.
    LossesF32(#[serde(with = "packed")] Vec<f64>),
    /// The log-probability of each choice's letter, in choice order (multiple choice by
    /// log-likelihood; f32 values, written exactly).
    ChoiceLogprobs(#[serde(deserialize_with = "exact::vec")] Vec<f64>),
}

impl Output {
    /// The score the output implies when the output alone decides it: the mean of
    /// [`Output::Losses`] (summed in order in f64, `None` when empty). Other outputs need the
    /// item (the answer, the rules) to score.
    pub fn implied_score(&self) -> Option<f64> {
        match self.losses() {
            Some(l) if !l.is_empty() => {
                let mut sum = 0.0;
                for x in l {
                    sum += x;
                }
                Some(sum / l.len() as f64)
            }
            _ => None,
        }
    }

    /// The per-token losses, in either form.
    pub fn losses(&self) -> Option<&[f64]> {
        match self {
            Output::Losses(l) | Output::LossesF32(l) => Some(l),
            _ => None,
        }
    }
}

/// One sample of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleEntry {
    /// The task.
    pub task: String,
    /// The item's index in the task's draw.
    pub index: u64,
    /// The item's hash (see [`crate::Item::hash`]).
    pub item_hash: Digest,
    /// The model's output, when the validator kept it.
    pub output: Option<Output>,
    /// The sample's score; `null` for a sample that could not be scored.
    #[serde(deserialize_with = "exact::option")]
    pub score: Option<f64>,
}

/// A task's aggregate in a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskAggregate {
    /// The task.
    pub name: String,
    /// The task's score as the suite computed it; `null` when not finite.
    #[serde(deserialize_with = "exact::option")]
    pub score: Option<f64>,
    /// How many samples the task has in the record.
    pub samples: u64,
    /// The task's normalised score (absent in records written before it was
    /// kept).
    #[serde(
        default,
        deserialize_with = "exact::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub normalized: Option<f64>,
    /// What became of the task: `ok`, `failed`, `dropped`, or `stopped` (not
    /// run: the competition's sequential test found the model clearly beaten
    /// by `benchmark`). Absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// What one validator measured of one model in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRecord {
    /// The format version, [`FORMAT_VERSION`].
    pub format: u32,
    /// The round.
    pub round: RoundRef,
    /// The competition.
    pub competition: CompetitionRef,
    /// The validator (filled when signing).
    pub validator: ValidatorRef,
    /// The model.
    pub model: ModelRef,
    /// Where it ran.
    pub runtime: RuntimeRef,
    /// The Merkle root of the round's items, as committed on chain.
    pub items_root: Digest,
    /// Every sample, tasks in order, each task's samples in draw order.
    pub samples: Vec<SampleEntry>,
    /// Each task's aggregate, in the competition's order.
    pub tasks: Vec<TaskAggregate>,
    /// The model's competition score; `null` when not finite or when the model failed.
    #[serde(deserialize_with = "exact::option")]
    pub score: Option<f64>,
    /// The verdict label (`evaluated`, or why the model was refused).
    pub verdict: String,
    /// The uid of the round's benchmark this model's evaluation was tested
    /// against (a competition's sequential test, `early_stop`); absent when
    /// there was none, or this is the benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<u16>,
    /// The hash of this validator's previous record (zero for its first).
    pub prev_hash: Digest,
}

/// `x` when finite, else `None`: records hold no infinities.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Reading floats exactly: `serde_json` without its `float_roundtrip` feature may round a
/// 17-digit number to a neighbouring `f64`, and a score read back must be the score signed.
/// These read the number's text and parse it with Rust's correctly rounded parser.
mod exact {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};
    use serde_json::value::RawValue;

    fn parse<E: serde::de::Error>(raw: &RawValue) -> Result<f64, E> {
        let text = raw.get();
        let x: f64 = text
            .parse()
            .map_err(|_| E::custom(format!("expected a number, found {text}")))?;
        if x.is_finite() {
            Ok(x)
        } else {
            Err(E::custom(format!("{text} is not a finite number")))
        }
    }

    pub(super) fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let raw: Option<&'de RawValue> = Option::deserialize(d)?;
        match raw {
            None => Ok(None),
            Some(r) if r.get() == "null" => Ok(None),
            Some(r) => parse(r).map(Some),
        }
    }

    pub(super) fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw: Vec<&'de RawValue> = Vec::deserialize(d)?;
        raw.into_iter()
            .map(parse)
            .collect::<Result<_, D::Error>>()
            .map_err(D::Error::custom)
    }
}

/// [`Output::LossesF32`]'s packing: `f32` little-endian bytes in standard base64.
mod packed {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for &x in values {
            let narrow = x as f32;
            if !narrow.is_finite() || f64::from(narrow) != x {
                return Err(S::Error::custom(format!("{x} is not a finite f32")));
            }
            bytes.extend_from_slice(&narrow.to_le_bytes());
        }
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let text: &'de str = <&str>::deserialize(d)?;
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| D::Error::custom(format!("losses_f32: not base64: {e}")))?;
        if bytes.len() % 4 != 0 {
            return Err(D::Error::custom(format!(
                "losses_f32: {} bytes, not whole f32 values",
                bytes.len()
            )));
        }
        bytes
            .chunks_exact(4)
            .map(|c| {
                let x = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                if x.is_finite() {
                    Ok(f64::from(x))
                } else {
                    Err(D::Error::custom(format!("losses_f32: {x} is not finite")))
                }
            })
            .collect()
    }
}
