//! The tokenizer a competition scores with: the model's own, or a fixed one
//! that every model is scored through (REFERENCE §1: B7_MULTI_CHOICE and
//! DISTILLED_REASONING_3B use `Xenova/gpt-4`; the model's own tokenizer
//! files are then ignored, as in the reference).

use std::path::{Path, PathBuf};
use std::time::Duration;

use gauntlet_competitions::{FixedTokenizer, TokenizerPolicy};
use gauntlet_datasets::DataCache;
use gauntlet_hub::{validate_repo, HfHub, ModelId, ModelStore, RetryPolicy};

/// A fixed tokenizer's repository is refused above this size.
const MAX_TOKENIZER_BYTES: u64 = 256 << 20;

/// The tokenizer directory for `policy`: `None` for the model's own; for a
/// fixed `namespace/name`, `<cache>/tokenizers/<namespace>/<name>/` when it
/// holds a `tokenizer.json` (placed there by hand, e.g. offline), else a
/// revision downloaded before below it (the pinned one when the competition
/// pins a revision), else that revision (or the latest) fetched from the
/// Hugging Face Hub (`HF_ENDPOINT`, `HF_TOKEN`). A pinned SHA-256 is checked
/// on whichever copy is used: a copy that differs is refused, so every
/// validator scores through the same bytes.
///
/// An error says what is missing and where to put it; it is the validator's
/// own problem, never a miner's.
pub async fn tokenizer_dir(
    policy: &TokenizerPolicy,
    data: &DataCache,
) -> Result<Option<PathBuf>, String> {
    let TokenizerPolicy::Fixed(fixed) = policy else {
        return Ok(None);
    };
    let repo = &fixed.repo;
    let (namespace, name) = repo
        .split_once('/')
        .ok_or_else(|| format!("fixed tokenizer {repo:?} is not namespace/name"))?;
    validate_repo(namespace, name).map_err(|e| format!("fixed tokenizer {repo:?}: {e}"))?;
    let root = data.path("tokenizers");
    let dir = root.join(namespace).join(name);
    if has_tokenizer(&dir) {
        return loads(dir, fixed).map(Some);
    }
    if let Some(found) = downloaded(&dir, fixed) {
        return loads(found, fixed).map(Some);
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
        let id = match &fixed.revision {
            Some(commit) => ModelId::new(namespace, name, commit.as_str())?,
            None => hub.resolve(namespace, name, "main").await?,
        };
        hub.download(&id, MAX_TOKENIZER_BYTES).await
    }
    .await;
    match fetched {
        Ok(local) if has_tokenizer(&local.dir) => loads(local.dir, fixed).map(Some),
        Ok(local) => Err(format!(
            "{repo} at {} has no tokenizer.json",
            local.id.commit
        )),
        Err(e) => Err(format!(
            "the fixed tokenizer {fixed} is not in {} and the Hub did not serve it ({e}); \
             put its tokenizer.json (and tokenizer_config.json) there",
            dir.display()
        )),
    }
}

/// `dir` when its `tokenizer.json` has the pinned SHA-256 (if any) and the
/// tokenizer loads: a broken or different fixed tokenizer must stop the
/// competition, not disqualify every model scored through it.
fn loads(dir: PathBuf, fixed: &FixedTokenizer) -> Result<PathBuf, String> {
    if let Some(expected) = &fixed.sha256 {
        let path = dir.join("tokenizer.json");
        let actual = sha256_hex(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if &actual != expected {
            return Err(format!(
                "{} has SHA-256 {actual}, but the competition pins {fixed} to {expected}; \
                 replace it with the pinned file",
                path.display()
            ));
        }
    }
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

/// The pinned revision below `dir` (`<dir>/<commit>/`) when the competition
/// pins one, else the most recently downloaded.
fn downloaded(dir: &Path, fixed: &FixedTokenizer) -> Option<PathBuf> {
    if let Some(commit) = &fixed.revision {
        let pinned = dir.join(commit);
        return has_tokenizer(&pinned).then_some(pinned);
    }
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| has_tokenizer(p))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

/// Lowercase hex SHA-256 of a file, streamed.
fn sha256_hex(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
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
        let fixed = TokenizerPolicy::Fixed(FixedTokenizer::unpinned("Xenova/gpt-4"));
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
        assert_eq!(
            block_on(tokenizer_dir(&fixed, &data)),
            Ok(Some(dir.clone()))
        );
        // Pinned to the file's SHA-256 it loads; pinned to another it is refused.
        let sha = sha256_hex(&dir.join("tokenizer.json")).expect("hash");
        let pinned = |sha256: &str| {
            TokenizerPolicy::Fixed(FixedTokenizer {
                repo: "Xenova/gpt-4".into(),
                revision: None,
                sha256: Some(sha256.into()),
            })
        };
        assert_eq!(block_on(tokenizer_dir(&pinned(&sha), &data)), Ok(Some(dir)));
        let wrong = block_on(tokenizer_dir(&pinned(&"0".repeat(64)), &data));
        assert!(
            wrong.as_ref().is_err_and(|e| e.contains("pins")),
            "{wrong:?}"
        );
    }

    #[test]
    fn bad_names_are_refused_before_any_lookup() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = DataCache::new(tmp.path());
        for bad in ["gpt-4", "../../etc", "a/../../b"] {
            let r = block_on(tokenizer_dir(
                &TokenizerPolicy::Fixed(FixedTokenizer::unpinned(bad)),
                &data,
            ));
            assert!(r.is_err(), "{bad}: {r:?}");
        }
    }
}
