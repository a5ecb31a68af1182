//! Funding pools end to end through the `gauntlet` binary: a validator round
//! on a local network of tiny models, its leaderboard snapshot, a pool of
//! 1,000 TAO settled by it (exactly 1,000 TAO paid, nothing to the copy),
//! settled once even when the payout is killed between transfer and record,
//! and `gauntlet leaderboard` as JSON and Parquet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use gauntlet_constants::Block;
use gauntlet_validator::testing::{hotkey, World, COMPETITION_TOML, SCHEDULE_TOML};

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

fn balance(chain_db: &str, account: &str) -> u64 {
    ok_json(gauntlet(&[
        "chain",
        "balance",
        "--chain-db",
        chain_db,
        "--account",
        account,
        "--json",
    ]))["rao"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_pays_exactly_its_funds_by_the_leaderboard_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let world = World::new(dir);
    // Carol's model is alice's files, later: a copy, never paid.
    let (v, _) = world.stage_two_models_and_a_copy().await;

    let defs = dir.join("defs");
    std::fs::create_dir_all(&defs).unwrap();
    std::fs::write(defs.join("tiny.toml"), COMPETITION_TOML).unwrap();
    std::fs::write(defs.join("schedule.toml"), SCHEDULE_TOML).unwrap();
    let (chain_db, pools, state) = (
        dir.join("chain.sqlite"),
        dir.join("pools.sqlite"),
        dir.join("v.sqlite"),
    );
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let (chain_db, pools, state, defs) = (s(&chain_db), s(&pools), s(&state), s(&defs));

    // The funder's pool, created before the round: 1,000 TAO every 50 blocks.
    assert!(gauntlet(&[
        "chain",
        "fund",
        "--chain-db",
        &chain_db,
        "--account",
        "funder",
        "--tao",
        "1200"
    ])
    .status
    .success());
    let created = ok_json(gauntlet(&[
        "pool",
        "create",
        "--chain-db",
        &chain_db,
        "--pools",
        &pools,
        "--competition",
        "TINY",
        "--funds",
        "1000",
        "--period",
        "50",
        "--funder",
        "funder",
        "--defs",
        &defs,
        "--json",
    ]));
    assert_eq!(created["balance_tao"], "1000");
    assert_eq!(balance(&chain_db, "funder"), 200_000_000_000);
    // Zero funds and unknown competitions are refused.
    for (funds, comp) in [("0", "TINY"), ("-3", "TINY"), ("5", "NOPE")] {
        let o = gauntlet(&[
            "pool",
            "create",
            "--chain-db",
            &chain_db,
            "--pools",
            &pools,
            "--competition",
            comp,
            "--funds",
            funds,
            "--period",
            "50",
            "--funder",
            "funder",
            "--defs",
            &defs,
        ]);
        assert!(!o.status.success(), "{funds} {comp}");
    }

    let mut validator = world.validator(v, "v.sqlite");
    let report = validator.run_round().await.unwrap();
    // The snapshot after the pool's first period has ended.
    world.chain.advance(60).unwrap();
    let now = world.chain.block().unwrap();
    let taken = validator.snapshot_leaderboards(now, 50).unwrap();
    assert_eq!(taken.len(), 1);
    let ranked: Vec<String> = taken[0]
        .rows
        .iter()
        .filter(|r| r.rank.is_some())
        .map(|r| r.hotkey.clone())
        .collect();
    assert_eq!(ranked.len(), 2, "{:?} {report:?}", taken[0].rows);
    drop(validator);

    // A payout killed between its transfer and its record...
    let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args([
            "pool",
            "settle",
            "--chain-db",
            &chain_db,
            "--pools",
            &pools,
            "--state",
            &state,
        ])
        .env("GAUNTLET_FAILPOINT", "pool-after-transfer")
        .output()
        .unwrap();
    assert!(!o.status.success());
    // ...is recorded on the next settle, and paid once.
    let paid = ok_json(gauntlet(&[
        "pool",
        "settle",
        "--chain-db",
        &chain_db,
        "--pools",
        &pools,
        "--state",
        &state,
        "--json",
    ]));
    let payments = paid[0]["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 2, "{paid}");
    let total: u64 = payments.iter().map(|p| p["rao"].as_u64().unwrap()).sum();
    assert_eq!(total, 1_000_000_000_000);
    for p in payments {
        let h = p["hotkey"].as_str().unwrap();
        assert_eq!(balance(&chain_db, h), p["rao"].as_u64().unwrap());
    }
    assert_eq!(payments[0]["hotkey"].as_str().unwrap(), ranked[0]);
    assert_eq!(balance(&chain_db, &hotkey(3).ss58()), 0);
    assert_eq!(balance(&chain_db, "pool:1"), 0);
    let again = ok_json(gauntlet(&[
        "pool",
        "settle",
        "--chain-db",
        &chain_db,
        "--pools",
        &pools,
        "--state",
        &state,
        "--json",
    ]));
    assert_eq!(again, serde_json::json!([]));
    let status = ok_json(gauntlet(&[
        "pool",
        "status",
        "--chain-db",
        &chain_db,
        "--pools",
        &pools,
        "--pool",
        "1",
        "--json",
    ]));
    assert_eq!(status["payouts"].as_array().unwrap().len(), 1);

    // The leaderboard: the snapshot as JSON, at a block, and as Parquet.
    let board = ok_json(gauntlet(&[
        "leaderboard",
        "--competition",
        "TINY",
        "--state",
        &state,
        "--defs",
        &defs,
        "--json",
    ]));
    assert_eq!(board["block"], now.0);
    assert_eq!(board["rows"].as_array().unwrap().len(), 3);
    let before = gauntlet(&[
        "leaderboard",
        "--competition",
        "TINY",
        "--state",
        &state,
        "--defs",
        &defs,
        "--at",
        &(now.0 - 1).to_string(),
    ]);
    assert!(!before.status.success(), "no snapshot before it");
    let file = dir.join("board.parquet");
    let o = gauntlet(&[
        "leaderboard",
        "--competition",
        "TINY",
        "--state",
        &state,
        "--defs",
        &defs,
        "--parquet",
        &s(&file),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    let _ = Block(0);
}
