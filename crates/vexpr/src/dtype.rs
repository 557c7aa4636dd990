//! Element types and scalar values.
//!
//! vexpr has numexpr's types: `bool`, `int32`, `int64`, `float32`, `float64`,
//! `complex128` and fixed-width byte strings. Numeric types are ordered by
//! numexpr's "kind" rank (`bool < int32 < int64 < float32 < float64 <
//! complex128`): an operation runs in the highest kind among its operands, so
//! `int64 + float32` is `float32`, as in numexpr.
//!
//! Inputs may be stored in more types than vexpr computes in: a [`Storage`]
//! (`uint8`, `float16`, `complex64`, ...) and its byte order make a
//! [`Format`], and [`Storage::dtype`] is numexpr's widening of each to the
//! dtype it is computed in.

use crate::error::{Error, ErrorKind, Span};
use num_complex::Complex64;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The type of an array's elements.
///
/// ```
/// use vexpr::DType;
/// assert_eq!(DType::Float32.itemsize(), 4);
/// assert_eq!("complex128".parse::<DType>().unwrap(), DType::Complex128);
/// assert_eq!(DType::Bytes(5).to_string(), "S5");
/// ```
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
pub(crate) const NUMERIC_KINDS: [DType; 6] = [
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
    ///
    /// ```
    /// use vexpr::DType;
    /// assert!(DType::Int64.rank() < DType::Float32.rank());
    /// assert_eq!(DType::Bytes(3).rank(), None);
    /// ```
    pub fn rank(self) -> Option<usize> {
        NUMERIC_KINDS.iter().position(|&k| k == self)
    }

    /// True for `int32` and `int64`.
    ///
    /// ```
    /// assert!(vexpr::DType::Int32.is_integer() && !vexpr::DType::Bool.is_integer());
    /// ```
    pub fn is_integer(self) -> bool {
        matches!(self, DType::Int32 | DType::Int64)
    }

    /// True for `float32` and `float64`.
    ///
    /// ```
    /// assert!(vexpr::DType::Float32.is_float() && !vexpr::DType::Complex128.is_float());
    /// ```
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    /// True for byte strings.
    ///
    /// ```
    /// assert!(vexpr::DType::Bytes(0).is_bytes());
    /// ```
    pub fn is_bytes(self) -> bool {
        matches!(self, DType::Bytes(_))
    }

    /// NumPy's name: `float64`, `S5`, ... (what `Display` writes).
    ///
    /// ```
    /// assert_eq!(vexpr::DType::Bytes(5).name(), "S5");
    /// ```
    pub fn name(self) -> String {
        match self {
            DType::Bytes(w) => format!("S{w}"),
            other => other.numeric_name().to_string(),
        }
    }

    /// The name of a numeric type, and `bytes` for strings.
    ///
    /// ```
    /// assert_eq!(vexpr::DType::Bytes(5).numeric_name(), "bytes");
    /// assert_eq!(vexpr::DType::Int64.numeric_name(), "int64");
    /// ```
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

    /// Parses NumPy's names of vexpr's own types (`float64`, `f8`, `S5`,
    /// `bool`, ...); the names of the narrower types that inputs are widened
    /// from (`uint8`, ...) are [`Storage::parse`]'s.
    ///
    /// ```
    /// assert_eq!(vexpr::DType::parse("S5"), Some(vexpr::DType::Bytes(5)));
    /// assert_eq!(vexpr::DType::parse("f8"), Some(vexpr::DType::Float64));
    /// assert_eq!(vexpr::DType::parse("uint8"), None);
    /// ```
    pub fn parse(name: &str) -> Option<DType> {
        Storage::parse(name)
            .filter(|s| s.is_dtype())
            .map(Storage::dtype)
    }
}

/// How one element of an input is stored in memory: vexpr's own types and the
/// narrower or other NumPy types that numexpr widens to them. An input stored
/// so is read through [`ArrayView::from_bytes`](crate::ArrayView::from_bytes)
/// and converted block by block as the VM reads it, never copied whole.
///
/// ```
/// use vexpr::{DType, Storage};
/// assert_eq!(Storage::UInt16.itemsize(), 2);
/// assert_eq!(Storage::UInt16.dtype(), DType::Int32);
/// assert_eq!(Storage::from(DType::Float64), Storage::Float64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Storage {
    /// One byte; zero is `False`, anything else `True`.
    Bool,
    /// `int8`
    Int8,
    /// `uint8`
    UInt8,
    /// `int16`
    Int16,
    /// `uint16`
    UInt16,
    /// `int32`
    Int32,
    /// `uint32`
    UInt32,
    /// `int64`
    Int64,
    /// `uint64`
    UInt64,
    /// `float16` (IEEE 754 binary16)
    Float16,
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// `complex64`: two `float32`, real part first.
    Complex64,
    /// `complex128`: two `float64`, real part first.
    Complex128,
    /// Fixed-width byte strings of the given width (NumPy's `S<width>`).
    Bytes(usize),
}

