//! Canonical JSON: the one byte string a JSON value hashes and signs as.
//!
//! Objects have their keys sorted (by code point), there is no whitespace, strings are escaped
//! as `serde_json` escapes them (`"`, `\`, and control characters only; other characters are
//! written as UTF-8), integers are written in decimal, and other numbers as Python's `repr`
//! writes a float: the shortest digits that read back to the same `f64`, positional when the
//! decimal exponent is in `-4..=15` (with `.0` when there is no fraction), otherwise
//! `d.ddde±XX` with at least two exponent digits. These are exactly the bytes of Python's
//! `json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, so a third
//! party verifies a ledger with the standard library alone.

use serde_json::Value;

/// The canonical bytes of `value` (see the module documentation).
///
/// Non-finite numbers cannot occur: `serde_json` refuses to hold them in a [`Value`].
pub fn to_canonical(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(value, &mut out);
    out.into_bytes()
}

/// The canonical bytes of anything serialisable, or why it is not JSON.
pub fn to_canonical_of<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    Ok(to_canonical(&serde_json::to_value(value)?))
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(f) = n.as_f64() {
                out.push_str(&python_float_repr(f));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_value(v, out);
                }
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    for_json_string(s, out);
}

/// Escapes as Python's `json.dumps(..., ensure_ascii=False)` does (which `serde_json` agrees
/// with): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls below U+0020 as `\u00xx`.
fn for_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `f` as Python's `repr(float)` writes it (finite values only).
pub fn python_float_repr(f: f64) -> String {
    // `{:e}` gives the shortest round-trip digits, e.g. "-1.2345e-7" or "1e16".
    // When two strings of that length read back to `f` and lie equally close
    // to it (an f32 widened to f64 often sits exactly between two 17-digit
    // decimals), Python picks the even last digit: the value correctly
    // rounded (ties to even) to that many digits, which `{:.*e}` gives and
    // which reads back to `f` whenever any string of that length does.
    let shortest = format!("{f:e}");
    let significant = shortest
        .split_once('e')
        .map_or(shortest.as_str(), |(m, _)| m)
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    let nearest = format!("{f:.*e}", significant.saturating_sub(1));
    let sci = if nearest.parse::<f64>() == Ok(f) {
        nearest
    } else {
        shortest
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_match_python_repr() {
        // Each right-hand side is what CPython 3 prints for `repr(x)`.
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (1e300, "1e+300"),
            (2.0f64.powi(-1074), "5e-324"),
            (0.30000000000000004, "0.30000000000000004"),
            (1234567.0, "1234567.0"),
            (f64::MAX, "1.7976931348623157e+308"),
            // Exactly between two 17-digit decimals (an f32 widened): Python
            // picks the even last digit, where `{:e}` rounds half up.
            (f64::from(-145.952_91_f32), "-145.95291137695312"),
            (f64::from(2.345_678_9_f32), "2.3456788063049316"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float_repr(*x), *want, "{x:e}");
        }
    }

    #[test]
    fn objects_are_sorted_and_compact() {
        let v = json!({"b": [1, 2.0, "x\n\"y\""], "a": {"z": null, "é": true}, "c": -3});
        let got = String::from_utf8(to_canonical(&v)).expect("utf8");
        assert_eq!(
            got,
            r#"{"a":{"z":null,"é":true},"b":[1,2.0,"x\n\"y\""],"c":-3}"#
        );
    }

    #[test]
    fn controls_are_escaped_lowercase() {
        let v = json!("\u{1}\u{1f}\t");
        assert_eq!(to_canonical(&v), br#""\u0001\u001f\t""#.to_vec());
    }

    proptest::proptest! {
        #[test]
        fn float_repr_reads_back(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL) {
            let s = python_float_repr(x);
            let back: f64 = s.parse().expect("parses");
            proptest::prop_assert_eq!(back.to_bits(), x.to_bits());
        }
    }
}
