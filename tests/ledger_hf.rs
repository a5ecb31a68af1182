//! Ledgers on the Hugging Face Hub through the binary: `validator run --hub
//! hf --publish-ledger NS/NAME` fetches the miners' models from model
//! repositories and publishes its ledger as a *dataset* repository; `audit
//! --ledger-repo NS/NAME --hub hf` downloads that dataset and passes. The hub
//! is the local server speaking the Hub's API (hub/tests/hub/fake_hf).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../hub/tests/hub/fake_hf/mod.rs"]
#[allow(dead_code)]
mod fake_hf;

use std::path::Path;
use std::process::{Command, Output};

use gauntlet_chain::Wallet;
use gauntlet_hub::HfHub;
use gauntlet_validator::testing::{self, World, COMPETITION, NETUID};

use fake_hf::FakeHub;

/// `gauntlet <args>` against the world in `dir` and the hub at `endpoint`.
fn gauntlet(dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    let defs = dir.join("defs");
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .args(["--chain", "local", "--chain-db"])
        .arg(dir.join("chain.sqlite"))
        .args(["--netuid", &NETUID.0.to_string(), "--hub", "hf", "--defs"])
        .arg(&defs)
        .env("HF_ENDPOINT", endpoint)
        .env_remove("HF_TOKEN")
        .env("GAUNTLET_CACHE", dir.join("data"))
        .output()
        .expect("run gauntlet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_is_published_as_a_dataset_and_audited_from_it() {
    let server = FakeHub::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let world = World::new(dir);
    let defs = dir.join("defs");
    std::fs::create_dir_all(&defs).unwrap();
    std::fs::write(defs.join("tiny.toml"), testing::COMPETITION_TOML).unwrap();
    std::fs::write(defs.join("schedule.toml"), testing::SCHEDULE_TOML).unwrap();
    let wallets = dir.join("wallets");
    let (validator, _) = Wallet::create(&wallets, "v", "h", false).unwrap();
    world.add_validator(&validator);

    // Two miners publish to model repositories on the hub.
    let models = HfHub::new(&server.base, dir.join("miner-cache")).unwrap();
    for (i, seed) in [41u64, 42].iter().enumerate() {
        let key = testing::hotkey(i as u8 + 1);
        world.chain.register(NETUID, &key.ss58()).unwrap();
        let model = world.model(&format!("m{i}"), *seed);
        gauntlet_miner::push(
            &models,
            &world.chain,
            &key,
            NETUID,
            &model,
            &format!("miner{i}"),
            "tiny",
            COMPETITION,
            100_000_000,
        )
        .await
        .unwrap();
        world.chain.advance(1).unwrap();
    }
    world.chain.advance(20).unwrap();

    let endpoint = server.base.clone();
    let base = dir.to_path_buf();
    let (wallets_arg, state, ledger) = (
        wallets.to_string_lossy().into_owned(),
        dir.join("v.sqlite").to_string_lossy().into_owned(),
        dir.join("ledger").to_string_lossy().into_owned(),
    );
    let run = tokio::task::spawn_blocking(move || {
        gauntlet(
            &base,
            &endpoint,
            &[
                "validator",
                "run",
                "--once",
                "--wallet",
                "v",
                "--hotkey",
                "h",
                "--wallet-dir",
                &wallets_arg,
                "--state",
                &state,
                "--ledger-dir",
                &ledger,
                "--publish-ledger",
                "validator-v/ledger",
            ],
        )
    })
    .await
    .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The models stay models; the ledger is a dataset, and only a dataset.
    assert_eq!(
        server.repos(),
        vec!["datasets/validator-v/ledger", "miner0/tiny", "miner1/tiny"]
    );

    let (endpoint, base) = (server.base.clone(), dir.to_path_buf());
    let audit = tokio::task::spawn_blocking(move || {
        gauntlet(
            &base,
            &endpoint,
            &["audit", "--ledger-repo", "validator-v/ledger", "--json"],
        )
    })
    .await
    .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap_or_else(|e| {
        panic!(
            "audit printed no JSON ({e}): {}",
            String::from_utf8_lossy(&audit.stderr)
        )
    });
    assert!(audit.status.success(), "{report}");
    assert_eq!(report["records"], 2, "{report}");
    assert!(
        report["ledger"]
            .as_str()
            .is_some_and(|l| l.starts_with("validator-v/ledger")),
        "{report}"
    );
}
