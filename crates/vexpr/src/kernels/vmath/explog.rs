//! Lane functions built on exp and log: exp, expm1, log, log1p, log2,
//! log10, the hyperbolic functions and their inverses, hypot and the f32 pow.
//!
//! Each takes and returns one `f64` and handles every input (±0, ±inf, NaN,
//! subnormals) without branches; see `arith` for why.

use super::arith::{
    Fma, abs, copysign, flip_sign, horner, pow2i, round_int_mul, select, select_i,
    small_i64_to_f64, two_sum,
};
use super::consts::{
    EXP_Q, INV_LN2, INV_LN2_HI, INV_LN2_LO, INV_LN10, LN2_HI, LN2_LO, LOG_L, LOG10_2_HI, LOG10_2_LO,
};
use super::consts_hyperbolic::{COSH_C, SINH_S, SINH_SMALL};

const INF: f64 = f64::INFINITY;
const TWO28: f64 = 268435456.0;
const TWO52: f64 = 4503599627370496.0;
const TWO53: f64 = 9007199254740992.0;
const TWO54: f64 = 18014398509481984.0;
/// ln 2 rounded to f64, for results where one extra rounding is harmless.
const LN2: f64 = std::f64::consts::LN_2;

/// x = k ln2 + (hi + lo) with |hi + lo| <= ln2/2 (Cody-Waite): `hi` is
/// exact because k * LN2_HI is; keeping `lo` apart saves a rounding.
pub(super) struct Ln2Reduced {
    pub(super) hi: f64,
    pub(super) lo: f64,
    pub(super) k: i64,
}

#[inline(always)]
pub(super) fn reduce_ln2<M: Fma>(x: f64) -> Ln2Reduced {
    let (kd, k) = round_int_mul::<M>(x, INV_LN2);
    Ln2Reduced {
        hi: M::fma(-kd, LN2_HI, x),
        lo: -kd * LN2_LO,
        k,
    }
}

/// The part of e^r - 1 after the exact leading term: lo + r^2 EXP_Q(r).
#[inline(always)]
pub(super) fn expm1_tail<M: Fma>(red: &Ln2Reduced) -> f64 {
    let r = red.hi + red.lo;
    M::fma(r * r, horner::<M, 11>(r, &EXP_Q), red.lo)
}

/// `e^x * 2^s` for `s` in {0, -1}; the scale lets cosh and sinh reach
/// e^x / 2 without overflowing in between.
#[inline(always)]
pub(super) fn exp_scaled<M: Fma>(x: f64, s: i64) -> f64 {
    // Beyond these bounds the result is 0 or inf for either scale; clamping
    // keeps k within the range of the two-step scaling below. NaN compares
    // false and passes through.
    let x = select(x > 711.0, 711.0, x);
    let x = select(x < -746.0, -746.0, x);
    let red = reduce_ln2::<M>(x);
    let p = 1.0 + (red.hi + expm1_tail::<M>(&red));
    // 2^k is applied in two halves so that results near overflow and in
    // the subnormal range need no special case: p * 2^k1 is exact and the
    // second product rounds once.
    let k = red.k.wrapping_add(s);
    let k1 = k >> 1;
    p * pow2i(k1) * pow2i(k.wrapping_sub(k1))
}

/// `e^x`.
#[inline(always)]
pub(super) fn exp<M: Fma>(x: f64) -> f64 {
    exp_scaled::<M>(x, 0)
}

/// Inputs `exp_normal` does not cover: overflow, underflow, NaN.
#[inline(always)]
pub(super) fn exp_needs_full(x: f64) -> bool {
    // |x| > 708 or NaN, as one unsigned comparison of the magnitude's bits
    // (NaN patterns lie above every finite one).
    abs(x).to_bits() > 708f64.to_bits()
}

/// `e^x` for |x| <= 708, where the result and 2^k are normal numbers: the
/// same bits as [`exp`] with none of its clamps and one scaling instead of
/// two (a third fewer operations).
#[inline(always)]
pub(super) fn exp_normal<M: Fma>(x: f64) -> f64 {
    let red = reduce_ln2::<M>(x);
    let p = 1.0 + (red.hi + expm1_tail::<M>(&red));
    p * pow2i(red.k)
}

