//! Python's `%` and `//` and C's `fmod`, vectorized: `fmod` without the
//! library call, and integer division through f64.
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
//! `//` needs no `fmod` at all: below a quotient of 2^51 (2^22 for
//! float32) NumPy's answer is the floor of the exact quotient, which one
//! division, a floor and the sign of one fused `a - f b` give
//! ([`floordiv_ordinary`]).
//!
//! Every other lane (infinities, NaN, a zero or infinite `b`, huge
//! quotients) is recomputed with the scalar function (`map2_fixup!`).
//!
//! Integers have no vector division either (one `idiv` takes 8-15 ns
//! here). For int32, `floor(fl(a / b))` in f64 *is* the floor of the true
//! quotient: the true quotient is either an integer (then the division is
//! exact) or at least `1/|b|` away from one, while its rounding error is at
//! most `|a / b| 2^-53 < 2^-21 / |b|`. The remainder `a - q b` is then exact
//! in f64 (every term is below 2^33). int64 takes the same path for the
//! lanes with |a| and |b| below 2^51 (then `|q| ulp < 1/|b|` still holds and
//! the conversions are the exact bit tricks of `arith`), the scalar function
//! for the others. A zero divisor gives 0 and `MIN // -1` wraps, as in
//! `kernels::arith::{int_floordiv, int_mod}`. The
//! baseline level has no fused multiply-add, so it runs the scalar function
//! throughout. f32 lanes are widened: every f32 quotient and remainder step
//! above is exact in f64, and the rest of `%` and `//` runs in f32 as in
//! the scalar code. But `fmod` itself (and so `%`) of f32 runs in f32, in
//! twice the lanes, below a quotient of 2^23 ([`fmod_ordinary32`]), where
//! the argument above holds for float32 as it stands.

use super::arith::{Fma, SHIFT, abs, copysign, select, small_i64_to_f64};
use super::arith32::{abs32, copysign32, sel};

/// `|fl(a / b)|` at or above this (or NaN) is not ordinary.
pub(super) const MAX_QUOTIENT: f64 = 4503599627370496.0; // 2^52

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

/// `|fl(a / b)|` at or above this (or NaN) is not ordinary in float32: below
/// it the integer quotient n and n + 1 are float32s (2^24 is the first
/// integer gap), so the argument of the module doc holds in float32.
pub(super) const MAX_QUOTIENT_F32: f32 = 8388608.0; // 2^23

/// [`fmod_needs_full`] of float32 lanes computed in float32.
#[inline(always)]
pub(super) fn fmod_needs_full32(a: f32, b: f32) -> bool {
    let quotient = abs32(a / b);
    quotient.is_nan() || quotient >= MAX_QUOTIENT_F32 || abs32(b) == f32::INFINITY
}

/// `fmod(a, b)` of float32s for lanes where [`fmod_needs_full32`] is false,
/// exactly, in float32: the steps of [`fmod_ordinary`] (whose exactness
/// argument holds below [`MAX_QUOTIENT_F32`]) in twice the lanes, without
/// the widening.
#[inline(always)]
pub(super) fn fmod_ordinary32<M: Fma>(a: f32, b: f32) -> f32 {
    if !M::FUSED {
        return a % b;
    }
    let q = (a / b).trunc();
    let r = M::fma32(-q, b, a);
    let overshot = r != 0.0 && ((r < 0.0) != (a < 0.0));
    copysign32(sel(overshot, r + copysign32(b, a), r), a)
}

/// Below this `|fl(a / b)|`, NumPy's `(a - fmod(a, b)) / b` in f64 lands
/// within 1/2 of the true integer quotient `n` (two roundings, each at most
/// `|n| 2^-53`), so its floor-and-round-half-down gives `n` back exactly.
pub(super) const FLOORDIV_F64_LIMIT: f64 = 2251799813685248.0; // 2^51
/// The same for NumPy's float32 arithmetic (`|n| 2^-24` a rounding).
pub(super) const FLOORDIV_F32_LIMIT: f64 = 4194304.0; // 2^22

