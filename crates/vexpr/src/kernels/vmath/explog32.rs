//! Native f32 lane functions built on exp and log: exp, expm1, log, log1p,
//! log2, log10, sinh, cosh, tanh, asinh, acosh, atanh.
//!
//! In: one `f32` (for most functions only the *ordinary* inputs, the
//! `*_needs_full` test says which are not); out: the f32 result within 1 ulp
//! (exp, log) or 4 ulps (the rest) of the correctly rounded one. The slice
//! loops in `mod.rs` send the other lanes (overflow, underflow to
//! subnormals, zeros, negatives of log, inf, NaN) to the widened f64 lane
//! functions of `explog.rs`, which handle every input and round once; they
//! are rare, so their cost hardly shows, and the vector code here needs no
//! special-value selects.
//!
//! Why f32 arithmetic: a 512-bit register holds 16 f32 lanes against 8 f64
//! ones, and f32 needs shorter polynomials (about 2^-25 relative instead of
//! 2^-54), so the same reductions as in `explog.rs` cost about a third.
//! Where a result would lose accuracy to cancellation in f32 (log near 1,
//! log1p, acosh near 1, the small arguments of asinh and atanh), the
//! kernels keep the exact parts apart: `log_kernel32` takes
//! `log(2^k (1 + f + c))` with `f` exact and a small correction `c`, and the
//! small arguments use odd polynomials instead of formulas that cancel;
//! sinh and tanh are formulas of an `expm1` that do not cancel.

use super::arith::Fma;
use super::arith32::{
    abs32, copysign32, fast_two_sum32, horner32, pow2i32, round_int_mul32, sel, two_sum32,
};
use super::consts32::{
    ASINH32_H, ATANH32_H, EXP32_P, INV_LN2_32_HI, INV_LN2_32_LO, INV_LN10_32, LN2_32, LN2_32_HI,
    LN2_32_LO, LOG10_2_32_HI, LOG10_2_32_LO, LOG32_L,
};

const INF_BITS: u32 = 0x7f80_0000;

/// Largest |x| of the exp, expm1, sinh and cosh fast paths: e^87 and
/// e^-87 are normal numbers and k = round(x / ln2) stays in [-126, 126].
pub(super) const EXP_FAST_MAX: f32 = 87.0;

/// True for NaN and |x| > `EXP_FAST_MAX`, by one unsigned comparison of the
/// magnitude's bits (NaN patterns lie above every finite one).
#[inline(always)]
pub(super) fn exp_needs_full(x: f32) -> bool {
    abs32(x).to_bits() > EXP_FAST_MAX.to_bits()
}

/// x = k ln2 + r, |r| <= ln2/2 (+ rounding): returns (k, r). `x - k * HI`
/// is exact (HI has 16 bits, and the difference is exact by Sterbenz's
/// lemma), so r carries one rounding.
#[inline(always)]
fn reduce_ln2_32<M: Fma>(x: f32) -> (i32, f32) {
    let (kd, k) = round_int_mul32::<M>(x, INV_LN2_32_HI);
    let r = M::madd32(-kd, LN2_32_HI, x);
    (k, M::madd32(-kd, LN2_32_LO, r))
}

/// e^r - 1 for |r| <= 0.3466.
#[inline(always)]
fn expm1_poly<M: Fma>(r: f32) -> f32 {
    M::madd32(r * r, horner32::<M, 6>(r, &EXP32_P), r)
}

/// e^x for |x| <= 87 (see [`exp_needs_full`]).
#[inline(always)]
pub(super) fn exp_normal<M: Fma>(x: f32) -> f32 {
    let (k, r) = reduce_ln2_32::<M>(x);
    (1.0 + expm1_poly::<M>(r)) * pow2i32(k)
}

/// e^x - 1 for |x| <= 87: 2^k (e^r - 1) + (2^k - 1), which is accurate near
/// 0 (k = 0, r = x) and never cancels badly.
#[inline(always)]
pub(super) fn expm1_normal<M: Fma>(x: f32) -> f32 {
    // Below -20 the result rounds to -1; the clamp keeps 2^k normal.
    let (k, r) = reduce_ln2_32::<M>(sel(x < -20.0, -20.0, x));
    let sc = pow2i32(k);
    let res = M::madd32(sc, expm1_poly::<M>(r), sc - 1.0);
    // Tiny x rounds to x, and -0 must stay -0.
    sel(abs32(x) < 2.0e-8, x, res)
}

/// sinh x for |x| <= 87: h + h / (2h + 1) with h = (e^|x| - 1) / 2, both
/// terms positive, so one form serves every |x| (the float64 kernel's).
#[inline(always)]
pub(super) fn sinh_normal<M: Fma>(x: f32) -> f32 {
    let h = 0.5 * expm1_normal::<M>(abs32(x));
    copysign32(h + h / M::madd32(2.0, h, 1.0), x)
}

