//! Element types and scalar values.
//!
//! vexpr has numexpr's types: `bool`, `int32`, `int64`, `float32`, `float64`,
//! `complex128` and fixed-width byte strings. Numeric types are ordered by
//! numexpr's "kind" rank (`bool < int32 < int64 < float32 < float64 <
//! complex128`): an operation runs in the highest kind among its operands, so
//! `int64 + float32` is `float32`, as in numexpr.

use num_complex::Complex64;
use std::fmt;

/// The type of an array's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`, stored as one byte holding 0 or 1.
    Bool,
    /// `int32`
    Int32,
    /// `int64`
    Int64,
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// `complex128`, two `float64`.
    Complex128,
    /// Fixed-width byte strings of the given width (NumPy's `S<width>`).
    Bytes(usize),
}

/// The numeric types in kind order: the order in which numexpr tries upcasts.
pub const NUMERIC_KINDS: [DType; 6] = [
    DType::Bool,
    DType::Int32,
    DType::Int64,
    DType::Float32,
    DType::Float64,
    DType::Complex128,
];

impl DType {
    /// Size of one element in bytes.
    ///
    /// ```
    /// assert_eq!(vexpr::DType::Complex128.itemsize(), 16);
    /// ```
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::Int32 | DType::Float32 => 4,
            DType::Int64 | DType::Float64 => 8,
            DType::Complex128 => 16,
            DType::Bytes(width) => width,
        }
    }

    /// Position in numexpr's kind order; strings have no rank.
    pub fn rank(self) -> Option<usize> {
        NUMERIC_KINDS.iter().position(|&k| k == self)
    }

    /// True for `int32` and `int64`.
    pub fn is_integer(self) -> bool {
        matches!(self, DType::Int32 | DType::Int64)
    }

    /// True for `float32` and `float64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    /// True for byte strings.
    pub fn is_bytes(self) -> bool {
        matches!(self, DType::Bytes(_))
    }

    /// NumPy's name: `float64`, `S5`, ...
    pub fn name(self) -> String {
        match self {
            DType::Bytes(w) => format!("S{w}"),
            other => other.numeric_name().to_string(),
        }
    }

    /// The name of a numeric type, and `bytes` for strings.
    pub fn numeric_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Complex128 => "complex128",
            DType::Bytes(_) => "bytes",
        }
    }

    /// Parses NumPy's names (`float64`, `f8`, `S5`, `bool`, ...).
    ///
    /// ```
    /// assert_eq!(vexpr::DType::parse("S5"), Some(vexpr::DType::Bytes(5)));
    /// assert_eq!(vexpr::DType::parse("f8"), Some(vexpr::DType::Float64));
    /// ```
    pub fn parse(name: &str) -> Option<DType> {
        Some(match name {
            "bool" | "?" | "b1" => DType::Bool,
            "int32" | "i4" => DType::Int32,
            "int64" | "i8" => DType::Int64,
            "float32" | "f4" => DType::Float32,
            "float64" | "f8" | "double" => DType::Float64,
            "complex128" | "c16" | "complex" => DType::Complex128,
            _ => {
                let width = name.strip_prefix('S')?.parse().ok()?;
                DType::Bytes(width)
            }
        })
    }
}

/// The dtype that inputs of a NumPy type vexpr does not have are widened to,
/// as numexpr widens them (`int8`, `uint8`, `int16`, `uint16` to `int32`;
/// `uint32` and `uint64` to `int64`, the latter keeping its bits; `float16`
/// to `float32`). `None` for types vexpr refuses (such as `complex64` or `U`).
///
/// ```
/// use vexpr::DType;
/// assert_eq!(vexpr::dtype::widened("uint8"), Some(DType::Int32));
/// assert_eq!(vexpr::dtype::widened("float64"), Some(DType::Float64));
/// assert_eq!(vexpr::dtype::widened("U5"), None);
/// ```
pub fn widened(numpy_name: &str) -> Option<DType> {
    Some(match numpy_name {
        "int8" | "uint8" | "int16" | "uint16" | "i1" | "u1" | "i2" | "u2" => DType::Int32,
        "uint32" | "uint64" | "u4" | "u8" => DType::Int64,
        "float16" | "f2" => DType::Float32,
        other => return DType::parse(other),
    })
}

/// The names of the types vexpr computes in, for error messages.
pub const SUPPORTED: &str = "bool, int32, int64, float32, float64, complex128, S<n> (and int8, uint8, int16, uint16, uint32, uint64, float16, widened as numexpr does)";

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One value of any [`DType`]: a constant of the expression or a scalar input.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An `int32`.
    Int32(i32),
    /// An `int64`.
    Int64(i64),
    /// A `float32`.
    Float32(f32),
    /// A `float64`.
    Float64(f64),
    /// A `complex128`.
    Complex128(Complex64),
    /// A byte string.
    Bytes(Vec<u8>),
}

impl Scalar {
    /// The type of the value.
    pub fn dtype(&self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int32(_) => DType::Int32,
            Scalar::Int64(_) => DType::Int64,
            Scalar::Float32(_) => DType::Float32,
            Scalar::Float64(_) => DType::Float64,
            Scalar::Complex128(_) => DType::Complex128,
            Scalar::Bytes(b) => DType::Bytes(b.len()),
        }
    }

    /// The value's bytes in native layout, as the VM stores it.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Scalar::Bool(v) => vec![u8::from(*v)],
            Scalar::Int32(v) => v.to_ne_bytes().to_vec(),
            Scalar::Int64(v) => v.to_ne_bytes().to_vec(),
            Scalar::Float32(v) => v.to_ne_bytes().to_vec(),
            Scalar::Float64(v) => v.to_ne_bytes().to_vec(),
            Scalar::Complex128(v) => bytemuck::bytes_of(v).to_vec(),
            Scalar::Bytes(b) => b.clone(),
        }
    }

    /// Reads a value of type `dtype` from its native bytes.
    pub fn from_bytes(dtype: DType, bytes: &[u8]) -> Scalar {
        fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
            let mut out = [0; N];
            out.copy_from_slice(&b[..N]);
            out
        }
        match dtype {
            DType::Bool => Scalar::Bool(bytes[0] != 0),
            DType::Int32 => Scalar::Int32(i32::from_ne_bytes(arr(bytes))),
            DType::Int64 => Scalar::Int64(i64::from_ne_bytes(arr(bytes))),
            DType::Float32 => Scalar::Float32(f32::from_ne_bytes(arr(bytes))),
            DType::Float64 => Scalar::Float64(f64::from_ne_bytes(arr(bytes))),
            DType::Complex128 => Scalar::Complex128(Complex64::new(
                f64::from_ne_bytes(arr(bytes)),
                f64::from_ne_bytes(arr(&bytes[8..])),
            )),
            DType::Bytes(w) => Scalar::Bytes(bytes[..w].to_vec()),
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(v) => f.write_str(if *v { "True" } else { "False" }),
            Scalar::Int32(v) => write!(f, "{v}"),
            Scalar::Int64(v) => write!(f, "{v}"),
            Scalar::Float32(v) => write!(f, "{v:?}"),
            Scalar::Float64(v) => write!(f, "{v:?}"),
            Scalar::Complex128(v) => write!(f, "({:?}{:+?}j)", v.re, v.im),
            Scalar::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
        }
    }
}