/// `(e^x - 1) * 2^s` for `s` in {0, -1}.
#[inline(always)]
pub(super) fn expm1_scaled<M: Fma>(x: f64, s: i64) -> f64 {
    // Below -40 the result rounds to -1 (times the scale); above 711 it
    // overflows for either scale.
    let xc = select(x > 711.0, 711.0, x);
    let xc = select(xc < -40.0, -40.0, xc);
    let red = reduce_ln2::<M>(xc);
    let k = red.k;
    // e^x - 1 = 2^k (e^r - 1) + (2^k - 1), summed as (2^k - 1 + 2^k hi) +
    // 2^k tail so that the exact hi is rounded only once. Near overflow 2^k
    // itself is not representable (k <= 1026 after the clamp), so scale by
    // 2^-h first and by 2^h last.
    let h = select_i(k > 1000, 3, 0);
    let sc = pow2i(k.wrapping_add(s).wrapping_sub(h));
    let one = pow2i(s - h);
    let res = (M::fma(sc, red.hi, sc - one) + sc * expm1_tail::<M>(&red)) * pow2i(h);
    // Tiny arguments: x itself (this also keeps the sign of -0).
    select(abs(x) < 5.551115123125783e-17, x * pow2i(s), res)
}

/// `e^x - 1`.
#[inline(always)]
pub(super) fn expm1<M: Fma>(x: f64) -> f64 {
    expm1_scaled::<M>(x, 0)
}

/// Pieces of log(x) for finite x > 0: log(x) = kd ln2 + f - hfsq + sr.
struct LogParts {
    kd: f64,
    f: f64,
    hfsq: f64,
    sr: f64,
}

#[inline(always)]
fn log_parts<M: Fma>(x: f64) -> LogParts {
    // Subnormals are scaled into the normal range so that the exponent
    // field holds the true exponent.
    let sub = x < f64::MIN_POSITIVE;
    let xs = select(sub, x * TWO54, x);
    log_parts_normal::<M>(xs, select_i(sub, -54, 0))
}

/// `log_parts` of a positive normal `x`, whose exponent is then off by
/// `k_offset`.
#[inline(always)]
fn log_parts_normal<M: Fma>(x: f64, k_offset: i64) -> LogParts {
    let ix = x.to_bits() as i64;
    // Subtracting the bits of sqrt(2)/2 makes the exponent field count from
    // there, so the mantissa m lands in [sqrt(2)/2, sqrt(2)).
    let tmp = ix.wrapping_sub(0x3fe6_a09e_667f_3bcd);
    let k = (tmp >> 52).wrapping_add(k_offset);
    const EXP_MASK: i64 = (0xfff_u64 << 52) as i64;
    let m = f64::from_bits(ix.wrapping_sub(tmp & EXP_MASK) as u64);
    // log(m) = log(1 + f) = 2 atanh(s) with s = f / (2 + f), |s| < 0.172.
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * horner::<M, 7>(z, &LOG_L);
    let hfsq = 0.5 * f * f;
    LogParts {
        kd: small_i64_to_f64(k),
        f,
        hfsq,
        sr: s * (hfsq + r),
    }
}

/// The IEEE results of log for inputs outside (0, inf): log(0) = -inf,
/// log(inf) = inf, log(<0) = NaN, log(NaN) = NaN.
#[inline(always)]
fn log_specials(x: f64, res: f64) -> f64 {
    let res = select(x == INF, x, res);
    let res = select(x == 0.0, -INF, res);
    select(x >= 0.0, res, select(x.is_nan(), x, f64::NAN))
}

/// log(x) + c for finite x > 0 and a small correction c.
#[inline(always)]
fn log_plus<M: Fma>(x: f64, c: f64) -> f64 {
    let p = log_parts::<M>(x);
    // Summed from the smallest term up; the last two additions are exact or
    // nearly so (the fdlibm ordering).
    p.kd * LN2_HI - ((p.hfsq - ((p.sr + c) + p.kd * LN2_LO)) - p.f)
}

