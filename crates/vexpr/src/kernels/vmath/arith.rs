//! Scalar building blocks shared by the lane functions.
//!
//! Every lane function is written for one `f64` and kept branch-free
//! (comparisons feed selects, integers are handled through bit patterns), so
//! that the slice loops in `mod.rs` vectorize. The `Fma` type parameter
//! decides, at compile time, whether `a * b + c` is fused: only the
//! instantiations compiled with the `fma` target feature may use
//! `f64::mul_add`, because elsewhere it lowers to a slow software `fma()`
//! call.

/// How a lane function computes `a * b + c`.
pub(super) trait Fma {
    /// True when `fma` rounds once.
    const FUSED: bool;

    fn fma(a: f64, b: f64, c: f64) -> f64;

    /// `a * b + c` in f32 with one rounding (or, without FMA hardware,
    /// two of which the first is 2^-29 f32 ulps small).
    fn fma32(a: f32, b: f32, c: f32) -> f32;

    /// `a * b + c` in f32, fused where that is cheap and with two roundings
    /// otherwise: for polynomials and products that are exact anyway.
    fn madd32(a: f32, b: f32, c: f32) -> f32;
}

/// Fused multiply-add; only for code compiled with the `fma` target feature
/// (or on targets where it is always present).
pub(super) struct HwFma;

impl Fma for HwFma {
    const FUSED: bool = true;

    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    fn fma32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }

    #[inline(always)]
    fn madd32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// Separate multiply and add: two roundings, but no library call.
#[cfg_attr(any(target_arch = "aarch64", target_feature = "fma"), allow(dead_code))]
pub(super) struct NoFma;

impl Fma for NoFma {
    const FUSED: bool = false;

    #[inline(always)]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }

    /// The product of two f32 is exact in f64, so the f32 reductions that
    /// rely on an exact `k * C` keep working; only the sum is rounded twice
    /// (to f64, then to f32), which is as good as fused for them.
    #[inline(always)]
    fn fma32(a: f32, b: f32, c: f32) -> f32 {
        (a as f64 * b as f64 + c as f64) as f32
    }

    #[inline(always)]
    fn madd32(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// What the baseline (no runtime-detected features) build uses.
#[cfg(any(target_arch = "aarch64", target_feature = "fma"))]
pub(super) type BaseFma = HwFma;
#[cfg(not(any(target_arch = "aarch64", target_feature = "fma")))]
pub(super) type BaseFma = NoFma;

/// Polynomial `c[0] + c[1] x + c[2] x^2 + ...` by Horner's rule.
#[inline(always)]
pub(super) fn horner<M: Fma, const N: usize>(x: f64, c: &[f64; N]) -> f64 {
    let mut acc = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = M::fma(acc, x, c[i]);
    }
    acc
}

/// `if c { a } else { b }`, written as a function so call sites read as
/// selects: both operands are always computed.
#[inline(always)]
pub(super) fn select(c: bool, a: f64, b: f64) -> f64 {
    if c { a } else { b }
}

#[inline(always)]
pub(super) fn select_i(c: bool, a: i64, b: i64) -> i64 {
    if c { a } else { b }
}

/// 1.5 * 2^52: adding it to |v| < 2^51 rounds v to an integer that can be
/// read from the low bits of the sum.
pub(super) const SHIFT: f64 = 6755399441055744.0;

/// Rounds `a * b` (|a b| < 2^51) to the nearest integer, returning it both
/// as a float and as an integer; the product is rounded only once when FMA
/// is available.
#[inline(always)]
pub(super) fn round_int_mul<M: Fma>(a: f64, b: f64) -> (f64, i64) {
    let t = M::fma(a, b, SHIFT);
    let k = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    (t - SHIFT, k)
}

/// Converts a small integer (|k| < 2^51) to f64 without `cvtsi2sd`, which
/// has no packed form before AVX-512DQ: one add through the bits of
/// 1.5 * 2^52. `kernels::arith::i64_to_f64` takes any int64.
#[inline(always)]
pub(super) fn small_i64_to_f64(k: i64) -> f64 {
    f64::from_bits((SHIFT.to_bits() as i64).wrapping_add(k) as u64) - SHIFT
}

/// 2^k for -1022 <= k <= 1023 (other k give garbage, never UB).
#[inline(always)]
pub(super) fn pow2i(k: i64) -> f64 {
    f64::from_bits((k.wrapping_add(1023) as u64) << 52)
}

/// Magnitude of `mag` with the sign of `sign`, by bit operations.
#[inline(always)]
pub(super) fn copysign(mag: f64, sign: f64) -> f64 {
    const S: u64 = 1 << 63;
    f64::from_bits((mag.to_bits() & !S) | (sign.to_bits() & S))
}

/// `x` with its sign flipped when `flip` is set.
#[inline(always)]
pub(super) fn flip_sign(x: f64, flip: bool) -> f64 {
    f64::from_bits(x.to_bits() ^ ((flip as u64) << 63))
}

/// `|x|` by clearing the sign bit.
#[inline(always)]
pub(super) fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & !(1 << 63))
}

/// `s + e == a + b` exactly, `s = fl(a + b)` (Knuth's TwoSum).
#[inline(always)]
pub(super) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// `s + e == a + b` exactly when `|a| >= |b|` (or a == 0).
#[inline(always)]
pub(super) fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}