impl Storage {
    /// Bytes per element.
    ///
    /// ```
    /// assert_eq!(vexpr::Storage::Complex64.itemsize(), 8);
    /// ```
    pub fn itemsize(self) -> usize {
        match self {
            Storage::Bool | Storage::Int8 | Storage::UInt8 => 1,
            Storage::Int16 | Storage::UInt16 | Storage::Float16 => 2,
            Storage::Int32 | Storage::UInt32 | Storage::Float32 => 4,
            Storage::Int64 | Storage::UInt64 | Storage::Float64 | Storage::Complex64 => 8,
            Storage::Complex128 => 16,
            Storage::Bytes(width) => width,
        }
    }

    /// The dtype vexpr computes with for elements stored so: numexpr's
    /// widening (`getType` in numexpr's `necompiler.py`). `int8`, `uint8`,
    /// `int16`, `uint16` become `int32`; `uint32` and `uint64` become `int64`,
    /// `uint64` keeping its bits as numexpr's unsafe cast does (2**64 - 1 is
    /// read as -1); `float16` becomes `float32` and `complex64` `complex128`,
    /// both exactly; vexpr's own types stay as they are.
    ///
    /// This is the one table of the widening: [`DType::parse`] reads it.
    ///
    /// ```
    /// use vexpr::{DType, Storage};
    /// assert_eq!(Storage::UInt64.dtype(), DType::Int64);
    /// assert_eq!(Storage::Float16.dtype(), DType::Float32);
    /// assert_eq!(Storage::Bytes(3).dtype(), DType::Bytes(3));
    /// ```
    pub fn dtype(self) -> DType {
        match self {
            Storage::Bool => DType::Bool,
            Storage::Int8 | Storage::UInt8 | Storage::Int16 | Storage::UInt16 | Storage::Int32 => {
                DType::Int32
            }
            Storage::UInt32 | Storage::Int64 | Storage::UInt64 => DType::Int64,
            Storage::Float16 | Storage::Float32 => DType::Float32,
            Storage::Float64 => DType::Float64,
            Storage::Complex64 | Storage::Complex128 => DType::Complex128,
            Storage::Bytes(width) => DType::Bytes(width),
        }
    }

    /// True when elements stored so are already elements of their
    /// [`Storage::dtype`] (in native byte order): vexpr's own types.
    ///
    /// ```
    /// use vexpr::Storage;
    /// assert!(Storage::Int64.is_dtype());
    /// assert!(!Storage::UInt64.is_dtype()); // same width, other values
    /// ```
    pub fn is_dtype(self) -> bool {
        Storage::from(self.dtype()) == self
    }

    /// True when the byte order matters: numbers wider than one byte.
    /// `Bool`, `Int8`, `UInt8` and byte strings read the same either way.
    ///
    /// ```
    /// use vexpr::Storage;
    /// assert!(Storage::Float16.has_byte_order());
    /// assert!(!Storage::Bytes(4).has_byte_order());
    /// ```
    pub fn has_byte_order(self) -> bool {
        !matches!(
            self,
            Storage::Bool | Storage::Int8 | Storage::UInt8 | Storage::Bytes(_)
        )
    }

    /// Parses NumPy's names (`uint8`, `u1`, `float16`, `f2`, `c8`, `S5`,
    /// and those of [`DType::parse`]). Byte-order prefixes (`<`, `>`) are
    /// not part of a name: they are [`Format::swapped`].
    ///
    /// ```
    /// use vexpr::Storage;
    /// assert_eq!(Storage::parse("u2"), Some(Storage::UInt16));
    /// assert_eq!(Storage::parse("S5"), Some(Storage::Bytes(5)));
    /// assert_eq!(Storage::parse("float128"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Storage> {
        Some(match name {
            "bool" | "?" | "b1" => Storage::Bool,
            "int8" | "i1" => Storage::Int8,
            "uint8" | "u1" => Storage::UInt8,
            "int16" | "i2" => Storage::Int16,
            "uint16" | "u2" => Storage::UInt16,
            "int32" | "i4" => Storage::Int32,
            "uint32" | "u4" => Storage::UInt32,
            "int64" | "i8" => Storage::Int64,
            "uint64" | "u8" => Storage::UInt64,
            "float16" | "f2" => Storage::Float16,
            "float32" | "f4" => Storage::Float32,
            "float64" | "f8" | "double" => Storage::Float64,
            "complex64" | "c8" => Storage::Complex64,
            "complex128" | "c16" | "complex" => Storage::Complex128,
            _ => {
                let width = name.strip_prefix('S')?.parse().ok()?;
                Storage::Bytes(width)
            }
        })
    }
}

