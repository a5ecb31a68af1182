//! Subtensor's worked Yuma example (REFERENCE §5, `test_bonds`) through the local
//! chain: register, stake, set weights, let the tempo pass, read the metagraph.

use gauntlet_chain::{Chain, LocalChain, SubnetParams};
use gauntlet_constants::{Block, Uid};

use crate::{hotkey, manual_chain, NET};

const EXPECTED: [f64; 4] = [0.1, 0.2, 0.3, 0.4];

fn assert_close(found: &[f64], expected: &[f64], what: &str) {
    assert_eq!(found.len(), expected.len(), "{what}");
    for (f, e) in found.iter().zip(expected) {
        assert!((f - e).abs() < 1e-9, "{what}: {found:?} != {expected:?}");
    }
}

async fn check_epoch(chain: &LocalChain, total_emission: u64) {
    let m = chain.metagraph(NET).await.expect("metagraph");
    let incentive: Vec<f64> = m.neurons.iter().map(|n| n.incentive).collect();
    let dividends: Vec<f64> = m.neurons.iter().map(|n| n.dividends).collect();
    let consensus = chain.consensus(NET).expect("consensus");
    assert_close(&consensus[4..], &EXPECTED, "miners' consensus");
    assert_close(&incentive[4..], &EXPECTED, "miners' incentive");
    assert_close(&dividends[..4], &EXPECTED, "validators' dividends");
    assert_close(&incentive[..4], &[0.0; 4], "validators' incentive");
    assert_close(&dividends[4..], &[0.0; 4], "miners' dividends");
    let permits: Vec<bool> = m.neurons.iter().map(|n| n.validator_permit).collect();
    assert_eq!(
        permits,
        [true, true, true, true, false, false, false, false]
    );
    // Half the emission to miners by incentive, half to validators by dividends.
    let paid: u64 = m.neurons.iter().map(|n| n.emission).sum();
    assert!(
        paid <= total_emission && total_emission - paid <= 8,
        "{paid} of {total_emission}"
    );
    let miner3 = m.neurons[7].emission as f64;
    assert!((miner3 / total_emission as f64 - 0.2).abs() < 1e-9);
}

#[tokio::test]
async fn four_validators_agreeing_reproduce_subtensor_test_bonds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = SubnetParams::default();
    assert_eq!(params.tempo, 360);
    let chain = manual_chain(dir.path(), &params);
    let validators: Vec<_> = (0..4).map(|i| hotkey(20, i)).collect();
    let miners: Vec<_> = (0..4).map(|i| hotkey(21, i)).collect();
    for key in validators.iter().chain(&miners) {
        chain.register(NET, &key.ss58()).expect("register");
    }
    for (stake, v) in (1..=4).zip(&validators) {
        chain.add_stake(NET, &v.ss58(), stake).expect("stake");
    }
    chain.advance(1).expect("advance");
    let weights: Vec<(Uid, u16)> = (4..8)
        .zip([1000, 2000, 3000, 4000])
        .map(|(u, w)| (Uid(u), w))
        .collect();
    for v in &validators {
        chain
            .set_weights(v, NET, &weights, 0)
            .await
            .expect("set weights");
    }

    // Nothing before the tempo ends.
    chain.advance(358).expect("advance");
    assert!(chain.epochs(NET).expect("epochs").is_empty());
    let m = chain.metagraph(NET).await.expect("metagraph");
    assert!(m
        .neurons
        .iter()
        .all(|n| n.incentive == 0.0 && n.emission == 0));

    chain.advance(1).expect("advance");
    assert_eq!(chain.epochs(NET).expect("epochs"), vec![Block(360)]);
    let per_epoch = 360 * params.emission_per_block;
    check_epoch(&chain, per_epoch).await;

    // Agreement is stable: the bonds' moving average changes nothing the next epoch.
    chain.advance(360).expect("advance");
    assert_eq!(
        chain.epochs(NET).expect("epochs"),
        vec![Block(360), Block(720)]
    );
    check_epoch(&chain, per_epoch).await;
}
