//! The same input values stored another way: in a narrower type that vexpr
//! widens as it reads (`int16` for an `int32` input whose values all fit,
//! `float16` for `float32`, `complex64` for `complex128`, `uint32`/`uint64`
//! for `int64`), with the bytes of each number swapped, and booleans stored
//! as bytes other than 1. Read through [`ArrayView::from_bytes`] or a
//! chunked source, such an input must give the bits the typed input gives.
//!
//! The conversion here is the harness's own (`half` for `float16`, plain
//! casts otherwise), independent of the kernels that widen inside vexpr.

use crate::inputs::Input;
use vexpr::{ArrayView, DType, Format, Storage};

/// An input's buffer, stored as [`Stored::format`] says, with its view's
/// geometry in bytes.
pub struct Stored {
    bytes: Vec<u8>,
    format: Format,
    shape: Vec<usize>,
    byte_strides: Vec<isize>,
    byte_offset: usize,
}

impl Stored {
    /// `input` (an array) stored in the narrowest [`Storage`] that holds
    /// every element of its buffer exactly, its numbers' bytes swapped if
    /// `swapped`; `None` for scalars and byte strings (stored only one way).
    pub fn of(input: &Input, swapped: bool) -> Option<Stored> {
        let Input::Array {
            shape,
            strides,
            offset,
            dtype,
            ..
        } = input
        else {
            return None;
        };
        let native = input.buffer_bytes()?;
        let storage = narrowest(*dtype, native)?;
        let format = Format { storage, swapped };
        let width = storage.itemsize();
        Some(Stored {
            bytes: encode(*dtype, native, format),
            format,
            shape: shape.clone(),
            byte_strides: strides.iter().map(|&s| s * width as isize).collect(),
            byte_offset: offset * width,
        })
    }

    /// How the elements are stored.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The input as a view of the stored bytes.
    pub fn view(&self) -> ArrayView<'_> {
        ArrayView::from_bytes(
            &self.bytes,
            self.format,
            &self.shape,
            &self.byte_strides,
            self.byte_offset,
        )
        .unwrap_or_else(|e| panic!("from_bytes refused a view with_strides took: {e}"))
    }
}

/// The input's elements in row-major order, stored as `format` (a
/// [`Stored::format`] of the same input).
pub fn c_order(input: &Input, format: Format) -> Vec<u8> {
    let dtype = match input {
        Input::Array { dtype, .. } => *dtype,
        Input::Scalar(s) => s.dtype(),
    };
    encode(dtype, &input.c_order_bytes(), format)
}

/// The narrowest storage that holds every element of `native` (elements of
/// `dtype` in native bytes) exactly; `None` for byte strings.
fn narrowest(dtype: DType, native: &[u8]) -> Option<Storage> {
    let fits = |test: &dyn Fn(&[u8]) -> bool| native.chunks_exact(dtype.itemsize()).all(test);
    Some(match dtype {
        DType::Bool => Storage::Bool,
        DType::Int32 => {
            let all = |lo: i64, hi: i64| fits(&|b| (lo..=hi).contains(&i64::from(i32_of(b))));
            if all(-128, 127) {
                Storage::Int8
            } else if all(0, 255) {
                Storage::UInt8
            } else if all(-32768, 32767) {
                Storage::Int16
            } else if all(0, 65535) {
                Storage::UInt16
            } else {
                Storage::Int32
            }
        }
        DType::Int64 => {
            if fits(&|b| (0..=i64::from(u32::MAX)).contains(&i64_of(b))) {
                Storage::UInt32
            } else {
                // Every int64 is a uint64's bits, read back as they were.
                Storage::UInt64
            }
        }
        DType::Float32 => {
            if fits(&|b| f16_holds(f32_of(b))) {
                Storage::Float16
            } else {
                Storage::Float32
            }
        }
        DType::Float64 => Storage::Float64,
        DType::Complex128 => {
            if fits(&|b| b.chunks_exact(8).all(|p| f32_holds(f64_of(p)))) {
                Storage::Complex64
            } else {
                Storage::Complex128
            }
        }
        DType::Bytes(_) => return None,
    })
}

/// `native` (elements of `dtype`) stored as `format`.
fn encode(dtype: DType, native: &[u8], format: Format) -> Vec<u8> {
    let mut out = Vec::with_capacity(native.len());
    for b in native.chunks_exact(dtype.itemsize()) {
        let start = out.len();
        match format.storage {
            // Any nonzero byte is `True`.
            Storage::Bool => out.push(if b[0] != 0 { 0x5a } else { 0 }),
            Storage::Int8 => out.push(i32_of(b) as i8 as u8),
            Storage::UInt8 => out.push(i32_of(b) as u8),
            Storage::Int16 => out.extend((i32_of(b) as i16).to_ne_bytes()),
            Storage::UInt16 => out.extend((i32_of(b) as u16).to_ne_bytes()),
            Storage::UInt32 => out.extend((i64_of(b) as u32).to_ne_bytes()),
            Storage::UInt64 => out.extend((i64_of(b) as u64).to_ne_bytes()),
            Storage::Float16 => out.extend(half::f16::from_f32(f32_of(b)).to_bits().to_ne_bytes()),
            Storage::Complex64 => {
                for part in b.chunks_exact(8) {
                    out.extend((f64_of(part) as f32).to_bits().to_ne_bytes());
                }
            }
            // vexpr's own types: the same bytes.
            _ => out.extend_from_slice(b),
        }
        if format.swapped && format.storage.has_byte_order() {
            let element = &mut out[start..];
            let number = match format.storage {
                Storage::Complex64 => 4,
                Storage::Complex128 => 8,
                s => s.itemsize(),
            };
            element.chunks_exact_mut(number).for_each(|n| n.reverse());
        }
    }
    out
}

fn i32_of(b: &[u8]) -> i32 {
    i32::from_ne_bytes(b.try_into().expect("4 bytes"))
}

fn i64_of(b: &[u8]) -> i64 {
    i64::from_ne_bytes(b.try_into().expect("8 bytes"))
}

fn f32_of(b: &[u8]) -> f32 {
    f32::from_ne_bytes(b.try_into().expect("4 bytes"))
}

fn f64_of(b: &[u8]) -> f64 {
    f64::from_ne_bytes(b.try_into().expect("8 bytes"))
}

/// Whether `x` survives a round trip through `float16`, bit for bit (NaN
/// payloads included).
fn f16_holds(x: f32) -> bool {
    half::f16::from_f32(x).to_f32().to_bits() == x.to_bits()
}

/// Whether `x` survives a round trip through `float32`, bit for bit.
fn f32_holds(x: f64) -> bool {
    f64::from(x as f32).to_bits() == x.to_bits()
}
