//! Native f32 lane functions for the circular functions: sin, cos, tan
//! (for |x| <= 2^17) and atan2 with atan, asin and acos built on it.
//!
//! In: one or two `f32`; out: the f32 result within 4 ulps of the correctly
//! rounded one. sin, cos and tan take only |x| <= `TRIG32_FAST_MAX` (the
//! slice loops in `mod.rs` send larger |x|, inf and NaN to the widened f64
//! lane functions of `trig.rs`, whose reduction is exact); `atan2_ordinary`
//! takes only operands of magnitude in [2^-60, 2^60] (the others, with their
//! IEEE special cases, go to the widened f64 `atan2`). atan, asin and acos
//! take every input.
//!
//! The design follows `trig.rs` with f32 arithmetic, 16 lanes per 512-bit
//! register: sin and cos reduce by pi and evaluate one odd polynomial, tan
//! reduces by pi/2 and divides for the odd quadrants, atan2 reduces to
//! |u| <= 7/16 with one division, asin and acos are one polynomial in
//! |x| or in sqrt((1 - |x|) / 2). The reduction x - q pi/2 takes three f32
//! parts of pi/2 (72 bits) in fused multiply-adds; each step rounds only
//! relative to its own result, which is what keeps sin near its zeros and
//! tan near its poles accurate up to 2^17.

use super::arith::Fma;
use super::arith32::{abs32, copysign32, flip_sign32, horner32, round_int_mul32, sel};
use super::consts32::{
    ASIN32_P, ATAN_HALF_32_HI, ATAN_HALF_32_LO, ATAN32_A, INV_PI_32, PI_32_HI, PI_32_LO, PIO2_32_1,
    PIO2_32_2, PIO2_32_3, PIO2_32_HI, PIO2_32_LO, PIO4_32_HI, PIO4_32_LO, SIN32_S, TAN32_T,
    TWO_OVER_PI_32,
};
use super::trig::{self, Circular};

/// Largest |x| the f32 vector reduction takes: up to here the rounded
/// quotients x/pi and 2x/pi are off by less than 0.003, which the
/// polynomials' ranges (pi/2 + 0.01, pi/4 + 0.01) absorb.
pub(super) const TRIG32_FAST_MAX: f32 = 131072.0;

/// Below this, sin x and tan x round to x.
pub(super) const TINY32: f32 = 1.0 / 4096.0;

/// True for lanes the f32 reduction does not take: |x| > 2^17, inf, NaN.
#[inline(always)]
pub(super) fn trig_needs_full(x: f32) -> bool {
    abs32(x).to_bits() > TRIG32_FAST_MAX.to_bits()
}

/// sin, cos or tan of any f32 through the f64 lane functions (exact
/// reduction at every size), for the lanes [`trig_needs_full`] picks.
pub(super) fn circular_widened<M: Fma>(f: Circular, x: f32) -> f32 {
    let x = x as f64;
    let r = if trig::trig_needs_large(x) {
        trig::circular_large::<M>(f, x)
    } else {
        trig::circular_small::<M>(f, x)
    };
    r as f32
}

/// x - q pi/2 for an integer-valued |q| < 2^18.
#[inline(always)]
fn sub_q_pio2_32<M: Fma>(x: f32, q: f32) -> f32 {
    // Full 24-bit parts: the products must be exact, hence fma32.
    let r = M::fma32(-q, PIO2_32_1, x);
    let r = M::fma32(-q, PIO2_32_2, r);
    M::fma32(-q, PIO2_32_3, r)
}

/// sin r for |r| <= pi/2 + 0.01.
#[inline(always)]
fn sin_poly<M: Fma>(r: f32) -> f32 {
    let z = r * r;
    M::madd32(z * r, horner32::<M, 6>(z, &SIN32_S), r)
}

/// sin x for |x| <= 2^17: x = k pi + r, sin x = (-1)^k sin r.
#[inline(always)]
pub(super) fn sin_small<M: Fma>(x: f32) -> f32 {
    let (kd, k) = round_int_mul32::<M>(x, INV_PI_32);
    let s = flip_sign32(sin_poly::<M>(sub_q_pio2_32::<M>(x, 2.0 * kd)), k & 1 != 0);
    // The select keeps the sign of -0.
    sel(abs32(x) < TINY32, x, s)
}

/// cos x for |x| <= 2^17: x = (2k + 1) pi/2 + r, cos x = (-1)^(k+1) sin r.
#[inline(always)]
pub(super) fn cos_small<M: Fma>(x: f32) -> f32 {
    let (kd, k) = round_int_mul32::<M>(M::madd32(x, INV_PI_32, -0.5), 1.0);
    let r = sub_q_pio2_32::<M>(x, M::madd32(2.0, kd, 1.0));
    flip_sign32(sin_poly::<M>(r), k & 1 == 0)
}

/// tan x for |x| <= 2^17: x = q pi/2 + r, tan x = tan r for even q and
/// -1 / tan r for odd q, as one division for every lane.
#[inline(always)]
pub(super) fn tan_small<M: Fma>(x: f32) -> f32 {
    let (qd, q) = round_int_mul32::<M>(x, TWO_OVER_PI_32);
    let r = sub_q_pio2_32::<M>(x, qd);
    let z = r * r;
    let t = M::madd32(z * r, horner32::<M, 7>(z, &TAN32_T), r);
    let odd = q & 1 != 0;
    let res = sel(odd, -1.0, t) / sel(odd, t, 1.0);
    sel(abs32(x) < TINY32, x, res)
}

