//! A timing model, not vexpr code: how fast `exp(-a*a) * sqrt(b)` (E7) could run if the
//! whole expression were one loop with the kernels inlined (what run-time code generation
//! would give), at N = 10k on one thread.
//!
//! The exp below has the operation count of vexpr's (`explog::exp_normal`: a Cody-Waite
//! reduction, a degree-11 polynomial, the scaling and the range check) but not its
//! coefficients, so its values are wrong; only the time means something. The square root
//! is vexpr's divider-sharing one (`kernels/vmath/divider.rs`, compiled in with `#[path]`),
//! with every k-th vector on `vsqrtpd`. Not part of the workspace build; run it with
//!
//!     rustc -O --edition 2024 benches/models/e7_fused.rs -o /tmp/e7_fused && /tmp/e7_fused
//!
//! Measured 2026-11-25 (ns/elem, best of 5 x 3000 calls, four runs): 0.89-0.93 with Newton
//! square roots only, 0.80-0.84 / 0.76-0.81 / 0.82-0.85 / 0.82-0.84 with every 1st / 2nd /
//! 3rd / 4th vector on `vsqrtpd`; E7's target at 10k on one thread is 0.76, and vexpr's
//! block passes take 1.03.

use std::arch::x86_64::*;

// vexpr's own divider-sharing square root (its `sqrt_newton`), compiled into this model.
#[allow(dead_code)]
#[path = "../../crates/vexpr/src/kernels/vmath/divider.rs"]
mod divider;
use divider::sqrt_newton;
#[path = "harness.rs"]
mod harness;

#[inline(always)]
unsafe fn exp8(x: __m512d) -> __m512d {
    unsafe {
        let shift = _mm512_set1_pd(6755399441055744.0);
        let t = _mm512_fmadd_pd(x, _mm512_set1_pd(1.4426950408889634), shift);
        let kd = _mm512_sub_pd(t, shift);
        let k = _mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_castpd_si512(shift));
        let hi = _mm512_fnmadd_pd(kd, _mm512_set1_pd(0.6931471803691238), x);
        let lo = _mm512_mul_pd(kd, _mm512_set1_pd(-1.9082149292705877e-10));
        let r = _mm512_add_pd(hi, lo);
        let r2 = _mm512_mul_pd(r, r);
        let mut p = _mm512_set1_pd(2.5e-8);
        for c in [
            2.7e-7,
            2.7e-6,
            2.4e-5,
            1.9e-4,
            1.3e-3,
            8.3e-3,
            4.1e-2,
            0.16666666666666666,
            0.5,
        ] {
            p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
        }
        let tail = _mm512_fmadd_pd(r2, p, lo);
        let s = _mm512_add_pd(hi, tail);
        let one = _mm512_add_pd(_mm512_set1_pd(1.0), s);
        let e = _mm512_slli_epi64::<52>(_mm512_add_epi64(k, _mm512_set1_epi64(1023)));
        let res = _mm512_mul_pd(one, _mm512_castsi512_pd(e));
        let big = _mm512_cmp_pd_mask::<_CMP_GT_OQ>(_mm512_abs_pd(x), _mm512_set1_pd(708.0));
        if big != 0 { _mm512_setzero_pd() } else { res }
    }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,fma,avx2")]
fn fused<const HW_EVERY: usize>(a: &[f64], b: &[f64], o: &mut [f64]) {
    let n = a.len();
    let mut i = 0;
    let mut v = 0;
    while i + 8 <= n {
        unsafe {
            let x = _mm512_loadu_pd(a.as_ptr().add(i));
            let y = _mm512_loadu_pd(b.as_ptr().add(i));
            let e = exp8(_mm512_mul_pd(_mm512_sub_pd(_mm512_setzero_pd(), x), x));
            let s = if HW_EVERY > 0 && v % HW_EVERY == 0 {
                _mm512_sqrt_pd(y)
            } else {
                sqrt_newton(y)
            };
            _mm512_storeu_pd(o.as_mut_ptr().add(i), _mm512_mul_pd(e, s));
        }
        i += 8;
        v += 1;
    }
}
fn main() {
    let inputs = harness::inputs(2);
    let mut o = vec![0.0; harness::N];
    let fs: [(&str, unsafe fn(&[f64], &[f64], &mut [f64])); 5] = [
        ("newton only", fused::<0>),
        ("hw 1 in 1", fused::<1>),
        ("hw 1 in 2", fused::<2>),
        ("hw 1 in 3", fused::<3>),
        ("hw 1 in 4", fused::<4>),
    ];
    for (name, f) in fs {
        let best = harness::best_ns_per_elem(|| {
            unsafe { f(&inputs[0], &inputs[1], &mut o) };
            std::hint::black_box(&mut o);
        });
        println!("fused E7 model, sqrt {name}: {best:.3} ns/elem");
    }
}
