//! Float64 `log1p`, `arcsinh`, `arccosh`, `arctanh`, `log2` and `log10` at
//! AVX-512, on a table-driven logarithm that divides nothing.
//!
//! In: a slice of f64. Out: the function of each element, within 4 ulps
//! like every function but exp and log (`vmath/mod.rs`): 1 ulp at most on the
//! mpmath data of `tests.rs`, and within 2 ulps of glibc on 1.2M inputs here,
//! where most lanes that differ from glibc are glibc's rounding, not ours.
//! Every lane takes the vector path, the IEEE results (±0, ±1 for `atanh`,
//! -1 for `log1p`, inf, NaN, out of the domain) set by `vfixupimmpd` from the
//! class of an intermediate value, except `arcsinh` of |x| >= 2^500 and of
//! inf, which the `explog` lane function recomputes, per block like
//! `map1_fixup!`.
//!
//! Why: on AVX-512 a `vdivpd` keeps the divider busy for 16 cycles and a
//! `vsqrtpd` for 24, about as long as 32 and 48 fused multiply-adds. The
//! `explog` lane functions divide two or three times a lane (`log`'s own
//! `f / (2 + f)`, `log1p`'s correction `e / u`, `asinh`'s and `atanh`'s
//! quotient) and `asinh` takes a square root, so NumPy's AVX-512 kernels,
//! which divide nothing, ran 1.6-2.6x faster.
//!
//! How:
//! - **ln(hi + lo)** ([`avx512`]'s `ln_sum`): `hi = 2^k m` with `m` in one of
//!   float32 `**`'s 16 intervals (`pow32.rs`, the same `OFF_BITS` and
//!   `INV_C`), `z = m / c - 1` by one fused multiply-add (|z| < 0.0298; exact
//!   in the interval holding 1, where `c = 1`),
//!   `ln(hi) = k ln2 + ln c + z + z^2 LN1P_Q(z)` with nine coefficients
//!   (2^-62 relative; `tests/data/vmath/fit_log.py`). `k LN2_HI + LN_C_HI` is
//!   exact (both multiples of 2^-42), and the rounding of adding `z` to it
//!   is kept (Fast2Sum). `lo / hi = 2^-k lo / c / (1 + z)`, to first order in
//!   `z`, with `1/c` from the table and `2^-k` by `vscalefpd`: `lo` is at
//!   most an ulp of `hi`, so the dropped `z^2` term is below 2^-62 of the
//!   result.
//! - **log1p x** = ln(u + e) with `u + e = 1 + x` exactly (TwoSum).
//! - **asinh |x|** = ln(w) with `w = |x| + sqrt(x^2 + 1)` as a sum of two
//!   f64 to about 2^-103: the square root by `vrsqrt14pd` and two coupled
//!   Newton steps (Goldschmidt's), then its residual `(q - s^2) / (2s)` by
//!   multiplication; below 2^-26 it is `x` itself.
//! - **acosh x** = ln(w) with `w = x + sqrt(x^2 - 1)` the same way, x^2 - 1
//!   from the exact square and a Fast2Sum; acosh 1 = 0 and NaN below 1 by
//!   blends, x >= 2^500, inf and NaN by the lane function.
//! - **atanh |x|** = ln((1 + |x|) / (1 - |x|)) / 2, numerator and
//!   denominator each an exact sum of two f64, the quotient one `1 / d` (the
//!   one division left) and a product, its residual by a fused multiply-add.
//! - **log2 x, log10 x** (`log_base`): the same intervals with tables of
//!   `log2 c` and `log10 c` (`k + log2 c` and `k log10(2) + log10 c` exact in
//!   their high parts), `z` exact as a sum of two f64, `z / ln b` split
//!   exactly; within 0.53 ulp of the exact result on the mpmath data of
//!   `ulps_vs_mpmath.py` (the lane functions: 0.92 and 1.6), so log2 of a
//!   power of two is exact. Zero, subnormals, negatives, inf and NaN go to
//!   the lane functions, as in `map1_fixup!`.
//!
//! At the other levels the `explog` lane functions run: only AVX-512 holds
//! a 16-entry table in two registers, one permute (`vpermt2pd`) a lookup;
//! elsewhere a lookup is a gather (about 40% of float32 `**`'s loop when it
//! used them).

