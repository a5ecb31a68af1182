//! One Yuma consensus epoch, the original variant (REFERENCE §5).
//!
//! Validators' weights become miners' incentive and validators' dividends:
//! a stake-weighted median per miner (consensus) clips outlying weights, ranks
//! are the stake-weighted sums of the clipped weights, bonds are an exponential
//! moving average of each validator's stake share in each miner, and dividends
//! pay validators by their bonds in the miners that earned incentive. The local
//! chain runs this every tempo; subtensor runs its own copy on chain.
//!
//! # Numbers
//! Subtensor computes in fixed point (`I32F32`, with `I64F64` for the bond moving
//! average) and stores weights and bonds as `u16`; this is f64 throughout. Results
//! agree to about `1e-9` (the resolution of `I32F32` is `2^-32`), not bit for bit:
//! where subtensor's quantised values tie exactly and ours differ in the last bits,
//! or the reverse, a consensus can land on a neighbouring candidate. Consensus is
//! computed exactly over the candidate values of each column instead of by
//! subtensor's partitioning, with a stake threshold computed on the raw (integer)
//! stake so that a stake of exactly `κ` is recognised without rounding.
//!
//! # Not modelled here
//! Activity cut-offs, deregistered neurons and validator-permit elections are the
//! caller's: pass `validator_permit = false` for validators that should not count
//! and clear the bonds of replaced uids before the epoch.

use crate::ChainError;

/// The consensus majority κ: a miner's consensus is the largest weight that
/// validators holding this share of stake give it or more (subtensor's default).
pub const KAPPA: f64 = 0.5;

/// The share of old bonds kept each epoch (subtensor's `BondsMovingAverage`
/// default of 900,000 parts per million); new bonds weigh `1 - 0.9 = 0.1`.
pub const BONDS_MOVING_AVERAGE: f64 = 0.9;

/// Parameters of an epoch; [`Default`] gives subtensor's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YumaParams {
    /// The consensus majority, in `(0, 1]`.
    pub kappa: f64,
    /// The share of old bonds kept, in `[0, 1]`.
    pub bonds_moving_average: f64,
}

impl Default for YumaParams {
    fn default() -> Self {
        YumaParams {
            kappa: KAPPA,
            bonds_moving_average: BONDS_MOVING_AVERAGE,
        }
    }
}

/// The state an epoch reads, indexed by uid `0..n` with `n = stake.len()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochInput {
    /// Stake of every neuron, in any unit (rao); only permitted validators' counts.
    pub stake: Vec<f64>,
    /// Whether each neuron holds a validator permit; others' weights are ignored.
    pub validator_permit: Vec<bool>,
    /// Row `i`: the raw weights neuron `i` set on each uid (any scale; the epoch
    /// row-normalises them after dropping the self-weight). Missing rows and
    /// missing trailing entries are zero.
    pub weights: Vec<Vec<f64>>,
    /// The bonds left by the previous epoch, shaped like `weights` (any column
    /// scale: they are column-normalised first). Empty on the first epoch.
    pub bonds: Vec<Vec<f64>>,
}

/// What an epoch produces, every vector indexed by uid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochOutput {
    /// The stake that counted, normalised to sum to 1 (or all zero).
    pub active_stake: Vec<f64>,
    /// Consensus weight of each uid: the stake-weighted κ-median of its column.
    pub consensus: Vec<f64>,
    /// Miners' share of the miner half of emission; sums to 1 or is all zero.
    pub incentive: Vec<f64>,
    /// Validators' share of the validator half of emission; sums to 1 or is all zero.
    pub dividends: Vec<f64>,
    /// The new bonds, `n × n`, column-normalised; the next epoch's `bonds`.
    pub bonds: Vec<Vec<f64>>,
    /// Each uid's share of the epoch's emission earned as a miner (`incentive / 2`).
    pub miner_emission: Vec<f64>,
    /// Each uid's share of the epoch's emission earned as a validator (`dividends / 2`).
    pub validator_emission: Vec<f64>,
}