/// sin, cos or tan of x for |x| <= 2^17.
#[inline(always)]
pub(super) fn circular_small<M: Fma>(f: Circular, x: f32) -> f32 {
    match f {
        Circular::Sin => sin_small::<M>(x),
        Circular::Cos => cos_small::<M>(x),
        Circular::Tan => tan_small::<M>(x),
    }
}

/// The bits of 2^-60, the smallest magnitude [`atan2_ordinary`] takes.
pub(super) const ATAN2_LO: u32 = 0x1d80_0000;
/// From there up to 2^60, in bit patterns.
pub(super) const ATAN2_SPAN: u32 = 0x5d80_0000 - ATAN2_LO;

/// Operands [`atan2_ordinary`] does not take: zero, subnormal, inf, NaN or
/// outside [2^-60, 2^60] in magnitude (where den + num could overflow or u
/// underflow).
#[inline(always)]
pub(super) fn atan2_needs_full(y: f32, x: f32) -> bool {
    (abs32(y).to_bits().wrapping_sub(ATAN2_LO) > ATAN2_SPAN)
        | (abs32(x).to_bits().wrapping_sub(ATAN2_LO) > ATAN2_SPAN)
}

/// atan2(y, x) as in `trig::atan2`: with num = min(|x|,|y|), den =
/// max(|x|,|y|), atan(num/den) = atan c + atan u, u = (num - c den) /
/// (den + c num) for c = 0, 1/2 or 1, so |u| <= 7/16; the numerators are
/// exact (Sterbenz) and there is one division. Takes operands in
/// [2^-60, 2^60], and also the (y, 1) of atan for every y: there inf gives
/// pi/2 through u = 1/inf, and NaN stays NaN, without special cases.
#[inline(always)]
pub(super) fn atan2_ordinary<M: Fma>(y: f32, x: f32) -> f32 {
    let ax = abs32(x);
    let ay = abs32(y);
    let swap = ay > ax;
    let num = sel(swap, ax, ay);
    let den = sel(swap, ay, ax);
    let r2 = num > 0.4375 * den;
    let r3 = num > 0.6875 * den;
    let n = sel(r3, num - den, sel(r2, M::madd32(2.0, num, -den), num));
    let d = sel(r3, den + num, sel(r2, M::madd32(2.0, den, num), den));
    let u = n / d;
    let base_hi = sel(r3, PIO4_32_HI, sel(r2, ATAN_HALF_32_HI, 0.0));
    let base_lo = sel(r3, PIO4_32_LO, sel(r2, ATAN_HALF_32_LO, 0.0));
    let z = u * u;
    let p = M::madd32(z * u, horner32::<M, 6>(z, &ATAN32_A), u);
    let a = base_hi + (base_lo + p);
    let a = sel(swap, PIO2_32_HI - (a - PIO2_32_LO), a);
    // The sign bit, not x < 0, so that acos(-0) = pi/2 and atan2(y, -x) works.
    let a = sel(x.is_sign_negative(), PI_32_HI - (a - PI_32_LO), a);
    copysign32(a, y)
}

/// atan x = atan2(x, 1), for every x (inf gives pi/2 through u = 1/inf).
#[inline(always)]
pub(super) fn atan<M: Fma>(x: f32) -> f32 {
    atan2_ordinary::<M>(x, 1.0)
}

/// asin of |x| as the pair of halves it is built from: for |x| <= 1/2,
/// p = asin|x| (`small`); above, p = asin(t) with t = sqrt((1 - |x|) / 2),
/// and asin|x| = pi/2 - 2p (1 - |x| is exact there, so only the square
/// root rounds). One polynomial and a square root, no division; NaN for
/// |x| > 1 (through the square root) and for NaN.
#[inline(always)]
fn asin_halves<M: Fma>(x: f32) -> (f32, bool) {
    let a = abs32(x);
    let small = a <= 0.5;
    let z = sel(small, a * a, 0.5 * (1.0 - a));
    let t = sel(small, a, z.sqrt());
    (M::madd32(t * z, horner32::<M, 6>(z, &ASIN32_P), t), small)
}

/// asin x, for every x.
#[inline(always)]
pub(super) fn asin<M: Fma>(x: f32) -> f32 {
    let (p, small) = asin_halves::<M>(x);
    // pi/2 - 2p with pi/2 in two parts: the result is at least 0.52.
    copysign32(sel(small, p, PIO2_32_HI - (2.0 * p - PIO2_32_LO)), x)
}

/// acos x, for every x: pi/2 - asin x for |x| <= 1/2, 2p for x > 1/2 and
/// pi - 2p for x < -1/2 (p as in `asin_halves`).
#[inline(always)]
pub(super) fn acos<M: Fma>(x: f32) -> f32 {
    let (p, small) = asin_halves::<M>(x);
    let mid = PIO2_32_HI - (copysign32(p, x) - PIO2_32_LO);
    let far = sel(x > 0.0, 2.0 * p, PI_32_HI - (2.0 * p - PI_32_LO));
    sel(small, mid, far)
}