/// The AVX-512 kernels (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::arith::HwFma;
    use super::super::avx512::{
        ATANH_CLASSES, LN_CLASSES, copysign_pd, estrin_pd, fix_up_pd, look_up, map_pd,
        split_by_interval, table16,
    };
    use super::super::consts::{INV_LN2_HI, INV_LN2_LO, LN2_HI, LN2_LO, LOG10_2_HI, LOG10_2_LO};
    use super::super::consts_log::{
        INV_LN10, LN_C_HI, LN_C_LO, LN1P_Q, LOG2_C_HI, LOG2_C_LO, LOG10_C_HI, LOG10_C_LO,
    };
    use super::super::consts_pow32::INV_C;
    use super::super::explog;
    use core::arch::x86_64::*;

    const SIGN: i64 = i64::MIN;

    /// The tables of `ln_sum`, each as two 8-lane registers.
    struct Tables {
        inv_c: [__m512d; 2],
        ln_c_hi: [__m512d; 2],
        ln_c_lo: [__m512d; 2],
    }

    /// `ln(1 + x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log1p(x: &[f64], out: &mut [f64]) {
        let t = tables();
        map_pd(x, out, |x| log1p_lanes(&t, x), explog::log1p::<HwFma>)
    }

    /// `asinh(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn asinh(x: &[f64], out: &mut [f64]) {
        let t = tables();
        map_pd(x, out, |x| asinh_lanes(&t, x), explog::asinh::<HwFma>)
    }

    /// `acosh(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn acosh(x: &[f64], out: &mut [f64]) {
        let t = tables();
        map_pd(x, out, |x| acosh_lanes(&t, x), explog::acosh::<HwFma>)
    }

    /// `atanh(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn atanh(x: &[f64], out: &mut [f64]) {
        let t = tables();
        map_pd(x, out, |x| atanh_lanes(&t, x), explog::atanh::<HwFma>)
    }

    /// `log2(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log2(x: &[f64], out: &mut [f64]) {
        let base = Base {
            inv_c: table16(&INV_C),
            c_hi: table16(&LOG2_C_HI),
            c_lo: table16(&LOG2_C_LO),
            log_2: [1.0, 0.0],
            inv_ln: [INV_LN2_HI, INV_LN2_LO],
        };
        map_pd(x, out, |x| log_base(&base, x), explog::log2::<HwFma>)
    }

    /// `log10(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log10(x: &[f64], out: &mut [f64]) {
        let base = Base {
            inv_c: table16(&INV_C),
            c_hi: table16(&LOG10_C_HI),
            c_lo: table16(&LOG10_C_LO),
            log_2: [LOG10_2_HI, LOG10_2_LO],
            inv_ln: INV_LN10,
        };
        map_pd(x, out, |x| log_base(&base, x), explog::log10::<HwFma>)
    }

    /// The constants of a logarithm to base b (`log_base`).
    struct Base {
        inv_c: [__m512d; 2],
        /// log_b c in two parts, the first a multiple of 2^-42.
        c_hi: [__m512d; 2],
        c_lo: [__m512d; 2],
        /// log_b 2 in two parts, the first times any exponent k exact.
        log_2: [f64; 2],
        /// 1 / ln b in two parts.
        inv_ln: [f64; 2],
    }

    /// log_b x on eight lanes, and the lanes that are not positive normal
    /// numbers (zero, subnormal, negative, inf, NaN), which the `explog`
    /// lane function recomputes.
    ///
    /// `log_b x = (k log_b 2 + log_b c) + log_b(1 + z)`: the first sum exact
    /// in its high parts, `z + z_lo = m / c - 1` exactly (the product and
    /// its rounding error, then Sterbenz's lemma), `z / ln b` split exactly
    /// and added to the sum with its rounding kept (Fast2Sum: the sum is 0
    /// or larger than `z / ln b` in magnitude), `ln(1 + z + z_lo) - z` is
    /// `z^2 LN1P_Q(z) + z_lo (1 - z)` to 2^-62, under 1.5% of the result.
    /// Rounded once at the end, so a power of two's log2 is exact.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn log_base(b: &Base, x: __m512d) -> (__m512d, __mmask8) {
        let splat = _mm512_set1_pd;
        let (i, k, m) = split_by_interval(x);
        let inv_c = look_up(&b.inv_c, i);
        let product = _mm512_mul_pd(m, inv_c);
        let z_lo = _mm512_fmsub_pd(m, inv_c, product);
        let z = _mm512_sub_pd(product, splat(1.0));
        let w = _mm512_fmadd_pd(k, splat(b.log_2[0]), look_up(&b.c_hi, i));
        let w_lo = _mm512_fmadd_pd(k, splat(b.log_2[1]), look_up(&b.c_lo, i));
        let u = _mm512_mul_pd(z, splat(b.inv_ln[0]));
        let u_err = _mm512_fmsub_pd(z, splat(b.inv_ln[0]), u);
        let s = _mm512_add_pd(w, u);
        let s_err = _mm512_add_pd(_mm512_sub_pd(w, s), u);
        let z2 = _mm512_mul_pd(z, z);
        let rest = _mm512_fmadd_pd(z2, estrin_pd(&LN1P_Q, z), _mm512_fnmadd_pd(z_lo, z, z_lo));
        let tail = _mm512_fmadd_pd(
            rest,
            splat(b.inv_ln[0]),
            _mm512_fmadd_pd(z, splat(b.inv_ln[1]), w_lo),
        );
        let res = _mm512_add_pd(s, _mm512_add_pd(_mm512_add_pd(s_err, u_err), tail));
        // One unsigned comparison: zero and subnormals wrap around below
        // MIN_POSITIVE, negatives, inf and NaN lie at or above inf.
        let offset = _mm512_sub_epi64(
            _mm512_castpd_si512(x),
            _mm512_set1_epi64(f64::MIN_POSITIVE.to_bits() as i64),
        );
        let span = (f64::INFINITY.to_bits() - f64::MIN_POSITIVE.to_bits()) as i64;
        (
            res,
            _mm512_cmpge_epu64_mask(offset, _mm512_set1_epi64(span)),
        )
    }

    /// The tables of `ln_sum`, loaded.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn tables() -> Tables {
        Tables {
            inv_c: table16(&INV_C),
            ln_c_hi: table16(&LN_C_HI),
            ln_c_lo: table16(&LN_C_LO),
        }
    }

    /// log1p on eight lanes, every input (no lane is left to the scalar pass).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn log1p_lanes(t: &Tables, x: __m512d) -> (__m512d, __mmask8) {
        let one = _mm512_set1_pd(1.0);
        // TwoSum: u + e = 1 + x exactly.
        let u = _mm512_add_pd(one, x);
        let bb = _mm512_sub_pd(u, one);
        let e = _mm512_add_pd(
            _mm512_sub_pd(one, _mm512_sub_pd(u, bb)),
            _mm512_sub_pd(x, bb),
        );
        // For u outside (0, inf) the IEEE results, chosen by u's class
        // (`vfixupimmpd`; u is never subnormal: 1 + x >= 2^-53 above -1).
        let res = fix_up_pd(ln_sum(t, u, e), u, LN_CLASSES);
        // The result has x's sign; OR-ing it in makes log1p(-0) = -0
        // (ternary-logic table 0xF8: res | (x & SIGN)).
        let res = _mm512_ternarylogic_epi64::<0xF8>(
            _mm512_castpd_si512(res),
            _mm512_castpd_si512(x),
            _mm512_set1_epi64(SIGN),
        );
        (_mm512_castsi512_pd(res), 0)
    }

    /// asinh on eight lanes, and the lanes with |x| >= 2^500 (NaN passes
    /// through the arithmetic).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn asinh_lanes(t: &Tables, x: __m512d) -> (__m512d, __mmask8) {
        let splat = _mm512_set1_pd;
        let one = splat(1.0);
        let a = _mm512_abs_pd(x);
        // Below 2^500, a^2 + 1 and its square root stay normal and finite.
        let special = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(a, splat(2f64.powi(500)));
        // q = a^2 + 1 as q_hi + q_lo: 1 - q_hi is exact while q_hi < 2^53,
        // and beyond, where it rounds, the 1 no longer matters.
        let q_hi = _mm512_fmadd_pd(a, a, one);
        let q_lo = _mm512_fmadd_pd(a, a, _mm512_sub_pd(one, q_hi));
        let (g, s_lo) = sqrt_sum(q_hi, q_lo);
        // w = a + sqrt(q) as w_hi + w_lo (Fast2Sum: g >= a).
        let w_hi = _mm512_add_pd(g, a);
        let w_lo = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(g, w_hi), a), s_lo);
        let res = ln_sum(t, w_hi, w_lo);
        // Below 2^-26 asinh a rounds to a (a^3 / 6 is under half an ulp),
        // and the sum's 2^-103 would no longer be small beside it (unless
        // g is exactly 1 there, as it is with the rsqrt14 of this CPU).
        let tiny = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, splat(2f64.powi(-26)));
        let res = _mm512_mask_blend_pd(tiny, res, a);
        (copysign_pd(res, x), special)
    }

    /// sqrt(q_hi + q_lo) as `g + s_lo` to about 2^-104, for positive normal
    /// `q_hi` and |q_lo| at most about an ulp of it, without `vsqrtpd`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn sqrt_sum(q_hi: __m512d, q_lo: __m512d) -> (__m512d, __m512d) {
        let half = _mm512_set1_pd(0.5);
        // g -> sqrt(q) and h -> 1 / (2 sqrt(q)) from a 2^-14 estimate; each
        // step squares the relative error (2^-28, then about 2^-52).
        let y = _mm512_rsqrt14_pd(q_hi);
        let mut g = _mm512_mul_pd(q_hi, y);
        let mut h = _mm512_mul_pd(half, y);
        for _ in 0..2 {
            let r = _mm512_fnmadd_pd(g, h, half);
            g = _mm512_fmadd_pd(g, r, g);
            h = _mm512_fmadd_pd(h, r, h);
        }
        // sqrt(q) = g + (q - g^2) / (2g); q_hi - g^2 is small, so the fused
        // form rounds it once.
        let d = _mm512_add_pd(_mm512_fnmadd_pd(g, g, q_hi), q_lo);
        (g, _mm512_mul_pd(d, h))
    }

    /// acosh on eight lanes, and the lanes with x >= 2^500 or NaN.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn acosh_lanes(t: &Tables, x: __m512d) -> (__m512d, __mmask8) {
        let splat = _mm512_set1_pd;
        let one = splat(1.0);
        let special = _mm512_cmp_pd_mask::<_CMP_NLT_UQ>(x, splat(2f64.powi(500)));
        // q = x^2 - 1 as q_hi + q_lo: x^2 = p + p_lo exactly, then p - 1 by
        // Fast2Sum (p >= 1 wherever the result is not NaN).
        let p = _mm512_mul_pd(x, x);
        let p_lo = _mm512_fmsub_pd(x, x, p);
        let q_hi = _mm512_sub_pd(p, one);
        let q_lo = _mm512_add_pd(_mm512_sub_pd(_mm512_sub_pd(p, q_hi), one), p_lo);
        let (g, s_lo) = sqrt_sum(q_hi, q_lo);
        // w = x + sqrt(q) as w_hi + w_lo (Fast2Sum: x >= g).
        let w_hi = _mm512_add_pd(x, g);
        let w_lo = _mm512_add_pd(_mm512_add_pd(_mm512_sub_pd(x, w_hi), g), s_lo);
        let res = ln_sum(t, w_hi, w_lo);
        // x = 1 gives q = 0, whose reciprocal square root is inf: acosh 1 = 0;
        // below 1, NaN.
        let res = _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(x, one), res, splat(0.0));
        let below = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(x, one);
        (_mm512_mask_blend_pd(below, res, splat(f64::NAN)), special)
    }

    /// atanh on eight lanes, every input.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn atanh_lanes(t: &Tables, x: __m512d) -> (__m512d, __mmask8) {
        let one = _mm512_set1_pd(1.0);
        let a = _mm512_abs_pd(x);
        // 1 + a and 1 - a, each exactly as a sum (Fast2Sum: 1 >= a).
        let n_hi = _mm512_add_pd(one, a);
        let n_lo = _mm512_add_pd(_mm512_sub_pd(one, n_hi), a);
        let d_hi = _mm512_sub_pd(one, a);
        let d_lo = _mm512_sub_pd(_mm512_sub_pd(one, d_hi), a);
        // u = n / d as u_hi + u_lo: u_hi = n_hi / d_hi within about an ulp,
        // and the fused form gives the remainder n_hi - u_hi d_hi rounded once
        // (exactly when u_hi is a faithful quotient); a rounding of it is
        // 2^-53 of a term already 2^-52 of u.
        let inv_d = _mm512_div_pd(one, d_hi);
        let u_hi = _mm512_mul_pd(n_hi, inv_d);
        let rem = _mm512_add_pd(_mm512_fnmadd_pd(u_hi, d_hi, n_hi), n_lo);
        let u_lo = _mm512_mul_pd(_mm512_fnmadd_pd(u_hi, d_lo, rem), inv_d);
        // |x| = 1 gives d = 0 and inf, |x| > 1 a negative d and NaN.
        let res = fix_up_pd(ln_sum(t, u_hi, u_lo), d_hi, ATANH_CLASSES);
        let res = _mm512_mul_pd(_mm512_set1_pd(0.5), res);
        (copysign_pd(res, x), 0)
    }

    /// ln(hi + lo) for positive, normal, finite `hi` and |lo| at most about
    /// an ulp of `hi` (see the module doc).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn ln_sum(t: &Tables, hi: __m512d, lo: __m512d) -> __m512d {
        let splat = _mm512_set1_pd;
        let fma = |a, b, c| _mm512_fmadd_pd(a, b, c);
        let (i, k, m) = split_by_interval(hi);
        let inv_c = look_up(&t.inv_c, i);
        let ln_c_hi = look_up(&t.ln_c_hi, i);
        let ln_c_lo = look_up(&t.ln_c_lo, i);
        let z = fma(m, inv_c, splat(-1.0));
        // lo / hi = 2^-k (lo / c) (1 - z + ...).
        let lo_c = _mm512_scalef_pd(_mm512_mul_pd(lo, inv_c), _mm512_sub_pd(splat(0.0), k));
        let correction = _mm512_fnmadd_pd(lo_c, z, lo_c);
        // Exact: both terms are multiples of 2^-42 below 2^10.
        let w = fma(k, splat(LN2_HI), ln_c_hi);
        // Fast2Sum: |w| >= |z| (w is 0 only in the interval holding 1).
        let s = _mm512_add_pd(w, z);
        let s_err = _mm512_add_pd(_mm512_sub_pd(w, s), z);
        // LN1P_Q(z) by Estrin's scheme: four levels of fused multiply-adds
        // deep instead of Horner's eight, one operation more; the loop waits
        // on this chain.
        let q = |i: usize| splat(LN1P_Q[i]);
        let z2 = _mm512_mul_pd(z, z);
        let z4 = _mm512_mul_pd(z2, z2);
        let q01 = fma(q(1), z, q(0));
        let q23 = fma(q(3), z, q(2));
        let q45 = fma(q(5), z, q(4));
        let q678 = fma(fma(q(8), z, q(7)), z, q(6));
        let q0123 = fma(q23, z2, q01);
        let q45678 = fma(q678, z2, q45);
        let p = fma(q45678, z4, q0123);
        let tail = fma(z2, p, fma(k, splat(LN2_LO), ln_c_lo));
        let tail = _mm512_add_pd(_mm512_add_pd(tail, s_err), correction);
        _mm512_add_pd(s, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check_against_glibc, glibc, mixed_inputs};
    use super::super::{
        ARCCOSH_F64, ARCSINH_F64, ARCTANH_F64, LOG1P_F64, LOG2_F64, LOG10_F64, Level,
    };

    /// Inputs over every range the kernels treat apart: any bit pattern,
    /// |x| from 2^-60 to 2^40 on a log scale (both signs), next to 0 where
    /// the functions are x to first order, next to ±1 (atanh's poles,
    /// log1p's -1), each table interval of 1 + x, and special values mixed
    /// among ordinary lanes in the same blocks.
    fn inputs() -> Vec<f64> {
        let specials = [
            -1.5,
            -f64::MIN_POSITIVE,
            2f64.powi(500),
            -2f64.powi(500) * (1.0 - f64::EPSILON),
        ];
        mixed_inputs(
            0x2545_F491_4F6C_DD1D,
            &specials,
            |i, r, unit, sign| match i % 6 {
                0 => f64::from_bits(r),
                1 => sign * (unit * 100.0 - 60.0).exp2(),
                2 => sign * unit * 2.0f64.powi(-20),
                3 => sign * (1.0 - (unit * 53.0).exp2() * f64::EPSILON / 2.0),
                4 => unit * 2.0 - 0.5,
                _ => sign * unit * 20.0,
            },
        )
    }

    /// Within 2 ulps of glibc (so within 3 of the exact result, inside the
    /// bound of 4; the mpmath data in `tests.rs` measures the error itself),
    /// at every level, every lane on its own.
    #[test]
    fn within_two_ulps_of_glibc_at_every_level() {
        let x = inputs();
        check_against_glibc("log1p", &LOG1P_F64, glibc::log1p, &x, 2);
        check_against_glibc("arcsinh", &ARCSINH_F64, glibc::asinh, &x, 2);
        check_against_glibc("arctanh", &ARCTANH_F64, glibc::atanh, &x, 2);
        check_against_glibc("arccosh", &ARCCOSH_F64, glibc::acosh, &x, 2);
    }

    /// log2 and log10 within 2 ulps of glibc at every level (the AVX-512
    /// kernels are within about half an ulp of the exact result, the
    /// baseline lane functions up to 2 ulps), over the same inputs (the
    /// negative ones are NaN) and the whole positive range, subnormals
    /// included; log2 of a power of two and log10 of an exact power of ten
    /// are exact.
    #[test]
    fn log2_and_log10_within_two_ulps_of_glibc_and_exact_at_powers() {
        let mut x = inputs();
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        x.extend((0..400_000).map(|_| f64::from_bits(next() >> 1)));
        check_against_glibc("log2", &LOG2_F64, glibc::log2, &x, 2);
        check_against_glibc("log10", &LOG10_F64, glibc::log10, &x, 2);
        // 2^k from its bits (`powi` would form 2^-1074 as 1 / 2^1074 = 0).
        let two_to = |k: i64| match k {
            ..-1022 => f64::from_bits(1 << (k + 1074)),
            _ => f64::from_bits(((k + 1023) as u64) << 52),
        };
        let powers_of_two: Vec<f64> = (-1074..1024).map(two_to).collect();
        let powers_of_ten: Vec<f64> = (0..23).map(|k| 10f64.powi(k)).collect();
        let mut out = vec![0.0; powers_of_two.len()];
        for level in Level::supported() {
            LOG2_F64.run(level, &powers_of_two, &mut out);
            for (k, &got) in (-1074..1024).zip(&out) {
                assert_eq!(got, k as f64, "{level:?}: log2(2^{k})");
            }
            LOG10_F64.run(level, &powers_of_ten, &mut out[..23]);
            for (k, &got) in out[..23].iter().enumerate() {
                assert_eq!(got, k as f64, "{level:?}: log10(1e{k})");
            }
        }
    }
}
