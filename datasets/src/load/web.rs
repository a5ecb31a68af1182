//! Web documents for the text-loss task (the offline stand-in for
//! FineWeb-edu): Common Crawl documents from dolma's test data, Wikipedia
//! articles from gensim's dump excerpt, and news articles (one per line)
//! from gensim's Lee corpus — in that order, each in file order.

use std::path::Path;

use super::jsonl::{read_jsonl, read_text};
use super::wiki;
use crate::DatasetError;

/// Documents shorter than this (in characters, after trimming) are dropped:
/// too short to say anything about a model's text loss.
pub const MIN_DOCUMENT_CHARS: usize = 200;

/// Whether a document is long enough to keep.
pub fn keep_document(text: &str) -> bool {
    text.trim().chars().count() >= MIN_DOCUMENT_CHARS
}

/// The `text` field of every record of dolma-format JSON-lines files.
pub fn read_cc_documents(files: &[&Path]) -> Result<Vec<String>, DatasetError> {
    let mut out = Vec::new();
    for f in files {
        for rec in read_jsonl(f)? {
            out.push(rec.str("text")?.trim().to_string());
        }
    }
    Ok(out)
}

/// The articles of a (possibly bzip2-compressed) MediaWiki dump, markup stripped.
pub fn read_wikipedia(path: &Path) -> Result<Vec<String>, DatasetError> {
    let xml = read_text(path)?;
    let articles = wiki::articles(&xml);
    if articles.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(articles.into_iter().map(|a| a.text).collect())
}

/// One document per non-blank line.
pub fn read_lines(path: &Path) -> Result<Vec<String>, DatasetError> {
    let text = read_text(path)?;
    let out: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if out.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_and_filters_short_documents() {
        let dir = tempfile::tempdir().unwrap();
        let cc = dir.path().join("cc.jsonl");
        std::fs::write(&cc, "{\"text\": \" doc one \", \"id\": 1}\n{\"id\": 2}\n").unwrap();
        let err = read_cc_documents(&[&cc]).unwrap_err().to_string();
        assert!(err.ends_with("cc.jsonl:2: missing field `text`"), "{err}");
        std::fs::write(&cc, "{\"text\": \" doc one \"}\n").unwrap();
        assert_eq!(read_cc_documents(&[&cc]).unwrap(), ["doc one"]);

        let news = dir.path().join("news.cor");
        std::fs::write(&news, "first story\n\n second story \n").unwrap();
        assert_eq!(read_lines(&news).unwrap(), ["first story", "second story"]);
        std::fs::write(&news, "\n").unwrap();
        assert!(matches!(read_lines(&news), Err(DatasetError::Empty { .. })));

        let xml = dir.path().join("w.xml");
        std::fs::write(
            &xml,
            "<page><title>T</title><ns>0</ns><text>'''T''' is [[x|y]].</text></page>",
        )
        .unwrap();
        assert_eq!(read_wikipedia(&xml).unwrap(), ["T is y."]);
        std::fs::write(&xml, "<mediawiki/>").unwrap();
        assert!(matches!(
            read_wikipedia(&xml),
            Err(DatasetError::Empty { .. })
        ));

        assert!(!keep_document(&"x".repeat(MIN_DOCUMENT_CHARS - 1)));
        assert!(keep_document(&"é".repeat(MIN_DOCUMENT_CHARS)));
    }
}
