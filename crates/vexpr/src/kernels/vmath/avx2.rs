//! What the AVX2 kernels written with intrinsics share (`pow.rs`,
//! `pow32.rs`): loads and
//! stores of whole vectors, the table lookups by `vgatherqpd` (the only
//! `unsafe` they need, each with the invariant that makes it sound), the
//! two-input slice loops with a scalar pass for rare lanes ([`map2_pd`],
//! and [`map2_ps_widened`] for float32 computed in float64), Horner's and
//! Estrin's schemes, and the split of a positive normal number by the 16
//! intervals of the table-driven logarithms.
//!
//! The lane functions of `mod.rs` are vectorized by the compiler at this
//! level, but not when they read a table at a computed index: a kernel that
//! does is written here with gathers instead.
//!
//! In: slices, or arrays of one vector's lanes. Out: vectors (4 f64 in a
//! `ymm`), or the slice written.

use super::arith::SHIFT;
use super::consts_pow32::OFF_BITS;
use std::arch::x86_64::*;

/// The 4 lanes of `x`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn load_pd(x: &[f64; 4]) -> __m256d {
    // SAFETY: `x` is 4 readable f64, the 32 bytes an unaligned load reads.
    unsafe { _mm256_loadu_pd(x.as_ptr()) }
}

/// Writes the 4 lanes of `v` to `out`.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn store_pd(out: &mut [f64; 4], v: __m256d) {
    // SAFETY: `out` is 4 writable f64, the 32 bytes an unaligned store writes.
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), v) }
}

/// `table[index & 15]` in each lane, by one `vgatherqpd`. Four `vpermd` of
/// the table's quarters and three blends took longer on a Zen 3 EPYC (N =
/// 1M, one thread, binaries alternated, three runs each): float32 `**`
/// 3.36 → 3.98 ns/elem, float64 `**` 5.85 → 6.45.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn look_up(table: &[f64; 16], index: __m256i) -> __m256d {
    let index = _mm256_and_si256(index, _mm256_set1_epi64x(15));
    // SAFETY: every lane's index is in 0..16 (masked above), so each of the
    // four 8-byte reads lies in `table`.
    unsafe { _mm256_i64gather_pd::<8>(table.as_ptr(), index) }
}

/// `c[0] + c[1] x + ... + c[N-1] x^(N-1)` by Horner's scheme, the
/// operations of `arith::horner` in their order.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn horner_pd<const N: usize>(c: &[f64; N], x: __m256d) -> __m256d {
    let mut p = _mm256_set1_pd(c[N - 1]);
    for &ci in c[..N - 1].iter().rev() {
        p = _mm256_fmadd_pd(p, x, _mm256_set1_pd(ci));
    }
    p
}

/// Polynomial `c[0] + c[1] x + ...` by Estrin's scheme, the operations of
/// `arith::estrin` (and AVX-512's `estrin_pd`) in their order.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn estrin_pd<const N: usize>(c: &[f64; N], x: __m256d) -> __m256d {
    let mut terms: [__m256d; N] = core::array::from_fn(|i| _mm256_set1_pd(c[i]));
    let (mut len, mut power) = (N, x);
    while len > 1 {
        for i in 0..len / 2 {
            terms[i] = _mm256_fmadd_pd(terms[2 * i + 1], power, terms[2 * i]);
        }
        if len % 2 == 1 {
            terms[len / 2] = terms[len - 1];
        }
        len = len.div_ceil(2);
        power = _mm256_mul_pd(power, power);
    }
    terms[0]
}

/// `|x|`: the sign bit cleared.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn abs_pd(x: __m256d) -> __m256d {
    _mm256_andnot_pd(_mm256_set1_pd(-0.0), x)
}

/// A small non-negative integer (below 2^51) in each 64-bit lane, less
/// `bias`, as f64, exactly: AVX2 has no `vcvtqq2pd`, so the integer goes
/// into the low bits of 1.5 * 2^52 (`arith::small_i64_to_f64`'s way).
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn small_u64_to_pd(v: __m256i, bias: f64) -> __m256d {
    let shifted = _mm256_add_epi64(v, _mm256_set1_epi64x(SHIFT.to_bits() as i64));
    _mm256_sub_pd(_mm256_castsi256_pd(shifted), _mm256_set1_pd(SHIFT + bias))
}

/// `x = 2^k m` for positive normal `x`, with `m` in one of the 16 intervals
/// of the table-driven logarithms (float32 `**`'s, `pow32.rs`), as the
/// interval's index for [`look_up`] (in the low four bits), `k` and `m`:
/// AVX-512's `split_by_interval` without its arithmetic shift and
/// conversion.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn split_by_interval(x: __m256d) -> (__m256i, __m256d, __m256d) {
    let ix = _mm256_castpd_si256(x);
    let tmp = _mm256_sub_epi64(ix, _mm256_set1_epi64x(OFF_BITS as i64));
    let index = _mm256_srli_epi64::<48>(tmp);
    // k = tmp >> 52 (arithmetic), from -1022 to 1024: biased by 1024 it is
    // the logical shift of tmp + 2^62, which is non-negative.
    let biased = _mm256_add_epi64(tmp, _mm256_set1_epi64x(1024 << 52));
    let k = small_u64_to_pd(_mm256_srli_epi64::<52>(biased), 1024.0);
    let exp_field = _mm256_and_si256(tmp, _mm256_set1_epi64x((0xfff_u64 << 52) as i64));
    let m = _mm256_castsi256_pd(_mm256_sub_epi64(ix, exp_field));
    (index, k, m)
}

