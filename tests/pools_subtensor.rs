//! `gauntlet pool … --chain subtensor` through the binary, against the
//! loopback node with the shipped finney metadata: the pool is the funder's
//! account, `settle` without the key prints the batch to sign (`to_sign`), and
//! once the account's nonce has passed it the payout is recorded, once.
//! The leaderboard comes from a real validator round on a local network.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "common/dashboard.rs"]
mod dashboard;
#[path = "../subtensor/tests/subtensor/double.rs"]
#[allow(dead_code)]
mod double;
#[path = "../subtensor/tests/subtensor/events.rs"]
#[allow(dead_code)]
mod events;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use gauntlet_chain::Hotkey;
use gauntlet_validator::testing::{hotkey, World, COMPETITION_TOML, SCHEDULE_TOML};
use subxt::dynamic::{storage, Value};
use subxt::ext::codec::Encode;

use dashboard::start_dashboard;
use double::Double;

const TAO: u64 = 1_000_000_000;

fn gauntlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .output()
        .expect("run gauntlet")
}

fn ok_json(o: Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

/// `System.Account(who)`: nonce and free balance.
fn set_account(double: &Double, who: &Hotkey, nonce: u32, free: u64) {
    double.state.put(
        storage::<([u8; 32],), Value>("System", "Account"),
        (who.public_key(),),
        (nonce, 0u32, 1u32, 0u32, (free, 0u64, 0u64, 0u128)).encode(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subtensor_pool_is_printed_to_sign_and_recorded_once_it_lands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A round on a local network: two ranked models and a copy.
    let world = World::new(dir);
    let (v, _) = world.stage_two_models_and_a_copy().await;
    let mut validator = world.validator(v, "v.sqlite");
    validator.run_round().await.unwrap();
    world.chain.advance(60).unwrap();
    let now = world.chain.block().unwrap();
    let taken = validator.snapshot_leaderboards(now, 50).unwrap();
    assert_eq!(taken.len(), 1);
    drop(validator);

    let defs = dir.join("defs");
    std::fs::create_dir_all(&defs).unwrap();
    std::fs::write(defs.join("tiny.toml"), COMPETITION_TOML).unwrap();
    std::fs::write(defs.join("schedule.toml"), SCHEDULE_TOML).unwrap();
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let (pools, state, defs) = (
        s(&dir.join("pools.sqlite")),
        s(&dir.join("v.sqlite")),
        s(&defs),
    );

    // The funder's pool account on subtensor: 1,000 TAO plus the reserve.
    let node = Double::start(10).await;
    let funder = Hotkey::from_seed([42; 32]).unwrap();
    set_account(&node, &funder, 7, 1_000 * TAO + TAO / 100);
    let on_node = [
        "--chain",
        "subtensor",
        "--endpoint",
        node.url.as_str(),
        "--pools",
        pools.as_str(),
    ];
    let at = |cmd: &str| -> Vec<String> {
        ["pool", cmd]
            .iter()
            .chain(&on_node)
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        let args = args.clone();
        std::thread::spawn(move || {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            gauntlet(&refs)
        })
        .join()
        .unwrap()
    };
    let mut create = at("create");
    let funder_ss58 = funder.ss58();
    create.extend(
        [
            "--competition",
            "TINY",
            "--funds",
            "1000",
            "--period",
            "50",
            "--funder",
            &funder_ss58,
            "--defs",
            &defs,
            "--json",
        ]
        .map(String::from),
    );
    let created = ok_json(run(create.clone()));
    assert_eq!(created["balance_tao"], "1000", "{created}");
    // More than the account holds is refused.
    let too_much: Vec<String> = create
        .iter()
        .map(|a| {
            if a == "1000" {
                "2000".into()
            } else {
                a.clone()
            }
        })
        .collect();
    let refused = run(too_much);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already holds pool 1"),
        "one pool per account: {}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // A funder whose account holds too little: refused, and no pool is left.
    let poor = Hotkey::from_seed([43; 32]).unwrap();
    set_account(&node, &poor, 0, 5 * TAO);
    let poor_ss58 = poor.ss58();
    let short: Vec<String> = create
        .iter()
        .map(|a| {
            if *a == funder_ss58 {
                poor_ss58.clone()
            } else {
                a.clone()
            }
        })
        .collect();
    assert!(!run(short).status.success());
    let mut list = at("list");
    list.push("--json".into());
    let listed = ok_json(run(list));
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // The period (blocks 10..60) has ended on the node: settle without the key.
    node.state.best.store(80, Ordering::SeqCst);
    let mut settle = at("settle");
    settle.extend(["--state", &state, "--json"].map(String::from));
    let first = ok_json(run(settle.clone()));
    assert_eq!(first["paid"], serde_json::json!([]), "{first}");
    let to_sign = first["to_sign"].as_array().unwrap();
    assert_eq!(to_sign.len(), 1, "{first}");
    let batch = &to_sign[0];
    assert_eq!(batch["account"], funder_ss58.as_str(), "{first}");
    assert_eq!(batch["nonce"], 7);
    let transfers = batch["transfers"].as_array().unwrap();
    let total: u64 = transfers.iter().map(|t| t[1].as_u64().unwrap()).sum();
    assert_eq!(total, 1_000 * TAO, "exactly the pool's balance");
    let paid_to: Vec<&str> = transfers.iter().map(|t| t[0].as_str().unwrap()).collect();
    assert!(
        !paid_to.contains(&hotkey(3).ss58().as_str()),
        "not the copy"
    );
    assert_eq!(paid_to.len(), 2);
    assert!(to_sign[0]["call_data"].as_str().unwrap().starts_with("0x"));
    assert!(node.submitted().is_empty(), "nothing sent without the key");
    // The text form says what to sign.
    let mut text = at("settle");
    text.extend(["--state", &state].map(String::from));
    let o = run(text);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("with nonce 7"), "{out}");

    // The funder signs it elsewhere: the nonce moves on, the payout is recorded.
    set_account(&node, &funder, 8, TAO / 100);
    let second = ok_json(run(settle.clone()));
    let paid = second["paid"].as_array().unwrap();
    assert_eq!(paid.len(), 1, "{second}");
    assert_eq!(paid[0]["status"], "paid");
    assert_eq!(second["to_sign"], serde_json::json!([]));
    let third = ok_json(run(settle));
    assert_eq!(third["paid"], serde_json::json!([]), "paid once: {third}");
    assert!(node.submitted().is_empty());

    // The dashboard on the same node shows the pool: its balance read from
    // the account (less the reserve) and the period paid.
    set_account(&node, &funder, 8, 250 * TAO + TAO / 100);
    let mut args = on_node.to_vec();
    args.extend(["--state", state.as_str(), "--defs", defs.as_str()]);
    let dashboard = start_dashboard(&args);
    let page: serde_json::Value = reqwest::get(format!("{}/api/pools", dashboard.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = page["pools"].as_array().unwrap();
    assert_eq!(shown.len(), 1, "{page}");
    assert_eq!(shown[0]["account"], funder_ss58.as_str(), "{page}");
    assert_eq!(shown[0]["balance_tao"], "250", "{page}");
    assert_eq!(shown[0]["deposited_tao"], "1000", "{page}");
    let payouts = shown[0]["payouts"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "{page}");
    assert_eq!(payouts[0]["status"], "paid", "{page}");
    let html = reqwest::get(format!("{}/pools", dashboard.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&funder_ss58),
        "the pools page names the account"
    );
    drop(dashboard);
    node.stop().await;
}
