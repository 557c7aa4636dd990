//! Python's `%` and `//` on floats, vectorized: C's `fmod` without the
//! library call.
//!
//! In: two slices of f64 (or f32) and an output slice. Out: the bits of the
//! scalar `kernels::arith::{mod_f64, floordiv_f64}` (and f32), which follow
//! NumPy's `npy_remainder` and `npy_floor_divide`.
//!
//! Both start from `fmod(a, b)`, which is exact but was a glibc call per
//! element (about 10 ns), 5-7x behind numexpr, which computes
//! `a - floor(a/b)*b` instead and is wrong whenever that rounds. Here, for
//! the ordinary lanes (a finite, b finite, |a / b| < 2^52 after rounding):
//!
//! - `q = trunc(fl(a / b))` is the true integer quotient `n` or, when the
//!   division rounded up to the next integer, `n + 1` in magnitude (rounding
//!   is monotonic and integers below 2^52 are representable);
//! - `r = a - q b` in one fused multiply-add is exact: with `q = n` it is
//!   `fmod(a, b)`, which is representable; with `n + 1` it is that minus
//!   `b` (signed like `a`), a multiple of the smaller of the two operands'
//!   ulps no larger than `|b|`, so representable too (or, when `|a| < 2|b|`,
//!   exact by Sterbenz's lemma);
//! - so `r` with the wrong sign means the `n + 1` case, and adding `b` back
//!   is exact; the result takes `a`'s sign, which also gives a zero its sign.
//!
//! Every other lane (infinities, NaN, a zero or infinite `b`, huge
//! quotients) is recomputed with the scalar function (`map2_fixup!`). The
//! baseline level has no fused multiply-add, so it runs the scalar function
//! throughout. f32 lanes are widened: every f32 quotient and remainder step
//! above is exact in f64, and the rest of `%` and `//` runs in f32 as in
//! the scalar code.

use super::arith::{Fma, abs, copysign, select};

/// `|fl(a / b)|` at or above this (or NaN) is not ordinary.
const MAX_QUOTIENT: f64 = 4503599627370496.0; // 2^52

/// True for the lanes [`fmod_ordinary`] does not cover (see the module doc).
#[inline(always)]
pub(super) fn fmod_needs_full(a: f64, b: f64) -> bool {
    let quotient = abs(a / b);
    quotient.is_nan() || quotient >= MAX_QUOTIENT || abs(b) == f64::INFINITY
}

/// `fmod(a, b)` for lanes where [`fmod_needs_full`] is false, exactly.
#[inline(always)]
pub(super) fn fmod_ordinary<M: Fma>(a: f64, b: f64) -> f64 {
    if !M::FUSED {
        // Two roundings would break the exactness argument.
        return a % b;
    }
    let q = (a / b).trunc();
    let r = M::fma(-q, b, a);
    let overshot = r != 0.0 && ((r < 0.0) != (a < 0.0));
    copysign(select(overshot, r + copysign(b, a), r), a)
}

#[cfg(test)]
mod tests {
    use super::super::{Binary, FLOORDIV_F32, FLOORDIV_F64, Level, MOD_F32, MOD_F64};
    use crate::kernels::arith::{floordiv_f32, floordiv_f64, mod_f32, mod_f64};

    /// Pairs that cross every case: exact multiples, quotients just below
    /// and above integers (where `a / b` rounds up), huge and tiny ratios,
    /// subnormals, signed zeros, infinities and NaN, in every sign.
    fn pairs() -> Vec<(f64, f64)> {
        let mut special = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            3.0,
            0.1,
            0.3,
            2.5,
            1e-310,
            -5e-324,
            f64::MIN_POSITIVE,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            4503599627370496.0,
            9007199254740993.0,
        ];
        for k in [1.0f64, 7.0, 1e15, 4503599627370495.0] {
            special.extend([k.next_up(), k.next_down(), -k.next_up()]);
        }
        let mut pairs = Vec::new();
        for &a in &special {
            for &b in &special {
                pairs.push((a, b));
            }
        }
        // Random pairs over many exponents (a fixed-seed xorshift), and
        // quotients next to integers: a = n b (1 ± a few ulps).
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let x = next();
            let y = next();
            let a =
                f64::from_bits((x & 0x800F_FFFF_FFFF_FFFF) | ((1023 - 60 + (x >> 52) % 120) << 52));
            let b =
                f64::from_bits((y & 0x800F_FFFF_FFFF_FFFF) | ((1023 - 60 + (y >> 52) % 120) << 52));
            pairs.push((a, b));
            let n = (next() % 100_000) as f64;
            let near = f64::from_bits((n * b).to_bits().wrapping_add(next() % 5).wrapping_sub(2));
            pairs.push((near, b));
            // Any bit patterns at all, NaN payloads and subnormals included.
            pairs.push((f64::from_bits(x), f64::from_bits(y)));
        }
        pairs
    }

    fn same(got: f64, want: f64) -> bool {
        got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan())
    }

    /// Runs `table` at every level and compares each element's bits with
    /// `scalar`'s.
    fn check<T: Copy + Into<f64> + std::fmt::Display>(
        what: &str,
        table: &Binary<T>,
        scalar: fn(T, T) -> T,
        a: &[T],
        b: &[T],
    ) {
        let mut out = a.to_vec();
        for level in Level::supported() {
            table.run(level, a, b, &mut out);
            for i in 0..a.len() {
                let want = scalar(a[i], b[i]);
                assert!(
                    same(out[i].into(), want.into()),
                    "{level:?}: {} {what} {} = {} not {want}",
                    a[i],
                    b[i],
                    out[i]
                );
            }
        }
    }

    #[test]
    fn mod_and_floordiv_give_the_scalar_functions_bits_at_every_level() {
        let pairs = pairs();
        let (a, b): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
        check("%", &MOD_F64, mod_f64, &a, &b);
        check("//", &FLOORDIV_F64, floordiv_f64, &a, &b);
        let (a, b): (Vec<f32>, Vec<f32>) = pairs.iter().map(|&(x, y)| (x as f32, y as f32)).unzip();
        check("%", &MOD_F32, mod_f32, &a, &b);
        check("//", &FLOORDIV_F32, floordiv_f32, &a, &b);
    }
}
