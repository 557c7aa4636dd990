//! `x ** y` in f64 without a library call: `exp(y log x)`, with `log x`
//! carried in two doubles so that the product loses nothing.
//!
//! In: one `x` and one `y` (a lane function, branch-free, for the loops of
//! `mod.rs`). Out: x^y within 2 ulps for the *ordinary* lanes, those where
//! [`pow_needs_full`] is false (|x| a normal number, y finite, and
//! |y log |x|| surely below 700); the others (zero, subnormal or non-finite
//! x, non-finite y, overflow and underflow) are recomputed with `f64::powf`
//! (glibc) by the loop, which is why this file needs only the sign rule of
//! a negative base: |x|^y, negated for an odd integer y, NaN for a
//! non-integer one (C99's pow, NumPy's).
//!
//! Why two doubles: exp turns an absolute error d in its argument into a
//! relative error d in the result, and |y log x| reaches 700 ≈ 2^9.5, so
//! `log x` must be right to about 2^-62 of itself for the result to stay
//! within an ulp or so; one double holds 2^-53. So:
//! - `x = 2^k m` with `m` in [√2/2, √2), and `log m = 2 atanh(s)` with
//!   `s = (m - 1) / (m + 1)`, |s| < 0.172. `s` is kept as `s + s_lo`
//!   (the division's residual by a fused multiply-add), from one division.
//! - `2 atanh(s) = 2s + 2s³/3 + s⁵ P(s²)`. The first two terms are summed
//!   exactly (the cubic term is up to 1% of the total, so it too is formed
//!   from exact products); `s⁵ P(s²)` (under 0.02%) needs no extra care.
//!   `P` is the Taylor series to s²⁵, whose remainder is below 2^-65.
//! - `k ln 2` comes from `LN2_HI` (k times it is exact) and `LN2_LO`.
//! - `y (hi + lo)` is split exactly into `p + p_lo` with a fused
//!   multiply-add, and `p_lo` joins the low part of exp's own argument
//!   reduction (`explog::reduce_ln2`), so exp rounds once at the end.
//!
//! Measured against mpmath (`tests.rs`, every level) and glibc's pow (the
//! test below), the error is under 2 ulps. Without a fused multiply-add
//! (the baseline level on x86-64) none of the exact products exist, and the
//! loop runs `f64::powf` throughout.
//!
//! At AVX-512, [`avx512::pow`] takes the same two-double route without a
//! division and with shorter polynomials, from 16-entry tables that one
//! `vpermt2pd` reads (`tests/data/vmath/fit_pow.py` derives the constants):
//! - `ln x`: `x = 2^k m` with `m` in one of float32 `**`'s 16 intervals and
//!   `z = m/c - 1` (|z| < 0.0298), held exactly as `z + z_lo` (the product
//!   `m (1/c)` and its rounding error; `z_lo` is 0 in the interval holding 1,
//!   where `c = 1`). `ln x = k ln2 + ln c + z - z²/2 + z³ R(z)`, plus
//!   `z_lo / (1 + z)`: `k ln2 + ln c` exact in its high parts (logtable.rs's
//!   `LN_C_HI`), the sums with `z` and the exact `z²/2` kept as two doubles,
//!   `R` nine coefficients (2^-65 of `ln(1 + z)`).
//! - `e^(p + p_lo)`: `2^(n/16) e^r` with `n = round(16 p / ln2)`, `r` from
//!   an exact reduction by a 38-bit `ln2/16`, |r| <= ln2/32,
//!   `e^r = 1 + r + r² Q(r)` with six coefficients (2^-64), `2^(j/16)` as
//!   two table entries, `2^(n >> 4)` added to the exponent bits; the result
//!   is rounded once at the end.
//! - The polynomials by Estrin's scheme: the loop waits on their chains.
//!
//! Against mpmath on 20,000 pairs per range (`ulps_vs_mpmath.py pow`), the
//! AVX-512 kernel is within 0.54 ulp; glibc's pow is nearer on under 1% of
//! the pairs. The lanes `pow_needs_full` marks go to glibc as at the other
//! levels.
//!
//! At AVX2, [`avx2::pow`] is that kernel on four lanes, step for step, its
//! tables read by `vgatherqpd`: the same bits (the tests check both against
//! one lane function of the route). AVX2 has no 64-bit arithmetic shift or
//! integer conversion, so `k` and the exponent come from logical shifts of
//! biased patterns. 7.6 → 5.7 ns an element at N = 1M on one core of a
//! Zen 3 EPYC against the division route above.

use super::arith::{Fma, abs, fast_two_sum, flip_sign, horner, select, small_i64_to_f64, two_sum};
use super::consts::{LN2_HI, LN2_LO};
use super::explog::{expm1_tail, reduce_ln2};

