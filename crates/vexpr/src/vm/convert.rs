//! Stored elements into the registers' types: numexpr's widening and byte
//! swapping, a run of elements at a time.
//!
//! In: the bytes of whole elements stored in a [`Format`]. Out: the same
//! elements as their [`Storage::dtype`], in native byte order, which is what
//! the kernels read. [`Gather`](super::Gather) calls a [`Convert`] on each run
//! of elements it reads from a view made by
//! [`ArrayView::from_bytes`](crate::ArrayView::from_bytes), so a stored input
//! is converted block by block into scratch, never copied whole.
//!
//! Every conversion is exact (`float16` to `float32` by the `half` crate,
//! `complex64` to `complex128` part by part), except `uint64`, which keeps
//! its bits as an `int64`, as numexpr's unsafe cast does. A stored `bool` is
//! any byte: zero is `False`, anything else `True` (written as 1, since the
//! boolean kernels rely on 0 and 1).

use crate::dtype::{Format, Storage};

/// Converts whole stored elements: `src` holds `k` elements of the format
/// (`k` times [`Storage::itemsize`] bytes), and `dst` receives them as the
/// dtype (`k` times that dtype's itemsize bytes). A trailing partial element
/// in either is ignored.
pub(crate) type Convert = fn(src: &[u8], dst: &mut [u8]);

/// The conversion of elements stored in `format`.
pub(crate) fn converter(format: Format) -> Convert {
    // The byte order is a const parameter, so that each variant is a loop
    // of its own with the swap (or not) inlined.
    fn pick(swapped: bool, native: Convert, swapping: Convert) -> Convert {
        if swapped { swapping } else { native }
    }
    let swapped = !format.is_native();
    match format.storage {
        Storage::Bool => boolean,
        Storage::Int8 => int8,
        Storage::UInt8 => uint8,
        Storage::Int16 => pick(swapped, int16::<false>, int16::<true>),
        Storage::UInt16 => pick(swapped, uint16::<false>, uint16::<true>),
        Storage::UInt32 => pick(swapped, uint32::<false>, uint32::<true>),
        Storage::Float16 => pick(swapped, float16::<false>, float16::<true>),
        Storage::Complex64 => pick(swapped, complex64::<false>, complex64::<true>),
        // Same width in and out: a copy, byte-swapped per number (per part,
        // for complex128) when the order is the other one. uint64 is int64's
        // bits.
        Storage::Int32 | Storage::Float32 => pick(swapped, copy, swap::<4, 4>),
        Storage::Int64 | Storage::UInt64 | Storage::Float64 => pick(swapped, copy, swap::<8, 8>),
        Storage::Complex128 => pick(swapped, copy, swap::<16, 8>),
        Storage::Bytes(_) => copy,
    }
}

/// `f` on each `N`-byte element of `src`, into the `M`-byte elements of `dst`.
#[inline(always)]
fn each<const N: usize, const M: usize>(
    src: &[u8],
    dst: &mut [u8],
    f: impl Fn([u8; N]) -> [u8; M],
) {
    let (src, _) = src.as_chunks::<N>();
    let (dst, _) = dst.as_chunks_mut::<M>();
    for (s, d) in src.iter().zip(dst) {
        *d = f(*s);
    }
}

/// The bytes of one number in native order.
#[inline(always)]
fn ordered<const N: usize, const SWAP: bool>(mut bytes: [u8; N]) -> [u8; N] {
    if SWAP {
        bytes.reverse();
    }
    bytes
}

/// Native elements of the register's own type and width.
fn copy(src: &[u8], dst: &mut [u8]) {
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src[..n]);
}

/// Elements of `N` bytes made of numbers of `PART` bytes, each swapped.
fn swap<const N: usize, const PART: usize>(src: &[u8], dst: &mut [u8]) {
    each::<N, N>(src, dst, |mut bytes| {
        for part in bytes.chunks_exact_mut(PART) {
            part.reverse();
        }
        bytes
    });
}

/// Stored booleans as the kernels read them: 1 for any nonzero byte.
pub(super) fn boolean(src: &[u8], dst: &mut [u8]) {
    each::<1, 1>(src, dst, |[b]| [u8::from(b != 0)]);
}