/// True for the lanes [`floordiv_ordinary`] does not cover: those of
/// [`fmod_needs_full`] (`limit` is below its quotient bound) and quotients
/// at or above `limit`.
#[inline(always)]
pub(super) fn floordiv_needs_full(a: f64, b: f64, limit: f64) -> bool {
    debug_assert!(limit <= MAX_QUOTIENT);
    let quotient = abs(a / b);
    quotient.is_nan() || quotient >= limit || abs(b) == f64::INFINITY
}

/// NumPy's `a // b` (`npy_floor_divide`) for lanes where
/// [`floordiv_needs_full`] is false and the level has fused multiply-adds.
///
/// Below the limit NumPy's answer is the floor of the exact quotient
/// (see [`FLOORDIV_F64_LIMIT`]). `floor(fl(a / b))` is that or, when the
/// division rounded up to an integer, one more (rounding is monotonic and
/// integers are representable). The fused `a - f b` is rounded once, so it
/// keeps the sign of the exact value: against `b`'s sign exactly when `f`
/// overshot. A zero result comes out as NumPy's `copysign(0, a / b)`:
/// `floor` keeps the sign of a zero quotient, and `1 - 1` is `+0` where
/// the quotient was positive. One division and no second pass, where
/// NumPy divides twice and calls `fmod`.
#[inline(always)]
pub(super) fn floordiv_ordinary<M: Fma>(a: f64, b: f64) -> f64 {
    let f = (a / b).floor();
    let r = M::fma(-f, b, a);
    let overshot = r != 0.0 && ((r < 0.0) != (b < 0.0));
    select(overshot, f - 1.0, f)
}

/// Python's `a // b` and `a % b` on int32, through f64 (see the module doc).
#[inline(always)]
pub(super) fn divmod_i32(a: i32, b: i32) -> (i32, i32) {
    let q = (f64::from(a) / f64::from(b)).floor();
    // |q| <= 2^31: read back by the shift trick (vectorizes where a
    // saturating `as i32` did not); MIN / -1 = 2^31 wraps to MIN, as
    // integer `//` does.
    let q = to_int(q) as i32;
    let r = a.wrapping_sub(q.wrapping_mul(b));
    let zero = b == 0;
    (if zero { 0 } else { q }, if zero { 0 } else { r })
}

/// An integer-valued `q` with |q| < 2^51 as an i64, exactly.
#[inline(always)]
fn to_int(q: f64) -> i64 {
    ((q + SHIFT).to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64)
}

/// int64 lanes [`divmod_i64_ordinary`] does not cover: |a| or |b| at or
/// above 2^51, or a zero `b`.
#[inline(always)]
pub(super) fn divmod_i64_needs_full(a: i64, b: i64) -> bool {
    const LIMIT: u64 = 1 << 51;
    a.unsigned_abs() >= LIMIT || b.unsigned_abs() >= LIMIT || b == 0
}

/// Python's `a // b` and `a % b` on int64 for the lanes where
/// [`divmod_i64_needs_full`] is false.
#[inline(always)]
pub(super) fn divmod_i64_ordinary(a: i64, b: i64) -> (i64, i64) {
    let (x, y) = (small_i64_to_f64(a), small_i64_to_f64(b));
    let q = (x / y).floor();
    // |q| <= |a| < 2^51: the shift trick reads it back exactly.
    let qi = to_int(q);
    (qi, a.wrapping_sub(qi.wrapping_mul(b)))
}

