//! Float32 `log`, `log2`, `log10`, `log1p`, `arcsinh`, `arccosh` and `arctanh`
//! at AVX-512 on a logarithm without a division.
//!
//! In: a slice of f32. Out: the function of each element, every input on the vector
//! path: subnormals through `vgetmantps`/`vgetexpps`, which normalize them,
//! and ±0, negatives, inf and NaN set by `vfixupimmps` from the input's class
//! (`LN_CLASSES`; for `log1p` from the class of 1 + x, for `arctanh` of
//! 1 - |x|). On all 2^32 inputs (`examples/f32_exhaustive.rs`) within 1 ulp,
//! but `arccosh`: 2 ulps at 8 inputs near 1.03 (its lane function: 21),
//! where the square root's rounding shows; log2 of a power of two and log10
//! of a power of ten are exact (tested below).
//!
//! Why: the lane functions (`explog32.rs`) take fdlibm's `f / (2 + f)` and
//! test every lane for the fallback; NumPy's float32 kernels divide nothing
//! and ran 6-15% faster on log2 and log10; `log1p`'s lane function divides
//! twice, and those of `arcsinh`, `arccosh` and `arctanh` send their special
//! lanes (inf, NaN, out of the domain) to the scalar f64 functions.
//!
//! How (the table-driven logarithm of vector math libraries, with each
//! table in one register): `x = 2^k m` with `m` in [1, 2) (`vgetmantps`,
//! `vgetexpps`); `m`'s top four mantissa bits pick one of 16 intervals, whose
//! `1/c` (a multiple of 1/32) and `-log_b(1/c)` (in two parts) are one
//! `vpermps` each. `z = m/c - 1` is exact in one fused multiply-add (a
//! multiple of 2^-28 below 2^-4; `fit_log32.py` checks it), and
//! `log_b x = (k log_b 2 - log_b(1/c)) + log_b(1 + z)`: the first sum exact in
//! its high parts (k times the high part of log_b 2 plus a table's high part
//! fits 24 bits for every float32 exponent), `log_b(1 + z)` is
//! `z / ln b + z^2 P(z)` with four coefficients (2^-27 relative),
//! `z / ln b` rounded only in the last fused multiply-add before the final
//! sum. The interval holding 1 has `1/c = 1` and the last one `1/c = 1/2`,
//! so that just above a power of two `z = m - 1`, and just below one the
//! first sum cancels to exactly 0: the result keeps its relative accuracy
//! next to 1. `log1p x` is `ln(u + c)` with `1 + x = u + c` exactly
//! (TwoSum) and `c/u` added to the tail to first order in `z`; `arcsinh` and
//! `arccosh` are the lane functions' formulas on that `ln(u + c)`, `arctanh`
//! theirs with the quotient by `vrcp14ps` and its exact residual.
//!
//! At the other levels the `explog32` lane functions run (a lookup there is
//! a gather or eight registers).

