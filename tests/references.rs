//! Reference entrants: a competition file lists an API-hosted model beside
//! the miners'; `gauntlet eval --competition` evaluates it on the same items
//! and reports it marked as a reference. The endpoint here is `gauntlet
//! serve` of the very model under evaluation, so the reference must score
//! what the model scores; a second reference whose server is down is
//! reported as not evaluated while the run finishes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/endpoint.rs"]
mod endpoint;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gauntlet_validator::testing::{self, World};

fn defs(dir: &Path, references: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let tiny = format!("{}\n{references}", testing::COMPETITION_TOML);
    std::fs::write(dir.join("tiny.toml"), tiny).unwrap();
    std::fs::write(dir.join("schedule.toml"), testing::SCHEDULE_TOML).unwrap();
    dir.to_string_lossy().into_owned()
}

#[test]
fn reference_entrants_are_evaluated_on_the_same_items_and_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new(tmp.path());
    let model = world.model("m", 3);
    let cache = tmp.path().join("data");

    let mut serve = Command::new(env!("CARGO_BIN_EXE_gauntlet"));
    serve
        .args(["serve", "--port", "0", "--name", "tiny", "--model"])
        .arg(&model);
    let (_server, base) =
        endpoint::spawn_until(serve, Duration::from_secs(60), |l| l.starts_with("http://"));
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let references = format!(
        r#"
[[references]]
name = "served"
model = "openai:{base}#tiny"
dialect = "gauntlet"
chat_template = "{model}"
price_prompt = 1.0
price_completion = 2.0

[[references]]
name = "down"
model = "openai:http://127.0.0.1:{down}/v1#tiny"
"#,
        model = model.display()
    );
    let defs = defs(&tmp.path().join("defs"), &references);
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_gauntlet"))
            .args(["eval", "--model", &model.to_string_lossy()])
            .args([
                "--competition",
                "TINY",
                "--defs",
                &defs,
                "--seed",
                "7",
                "--json",
            ])
            .args(["--attempts", "1", "--response-cache"])
            .arg(tmp.path().join("responses.sqlite"))
            .env("GAUNTLET_CACHE", &cache)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let first = run();
    let v: serde_json::Value = serde_json::from_slice(&first).unwrap();
    let refs = v["references"].as_array().expect("references in the JSON");
    assert_eq!(refs.len(), 2, "{v}");
    let served = &refs[0];
    assert_eq!(served["name"], "served");
    assert_eq!(served["reference"], true);
    assert!(served["error"].is_null(), "{served}");
    let (mine, theirs) = (
        v["tasks"].as_array().unwrap(),
        served["tasks"].as_array().unwrap(),
    );
    assert_eq!(mine.len(), theirs.len());
    for (a, b) in mine.iter().zip(theirs) {
        assert_eq!(a["name"], b["name"]);
        assert_eq!(a["samples"], b["samples"], "the same items: {b}");
        let (x, y) = (
            a["raw_score"].as_f64().unwrap(),
            b["raw_score"].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-4, "{} {x} vs {y}", a["name"]);
        let usage = &b["usage"];
        assert!(usage["requests"].as_u64().unwrap() > 0, "{b}");
        assert!(usage["cost_usd"].as_f64().unwrap() > 0.0, "{b}");
        assert!(a["usage"].is_null(), "no usage for a local model: {a}");
    }
    assert!((v["score"].as_f64().unwrap() - served["score"].as_f64().unwrap()).abs() < 1e-4);
    // The same model served: the paired interval of the difference sits on 0.
    let ci = &served["vs_model"];
    assert!(ci["mean_diff"].as_f64().unwrap().abs() < 1e-4, "{ci}");
    assert!(
        ci["low"].as_f64().unwrap() <= 1e-4 && ci["high"].as_f64().unwrap() >= -1e-4,
        "{ci}"
    );
    let down = &refs[1];
    assert!(down.get("vs_model").is_none(), "{down}");
    assert_eq!(down["reference"], true);
    assert!(
        down["error"].as_str().unwrap().contains("no answer"),
        "{down}"
    );
    // A re-run is answered from the response cache: byte-identical.
    assert_eq!(run(), first);
}
