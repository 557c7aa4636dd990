//! The f32 counterparts of the building blocks in `arith`, for the native
//! f32 lane functions (`explog32.rs`, `trig32.rs`).
//!
//! Same rules: one `f32` in, one out, no branches (selects and bit
//! patterns), so that a slice loop over them vectorizes with 16 lanes per
//! 512-bit register. `M::madd32` is fused only where the level has FMA;
//! `M::fma32` rounds (about) once everywhere, through f64 without FMA, for
//! the few products that must be exact.

use super::arith::Fma;

/// Polynomial `c[0] + c[1] x + ...` by Horner's rule.
#[inline(always)]
pub(super) fn horner32<M: Fma, const N: usize>(x: f32, c: &[f32; N]) -> f32 {
    let mut acc = c[N - 1];
    let mut i = N - 1;
    while i > 0 {
        i -= 1;
        acc = M::madd32(acc, x, c[i]);
    }
    acc
}

/// `if c { a } else { b }` with both operands computed.
#[inline(always)]
pub(super) fn sel(c: bool, a: f32, b: f32) -> f32 {
    if c { a } else { b }
}

/// 1.5 * 2^23: adding it to |v| < 2^22 rounds v to an integer that can be
/// read from the low bits of the sum.
pub(super) const SHIFT32: f32 = 12582912.0;

/// Rounds `a * b` (|a b| < 2^22) to the nearest integer, as a float and as
/// an integer.
#[inline(always)]
pub(super) fn round_int_mul32<M: Fma>(a: f32, b: f32) -> (f32, i32) {
    let t = M::madd32(a, b, SHIFT32);
    let k = (t.to_bits() as i32).wrapping_sub(SHIFT32.to_bits() as i32);
    (t - SHIFT32, k)
}

/// 2^k for -126 <= k <= 127 (other k give garbage, never UB).
#[inline(always)]
pub(super) fn pow2i32(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

const SIGN: u32 = 1 << 31;

/// `|x|` by clearing the sign bit.
#[inline(always)]
pub(super) fn abs32(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & !SIGN)
}

/// Magnitude of `mag` with the sign of `sign`.
#[inline(always)]
pub(super) fn copysign32(mag: f32, sign: f32) -> f32 {
    f32::from_bits((mag.to_bits() & !SIGN) | (sign.to_bits() & SIGN))
}

/// `x` with its sign flipped when `flip` is set.
#[inline(always)]
pub(super) fn flip_sign32(x: f32, flip: bool) -> f32 {
    f32::from_bits(x.to_bits() ^ ((flip as u32) << 31))
}

/// `s + e == a + b` exactly, `s = fl(a + b)` (Knuth's TwoSum).
#[inline(always)]
pub(super) fn two_sum32(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// `s + e == a + b` exactly when `|a| >= |b|` (or a == 0).
#[inline(always)]
pub(super) fn fast_two_sum32(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    (s, b - (s - a))
}
