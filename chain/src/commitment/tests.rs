//! Tests of commitment parsing: the valid form, every malformed case, round trips.

use super::*;
use proptest::prelude::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const HASH: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

fn with(namespace: &str, name: &str, commit: &str, hash: &str, id: &str) -> String {
    format!("{namespace}:{name}:{commit}:{hash}:{id}")
}

fn err(text: &str) -> CommitmentError {
    match Commitment::parse(text) {
        Ok(c) => panic!("{text:?} parsed as {c:?}"),
        Err(e) => e,
    }
}

fn repo_err(namespace: &str, name: &str) -> CommitmentError {
    err(&with(namespace, name, COMMIT, HASH, "2"))
}

#[test]
fn valid_commitment_round_trips() {
    let text = with("acme", "tiny_llama-v1.2", COMMIT, HASH, "4");
    let c = Commitment::parse(&text).unwrap();
    assert_eq!(c.namespace(), "acme");
    assert_eq!(c.name(), "tiny_llama-v1.2");
    assert_eq!(c.repo_id(), "acme/tiny_llama-v1.2");
    assert_eq!(c.commit(), COMMIT);
    assert_eq!(c.secure_hash(), HASH);
    assert_eq!(c.competition_id(), CompetitionId(4));
    assert_eq!(c.to_string(), text);
    assert_eq!(Commitment::parse_bytes(text.as_bytes()).unwrap(), c);
    assert_eq!(text.parse::<Commitment>().unwrap(), c);
}

#[test]
fn length_limits() {
    // 1 + 36 + 40 + 44 + 1 + 4 colons = 126 bytes, repo id 38 characters: fits.
    let ok = with("n", &"a".repeat(36), COMMIT, HASH, "2");
    assert_eq!(ok.len(), 126);
    Commitment::parse(&ok).unwrap();
    let edge = with("n", &"a".repeat(36), COMMIT, HASH, "655");
    assert_eq!(edge.len(), 128);
    Commitment::parse(&edge).unwrap();
    // The repo id fits, the whole string does not.
    let too_long = with("n", &"a".repeat(36), COMMIT, HASH, "6553");
    assert_eq!(
        err(&too_long),
        CommitmentError::TooLong { len: 129, max: 128 }
    );
    assert!(matches!(
        Commitment::new("n", &"a".repeat(36), COMMIT, HASH, CompetitionId(6553)),
        Err(CommitmentError::TooLong { len: 129, .. })
    ));
    assert!(matches!(
        Commitment::parse_bytes(&[b'a'; 200]),
        Err(CommitmentError::TooLong { len: 200, .. })
    ));
    // Repo id bounds: 4..=38 characters, the '/' included.
    Commitment::parse(&with("ab", "c", COMMIT, HASH, "2")).unwrap();
    assert_eq!(repo_err("a", "b"), CommitmentError::RepoIdLength { len: 3 });
    assert_eq!(
        repo_err("n", &"a".repeat(37)),
        CommitmentError::RepoIdLength { len: 39 }
    );
}

#[test]
fn field_count_and_encoding() {
    assert_eq!(err(""), CommitmentError::FieldCount { found: 1 });
    assert_eq!(
        err(&format!("acme:model:{COMMIT}:{HASH}")),
        CommitmentError::FieldCount { found: 4 }
    );
    assert_eq!(
        err(&format!("acme:model:{COMMIT}:{HASH}:2:extra")),
        CommitmentError::FieldCount { found: 6 }
    );
    assert_eq!(
        Commitment::parse_bytes(b"acme:\xff\xfe:x:y:1"),
        Err(CommitmentError::NotUtf8)
    );
}

#[test]
fn path_traversal_and_bad_characters() {
    use CommitmentError::*;
    use RepoPart::*;
    assert_eq!(repo_err("", "model"), EmptyRepoPart { part: Namespace });
    assert_eq!(repo_err("acme", ""), EmptyRepoPart { part: Name });
    assert_eq!(repo_err("acme", ".."), PathTraversal { part: Name });
    assert_eq!(repo_err("..", "model"), PathTraversal { part: Namespace });
    assert_eq!(repo_err("acme", "a..b"), PathTraversal { part: Name });
    assert_eq!(repo_err("acme", "a/../b"), PathTraversal { part: Name });
    assert_eq!(
        repo_err("acme", "a/b"),
        RepoChar {
            part: Name,
            ch: '/'
        }
    );
    assert_eq!(
        repo_err("ac\\me", "model"),
        RepoChar {
            part: Namespace,
            ch: '\\'
        }
    );
    assert_eq!(
        repo_err("acme", "mo\0del"),
        RepoChar {
            part: Name,
            ch: '\0'
        }
    );
    assert_eq!(
        repo_err("acme", "mo\ndel"),
        RepoChar {
            part: Name,
            ch: '\n'
        }
    );
    assert_eq!(
        repo_err("acme", "mo\u{7f}del"),
        RepoChar {
            part: Name,
            ch: '\u{7f}'
        }
    );
    assert_eq!(
        repo_err("acme", "mo del"),
        RepoChar {
            part: Name,
            ch: ' '
        }
    );
    assert_eq!(
        repo_err("acme", "modèl"),
        RepoChar {
            part: Name,
            ch: 'è'
        }
    );
    assert_eq!(
        repo_err("acme", "~model"),
        RepoChar {
            part: Name,
            ch: '~'
        }
    );
    assert_eq!(
        repo_err("acme", ".model"),
        RepoEdge {
            part: Name,
            ch: '.'
        }
    );
    assert_eq!(
        repo_err(".acme", "model"),
        RepoEdge {
            part: Namespace,
            ch: '.'
        }
    );
    assert_eq!(
        repo_err("acme", "model."),
        RepoEdge {
            part: Name,
            ch: '.'
        }
    );
    assert_eq!(
        repo_err("acme", "-model"),
        RepoEdge {
            part: Name,
            ch: '-'
        }
    );
    assert_eq!(
        repo_err("acme", "model-"),
        RepoEdge {
            part: Name,
            ch: '-'
        }
    );
    assert_eq!(repo_err("acme", "a--b"), DoubleDash { part: Name });
    // What stays allowed: dots, dashes and underscores inside, leading underscore.
    Commitment::parse(&with("_acme", "a.b-c_d", COMMIT, HASH, "2")).unwrap();
}

