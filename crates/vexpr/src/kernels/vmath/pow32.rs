//! Float32 `x ** y` as 2^(y log2 x) in f64, with the f32 accuracy it needs
//! and no more: two small tables and short polynomials instead of the
//! full-accuracy f64 log and exp.
//!
//! In: one f32 `x` and `y`, widened to f64, for the *ordinary* lanes, those
//! where [`pow_f32_needs_full`] is false (x positive and finite, y finite).
//! Out: x^y in f64 within about 2^-30 of itself, so the f32 it rounds to is
//! within an ulp of the correctly rounded result (measured against mpmath in
//! `tests.rs` and against glibc's `pow` on 400,000 pairs below). The
//! other lanes (zeros, negatives, inf, NaN) go to `explog::pow_f32`, which
//! has C99's special cases.
//!
//! How (`tests/data/vmath/fit_pow32.py` derives the constants and measures
//! their approximation errors):
//! - **log2 x.** A widened f32 is a normal f64, `x = 2^k m` with `m` in
//!   [0.698, 1.396). The top four mantissa bits of `bits(x) - OFF_BITS` pick
//!   one of 16 intervals of `m`; with that interval's `1/c` and `log2 c`,
//!   `log2 x = k + log2 c + log2(1 + z)` for `z = m/c - 1`, |z| < 0.0298,
//!   and `log2(1 + z) = z Q(z)` with six coefficients (2^-38 relative). The
//!   interval around 1 has `c = 1` exactly, so next to x = 1, where
//!   `log2 x` is tiny and |y| may be huge, `z` is exact and the error stays
//!   relative to `log2 x`.
//! - **Why that is enough.** The result is finite and nonzero in f32 only
//!   for |y log2 x| < 150, so an error e relative to `log2 x` moves the
//!   exponent by at most 150 e: about 2^-30, a hundredth of an f32 ulp.
//! - **2^t.** `t = q + j/16 + r` with integers `q` and `j` (0 <= j < 16)
//!   and |r| <= 1/32: `2^t = 2^q 2^(j/16) 2^r`, the middle factor from a
//!   16-entry table, `2^q` added to its exponent bits, and
//!   `2^r = 1 + r P(r)` with four coefficients (2^-37.5).
//!
//! The compiler does not vectorize a loop of the lane function (its table
//! reads at computed indices): at AVX2, [`avx2::pow_f32`] computes the same
//! values on four lanes with gathers (4.1 → 3.4 ns an element at N = 1M on
//! one core of a Zen 3 EPYC). At AVX-512, [`avx512::pow_f32`] computes the
//! same values with intrinsics, because there a 16-entry table fits in two
//! registers and one permute (`vpermt2pd`) replaces each gather (the
//! gathers took about 40% of the loop's time), and a few steps have shorter
//! exact forms (`vfpclasspd`, `vscalefpd`).

use super::arith::{Fma, abs, horner, round_int_mul, select, small_i64_to_f64};
use super::consts_pow32::{EXP2_P, EXP2_T, INV_C, LOG2_C, LOG2_Q, OFF_BITS};

/// Past |y log2 x| = 200 the f32 result is 0 or inf either way; clamping
/// there keeps the table index and the exponent arithmetic in range.
const T_MAX: f64 = 200.0;

/// True for the lanes [`pow_f32_ordinary`] does not cover: a base that is
/// not positive and finite, an exponent that is not finite.
#[inline(always)]
pub(super) fn pow_f32_needs_full(x: f64, y: f64) -> bool {
    // One unsigned comparison each: zeros wrap around, and the patterns of
    // negatives, inf and NaN lie at or above inf's.
    const INF_BITS: u64 = f64::INFINITY.to_bits();
    x.to_bits().wrapping_sub(1) >= INF_BITS - 1 || abs(y).to_bits() >= INF_BITS
}

