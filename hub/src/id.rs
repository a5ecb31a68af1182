//! Model ids and the name rules every store enforces before touching disk or network.
//!
//! A repository is `namespace/name`, 4..=38 characters in all with exactly one `/`
//! (REFERENCE §3, so it fits an on-chain commitment). Each part uses Hugging Face's
//! alphabet — ASCII letters, digits, `-`, `_`, `.` — may not start or end with `-` or
//! `.`, and may not contain `--` or `..`. That alphabet leaves no room for path
//! traversal: a valid part is always a single, ordinary directory name.

use std::fmt;

use crate::HubError;

/// Shortest `namespace/name` a commitment accepts, in characters.
pub const MIN_REPO_CHARS: usize = 4;
/// Longest `namespace/name` a commitment accepts, in characters.
pub const MAX_REPO_CHARS: usize = 38;
/// Length of a commit id: a SHA-1 in lowercase hex.
pub const COMMIT_HEX_CHARS: usize = 40;
/// Longest file path accepted inside a revision, in bytes.
const MAX_FILE_PATH_BYTES: usize = 1024;

/// A model on a hub pinned to one immutable revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ModelId {
    /// The owner: a user or an organisation.
    pub namespace: String,
    /// The repository's name within the namespace.
    pub name: String,
    /// The revision: 40 lowercase hex characters.
    pub commit: String,
}

impl ModelId {
    /// A validated id: the repository name rules above and a 40-hex commit.
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        commit: impl Into<String>,
    ) -> Result<Self, HubError> {
        let id = ModelId {
            namespace: namespace.into(),
            name: name.into(),
            commit: commit.into(),
        };
        id.validate()?;
        Ok(id)
    }

    /// `"namespace/name"`.
    pub fn repo_id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Checks the repository name and the commit id (fields are public, so stores
    /// call this on every id they receive).
    pub fn validate(&self) -> Result<(), HubError> {
        validate_repo(&self.namespace, &self.name)?;
        validate_commit(&self.commit)
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@{}", self.namespace, self.name, self.commit)
    }
}

/// Checks `namespace/name` against the rules in the module documentation.
pub fn validate_repo(namespace: &str, name: &str) -> Result<(), HubError> {
    let repo = format!("{namespace}/{name}");
    let err = |reason| HubError::InvalidRepo {
        repo: repo.clone(),
        reason,
    };
    let chars = repo.chars().count();
    if !(MIN_REPO_CHARS..=MAX_REPO_CHARS).contains(&chars) {
        return Err(err("namespace/name must be 4 to 38 characters"));
    }
    for part in [namespace, name] {
        if part.is_empty() {
            return Err(err("namespace and name must not be empty"));
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(err(
                "only ASCII letters, digits, '-', '_' and '.' are allowed",
            ));
        }
        if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
            return Err(err("a part must not start or end with '-' or '.'"));
        }
        if part.contains("--") || part.contains("..") {
            return Err(err("'--' and '..' are not allowed"));
        }
    }
    Ok(())
}

/// Checks that `commit` is exactly 40 lowercase hexadecimal characters.
pub fn validate_commit(commit: &str) -> Result<(), HubError> {
    let ok = commit.len() == COMMIT_HEX_CHARS
        && commit
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(HubError::InvalidCommit(commit.to_owned()))
    }
}

/// Checks a `/`-separated relative file path from a revision listing, so that joining
/// it onto a directory can never leave that directory.
pub(crate) fn validate_file_path(path: &str) -> Result<(), HubError> {
    let err = |reason| HubError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if path.is_empty() || path.len() > MAX_FILE_PATH_BYTES {
        return Err(err("empty or longer than 1024 bytes"));
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return Err(err("control characters and backslashes are not allowed"));
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err(err("absolute, or with an empty segment")),
            "." | ".." => return Err(err("'.' and '..' segments are not allowed")),
            ".git" => return Err(err("'.git' is not part of a revision")),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn good_ids_pass() {
        let id = ModelId::new("HuggingFaceTB", "SmolLM2-135M-Instruct", COMMIT).unwrap();
        assert_eq!(id.repo_id(), "HuggingFaceTB/SmolLM2-135M-Instruct");
        assert_eq!(
            id.to_string(),
            format!("HuggingFaceTB/SmolLM2-135M-Instruct@{COMMIT}")
        );
        assert!(validate_repo("a", "bc").is_ok());
        assert!(validate_repo("user_1", "model.v2").is_ok());
    }

    #[test]
    fn bad_repos_fail() {
        for (ns, name) in [
            ("a", "b"),             // too short
            ("a", &"b".repeat(37)), // too long
            ("..", "etc"),          // traversal
            ("ns", ".."),           // traversal
            ("ns", "a/b"),          // second slash
            ("ns", "a\\b"),         // backslash
            ("", "name"),           // empty part
            ("ns", "-name"),        // leading dash
            ("ns", "name."),        // trailing dot
            ("ns", "a--b"),         // double dash
            ("ns", "a..b"),         // double dot
            ("ns", "na me"),        // space
            ("ns", "nämé"),         // non-ASCII
            (".hidden", "name"),    // leading dot
        ] {
            assert!(
                matches!(validate_repo(ns, name), Err(HubError::InvalidRepo { .. })),
                "{ns}/{name} should be rejected"
            );
        }
    }

    #[test]
    fn commits_must_be_40_lowercase_hex() {
        assert!(validate_commit(COMMIT).is_ok());
        for bad in [
            "",
            "main",
            &COMMIT[..39],
            &format!("{COMMIT}0"),
            &COMMIT.to_uppercase(),
            "g123456789abcdef0123456789abcdef01234567",
            "../../../../../../../../../../../../etc/",
        ] {
            assert!(
                matches!(validate_commit(bad), Err(HubError::InvalidCommit(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn file_paths_stay_inside() {
        for good in ["config.json", "sub/dir/file.bin", ".gitattributes", "a..b"] {
            assert!(validate_file_path(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/",
            "./a",
            ".git/config",
            "x/.git/HEAD",
            "a\\..\\b",
            "a\nb",
        ] {
            assert!(validate_file_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let id = ModelId::new("ns", "name", COMMIT).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ModelId>(&json).unwrap(), id);
    }
}