fn int8(src: &[u8], dst: &mut [u8]) {
    each::<1, 4>(src, dst, |b| i32::from(i8::from_ne_bytes(b)).to_ne_bytes());
}

fn uint8(src: &[u8], dst: &mut [u8]) {
    each::<1, 4>(src, dst, |b| i32::from(u8::from_ne_bytes(b)).to_ne_bytes());
}

fn int16<const SWAP: bool>(src: &[u8], dst: &mut [u8]) {
    each::<2, 4>(src, dst, |b| {
        i32::from(i16::from_ne_bytes(ordered::<2, SWAP>(b))).to_ne_bytes()
    });
}

fn uint16<const SWAP: bool>(src: &[u8], dst: &mut [u8]) {
    each::<2, 4>(src, dst, |b| {
        i32::from(u16::from_ne_bytes(ordered::<2, SWAP>(b))).to_ne_bytes()
    });
}

fn uint32<const SWAP: bool>(src: &[u8], dst: &mut [u8]) {
    each::<4, 8>(src, dst, |b| {
        i64::from(u32::from_ne_bytes(ordered::<4, SWAP>(b))).to_ne_bytes()
    });
}

fn float16<const SWAP: bool>(src: &[u8], dst: &mut [u8]) {
    each::<2, 4>(src, dst, |b| {
        let bits = u16::from_ne_bytes(ordered::<2, SWAP>(b));
        half::f16::from_bits(bits).to_f32().to_ne_bytes()
    });
}

fn complex64<const SWAP: bool>(src: &[u8], dst: &mut [u8]) {
    each::<8, 16>(src, dst, |b| {
        let part = |at: usize| {
            let bytes = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            f64::from(f32::from_ne_bytes(ordered::<4, SWAP>(bytes))).to_ne_bytes()
        };
        let (re, im) = (part(0), part(4));
        let mut out = [0; 16];
        out[..8].copy_from_slice(&re);
        out[8..].copy_from_slice(&im);
        out
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(storage: Storage, swapped: bool, src: &[u8]) -> Vec<u8> {
        let out = storage.dtype().itemsize();
        let k = src.len() / storage.itemsize();
        let mut dst = vec![0xAA; k * out];
        converter(Format { storage, swapped })(src, &mut dst);
        dst
    }

    #[test]
    fn widens_as_numexpr_does() {
        let ints = |v: &[i32]| v.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<_>>();
        let longs = |v: &[i64]| v.iter().flat_map(|x| x.to_ne_bytes()).collect::<Vec<_>>();
        assert_eq!(convert(Storage::Int8, false, &[0xFF, 1]), ints(&[-1, 1]));
        assert_eq!(convert(Storage::UInt8, true, &[0xFF, 1]), ints(&[255, 1]));
        let be = 0x1234u16.to_be_bytes();
        assert_eq!(
            convert(Storage::UInt16, cfg!(target_endian = "little"), &be),
            ints(&[0x1234])
        );
        assert_eq!(
            convert(Storage::UInt32, false, &u32::MAX.to_ne_bytes()),
            longs(&[i64::from(u32::MAX)])
        );
        assert_eq!(
            convert(Storage::UInt64, false, &u64::MAX.to_ne_bytes()),
            longs(&[-1])
        );
        assert_eq!(convert(Storage::Bool, false, &[0, 1, 2, 255]), [0, 1, 1, 1]);
        let one = half::f16::from_f32(1.5).to_bits().to_ne_bytes();
        assert_eq!(convert(Storage::Float16, false, &one), 1.5f32.to_ne_bytes());
    }

    #[test]
    fn swaps_each_part_of_a_complex_number() {
        let mut src = Vec::new();
        src.extend(1.5f32.to_ne_bytes().iter().rev());
        src.extend((-2.0f32).to_ne_bytes().iter().rev());
        let mut want = Vec::new();
        want.extend(1.5f64.to_ne_bytes());
        want.extend((-2.0f64).to_ne_bytes());
        assert_eq!(convert(Storage::Complex64, true, &src), want);
        let swapped: Vec<u8> = want
            .chunks(8)
            .flat_map(|c| c.iter().rev().copied())
            .collect();
        assert_eq!(convert(Storage::Complex128, true, &swapped), want);
    }
}
