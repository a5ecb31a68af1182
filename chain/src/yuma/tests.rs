//! Tests of the Yuma epoch: subtensor's worked example, hand-computed cases and
//! properties over random inputs.

use super::*;
use proptest::prelude::*;

const TOL: f64 = 1e-12;

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "{got:?} vs {want:?}");
    }
}

fn run(stake: &[f64], weights: &[Vec<f64>], bonds: &[Vec<f64>]) -> EpochOutput {
    let input = EpochInput {
        stake: stake.to_vec(),
        validator_permit: vec![true; stake.len()],
        weights: weights.to_vec(),
        bonds: bonds.to_vec(),
    };
    epoch(&input, &YumaParams::default()).unwrap()
}

/// Subtensor's `test_bonds`: validators 0..4 with stake 1, 2, 3, 4 all set the u16
/// weights [¼, ½, ¾, 1]·65535 on servers 4..8.
#[test]
fn reproduces_subtensor_test_bonds_first_epoch() {
    let max = f64::from(u16::MAX);
    let row = vec![
        0.0,
        0.0,
        0.0,
        0.0,
        (max / 4.0).floor(),
        (max / 2.0).floor(),
        (max / 4.0).floor() * 3.0,
        max,
    ];
    let stake = [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0];
    let out = run(&stake, &vec![row; 4], &[]);
    let tenths = [0.1, 0.2, 0.3, 0.4];
    let zeros = [0.0; 4];
    assert_close(&out.consensus[..4], &zeros, 0.0);
    assert_close(&out.consensus[4..], &tenths, 1e-4);
    assert_close(&out.incentive[..4], &zeros, 0.0);
    assert_close(&out.incentive[4..], &tenths, 1e-4);
    assert_close(&out.dividends[..4], &tenths, TOL);
    assert_close(&out.dividends[4..], &zeros, 0.0);
    // Everyone agrees, so consensus is each weight and incentive equals it exactly.
    assert_close(&out.incentive, &out.consensus, TOL);
    for j in 4..8 {
        let column: Vec<f64> = out.bonds.iter().map(|r| r[j]).collect();
        assert_close(&column, &[0.1, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0], TOL);
    }
    // Stored as subtensor stores them (its test reads these u16 bonds back).
    let stored = bonds_to_u16(&out.bonds);
    let column: Vec<u16> = stored.iter().map(|r| r[4]).collect();
    assert_eq!(column, [16383, 32767, 49151, 65535, 0, 0, 0, 0]);
    // Half the emission to servers, half to validators.
    assert_close(&out.miner_emission[4..], &[0.05, 0.1, 0.15, 0.2], 1e-4);
    assert_close(&out.validator_emission[..4], &[0.05, 0.1, 0.15, 0.2], TOL);
}

/// Three validators (stake 1, 1, 2) disagree on two miners (uids 3 and 4).
#[test]
fn clips_at_the_stake_weighted_median() {
    let stake = [1.0, 1.0, 2.0, 0.0, 0.0];
    let weights = vec![
        vec![0.0, 0.0, 0.0, 1.0, 0.0],
        vec![0.0, 0.0, 0.0, 0.5, 0.5],
        vec![0.0, 0.0, 0.0, 0.0, 1.0],
    ];
    let out = run(&stake, &weights, &[]);
    // Column 3: weights 1 (¼ of stake), ½ (¼), 0 (½) ⇒ ½. Column 4: 1 (½) ⇒ 1.
    assert_close(&out.consensus, &[0.0, 0.0, 0.0, 0.5, 1.0], TOL);
    // Ranks: ¼·½ + ¼·½ = ¼ and ¼·½ + ½·1 = ⅝.
    assert_close(&out.incentive, &[0.0, 0.0, 0.0, 2.0 / 7.0, 5.0 / 7.0], TOL);
    // Bonds: column 3 split ½/½ between uids 0 and 1; column 4 ⅕/⅘ between 1 and 2.
    assert_close(
        &out.dividends,
        &[1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0, 0.0, 0.0],
        TOL,
    );

    // A second epoch from the bonds of the first changes nothing: a fixed point.
    let again = run(&stake, &weights, &out.bonds);
    assert_close(&again.dividends, &out.dividends, TOL);
}

#[test]
fn exactly_kappa_of_stake_sets_consensus() {
    // Two equal validators: each holds exactly half, so the larger weight wins.
    let weights = vec![vec![0.0, 0.0, 0.2, 0.8], vec![0.0, 0.0, 0.6, 0.4]];
    let out = run(&[1.0, 1.0, 0.0, 0.0], &weights, &[]);
    assert_close(&out.consensus, &[0.0, 0.0, 0.6, 0.8], TOL);
    // Nothing is clipped, so incentive is the plain stake-weighted mean.
    assert_close(&out.incentive, &[0.0, 0.0, 0.4, 0.6], TOL);
}

