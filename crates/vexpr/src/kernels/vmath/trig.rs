//! Lane functions for the circular functions: sin, cos, tan, and atan2
//! with atan, asin and acos built on it.
//!
//! sin, cos and tan have a vector path for |x| <= 2^20 and a scalar one
//! (`*_large`, exact Payne-Hanek reduction) that the caller runs for the
//! rare lanes beyond, including inf and NaN. The large path cannot fall back
//! on glibc: its cos(5.319372648326541e255) is 8 ulps off.

use super::arith::{
    Fma, abs, copysign, fast_two_sum, flip_sign, horner, round_int_mul, select, two_sum,
};
use super::consts::{
    ASIN_P, ATAN_A, ATAN_HALF_HI, ATAN_HALF_LO, COS_C, INV_PI, PI_HI, PI_LO, PIO2_1, PIO2_2,
    PIO2_3, PIO2_4, PIO2_HI, PIO2_LO, PIO4_HI, PIO4_LO, SIN_S, SIN_WIDE, TWO_OVER_PI,
    TWO_OVER_PI_BITS,
};

/// Largest |x| the vector reduction handles: k = round(x 2/pi) < 2^20, so
/// every k * PIO2_i (33-bit constants) is exact.
pub(super) const TRIG_FAST_MAX: f64 = 1048576.0;

/// Below this, sin x and tan x round to x (and sin(-0) must be -0).
pub(super) const TINY: f64 = 7.450580596923828e-9;

/// True for lanes the vector path cannot reduce: huge, infinite or NaN.
#[inline(always)]
pub(super) fn trig_needs_large(x: f64) -> bool {
    // |x| > TRIG_FAST_MAX or NaN, as one unsigned comparison of the
    // magnitude's bits (NaN patterns lie above every finite one).
    abs(x).to_bits() > TRIG_FAST_MAX.to_bits()
}

/// x = q pi/2 + (hi + lo), |hi| <= pi/4, with hi + lo accurate to about
/// 2^-100 relative even where x is close to a multiple of pi/2 (the closest
/// doubles come within 2^-61 of one).
#[inline(always)]
fn reduce_pio2<M: Fma>(x: f64) -> (f64, f64, i64) {
    let (kd, q) = round_int_mul::<M>(x, TWO_OVER_PI);
    // Exact: k * PIO2_1 is exact and within a factor 2 of x (Sterbenz).
    let a = M::fma(-kd, PIO2_1, x);
    // The next two products are exact too; TwoSum keeps the rounding errors
    // of the subtractions, which the cancellation near multiples of pi/2
    // would otherwise expose.
    let (s1, e1) = two_sum(a, -(kd * PIO2_2));
    let (s2, e2) = two_sum(s1, -(kd * PIO2_3));
    let lo = (e1 + e2) - kd * PIO2_4;
    let (hi, lo) = fast_two_sum(s2, lo);
    (hi, lo, q)
}

/// sin(hi + lo) ~ hi + hi^3 S(hi^2) + lo (1 - hi^2 / 2).
#[inline(always)]
fn sin_kernel<M: Fma>(hi: f64, lo: f64) -> f64 {
    let z = hi * hi;
    hi + M::fma(z * hi, horner::<M, 7>(z, &SIN_S), M::fma(-0.5 * z, lo, lo))
}

/// cos(hi + lo) ~ 1 - hi^2 / 2 + hi^4 C(hi^2) - hi lo, summed so that the
/// rounding error of 1 - hi^2/2 is recovered (as fdlibm's __kernel_cos).
#[inline(always)]
fn cos_kernel<M: Fma>(hi: f64, lo: f64) -> f64 {
    let z = hi * hi;
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + M::fma(z * z, horner::<M, 7>(z, &COS_C), -(hi * lo)))
}