/// 2/3 as a sum of two doubles.
const TWO_THIRDS_HI: f64 = 2.0 / 3.0;
const TWO_THIRDS_LO: f64 = 3.700743415417188e-17; // 2/3 - TWO_THIRDS_HI

/// P(z) = Σ 2 z^(n-2) / (2n + 1) for n = 2..12: the terms of 2 atanh(s)
/// from s⁵ on, divided by s⁵, with z = s².
const ATANH_TAIL: [f64; 11] = [
    2.0 / 5.0,
    2.0 / 7.0,
    2.0 / 9.0,
    2.0 / 11.0,
    2.0 / 13.0,
    2.0 / 15.0,
    2.0 / 17.0,
    2.0 / 19.0,
    2.0 / 21.0,
    2.0 / 23.0,
    2.0 / 25.0,
];

/// The bound on |y| (|e| + 1), with `e` the exponent of `x`, under which
/// |y log x| < |y| (|e| + 1) ln 2 < 700: the result and every power of two
/// on the way stay normal.
pub(super) const PRODUCT_BOUND: f64 = 1000.0;

/// True for the lanes [`pow_ordinary`] does not cover (see the module doc).
#[inline(always)]
pub(super) fn pow_needs_full(x: f64, y: f64) -> bool {
    // The exponent field, without the sign bit.
    let e = ((x.to_bits() >> 52) & 0x7ff) as i64 - 1023;
    let bound = abs(y) * small_i64_to_f64(e.abs() + 1);
    // NaN is outside every range.
    !(f64::MIN_POSITIVE..=f64::MAX).contains(&abs(x)) || !(0.0..=PRODUCT_BOUND).contains(&bound)
}

/// `log x` as `hi + lo`, to about 2^-64 of itself, for a positive normal `x`.
#[inline(always)]
fn log_two_doubles<M: Fma>(x: f64) -> (f64, f64) {
    let ix = x.to_bits() as i64;
    // As in `explog::log_parts_normal`: the exponent counted from √2/2, so
    // the mantissa m lands in [√2/2, √2).
    let tmp = ix.wrapping_sub(0x3fe6_a09e_667f_3bcd);
    let k = small_i64_to_f64(tmp >> 52);
    const EXP_MASK: i64 = (0xfff_u64 << 52) as i64;
    let m = f64::from_bits(ix.wrapping_sub(tmp & EXP_MASK) as u64);
    // Exact by Sterbenz's lemma (m within a factor 2 of 1), and 2 + f as
    // an exact sum of two doubles.
    let f = m - 1.0;
    let (u, u_lo) = fast_two_sum(2.0, f);
    // One division (the divider is the slowest unit here): s is within an
    // ulp or two of f / u, and s_lo, from the exact residual f - s u, takes
    // the rest, so s + s_lo is f / (u + u_lo) to about 2^-104.
    let inverse = 1.0 / u;
    let s = f * inverse;
    let s_lo = (M::fma(-s, u, f) - s * u_lo) * inverse;
    // s² and s³ as exact products plus their rounding errors.
    let z = s * s;
    let z_lo = M::fma(s, s, -z);
    let c = z * s;
    let c_lo = M::fma(z, s, -c) + z_lo * s;
    // 2s³/3 as t + t_lo.
    let t = TWO_THIRDS_HI * c;
    let t_lo = M::fma(TWO_THIRDS_HI, c, -t) + (TWO_THIRDS_HI * c_lo + TWO_THIRDS_LO * c);
    // The rest: s⁵ P(s²), and what s_lo adds to 2s and 2s³/3.
    let rest = c * z * horner::<M, 11>(z, &ATANH_TAIL);
    let small = 2.0 * s_lo * (1.0 + z) + rest;
    // k LN2_HI is exact; 2s is exact; their sum and the cubic term's are
    // kept exactly, the smaller terms rounded into the low part.
    let (hi, lo1) = two_sum(k * LN2_HI, 2.0 * s);
    let (hi, lo2) = two_sum(hi, t);
    (hi, lo1 + lo2 + (t_lo + small + k * LN2_LO))
}

/// `x^y` for the lanes where [`pow_needs_full`] is false, within 2 ulps.
#[inline(always)]
pub(super) fn pow_ordinary<M: Fma>(x: f64, y: f64) -> f64 {
    if !M::FUSED {
        return x.powf(y);
    }
    let (hi, lo) = log_two_doubles::<M>(abs(x));
    let p = y * hi;
    let p_lo = M::fma(y, hi, -p) + y * lo;
    let mut red = reduce_ln2::<M>(p);
    red.lo += p_lo;
    let e = 1.0 + (red.hi + expm1_tail::<M>(&red));
    let magnitude = e * super::arith::pow2i(red.k);
    // A negative base: y is below 1000 in magnitude here (`PRODUCT_BOUND`),
    // so y / 2 is exact and y is odd when it is an integer and y / 2 is not.
    let integer = y.trunc() == y;
    let half = 0.5 * y;
    let odd = integer && half.trunc() != half;
    let negative = x < 0.0;
    let r = flip_sign(magnitude, negative && odd);
    select(negative && !integer, f64::NAN, r)
}