/// `x = 2^k m` for positive normal `x`, with `m` in one of the 16 intervals
/// (from [`OFF_BITS`]'s mantissa on): the interval's index, `k` and `m`.
#[inline(always)]
pub(super) fn split_by_interval(x: f64) -> (usize, f64, f64) {
    let ix = x.to_bits() as i64;
    let tmp = ix.wrapping_sub(OFF_BITS as i64);
    let i = ((tmp >> 48) & 15) as usize;
    let k = small_i64_to_f64(tmp >> 52);
    const EXP_MASK: i64 = (0xfff_u64 << 52) as i64;
    let m = f64::from_bits(ix.wrapping_sub(tmp & EXP_MASK) as u64);
    (i, k, m)
}

/// log2 x for a positive normal f64 `x` (a widened f32), to about 2^-38 of
/// itself.
#[inline(always)]
fn log2_f32<M: Fma>(x: f64) -> f64 {
    let (i, k, m) = split_by_interval(x);
    let z = M::fma(m, INV_C[i], -1.0);
    M::fma(z, horner::<M, 6>(z, &LOG2_Q), k + LOG2_C[i])
}

/// 2^t for |t| <= [`T_MAX`], to about 2^-32 of itself.
#[inline(always)]
fn exp2_f32<M: Fma>(t: f64) -> f64 {
    let (kd, ki) = round_int_mul::<M>(t, 16.0);
    // Exact: kd / 16 is t rounded to a multiple of 1/16.
    let r = M::fma(kd, -1.0 / 16.0, t);
    // 2^(ki >> 4) times 2^((ki & 15) / 16), by adding to the exponent bits;
    // normal for every |t| <= T_MAX.
    let q = ((ki >> 4) as u64) << 52;
    let scale = f64::from_bits(EXP2_T[(ki & 15) as usize].wrapping_add(q));
    M::fma(scale, r * horner::<M, 4>(r, &EXP2_P), scale)
}

/// x^y for the lanes where [`pow_f32_needs_full`] is false; the f32 the
/// result rounds to is within an ulp of the correctly rounded one.
#[inline(always)]
pub(super) fn pow_f32_ordinary<M: Fma>(x: f64, y: f64) -> f64 {
    let t = y * log2_f32::<M>(x);
    // NaN cannot occur: x is positive and finite, y finite (an infinite
    // product is clamped like any large one).
    exp2_f32::<M>(select(t > T_MAX, T_MAX, select(t < -T_MAX, -T_MAX, t)))
}