impl From<DType> for Storage {
    /// How elements of a vexpr dtype are stored.
    fn from(dtype: DType) -> Storage {
        match dtype {
            DType::Bool => Storage::Bool,
            DType::Int32 => Storage::Int32,
            DType::Int64 => Storage::Int64,
            DType::Float32 => Storage::Float32,
            DType::Float64 => Storage::Float64,
            DType::Complex128 => Storage::Complex128,
            DType::Bytes(width) => Storage::Bytes(width),
        }
    }
}

/// A [`Storage`] and its byte order: everything needed to read one element.
///
/// ```
/// use vexpr::{Format, Storage};
/// // NumPy's '>u2' (big-endian uint16), on whatever machine this runs:
/// let big = Format { storage: Storage::UInt16, swapped: cfg!(target_endian = "little") };
/// assert_eq!(big.is_native(), cfg!(target_endian = "big"));
/// // One byte has no order to swap.
/// assert!(Format { storage: Storage::UInt8, swapped: true }.is_native());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    /// The element type as stored.
    pub storage: Storage,
    /// True when the bytes of each number are in the opposite of the
    /// machine's byte order (for complex numbers: of each part). Ignored
    /// where the order does not matter ([`Storage::has_byte_order`]).
    pub swapped: bool,
}

impl Format {
    /// `storage` in the machine's byte order.
    ///
    /// ```
    /// use vexpr::{Format, Storage};
    /// assert!(!Format::native(Storage::Int16).swapped);
    /// ```
    pub fn native(storage: Storage) -> Format {
        Format {
            storage,
            swapped: false,
        }
    }

    /// True when no bytes need swapping to read an element: the byte order
    /// is the machine's, or does not matter.
    ///
    /// ```
    /// use vexpr::{Format, Storage};
    /// assert!(Format::native(Storage::Float64).is_native());
    /// ```
    pub fn is_native(self) -> bool {
        !self.swapped || !self.storage.has_byte_order()
    }
}

/// The names of the types vexpr computes in, for error messages.
pub const SUPPORTED: &str = "bool, int32, int64, float32, float64, complex128, S<n> (and int8, uint8, int16, uint16, uint32, uint64, float16, complex64, widened as numexpr does)";

impl fmt::Display for DType {
    /// NumPy's name ([`DType::name`]), which [`DType::from_str`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for DType {
    type Err = Error;

    /// Reads the names `DType` displays (`bool`, `int32`, `int64`,
    /// `float32`, `float64`, `complex128`, `S<width>`) and NumPy's other
    /// spellings of them ([`DType::parse`]). Any other name, including those
    /// of the narrower types that inputs are widened from (`uint8`, ...:
    /// [`Storage`]'s), is an [`Error`] of kind [`ErrorKind::Input`] whose
    /// span is the whole name.
    ///
    /// ```
    /// use vexpr::DType;
    /// for dtype in [DType::Bool, DType::Int64, DType::Complex128, DType::Bytes(7)] {
    ///     assert_eq!(dtype.to_string().parse::<DType>().unwrap(), dtype);
    /// }
    /// let err = "float128".parse::<DType>().unwrap_err();
    /// assert_eq!(err.kind(), vexpr::ErrorKind::Input);
    /// ```
    fn from_str(name: &str) -> Result<DType, Error> {
        DType::parse(name).ok_or_else(|| {
            let message = match Storage::parse(name) {
                Some(storage) => format!(
                    "`{name}` is not a type vexpr computes in (inputs stored as {name} are read as {})",
                    storage.dtype()
                ),
                None => format!("unknown dtype `{name}`: the dtypes are {SUPPORTED}"),
            };
            Error::new(ErrorKind::Input, Span::new(0, name.len()), message)
                .with_source(&Arc::from(name))
        })
    }
}