/// Natural logarithm.
#[inline(always)]
pub(super) fn log<M: Fma>(x: f64) -> f64 {
    log_specials(x, log_plus::<M>(x, 0.0))
}

/// Inputs `log_normal` does not cover: zero, subnormal, negative, inf, NaN.
#[inline(always)]
pub(super) fn log_needs_full(x: f64) -> bool {
    // One unsigned comparison of the bit patterns: below MIN_POSITIVE (zeros,
    // subnormals) wraps around to a huge value, and negatives (sign bit set),
    // inf and NaN are above inf's pattern. Two vector operations instead of the
    // four that two float comparisons take.
    const LO: u64 = f64::MIN_POSITIVE.to_bits();
    x.to_bits().wrapping_sub(LO) >= INF.to_bits() - LO
}

/// log(x) for positive normal finite x: the same bits as [`log`] without
/// the subnormal scaling and the special-value selects (a quarter fewer
/// operations).
#[inline(always)]
pub(super) fn log_normal<M: Fma>(x: f64) -> f64 {
    let p = log_parts_normal::<M>(x, 0);
    // kd * LN2_HI is exact (LN2_HI ends in zero bits), so fusing it into the
    // last subtraction saves an operation and changes no bit.
    M::fma(p.kd, LN2_HI, -((p.hfsq - (p.sr + p.kd * LN2_LO)) - p.f))
}

/// log(1 + x).
#[inline(always)]
pub(super) fn log1p<M: Fma>(x: f64) -> f64 {
    // u + e == 1 + x exactly; log(1 + x) = log(u) + log1p(e / u) ~ log(u) + e / u.
    let (u, e) = two_sum(1.0, x);
    let c = e / u;
    // 0/0 at x = -1 and inf - inf at x = inf: the correction is then 0.
    let c = select(c.is_nan(), 0.0, c);
    let res = log_specials(u, log_plus::<M>(u, c));
    select(abs(x) < 5.551115123125783e-17, x, res)
}

/// log2(x) = k + log(m) / ln2, keeping k exact.
#[inline(always)]
pub(super) fn log2<M: Fma>(x: f64) -> f64 {
    let p = log_parts::<M>(x);
    let lo = p.sr - p.hfsq;
    let frac = M::fma(p.f, INV_LN2_HI, M::fma(p.f, INV_LN2_LO, lo * INV_LN2_HI));
    log_specials(x, p.kd + frac)
}

/// log10(x) = k log10(2) + log(m) / ln10.
#[inline(always)]
pub(super) fn log10<M: Fma>(x: f64) -> f64 {
    let p = log_parts::<M>(x);
    let lm = p.f + (p.sr - p.hfsq);
    let res = M::fma(p.kd, LOG10_2_HI, M::fma(lm, INV_LN10, p.kd * LOG10_2_LO));
    log_specials(x, res)
}

/// sinh x = sign(x) (h + h / (2h + 1)) with h = (e^|x| - 1) / 2.
#[inline(always)]
pub(super) fn sinh<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    let h = expm1_scaled::<M>(a, -1);
    let res = h + h / M::fma(2.0, h, 1.0);
    // inf / inf above the overflow threshold.
    copysign(select(h == INF, h, res), x)
}

/// cosh x = h + 1 / (4h) with h = e^|x| / 2.
#[inline(always)]
pub(super) fn cosh<M: Fma>(x: f64) -> f64 {
    let h = exp_scaled::<M>(abs(x), -1);
    h + 0.25 / h
}

/// Above this |x| [`sinh_ordinary`] and [`cosh_ordinary`] leave the lane to
/// [`sinh`] and [`cosh`]: 2^(k-1) of the reduction stays finite below it.
const HYPERBOLIC_FAST_MAX: f64 = 709.0;

/// The lanes [`sinh_ordinary`] and [`cosh_ordinary`] do not cover:
/// |x| > 709, inf (NaN passes through their arithmetic).
#[inline(always)]
pub(super) fn hyperbolic_needs_full(x: f64) -> bool {
    abs(x) > HYPERBOLIC_FAST_MAX
}

