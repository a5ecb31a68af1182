//! Taking pinned members out of archives (zip, tar.gz, Debian `.deb`) into
//! the cache, each written atomically and checked against its sum. Pure Rust
//! decoders only: zip's deflate through flate2/miniz_oxide, lzma-rs for xz.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use super::atomic::TempFile;
use super::source::{ArchiveFormat, Member};
use crate::{DataCache, DatasetError};

/// One extracted file: cache-relative path, sum, size.
pub(crate) type Extracted = (String, String, u64);

/// Extracts every member of `archive` into the cache.
pub(crate) fn extract(
    archive: &Path,
    format: ArchiveFormat,
    members: &[Member],
    cache: &DataCache,
) -> Result<Vec<Extracted>, DatasetError> {
    let bad = |reason: String| DatasetError::Decompress {
        path: archive.to_path_buf(),
        reason,
    };
    let file = File::open(archive).map_err(|e| DatasetError::io(archive, e))?;
    match format {
        ArchiveFormat::Zip => {
            let mut zip =
                zip::ZipArchive::new(BufReader::new(file)).map_err(|e| bad(e.to_string()))?;
            let mut out = Vec::new();
            for m in members {
                let mut entry = zip.by_name(m.path).map_err(|e| match e {
                    zip::result::ZipError::FileNotFound => not_found(m, archive),
                    e => bad(e.to_string()),
                })?;
                out.push(write_member(m, &mut entry, cache, archive)?);
            }
            Ok(out)
        }
        ArchiveFormat::TarGz => {
            let gz = flate2::read::GzDecoder::new(BufReader::new(file));
            from_tar(gz, members, cache, archive, "")
        }
        ArchiveFormat::Deb => {
            let mut bytes = Vec::new();
            BufReader::new(file)
                .read_to_end(&mut bytes)
                .map_err(|e| DatasetError::io(archive, e))?;
            let (name, data) = ar_member(&bytes, "data.tar").map_err(bad)?;
            let tar: Box<dyn Read> = if name.ends_with(".xz") {
                let mut out = Vec::new();
                lzma_rs::xz_decompress(&mut Cursor::new(data), &mut out)
                    .map_err(|e| bad(format!("{name}: {e}")))?;
                Box::new(Cursor::new(out))
            } else if name.ends_with(".gz") {
                Box::new(flate2::read::GzDecoder::new(data))
            } else if name == "data.tar" {
                Box::new(data)
            } else {
                return Err(bad(format!("unsupported member {name}")));
            };
            from_tar(tar, members, cache, archive, "./")
        }
    }
}

fn not_found(m: &Member, archive: &Path) -> DatasetError {
    DatasetError::NotFound {
        what: m.path.to_string(),
        place: archive.display().to_string(),
    }
}

fn write_member(
    m: &Member,
    reader: &mut dyn Read,
    cache: &DataCache,
    archive: &Path,
) -> Result<Extracted, DatasetError> {
    let dest = cache.path(m.dest);
    let mut tmp = TempFile::new(&dest)?;
    let src = format!("{}!{}", archive.display(), m.path);
    tmp.copy_from(reader, &src, &mut |_| {})
        .map_err(|e| match e {
            DatasetError::Http { reason, .. } => DatasetError::Decompress {
                path: archive.to_path_buf(),
                reason: format!("{}: {reason}", m.path),
            },
            e => e,
        })?;
    let bytes = tmp.bytes();
    let sum = tmp.persist(&src, Some(m.sha256))?;
    Ok((m.dest.to_string(), sum, bytes))
}

