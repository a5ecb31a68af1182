//! The tokenizer a competition scores with: the model's own, or a fixed one
//! that every model is scored through (REFERENCE §1: B7_MULTI_CHOICE and
//! DISTILLED_REASONING_3B use `Xenova/gpt-4`; the model's own tokenizer
//! files are then ignored, as in the reference).

use std::path::{Path, PathBuf};
use std::time::Duration;

use gauntlet_competitions::TokenizerPolicy;
use gauntlet_datasets::DataCache;
use gauntlet_hub::{validate_repo, HfHub, ModelStore, RetryPolicy};

/// A fixed tokenizer's repository is refused above this size.
const MAX_TOKENIZER_BYTES: u64 = 256 << 20;

/// The tokenizer directory for `policy`: `None` for the model's own; for a
/// fixed `namespace/name`, `<cache>/tokenizers/<namespace>/<name>/` when it
/// holds a `tokenizer.json` (placed there by hand, e.g. offline), else a
/// revision downloaded before below it, else the repository's latest
/// revision fetched from the Hugging Face Hub (`HF_ENDPOINT`, `HF_TOKEN`).
///
/// An error says what is missing and where to put it; it is the validator's
/// own problem, never a miner's.
pub async fn tokenizer_dir(
    policy: &TokenizerPolicy,
    data: &DataCache,
) -> Result<Option<PathBuf>, String> {
    let TokenizerPolicy::Fixed(repo) = policy else {
        return Ok(None);
    };
    let (namespace, name) = repo
        .split_once('/')
        .ok_or_else(|| format!("fixed tokenizer {repo:?} is not namespace/name"))?;
    validate_repo(namespace, name).map_err(|e| format!("fixed tokenizer {repo:?}: {e}"))?;
    let root = data.path("tokenizers");
    let dir = root.join(namespace).join(name);
    if has_tokenizer(&dir) {
        return loads(dir).map(Some);
    }
    if let Some(found) = downloaded(&dir) {
        return loads(found).map(Some);
    }
    let hub = HfHub::from_env(&root)
        .and_then(|h| h.with_timeouts(Duration::from_secs(10), Duration::from_secs(60)))
        .map_err(|e| e.to_string())?
        .with_retry(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(2),
        });
    let fetched = async {
        let id = hub.resolve(namespace, name, "main").await?;
        hub.download(&id, MAX_TOKENIZER_BYTES).await
    }
    .await;
    match fetched {
        Ok(local) if has_tokenizer(&local.dir) => loads(local.dir).map(Some),
        Ok(local) => Err(format!(
            "{repo} at {} has no tokenizer.json",
            local.id.commit
        )),
        Err(e) => Err(format!(
            "the fixed tokenizer {repo} is not in {} and the Hub did not serve it ({e}); \
             put its tokenizer.json (and tokenizer_config.json) there",
            dir.display()
        )),
    }
}

/// `dir` when its tokenizer loads: a broken fixed tokenizer must stop the
/// competition, not disqualify every model scored through it.
fn loads(dir: PathBuf) -> Result<PathBuf, String> {
    match gauntlet_model::tokenizer::TextTokenizer::load(&dir, &[]) {
        Ok(_) => Ok(dir),
        Err(e) => Err(format!(
            "the fixed tokenizer in {} does not load: {e}",
            dir.display()
        )),
    }
}

fn has_tokenizer(dir: &Path) -> bool {
    dir.join("tokenizer.json").is_file()
}

/// The most recently downloaded revision below `dir` (`<dir>/<commit>/`).
fn downloaded(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| has_tokenizer(p))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn own_needs_nothing_and_fixed_is_found_in_the_cache() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = DataCache::new(tmp.path());
        assert_eq!(
            block_on(tokenizer_dir(&TokenizerPolicy::Own, &data)),
            Ok(None)
        );
        let dir = tmp.path().join("tokenizers/Xenova/gpt-4");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("tokenizer.json"), "{ broken").expect("write");
        let fixed = TokenizerPolicy::Fixed("Xenova/gpt-4".into());
        let broken = block_on(tokenizer_dir(&fixed, &data));
        assert!(
            broken.as_ref().is_err_and(|e| e.contains("does not load")),
            "{broken:?}"
        );
        gauntlet_model::testing::write_tiny_model(
            &tmp.path().join("tiny"),
            &gauntlet_model::testing::TinySpec::new(gauntlet_model::Architecture::Llama),
        )
        .expect("tiny");
        std::fs::copy(
            tmp.path().join("tiny/tokenizer.json"),
            dir.join("tokenizer.json"),
        )
        .expect("copy");
        assert_eq!(block_on(tokenizer_dir(&fixed, &data)), Ok(Some(dir)));
    }

    #[test]
    fn bad_names_are_refused_before_any_lookup() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = DataCache::new(tmp.path());
        for bad in ["gpt-4", "../../etc", "a/../../b"] {
            let r = block_on(tokenizer_dir(&TokenizerPolicy::Fixed(bad.into()), &data));
            assert!(r.is_err(), "{bad}: {r:?}");
        }
    }
}