/// The AVX2 build of the `POW_F32` loop: the lane function on four f64 lanes
/// (widened f32s), its tables read by gathers, which the compiler does not
/// make of the lane function's loop.
#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use super::super::arith::{HwFma, SHIFT};
    use super::super::avx2::{abs_pd, horner_pd, look_up, map2_ps_widened, split_by_interval};
    use super::super::explog;
    use super::{EXP2_P, EXP2_T, INV_C, LOG2_C, LOG2_Q, T_MAX, pow_f32_needs_full};
    use core::arch::x86_64::*;

    /// `x[i] ** y[i]` into `out[i]`, the same bits as the `POW_F32` lane
    /// loop at the other FMA level (the tests in this file check it).
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) fn pow_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
        let exp2_t = EXP2_T.map(f64::from_bits);
        map2_ps_widened(
            x,
            y,
            out,
            // 1 ** 1, an ordinary lane, pads the tail.
            1.0,
            |[x0, x1], [y0, y1]| {
                let special = _mm256_or_pd(needs_full(x0, y0), needs_full(x1, y1));
                ([pow(&exp2_t, x0, y0), pow(&exp2_t, x1, y1)], special)
            },
            |a, b| pow_f32_needs_full(a as f64, b as f64),
            |a, b| explog::pow_f32::<HwFma>(a as f64, b as f64) as f32,
        );
    }

    /// The lanes `super::pow_f32_needs_full` is true for (all ones): x
    /// zero, negative, infinite or NaN (not above 0, or not below inf), y
    /// infinite or NaN.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn needs_full(x: __m256d, y: __m256d) -> __m256d {
        let inf = _mm256_set1_pd(f64::INFINITY);
        let x_out = _mm256_or_pd(
            _mm256_cmp_pd::<_CMP_NGT_UQ>(x, _mm256_setzero_pd()),
            _mm256_cmp_pd::<_CMP_NLT_UQ>(x, inf),
        );
        _mm256_or_pd(x_out, _mm256_cmp_pd::<_CMP_NLT_UQ>(abs_pd(y), inf))
    }

    /// `super::pow_f32_ordinary` on four lanes, the same operations: the
    /// tables read by gathers, the clamp by a max and a min (t is not NaN
    /// in the lanes kept), and 2^(ki >> 4) from bits 4 to 15 of the
    /// rounding sum's pattern, which are `ki`'s (SHIFT's low 51 bits are 0).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn pow(exp2_t: &[f64; 16], x: __m256d, y: __m256d) -> __m256d {
        let fma = |a, b, c| _mm256_fmadd_pd(a, b, c);
        let splat = _mm256_set1_pd;
        // log2 x (`log2_f32`).
        let (i, k, m) = split_by_interval(x);
        let z = fma(m, look_up(&INV_C, i), splat(-1.0));
        let log2x = fma(
            z,
            horner_pd(&LOG2_Q, z),
            _mm256_add_pd(k, look_up(&LOG2_C, i)),
        );
        let t = _mm256_mul_pd(y, log2x);
        let t = _mm256_min_pd(_mm256_max_pd(t, splat(-T_MAX)), splat(T_MAX));
        // 2^t (`exp2_f32`).
        let shifted = fma(t, splat(16.0), splat(SHIFT));
        let kd = _mm256_sub_pd(shifted, splat(SHIFT));
        let r = fma(kd, splat(-1.0 / 16.0), t);
        let bits = _mm256_castpd_si256(shifted);
        let q = _mm256_slli_epi64::<52>(_mm256_srli_epi64::<4>(bits));
        let entry = _mm256_castpd_si256(look_up(exp2_t, bits));
        let scale = _mm256_castsi256_pd(_mm256_add_epi64(entry, q));
        fma(scale, _mm256_mul_pd(r, horner_pd(&EXP2_P, r)), scale)
    }
}