/// For |x| = k ln2 + r (|r| <= ln2/2): cosh r - 1 and sinh r, e^r's even
/// and odd parts (so e^-r costs nothing more), and cosh(k ln2) and
/// sinh(k ln2) = 2^(k-1) ± 2^(-k-1).
#[inline(always)]
fn hyperbolic_parts<M: Fma>(a: f64) -> [f64; 4] {
    let (kd, k) = round_int_mul::<M>(a, INV_LN2);
    let r = M::fma(-kd, LN2_LO, M::fma(-kd, LN2_HI, a));
    let s = r * r;
    let cosh_r_less_1 = s * horner::<M, 5>(s, &COSH_C);
    let sinh_r = M::fma(r * s, horner::<M, 5>(s, &SINH_S), r);
    let up = pow2i(k - 1);
    // Past k = 60, 2^(-k-1) is below an ulp of 2^(k-1) squared: any tiny
    // value does, and the clamp keeps it a normal power of two.
    let down = pow2i(-(k.min(60)) - 1);
    [cosh_r_less_1, sinh_r, up + down, up - down]
}

/// sinh x for |x| <= 709 (and NaN) without a division: below 1 an odd
/// polynomial, above sinh(k ln2) cosh r + cosh(k ln2) sinh r, the first
/// factor kept apart so that cosh r's rounding and the partial cancellation
/// when r < 0 cost a fraction of an ulp.
#[inline(always)]
pub(super) fn sinh_ordinary<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    let [cosh_r_less_1, sinh_r, cosh_k, sinh_k] = hyperbolic_parts::<M>(a);
    let big = sinh_k + M::fma(sinh_k, cosh_r_less_1, cosh_k * sinh_r);
    let s = a * a;
    let small = M::fma(a * s, horner::<M, 8>(s, &SINH_SMALL), a);
    copysign(select(a < 1.0, small, big), x)
}

/// cosh x for |x| <= 709 (and NaN) without a division:
/// cosh(k ln2) cosh r + sinh(k ln2) sinh r, as in [`sinh_ordinary`].
#[inline(always)]
pub(super) fn cosh_ordinary<M: Fma>(x: f64) -> f64 {
    let [cosh_r_less_1, sinh_r, cosh_k, sinh_k] = hyperbolic_parts::<M>(abs(x));
    cosh_k + M::fma(cosh_k, cosh_r_less_1, sinh_k * sinh_r)
}

/// tanh x = sign(x) e / (e + 2) with e = e^(2|x|) - 1, from one reduction of
/// 2|x| = k ln2 + r: e = 2^k (e^r - 1) + (2^k - 1), accurate near 0 and
/// never cancelling. The quotient adds two roundings to e's (within 2 ulps
/// in all; the bound is 4), and needs no case split: above |x| = 20 (clamped)
/// it rounds to 1.
#[inline(always)]
pub(super) fn tanh<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    // NaN passes the clamp and stays NaN.
    let y = 2.0 * a;
    let y = select(y > 40.0, 40.0, y);
    let red = reduce_ln2::<M>(y);
    let sc = pow2i(red.k); // k in [0, 58]
    let e = M::fma(sc, red.hi, sc - 1.0) + sc * expm1_tail::<M>(&red);
    copysign(e / (e + 2.0), x)
}

/// asinh x = sign(x) log1p(|x| + x^2 / (1 + sqrt(1 + x^2))).
#[inline(always)]
pub(super) fn asinh<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    // Above 2^28 asinh(a) = log(2a) to within rounding; log1p(a - 1) + ln2
    // avoids both the overflow of a^2 and of 2a.
    let big = a > TWO28;
    let q = a * a / (1.0 + M::fma(a, a, 1.0).sqrt());
    let w = select(big, a - 1.0, a + q);
    copysign(log1p::<M>(w) + select(big, LN2, 0.0), x)
}