/// Lanes per block of [`map2_pd`]: the vector pass writes a block, then the
/// rare lanes its kernel marks are recomputed while the block is in cache.
const BLOCK: usize = 512;

/// `out[i] = f(x[i], y[i])` for the shortest length: `lanes` on 4 lanes at
/// a time gives the values and a lane mask (all ones) of those it does not
/// cover, for which `needs_full` holds; `full` recomputes those. A tail of
/// fewer than 4 runs through `lanes` padded with `pad`, an input it covers.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn map2_pd(
    x: &[f64],
    y: &[f64],
    out: &mut [f64],
    pad: f64,
    lanes: impl Fn(__m256d, __m256d) -> (__m256d, __m256d),
    needs_full: impl Fn(f64, f64) -> bool,
    full: impl Fn(f64, f64) -> f64,
) {
    let n = x.len().min(y.len()).min(out.len());
    let blocks = x[..n].chunks(BLOCK).zip(y[..n].chunks(BLOCK));
    for ((xb, yb), ob) in blocks.zip(out[..n].chunks_mut(BLOCK)) {
        let (x4, x_tail) = xb.as_chunks::<4>();
        let (y4, y_tail) = yb.as_chunks::<4>();
        let (o4, o_tail) = ob.as_chunks_mut::<4>();
        let mut special = _mm256_setzero_pd();
        for ((x, y), o) in x4.iter().zip(y4).zip(o4) {
            let (v, s) = lanes(load_pd(x), load_pd(y));
            special = _mm256_or_pd(special, s);
            store_pd(o, v);
        }
        if !x_tail.is_empty() {
            let (mut xs, mut ys, mut os) = ([pad; 4], [pad; 4], [0.0; 4]);
            xs[..x_tail.len()].copy_from_slice(x_tail);
            ys[..y_tail.len()].copy_from_slice(y_tail);
            let (v, s) = lanes(load_pd(&xs), load_pd(&ys));
            special = _mm256_or_pd(special, s);
            store_pd(&mut os, v);
            o_tail.copy_from_slice(&os[..o_tail.len()]);
        }
        if _mm256_movemask_pd(special) != 0 {
            for ((o, &a), &b) in ob.iter_mut().zip(xb).zip(yb) {
                if needs_full(a, b) {
                    *o = full(a, b);
                }
            }
        }
    }
}

/// The 8 f32 of `v` widened, as two vectors of four f64.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn widen_ps(v: &[f32; 8]) -> [__m256d; 2] {
    // SAFETY: `v` is 8 readable f32, the 32 bytes an unaligned load reads.
    let v = unsafe { _mm256_loadu_ps(v.as_ptr()) };
    [
        _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
        _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(v)),
    ]
}

/// Writes `lo` and `hi` rounded to f32 to `out`'s 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn narrow_ps(out: &mut [f32; 8], lo: __m256d, hi: __m256d) {
    let v = _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
    // SAFETY: `out` is 8 writable f32, the 32 bytes an unaligned store writes.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) }
}

/// [`map2_pd`] for float32 slices computed in float64: each 8 f32 of `x`
/// and `y` widened to two vectors, `lanes` on the pairs (two independent
/// chains an iteration, which the core overlaps: `lanes` gives both halves'
/// values and one mask), the results rounded to f32.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn map2_ps_widened(
    x: &[f32],
    y: &[f32],
    out: &mut [f32],
    pad: f32,
    lanes: impl Fn([__m256d; 2], [__m256d; 2]) -> ([__m256d; 2], __m256d),
    needs_full: impl Fn(f32, f32) -> bool,
    full: impl Fn(f32, f32) -> f32,
) {
    let n = x.len().min(y.len()).min(out.len());
    let blocks = x[..n].chunks(BLOCK).zip(y[..n].chunks(BLOCK));
    for ((xb, yb), ob) in blocks.zip(out[..n].chunks_mut(BLOCK)) {
        let (x8, x_tail) = xb.as_chunks::<8>();
        let (y8, y_tail) = yb.as_chunks::<8>();
        let (o8, o_tail) = ob.as_chunks_mut::<8>();
        let mut special = _mm256_setzero_pd();
        for ((x, y), o) in x8.iter().zip(y8).zip(o8) {
            let ([v0, v1], s) = lanes(widen_ps(x), widen_ps(y));
            special = _mm256_or_pd(special, s);
            narrow_ps(o, v0, v1);
        }
        if !x_tail.is_empty() {
            let (mut xs, mut ys, mut os) = ([pad; 8], [pad; 8], [0.0; 8]);
            xs[..x_tail.len()].copy_from_slice(x_tail);
            ys[..y_tail.len()].copy_from_slice(y_tail);
            let ([v0, v1], s) = lanes(widen_ps(&xs), widen_ps(&ys));
            special = _mm256_or_pd(special, s);
            narrow_ps(&mut os, v0, v1);
            o_tail.copy_from_slice(&os[..o_tail.len()]);
        }
        if _mm256_movemask_pd(special) != 0 {
            for ((o, &a), &b) in ob.iter_mut().zip(xb).zip(yb) {
                if needs_full(a, b) {
                    *o = full(a, b);
                }
            }
        }
    }
}