/// Payne-Hanek reduction for finite |x| > 2^20: x = q pi/2 + (hi + lo)
/// with |hi + lo| <= pi/4, computed from the bits of 2/pi in exact integer
/// arithmetic. Scalar and slow (~100 ns), for rare lanes only.
pub(super) fn reduce_pio2_large(x: f64) -> (f64, f64, i64) {
    // |x| = m 2^e with an integer m < 2^53; e >= -32 here.
    let bits = abs(x).to_bits();
    let m = (bits & ((1 << 52) - 1)) | (1 << 52);
    let e = ((bits >> 52) & 0x7ff) as i64 - 1075;
    // x 2/pi = sum over i >= 1 of b_i m 2^(e - i), b_i the bits of 2/pi.
    // Bits with i < e - 1 add multiples of 4 (whole turns): skip them. A
    // 256-bit window from bit e - 1 on leaves an error below 2^-200.
    // `word(j)` is word j of the table with one zero word in front, so that
    // windows may start up to 63 bits before the binary point.
    let word = |j: usize| {
        if j == 0 {
            0
        } else {
            TWO_OVER_PI_BITS.get(j - 1).copied().unwrap_or(0)
        }
    };
    let start = (e - 1 + 63) as usize; // bit index into the padded table
    let (w, sh) = (start / 64, (start % 64) as u32);
    let window: [u64; 4] = std::array::from_fn(|k| {
        let a = word(w + k);
        let b = word(w + k + 1);
        if sh == 0 {
            a
        } else {
            (a << sh) | (b >> (64 - sh))
        }
    });
    // P = m * window, 320 bits in five words, most significant first.
    let mut p = [0u64; 5];
    let mut carry = 0u128;
    for k in (0..4).rev() {
        let t = m as u128 * window[k] as u128 + carry;
        p[k + 1] = t as u64;
        carry = t >> 64;
    }
    p[0] = carry as u64;
    // x 2/pi = P / 2^254 (mod 4): bits 254-255 are the quadrant, the 128
    // bits below them the fraction.
    let mut q = (p[1] >> 62) as i64;
    let frac =
        ((p[1] as u128 & ((1 << 62) - 1)) << 66) | ((p[2] as u128) << 2) | (p[3] >> 62) as u128;
    // Fraction in [-1/2, 1/2) as a signed fixed-point number (scale 2^-128).
    let f = frac as i128;
    q += (f < 0) as i64;
    let scale = 2f64.powi(-128);
    let hi = f as f64;
    let lo = (f - hi as i128) as f64;
    let (hi, lo) = (hi * scale, lo * scale);
    // (hi + lo) pi/2 in double-double.
    let r = hi * PIO2_HI;
    let err = hi.mul_add(PIO2_HI, -r) + (hi * PIO2_LO + lo * PIO2_HI);
    let (rh, rl) = fast_two_sum(r, err);
    // The bits above are those of |x|; x < 0 mirrors the reduction.
    if x < 0.0 {
        (-rh, -rl, q.wrapping_neg())
    } else {
        (rh, rl, q)
    }
}

/// The three functions share the reduction and both kernels and differ in
/// how they combine sin r and cos r for the quadrant q.
#[derive(Clone, Copy)]
pub(super) enum Circular {
    Sin,
    Cos,
    Tan,
}

#[inline(always)]
fn circular<M: Fma>(f: Circular, hi: f64, lo: f64, q: i64) -> f64 {
    let s = sin_kernel::<M>(hi, lo);
    let c = cos_kernel::<M>(hi, lo);
    let odd = q & 1 != 0;
    match f {
        Circular::Sin => flip_sign(select(odd, c, s), q & 2 != 0),
        Circular::Cos => flip_sign(select(odd, s, c), q.wrapping_add(1) & 2 != 0),
        // One quotient of the selected operands: selecting between two
        // quotients divided twice a lane (the divider is the slowest unit).
        Circular::Tan => select(odd, -c, s) / select(odd, s, c),
    }
}

/// x - q pi/2 for an integer-valued q with |q| < 2^20: q * PIO2_1..3 are
/// exact, the first step is exact (Sterbenz), and each later one rounds only
/// relative to its own result, so the reduction error stays within about
/// 2 ulps of the result even next to a multiple of pi/2.
#[inline(always)]
fn sub_q_pio2<M: Fma>(x: f64, q: f64) -> f64 {
    let r = M::fma(-q, PIO2_1, x);
    let r = M::fma(-q, PIO2_2, r);
    let r = M::fma(-q, PIO2_3, r);
    M::fma(-q, PIO2_4, r)
}

/// sin(r) for |r| <= pi/2 + 1e-3: one odd polynomial.
#[inline(always)]
fn sin_wide<M: Fma>(r: f64) -> f64 {
    let z = r * r;
    M::fma(z * r, horner::<M, 8>(z, &SIN_WIDE), r)
}