/// The AVX-512 build of the `POW_F32` loop (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::arith::HwFma;
    use super::super::arith::SHIFT;
    use super::super::avx512::{
        first_lanes, horner_pd, load_ps, load_ps_partial, look_up, split_by_interval, store_ps,
        store_ps_partial, table16,
    };
    use super::super::explog;
    use super::{EXP2_P, EXP2_T, INV_C, LOG2_C, LOG2_Q, T_MAX, pow_f32_needs_full};
    use core::arch::x86_64::*;

    /// Lanes per block: the vector pass writes a block, then the rare lanes
    /// [`pow_f32_needs_full`] marks are recomputed while it is in cache.
    const BLOCK: usize = 512;

    /// The tables, each as two 8-lane registers.
    struct Tables {
        inv_c: [__m512d; 2],
        log2_c: [__m512d; 2],
        exp2_t: [__m512d; 2],
    }

    /// `x[i] ** y[i]` into `out[i]`, the same bits as the `POW_F32` lane
    /// loop at the other FMA level (the test in this file checks it).
    ///
    /// Safe to call only from code compiled with these features; elsewhere
    /// the call needs `unsafe` and the CPU must have AVX-512 F, DQ, VL and
    /// FMA (the caller checks `Level::Avx512`).
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn pow_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
        let n = x.len().min(y.len()).min(out.len());
        let exp2_t = EXP2_T.map(f64::from_bits);
        let tables = Tables {
            inv_c: table16(&INV_C),
            log2_c: table16(&LOG2_C),
            exp2_t: table16(&exp2_t),
        };
        let blocks = x[..n].chunks(BLOCK).zip(y[..n].chunks(BLOCK));
        for ((xb, yb), ob) in blocks.zip(out[..n].chunks_mut(BLOCK)) {
            let (x8, x_tail) = xb.as_chunks::<8>();
            let (y8, y_tail) = yb.as_chunks::<8>();
            let (o8, o_tail) = ob.as_chunks_mut::<8>();
            let mut special: __mmask8 = 0;
            // Two vectors an iteration, as `map_ps16`: 0.86-0.89 of one
            // vector's time (N = 10k and 100k, in one process alternated).
            let (x16, x8) = x8.as_chunks::<2>();
            let (y16, y8) = y8.as_chunks::<2>();
            let (o16, o8) = o8.as_chunks_mut::<2>();
            for ((x, y), o) in x16.iter().zip(y16).zip(o16) {
                let x0 = _mm512_cvtps_pd(load_ps(&x[0]));
                let y0 = _mm512_cvtps_pd(load_ps(&y[0]));
                let x1 = _mm512_cvtps_pd(load_ps(&x[1]));
                let y1 = _mm512_cvtps_pd(load_ps(&y[1]));
                special |= needs_full(x0, y0) | needs_full(x1, y1);
                let (p0, p1) = (pow(&tables, x0, y0), pow(&tables, x1, y1));
                store_ps(&mut o[0], _mm512_cvtpd_ps(p0));
                store_ps(&mut o[1], _mm512_cvtpd_ps(p1));
            }
            for ((x, y), o) in x8.iter().zip(y8).zip(o8) {
                let (x, y) = (_mm512_cvtps_pd(load_ps(x)), _mm512_cvtps_pd(load_ps(y)));
                special |= needs_full(x, y);
                store_ps(o, _mm512_cvtpd_ps(pow(&tables, x, y)));
            }
            if !x_tail.is_empty() {
                let x = _mm512_cvtps_pd(load_ps_partial(x_tail));
                let y = _mm512_cvtps_pd(load_ps_partial(y_tail));
                special |= needs_full(x, y) & first_lanes(x_tail.len());
                store_ps_partial(o_tail, _mm512_cvtpd_ps(pow(&tables, x, y)));
            }
            if special != 0 {
                for ((o, &a), &b) in ob.iter_mut().zip(xb).zip(yb) {
                    if pow_f32_needs_full(a as f64, b as f64) {
                        *o = explog::pow_f32::<HwFma>(a as f64, b as f64) as f32;
                    }
                }
            }
        }
    }

    /// The lanes `super::pow_f32_needs_full` is true for, by class: x NaN,
    /// zero, infinite or negative (every class but positive finite and
    /// denormal, 0xdf; a widened f32 is never a float64 denormal), y NaN or
    /// infinite (0x99). Two `vfpclasspd` instead of the lane function's
    /// integer arithmetic and comparisons: 0.92-0.95 of the loop's time
    /// with the reduction below (N = 10k to 1M, in one process alternated).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn needs_full(x: __m512d, y: __m512d) -> __mmask8 {
        _mm512_fpclass_pd_mask::<0xdf>(x) | _mm512_fpclass_pd_mask::<0x99>(y)
    }

    /// `super::pow_f32_ordinary` on eight lanes, with the same values at
    /// every step and four exact shortcuts: the table lookups by permutes,
    /// `k` converted by `vcvtqq2pd` (exact, like `small_i64_to_f64`), the
    /// clamp by one `vrangepd`, and 2^t's reduction without integers: adding
    /// SHIFT / 16 rounds t to a multiple of 1/16, `kd`, whose sixteenths
    /// are the low bits of the sum's pattern (the permute's index, j), and
    /// `vscalefpd` by `kd` multiplies by 2^floor(kd) = 2^q, exact since the
    /// result is far from float64's limits.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn pow(tables: &Tables, x: __m512d, y: __m512d) -> __m512d {
        let fma = |a, b, c| _mm512_fmadd_pd(a, b, c);
        let splat = _mm512_set1_pd;
        // log2 x (`log2_f32`).
        let (i, k, m) = split_by_interval(x);
        let inv_c = look_up(&tables.inv_c, i);
        let log2_c = look_up(&tables.log2_c, i);
        let z = fma(m, inv_c, splat(-1.0));
        let log2x = fma(z, horner_pd(&LOG2_Q, z), _mm512_add_pd(k, log2_c));
        // The clamped product (`pow_f32_ordinary`): |t| at most T_MAX, with
        // t's sign (imm8 0b0010: the smaller magnitude, the first sign).
        let t = _mm512_range_pd::<0b0010>(_mm512_mul_pd(y, log2x), splat(T_MAX));
        // 2^t (`exp2_f32`): kd and r as there (its 16 t rounded to an
        // integer, scaled by 1/16), r exact.
        const SHIFT_16: f64 = SHIFT / 16.0;
        let shifted = _mm512_add_pd(t, splat(SHIFT_16));
        let kd = _mm512_sub_pd(shifted, splat(SHIFT_16));
        let r = _mm512_sub_pd(t, kd);
        let j = look_up(&tables.exp2_t, _mm512_castpd_si512(shifted));
        let res = fma(j, _mm512_mul_pd(r, horner_pd(&EXP2_P, r)), j);
        _mm512_scalef_pd(res, kd)
    }
}

