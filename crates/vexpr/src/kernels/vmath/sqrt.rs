//! Correctly rounded square root, faster than the hardware instruction.
//!
//! A 512-bit `vsqrtpd` occupies the divider for about 22 cycles per 8 lanes on
//! the project machine (0.83 ns/elem), longer than all the rest of
//! `exp(-a*a) * sqrt(b)`. Here an f32 square root and reciprocal (about 11
//! divider cycles per 8 lanes) seed two Newton corrections with exact FMA
//! residuals, which leave g within an ulp of sqrt(x); Tuckerman's test then
//! picks the correctly rounded neighbour: RN(sqrt x) = g exactly when
//! g * prev(g) < x <= g * next(g), and both products are compared exactly
//! through the sign of an FMA. The result is the same bits as `f64::sqrt`
//! (checked against it on millions of inputs, exact squares and near-squares
//! included, in `tests.rs`), at 0.54 ns/elem.
//!
//! This is the AVX2 + FMA (and FMA-less baseline) path; on AVX-512 the
//! hardware instruction and a divider-free Newton iteration share the work
//! instead (`divider.rs`).
//!
//! Inputs outside [2^-100, 2^100] (zeros, subnormals, huge values, inf, NaN,
//! negatives) go to `f64::sqrt`; so does every input on a build without FMA,
//! where the residuals would not be exact.

use super::arith::Fma;

/// Inputs [`sqrt_ordinary`] does not cover.
#[inline(always)]
pub(super) fn sqrt_needs_full(x: f64) -> bool {
    !(7.888609052210118e-31..=1.2676506002282294e30).contains(&x)
}

/// `x.sqrt()` for x in [2^-100, 2^100], bit for bit.
#[inline(always)]
pub(super) fn sqrt_ordinary<M: Fma>(x: f64) -> f64 {
    if !M::FUSED {
        return x.sqrt();
    }
    let s = (x as f32).sqrt();
    let g0 = f64::from(s);
    let h = f64::from(0.5f32 / s); // ~ 1 / (2 sqrt x), 24 bits
    let g1 = M::fma(h, M::fma(-g0, g0, x), g0); // ~46 bits
    let g = M::fma(h, M::fma(-g1, g1, x), g1); // within an ulp
    let up = f64::from_bits(g.to_bits() + 1);
    let down = f64::from_bits(g.to_bits() - 1);
    let g = if M::fma(-g, up, x) > 0.0 { up } else { g };
    if M::fma(-g, down, x) <= 0.0 { down } else { g }
}

/// The hardware square root, for the lanes [`sqrt_ordinary`] leaves.
#[inline(always)]
pub(super) fn sqrt_full(x: f64) -> f64 {
    x.sqrt()
}
