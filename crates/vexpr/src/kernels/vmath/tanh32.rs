//! Float32 `tanh` at AVX-512 without a division.
//!
//! In: a slice of f32. Out: tanh of each element, within 2 ulps over all
//! 2^32 inputs (`examples/f32_exhaustive.rs`; 1 on the mpmath data and the
//! 2.4M-input test against `std` in `tests.rs`), every input
//! on the vector path: |x| is clamped to 10, where tanh rounds to 1 (inf
//! too), and NaN passes the clamp and every operation.
//!
//! How: e / (e + 2) with e = e^(2|x|) - 1, the operations of
//! `explog32::tanh` but the quotient: a 512-bit `vdivps` holds the divider
//! for about 13 cycles, longer than the rest of the function takes, so the
//! quotient is `vrcp14ps`'s estimate (2^-14) times e, corrected once with its
//! exact residual (`q + (e - q d) / d`, to about 2^-28 before rounding).
//!
//! At the other levels the lane function runs (there a division is half the
//! lanes and half the cost).

/// The AVX-512 kernels (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::arith32::SHIFT32;
    use super::super::avx512::{copysign_ps, horner_ps, map_ps16};
    use super::super::consts32::{EXP32_P, INV_LN2_32_HI, LN2_32_HI, LN2_32_LO};
    use core::arch::x86_64::*;

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
        let expm1_r = _mm512_fmadd_ps(_mm512_mul_ps(r, r), horner_ps(&EXP32_P, r), r);
        let scale = _mm512_scalef_ps(splat(1.0), kd);
        let e = _mm512_fmadd_ps(scale, expm1_r, _mm512_sub_ps(scale, splat(1.0)));
        // e / d, d = e + 2 >= 2: the estimate's quotient, corrected once.
        let d = _mm512_add_ps(e, splat(2.0));
        let inv = _mm512_rcp14_ps(d);
        let q = _mm512_mul_ps(e, inv);
        let q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d, e), inv, q);
        // x's sign, so tanh(-0) = -0.
        copysign_ps(q, x)
    }
}