/// The AVX2 kernel: the AVX-512 kernel's table route on 4 lanes, its tables
/// read by gathers, the same operations in the same order, so the same bits
/// (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use super::super::arith::SHIFT;
    use super::super::avx2::{
        abs_pd, estrin_pd, look_up, map2_pd, small_u64_to_pd, split_by_interval,
    };
    use super::super::consts::{INV_LN2, LN2_HI, LN2_LO};
    use super::super::consts_log::{LN_C_HI, LN_C_LO};
    use super::super::consts_pow::{EXP_Q, EXP_T_HI, EXP_T_LO, L16, LN1P_R};
    use super::super::consts_pow32::INV_C;
    use super::{PRODUCT_BOUND, pow_needs_full};
    use core::arch::x86_64::*;

    /// `x[i] ** y[i]` into `out[i]`; glibc's `pow` for the lanes
    /// `super::pow_needs_full` is true for.
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) fn pow(x: &[f64], y: &[f64], out: &mut [f64]) {
        map2_pd(
            x,
            y,
            out,
            1.0,
            |x, y| pow_lanes(x, y),
            pow_needs_full,
            f64::powf,
        )
    }

    /// x^y on four lanes, and the lanes `super::pow_needs_full` is true for
    /// (all ones).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn pow_lanes(x: __m256d, y: __m256d) -> (__m256d, __m256d) {
        let (hi, lo) = ln_two_doubles(abs_pd(x));
        let p = _mm256_mul_pd(y, hi);
        let p_lo = _mm256_fmadd_pd(y, lo, _mm256_fmsub_pd(y, hi, p));
        let magnitude = exp_sum(p, p_lo);
        let special = needs_full(x, y);
        let negative = _mm256_cmp_pd::<_CMP_LT_OQ>(x, _mm256_setzero_pd());
        if _mm256_movemask_pd(negative) == 0 {
            return (magnitude, special);
        }
        // The sign rule of a negative base, as AVX-512's: y rounded by
        // SHIFT, its parity the pattern's last bit.
        let shifted = _mm256_add_pd(y, _mm256_set1_pd(SHIFT));
        let rounded = _mm256_sub_pd(shifted, _mm256_set1_pd(SHIFT));
        let fraction = _mm256_cmp_pd::<_CMP_NEQ_UQ>(rounded, y);
        let odd = _mm256_castsi256_pd(_mm256_slli_epi64::<63>(_mm256_castpd_si256(shifted)));
        let res = _mm256_xor_pd(magnitude, _mm256_and_pd(odd, x));
        let nan_lanes = _mm256_and_pd(negative, fraction);
        let nan = _mm256_set1_pd(f64::NAN);
        (_mm256_blendv_pd(res, nan, nan_lanes), special)
    }

    /// `super::pow_needs_full` on four lanes: |x| not a normal number, or
    /// |y| (|e| + 1) not at most `PRODUCT_BOUND` (NaN included), with `e`
    /// the exponent field less 1023.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn needs_full(x: __m256d, y: __m256d) -> __m256d {
        // The magnitudes' patterns are non-negative, so signed comparisons
        // order them: zero and subnormals lie below MIN_POSITIVE's, inf and
        // NaN above MAX's.
        let bits = _mm256_castpd_si256(abs_pd(x));
        let below =
            _mm256_cmpgt_epi64(_mm256_set1_epi64x(f64::MIN_POSITIVE.to_bits() as i64), bits);
        let above = _mm256_cmpgt_epi64(bits, _mm256_set1_epi64x(f64::MAX.to_bits() as i64));
        let not_normal = _mm256_castsi256_pd(_mm256_or_si256(below, above));
        let e = abs_pd(small_u64_to_pd(_mm256_srli_epi64::<52>(bits), 1023.0));
        let bound = _mm256_mul_pd(abs_pd(y), _mm256_add_pd(e, _mm256_set1_pd(1.0)));
        let too_far = _mm256_cmp_pd::<_CMP_NLE_UQ>(bound, _mm256_set1_pd(PRODUCT_BOUND));
        _mm256_or_pd(not_normal, too_far)
    }

    /// ln a as `hi + lo` for a positive normal `a` (AVX-512's
    /// `ln_two_doubles`, step for step).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn ln_two_doubles(a: __m256d) -> (__m256d, __m256d) {
        let splat = _mm256_set1_pd;
        let (i, k, m) = split_by_interval(a);
        let inv_c = look_up(&INV_C, i);
        let product = _mm256_mul_pd(m, inv_c);
        let z_lo = _mm256_fmsub_pd(m, inv_c, product);
        let z = _mm256_sub_pd(product, splat(1.0));
        let w = _mm256_fmadd_pd(k, splat(LN2_HI), look_up(&LN_C_HI, i));
        let w_lo = _mm256_fmadd_pd(k, splat(LN2_LO), look_up(&LN_C_LO, i));
        let s1 = _mm256_add_pd(w, z);
        let e1 = _mm256_add_pd(_mm256_sub_pd(w, s1), z);
        let zz = _mm256_mul_pd(z, z);
        let zz_lo = _mm256_fmsub_pd(z, z, zz);
        let h = _mm256_mul_pd(splat(-0.5), zz);
        let hi = _mm256_add_pd(s1, h);
        let e2 = _mm256_add_pd(_mm256_sub_pd(s1, hi), h);
        let cubic = _mm256_mul_pd(_mm256_mul_pd(zz, z), estrin_pd(&LN1P_R, z));
        let dz = _mm256_mul_pd(z_lo, _mm256_fmadd_pd(z, z, _mm256_sub_pd(splat(1.0), z)));
        let lo = _mm256_fmadd_pd(splat(-0.5), zz_lo, _mm256_add_pd(e1, e2));
        let lo = _mm256_add_pd(_mm256_add_pd(lo, dz), _mm256_add_pd(cubic, w_lo));
        (hi, lo)
    }

    /// e^(p + p_lo) for |p| < 700 (AVX-512's `exp_sum`, step for step).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn exp_sum(p: __m256d, p_lo: __m256d) -> __m256d {
        let splat = _mm256_set1_pd;
        let shifted = _mm256_fmadd_pd(p, splat(16.0 * INV_LN2), splat(SHIFT));
        let n_bits = _mm256_castpd_si256(shifted);
        let n = _mm256_sub_pd(shifted, splat(SHIFT));
        let r_hi = _mm256_fnmadd_pd(n, splat(L16[0]), p);
        let r_lo = _mm256_fnmadd_pd(n, splat(L16[1]), p_lo);
        let r = _mm256_add_pd(r_hi, r_lo);
        let tail = _mm256_fmadd_pd(_mm256_mul_pd(r, r), estrin_pd(&EXP_Q, r), r_lo);
        let e_r = _mm256_add_pd(r_hi, tail);
        let t_hi = look_up(&EXP_T_HI, n_bits);
        let t_lo = look_up(&EXP_T_LO, n_bits);
        let res = _mm256_add_pd(t_hi, _mm256_fmadd_pd(t_hi, e_r, t_lo));
        let q = _mm256_slli_epi64::<52>(_mm256_srli_epi64::<4>(n_bits));
        _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(res), q))
    }
}