#[test]
fn bad_commits() {
    let bad = |c: &str| err(&with("acme", "model", c, HASH, "2"));
    assert_eq!(bad(""), CommitmentError::CommitLength { len: 0 });
    assert_eq!(
        bad(&COMMIT[..39]),
        CommitmentError::CommitLength { len: 39 }
    );
    assert_eq!(
        bad(&format!("{COMMIT}0")),
        CommitmentError::CommitLength { len: 41 }
    );
    assert_eq!(
        bad(&COMMIT.to_uppercase()),
        CommitmentError::CommitChar { ch: 'A' }
    );
    assert_eq!(
        bad(&format!("g{}", &COMMIT[1..])),
        CommitmentError::CommitChar { ch: 'g' }
    );
    assert_eq!(bad("main"), CommitmentError::CommitChar { ch: 'm' });
}

#[test]
fn bad_secure_hashes() {
    let bad = |h: &str| err(&with("acme", "model", COMMIT, h, "2"));
    use CommitmentError::*;
    assert_eq!(bad(""), SecureHashLength { len: 0 });
    assert_eq!(bad("not base64!"), SecureHashEncoding);
    // Missing padding, URL-safe alphabet, trailing bits set.
    assert_eq!(bad(HASH.trim_end_matches('=')), SecureHashEncoding);
    assert_eq!(bad(&HASH.replace('+', "-")), SecureHashEncoding);
    assert_eq!(
        bad("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV="),
        SecureHashEncoding
    );
    // Valid base64 of the wrong length: 31 and 33 bytes.
    assert_eq!(
        bad(&STANDARD.encode([0u8; 31])),
        SecureHashLength { len: 31 }
    );
    assert_eq!(
        bad(&STANDARD.encode([0u8; 33])),
        SecureHashLength { len: 33 }
    );
}

#[test]
fn bad_competition_ids() {
    for id in [
        "", "-1", "+2", "02", " 2", "2 ", "x", "65536", "1e3", "None",
    ] {
        assert_eq!(
            err(&with("acme", "model", COMMIT, HASH, id)),
            CommitmentError::CompetitionId {
                value: id.to_owned()
            },
            "{id:?}"
        );
    }
    for (id, want) in [("0", 0), ("65535", 65535)] {
        let c = Commitment::parse(&with("acme", "model", COMMIT, HASH, id)).unwrap();
        assert_eq!(c.competition_id(), CompetitionId(want));
    }
}

#[test]
fn errors_explain_themselves() {
    let e = repo_err("acme", "mo\0del");
    assert_eq!(
        e.to_string(),
        "the name contains '\\0', outside [A-Za-z0-9._-]"
    );
    let chained = crate::ChainError::from(e);
    assert_eq!(chained.to_string(), "invalid commitment");
    assert!(std::error::Error::source(&chained).is_some());
    assert!(!chained.is_transient());
}

proptest! {
    #[test]
    fn valid_parts_round_trip(
        namespace in "[a-z0-9]([a-z0-9_]{0,8}[a-z0-9])?",
        name in "[A-Za-z0-9]([A-Za-z0-9._]{0,14}[A-Za-z0-9])?",
        commit in "[0-9a-f]{40}",
        digest in any::<[u8; 32]>(),
        id in any::<u16>(),
    ) {
        let hash = STANDARD.encode(digest);
        let built = Commitment::new(&namespace, &name, &commit, &hash, CompetitionId(id));
        let len = namespace.len() + 1 + name.len();
        if name.contains("..") || len < REPO_ID_MIN_CHARS {
            prop_assert!(built.is_err());
        } else {
            let c = built.unwrap();
            prop_assert_eq!(Commitment::parse(&c.to_string()), Ok(c));
        }
    }

    #[test]
    fn parse_never_panics_and_round_trips(text in "\\PC{0,140}") {
        if let Ok(c) = Commitment::parse(&text) {
            prop_assert_eq!(c.to_string(), text);
        }
    }
}