impl EpochOutput {
    /// Emission in rao of each uid for an epoch emitting `total`: each half
    /// truncated separately, as subtensor converts them; the dust is not paid.
    pub fn emission_rao(&self, total: u64) -> Vec<u64> {
        let part = |share: f64| (share * total as f64).floor() as u64;
        self.miner_emission
            .iter()
            .zip(&self.validator_emission)
            .map(|(&m, &v)| part(m).saturating_add(part(v)))
            .collect()
    }
}

/// Runs one epoch. Errors on inputs of the wrong shape or with negative or
/// non-finite numbers; every other input gives an output (all zero when no
/// permitted validator has stake or no weight survives consensus).
pub fn epoch(input: &EpochInput, params: &YumaParams) -> Result<EpochOutput, ChainError> {
    let n = input.stake.len();
    check_input(input)?;

    // Stake of permitted validators: raw for the consensus threshold, normalised otherwise.
    let raw_stake: Vec<f64> = (0..n)
        .map(|i| {
            if input.validator_permit[i] {
                input.stake[i]
            } else {
                0.0
            }
        })
        .collect();
    let stake = normalized(&raw_stake);

    let weights = validator_weights(input);

    let consensus: Vec<f64> = (0..n)
        .map(|j| weighted_median(&raw_stake, &weights, j, params.kappa))
        .collect();
    let clipped = clip(&weights, &consensus);
    let ranks: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| stake[i] * clipped[i][j]).sum())
        .collect();
    let incentive = normalized(&ranks);

    // Bonds: ΔB_ij = S_i·W̄_ij column-normalised, then an EMA with the old bonds.
    let mut old_bonds = dense(&input.bonds, n);
    col_normalize(&mut old_bonds);
    let mut delta: Vec<Vec<f64>> = clipped
        .iter()
        .zip(&stake)
        .map(|(row, &s)| row.iter().map(|&w| s * w).collect())
        .collect();
    col_normalize(&mut delta);
    let alpha = 1.0 - params.bonds_moving_average;
    let mut bonds: Vec<Vec<f64>> = delta
        .iter()
        .zip(&old_bonds)
        .map(|(d, b)| {
            d.iter()
                .zip(b)
                .map(|(&d, &b)| alpha * d + (1.0 - alpha) * b)
                .collect()
        })
        .collect();
    col_normalize(&mut bonds);

    let dividends = normalized(
        &bonds
            .iter()
            .map(|row| row.iter().zip(&incentive).map(|(&b, &i)| b * i).sum())
            .collect::<Vec<f64>>(),
    );

    // Emission: half to miners by incentive, half to validators by dividends; with
    // nothing earned, validators are paid by stake (as subtensor does).
    let earned: f64 = incentive.iter().chain(&dividends).sum();
    let (miner_emission, validator_emission) = if earned > 0.0 {
        (
            incentive.iter().map(|&x| x / earned).collect(),
            dividends.iter().map(|&x| x / earned).collect(),
        )
    } else if stake.iter().any(|&s| s > 0.0) {
        (vec![0.0; n], stake.clone())
    } else {
        (vec![0.0; n], normalized(&input.stake))
    };

    Ok(EpochOutput {
        active_stake: stake,
        consensus,
        incentive,
        dividends,
        bonds,
        miner_emission,
        validator_emission,
    })
}