/// The AVX-512 kernel (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::arith::SHIFT;
    use super::super::avx512::{estrin_pd, look_up, map2_pd, split_by_interval, table16};
    use super::super::consts::{INV_LN2, LN2_HI, LN2_LO};
    use super::super::consts_log::{LN_C_HI, LN_C_LO};
    use super::super::consts_pow::{EXP_Q, EXP_T_HI, EXP_T_LO, L16, LN1P_R};
    use super::super::consts_pow32::INV_C;
    use super::PRODUCT_BOUND;
    use core::arch::x86_64::*;

    /// The 16-entry tables, each as two registers.
    struct Tables {
        inv_c: [__m512d; 2],
        ln_c_hi: [__m512d; 2],
        ln_c_lo: [__m512d; 2],
        exp_t_hi: [__m512d; 2],
        exp_t_lo: [__m512d; 2],
    }

    /// `x[i] ** y[i]` into `out[i]`; glibc's `pow` for the lanes
    /// `super::pow_needs_full` is true for.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn pow(x: &[f64], y: &[f64], out: &mut [f64]) {
        let t = Tables {
            inv_c: table16(&INV_C),
            ln_c_hi: table16(&LN_C_HI),
            ln_c_lo: table16(&LN_C_LO),
            exp_t_hi: table16(&EXP_T_HI),
            exp_t_lo: table16(&EXP_T_LO),
        };
        map2_pd(x, y, out, |x, y| pow_lanes(&t, x, y), f64::powf)
    }

    /// x^y on eight lanes, and the lanes `super::pow_needs_full` is true for.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn pow_lanes(t: &Tables, x: __m512d, y: __m512d) -> (__m512d, __mmask8) {
        let (hi, lo) = ln_two_doubles(t, _mm512_abs_pd(x));
        // y (hi + lo) as p + p_lo, the first product's rounding error exact.
        let p = _mm512_mul_pd(y, hi);
        let p_lo = _mm512_fmadd_pd(y, lo, _mm512_fmsub_pd(y, hi, p));
        let magnitude = exp_sum(t, p, p_lo);
        let special = needs_full(x, y);
        // The sign rule of a negative base (`super::pow_ordinary`'s) only
        // where a lane needs it: 0.91-0.93 of the time of applying it to
        // every vector, and up to 1.05 when scattered negative bases (5% of
        // the lanes) make the branch unpredictable (N = 10k and 1M, in one
        // process alternated).
        let negative = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, _mm512_setzero_pd());
        if negative == 0 {
            return (magnitude, special);
        }
        // |y| <= PRODUCT_BOUND here (other lanes are redone in full), so
        // adding SHIFT (1.5 * 2^52) rounds y to an integer whose parity is
        // the pattern's last bit.
        let shifted = _mm512_add_pd(y, _mm512_set1_pd(SHIFT));
        let rounded = _mm512_sub_pd(shifted, _mm512_set1_pd(SHIFT));
        let fraction = _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(rounded, y);
        let odd = _mm512_slli_epi64::<63>(_mm512_castpd_si512(shifted));
        // magnitude ^ (odd & x) (imm8 0x78 = A ^ (B & C)): the sign flips
        // for a negative base and an odd exponent.
        let res = _mm512_castsi512_pd(_mm512_ternarylogic_epi64::<0x78>(
            _mm512_castpd_si512(magnitude),
            odd,
            _mm512_castpd_si512(x),
        ));
        let nan = _mm512_set1_pd(f64::NAN);
        (_mm512_mask_blend_pd(negative & fraction, res, nan), special)
    }

    /// The lanes `super::pow_needs_full` is true for: |x| not a normal
    /// number, or |y| (|e| + 1) not at most `PRODUCT_BOUND` (NaN included),
    /// with `e` the exponent of x.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn needs_full(x: __m512d, y: __m512d) -> __mmask8 {
        // One unsigned comparison: zero and subnormals wrap around below
        // MIN_POSITIVE, inf and NaN lie above MAX.
        let normal_span = (f64::MAX.to_bits() - f64::MIN_POSITIVE.to_bits()) as i64;
        let offset = _mm512_sub_epi64(
            _mm512_castpd_si512(_mm512_abs_pd(x)),
            _mm512_set1_epi64(f64::MIN_POSITIVE.to_bits() as i64),
        );
        let not_normal = _mm512_cmpgt_epu64_mask(offset, _mm512_set1_epi64(normal_span));
        // `vgetexppd` is floor(log2 |x|), the exponent, for a normal x.
        let e = _mm512_abs_pd(_mm512_getexp_pd(x));
        let bound = _mm512_mul_pd(_mm512_abs_pd(y), _mm512_add_pd(e, _mm512_set1_pd(1.0)));
        not_normal | _mm512_cmp_pd_mask::<_CMP_NLE_UQ>(bound, _mm512_set1_pd(PRODUCT_BOUND))
    }

    /// ln a as `hi + lo`, to about 2^-65 of itself, for a positive normal `a`
    /// (see the module doc).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn ln_two_doubles(t: &Tables, a: __m512d) -> (__m512d, __m512d) {
        let splat = _mm512_set1_pd;
        let (i, k, m) = split_by_interval(a);
        let inv_c = look_up(&t.inv_c, i);
        // m / c - 1 = z + z_lo exactly: the product's rounding error is
        // exact, and its rounded part minus 1 too (Sterbenz's lemma).
        let product = _mm512_mul_pd(m, inv_c);
        let z_lo = _mm512_fmsub_pd(m, inv_c, product);
        let z = _mm512_sub_pd(product, splat(1.0));
        // k ln2 + ln c: the high parts' sum is exact (multiples of 2^-42).
        let w = _mm512_fmadd_pd(k, splat(LN2_HI), look_up(&t.ln_c_hi, i));
        let w_lo = _mm512_fmadd_pd(k, splat(LN2_LO), look_up(&t.ln_c_lo, i));
        // w + z - z^2/2 with both roundings kept (Fast2Sum twice: |w| > |z|
        // unless w is 0, and z^2/2 is below 1.5% of |z|); z^2 is split
        // exactly, and half of it is exact.
        let s1 = _mm512_add_pd(w, z);
        let e1 = _mm512_add_pd(_mm512_sub_pd(w, s1), z);
        let zz = _mm512_mul_pd(z, z);
        let zz_lo = _mm512_fmsub_pd(z, z, zz);
        let h = _mm512_mul_pd(splat(-0.5), zz);
        let hi = _mm512_add_pd(s1, h);
        let e2 = _mm512_add_pd(_mm512_sub_pd(s1, hi), h);
        // The small terms: z^3 LN1P_R(z) (under 2^-11 of the result), and
        // z_lo / (1 + z) to second order (z_lo is below 2^-53).
        let cubic = _mm512_mul_pd(_mm512_mul_pd(zz, z), estrin_pd(&LN1P_R, z));
        let dz = _mm512_mul_pd(z_lo, _mm512_fmadd_pd(z, z, _mm512_sub_pd(splat(1.0), z)));
        let lo = _mm512_fmadd_pd(splat(-0.5), zz_lo, _mm512_add_pd(e1, e2));
        let lo = _mm512_add_pd(_mm512_add_pd(lo, dz), _mm512_add_pd(cubic, w_lo));
        (hi, lo)
    }

    /// e^(p + p_lo) for |p| < 700 and |p_lo| at most about an ulp of p:
    /// 2^(n/16) e^r, `n = round(16 p / ln2)`, |r| <= ln2/32 (see the module
    /// doc).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn exp_sum(t: &Tables, p: __m512d, p_lo: __m512d) -> __m512d {
        let splat = _mm512_set1_pd;
        // Adding SHIFT (1.5 * 2^52) rounds 16 p / ln2 to the integer n, held
        // in the low bits of the sum's pattern.
        let shifted = _mm512_fmadd_pd(p, splat(16.0 * INV_LN2), splat(SHIFT));
        let n_bits = _mm512_castpd_si512(shifted);
        let n = _mm512_sub_pd(shifted, splat(SHIFT));
        // p - n L16[0] is exact (n L16[0] has at most 52 bits, and the
        // difference is below 2^-5 and a multiple of p's ulp or of 2^-42).
        let r_hi = _mm512_fnmadd_pd(n, splat(L16[0]), p);
        let r_lo = _mm512_fnmadd_pd(n, splat(L16[1]), p_lo);
        let r = _mm512_add_pd(r_hi, r_lo);
        // e^r - 1 = r_hi + (r_lo + r^2 EXP_Q(r)).
        let tail = _mm512_fmadd_pd(_mm512_mul_pd(r, r), estrin_pd(&EXP_Q, r), r_lo);
        let e_r = _mm512_add_pd(r_hi, tail);
        // 2^(j/16) (1 + e_r) with j = n mod 16 (the permutes' low four bits),
        // rounded once at the end.
        let t_hi = look_up(&t.exp_t_hi, n_bits);
        let t_lo = look_up(&t.exp_t_lo, n_bits);
        let res = _mm512_add_pd(t_hi, _mm512_fmadd_pd(t_hi, e_r, t_lo));
        // 2^q, q = n >> 4, into the exponent: bits 4 to 15 of n_bits moved to
        // 52 to 63 (SHIFT's bits are zero there; the sum wraps like q's two's
        // complement). Exact: |p| < 700 keeps the result normal.
        let q = _mm512_slli_epi64::<52>(_mm512_srli_epi64::<4>(n_bits));
        _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(res), q))
    }
}

