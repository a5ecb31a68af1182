//! Text files (plain, gzip or bzip2, told apart by their magic bytes) and
//! JSON-lines records whose accessors name the file, line and field of any
//! problem.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::DatasetError;

/// Reads a whole text file, decompressing gzip (`1f 8b`) or bzip2 (`BZh`).
pub fn read_text(path: &Path) -> Result<String, DatasetError> {
    let raw = std::fs::read(path).map_err(|e| DatasetError::io(path, e))?;
    let bad = |reason: String| DatasetError::Decompress {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("gzip: {e}")))?;
        out
    } else if raw.starts_with(b"BZh") {
        let mut out = Vec::new();
        bzip2::read::MultiBzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("bzip2: {e}")))?;
        out
    } else {
        raw
    };
    String::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8 text: {e}")))
}

/// One JSON object of a JSON-lines file, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRecord {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// The object's fields.
    pub fields: Map<String, Value>,
}

/// Every non-blank line of a (possibly compressed) JSON-lines file as an
/// object; an empty file is an error.
pub fn read_jsonl(path: &Path) -> Result<Vec<JsonRecord>, DatasetError> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let json = |reason: String| DatasetError::Json {
            path: path.to_path_buf(),
            line: i + 1,
            reason,
        };
        match serde_json::from_str::<Value>(line).map_err(|e| json(e.to_string()))? {
            Value::Object(fields) => out.push(JsonRecord {
                path: path.to_path_buf(),
                line: i + 1,
                fields,
            }),
            other => return Err(json(format!("expected an object, got {}", kind(&other)))),
        }
    }
    if out.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl JsonRecord {
    /// A field that must be present.
    pub fn get(&self, field: &str) -> Result<&Value, DatasetError> {
        self.fields
            .get(field)
            .ok_or_else(|| DatasetError::MissingField {
                path: self.path.clone(),
                line: self.line,
                field: field.to_string(),
            })
    }

    /// The error for `field` having a bad value.
    pub fn bad(&self, field: &str, reason: impl Into<String>) -> DatasetError {
        DatasetError::bad_field(&self.path, self.line, field, reason)
    }

    /// A string field.
    pub fn str(&self, field: &str) -> Result<&str, DatasetError> {
        let v = self.get(field)?;
        v.as_str()
            .ok_or_else(|| self.bad(field, format!("expected a string, got {}", kind(v))))
    }

    /// A non-negative integer field.
    pub fn u64(&self, field: &str) -> Result<u64, DatasetError> {
        let v = self.get(field)?;
        v.as_u64()
            .ok_or_else(|| self.bad(field, format!("expected a non-negative integer, got {v}")))
    }

    /// An array field.
    pub fn array(&self, field: &str) -> Result<&Vec<Value>, DatasetError> {
        let v = self.get(field)?;
        v.as_array()
            .ok_or_else(|| self.bad(field, format!("expected an array, got {}", kind(v))))
    }

    /// An array-of-strings field.
    pub fn str_list(&self, field: &str) -> Result<Vec<String>, DatasetError> {
        self.array(field)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    self.bad(
                        field,
                        format!("element {i}: expected a string, got {}", kind(v)),
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_gzip_and_bzip2() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, "{\"a\": \"x\"}\n\n{\"a\": \"y\"}\n").unwrap();
        let gz = dir.path().join("a.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let bz = dir.path().join("a.bz2");
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        enc.write_all(b"hello").unwrap();
        std::fs::write(&bz, enc.finish().unwrap()).unwrap();

        let recs = read_jsonl(&gz).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].line, 3);
        assert_eq!(recs[1].str("a").unwrap(), "y");
        assert_eq!(read_text(&bz).unwrap(), "hello");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.jsonl");
        std::fs::write(&p, "{\"a\": 1, \"l\": [\"x\", 2]}\n{oops\n").unwrap();
        let err = read_jsonl(&p).unwrap_err().to_string();
        assert!(err.contains("b.jsonl:2: invalid JSON"), "{err}");

        std::fs::write(&p, "{\"a\": 1, \"l\": [\"x\", 2]}\n[1]\n").unwrap();
        let err = read_jsonl(&p).unwrap_err().to_string();
        assert!(
            err.contains(":2: invalid JSON: expected an object, got an array"),
            "{err}"
        );

        std::fs::write(&p, "{\"a\": 1, \"l\": [\"x\", 2]}\n").unwrap();
        let r = &read_jsonl(&p).unwrap()[0];
        assert!(r
            .str("zz")
            .unwrap_err()
            .to_string()
            .ends_with(":1: missing field `zz`"));
        assert!(r
            .str("a")
            .unwrap_err()
            .to_string()
            .contains("field `a`: expected a string, got a number"));
        assert!(r
            .str_list("l")
            .unwrap_err()
            .to_string()
            .contains("element 1"));
        assert_eq!(r.u64("a").unwrap(), 1);

        std::fs::write(&p, "\n  \n").unwrap();
        assert!(matches!(read_jsonl(&p), Err(DatasetError::Empty { .. })));
        assert!(matches!(
            read_jsonl(&dir.path().join("none")),
            Err(DatasetError::Io { .. })
        ));
    }

    #[test]
    fn corrupt_gzip_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.gz");
        std::fs::write(&p, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]).unwrap();
        let err = read_text(&p).unwrap_err();
        assert!(matches!(err, DatasetError::Decompress { .. }), "{err}");
        std::fs::write(&p, [0xff, 0xfe, 0xfd]).unwrap();
        assert!(read_text(&p).unwrap_err().to_string().contains("not UTF-8"));
    }
}
