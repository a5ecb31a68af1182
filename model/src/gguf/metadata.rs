//! Typed, error-reporting access to a GGUF file's metadata key/value table.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::Value;

use super::ImportError;

/// A GGUF metadata table together with the file it came from, for error messages.
pub(crate) struct Metadata<'a> {
    path: &'a Path,
    kv: &'a HashMap<String, Value>,
}

impl<'a> Metadata<'a> {
    /// Wraps the metadata table `kv` read from `path`.
    pub(crate) fn new(path: &'a Path, kv: &'a HashMap<String, Value>) -> Self {
        Self { path, kv }
    }

    /// The file the metadata came from.
    pub(crate) fn path(&self) -> &'a Path {
        self.path
    }

    fn missing(&self, key: &str) -> ImportError {
        ImportError::MissingMetadata {
            path: self.path.to_path_buf(),
            key: key.to_string(),
        }
    }

    /// An [`ImportError::InvalidMetadata`] for `key`.
    pub(crate) fn invalid(&self, key: &str, reason: impl Into<String>) -> ImportError {
        ImportError::InvalidMetadata {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    /// A non-negative integer of any integer type, if present.
    pub(crate) fn opt_u64(&self, key: &str) -> Result<Option<u64>, ImportError> {
        let Some(v) = self.kv.get(key) else {
            return Ok(None);
        };
        as_i128(v)
            .and_then(|i| u64::try_from(i).ok())
            .map(Some)
            .ok_or_else(|| {
                self.invalid(key, format!("expected a non-negative integer, found {v:?}"))
            })
    }

    /// A required non-negative integer.
    pub(crate) fn u64(&self, key: &str) -> Result<u64, ImportError> {
        self.opt_u64(key)?.ok_or_else(|| self.missing(key))
    }

    /// A required positive integer that fits in `usize`.
    pub(crate) fn positive(&self, key: &str) -> Result<usize, ImportError> {
        let v = self.u64(key)?;
        to_positive(v)
            .ok_or_else(|| self.invalid(key, format!("expected a size in 1..=2^31, found {v}")))
    }

    /// An optional positive integer that fits in `usize`.
    pub(crate) fn opt_positive(&self, key: &str) -> Result<Option<usize>, ImportError> {
        match self.opt_u64(key)? {
            None => Ok(None),
            Some(v) => to_positive(v).map(Some).ok_or_else(|| {
                self.invalid(key, format!("expected a size in 1..=2^31, found {v}"))
            }),
        }
    }

    /// A token id (an integer that fits in `u32`), if present.
    pub(crate) fn opt_u32(&self, key: &str) -> Result<Option<u32>, ImportError> {
        match self.opt_u64(key)? {
            None => Ok(None),
            Some(v) => u32::try_from(v)
                .map(Some)
                .map_err(|_| self.invalid(key, format!("{v} does not fit in 32 bits"))),
        }
    }

    /// A finite floating-point number (integers accepted), if present.
    pub(crate) fn opt_f64(&self, key: &str) -> Result<Option<f64>, ImportError> {
        let Some(v) = self.kv.get(key) else {
            return Ok(None);
        };
        let x = match v {
            Value::F32(x) => f64::from(*x),
            Value::F64(x) => *x,
            other => match as_i128(other) {
                // Metadata integers are far below 2^53, so the conversion is exact.
                Some(i) => i as f64,
                None => return Err(self.invalid(key, format!("expected a number, found {v:?}"))),
            },
        };
        if x.is_finite() {
            Ok(Some(x))
        } else {
            Err(self.invalid(key, format!("expected a finite number, found {x}")))
        }
    }

    /// A required floating-point number.
    pub(crate) fn f64(&self, key: &str) -> Result<f64, ImportError> {
        self.opt_f64(key)?.ok_or_else(|| self.missing(key))
    }

    /// A boolean, if present.
    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, ImportError> {
        match self.kv.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v) => Err(self.invalid(key, format!("expected a boolean, found {v:?}"))),
        }
    }

    /// A string, if present.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ImportError> {
        match self.kv.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(v) => Err(self.invalid(key, format!("expected a string, found {}", short(v)))),
        }
    }

    /// A required string.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str, ImportError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// An array of strings, if present.
    pub(crate) fn opt_str_array(&self, key: &str) -> Result<Option<Vec<String>>, ImportError> {
        let Some(v) = self.kv.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(self.invalid(
                key,
                format!("expected an array of strings, found {}", short(v)),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.invalid(
                    key,
                    format!("element {i} is not a string: {}", short(other)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A required array of strings.
    pub(crate) fn str_array(&self, key: &str) -> Result<Vec<String>, ImportError> {
        self.opt_str_array(key)?.ok_or_else(|| self.missing(key))
    }

    /// An array of integers, if present.
    pub(crate) fn opt_int_array(&self, key: &str) -> Result<Option<Vec<i64>>, ImportError> {
        let Some(v) = self.kv.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(self.invalid(
                key,
                format!("expected an array of integers, found {}", short(v)),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                as_i128(item)
                    .and_then(|x| i64::try_from(x).ok())
                    .ok_or_else(|| {
                        self.invalid(
                            key,
                            format!("element {i} is not an integer: {}", short(item)),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// Any integer-typed value widened to `i128`.
fn as_i128(v: &Value) -> Option<i128> {
    Some(match v {
        Value::U8(x) => i128::from(*x),
        Value::I8(x) => i128::from(*x),
        Value::U16(x) => i128::from(*x),
        Value::I16(x) => i128::from(*x),
        Value::U32(x) => i128::from(*x),
        Value::I32(x) => i128::from(*x),
        Value::U64(x) => i128::from(*x),
        Value::I64(x) => i128::from(*x),
        _ => return None,
    })
}

/// Largest size accepted for a hyper-parameter, so products of two never overflow.
const MAX_SIZE: u64 = 1 << 31;

fn to_positive(v: u64) -> Option<usize> {
    usize::try_from(v).ok().filter(|&n| n > 0 && v <= MAX_SIZE)
}

/// A value's debug form, cut short so a huge array does not flood an error message.
fn short(v: &Value) -> String {
    match v {
        Value::Array(items) => format!("an array of {} elements", items.len()),
        Value::String(s) if s.len() > 80 => format!("a string of {} bytes", s.len()),
        other => format!("{other:?}"),
    }
}