/// The table route of the AVX2 and AVX-512 kernels one lane at a time, the
/// tests' reference for their bits.
#[cfg(all(test, target_arch = "x86_64"))]
mod table_route {
    use super::super::arith::{Fma, SHIFT, abs, flip_sign, select};
    use super::super::consts::{INV_LN2, LN2_HI, LN2_LO};
    use super::super::consts_log::{LN_C_HI, LN_C_LO};
    use super::super::consts_pow::{EXP_Q, EXP_T_HI, EXP_T_LO, L16, LN1P_R};
    use super::super::consts_pow32::INV_C;
    use super::super::pow32::split_by_interval;

    /// `x^y` for the lanes where `pow_needs_full` is false, by the AVX2 and
    /// AVX-512 kernels' table route one lane at a time: the same operations in
    /// the same order, so the same bits. The tests' reference for those
    /// kernels: a loop of it reads its tables at computed indices, which the
    /// compiler does not vectorize (30 ns an element at AVX2, against 7.6 for
    /// `pow_ordinary`).
    pub(super) fn pow_ordinary_table<M: Fma>(x: f64, y: f64) -> f64 {
        if !M::FUSED {
            return x.powf(y);
        }
        let (hi, lo) = ln_two_doubles_table::<M>(abs(x));
        // y (hi + lo) as p + p_lo, the first product's rounding error exact.
        let p = y * hi;
        let p_lo = M::fma(y, lo, M::fma(y, hi, -p));
        let magnitude = exp_sum_table::<M>(p, p_lo);
        apply_sign_rule(x, y, magnitude)
    }