impl fmt::Display for Storage {
    /// NumPy's name: `uint8`, `float16`, `S5`, ...; [`Storage::from_str`]
    /// reads it back.
    ///
    /// ```
    /// assert_eq!(vexpr::Storage::UInt16.to_string(), "uint16");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Storage::Bool => "bool",
            Storage::Int8 => "int8",
            Storage::UInt8 => "uint8",
            Storage::Int16 => "int16",
            Storage::UInt16 => "uint16",
            Storage::Int32 => "int32",
            Storage::UInt32 => "uint32",
            Storage::Int64 => "int64",
            Storage::UInt64 => "uint64",
            Storage::Float16 => "float16",
            Storage::Float32 => "float32",
            Storage::Float64 => "float64",
            Storage::Complex64 => "complex64",
            Storage::Complex128 => "complex128",
            Storage::Bytes(width) => return write!(f, "S{width}"),
        };
        f.write_str(name)
    }
}

impl FromStr for Storage {
    type Err = Error;

    /// Reads the names `Storage` displays and NumPy's other spellings of
    /// them ([`Storage::parse`]); any other name is an [`Error`] of kind
    /// [`ErrorKind::Input`] whose span is the whole name.
    ///
    /// ```
    /// use vexpr::Storage;
    /// assert_eq!("uint8".parse::<Storage>().unwrap(), Storage::UInt8);
    /// assert!("U5".parse::<Storage>().is_err());
    /// ```
    fn from_str(name: &str) -> Result<Storage, Error> {
        Storage::parse(name).ok_or_else(|| {
            Error::new(
                ErrorKind::Input,
                Span::new(0, name.len()),
                format!("unknown dtype `{name}`: the dtypes are {SUPPORTED}"),
            )
            .with_source(&Arc::from(name))
        })
    }
}

/// One value of any [`DType`]: a constant of the expression or a scalar input.
///
/// ```
/// use vexpr::{Env, Scalar};
/// let env = Env::new().with("k", Scalar::Int64(3));
/// let r = vexpr::evaluate("k * 2", &env).unwrap();
/// assert_eq!(r.get(0), Some(Scalar::Int64(6)));
/// assert_eq!(Scalar::Bool(true).to_string(), "True");
/// ```
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
    ///
    /// ```
    /// use vexpr::{DType, Scalar};
    /// assert_eq!(Scalar::Bytes(b"abc".to_vec()).dtype(), DType::Bytes(3));
    /// ```
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
    ///
    /// ```
    /// assert_eq!(vexpr::Scalar::Int32(1).to_bytes(), 1i32.to_ne_bytes());
    /// ```
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

    /// Reads a value of type `dtype` from its native bytes (the first
    /// `dtype.itemsize()` of them).
    ///
    /// # Panics
    ///
    /// If `bytes` is shorter than `dtype.itemsize()`.
    ///
    /// ```
    /// use vexpr::{DType, Scalar};
    /// let s = Scalar::Float64(-2.5);
    /// assert_eq!(Scalar::from_bytes(DType::Float64, &s.to_bytes()), s);
    /// ```
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

#[cfg(test)]
mod tests {
    use super::*;

    const STORAGES: [Storage; 16] = [
        Storage::Bool,
        Storage::Int8,
        Storage::UInt8,
        Storage::Int16,
        Storage::UInt16,
        Storage::Int32,
        Storage::UInt32,
        Storage::Int64,
        Storage::UInt64,
        Storage::Float16,
        Storage::Float32,
        Storage::Float64,
        Storage::Complex64,
        Storage::Complex128,
        Storage::Bytes(0),
        Storage::Bytes(12),
    ];

    #[test]
    fn every_name_displayed_parses_back() {
        for dtype in NUMERIC_KINDS
            .into_iter()
            .chain([DType::Bytes(0), DType::Bytes(5)])
        {
            assert_eq!(dtype.to_string().parse::<DType>().unwrap(), dtype);
        }
        for storage in STORAGES {
            assert_eq!(storage.to_string().parse::<Storage>().unwrap(), storage);
            // A storage's name is also NumPy's, which `Storage::parse` reads.
            assert_eq!(Storage::parse(&storage.to_string()), Some(storage));
        }
    }

    #[test]
    fn unknown_names_are_errors_spanning_the_name() {
        for name in ["", "float128", "U5", "S", "Sx", "int", " float64"] {
            let err = name.parse::<DType>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Input, "{name}");
            assert_eq!(err.span(), Span::new(0, name.len()), "{name}");
            assert_eq!(err.source_text(), Some(name));
            assert!(name.parse::<Storage>().is_err(), "{name}");
        }
        // Stored types are no dtypes: the message says what they are read as.
        let err = "uint8".parse::<DType>().unwrap_err();
        assert!(err.message().contains("int32"), "{err}");
        assert_eq!("uint8".parse::<Storage>().unwrap(), Storage::UInt8);
    }
}
