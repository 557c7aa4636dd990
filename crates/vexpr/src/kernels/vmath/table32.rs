//! Float32 `tanh` and `arctan` at AVX-512 from tables of 32 polynomials.
//!
//! In: a slice of f32. Out: the function of each element, within 1 ulp of
//! the correctly rounded result over all 2^32 inputs
//! (`examples/f32_exhaustive.rs`), every input on the vector path.
//!
//! How: for a = |x| (clamped or reduced, below), a's bits alone pick one of
//! 32 intervals, the quarter binades from a function's base up, with
//! everything below in interval 0. Each interval holds b and a degree-5
//! polynomial in y = a - b, exact by Sterbenz's lemma; its seven numbers are
//! seven `vpermt2ps` lookups from fourteen registers, and the polynomial five
//! multiply-adds: no division, no exponential. b is a float32 whose image is
//! within a millionth of an ulp of a float32, so the polynomial's constant
//! term adds no error, and interval 0 has b = 0 and no constant term, so
//! tiny inputs keep their relative accuracy. `tests/data/vmath/fit_table32.py`
//! derives the tables (`consts_table32.rs`) and measures each interval.
//!
//! - `tanh`: a = min(|x|, 10) (tanh rounds to 1 from about 9.01; NaN passes
//!   the clamp); intervals from 0.0546875 to 10. NumPy's float32 tanh (from
//!   Intel's SVML) has this shape with a degree more. It replaced
//!   e / (e + 2) with e = e^(2|x|) - 1 and `vrcp14ps`'s quotient (2 ulps at
//!   1,294,022 inputs): 0.61-0.64 of its time at N = 10k and 100k.
//! - `arctan`: intervals from 0.078125 to 16; from 16 up, pi/2 - atan(1/a)
//!   with 1/a from `vrcp14ps` and a Newton step (within interval 0, where
//!   its rounding moves the result by about a thirtieth of an ulp). It
//!   replaced atan2(x, 1)'s lane function, a division and about 30
//!   operations: 0.79-0.82 of its time at N = 10k, 100k and 1M.
//!
//! At the other levels the lane functions run (a 32-entry lookup there is a
//! gather or four permutes).

/// The AVX-512 kernels (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::avx512::{copysign_ps, look_up_ps, map_ps16, table32_ps};
    use super::super::consts_table32::{
        ATAN_B, ATAN_BASE_BITS, ATAN_C, PIO2, SHIFT, TANH_B, TANH_BASE_BITS, TANH_C,
    };
    use core::arch::x86_64::*;

    /// tanh's clamp: tanh rounds to 1 from about 9.01 on.
    const TANH_CLAMP: f32 = 10.0;
    /// arctan's: from 16 on, pi/2 - atan(1/a).
    const ATAN_RECIPROCAL_FROM: f32 = 16.0;
    /// Below inf, so that the Newton step's a * (1/a) is never inf * 0; far
    /// above where arctan rounds to pi/2 (2^25).
    const ATAN_CLAMP: f32 = 1.0e18;

    /// `tanh(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn tanh_f32(x: &[f32], out: &mut [f32]) {
        let table = Table::load(&TANH_B, &TANH_C, TANH_BASE_BITS);
        map_ps16(x, out, |x| {
            // `vminps` returns its second operand when either is NaN.
            let a = _mm512_min_ps(_mm512_set1_ps(TANH_CLAMP), _mm512_abs_ps(x));
            // x's sign, so tanh(-0) = -0.
            copysign_ps(table.eval(a), x)
        })
    }

    /// `arctan(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn atan_f32(x: &[f32], out: &mut [f32]) {
        let table = Table::load(&ATAN_B, &ATAN_C, ATAN_BASE_BITS);
        let splat = _mm512_set1_ps;
        map_ps16(x, out, |x| {
            let a = _mm512_min_ps(splat(ATAN_CLAMP), _mm512_abs_ps(x));
            let big = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a, splat(ATAN_RECIPROCAL_FROM));
            // 1/a to about 2^-28 before its rounding: the estimate (2^-14)
            // and one Newton step.
            let r = _mm512_rcp14_ps(a);
            let r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(a, r, splat(1.0)), r);
            let p = table.eval(_mm512_mask_blend_ps(big, a, r));
            // pi/2 - p as PIO2[0] + (PIO2[1] - p): one rounding of note.
            let p = _mm512_mask_sub_ps(p, big, splat(PIO2[1]), p);
            let p = _mm512_mask_add_ps(p, big, splat(PIO2[0]), p);
            copysign_ps(p, x)
        })
    }

    /// A table of `consts_table32.rs` in registers, two a column.
    struct Table {
        b: [__m512; 2],
        c: [[__m512; 2]; 6],
        base_bits: i32,
    }

    impl Table {
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn load(b: &[f32; 32], c: &[[f32; 32]; 6], base_bits: i32) -> Self {
            Table {
                b: table32_ps(b),
                c: c.map(|c| table32_ps(&c)),
                base_bits,
            }
        }

        /// The polynomial of a's interval at a - b, for non-negative `a`
        /// (NaN included: it gives NaN).
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn eval(&self, a: __m512) -> __m512 {
            let floor = _mm512_max_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(self.base_bits));
            // `vpermt2ps` reads the low five bits: the interval modulo 32
            // (the tables are stored rotated to match).
            let index = _mm512_srli_epi32::<SHIFT>(floor);
            let y = _mm512_sub_ps(a, look_up_ps(&self.b, index));
            let mut p = look_up_ps(&self.c[5], index);
            for c in self.c[..5].iter().rev() {
                p = _mm512_fmadd_ps(p, y, look_up_ps(c, index));
            }
            p
        }
    }
}