/// sin x for |x| <= TRIG_FAST_MAX, within 4 ulps: x = k pi + r with
/// |r| <= pi/2, sin x = (-1)^k sin r. One polynomial and no quadrant select
/// make it about twice as fast as the pi/2 reduction `tan` needs.
#[inline(always)]
pub(super) fn sin_small<M: Fma>(x: f64) -> f64 {
    let (kd, k) = round_int_mul::<M>(x, INV_PI);
    let s = flip_sign(sin_wide::<M>(sub_q_pio2::<M>(x, 2.0 * kd)), k & 1 != 0);
    // Tiny x rounds to x; the select keeps the sign of -0, which the
    // polynomial's +0 correction would lose.
    select(abs(x) < TINY, x, s)
}

/// cos x for |x| <= TRIG_FAST_MAX, within 4 ulps: x = (2k + 1) pi/2 + r with
/// |r| <= pi/2 (+ the rounding of k), cos x = (-1)^(k+1) sin r.
#[inline(always)]
pub(super) fn cos_small<M: Fma>(x: f64) -> f64 {
    let (kd, k) = round_int_mul::<M>(M::fma(x, INV_PI, -0.5), 1.0);
    let r = sub_q_pio2::<M>(x, M::fma(2.0, kd, 1.0));
    flip_sign(sin_wide::<M>(r), k & 1 == 0)
}

/// sin, cos or tan of x for |x| <= TRIG_FAST_MAX.
#[inline(always)]
pub(super) fn circular_small<M: Fma>(f: Circular, x: f64) -> f64 {
    match f {
        Circular::Sin => return sin_small::<M>(x),
        Circular::Cos => return cos_small::<M>(x),
        Circular::Tan => {}
    }
    let (hi, lo, q) = reduce_pio2::<M>(x);
    let r = circular::<M>(f, hi, lo, q);
    // sin and tan of tiny x round to x, and must keep the sign of -0.
    select(abs(x) < TINY && !matches!(f, Circular::Cos), x, r)
}

/// sin, cos or tan of x for |x| > TRIG_FAST_MAX, inf or NaN.
pub(super) fn circular_large<M: Fma>(f: Circular, x: f64) -> f64 {
    if !x.is_finite() {
        // NaN stays itself; inf gives NaN, as IEEE 754 wants
        return if x.is_nan() { x } else { f64::NAN };
    }
    let (hi, lo, q) = reduce_pio2_large(x);
    circular::<M>(f, hi, lo, q)
}

/// atan2(y, x) with the IEEE special cases.
///
/// With num = min(|x|,|y|) and den = max(|x|,|y|), t = num / den is in
/// [0, 1]; three intervals reduce it to |u| <= 7/16 around c = 0, 1/2 and 1
/// by atan t = atan c + atan u, u = (t - c) / (1 + c t). u is computed from
/// num and den with one division, (num - c den) / (den + c num), not from a
/// rounded t: that saves the second division (16 cycles per 8 lanes, the
/// largest cost here) and its rounding. The interval tests compare num with
/// exact multiples of den, and the numerators are exact (Sterbenz).
#[inline(always)]
pub(super) fn atan2<M: Fma>(y: f64, x: f64) -> f64 {
    atan2_with::<M, true>(y, x)
}

/// Inputs [`atan2_ordinary`] does not cover: an operand that is zero,
/// subnormal, infinite, NaN or outside [2^-500, 2^500] in magnitude (one
/// unsigned comparison of bit patterns per operand).
#[inline(always)]
pub(super) fn atan2_needs_full(y: f64, x: f64) -> bool {
    const LO: u64 = ATAN2_ORDINARY_LO;
    const SPAN: u64 = ATAN2_ORDINARY_SPAN;
    (abs(y).to_bits().wrapping_sub(LO) > SPAN) | (abs(x).to_bits().wrapping_sub(LO) > SPAN)
}

/// The bits of 2^-500, the smallest magnitude [`atan2_ordinary`] covers.
pub(super) const ATAN2_ORDINARY_LO: u64 = 0x20b0_0000_0000_0000;
/// From there up to 2^500, in bit patterns.
pub(super) const ATAN2_ORDINARY_SPAN: u64 = 0x5f30_0000_0000_0000 - ATAN2_ORDINARY_LO;