/// cosh x for |x| <= 87: h + 1/(4h) with h = e^|x| / 2.
#[inline(always)]
pub(super) fn cosh_normal<M: Fma>(x: f32) -> f32 {
    let h = 0.5 * exp_normal::<M>(abs32(x));
    h + 0.25 / h
}

/// tanh x for every input: e / (e + 2) with e = e^(2|x|) - 1 (`expm1`'s,
/// accurate near 0), which never cancels, so one form serves every |x| (the
/// float64 kernel's). No fix-up is needed: |x| is clamped to 10 (where tanh
/// rounds to 1; inf too), and NaN passes the clamp and every operation as
/// NaN; -0 gives -0.
#[inline(always)]
pub(super) fn tanh<M: Fma>(x: f32) -> f32 {
    let a = abs32(x);
    let e = expm1_normal::<M>(2.0 * sel(a > 10.0, 10.0, a));
    copysign32(e / (e + 2.0), x)
}

/// True for inputs outside the positive normal finite numbers (zeros,
/// subnormals, negatives, inf, NaN), by one unsigned comparison.
#[inline(always)]
pub(super) fn log_needs_full(x: f32) -> bool {
    const LO: u32 = f32::MIN_POSITIVE.to_bits();
    x.to_bits().wrapping_sub(LO) >= INF_BITS - LO
}

/// x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)) for a positive normal
/// x; f is exact.
#[inline(always)]
fn log_reduce32(x: f32) -> (i32, f32) {
    let ix = x.to_bits() as i32;
    // Subtracting the bits of sqrt(2)/2 makes the exponent field count from
    // there.
    let tmp = ix.wrapping_sub(0x3f35_04f3);
    let k = tmp >> 23;
    let m = f32::from_bits(ix.wrapping_sub(tmp & (0xff80_0000_u32 as i32)) as u32);
    (k, m - 1.0)
}

/// log(1 + f) - f = s (f^2/2 + R) - f^2/2 with s = f / (2 + f) (fdlibm's
/// split: the exact f stays out of every rounding).
#[inline(always)]
fn log1p_tail<M: Fma>(f: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let hfsq = 0.5 * f * f;
    M::madd32(s, M::madd32(z, horner32::<M, 3>(z, &LOG32_L), hfsq), -hfsq)
}

/// log(2^k (1 + f + c)) for 1 + f in [sqrt(2)/2, sqrt(2)), f exact and
/// |c| below an ulp of 1 + f. k ln2 + f is summed exactly (TwoSum) so that
/// the only roundings are those of the small tail and the final sum.
#[inline(always)]
fn log_kernel32<M: Fma, const CORR: bool>(k: i32, f: f32, c: f32) -> f32 {
    let kd = k as f32;
    // |k HI| >= |f| unless k = 0, when the sum is f itself.
    let (hi, lo) = fast_two_sum32(kd * LN2_32_HI, f);
    let mut tail = log1p_tail::<M>(f) + M::madd32(kd, LN2_32_LO, lo);
    if CORR {
        // log(1 + f + c) - log(1 + f) = c / (1 + f) to within c^2; the
        // series 1 - f + f^2 stands for the quotient (c itself is tiny, so
        // its relative error of f^3 < 0.08 costs nothing).
        tail += c * M::madd32(f, f - 1.0, 1.0);
    }
    hi + tail
}

/// log(uh + ul) for a positive normal `uh` and |ul| <= ulp(uh).
#[inline(always)]
fn log_pair32<M: Fma>(uh: f32, ul: f32) -> f32 {
    let (k, f) = log_reduce32(uh);
    // ul 2^-k is exact; k is capped so that 2^-k is normal (k = 127 and
    // 128 only for uh >= 2^126, where the correction no longer shows).
    let c = ul * pow2i32(-k.min(126));
    log_kernel32::<M, true>(k, f, c)
}

/// log x for positive normal finite x (see [`log_needs_full`]).
#[inline(always)]
pub(super) fn log_normal<M: Fma>(x: f32) -> f32 {
    let (k, f) = log_reduce32(x);
    log_kernel32::<M, false>(k, f, 0.0)
}

/// log2 x for positive normal finite x: k + log(1 + f) / ln2, with k exact
/// (log2 of a power of two is exact) and 1/ln2 in two parts.
#[inline(always)]
pub(super) fn log2_normal<M: Fma>(x: f32) -> f32 {
    let (k, f) = log_reduce32(x);
    let t = log1p_tail::<M>(f);
    let frac = M::madd32(
        f,
        INV_LN2_32_HI,
        M::madd32(f, INV_LN2_32_LO, t * INV_LN2_32_HI),
    );
    k as f32 + frac
}

