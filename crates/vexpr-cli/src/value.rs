//! `NAME=VALUE` arguments and number literals, for the commands and the REPL.
//!
//! [`parse_binding`] takes one `NAME=VALUE` argument and gives a [`Binding`]:
//! the value is a number literal spelled as in Python (`3`, `-2.5`, `1e-3`,
//! `True`, `1+2j`) when it reads as one, else a path to a `.npy` file.
//! [`parse_literal`] does the literal part alone. Literal types follow NumPy's
//! defaults for Python numbers: an integer is `int64`, a real `float64`, an
//! imaginary or complex number `complex128`.

use std::path::PathBuf;
use vexpr::{Complex64, Scalar};

/// One `NAME=VALUE` argument.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The variable's name.
    pub name: String,
    /// Its value, not yet loaded.
    pub value: Source,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A number given on the command line.
    Literal(Scalar),
    /// A `.npy` file.
    File(PathBuf),
}

/// Parses `NAME=VALUE` (the error is a message for the user).
pub fn parse_binding(arg: &str) -> Result<Binding, String> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err("expected NAME=VALUE, where VALUE is a number or a .npy file".to_string());
    };
    let name = name.trim();
    if !is_identifier(name) {
        return Err(format!(
            "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
        ));
    }
    if value.is_empty() {
        return Err(format!("no value after `{name}=`"));
    }
    let value = match parse_literal(value)? {
        Some(scalar) => Source::Literal(scalar),
        None => Source::File(PathBuf::from(value)),
    };
    Ok(Binding {
        name: name.to_string(),
        value,
    })
}

/// True for names the expression language accepts as variables.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Reads `text` as a Python-style number literal.
///
/// `Ok(None)` means it is not a number at all (so, for a binding, a path);
/// `Err` means it is one that cannot be represented, such as an integer
/// beyond `int64`.
///
/// ```text
/// "3" → Int64(3)   "2.5" → Float64(2.5)   "1e-3" → Float64(0.001)
/// "True" → Bool(true)   "1+2j" → Complex128(1+2i)   "a.npy" → None
/// ```
pub fn parse_literal(text: &str) -> Result<Option<Scalar>, String> {
    let text = text.trim();
    match text {
        "True" => return Ok(Some(Scalar::Bool(true))),
        "False" => return Ok(Some(Scalar::Bool(false))),
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return int.map(|v| Some(Scalar::Int64(v)));
    }
    if let Some(x) = parse_float(text) {
        return Ok(Some(Scalar::Float64(x)));
    }
    Ok(parse_complex(text).map(Scalar::Complex128))
}

/// An integer literal: `Some(Ok)` for one that fits `int64`, `Some(Err)` for
/// one that does not, `None` for text that is not an integer.
fn parse_int(text: &str) -> Option<Result<i64, String>> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = match body.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ => (10, body),
    };
    if !valid_digits(digits, |c| c.is_digit(radix)) {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    // Parse with the sign attached so that i64::MIN is representable.
    let signed = if negative { format!("-{clean}") } else { clean };
    Some(
        i64::from_str_radix(&signed, radix)
            .map_err(|_| format!("the integer {text} does not fit in int64")),
    )
}

/// Digits as Python allows them: at least one, with single `_` only between digits.
fn valid_digits(digits: &str, is_digit: impl Fn(char) -> bool) -> bool {
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c == '_' || is_digit(c))
}

/// A real literal: decimal (`2.5`, `.5`, `5.`, `1e-3`, `1_000.5`) or
/// `inf`/`nan` (a convenience Python spells `float('inf')`).
fn parse_float(text: &str) -> Option<f64> {
    let body = text.trim_start_matches(['+', '-']);
    if body.len() + 1 < text.len() {
        return None; // more than one sign
    }
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return text.parse().ok();
    }
    // Only digits, one point, an exponent and underscores between digits:
    // Rust's parser alone would also take forms Python does not.
    let (mantissa, exponent) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (lower.as_str(), None),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digit = |c: char| c.is_ascii_digit();
    let mantissa_ok = match (whole.is_empty(), frac.is_empty()) {
        (true, true) => false,
        (false, true) => valid_digits(whole, digit),
        (true, false) => valid_digits(frac, digit),
        (false, false) => valid_digits(whole, digit) && valid_digits(frac, digit),
    };
    if !mantissa_ok || !exponent.is_none_or(|e| valid_digits(e, digit)) {
        return None;
    }
    text.replace('_', "").parse().ok()
}

/// A complex literal: `2j`, `1+2j`, `-1.5e3-0.5J`.
fn parse_complex(text: &str) -> Option<Complex64> {
    let body = text.strip_suffix(['j', 'J'])?;
    // The real and imaginary parts split at the last sign that is neither the
    // first character nor an exponent's sign.
    let bytes = body.as_bytes();
    let split = (1..bytes.len())
        .rev()
        .find(|&i| matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    match split {
        Some(i) => Some(Complex64::new(
            parse_float(&body[..i])?,
            parse_float(&body[i..])?,
        )),
        None => Some(Complex64::new(0.0, parse_float(body)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(text: &str) -> Option<Scalar> {
        parse_literal(text).unwrap()
    }

    #[test]
    fn literals_take_numpy_default_types() {
        assert_eq!(lit("3"), Some(Scalar::Int64(3)));
        assert_eq!(lit("-9223372036854775808"), Some(Scalar::Int64(i64::MIN)));
        assert_eq!(lit("0x1F"), Some(Scalar::Int64(31)));
        assert_eq!(lit("1_000"), Some(Scalar::Int64(1000)));
        assert_eq!(lit("2.5"), Some(Scalar::Float64(2.5)));
        assert_eq!(lit("1e-3"), Some(Scalar::Float64(1e-3)));
        assert_eq!(lit(".5"), Some(Scalar::Float64(0.5)));
        assert_eq!(lit("5."), Some(Scalar::Float64(5.0)));
        assert_eq!(lit("-inf"), Some(Scalar::Float64(f64::NEG_INFINITY)));
        assert_eq!(lit("True"), Some(Scalar::Bool(true)));
        assert_eq!(lit("False"), Some(Scalar::Bool(false)));
        assert_eq!(
            lit("1+2j"),
            Some(Scalar::Complex128(Complex64::new(1.0, 2.0)))
        );
        assert_eq!(
            lit("-2J"),
            Some(Scalar::Complex128(Complex64::new(0.0, -2.0)))
        );
        assert_eq!(
            lit("1e3-1e-3j"),
            Some(Scalar::Complex128(Complex64::new(1e3, -1e-3)))
        );
    }

    #[test]
    fn other_text_is_a_path_or_an_error() {
        for path in [
            "a.npy", "x", "1.npy", "e5", "1__0", "_1", "j", "+-1", "true", "1e", "./3",
        ] {
            assert_eq!(lit(path), None, "{path}");
        }
        assert!(parse_literal("99999999999999999999").is_err());
    }

    #[test]
    fn bindings_need_a_name_and_a_value() {
        let b = parse_binding("a=x.npy").unwrap();
        assert_eq!(b.name, "a");
        assert_eq!(b.value, Source::File(PathBuf::from("x.npy")));
        assert_eq!(
            parse_binding("k=-1").unwrap().value,
            Source::Literal(Scalar::Int64(-1))
        );
        assert!(parse_binding("a").is_err());
        assert!(parse_binding("a=").is_err());
        assert!(parse_binding("=3").is_err());
        assert!(parse_binding("2a=3").is_err());
        assert!(parse_binding("a b=3").is_err());
    }
}
