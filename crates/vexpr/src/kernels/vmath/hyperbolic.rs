//! Float64 `sinh` and `cosh` at AVX-512, from e^r and e^-r of one reduction
//! and no division; float32 `tanh` without a division.
//!
//! In: a slice of f64. Out: the function of each element, within 4 ulps like
//! every function but exp and log (`vmath/mod.rs`; measured against mpmath
//! and glibc in the tests). Lanes with |x| > 709, where 2^k of the reduction
//! would leave the range (inf among them), get the `explog` lane function's
//! bits, recomputed per block; NaN passes through the arithmetic.
//!
//! Why: the lane functions take `expm1` or `exp` and then a quotient
//! (`h + h / (2h + 1)`, `h + 1 / (4h)`), and a 512-bit division holds the
//! divider for 16 cycles, as long as 32 fused multiply-adds (`logtable.rs`).
//!
//! How: |x| = k ln2 + r with |r| <= ln2/2 (Cody-Waite, `r` rounded once).
//! `cosh r = 1 + r^2 COSH_C(r^2)` and `sinh r = r + r^3 SINH_S(r^2)`, five
//! coefficients each (`tests/data/vmath/fit_hyperbolic.py`), are e^r's even
//! and odd parts, so e^-r costs nothing more, and
//! - `cosh x = cosh(k ln2) cosh r + sinh(k ln2) sinh r`,
//! - `sinh x = sinh(k ln2) cosh r + cosh(k ln2) sinh r`,
//!
//! with `cosh(k ln2), sinh(k ln2) = 2^(k-1) ± 2^(-k-1)` (`vscalefpd`). The
//! second term is at most a third of the first for `cosh`, and for `sinh` of
//! |x| >= 1 at most 0.38 of it (where k = 2 and r = -ln2/2), so neither
//! cancels much; below 1 `sinh x = x + x^3 SINH_SMALL(x^2)`, eight
//! coefficients.
//!
//! **Float32 `tanh`** = e / (e + 2) with e = e^(2|x|) - 1, the operations of
//! `explog32::tanh` but the quotient: a 512-bit `vdivps` holds the divider
//! for about 13 cycles, longer than the rest of the function takes, so the
//! quotient is `vrcp14ps`'s estimate (2^-14) times e, corrected once with
//! its exact residual (`q + (e - q d) / d`, to about 2^-28 before rounding).
//!
//! At the other levels the lane functions run (there a division is half the
//! lanes and half the cost).