/// [`atan2`] for operands of magnitude in [2^-500, 2^500], where none of its
/// special cases can arise (no zeros, infinities or NaNs, no overflow of
/// den + num, no underflow of u): the same bits with fewer operations.
#[inline(always)]
pub(super) fn atan2_ordinary<M: Fma>(y: f64, x: f64) -> f64 {
    atan2_with::<M, false>(y, x)
}

/// The body of [`atan2`]; `SPECIALS` = false leaves out the selects that only
/// zeros, infinities, NaNs and huge operands need.
#[inline(always)]
fn atan2_with<M: Fma, const SPECIALS: bool>(y: f64, x: f64) -> f64 {
    let ax = abs(x);
    let ay = abs(y);
    let swap = ay > ax;
    let num = select(swap, ax, ay);
    let den = select(swap, ay, ax);
    // Near the top of the range den + num could overflow: scale both down
    // (exactly; what num loses to underflow then no longer shows in u).
    let (num, den) = if SPECIALS {
        let big = den > 1e300;
        (
            select(big, num * 0.0625, num),
            select(big, den * 0.0625, den),
        )
    } else {
        (num, den)
    };
    let r2 = num > 0.4375 * den;
    let r3 = num > 0.6875 * den;
    let n = select(r3, num - den, select(r2, M::fma(2.0, num, -den), num));
    let d = select(r3, den + num, select(r2, M::fma(2.0, den, num), den));
    let u = n / d;
    // 0/0 (both zero) and inf/inf (both infinite) stand for angles 0 and
    // pi/4 of the quadrant; a finite num over an infinite den is angle 0.
    // NaN inputs keep u NaN.
    let (u, r3) = if SPECIALS {
        let both_inf = num == f64::INFINITY && den == f64::INFINITY;
        let zero_angle =
            (num == 0.0 && den == 0.0) || (den == f64::INFINITY && num < f64::INFINITY);
        let u = select(zero_angle, 0.0, u);
        (select(both_inf, 0.0, u), r3 || both_inf)
    } else {
        (u, r3)
    };
    let base_hi = select(r3, PIO4_HI, select(r2, ATAN_HALF_HI, 0.0));
    let base_lo = select(r3, PIO4_LO, select(r2, ATAN_HALF_LO, 0.0));
    let z = u * u;
    let p = M::fma(z * u, horner::<M, 12>(z, &ATAN_A), u);
    let a = base_hi + (base_lo + p);
    let a = select(swap, PIO2_HI - (a - PIO2_LO), a);
    // The sign bit, not x < 0, so that atan2(±0, -0) = ±pi.
    let a = select(x.is_sign_negative(), PI_HI - (a - PI_LO), a);
    copysign(a, y)
}

/// atan x = atan2(x, 1).
#[inline(always)]
pub(super) fn atan<M: Fma>(x: f64) -> f64 {
    atan2::<M>(x, 1.0)
}

/// asin s for |s| <= 0.5: s + s^3 ASIN_P(s^2), a near-minimax fit to
/// 0.05 * 2^-53 relative (`fit_poly.py`).
#[inline(always)]
fn asin_small<M: Fma>(s: f64) -> f64 {
    let z = s * s;
    M::fma(s * z, horner::<M, 13>(z, &ASIN_P), s)
}

/// The argument of the one `asin_small` that asin and acos take: `x` for
/// |x| <= 0.5, else s = sqrt((1 - |x|) / 2), with asin |x| = pi/2 - 2 asin s
/// and acos |x| = 2 asin s (1 - |x| and the halving are exact). No
/// division: one square root and one polynomial, where the atan2 forms
/// took two divisions.
#[inline(always)]
fn reduced(x: f64, big: bool) -> f64 {
    select(big, (0.5 * (1.0 - abs(x))).sqrt(), x)
}

/// asin x; NaN for |x| > 1 (the square root's) and for NaN.
#[inline(always)]
pub(super) fn asin<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    let big = a > 0.5;
    let p = asin_small::<M>(reduced(a, big));
    // pi/2 - 2p with pi/2 in two parts: the result is at least pi/6.
    let r = select(big, PIO2_HI - (2.0 * p - PIO2_LO), p);
    copysign(r, x)
}