    /// `ln a` as `hi + lo` for a positive normal `a`, from the 16 intervals'
    /// tables (`avx512::ln_two_doubles`, one lane).
    fn ln_two_doubles_table<M: Fma>(a: f64) -> (f64, f64) {
        let (i, k, m) = split_by_interval(a);
        // m / c - 1 = z + z_lo exactly.
        let product = m * INV_C[i];
        let z_lo = M::fma(m, INV_C[i], -product);
        let z = product - 1.0;
        // k ln2 + ln c, the high parts' sum exact.
        let w = M::fma(k, LN2_HI, LN_C_HI[i]);
        let w_lo = M::fma(k, LN2_LO, LN_C_LO[i]);
        // w + z - z^2/2 with both roundings kept.
        let s1 = w + z;
        let e1 = (w - s1) + z;
        let zz = z * z;
        let zz_lo = M::fma(z, z, -zz);
        let h = -0.5 * zz;
        let hi = s1 + h;
        let e2 = (s1 - hi) + h;
        let cubic = (zz * z) * estrin::<M, 9>(z, &LN1P_R);
        let dz = z_lo * M::fma(z, z, 1.0 - z);
        let lo = M::fma(-0.5, zz_lo, e1 + e2);
        (hi, (lo + dz) + (cubic + w_lo))
    }

