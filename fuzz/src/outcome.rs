//! An evaluation's result reduced to what must be the same however it was
//! computed: the dtype, shape and raw bytes of the output (so NaN signs and
//! payloads count), or the error's kind, span and message.

use std::fmt;
use vexpr::{Array, Complex64, DType, Element, Error, ErrorKind, Scalar};

/// What an evaluation gave.
#[derive(Clone, PartialEq, Eq)]
pub enum Outcome {
    Value {
        dtype: DType,
        shape: Vec<usize>,
        bytes: Vec<u8>,
    },
    Error {
        kind: ErrorKind,
        span: (usize, usize),
        message: String,
    },
}

impl Outcome {
    /// The outcome of an evaluation into a new array.
    pub fn of(result: Result<Array, Error>) -> Outcome {
        match result {
            Ok(array) => Outcome::Value {
                dtype: array.dtype(),
                shape: array.shape().to_vec(),
                bytes: array.buffer().data().as_bytes().to_vec(),
            },
            Err(err) => Outcome::error(&err),
        }
    }

    /// The outcome of a failed evaluation.
    pub fn error(err: &Error) -> Outcome {
        Outcome::Error {
            kind: err.kind(),
            span: (err.span().start, err.span().end),
            message: err.message().to_string(),
        }
    }

    /// The error's kind, if this is one.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            Outcome::Value { .. } => None,
            Outcome::Error { kind, .. } => Some(*kind),
        }
    }

    /// Like [`Outcome::assert_same`], but two NaNs of different bits are
    /// the same at an element where `open(element)` says that two NaNs may
    /// meet in one operation there: which of the two an operation returns
    /// is left open (IEEE 754 does not say; x86 returns its first source
    /// operand and the compiler may swap the operands of `+` and `*`), so
    /// its sign and payload may differ between machine code and passes and
    /// between a kernel's vector body and its scalar tail. Everywhere else,
    /// NaNs must match bit for bit. `docs/reliability.md` states the rule.
    pub fn assert_same_but_open_nans(
        &self,
        got: &Outcome,
        what: &str,
        open: impl Fn(usize) -> bool,
        context: impl Fn(Option<usize>) -> String,
    ) {
        if let (
            Outcome::Value {
                dtype,
                shape,
                bytes: x,
            },
            Outcome::Value {
                dtype: d,
                shape: s,
                bytes: y,
            },
        ) = (self, got)
            && dtype == d
            && shape == s
            && x.len() == y.len()
        {
            let width = dtype.itemsize().max(1);
            let closed = x
                .chunks(width)
                .zip(y.chunks(width))
                .enumerate()
                .find(|&(i, (p, q))| p != q && !(both_nan(*dtype, p, q) && open(i)))
                .map(|(i, _)| i);
            match closed {
                None => return,
                Some(i) => self.fail(got, what, Some(i), context),
            }
        }
        self.assert_same(got, what, context);
    }

    /// Panics with both outcomes, the first differing element and
    /// `context(element)` unless `got` equals `expected`.
    pub fn assert_same(
        &self,
        got: &Outcome,
        what: &str,
        context: impl Fn(Option<usize>) -> String,
    ) {
        if self != got {
            self.fail(got, what, first_difference(self, got), context);
        }
    }

    /// Panics with both outcomes, the differing element `at` (if any) and
    /// `context(at)`.
    fn fail(
        &self,
        got: &Outcome,
        what: &str,
        at: Option<usize>,
        context: impl Fn(Option<usize>) -> String,
    ) -> ! {
        {
            let detail = match at {
                Some(i) => {
                    let (
                        Outcome::Value {
                            dtype, bytes: x, ..
                        },
                        Outcome::Value { bytes: y, .. },
                    ) = (self, got)
                    else {
                        unreachable!("only values have elements")
                    };
                    format!(
                        "difference at element {i}: reference {}, {what} {}\n",
                        element(*dtype, x, i),
                        element(*dtype, y, i)
                    )
                }
                None => String::new(),
            };
            panic!(
                "{what} differs from the reference\nreference: {self:?}\n{what}: {got:?}\n{detail}{}",
                context(at)
            );
        }
    }
}

/// Whether two elements of `dtype` are both NaN (for complex numbers: each
/// part equal or both NaN).
fn both_nan(dtype: DType, p: &[u8], q: &[u8]) -> bool {
    let f64_at =
        |b: &[u8], k: usize| f64::from_ne_bytes(b[8 * k..8 * k + 8].try_into().expect("8 bytes"));
    match dtype {
        DType::Float64 => f64_at(p, 0).is_nan() && f64_at(q, 0).is_nan(),
        DType::Float32 => {
            let f = |b: &[u8]| f32::from_ne_bytes(b[..4].try_into().expect("4 bytes"));
            f(p).is_nan() && f(q).is_nan()
        }
        DType::Complex128 => (0..2).all(|k| {
            let (a, b) = (f64_at(p, k), f64_at(q, k));
            a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
        }),
        _ => false,
    }
}

