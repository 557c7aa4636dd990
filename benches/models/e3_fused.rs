//! A timing model, not vexpr code: how fast `2*a**3 - 4*a**5 + 6*log(a)` (E3) could run if
//! the whole expression were one loop with the kernels inlined (what run-time code
//! generation would give), at N = 10k on one thread.
//!
//! The log below has the operation count of vexpr's (`explog::log_normal`: fdlibm's
//! exponent split, s = f / (2 + f) with one division, a degree-7 polynomial in s^2, the
//! recombination and the range check) but not its coefficients, so its values are wrong;
//! only the time means something. The powers are numexpr's multiplication chains. Not part
//! of the workspace build; run it with
//!
//!     rustc -O --edition 2024 benches/models/e3_fused.rs -o /tmp/e3_fused && /tmp/e3_fused
//!
//! Measured 2026-11-25: 0.77-0.80 ns/elem (best of 5 x 3000 calls, three runs), against E3's target of
//! 0.865 at 10k on one thread and 1.35 for vexpr's block passes; vexpr's `log(a)` alone
//! takes 0.83: in one loop the polynomial's multiplications run while the divider works
//! on log's division.

use std::arch::x86_64::*;
#[path = "harness.rs"]
mod harness;

// log with vexpr's log_normal operation count (fdlibm: exponent split, s = f/(2+f),
// degree-7 polynomial in s^2, recombination) and range check; coefficients are not real.
#[inline(always)]
unsafe fn log8(x: __m512d) -> __m512d {
    unsafe {
        let ix = _mm512_castpd_si512(x);
        let tmp = _mm512_sub_epi64(ix, _mm512_set1_epi64(0x3fe6_a09e_667f_3bcd));
        let k = _mm512_srai_epi64::<52>(tmp);
        let m = _mm512_castsi512_pd(_mm512_sub_epi64(
            ix,
            _mm512_and_si512(tmp, _mm512_set1_epi64((0xfffu64 << 52) as i64)),
        ));
        let f = _mm512_sub_pd(m, _mm512_set1_pd(1.0));
        let s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
        let z = _mm512_mul_pd(s, s);
        let mut p = _mm512_set1_pd(0.1479819860511659);
        for c in [
            0.1531383769920937,
            0.1818357216161805,
            0.2222219843214978,
            0.2857142874366239,
            0.3999999999940942,
            0.6666666666666735,
        ] {
            p = _mm512_fmadd_pd(p, z, _mm512_set1_pd(c));
        }
        let r = _mm512_mul_pd(z, p);
        let hfsq = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(0.5), f), f);
        let sr = _mm512_mul_pd(s, _mm512_add_pd(hfsq, r));
        let shift = _mm512_set1_pd(6755399441055744.0);
        let kd = _mm512_sub_pd(
            _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(shift), k)),
            shift,
        );
        let lo = _mm512_fmadd_pd(kd, _mm512_set1_pd(1.9082149292705877e-10), sr);
        let res = _mm512_fmsub_pd(
            kd,
            _mm512_set1_pd(0.6931471803691238),
            _mm512_sub_pd(_mm512_sub_pd(hfsq, lo), f),
        );
        let ok = _mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, _mm512_set1_pd(2.2250738585072014e-308));
        let ok = _mm512_mask_cmp_pd_mask::<_CMP_LT_OQ>(ok, x, _mm512_set1_pd(f64::INFINITY));
        if ok != 0xff { _mm512_setzero_pd() } else { res }
    }
}

#[target_feature(enable = "avx512f,avx512dq,avx512vl,fma,avx2")]
fn fused(a: &[f64], o: &mut [f64]) {
    let n = a.len();
    let mut i = 0;
    while i + 8 <= n {
        unsafe {
            let x = _mm512_loadu_pd(a.as_ptr().add(i));
            let x2 = _mm512_mul_pd(x, x);
            let p3 = _mm512_mul_pd(x, x2);
            let p5 = _mm512_mul_pd(x, _mm512_mul_pd(x2, x2));
            let t = _mm512_sub_pd(
                _mm512_mul_pd(_mm512_set1_pd(2.0), p3),
                _mm512_mul_pd(_mm512_set1_pd(4.0), p5),
            );
            let l = log8(x);
            _mm512_storeu_pd(
                o.as_mut_ptr().add(i),
                _mm512_add_pd(_mm512_mul_pd(_mm512_set1_pd(6.0), l), t),
            );
        }
        i += 8;
    }
}
fn main() {
    let inputs = harness::inputs(1);
    let mut o = vec![0.0; harness::N];
    let best = harness::best_ns_per_elem(|| {
        unsafe { fused(&inputs[0], &mut o) };
        std::hint::black_box(&mut o);
    });
    println!("fused E3 model: {best:.3} ns/elem");
}
