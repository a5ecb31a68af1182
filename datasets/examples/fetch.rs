//! Fetches data sources into the cache, as `gauntlet data fetch` will:
//! `cargo run -p gauntlet-datasets --example fetch -- [SOURCE …]`
//! (all sources when none is named). Progress goes to stderr, the JSON
//! report to stdout; the exit status is 1 when a source failed.

use gauntlet_datasets::{fetch, DataCache, FetchEvent, SourceId};

fn main() {
    let mut which = Vec::new();
    for name in std::env::args().skip(1) {
        match SourceId::from_name(&name) {
            Some(id) => which.push(id),
            None => {
                let known: Vec<&str> = SourceId::ALL.iter().map(|s| s.name()).collect();
                eprintln!("unknown source {name:?}; known: {}", known.join(", "));
                std::process::exit(2);
            }
        }
    }
    if which.is_empty() {
        which = SourceId::ALL.to_vec();
    }
    let cache = DataCache::from_env();
    let mut last_mb = 0;
    let report = fetch(&cache, &which, &mut |e| match e {
        FetchEvent::Started { source } => eprintln!("{source}: …"),
        FetchEvent::Download { url, total, .. } => {
            last_mb = 0;
            eprintln!(
                "  GET {url} ({} bytes)",
                total.map_or("?".into(), |t| t.to_string())
            );
        }
        FetchEvent::Progress { done, .. } if done >> 23 > last_mb => {
            last_mb = done >> 23;
            eprintln!("  {} MiB", done >> 20);
        }
        FetchEvent::Finished { source, status } => eprintln!("{source}: {status:?}"),
        _ => {}
    });
    match report {
        Ok(r) => {
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            std::process::exit(if r.ok() { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
