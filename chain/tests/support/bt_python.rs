//! The Python of `<repo>/.venv-bt` (`scripts/reference/setup-bt-venv.sh`), for the
//! tests that check Gauntlet against the real Bittensor packages
//! (`bittensor-drand`, `bittensor-wallet`). Shared by the crates' test binaries.
//!
//! Where the interpreter or the package is missing, a test skips (and says so) —
//! unless the `CI` environment variable is set: there it fails, so CI never
//! passes without having run the comparison.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter that can import `module`: `$GAUNTLET_BT_PYTHON`, else
/// `<repo>/.venv-bt/bin/python`. `None` when it cannot, outside CI.
///
/// # Panics
/// When it cannot and `CI` is set.
pub fn bt_python(module: &str) -> Option<PathBuf> {
    let python = std::env::var_os("GAUNTLET_BT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-bt/bin/python"));
    let imports = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if imports {
        return Some(python);
    }
    let why = format!(
        "{} cannot import {module}; run scripts/reference/setup-bt-venv.sh",
        python.display()
    );
    if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("CI is set and {why}");
    }
    eprintln!("skipped: {why}");
    None
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `python args…` with `env` added; returns its stdout, panicking with its
/// stderr when it fails.
pub fn run(python: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(python)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python {args:?} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