/// acosh x for x >= 1, NaN below.
///
/// Three forms, sharing one square root and one logarithm, so that a lane
/// costs one `sqrt` and two divisions (the divider is the slowest unit):
/// - x < 2: log1p(t + sqrt(2t + t^2)) with t = x - 1 (exact), for the
///   accuracy near 1;
/// - 2 <= x <= 2^28: log(x + sqrt(x^2 - 1)); the argument is at least 3.7,
///   so its roundings move the logarithm by at most 2^-52, under an ulp of
///   the result (at least 1.3);
/// - above 2^28: log(x) + ln2 (x^2 could overflow).
#[inline(always)]
pub(super) fn acosh<M: Fma>(x: f64) -> f64 {
    let t = x - 1.0;
    let small = x < 2.0;
    let big = x > TWO28;
    let r = select(small, M::fma(t, t, 2.0 * t), M::fma(x, x, -1.0)).sqrt();
    // Below 2, log1p as `log1p` computes it: log(u) + e / u with
    // u + e = 1 + (t + r) exactly.
    let (u, e) = two_sum(1.0, t + r);
    let arg = select(small, u, select(big, x, x + r));
    let c = select(small, e / u, 0.0);
    let res = log_specials(arg, log_plus::<M>(arg, c)) + select(big, LN2, 0.0);
    select(x >= 1.0, res, select(x.is_nan(), x, f64::NAN))
}

/// atanh x = sign(x) log1p(2a / (1 - a)) / 2, with the small-|x| form
/// 2a + 2a^2 / (1 - a) so the rounding of the quotient is damped.
#[inline(always)]
pub(super) fn atanh<M: Fma>(x: f64) -> f64 {
    let a = abs(x);
    let small = a < 0.5;
    let q = select(small, 2.0 * a * a, 2.0 * a) / (1.0 - a);
    let w = select(small, 2.0 * a + q, q);
    copysign(0.5 * log1p::<M>(w), x)
}

/// hypot(x, y) = a sqrt(1 + (b/a)^2) with a = max(|x|, |y|): no overflow or
/// underflow in between; inf wins over NaN as IEEE 754 requires.
#[inline(always)]
pub(super) fn hypot<M: Fma>(x: f64, y: f64) -> f64 {
    let ax = abs(x);
    let ay = abs(y);
    let swap = ay > ax;
    let a = select(swap, ay, ax);
    let b = select(swap, ax, ay);
    let r = b / a;
    let res = a * M::fma(r, r, 1.0).sqrt();
    let res = select(a == 0.0, b, res);
    select(ax == INF || ay == INF, INF, res)
}

/// hypot for f32 inputs: in f64 the squares are exact and cannot overflow.
#[inline(always)]
pub(super) fn hypot_f32<M: Fma>(x: f64, y: f64) -> f64 {
    let res = M::fma(x, x, y * y).sqrt();
    select(abs(x) == INF || abs(y) == INF, INF, res)
}

/// pow for f32 inputs, computed as e^(y log|x|) in f64: the f64 error of
/// y log|x| (|y log|x|| < 150 where the f32 result is finite and nonzero)
/// is far below an f32 ulp. Special cases follow C99 / NumPy.
#[inline(always)]
pub(super) fn pow_f32<M: Fma>(x: f64, y: f64) -> f64 {
    let ax = abs(x);
    let r = exp::<M>(y * log::<M>(ax));
    let ay = abs(y);
    // y is an integer if it has no fraction bits; odd if, further, its
    // units bit is set (read from ay + 2^52 below 2^52, from y itself up to
    // 2^53; larger floats are even).
    let t = ay + TWO52;
    let y_int = ay >= TWO52 || t - TWO52 == ay;
    let odd_bit = select_i(
        ay < TWO52,
        (t.to_bits() & 1) as i64,
        select_i(ay < TWO53, (y.to_bits() & 1) as i64, 0),
    );
    let y_odd = y_int && odd_bit == 1;
    let r = flip_sign(r, x.is_sign_negative() && y_odd);
    // A negative finite base to a non-integer finite power has no real value.
    let r = select(x < 0.0 && ax != INF && !y_int && ay != INF, f64::NAN, r);
    // 0 * inf in the exponent: pow(±1, ±inf) = 1; pow(1, y) = 1 even for NaN.
    let r = select(ax == 1.0 && ay == INF, 1.0, r);
    let r = select(x == 1.0, 1.0, r);
    select(y == 0.0, 1.0, r)
}