/// Walks a tar once, extracting the wanted members (entry names may carry
/// `prefix`, e.g. `./` in Debian packages).
fn from_tar(
    reader: impl Read,
    members: &[Member],
    cache: &DataCache,
    archive: &Path,
    prefix: &str,
) -> Result<Vec<Extracted>, DatasetError> {
    let bad = |e: std::io::Error| DatasetError::Decompress {
        path: archive.to_path_buf(),
        reason: e.to_string(),
    };
    let mut found: Vec<Option<Extracted>> = vec![None; members.len()];
    let mut tar = tar::Archive::new(reader);
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let name = path.strip_prefix(prefix).unwrap_or(&path);
        if let Some(i) = members.iter().position(|m| m.path == name) {
            if found[i].is_none() {
                found[i] = Some(write_member(&members[i], &mut entry, cache, archive)?);
            }
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    members
        .iter()
        .zip(found)
        .map(|(m, f)| f.ok_or_else(|| not_found(m, archive)))
        .collect()
}

/// The first member of a Unix `ar` archive whose name starts with `prefix`:
/// its name and data. Layout: `!<arch>\n`, then per member a 60-byte header
/// (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, magic `` `\n ``) and the
/// data padded to an even length.
pub(crate) fn ar_member<'a>(bytes: &'a [u8], prefix: &str) -> Result<(String, &'a [u8]), String> {
    let mut rest = bytes
        .strip_prefix(b"!<arch>\n")
        .ok_or("not an ar archive")?;
    while rest.len() >= 60 {
        let (header, body) = rest.split_at(60);
        if &header[58..60] != b"`\n" {
            return Err("bad ar member header".to_string());
        }
        let name = String::from_utf8_lossy(&header[..16])
            .trim_end()
            .trim_end_matches('/')
            .to_string();
        let size: usize = String::from_utf8_lossy(&header[48..58])
            .trim()
            .parse()
            .map_err(|_| format!("bad size of ar member {name}"))?;
        let data = body
            .get(..size)
            .ok_or_else(|| format!("ar member {name} is truncated"))?;
        if name.starts_with(prefix) {
            return Ok((name, data));
        }
        rest = body.get(size + size % 2..).unwrap_or(&[]);
    }
    Err(format!("no member {prefix}* in the ar archive"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::io::Write;

    const BODY: &[u8] = b"{\"text\": \"hello\"}\n";

    fn member(path: &'static str) -> Member {
        let sum: &'static str = Box::leak(hex::encode(Sha256::digest(BODY)).into_boxed_str());
        Member {
            path,
            dest: "out/file.jsonl",
            sha256: sum,
        }
    }

    fn tar_bytes(name: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(BODY.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "other.txt", BODY).unwrap();
        b.append_data(&mut h, name, BODY).unwrap();
        b.into_inner().unwrap()
    }

    fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = b"!<arch>\n".to_vec();
        for (name, data) in members {
            out.extend(
                format!(
                    "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    name,
                    0,
                    0,
                    0,
                    100644,
                    data.len()
                )
                .as_bytes(),
            );
            out.extend(*data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    fn run(
        bytes: &[u8],
        format: ArchiveFormat,
        m: Member,
    ) -> (tempfile::TempDir, Result<Vec<Extracted>, DatasetError>) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::write(&archive, bytes).unwrap();
        let cache = DataCache::new(dir.path().join("cache"));
        let r = extract(&archive, format, &[m], &cache);
        (dir, r)
    }

    #[test]
    fn extracts_from_zip() {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("pkg/data/file.jsonl", opts).unwrap();
        z.write_all(BODY).unwrap();
        let bytes = z.finish().unwrap().into_inner();
        let (dir, r) = run(&bytes, ArchiveFormat::Zip, member("pkg/data/file.jsonl"));
        assert_eq!(r.unwrap()[0].2, BODY.len() as u64);
        assert_eq!(
            std::fs::read(dir.path().join("cache/out/file.jsonl")).unwrap(),
            BODY
        );

        let (_, r) = run(&bytes, ArchiveFormat::Zip, member("pkg/absent"));
        assert!(matches!(r, Err(DatasetError::NotFound { .. })));
        let (_, r) = run(b"PK not a zip", ArchiveFormat::Zip, member("x"));
        assert!(matches!(r, Err(DatasetError::Decompress { .. })));
    }

    #[test]
    fn extracts_from_tar_gz_and_refuses_a_wrong_member_sum() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar_bytes("pkg-1/scripts/file.jsonl"))
            .unwrap();
        let bytes = gz.finish().unwrap();
        let (dir, r) = run(
            &bytes,
            ArchiveFormat::TarGz,
            member("pkg-1/scripts/file.jsonl"),
        );
        r.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("cache/out/file.jsonl")).unwrap(),
            BODY
        );

        let mut wrong = member("pkg-1/scripts/file.jsonl");
        wrong.sha256 = "00";
        let (dir, r) = run(&bytes, ArchiveFormat::TarGz, wrong);
        assert!(matches!(r, Err(DatasetError::Checksum { .. })));
        assert_eq!(
            std::fs::read_dir(dir.path().join("cache/out"))
                .unwrap()
                .count(),
            0
        );

        let (_, r) = run(
            &bytes[..bytes.len() / 2],
            ArchiveFormat::TarGz,
            member("pkg-1/scripts/file.jsonl"),
        );
        assert!(matches!(r, Err(DatasetError::Decompress { .. })), "{r:?}");
    }

    #[test]
    fn extracts_from_a_deb_with_xz_or_gz_data() {
        let tar = tar_bytes("./usr/share/dict/words");
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut Cursor::new(&tar), &mut xz).unwrap();
        let deb = ar(&[
            ("debian-binary", b"2.0\n"),
            ("control.tar.xz", b"x"),
            ("data.tar.xz", &xz),
        ]);
        let (dir, r) = run(&deb, ArchiveFormat::Deb, member("usr/share/dict/words"));
        r.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("cache/out/file.jsonl")).unwrap(),
            BODY
        );

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        let deb = ar(&[
            ("debian-binary", b"2.0\n"),
            ("data.tar.gz/", &gz.finish().unwrap()),
        ]);
        let (_, r) = run(&deb, ArchiveFormat::Deb, member("usr/share/dict/words"));
        r.unwrap();

        let (_, r) = run(b"!<arch>\nshort", ArchiveFormat::Deb, member("x"));
        assert!(matches!(r, Err(DatasetError::Decompress { .. })));
        assert!(ar_member(b"not ar", "data.tar").is_err());
    }
}