/// The AVX-512 kernels (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::arith::{HwFma, SHIFT};
    use super::super::arith32::SHIFT32;
    use super::super::avx512::{map_pd, map_ps16};
    use super::super::consts::{INV_LN2, LN2_HI, LN2_LO};
    use super::super::consts_hyperbolic::{COSH_C, SINH_S, SINH_SMALL};
    use super::super::consts32::{EXP32_P, INV_LN2_32_HI, LN2_32_HI, LN2_32_LO};
    use super::super::explog;
    use core::arch::x86_64::*;

    /// Above this |x| the lanes go to the `explog` lane function: 2^(k-1)
    /// stays finite and 2^(-k-1) above the subnormals' floor below it.
    const FAST_MAX: f64 = 709.0;

    /// `sinh(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn sinh(x: &[f64], out: &mut [f64]) {
        map_pd(x, out, |x| sinh_lanes(x), explog::sinh::<HwFma>)
    }

    /// `cosh(x[i])` into `out[i]`.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn cosh(x: &[f64], out: &mut [f64]) {
        map_pd(x, out, |x| cosh_lanes(x), explog::cosh::<HwFma>)
    }

    /// cosh r - 1, sinh r, cosh(k ln2) and sinh(k ln2) for |x| = k ln2 + r.
    struct Reduced {
        cosh_r_less_1: __m512d,
        sinh_r: __m512d,
        cosh_k: __m512d,
        sinh_k: __m512d,
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn reduce(a: __m512d) -> Reduced {
        let splat = _mm512_set1_pd;
        // k = round(a / ln2) by the 1.5 * 2^52 shift; k ln2_hi is exact.
        let kd = _mm512_sub_pd(
            _mm512_fmadd_pd(a, splat(INV_LN2), splat(SHIFT)),
            splat(SHIFT),
        );
        let r_hi = _mm512_fnmadd_pd(kd, splat(LN2_HI), a);
        let r = _mm512_fnmadd_pd(kd, splat(LN2_LO), r_hi);
        let s = _mm512_mul_pd(r, r);
        let cosh_r_less_1 = _mm512_mul_pd(s, horner(&COSH_C, s));
        let sinh_r = _mm512_fmadd_pd(_mm512_mul_pd(r, s), horner(&SINH_S, s), r);
        let up = _mm512_scalef_pd(splat(0.5), kd);
        let down = _mm512_scalef_pd(splat(0.5), _mm512_sub_pd(splat(0.0), kd));
        Reduced {
            cosh_r_less_1,
            sinh_r,
            cosh_k: _mm512_add_pd(up, down),
            sinh_k: _mm512_sub_pd(up, down),
        }
    }

    /// sinh on eight lanes, and the lanes with |x| > [`FAST_MAX`].
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn sinh_lanes(x: __m512d) -> (__m512d, __mmask8) {
        let a = _mm512_abs_pd(x);
        let special = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, _mm512_set1_pd(FAST_MAX));
        let e = reduce(a);
        let big = _mm512_add_pd(e.sinh_k, tail(e.sinh_k, &e, e.cosh_k));
        let s = _mm512_mul_pd(a, a);
        let small = _mm512_fmadd_pd(_mm512_mul_pd(a, s), horner(&SINH_SMALL, s), a);
        let below_1 = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, _mm512_set1_pd(1.0));
        let res = _mm512_mask_blend_pd(below_1, big, small);
        // x's sign (ternary-logic table 0xD8: the sign bit from x, the rest
        // from res), so sinh(-0) = -0.
        let res = _mm512_ternarylogic_epi64::<0xD8>(
            _mm512_castpd_si512(res),
            _mm512_castpd_si512(x),
            _mm512_set1_epi64(i64::MIN),
        );
        (_mm512_castsi512_pd(res), special)
    }

    /// cosh on eight lanes, and the lanes with |x| > [`FAST_MAX`].
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn cosh_lanes(x: __m512d) -> (__m512d, __mmask8) {
        let a = _mm512_abs_pd(x);
        let special = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(a, _mm512_set1_pd(FAST_MAX));
        let e = reduce(a);
        (
            _mm512_add_pd(e.cosh_k, tail(e.cosh_k, &e, e.sinh_k)),
            special,
        )
    }

    /// `first (cosh r - 1) + second sinh r`: what the result adds to `first`
    /// (`first cosh r + second sinh r`). Kept apart from `first`, exact for
    /// k < 27, so that neither cosh r's rounding nor the partial cancellation
    /// when r < 0 costs more than a fraction of an ulp.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn tail(first: __m512d, e: &Reduced, second: __m512d) -> __m512d {
        _mm512_fmadd_pd(first, e.cosh_r_less_1, _mm512_mul_pd(second, e.sinh_r))
    }

    /// `tanh(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn tanh_f32(x: &[f32], out: &mut [f32]) {
        map_ps16(x, out, |x| tanh_f32_lanes(x))
    }

    /// Float32 tanh on 16 lanes, every input: |x| is clamped to 10, where
    /// tanh rounds to 1 (inf too), and NaN passes the clamp and every
    /// operation.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn tanh_f32_lanes(x: __m512) -> __m512 {
        let splat = _mm512_set1_ps;
        let a = _mm512_abs_ps(x);
        // `vminps` returns its second operand when either is NaN.
        let y = _mm512_mul_ps(splat(2.0), _mm512_min_ps(splat(10.0), a));
        // e = 2^k (e^r - 1) + (2^k - 1) for y = k ln2 + r (`expm1_normal`).
        let shifted = _mm512_fmadd_ps(y, splat(INV_LN2_32_HI), splat(SHIFT32));
        let kd = _mm512_sub_ps(shifted, splat(SHIFT32));
        let r = _mm512_fnmadd_ps(kd, splat(LN2_32_HI), y);
        let r = _mm512_fnmadd_ps(kd, splat(LN2_32_LO), r);
        let mut p = splat(EXP32_P[EXP32_P.len() - 1]);
        for &c in EXP32_P[..EXP32_P.len() - 1].iter().rev() {
            p = _mm512_fmadd_ps(p, r, splat(c));
        }
        let expm1_r = _mm512_fmadd_ps(_mm512_mul_ps(r, r), p, r);
        let scale = _mm512_scalef_ps(splat(1.0), kd);
        let e = _mm512_fmadd_ps(scale, expm1_r, _mm512_sub_ps(scale, splat(1.0)));
        // e / d, d = e + 2 >= 2: the estimate's quotient, corrected once.
        let d = _mm512_add_ps(e, splat(2.0));
        let inv = _mm512_rcp14_ps(d);
        let q = _mm512_mul_ps(e, inv);
        let q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d, e), inv, q);
        // x's sign (ternary-logic table 0xD8), so tanh(-0) = -0.
        _mm512_castsi512_ps(_mm512_ternarylogic_epi32::<0xD8>(
            _mm512_castps_si512(q),
            _mm512_castps_si512(x),
            _mm512_set1_epi32(i32::MIN),
        ))
    }

    /// `c[0] + c[1] s + ...` by Horner's scheme.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn horner<const N: usize>(c: &[f64; N], s: __m512d) -> __m512d {
        let mut p = _mm512_set1_pd(c[N - 1]);
        for &ci in c[..N - 1].iter().rev() {
            p = _mm512_fmadd_pd(p, s, _mm512_set1_pd(ci));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check_against_glibc, glibc, mixed_inputs};
    use super::super::{COSH_F64, SINH_F64};

    /// Inputs over every range the kernels treat apart: any bit pattern, the
    /// ordinary range on a linear and on a log scale (both signs), around 1
    /// (where `sinh` changes form) and around each k ln2 / 2 (where k
    /// changes), next to the overflow and the bound of the vector path, and
    /// special values mixed among ordinary lanes in the same blocks.
    fn inputs() -> Vec<f64> {
        let specials = [
            709.0,
            -709.0000000000001,
            710.4758600739439,
            710.475860073944,
        ];
        mixed_inputs(
            0x9E37_79B9_7F4A_7C15,
            &specials,
            |i, r, unit, sign| match i % 6 {
                0 => f64::from_bits(r),
                1 => sign * (unit * 70.0 - 60.0).exp2(),
                2 => sign * unit * 712.0,
                3 => sign * (1.0 + (unit - 0.5) * 2f64.powi(-20)),
                4 => {
                    let k = (r >> 40) % 2048;
                    sign * (k as f64 * std::f64::consts::LN_2 / 2.0 + (unit - 0.5) * 1e-12)
                }
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
        check_against_glibc("sinh", &SINH_F64, glibc::sinh, &x, 3);
        check_against_glibc("cosh", &COSH_F64, glibc::cosh, &x, 2);
    }
}