    /// e^(p + p_lo) for |p| < 700, as 2^(n/16) e^r (`avx512::exp_sum`, one
    /// lane).
    fn exp_sum_table<M: Fma>(p: f64, p_lo: f64) -> f64 {
        let shifted = M::fma(p, 16.0 * INV_LN2, SHIFT);
        let n_bits = shifted.to_bits();
        let n = shifted - SHIFT;
        let r_hi = M::fma(-n, L16[0], p);
        let r_lo = M::fma(-n, L16[1], p_lo);
        let r = r_hi + r_lo;
        let tail = M::fma(r * r, estrin::<M, 6>(r, &EXP_Q), r_lo);
        let e_r = r_hi + tail;
        let j = (n_bits & 15) as usize;
        let res = EXP_T_HI[j] + M::fma(EXP_T_HI[j], e_r, EXP_T_LO[j]);
        // 2^(n >> 4) into the exponent bits (the shift drops SHIFT's bits).
        f64::from_bits(res.to_bits().wrapping_add((n_bits >> 4) << 52))
    }

    /// C99's sign rule of a negative base on `magnitude` = |x|^y: negated for
    /// an odd integer `y`, NaN for a non-integer one. |y| is below
    /// `PRODUCT_BOUND` in the lanes that reach this, so y / 2 is exact.
    fn apply_sign_rule(x: f64, y: f64, magnitude: f64) -> f64 {
        let integer = y.trunc() == y;
        let half = 0.5 * y;
        let odd = integer && half.trunc() != half;
        let negative = x < 0.0;
        let r = flip_sign(magnitude, negative && odd);
        select(negative && !integer, f64::NAN, r)
    }

    /// Polynomial `c[0] + c[1] x + ...` by Estrin's scheme: the operations of
    /// the vector kernels' `estrin_pd` in their order.
    fn estrin<M: Fma, const N: usize>(x: f64, c: &[f64; N]) -> f64 {
        let mut terms = *c;
        let (mut len, mut power) = (N, x);
        while len > 1 {
            for i in 0..len / 2 {
                terms[i] = M::fma(terms[2 * i + 1], power, terms[2 * i]);
            }
            if len % 2 == 1 {
                terms[len / 2] = terms[len - 1];
            }
            len = len.div_ceil(2);
            power *= power;
        }
        terms[0]
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Level, POW_F64};
    use super::pow_needs_full;

    fn ulps(a: f64, b: f64) -> u64 {
        let key = |x: f64| {
            let bits = x.to_bits() as i64;
            if bits < 0 { i64::MIN - bits } else { bits }
        };
        key(a).abs_diff(key(b))
    }