#[test]
fn bonds_are_a_moving_average() {
    // Validator 0 alone weights miner 2; old bonds gave the whole column to validator 1.
    let weights = vec![vec![0.0, 0.0, 1.0]];
    let old = vec![vec![0.0, 0.0, 0.0], vec![0.0, 0.0, 7.0]];
    let out = run(&[1.0, 0.0, 0.0], &weights, &old);
    let column: Vec<f64> = out.bonds.iter().map(|r| r[2]).collect();
    assert_close(&column, &[0.1, 0.9, 0.0], TOL);
    assert_close(&out.dividends, &[0.1, 0.9, 0.0], TOL);
}

#[test]
fn unpermitted_rows_and_self_weights_are_ignored() {
    let weights = vec![
        vec![5.0, 0.0, 1.0, 0.0], // the self-weight of 5 is dropped
        vec![0.0, 0.0, 0.0, 1.0], // no permit: ignored, though staked
    ];
    let input = EpochInput {
        stake: vec![1.0, 100.0, 0.0, 0.0],
        validator_permit: vec![true, false, false, false],
        weights,
        bonds: vec![],
    };
    let out = epoch(&input, &YumaParams::default()).unwrap();
    assert_close(&out.active_stake, &[1.0, 0.0, 0.0, 0.0], TOL);
    assert_close(&out.incentive, &[0.0, 0.0, 1.0, 0.0], TOL);
    assert_close(&out.dividends, &[1.0, 0.0, 0.0, 0.0], TOL);
}

#[test]
fn without_weights_validators_are_paid_by_stake() {
    let out = run(&[1.0, 3.0, 0.0], &[], &[]);
    assert_close(&out.incentive, &[0.0; 3], 0.0);
    assert_close(&out.dividends, &[0.0; 3], 0.0);
    assert_close(&out.validator_emission, &[0.25, 0.75, 0.0], TOL);
    assert_eq!(out.emission_rao(1_000), [250, 750, 0]);

    // Without any stake nothing is paid; an empty subnet is fine too.
    let out = run(&[0.0, 0.0], &[vec![0.0, 1.0]], &[]);
    assert_close(&out.validator_emission, &[0.0, 0.0], 0.0);
    assert_eq!(run(&[], &[], &[]), EpochOutput::default());
}

#[test]
fn emission_rao_truncates_each_half() {
    let out = run(
        &[1.0, 2.0, 0.0],
        &[vec![0.0, 0.0, 1.0], vec![0.0, 0.0, 1.0]],
        &[],
    );
    // Miner 2 gets half; validators ⅓ and ⅔ of the other half.
    assert_eq!(out.emission_rao(1_000), [166, 333, 500]);
}

#[test]
fn malformed_inputs_are_errors() {
    let mut input = EpochInput {
        stake: vec![1.0, 1.0],
        validator_permit: vec![true],
        weights: vec![],
        bonds: vec![],
    };
    let params = YumaParams::default();
    assert!(matches!(
        epoch(&input, &params),
        Err(ChainError::EpochShape {
            expected: 2,
            found: 1,
            ..
        })
    ));
    input.validator_permit = vec![true, true];
    input.weights = vec![vec![0.0, 1.0, 0.0]];
    assert!(matches!(
        epoch(&input, &params),
        Err(ChainError::EpochShape { ref what, expected: 2, found: 3 }) if what == "weights[0]"
    ));
    input.weights = vec![vec![0.0; 2]; 3];
    assert!(matches!(
        epoch(&input, &params),
        Err(ChainError::EpochShape { found: 3, .. })
    ));
    input.weights = vec![vec![0.0, f64::NAN]];
    assert!(matches!(
        epoch(&input, &params),
        Err(ChainError::EpochValue { index: 1, .. })
    ));
    input.weights = vec![];
    input.stake = vec![1.0, -1.0];
    let err = epoch(&input, &params).unwrap_err();
    assert_eq!(
        err.to_string(),
        "epoch input stake[1] = -1 is negative or not finite"
    );
    input.stake = vec![1.0, 1.0];
    input.bonds = vec![vec![f64::INFINITY]];
    assert!(matches!(
        epoch(&input, &params),
        Err(ChainError::EpochValue { .. })
    ));
}

