//! `gauntlet dashboard` end to end: a validator round on a local network of
//! tiny models (two honest, one copy, one hostile commitment carrying HTML
//! and script), a leaderboard snapshot and a funded pool; the binary serves
//! them, the JSON API says what the state says, and headless Chromium (Debian's
//! `chromium`) renders each page as a user sees it, with the miner's markup
//! shown as text and the live-refresh script running under the page's CSP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

#[path = "common/dashboard.rs"]
mod dashboard;

use dashboard::start_dashboard;
use gauntlet_validator::testing::{hotkey, World, COMPETITION_TOML, NETUID, SCHEDULE_TOML};

/// A commitment a miner could publish: not a model, but markup.
const HOSTILE: &str = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>";

fn gauntlet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gauntlet"))
        .args(args)
        .output()
        .expect("run gauntlet")
}

/// Debian's chromium, or `None` (a failure under CI, where it is installed).
fn chromium() -> Option<String> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = Command::new("which")
            .arg(name)
            .output()
            .is_ok_and(|o| o.status.success());
        if found {
            return Some(name.to_string());
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium is not installed (`apt-get install chromium`); .ci/run installs it"
    );
    eprintln!(
        "SKIPPED the Chromium checks: no chromium on this machine (apt-get install chromium)"
    );
    None
}

/// The DOM Chromium builds for `url` after running its scripts for `ms`
/// milliseconds of virtual time.
fn rendered(browser: &str, url: &str, ms: u32) -> String {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--virtual-time-budget={ms}"),
            "--dump-dom",
            url,
        ])
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8 DOM")
}