/// log10 x for positive normal finite x: k log10(2) + log(1 + f) / ln10.
#[inline(always)]
pub(super) fn log10_normal<M: Fma>(x: f32) -> f32 {
    let (k, f) = log_reduce32(x);
    let kd = k as f32;
    let lm = f + log1p_tail::<M>(f);
    M::madd32(
        kd,
        LOG10_2_32_HI,
        M::madd32(lm, INV_LN10_32, kd * LOG10_2_32_LO),
    )
}

/// True for inputs outside (-1, inf): those log1p's fast path cannot take.
#[inline(always)]
pub(super) fn log1p_needs_full(x: f32) -> bool {
    !(x > -1.0 && x < f32::INFINITY)
}

/// log(1 + x) for -1 < x < inf: 1 + x = u + c exactly (TwoSum), and
/// log(u + c) keeps c as the correction.
#[inline(always)]
pub(super) fn log1p_normal<M: Fma>(x: f32) -> f32 {
    let (u, c) = two_sum32(1.0, x);
    // Tiny x rounds to x (and -0 must stay -0).
    sel(abs32(x) < 6.0e-8, x, log_pair32::<M>(u, c))
}

/// True for inf and NaN, which asinh's fast path does not take.
#[inline(always)]
pub(super) fn not_finite(x: f32) -> bool {
    abs32(x).to_bits() >= INF_BITS
}

/// Above this, asinh a = log(2a) and acosh a = log(2a) to within an f32
/// rounding, and a^2 may overflow.
pub(super) const BIG: f32 = 4096.0;

/// Up to here asinh takes its odd polynomial (asinh <= 0.5, where the
/// logarithm would cancel).
pub(super) const SMALL_ASINH: f32 = 0.5212;

/// asinh x for finite x: an odd polynomial for |x| <= 0.5212 (asinh <=
/// 0.5, where log would cancel), log(a + sqrt(a^2 + 1)) above, with the sum
/// kept as an exact pair, and log(a) + ln2 above 2^12.
#[inline(always)]
pub(super) fn asinh_normal<M: Fma>(x: f32) -> f32 {
    let a = abs32(x);
    let z = a * a;
    let small = M::madd32(z * a, horner32::<M, 6>(z, &ASINH32_H), a);
    let big = a > BIG;
    let s = M::madd32(a, a, 1.0).sqrt();
    let (wh, wl) = fast_two_sum32(s, a); // s > a
    let res = log_pair32::<M>(sel(big, a, wh), sel(big, 0.0, wl)) + sel(big, LN2_32, 0.0);
    copysign32(sel(a <= SMALL_ASINH, small, res), x)
}

/// True for inputs outside [1, inf): NaN results (and inf, NaN inputs).
#[inline(always)]
pub(super) fn acosh_needs_full(x: f32) -> bool {
    const ONE: u32 = 0x3f80_0000;
    x.to_bits().wrapping_sub(ONE) >= INF_BITS - ONE
}

/// acosh x for 1 <= x < inf: log(x + sqrt(x^2 - 1)) with the sum kept as an
/// exact pair, so near 1 the result is as accurate as the square root
/// (x^2 - 1 is formed with one rounding); log(x) + ln2 above 2^12.
#[inline(always)]
pub(super) fn acosh_normal<M: Fma>(x: f32) -> f32 {
    let big = x > BIG;
    // x^2 - 1 with one rounding: near 1 it cancels.
    let s = M::fma32(x, x, -1.0).sqrt();
    let (wh, wl) = fast_two_sum32(x, s); // x >= s
    log_pair32::<M>(sel(big, x, wh), sel(big, 0.0, wl)) + sel(big, LN2_32, 0.0)
}

/// True for |x| >= 1 and NaN.
#[inline(always)]
pub(super) fn atanh_needs_full(x: f32) -> bool {
    abs32(x).to_bits() >= 1f32.to_bits()
}

/// atanh x for |x| < 1: an odd polynomial up to 1/2, above it
/// log((1 + a) / (1 - a)) / 2 (1 - a exact there; the result is at least
/// 0.549, so the two roundings of the quotient cost under an ulp).
#[inline(always)]
pub(super) fn atanh_normal<M: Fma>(x: f32) -> f32 {
    let a = abs32(x);
    let z = a * a;
    let small = M::madd32(z * a, horner32::<M, 7>(z, &ATANH32_H), a);
    let q = (1.0 + a) / (1.0 - a);
    let (k, f) = log_reduce32(q);
    let res = 0.5 * log_kernel32::<M, false>(k, f, 0.0);
    copysign32(sel(a <= 0.5, small, res), x)
}