/// acos x; NaN for |x| > 1 and for NaN.
#[inline(always)]
pub(super) fn acos<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    let big = a > 0.5;
    let p = asin_small::<M>(reduced(x, big));
    // |x| <= 0.5: pi/2 - asin x (at least pi/3); x > 0.5: 2 asin s;
    // x < -0.5: pi - 2 asin s (at least 2pi/3).
    let small = PIO2_HI - (p - PIO2_LO);
    let far = select(x < 0.0, PI_HI - (2.0 * p - PI_LO), 2.0 * p);
    let r = select(big, far, small);
    // NaN in, NaN out (the comparisons above would pick a branch).
    select(x.is_nan(), x, r)
}

/// Float64 `atan` at AVX-512: [`atan`]'s reduction and polynomial with the
/// quotient from `vrcp14pd` instead of `vdivpd`.
///
/// In: a slice of f64. Out: atan of each element; |x| above 2^500, inf and
/// NaN go to the lane function (per block, as in `map1_fixup!`).
///
/// Why: a 512-bit `vdivpd` holds the divider for about 16 cycles, as long as
/// 32 fused multiply-adds, and the lane function divides once a lane.
/// Here the quotient u = n / d (1 <= d <= 3 * 2^500) is `vrcp14pd`'s
/// estimate r0 (2^-14), one Newton step r1 = r0 + r0 (1 - d r0) (2^-28),
/// q = n r1 and one correction by the exact residual,
/// u = q + r1 (n - q d): about 2^-56 before the last rounding, a few
/// hundredths of an ulp past the correctly rounded quotient.
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::arith::HwFma;
    use super::super::avx512::{copysign_pd, horner_pd, map_pd};
    use super::super::consts::{
        ATAN_A, ATAN_HALF_HI, ATAN_HALF_LO, PIO2_HI, PIO2_LO, PIO4_HI, PIO4_LO,
    };
    use core::arch::x86_64::*;

    /// `atan(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn atan(x: &[f64], out: &mut [f64]) {
        map_pd(x, out, |x| atan_lanes(x), super::atan::<HwFma>)
    }

    /// atan on eight lanes, and the lanes with |x| > 2^500 or NaN.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn atan_lanes(x: __m512d) -> (__m512d, __mmask8) {
        let splat = _mm512_set1_pd;
        let one = splat(1.0);
        let a = _mm512_abs_pd(x);
        let special = _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(a, splat(2f64.powi(500)));
        // atan2(a, 1): num / den <= 1, and pi/2 - that above 1.
        let swap = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, one);
        let num = _mm512_min_pd(a, one);
        let den = _mm512_max_pd(a, one);
        // The reduction of `atan2_with`: u = n / d in [-0.18, 7/16] with
        // base angle 0, atan(1/2) or pi/4.
        let r2 = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(num, _mm512_mul_pd(splat(0.4375), den));
        let r3 = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(num, _mm512_mul_pd(splat(0.6875), den));
        let n = _mm512_mask_blend_pd(r2, num, _mm512_fmsub_pd(splat(2.0), num, den));
        let n = _mm512_mask_blend_pd(r3, n, _mm512_sub_pd(num, den));
        let d = _mm512_mask_blend_pd(r2, den, _mm512_fmadd_pd(splat(2.0), den, num));
        let d = _mm512_mask_blend_pd(r3, d, _mm512_add_pd(den, num));
        let r = _mm512_rcp14_pd(d);
        let r = _mm512_fmadd_pd(r, _mm512_fnmadd_pd(d, r, one), r);
        let q = _mm512_mul_pd(n, r);
        let u = _mm512_fmadd_pd(_mm512_fnmadd_pd(q, d, n), r, q);
        let zero = _mm512_setzero_pd();
        let base_hi = _mm512_mask_blend_pd(r2, zero, splat(ATAN_HALF_HI));
        let base_hi = _mm512_mask_blend_pd(r3, base_hi, splat(PIO4_HI));
        let base_lo = _mm512_mask_blend_pd(r2, zero, splat(ATAN_HALF_LO));
        let base_lo = _mm512_mask_blend_pd(r3, base_lo, splat(PIO4_LO));
        let z = _mm512_mul_pd(u, u);
        let p = _mm512_fmadd_pd(_mm512_mul_pd(z, u), horner_pd(&ATAN_A, z), u);
        let angle = _mm512_add_pd(base_hi, _mm512_add_pd(base_lo, p));
        let flipped = _mm512_sub_pd(splat(PIO2_HI), _mm512_sub_pd(angle, splat(PIO2_LO)));
        let angle = _mm512_mask_blend_pd(swap, angle, flipped);
        (copysign_pd(angle, x), special)
    }
}