    /// Against glibc's pow (within 0.52 ulp of the exact result) over pairs
    /// that reach the edges of the ordinary range: x from 2^-1022 to 2^1023,
    /// x next to 1 with large y, results near e^±700, integer and
    /// half-integer y, negative bases, plus the special values the loop
    /// hands to glibc.
    #[test]
    fn pow_is_within_one_ulp_of_glibc_and_nan_where_glibc_is() {
        let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1Du64);
        let unit = |r: u64| (r >> 11) as f64 / (1u64 << 53) as f64;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..300_000 {
            // log2 x uniform in [-1022, 1023], y such that |y log x| < 690.
            let lx = -1022.0 + 2045.0 * unit(next());
            let xv = 2f64.powf(lx) * (1.0 + unit(next()));
            let reach = 690.0 / (xv.ln().abs().max(1e-300));
            let yv = (2.0 * unit(next()) - 1.0) * reach.min(1e300);
            x.push(xv);
            y.push(yv);
            // Next to 1, with y up to 1e15.
            let near = 1.0 + (2.0 * unit(next()) - 1.0) * 1e-12;
            x.push(near);
            y.push((2.0 * unit(next()) - 1.0) * 1e15);
            // Integer and half-integer exponents of ordinary bases, of
            // both signs (a negative base: odd, even, or NaN).
            for sign in [1.0, -1.0] {
                x.push(sign * (0.01 + 100.0 * unit(next())));
                y.push(((next() % 60) as f64 - 30.0) * 0.5);
            }
            // Negative bases to any power, and to odd powers near the
            // bound of the ordinary lanes.
            x.push(-xv);
            y.push(yv);
            x.push(-(1.0 + unit(next())));
            y.push(((next() % 1000) as f64) * 2.0 - 999.0);
        }
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            2.0,
            -2.0,
            0.5,
            -3.5,
            1e-310,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for &a in &specials {
            for &b in &specials {
                x.push(a);
                y.push(b);
            }
        }
        let mut out = vec![0.0; x.len()];
        for level in Level::supported() {
            POW_F64.run(level, &x, &y, &mut out);
            for i in 0..x.len() {
                let want = x[i].powf(y[i]);
                let got = out[i];
                if want.is_nan() {
                    assert!(got.is_nan(), "{level:?}: pow({}, {}) = {got}", x[i], y[i]);
                    continue;
                }
                let d = ulps(got, want);
                assert!(
                    d <= 1,
                    "{level:?}: pow({:e}, {:e}) = {got:e}, glibc {want:e} ({d} ulps)",
                    x[i],
                    y[i]
                );
            }
        }
    }

    /// The AVX2 and AVX-512 kernels give the bits of the table route's lane
    /// function on the lanes they cover (the others are glibc's, checked
    /// above): bases across every binade and next to each interval's
    /// bounds, exponents up to the product bound, negative bases to integer
    /// and fractional powers, at every position of a vector and a tail.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_vector_kernels_give_the_bits_of_the_table_route() {
        use super::super::arith::HwFma;
        use super::table_route::pow_ordinary_table;
        if !Level::supported().contains(&Level::Avx2Fma) {
            return;
        }
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15u64);
        let unit = |r: u64| (r >> 11) as f64 / (1u64 << 53) as f64;
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..200_000 {
            let binade = (next() % 2046) as i32 - 1022;
            let m = match i % 3 {
                0 => 1.0 + unit(next()),
                // Next to the intervals' bounds (multiples of 1/24 from
                // 0.698), where the index turns.
                1 => 0.697_916_666 + (next() % 17) as f64 / 24.0 + (unit(next()) - 0.5) * 1e-12,
                _ => 1.0 + (unit(next()) - 0.5) * 1e-9,
            };
            let xv = m * 2f64.powi(binade);
            let e = f64::from(binade.abs() + 1);
            let yv = (2.0 * unit(next()) - 1.0) * 1000.0 / e;
            let sign = if matches!(next() % 5, 0) { -1.0 } else { 1.0 };
            let yv = if sign < 0.0 && i % 2 == 0 {
                yv.round()
            } else {
                yv
            };
            x.push(sign * xv);
            y.push(yv);
        }
        let want: Vec<f64> = (x.iter().zip(&y))
            .map(|(&a, &b)| pow_ordinary_table::<HwFma>(a, b))
            .collect();
        for level in [Level::Avx2Fma, Level::Avx512] {
            if !Level::supported().contains(&level) {
                continue;
            }
            for n in [x.len(), x.len() - 1, x.len() - 2, x.len() - 3] {
                let mut out = vec![0.0; n];
                POW_F64.run(level, &x[..n], &y[..n], &mut out);
                let mut ordinary = 0;
                for i in 0..n {
                    if pow_needs_full(x[i], y[i]) {
                        continue;
                    }
                    ordinary += 1;
                    assert_eq!(
                        out[i].to_bits(),
                        want[i].to_bits(),
                        "{level:?}: pow({:e}, {:e}) = {:e}, the lane function {:e}",
                        x[i],
                        y[i],
                        out[i],
                        want[i]
                    );
                }
                assert!(ordinary > n * 9 / 10, "{ordinary} of {n}");
            }
        }
    }

    /// Each kind of lane the vector kernels leave to glibc, alone in a run
    /// (so nothing else in its blocks asks for the scalar pass): the
    /// kernels' own test must mark it, and the result is glibc's.
    #[test]
    fn runs_of_lanes_left_to_glibc_alone_get_glibc_bits() {
        let pairs = [
            (0.0, 2.5),
            (-0.0, -3.0),
            (1e-310, 0.5),
            (f64::INFINITY, -0.5),
            (f64::NEG_INFINITY, 3.0),
            (f64::NAN, 1.0),
            (2.0, f64::NAN),
            (1.5, f64::INFINITY),
            // Past the product bound: |y| (|e| + 1) just above 1000.
            (2f64.powi(900), 1.11),
            (2f64.powi(-900), -1.11),
            (1e300, -1.01),
            (-(2f64.powi(500)), 3.0),
            (1.5, 1000.5),
        ];
        for (a, b) in pairs {
            assert!(pow_needs_full(a, b), "pow({a:e}, {b:e}) is ordinary");
            let want = a.powf(b);
            for level in Level::supported() {
                for n in [3, 4, 7, 600] {
                    let mut out = vec![0.0; n];
                    POW_F64.run(level, &vec![a; n], &vec![b; n], &mut out);
                    for got in out {
                        assert!(
                            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                            "{level:?}, n = {n}: pow({a:e}, {b:e}) = {got:e}, glibc {want:e}"
                        );
                    }
                }
            }
        }
    }
}