/// Random subnets of up to 7 neurons with integer stakes and u16-like weights.
fn subnet() -> impl Strategy<Value = EpochInput> {
    (1usize..8).prop_flat_map(|n| {
        (
            prop::collection::vec(0u32..1_000, n),
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(prop::collection::vec(0u16..=u16::MAX, n), 0..=n),
            prop::collection::vec(prop::collection::vec(0u16..=u16::MAX, n), 0..=n),
        )
            .prop_map(|(stake, permit, weights, bonds)| {
                let to_f64 = |m: Vec<Vec<u16>>| -> Vec<Vec<f64>> {
                    m.into_iter()
                        .map(|r| r.into_iter().map(f64::from).collect())
                        .collect()
                };
                EpochInput {
                    stake: stake.into_iter().map(f64::from).collect(),
                    validator_permit: permit,
                    weights: to_f64(weights),
                    bonds: to_f64(bonds),
                }
            })
    })
}

fn sum(v: &[f64]) -> f64 {
    v.iter().sum()
}

fn all_zero(v: &[f64]) -> bool {
    v.iter().all(|&x| x == 0.0)
}

proptest! {
    #[test]
    fn outputs_are_distributions(input in subnet()) {
        let out = epoch(&input, &YumaParams::default()).unwrap();
        let any_consensus = out.consensus.iter().any(|&c| c > 0.0);
        // Incentive sums to 1 exactly when some weight survives clipping.
        if any_consensus {
            prop_assert!((sum(&out.incentive) - 1.0).abs() < 1e-9);
            prop_assert!((sum(&out.dividends) - 1.0).abs() < 1e-9);
        } else {
            prop_assert!(all_zero(&out.incentive));
            prop_assert!(all_zero(&out.dividends));
        }
        for v in [&out.consensus, &out.incentive, &out.dividends, &out.active_stake] {
            prop_assert!(v.iter().all(|x| (0.0..=1.0 + 1e-12).contains(x)));
        }
        let emitted = sum(&out.miner_emission) + sum(&out.validator_emission);
        if input.stake.iter().any(|&s| s > 0.0) {
            prop_assert!((emitted - 1.0).abs() < 1e-9);
        }
        for j in 0..input.stake.len() {
            let column: f64 = out.bonds.iter().map(|r| r[j]).sum();
            prop_assert!(column == 0.0 || (column - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn consensus_is_the_largest_kappa_supported_weight(input in subnet()) {
        let out = epoch(&input, &YumaParams::default()).unwrap();
        let n = input.stake.len();
        let raw: Vec<f64> = (0..n)
            .map(|i| if input.validator_permit[i] { input.stake[i] } else { 0.0 })
            .collect();
        let total = sum(&raw);
        let weights = validator_weights(&input);
        let support = |j: usize, w: f64| -> f64 {
            (0..n).filter(|&i| weights[i][j] >= w).map(|i| raw[i]).sum()
        };
        for (j, &c) in out.consensus.iter().enumerate() {
            if c > 0.0 {
                prop_assert!(support(j, c) >= KAPPA * total);
            }
            for (row, &s) in weights.iter().zip(&raw) {
                let w = row[j];
                if s > 0.0 && w > c {
                    prop_assert!(support(j, w) < KAPPA * total);
                }
            }
        }
        // Clipping never raises a weight.
        for (clipped, original) in clip(&weights, &out.consensus).iter().zip(&weights) {
            prop_assert!(clipped.iter().zip(original).all(|(c, w)| c <= w));
        }
    }

    #[test]
    fn unanimous_support_pays_a_miner(input in subnet(), extra in 1u16..=u16::MAX) {
        // Append a miner every staked validator weights: its consensus is positive.
        let mut input = input;
        let n = input.stake.len();
        input.stake.push(0.0);
        input.validator_permit.push(false);
        input.weights.resize(n, vec![0.0; n]);
        for row in &mut input.weights { row.push(f64::from(extra)); }
        input.bonds.iter_mut().for_each(|row| row.push(0.0));
        prop_assume!((0..n).any(|i| input.validator_permit[i] && input.stake[i] > 0.0));
        let out = epoch(&input, &YumaParams::default()).unwrap();
        prop_assert!(out.consensus[n] > 0.0);
        prop_assert!((sum(&out.incentive) - 1.0).abs() < 1e-9);
        prop_assert!((sum(&out.dividends) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn epochs_are_deterministic(input in subnet()) {
        let params = YumaParams::default();
        prop_assert_eq!(epoch(&input, &params).unwrap(), epoch(&input, &params).unwrap());
    }
}