/// Bonds as subtensor stores them: each column max-upscaled so its largest entry
/// is 1, then scaled to `u16` and truncated.
pub fn bonds_to_u16(bonds: &[Vec<f64>]) -> Vec<Vec<u16>> {
    let cols = bonds.iter().map(Vec::len).max().unwrap_or(0);
    let col_max: Vec<f64> = (0..cols)
        .map(|j| {
            bonds
                .iter()
                .filter_map(|row| row.get(j).copied())
                .fold(0.0, f64::max)
        })
        .collect();
    bonds
        .iter()
        .map(|row| {
            row.iter()
                .zip(&col_max)
                .map(|(&b, &m)| {
                    if m > 0.0 && b > 0.0 {
                        // `as` saturates, so rounding above 1 cannot wrap.
                        (b / m * f64::from(u16::MAX)).floor() as u16
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect()
}

fn check_input(input: &EpochInput) -> Result<(), ChainError> {
    let n = input.stake.len();
    let shape = |what: String, expected, found| ChainError::EpochShape {
        what,
        expected,
        found,
    };
    if input.validator_permit.len() != n {
        return Err(shape(
            "validator_permit".into(),
            n,
            input.validator_permit.len(),
        ));
    }
    check_values("stake", &input.stake)?;
    for (what, matrix) in [("weights", &input.weights), ("bonds", &input.bonds)] {
        if matrix.len() > n {
            return Err(shape(what.into(), n, matrix.len()));
        }
        for (i, row) in matrix.iter().enumerate() {
            let what = format!("{what}[{i}]");
            if row.len() > n {
                return Err(shape(what, n, row.len()));
            }
            check_values(&what, row)?;
        }
    }
    Ok(())
}

fn check_values(what: &str, values: &[f64]) -> Result<(), ChainError> {
    match values.iter().position(|v| !v.is_finite() || *v < 0.0) {
        Some(index) => Err(ChainError::EpochValue {
            what: what.to_owned(),
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// The weights that count: dense `n × n`, rows of neurons without a permit and the
/// diagonal (self-weights) zeroed, each row normalised.
fn validator_weights(input: &EpochInput) -> Vec<Vec<f64>> {
    let mut weights = dense(&input.weights, input.stake.len());
    for (i, row) in weights.iter_mut().enumerate() {
        if !input.validator_permit[i] {
            row.fill(0.0);
        }
        row[i] = 0.0;
        *row = normalized(row);
    }
    weights
}

/// `rows` as an `n × n` matrix, zero-padded.
fn dense(rows: &[Vec<f64>], n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| {
            let mut row = vec![0.0; n];
            if let Some(given) = rows.get(i) {
                row[..given.len()].copy_from_slice(given);
            }
            row
        })
        .collect()
}

/// `v / sum(v)`, or all zero when the sum is zero.
fn normalized(v: &[f64]) -> Vec<f64> {
    let sum: f64 = v.iter().sum();
    if sum > 0.0 {
        v.iter().map(|x| x / sum).collect()
    } else {
        vec![0.0; v.len()]
    }
}

fn col_normalize(m: &mut [Vec<f64>]) {
    let cols = m.first().map_or(0, Vec::len);
    for j in 0..cols {
        let sum: f64 = m.iter().map(|row| row[j]).sum();
        if sum > 0.0 {
            m.iter_mut().for_each(|row| row[j] /= sum);
        }
    }
}

/// Consensus of column `j`: the largest candidate `w` such that the validators with
/// stake and `W_ij ≥ w` hold at least `kappa` of the stake; 0 if none does (or no
/// stake). Candidates are the column's values among staked validators, exactly.
fn weighted_median(stake: &[f64], weights: &[Vec<f64>], j: usize, kappa: f64) -> f64 {
    let total: f64 = stake.iter().sum();
    let threshold = kappa * total;
    let mut votes: Vec<(f64, f64)> = weights
        .iter()
        .zip(stake)
        .filter(|(_, &s)| s > 0.0)
        .map(|(row, &s)| (row[j], s))
        .collect();
    // Largest weight first; weights are finite, so total_cmp is the numeric order.
    votes.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut cumulative = 0.0;
    for (k, &(w, s)) in votes.iter().enumerate() {
        cumulative += s;
        // Test only after the last vote of a run of equal weights.
        let last_of_value = votes.get(k + 1).is_none_or(|next| next.0 != w);
        if last_of_value && total > 0.0 && cumulative >= threshold {
            return w;
        }
    }
    0.0
}

/// `W̄_ij = min(W_ij, C_j)`.
fn clip(weights: &[Vec<f64>], consensus: &[f64]) -> Vec<Vec<f64>> {
    weights
        .iter()
        .map(|row| row.iter().zip(consensus).map(|(&w, &c)| w.min(c)).collect())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests;