#[cfg(test)]
mod tests {
    use super::super::{
        Binary, FLOORDIV_F32, FLOORDIV_F64, FLOORDIV_I32, FLOORDIV_I64, FMOD_F32, FMOD_F64, Level,
        MOD_F32, MOD_F64, MOD_I32, MOD_I64,
    };
    use crate::kernels::arith::{
        floordiv_f32, floordiv_f64, int_floordiv, int_mod, mod_f32, mod_f64,
    };

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
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15u64);
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
            // Quotients of every size up to 2^53, across the float32 and
            // float64 limits of the one-division `//`.
            let big = ((next() >> 11) >> (next() % 40)) as f64;
            let near = f64::from_bits((big * b).to_bits().wrapping_add(next() % 5).wrapping_sub(2));
            pairs.push((near, b));
            // Any bit patterns at all, NaN payloads and subnormals included.
            pairs.push((f64::from_bits(x), f64::from_bits(y)));
        }
        pairs
    }

    /// Equal bits, or both NaN.
    trait Bits {
        fn same(self, other: Self) -> bool;
    }
    impl Bits for f64 {
        fn same(self, other: f64) -> bool {
            self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
        }
    }
    impl Bits for f32 {
        fn same(self, other: f32) -> bool {
            self.to_bits() == other.to_bits() || (self.is_nan() && other.is_nan())
        }
    }
    impl Bits for i32 {
        fn same(self, other: i32) -> bool {
            self == other
        }
    }
    impl Bits for i64 {
        fn same(self, other: i64) -> bool {
            self == other
        }
    }

    /// Runs `table` at every level and compares each element's bits with
    /// `scalar`'s.
    fn check<T: Copy + Bits + std::fmt::Display>(
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
                    out[i].same(want),
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
        check("fmod", &FMOD_F64, |x, y| x % y, &a, &b);
        check("%", &MOD_F64, mod_f64, &a, &b);
        check("//", &FLOORDIV_F64, floordiv_f64, &a, &b);
        let (a, b): (Vec<f32>, Vec<f32>) = pairs.iter().map(|&(x, y)| (x as f32, y as f32)).unzip();
        check("fmod", &FMOD_F32, |x, y| x % y, &a, &b);
        check("%", &MOD_F32, mod_f32, &a, &b);
        check("//", &FLOORDIV_F32, floordiv_f32, &a, &b);
        // float32 quotients next to integers up to and past 2^23 (where
        // float32's fmod leaves its fast path): a = n b (1 ± a few ulps).
        let mut next = crate::testing::xorshift(0x6A09_E667_F3BC_C909u64);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..100_000 {
            let r = next();
            let n = (1u64 << (r % 25)) as f32 + ((r >> 8) % 5) as f32 - 2.0;
            let bv = f32::from_bits(0x3f80_0000 | ((r >> 16) as u32 & 0x007f_ffff))
                * [1.0, -1.0, 1e-20, 3e15][(r >> 40) as usize % 4];
            let av = n * bv;
            let av = f32::from_bits(
                av.to_bits()
                    .wrapping_add((r >> 44) as u32 % 5)
                    .wrapping_sub(2),
            );
            let av = if r & (1 << 50) == 0 { av } else { -av };
            a.push(av);
            b.push(bv);
        }
        check("fmod", &FMOD_F32, |x, y| x % y, &a, &b);
        check("%", &MOD_F32, mod_f32, &a, &b);
    }

    #[test]
    fn integer_mod_and_floordiv_give_the_scalar_functions_results_at_every_level() {
        let mut next = crate::testing::xorshift(0xD1B5_4A32_D192_ED03u64);
        let edges64 = [
            0,
            1,
            -1,
            2,
            -2,
            7,
            -7,
            i64::MIN,
            i64::MAX,
            (1 << 51) - 1,
            1 << 51,
            -(1 << 51) + 1,
            -(1 << 51),
            1 << 53,
            (1 << 53) + 1,
        ];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for &x in &edges64 {
            for &y in &edges64 {
                a.push(x);
                b.push(y);
            }
        }
        for _ in 0..200_000 {
            // Magnitudes of every size: shift a random word right by 0-63.
            let x = (next() as i64) >> (next() % 64);
            let y = (next() as i64) >> (next() % 64);
            a.push(x);
            b.push(y);
            // Exact multiples and their neighbours.
            let m = (y >> 12).wrapping_mul((next() % 4096) as i64);
            a.push(m.wrapping_add((next() % 3) as i64 - 1));
            b.push(y >> 12);
        }
        check("//", &FLOORDIV_I64, int_floordiv, &a, &b);
        check("%", &MOD_I64, int_mod, &a, &b);
        let a: Vec<i32> = a
            .iter()
            .map(|&x| x as i32)
            .chain([i32::MIN, i32::MIN, i32::MAX, 5])
            .collect();
        let b: Vec<i32> = b.iter().map(|&x| x as i32).chain([-1, 1, -1, 0]).collect();
        check("//", &FLOORDIV_I32, int_floordiv, &a, &b);
        check("%", &MOD_I32, int_mod, &a, &b);
    }
}