/// The first element at which two values of one dtype differ.
fn first_difference(a: &Outcome, b: &Outcome) -> Option<usize> {
    let (
        Outcome::Value {
            dtype, bytes: x, ..
        },
        Outcome::Value {
            dtype: d, bytes: y, ..
        },
    ) = (a, b)
    else {
        return None;
    };
    if dtype != d {
        return None;
    }
    let width = dtype.itemsize().max(1);
    x.chunks(width)
        .zip(y.chunks(width))
        .position(|(p, q)| p != q)
}

/// Element `i` of `bytes`, decoded, with its bytes in hex.
pub fn element(dtype: DType, bytes: &[u8], i: usize) -> String {
    let width = dtype.itemsize();
    let b = &bytes[i * width..(i + 1) * width];
    match dtype {
        DType::Bytes(_) => format!("{b:02x?}"),
        _ => format!("{:?} (bits {})", Scalar::from_bytes(dtype, b), hex(b)),
    }
}

/// Little-endian bytes as one hexadecimal number.
fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().rev().map(|b| format!("{b:02x}")).collect();
    format!("0x{digits}")
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Value {
                dtype,
                shape,
                bytes,
            } => write!(f, "{dtype} {shape:?}, {} bytes", bytes.len()),
            Outcome::Error {
                kind,
                span,
                message,
            } => write!(f, "{kind:?} error at {span:?}: {message}"),
        }
    }
}

/// Checks what every error must satisfy: its span lies inside `source` (on
/// character boundaries) and it renders without panicking.
pub fn check_error(err: &Error, source: &str) {
    let span = err.span();
    assert!(
        span.start <= span.end && span.end <= source.len(),
        "span {span:?} of {err:?} lies outside the {} bytes of {source:?}",
        source.len()
    );
    assert!(
        source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
        "span {span:?} of {err:?} cuts a character of {source:?}"
    );
    // (The renderer shows control characters as symbols, so the message
    // itself may not appear verbatim.)
    let text = err.rendered();
    assert!(
        text.starts_with("error"),
        "the rendering of {err:?} is not an error report: {text}"
    );
    let _ = err.render(source);
}

/// Checks what every value must satisfy: booleans are 0 or 1.
pub fn check_value(outcome: &Outcome) {
    if let Outcome::Value {
        dtype: DType::Bool,
        bytes,
        ..
    } = outcome
    {
        assert!(
            bytes.iter().all(|&b| b <= 1),
            "a boolean result holds a byte other than 0 or 1"
        );
    }
}

/// Element types that can be passed to `eval_into` and `eval_in_place` as
/// slices, with conversions from and to native bytes.
pub trait Item: Element {
    /// What an output buffer is filled with before the evaluation writes it
    /// (a value no correct result element is likely to have bit for bit).
    const POISON: Self;
    /// The element stored in `bytes` (exactly its width).
    fn read(bytes: &[u8]) -> Self;
    /// Appends the element's native bytes.
    fn write(self, out: &mut Vec<u8>);
}

impl Item for bool {
    const POISON: bool = true;
    fn read(bytes: &[u8]) -> bool {
        bytes[0] != 0
    }
    fn write(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

macro_rules! numeric_item {
    ($t:ty, $poison:expr) => {
        impl Item for $t {
            const POISON: $t = $poison;
            fn read(bytes: &[u8]) -> $t {
                <$t>::from_ne_bytes(bytes.try_into().expect("one element"))
            }
            fn write(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_ne_bytes());
            }
        }
    };
}
numeric_item!(i32, 0x5a5a_5a5a);
numeric_item!(i64, 0x5a5a_5a5a_5a5a_5a5a);
numeric_item!(f32, f32::from_bits(0x7fa5_a5a5));
numeric_item!(f64, f64::from_bits(0x7ff5_a5a5_a5a5_a5a5));

impl Item for Complex64 {
    const POISON: Complex64 = Complex64::new(f64::from_bits(0x7ff5_a5a5_a5a5_a5a5), -0.0);
    fn read(bytes: &[u8]) -> Complex64 {
        Complex64::new(f64::read(&bytes[..8]), f64::read(&bytes[8..]))
    }
    fn write(self, out: &mut Vec<u8>) {
        self.re.write(out);
        self.im.write(out);
    }
}

/// Runs `$body` with `$T` the [`Item`] type of `$dtype`; `None` for byte
/// strings, which have no slice type.
#[macro_export]
macro_rules! with_item {
    ($dtype:expr, |$t:ident| $body:expr) => {
        match $dtype {
            vexpr::DType::Bool => {
                type $t = bool;
                Some($body)
            }
            vexpr::DType::Int32 => {
                type $t = i32;
                Some($body)
            }
            vexpr::DType::Int64 => {
                type $t = i64;
                Some($body)
            }
            vexpr::DType::Float32 => {
                type $t = f32;
                Some($body)
            }
            vexpr::DType::Float64 => {
                type $t = f64;
                Some($body)
            }
            vexpr::DType::Complex128 => {
                type $t = vexpr::Complex64;
                Some($body)
            }
            vexpr::DType::Bytes(_) => None,
        }
    };
}