async fn get_json(url: &str) -> serde_json::Value {
    let r = reqwest::get(url).await.expect("GET");
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_serves_leaderboard_plots_models_validators_and_pools() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let world = World::new(dir);
    let v = hotkey(100);
    world.add_validator(&v);
    let a = world.model("a", 1);
    let b = world.model("b", 2);
    let alice = world.push(&hotkey(1), &a, "alice/tiny").await;
    world.chain.advance(1).unwrap();
    let bob = world.push(&hotkey(2), &b, "bob/tiny").await;
    world.chain.advance(1).unwrap();
    let carol = world.push(&hotkey(3), &a, "carol/tiny").await;
    let evil = hotkey(4);
    world.chain.register(NETUID, &evil.ss58()).unwrap();
    world
        .chain
        .commit_as(&evil.ss58(), NETUID, HOSTILE)
        .unwrap();
    world.chain.advance(20).unwrap();

    let defs = dir.join("defs");
    std::fs::create_dir_all(&defs).unwrap();
    std::fs::write(defs.join("tiny.toml"), COMPETITION_TOML).unwrap();
    std::fs::write(defs.join("schedule.toml"), SCHEDULE_TOML).unwrap();
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let (chain_db, pools, state, defs) = (
        s(&dir.join("chain.sqlite")),
        s(&dir.join("pools.sqlite")),
        s(&dir.join("v.sqlite")),
        s(&defs),
    );
    for args in [
        vec![
            "chain",
            "fund",
            "--chain-db",
            &chain_db,
            "--account",
            "funder",
            "--tao",
            "1000",
        ],
        vec![
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
        ],
    ] {
        let o = gauntlet(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    // The validator publishes its rounds' items beside its state, where the
    // dashboard finds them (the prompts on model pages).
    let mut config = world.config();
    config.ledger_dir = Some(dir.join("ledger"));
    let mut validator = world.validator_with_config(v, "v.sqlite", config);
    validator.run_round().await.unwrap();
    world.chain.advance(60).unwrap();
    let now = world.chain.block().unwrap();
    assert_eq!(validator.snapshot_leaderboards(now, 50).unwrap().len(), 1);

    let dash = start_dashboard(&[
        "--state",
        &state,
        "--chain-db",
        &chain_db,
        "--pools",
        &pools,
        "--defs",
        &defs,
        "--netuid",
        &NETUID.0.to_string(),
    ]);
    let base = dash.base.clone();

    // The JSON API says what the state and the chain say.
    let board = get_json(&format!("{base}/api/competitions/TINY/leaderboard")).await;
    let rows = board["rows"].as_array().unwrap();
    let by_uid = |uid: u16| rows.iter().find(|r| r["uid"] == uid).unwrap();
    assert_eq!(by_uid(alice)["rank"], 1, "{board:#}");
    assert_eq!(by_uid(bob)["rank"], 2);
    assert_eq!(by_uid(carol)["rank"], serde_json::Value::Null);
    assert_eq!(by_uid(carol)["verdict"], "copy");
    assert_eq!(by_uid(carol)["copy_of"], alice);
    assert_eq!(by_uid(alice)["weight"], 1.0);
    assert!(by_uid(alice)["tasks"]
        .as_object()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(board["snapshots"].as_array().unwrap().len(), 1);
    let history = get_json(&format!("{base}/api/competitions/TINY/history")).await;
    assert_eq!(
        history["scores"].as_array().unwrap().len(),
        2,
        "{history:#}"
    );
    let overview = get_json(&format!("{base}/api/overview")).await;
    assert_eq!(overview["unplaced"][0]["commitment"], HOSTILE);
    let validators = get_json(&format!("{base}/api/validators")).await;
    assert_eq!(
        validators["validators"][0]["agreement"], 1.0,
        "{validators:#}"
    );
    let pools_json = get_json(&format!("{base}/api/pools")).await;
    assert_eq!(pools_json["pools"][0]["balance_tao"], "1000");
    let commitment = by_uid(alice)["commitment"].as_str().unwrap().to_string();
    let alice_key = hotkey(1).ss58();
    let model = reqwest::Client::new()
        .get(format!("{base}/api/model"))
        .query(&[("hotkey", &alice_key), ("commitment", &commitment)])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(model["uid"], alice);
    let evaluation = &model["evaluations"][0];
    assert!(evaluation["samples"].as_u64().unwrap() > 0, "{model:#}");
    let samples = reqwest::Client::new()
        .get(format!("{base}/api/model/samples"))
        .query(&[
            ("hotkey", alice_key.clone()),
            ("commitment", commitment.clone()),
            ("sync", evaluation["sync_block"].to_string()),
            ("competition", evaluation["competition_id"].to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(samples["total"], evaluation["samples"]);
    let page = samples["samples"].as_array().unwrap();
    assert!(!page.is_empty());
    // Each sample with the item it was given and what the model produced.
    assert!(
        page.iter()
            .all(|s| s["item"].is_object() && s["output"].is_object()),
        "{samples:#}"
    );
    let mc = page
        .iter()
        .find(|s| s["task"] == "SYNTHETIC_MMLU")
        .expect("a multiple-choice sample");
    let question = mc["item"]["question"].as_str().unwrap().to_string();
    assert!(mc["output"]["text"].is_string(), "{mc:#}");
    for kind in ["scores", "weights", "incentive"] {
        let r = reqwest::get(format!("{base}/plots/42/{kind}.svg"))
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        let svg = r.text().await.unwrap();
        assert!(svg.contains(&format!("uid {alice}")), "{kind}: {svg}");
    }
    let missing = reqwest::get(format!("{base}/competitions/NOPE"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let csp = reqwest::get(format!("{base}/")).await.unwrap();
    assert!(csp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));

    // What a user sees, rendered by a real browser.
    if let Some(browser) = chromium() {
        let front = rendered(&browser, &format!("{base}/"), 6_000);
        assert!(front.contains("TINY"), "{front}");
        // The miner's markup is text on the page, never an element.
        assert!(
            front.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
            "{front}"
        );
        assert!(!front.contains("<script>document.title"), "{front}");
        assert!(!front.contains("<img src=\"x\""), "{front}");
        assert!(!front.contains("<title>pwned"), "{front}");
        // refresh.js ran (allowed by the CSP) and reached the API.
        assert!(front.contains("<span id=\"live\">live</span>"), "{front}");

        let page = rendered(&browser, &format!("{base}/competitions/42"), 1_000);
        assert!(page.contains("TINY leaderboard"), "{page}");
        assert!(
            page.contains("alice/tiny@") && page.contains("bob/tiny@"),
            "{page}"
        );
        assert!(page.contains(">copy<"), "{page}");
        for plot in ["scores", "weights", "incentive"] {
            assert!(page.contains(&format!("/plots/42/{plot}.svg")), "{page}");
        }
        let encode = |s: &str| -> String {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let model_url = format!(
            "{base}/model?hotkey={}&commitment={}",
            encode(&alice_key),
            encode(&commitment)
        );
        let model_page = rendered(&browser, &model_url, 1_000);
        assert!(model_page.contains(&question), "{model_page}");
        assert!(model_page.contains("token losses, mean"), "{model_page}");
        let validators = rendered(&browser, &format!("{base}/validators"), 1_000);
        assert!(validators.contains("1.000"), "{validators}");
        let pools = rendered(&browser, &format!("{base}/pools"), 1_000);
        assert!(pools.contains("1000 TAO"), "{pools}");
    }

    // A second round changes what the pages show, and the fingerprint the
    // pages poll changes with it.
    let before = get_json(&format!("{base}/api/fingerprint")).await;
    world.chain.advance(400).unwrap();
    validator.run_round().await.unwrap();
    let after = get_json(&format!("{base}/api/fingerprint")).await;
    assert_ne!(before, after);
    let board2 = get_json(&format!("{base}/api/competitions/TINY/leaderboard")).await;
    assert_ne!(board2["sync_block"], board["sync_block"]);
}