#[cfg(test)]
mod tests {
    use super::super::arith::{BaseFma, HwFma};
    use super::super::explog::pow_f32;
    use super::super::{Level, POW_F32};
    use super::{pow_f32_needs_full, pow_f32_ordinary};

    /// Distance in f32 ulps, counting across zero.
    fn ulps(a: f32, b: f32) -> u32 {
        let key = |v: f32| {
            let b = v.to_bits() as i64;
            if b < 0x8000_0000 { b } else { 0x8000_0000 - b }
        };
        (key(a) - key(b)).unsigned_abs() as u32
    }

    /// Inputs for the tests below: bases over the whole positive f32 range
    /// (subnormals too) and right next to 1, exponents small, large and
    /// huge (results reaching 0, subnormals and inf), and the special values
    /// mixed among ordinary lanes in the same blocks.
    fn inputs() -> (Vec<f32>, Vec<f32>) {
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            -2.5,
            f32::MIN_POSITIVE / 8.0,
            f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ];
        for i in 0..400_000 {
            let r = next();
            let xv = match i % 4 {
                // Any positive finite f32 (bit patterns 1..0x7f7fffff).
                0 | 1 => f32::from_bits((r % 0x7f7f_ffff) as u32 + 1),
                // Within 2^16 ulps of 1, where log2 x is tiny.
                2 => f32::from_bits((0x3f80_0000 + (r % 0x2_0000) as u32).wrapping_sub(0x1_0000)),
                // Near 1, [0.5, 2): every table interval.
                _ => f32::from_bits(0x3f00_0000 + (r % 0x100_0000) as u32),
            };
            let yv = match (i / 4) % 4 {
                0 => ((r >> 32) % 2001) as f32 * 0.01 - 10.0,
                1 => ((r >> 32) % 4001) as f32 * 0.5 - 1000.0,
                // Large enough that x near 1 still over- and underflows.
                2 => ((r >> 32) as u32 as f32 / u32::MAX as f32 - 0.5) * 1e9,
                _ => f32::from_bits((r >> 32) as u32 & 0x3fff_ffff) - 1.0,
            };
            x.push(xv);
            y.push(yv);
            if i % 97 == 0 {
                x.push(specials[i / 97 % specials.len()]);
                y.push(yv);
                x.push(xv);
                y.push(specials[(i / 97 + 3) % specials.len()]);
            }
        }
        (x, y)
    }

    /// At every level, the ordinary lanes are within an ulp of glibc's f64
    /// `pow` rounded to f32 (itself correctly rounded but for rare double
    /// roundings), and most of them equal it; the other lanes get the bits of
    /// `pow_f32`. The FMA levels give the bits of the lane function (their
    /// kernels do its operations); the baseline level, without fused
    /// multiply-adds, may differ from them by that same ulp.
    #[test]
    fn pow_f32_is_within_an_ulp_of_glibc_at_every_level() {
        let (x, y) = inputs();
        let mut fused: Option<Vec<f32>> = None;
        for level in Level::supported() {
            let mut out = vec![0.0f32; x.len()];
            POW_F32.run(level, &x, &y, &mut out);
            let mut off = 0usize;
            for i in 0..x.len() {
                let (a, b) = (x[i] as f64, y[i] as f64);
                if pow_f32_needs_full(a, b) {
                    let want = if level == Level::Baseline {
                        pow_f32::<BaseFma>(a, b)
                    } else {
                        pow_f32::<HwFma>(a, b)
                    } as f32;
                    assert!(
                        out[i].to_bits() == want.to_bits() || (out[i].is_nan() && want.is_nan()),
                        "{level:?}: pow({a}, {b}) = {} but pow_f32 gives {want}",
                        out[i]
                    );
                    continue;
                }
                // The FMA levels' vector kernels give the lane function's
                // bits.
                if level != Level::Baseline {
                    let lane = pow_f32_ordinary::<HwFma>(a, b) as f32;
                    assert_eq!(
                        out[i].to_bits(),
                        lane.to_bits(),
                        "{level:?}: pow({a}, {b}) = {} but the lane function gives {lane}",
                        out[i]
                    );
                }
                let want = a.powf(b) as f32;
                let d = ulps(out[i], want);
                assert!(
                    d <= 1,
                    "{level:?}: pow({a}, {b}) = {} but glibc gives {want}",
                    out[i]
                );
                off += d as usize;
            }
            // Every length, so every tail of a block: each lane's bits do not
            // depend on its neighbours or its place.
            for len in 0..=40 {
                for start in [0, 3, 97 * 5] {
                    let range = start..start + len;
                    let mut part = vec![0.0f32; len];
                    POW_F32.run(level, &x[range.clone()], &y[range.clone()], &mut part);
                    let whole = &out[range];
                    let same = part
                        .iter()
                        .zip(whole)
                        .all(|(p, w)| p.to_bits() == w.to_bits());
                    assert!(
                        same,
                        "{level:?}: {len} lanes from {start} differ from the long run"
                    );
                }
            }
            // Correctly rounded almost everywhere: a systematic error of
            // half an ulp would put a quarter of the lanes here.
            assert!(
                off * 1000 < x.len(),
                "{level:?}: {off} of {} lanes off by an ulp",
                x.len()
            );
            if level != Level::Baseline {
                match &fused {
                    None => fused = Some(out),
                    Some(f) => {
                        let same = f.iter().zip(&out).all(|(p, q)| p.to_bits() == q.to_bits());
                        assert!(same, "{level:?} differs from the other FMA level");
                    }
                }
            }
        }
    }

    /// Next to x = 1 with huge exponents the result rests on log2 x being
    /// right relative to itself: (1 + 2^-23)^(2^30) = e^(2^7 ln 2 ...) must
    /// keep the error of a plain f64 log there (about 2^-53 absolute, which
    /// times 2^30 would be 2^-23) out of the result.
    #[test]
    fn pow_f32_keeps_log2_relative_next_to_one() {
        for (x, y) in [
            (1.0 + f32::EPSILON, 2.0f32.powi(26)),
            (1.0 - f32::EPSILON / 2.0, -(2.0f32.powi(27))),
            (1.0 + 3.0 * f32::EPSILON, 1.5e7),
            (1.0 - 5.0 * f32::EPSILON / 2.0, 3.3e6),
        ] {
            let (a, b) = (x as f64, y as f64);
            let want = a.powf(b) as f32;
            for got in [
                pow_f32_ordinary::<HwFma>(a, b) as f32,
                pow_f32_ordinary::<BaseFma>(a, b) as f32,
            ] {
                assert!(
                    ulps(got, want) <= 1,
                    "pow({x}, {y}) = {got} but glibc gives {want}"
                );
            }
        }
    }
}