/// The AVX-512 kernels (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::avx512::{
        ATANH_CLASSES, LN_CLASSES, copysign_ps, fix_up_ps, horner_ps, load_ps16, map_ps16,
    };
    use super::super::consts_log32::*;
    use super::super::consts32::{ASINH32_H, ATANH32_H, LN2_32};
    use super::super::explog32::{BIG, SMALL_ASINH};
    use core::arch::x86_64::*;

    /// The constants of a logarithm to base b (`log_base`).
    struct Base {
        /// log_b 2 in two parts: k times the first plus a `t_hi` entry is
        /// exact.
        log_2: [f32; 2],
        /// 1 / ln b in two parts.
        inv_ln: [f32; 2],
        /// 1/c of each interval of m (`INV_C`).
        inv_c: __m512,
        /// -log_b(1/c) of each interval, in two parts.
        t_hi: __m512,
        t_lo: __m512,
        /// log_b(1 + z) = z / ln b + z^2 P(z).
        p: [f32; 4],
    }

    impl Base {
        /// The natural logarithm's.
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn ln() -> Base {
            Base::new(LN_LOG_2, LN_INV_LN, &LN_T_HI, &LN_T_LO, LN_P)
        }

        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn log2() -> Base {
            Base::new(LOG2_LOG_2, LOG2_INV_LN, &LOG2_T_HI, &LOG2_T_LO, LOG2_P)
        }

        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn log10() -> Base {
            Base::new(LOG10_LOG_2, LOG10_INV_LN, &LOG10_T_HI, &LOG10_T_LO, LOG10_P)
        }

        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn new(
            log_2: [f32; 2],
            inv_ln: [f32; 2],
            t_hi: &[f32; 16],
            t_lo: &[f32; 16],
            p: [f32; 4],
        ) -> Base {
            let (t_hi, t_lo) = (load_ps16(t_hi), load_ps16(t_lo));
            let inv_c = load_ps16(&INV_C);
            Base {
                log_2,
                inv_ln,
                inv_c,
                t_hi,
                t_lo,
                p,
            }
        }
    }

    /// `ln(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::ln();
        map_ps16(x, out, |x| log_base(&base, x))
    }

    /// `log2(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log2_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::log2();
        map_ps16(x, out, |x| log_base(&base, x))
    }

    /// `log10(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log10_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::log10();
        map_ps16(x, out, |x| log_base(&base, x))
    }

    /// `log1p(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn log1p_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::ln();
        map_ps16(x, out, |x| log1p_lanes(&base, x))
    }

    /// log(1 + x) on 16 lanes, every input: ln(u + c) for 1 + x = u + c
    /// exactly (TwoSum).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn log1p_lanes(b: &Base, x: __m512) -> __m512 {
        let splat = _mm512_set1_ps;
        let u = _mm512_add_ps(splat(1.0), x);
        let x_part = _mm512_sub_ps(u, splat(1.0));
        let one_part = _mm512_sub_ps(u, x_part);
        let c = _mm512_add_ps(
            _mm512_sub_ps(splat(1.0), one_part),
            _mm512_sub_ps(x, x_part),
        );
        let res = ln_sum(b, u, Some(c));
        // Tiny x rounds to x, and -0 must stay -0 (u = 1 and c = -0 give +0).
        let tiny = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(x), splat(6.0e-8));
        _mm512_mask_mov_ps(res, tiny, x)
    }

    /// `arcsinh(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn asinh_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::ln();
        map_ps16(x, out, |x| asinh_lanes(&base, x))
    }

    /// `arccosh(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn acosh_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::ln();
        map_ps16(x, out, |x| acosh_lanes(&base, x))
    }

    /// `arctanh(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn atanh_f32(x: &[f32], out: &mut [f32]) {
        let base = Base::ln();
        map_ps16(x, out, |x| atanh_lanes(&base, x))
    }

    /// asinh x on 16 lanes, every input: `explog32::asinh_normal`'s
    /// formulas (an odd polynomial up to 0.5212; above, ln(w) for the exact
    /// pair w = a + sqrt(a^2 + 1); above 2^12, ln a + ln 2) on [`ln_sum`].
    /// inf and NaN pass through the operations and the fix-up.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn asinh_lanes(b: &Base, x: __m512) -> __m512 {
        let splat = _mm512_set1_ps;
        let a = _mm512_abs_ps(x);
        let z = _mm512_mul_ps(a, a);
        let small = _mm512_fmadd_ps(_mm512_mul_ps(z, a), horner_ps(&ASINH32_H, z), a);
        let s = _mm512_sqrt_ps(_mm512_fmadd_ps(a, a, splat(1.0)));
        // s > a.
        let res = ln_of_pair_or_big(b, a, s, a);
        let is_small = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a, splat(SMALL_ASINH));
        copysign_ps(_mm512_mask_mov_ps(res, is_small, small), x)
    }

    /// acosh x on 16 lanes, every input: ln(w) for the exact pair
    /// w = x + sqrt(x^2 - 1) (x^2 - 1 rounded once), above 2^12 ln x + ln 2
    /// (`explog32::acosh_normal`); NaN below 1 (and for NaN), acosh 1 = +0.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn acosh_lanes(b: &Base, x: __m512) -> __m512 {
        let splat = _mm512_set1_ps;
        let s = _mm512_sqrt_ps(_mm512_fmsub_ps(x, x, splat(1.0)));
        // x >= s.
        let res = ln_of_pair_or_big(b, x, x, s);
        // Below -1 x + s cancels to a small positive number: no NaN by itself.
        let below_one = _mm512_cmp_ps_mask::<_CMP_NGE_UQ>(x, splat(1.0));
        _mm512_mask_mov_ps(res, below_one, splat(f32::NAN))
    }

    /// ln(big + small) for big >= small >= 0 as the exact pair (Fast2Sum),
    /// or ln a + ln 2 for a above 2^12 (where the sum rounds to 2a, and a^2
    /// may overflow); a is the argument, one of the two.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn ln_of_pair_or_big(b: &Base, a: __m512, big: __m512, small: __m512) -> __m512 {
        let splat = _mm512_set1_ps;
        let hi = _mm512_add_ps(big, small);
        let lo = _mm512_sub_ps(small, _mm512_sub_ps(hi, big));
        let above = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(a, splat(BIG));
        let u = _mm512_mask_mov_ps(hi, above, a);
        let c = _mm512_maskz_mov_ps(!above, lo);
        let ln2 = _mm512_maskz_mov_ps(above, splat(LN2_32));
        _mm512_add_ps(ln_sum(b, u, Some(c)), ln2)
    }

    /// atanh x on 16 lanes, every input: an odd polynomial up to 1/2, above
    /// it ln((1 + a) / (1 - a)) / 2 (`explog32::atanh_normal`) with the
    /// quotient by `vrcp14ps` and its exact residual (to about 2^-28), ±1
    /// to ±inf and beyond to NaN by the class of 1 - a.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn atanh_lanes(b: &Base, x: __m512) -> __m512 {
        let splat = _mm512_set1_ps;
        let a = _mm512_abs_ps(x);
        let z = _mm512_mul_ps(a, a);
        let small = _mm512_fmadd_ps(_mm512_mul_ps(z, a), horner_ps(&ATANH32_H, z), a);
        let n = _mm512_add_ps(splat(1.0), a);
        let d = _mm512_sub_ps(splat(1.0), a);
        let inv = _mm512_rcp14_ps(d);
        let q = _mm512_mul_ps(n, inv);
        let q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d, n), inv, q);
        let res = _mm512_mul_ps(splat(0.5), ln_sum(b, q, None));
        let res = fix_up_ps(res, d, ATANH_CLASSES);
        let is_small = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a, splat(0.5));
        copysign_ps(_mm512_mask_mov_ps(res, is_small, small), x)
    }

    /// log_b x on 16 lanes, every input (see the module doc).
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn log_base(b: &Base, x: __m512) -> __m512 {
        ln_sum(b, x, None)
    }

    /// log_b(u + c) on 16 lanes for |c| at most half an ulp of u (`None`:
    /// 0), every u (see the module doc). `c / u` is added to the tail as
    /// `2^-k c (1/c_i) (1 - z)`, to first order in z: its relative error of
    /// z^2 < 0.004 is of a term below 2^-24 of the result, or where the
    /// term is larger (u within a few ulps of 1) z itself is that small.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    fn ln_sum(b: &Base, u: __m512, c: Option<__m512>) -> __m512 {
        let splat = _mm512_set1_ps;
        // u = 2^k m, m in [1, 2), subnormal u included; the lanes that are
        // not positive numbers give junk that the fix-up replaces.
        let m = _mm512_getmant_ps::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_ZERO>(u);
        let k = _mm512_getexp_ps(u);
        // m's top four mantissa bits, the low four of the index `vpermps`
        // reads.
        let i = _mm512_srli_epi32::<19>(_mm512_castps_si512(m));
        let inv_c = _mm512_permutexvar_ps(i, b.inv_c);
        let z = _mm512_fmsub_ps(m, inv_c, splat(1.0));
        let hi = _mm512_fmadd_ps(k, splat(b.log_2[0]), _mm512_permutexvar_ps(i, b.t_hi));
        let mut lo = _mm512_fmadd_ps(k, splat(b.log_2[1]), _mm512_permutexvar_ps(i, b.t_lo));
        if let Some(c) = c {
            let c_over_c_i =
                _mm512_mul_ps(_mm512_scalef_ps(c, _mm512_sub_ps(splat(0.0), k)), inv_c);
            lo = _mm512_add_ps(lo, _mm512_fnmadd_ps(z, c_over_c_i, c_over_c_i));
        }
        let z2 = _mm512_mul_ps(z, z);
        let tail = _mm512_fmadd_ps(
            z2,
            horner_ps(&b.p, z),
            _mm512_fmadd_ps(z, splat(b.inv_ln[1]), lo),
        );
        let res = _mm512_add_ps(hi, _mm512_fmadd_ps(z, splat(b.inv_ln[0]), tail));
        fix_up_ps(res, u, LN_CLASSES)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{LOG_F32, LOG2_F32, LOG10_F32, Level};

    /// log2 of every power of two, subnormals included, is exact, and so is
    /// log10 of every power of ten that is a float32 (10^0 to 10^10), at
    /// every level; log 1 is +0. (`tests.rs` checks every other input class
    /// against the widened reference, and `examples/f32_exhaustive.rs` all
    /// 2^32 inputs: within 1 ulp.)
    #[test]
    fn exact_at_powers_of_the_base() {
        // 2^k from its bits (2^-149 is not 1 / 2^149, which overflows).
        let two_to = |k: i32| match k {
            ..-126 => f32::from_bits(1 << (k + 149)),
            _ => f32::from_bits(((k + 127) as u32) << 23),
        };
        let powers_of_two: Vec<f32> = (-149..128).map(two_to).collect();
        let powers_of_ten: Vec<f32> = (0..11).map(|k| 10f32.powi(k)).collect();
        let mut out = vec![0.0; powers_of_two.len()];
        for level in Level::supported() {
            LOG2_F32.run(level, &powers_of_two, &mut out);
            for (k, &got) in (-149..128).zip(&out) {
                assert_eq!(got, k as f32, "{level:?}: log2(2^{k})");
            }
            LOG10_F32.run(level, &powers_of_ten, &mut out[..11]);
            for (k, &got) in out[..11].iter().enumerate() {
                assert_eq!(got, k as f32, "{level:?}: log10(1e{k})");
            }
            LOG_F32.run(level, &[1.0], &mut out[..1]);
            assert_eq!(out[0].to_bits(), 0, "{level:?}: log(1) is +0");
        }
    }
}
