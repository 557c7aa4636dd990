//! Float32 `tanh` at AVX-512 from a table of 32 polynomials.
//!
//! In: a slice of f32. Out: tanh of each element, within 1 ulp of the
//! correctly rounded result over all 2^32 inputs
//! (`examples/f32_exhaustive.rs`), every input on the vector path.
//!
//! How: a = min(|x|, 10) (NaN passes the clamp; tanh rounds to 1 from about
//! 9.01), and its bits alone pick one of 32 intervals, the quarter binades
//! from 0.0546875 to 10 with everything below in interval 0. Each interval
//! holds b and a degree-5 polynomial in y = a - b, exact by Sterbenz's
//! lemma; its seven numbers are seven `vpermt2ps` lookups in registers, and
//! the polynomial five multiply-adds: 18 operations a vector, no division
//! and no exponential. b is a float32 whose tanh is within a millionth of an
//! ulp of a float32 (the polynomial's constant term adds no error), and
//! interval 0 has b = 0 and no constant term, so tiny inputs keep their
//! relative accuracy. `tests/data/vmath/fit_tanh32.py` derives the table
//! (`consts_tanh32.rs`). This is the shape of NumPy's float32 tanh (from
//! Intel's SVML), with its own table: a degree less and b chosen as above.
//!
//! Replacing e / (e + 2) with e = e^(2|x|) - 1 and `vrcp14ps`'s quotient
//! (2 ulps at 1,294,022 inputs; about 25 operations), inside one process:
//! 0.61-0.64 of its time at N = 10k and 100k, 0.87 at 1M.
//!
//! At the other levels the lane function `explog32::tanh` runs (a 32-entry
//! lookup there is a gather or four permutes).

/// The AVX-512 kernels (see the module doc).
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::super::avx512::{copysign_ps, load_ps16, map_ps16};
    use super::super::consts_tanh32::{B, BASE_BITS, C0, C1, C2, C3, C4, C5, CLAMP, SHIFT};
    use core::arch::x86_64::*;

    /// `tanh(x[i])` into `out[i]`, float32.
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
    pub(in super::super) fn tanh_f32(x: &[f32], out: &mut [f32]) {
        let table = Table::load();
        map_ps16(x, out, |x| table.tanh(x))
    }

    /// The interval table of `consts_tanh32.rs` in registers, two a column.
    struct Table {
        b: [__m512; 2],
        c: [[__m512; 2]; 6],
    }

    impl Table {
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn load() -> Self {
            let column = |t: &[f32; 32]| {
                let (halves, _) = t.as_chunks::<16>();
                [load_ps16(&halves[0]), load_ps16(&halves[1])]
            };
            Table {
                b: column(&B),
                c: [C0, C1, C2, C3, C4, C5].map(|c| column(&c)),
            }
        }

        /// Float32 tanh on 16 lanes, every input (see the module doc).
        #[inline]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn tanh(&self, x: __m512) -> __m512 {
            // `vminps` returns its second operand when either is NaN, so NaN
            // passes; inf becomes CLAMP.
            let a = _mm512_min_ps(_mm512_set1_ps(CLAMP), _mm512_abs_ps(x));
            let floor = _mm512_max_epi32(_mm512_castps_si512(a), _mm512_set1_epi32(BASE_BITS));
            // `vpermt2ps` reads the low five bits: the interval modulo 32.
            let index = _mm512_srli_epi32::<SHIFT>(floor);
            let look_up = |t: &[__m512; 2]| _mm512_permutex2var_ps(t[0], index, t[1]);
            let y = _mm512_sub_ps(a, look_up(&self.b));
            let mut p = look_up(&self.c[5]);
            for c in self.c[..5].iter().rev() {
                p = _mm512_fmadd_ps(p, y, look_up(c));
            }
            // x's sign, so tanh(-0) = -0.
            copysign_ps(p, x)
        }
    }
}
