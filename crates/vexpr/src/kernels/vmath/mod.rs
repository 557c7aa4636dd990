//! Vectorized elementwise math on slices: `out[i] = f(x[i])` (or
//! `f(x[i], y[i])`) for the transcendental functions of the expression
//! language, in f64 and f32.
//!
//! In: input slice(s) and an output slice of the same length (checked with
//! `debug_assert`; in release the shortest length is used). Out: every
//! element of `out` written; nothing else happens, nothing panics.
//!
//! # Accuracy
//! `exp` and `log` are within 1 ulp of the correctly rounded result, every
//! other function within 4 ulps, over the whole domain; ±0, ±inf, NaN and
//! subnormals give what NumPy (glibc) gives. `docs/accuracy.md` has the
//! measured table and `tests.rs` checks it against mpmath reference data in
//! `tests/data/vmath/`, and the f32 functions (in f32 ulps) on 2.4M inputs
//! each against `std`'s f64 functions rounded to f32
//! (`examples/f32_exhaustive.rs` does all 2^32).
//!
//! # How
//! Each function is a branch-free *lane function* on one f64 (range
//! reduction, polynomial, exponent built in the bit pattern; `explog.rs`,
//! `trig.rs`). A slice loop over it vectorizes, and that loop is compiled
//! three times: for AVX-512 (F, DQ, VL, BW), for AVX2 + FMA, and for the
//! baseline target (SSE2 on x86-64). The best level the CPU supports is
//! chosen at run time (`Level::current`, in `crate::cpu`: the CPU's best, or
//! lower when capped). Only the FMA builds fuse
//! multiply-adds: without the `fma` feature `f64::mul_add` is a slow
//! library call (see `arith.rs`).
//!
//! The f32 functions have lane functions of their own, in f32 arithmetic
//! (`explog32.rs`, `trig32.rs`, on `arith32.rs` and the coefficients in
//! `consts32.rs`): 16 lanes per 512-bit register instead of 8, and shorter
//! polynomials. They take the ordinary inputs; the rare others (exp
//! overflow and underflow, log of zeros, subnormals and negatives, sin, cos
//! and tan of |x| > 2^17, inf, NaN, ...) go through the same fix-up pass as
//! below to the f64 lane functions on the widened input, rounded once, which
//! are exact for every input. Without FMA hardware (the baseline build),
//! `Fma::fma32` forms the product in f64, where it is exact, so the f32
//! reductions keep their exact steps there too. `pow_f32` and `hypot_f32`
//! stay in f64 on widened inputs: 2^(y log2 x) needs log2 x to about 2^-36
//! relative, beyond plain f32 (`pow32.rs` gets it from two small tables and
//! short polynomials, not the full f64 log and exp), and in f64 hypot's
//! squares are exact and cannot overflow, which saves its scaling.
//!
//! Arguments the vector code cannot reduce (sin, cos, tan of |x| > 2^20,
//! inf or NaN) are detected per block and recomputed by a scalar exact
//! (Payne-Hanek) reduction. exp, log and sqrt use the same mechanism
//! (`map1_fixup!`) the other way round: a shorter lane function for ordinary
//! inputs, and the full one only for the lanes that need it (overflow,
//! zeros, subnormals, inf, NaN). `pow_f64` does the same with glibc's `pow`
//! as the full function (`pow.rs`).
//!
//! Python's `%` and `//` on floats (`remainder.rs`) compute C's `fmod`
//! exactly with a division, a truncation and a fused multiply-add, and the
//! scalar function for the lanes that does not cover.
//!
//! Float64 `sqrt` and division (`div_f64`, the kernel of `/`) are correctly
//! rounded; on AVX-512 they are written with intrinsics in `divider.rs`, where
//! the hardware divider and an exactly checked Newton iteration share the
//! vectors. Float64 `log1p`, `arcsinh`, `arccosh`, `arctanh`, `log2` and
//! `log10` at AVX-512 are written with intrinsics too (`logtable.rs`): a
//! logarithm from a 16-entry table, without the divisions and the square
//! roots of their lane functions; so are float64 `**` (`pow.rs`: the same
//! table, a two-double logarithm and a 16-entry exponential; at AVX2 too,
//! the tables read by gathers, `avx2.rs`), float32 `tanh`
//! and `arctan` (`table32.rs`: 32 polynomials in registers, picked by the
//! input's bits),
//! float32 `log`, `log2`, `log10`, `log1p`, `arcsinh`, `arccosh` and `arctanh`
//! (`log32.rs`: a 16-entry table in one
//! register, `vgetmantps` for subnormals, `vfixupimmps` for the rest) and
//! float64 `arctan` (`trig.rs`: its quotient by `vrcp14pd`, a Newton step and
//! a correction).
//! `avx512.rs` has the loads, stores, slice loops and lookups of these
//! kernels.

mod arith;
mod arith32;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod consts;
mod consts32;
mod consts_hyperbolic;
#[cfg(target_arch = "x86_64")]
mod consts_log;
#[cfg(target_arch = "x86_64")]
mod consts_log32;
#[cfg(target_arch = "x86_64")]
mod consts_pow;
mod consts_pow32;
#[cfg(target_arch = "x86_64")]
mod consts_table32;
#[cfg(target_arch = "x86_64")]
mod divider;
mod explog;
mod explog32;
mod log32;
mod logtable;
mod pow;
mod pow32;
mod remainder;
mod sqrt;
mod table32;
#[cfg(test)]
mod tests;
mod trig;
mod trig32;

/// The constants of the exp, log, sin, cos, tanh and atan2 lane functions
/// and of the Newton square root and quotient, for the code generator (`crate::jit`), which emits the same
/// operations with the same constants and so must give the same bits.
#[cfg(target_arch = "x86_64")]
pub(crate) mod shared {
    pub(crate) const EXP_Q: [f64; 11] = super::consts::EXP_Q;
    pub(crate) const LOG_L: [f64; 7] = super::consts::LOG_L;
    pub(crate) const LN2_HI: f64 = super::consts::LN2_HI;
    pub(crate) const LN2_LO: f64 = super::consts::LN2_LO;
    pub(crate) const INV_LN2: f64 = super::consts::INV_LN2;
    pub(crate) const SHIFT: f64 = super::arith::SHIFT;
    pub(crate) const SQRT_MIN: f64 = super::divider::SQRT_MIN;
    pub(crate) const SQRT_MAX: f64 = super::divider::SQRT_MAX;
    pub(crate) const DIV_MIN: f64 = super::divider::DIV_MIN;
    pub(crate) const DIV_MAX: f64 = super::divider::DIV_MAX;
    pub(crate) const FLOORDIV_F64_LIMIT: f64 = super::remainder::FLOORDIV_F64_LIMIT;
    pub(crate) const FLOORDIV_F32_LIMIT: f64 = super::remainder::FLOORDIV_F32_LIMIT;
    pub(crate) const FMOD_MAX_QUOTIENT: f64 = super::remainder::MAX_QUOTIENT;
    pub(crate) const SIN_WIDE: [f64; 8] = super::consts::SIN_WIDE;
    pub(crate) const INV_PI: f64 = super::consts::INV_PI;
    pub(crate) const PIO2: [f64; 4] = [
        super::consts::PIO2_1,
        super::consts::PIO2_2,
        super::consts::PIO2_3,
        super::consts::PIO2_4,
    ];
    pub(crate) const TRIG_FAST_MAX: f64 = super::trig::TRIG_FAST_MAX;
    pub(crate) const TRIG_TINY: f64 = super::trig::TINY;
    pub(crate) const ATAN_A: [f64; 12] = super::consts::ATAN_A;
    pub(crate) const ATAN_HALF: [f64; 2] =
        [super::consts::ATAN_HALF_HI, super::consts::ATAN_HALF_LO];
    pub(crate) const PIO4: [f64; 2] = [super::consts::PIO4_HI, super::consts::PIO4_LO];
    pub(crate) const PIO2_HI_LO: [f64; 2] = [super::consts::PIO2_HI, super::consts::PIO2_LO];
    pub(crate) const PI_HI_LO: [f64; 2] = [super::consts::PI_HI, super::consts::PI_LO];
    // float32's e^x (`explog32::exp_normal`).
    pub(crate) const EXP32_FAST_MAX: f32 = super::explog32::EXP_FAST_MAX;
    pub(crate) const INV_LN2_32_HI: f32 = super::consts32::INV_LN2_32_HI;
    pub(crate) const SHIFT32: f32 = super::arith32::SHIFT32;
    pub(crate) const LN2_32_HI: f32 = super::consts32::LN2_32_HI;
    pub(crate) const LN2_32_LO: f32 = super::consts32::LN2_32_LO;
    pub(crate) const EXP32_P: [f32; 6] = super::consts32::EXP32_P;
    // float32's sin and cos (`trig32::sin_small`, `cos_small`).
    pub(crate) const TRIG32_FAST_MAX: f32 = super::trig32::TRIG32_FAST_MAX;
    pub(crate) const TRIG32_TINY: f32 = super::trig32::TINY32;
    pub(crate) const INV_PI_32: f32 = super::consts32::INV_PI_32;
    pub(crate) const PIO2_32: [f32; 3] = [
        super::consts32::PIO2_32_1,
        super::consts32::PIO2_32_2,
        super::consts32::PIO2_32_3,
    ];
    pub(crate) const SIN32_S: [f32; 6] = super::consts32::SIN32_S;
    // float32's log (`explog32::log_normal`, the passes' below AVX-512).
    pub(crate) const LOG32_L: [f32; 3] = super::consts32::LOG32_L;
    pub(crate) const ATAN2_ORDINARY_LO: u64 = super::trig::ATAN2_ORDINARY_LO;
    pub(crate) const ATAN2_ORDINARY_SPAN: u64 = super::trig::ATAN2_ORDINARY_SPAN;
    // float32's atan2 (`trig32::atan2_ordinary`).
    pub(crate) const ATAN32_A: [f32; 6] = super::consts32::ATAN32_A;
    pub(crate) const ATAN_HALF_32: [f32; 2] = [
        super::consts32::ATAN_HALF_32_HI,
        super::consts32::ATAN_HALF_32_LO,
    ];
    pub(crate) const PIO4_32: [f32; 2] = [super::consts32::PIO4_32_HI, super::consts32::PIO4_32_LO];
    pub(crate) const PIO2_32_HI_LO: [f32; 2] =
        [super::consts32::PIO2_32_HI, super::consts32::PIO2_32_LO];
    pub(crate) const PI_32_HI_LO: [f32; 2] = [super::consts32::PI_32_HI, super::consts32::PI_32_LO];
    pub(crate) const ATAN2_32_LO: u32 = super::trig32::ATAN2_LO;
    pub(crate) const ATAN2_32_SPAN: u32 = super::trig32::ATAN2_SPAN;
    // float32's log2, log10 (`explog32::log2_normal`, `log10_normal`).
    pub(crate) const INV_LN2_32_LO: f32 = super::consts32::INV_LN2_32_LO;
    pub(crate) const INV_LN10_32: f32 = super::consts32::INV_LN10_32;
    pub(crate) const LOG10_2_32_HI: f32 = super::consts32::LOG10_2_32_HI;
    pub(crate) const LOG10_2_32_LO: f32 = super::consts32::LOG10_2_32_LO;

    /// Float64 `**` by the table route (`pow.rs`'s vector kernels).
    pub(crate) mod pow {
        use super::super::{consts_log, consts_pow, consts_pow32};
        pub(crate) const PRODUCT_BOUND: f64 = super::super::pow::PRODUCT_BOUND;
        pub(crate) const OFF_BITS: u64 = consts_pow32::OFF_BITS;
        pub(crate) const INV_C: [f64; 16] = consts_pow32::INV_C;
        pub(crate) const LN_C_HI: [f64; 16] = consts_log::LN_C_HI;
        pub(crate) const LN_C_LO: [f64; 16] = consts_log::LN_C_LO;
        pub(crate) const LN1P_R: [f64; 9] = consts_pow::LN1P_R;
        pub(crate) const L16: [f64; 2] = consts_pow::L16;
        pub(crate) const EXP_Q: [f64; 6] = consts_pow::EXP_Q;
        pub(crate) const EXP_T_HI: [f64; 16] = consts_pow::EXP_T_HI;
        pub(crate) const EXP_T_LO: [f64; 16] = consts_pow::EXP_T_LO;
    }
}

#[allow(unused_imports)]
use arith::{BaseFma, HwFma};

pub(crate) use crate::cpu::Level;

/// The compiled variants of one unary slice kernel.
pub(crate) struct Unary<T: 'static> {
    base: fn(&[T], &mut [T]),
    #[cfg(target_arch = "x86_64")]
    avx2: unsafe fn(&[T], &mut [T]),
    #[cfg(target_arch = "x86_64")]
    avx512: unsafe fn(&[T], &mut [T]),
}

impl<T> Unary<T> {
    /// Runs the variant for `level`, capped at what the CPU supports.
    pub(crate) fn run(&self, level: Level, x: &[T], out: &mut [T]) {
        debug_assert_eq!(x.len(), out.len(), "vmath: input and output lengths differ");
        match level.min(Level::current()) {
            Level::Baseline => (self.base)(x, out),
            // SAFETY: the level is capped at `Level::current()`, so the CPU has
            // the target features this variant was compiled with.
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => unsafe { (self.avx2)(x, out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { (self.avx512)(x, out) },
        }
    }
}

/// The compiled variants of one binary slice kernel.
pub(crate) struct Binary<T: 'static> {
    base: fn(&[T], &[T], &mut [T]),
    #[cfg(target_arch = "x86_64")]
    avx2: unsafe fn(&[T], &[T], &mut [T]),
    #[cfg(target_arch = "x86_64")]
    avx512: unsafe fn(&[T], &[T], &mut [T]),
}

impl<T> Binary<T> {
    /// Runs the variant for `level`, capped at what the CPU supports.
    pub(crate) fn run(&self, level: Level, x: &[T], y: &[T], out: &mut [T]) {
        debug_assert_eq!(x.len(), out.len(), "vmath: input and output lengths differ");
        debug_assert_eq!(y.len(), out.len(), "vmath: input and output lengths differ");
        match level.min(Level::current()) {
            Level::Baseline => (self.base)(x, y, out),
            // SAFETY: the level is capped at `Level::current()`, so the CPU has
            // the target features this variant was compiled with.
            #[cfg(target_arch = "x86_64")]
            Level::Avx2Fma => unsafe { (self.avx2)(x, y, out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { (self.avx512)(x, y, out) },
        }
    }
}

/// Compiles one kernel body once per [`Level`]. Inside the body, `M` is the
/// [`arith::Fma`] strategy of that level; the lane functions are
/// `#[inline(always)]`, so they are compiled with the caller's features.
macro_rules! variants {
    ($kind:ident, ($($arg:ident: $ty:ty),*), $body:expr) => {{
        #[allow(dead_code)]
        fn base($($arg: $ty),*) {
            #[allow(dead_code)]
            type M = BaseFma;
            $body
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn avx2($($arg: $ty),*) {
            #[allow(dead_code)]
            type M = HwFma;
            $body
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn avx512($($arg: $ty),*) {
            #[allow(dead_code)]
            type M = HwFma;
            $body
        }
        $kind {
            base,
            #[cfg(target_arch = "x86_64")]
            avx2,
            #[cfg(target_arch = "x86_64")]
            avx512,
        }
    }};
}

// The loops below are macros rather than generic functions taking the lane
// function as a closure: passed as a value, the lane function was sometimes
// left as an out-of-line call (through `Fn::call`), which blocks
// vectorization; written into the loop it is always inlined.

/// `for` every `(o, v)` in `(out, x)`: `*o = $f(v)`.
macro_rules! map1 {
    ($x:expr, $out:expr, |$v:ident| $f:expr) => {
        for (o, &$v) in $out.iter_mut().zip($x) {
            *o = $f;
        }
    };
}

/// `out[i] = f(x[i], y[i])`.
macro_rules! map2 {
    ($x:expr, $y:expr, $out:expr, |$a:ident, $b:ident| $f:expr) => {
        for ((o, &$a), &$b) in $out.iter_mut().zip($x).zip($y) {
            *o = $f;
        }
    };
}

/// `map1` with a fix-up pass: lanes where `$needs_slow` holds are recomputed
/// with `$slow`. The check is an OR-reduction without early exit in the same
/// loop as the fast function, so it vectorizes with it (sin and cos 14%
/// faster than with a separate checking loop, log 4% slower); blocks keep `x`
/// in L1 for the rare fix-up pass.
macro_rules! map1_fixup {
    ($x:expr, $out:expr, |$v:ident| $fast:expr, $needs_slow:expr, $slow:expr) => {{
        const BLOCK: usize = 512;
        for (xb, ob) in $x.chunks(BLOCK).zip($out.chunks_mut(BLOCK)) {
            let mut any = false;
            for (o, &$v) in ob.iter_mut().zip(xb) {
                *o = $fast;
                any |= $needs_slow;
            }
            if any {
                for (o, &$v) in ob.iter_mut().zip(xb) {
                    if $needs_slow {
                        *o = $slow;
                    }
                }
            }
        }
    }};
}

/// `map2` with the fix-up pass of `map1_fixup!`: lanes where `$needs_slow`
/// holds are recomputed with `$slow`.
macro_rules! map2_fixup {
    ($x:expr, $y:expr, $out:expr, |$a:ident, $b:ident| $fast:expr, $needs_slow:expr, $slow:expr) => {{
        const BLOCK: usize = 512;
        let blocks = $x.chunks(BLOCK).zip($y.chunks(BLOCK));
        for ((xb, yb), ob) in blocks.zip($out.chunks_mut(BLOCK)) {
            let mut any = false;
            for ((o, &$a), &$b) in ob.iter_mut().zip(xb).zip(yb) {
                *o = $fast;
                any |= $needs_slow;
            }
            if any {
                for ((o, &$a), &$b) in ob.iter_mut().zip(xb).zip(yb) {
                    if $needs_slow {
                        *o = $slow;
                    }
                }
            }
        }
    }};
}

/// The public f64 and f32 functions of a unary kernel pair: each runs its
/// table at the detected [`Level`].
macro_rules! entry_points {
    ($(#[$doc:meta])* $f64:ident, $t64:ident, $f32:ident, $t32:ident) => {
        $(#[$doc])*
        pub fn $f64(x: &[f64], out: &mut [f64]) {
            $t64.run(Level::current(), x, out)
        }
        #[doc = concat!("f32 version of [`", stringify!($f64), "`] (see the module doc for how).")]
        pub fn $f32(x: &[f32], out: &mut [f32]) {
            $t32.run(Level::current(), x, out)
        }
    };
}

/// A `Unary` table of `$ty` from a lane function: `|v| $f` over every
/// element, or, given a test and a second lane function, `map1_fixup!`: the
/// first one over each block and the second for the (rare) lanes where the
/// test holds. A trailing `avx512: path` puts a hand-written kernel in the
/// AVX-512 slot instead of the lane function's.
macro_rules! table {
    // At AVX-512 the kernel `$avx512` instead, if given.
    ($t:ident: $ty:ty => |$v:ident| $f:expr $(, avx512: $avx512:path)?) => {
        pub(crate) static $t: Unary<$ty> = Unary {
            $(#[cfg(target_arch = "x86_64")] avx512: $avx512,)?
            ..variants!(Unary, (x: &[$ty], out: &mut [$ty]), { map1!(x, out, |$v| $f) })
        };
    };
    ($t:ident: $ty:ty => |$v:ident| $fast:expr, $needs_full:expr, $full:expr
        $(, avx512: $avx512:path)?) => {
        pub(crate) static $t: Unary<$ty> = Unary {
            $(#[cfg(target_arch = "x86_64")] avx512: $avx512,)?
            ..variants!(
                Unary,
                (x: &[$ty], out: &mut [$ty]),
                { map1_fixup!(x, out, |$v| $fast, $needs_full, $full) }
            )
        };
    };
}

/// Defines the f64 and f32 entry points of a unary function, plus the
/// `Unary` tables the tests use: the f64 lane function `$lm::$lf` for
/// float64; for float32 the native lane function `$f32fast` for every lane
/// but those where `$f32needs` holds, which get `$lm::$lf` on the widened
/// input, rounded once (exact for every input).
macro_rules! unary32 {
    ($(#[$doc:meta])* $f64:ident, $t64:ident, $f32:ident, $t32:ident => $lm:ident :: $lf:ident
        $(/ avx512: $avx512:path)?, |$v:ident| $f32fast:expr, $f32needs:expr
        $(; avx512: $avx512_32:path)?) => {
        table!($t64: f64 => |v| $lm::$lf::<M>(v) $(, avx512: $avx512)?);
        table!($t32: f32 => |$v| $f32fast, $f32needs, $lm::$lf::<M>($v as f64) as f32
            $(, avx512: $avx512_32)?);
        entry_points!($(#[$doc])* $f64, $t64, $f32, $t32);
    };
    // A native f32 lane function that takes every input.
    ($(#[$doc:meta])* $f64:ident, $t64:ident, $f32:ident, $t32:ident => $lm:ident :: $lf:ident
        $(/ avx512: $avx512:path)?, $lm32:ident :: $lf32:ident $(/ avx512: $avx512_32:path)?) => {
        table!($t64: f64 => |v| $lm::$lf::<M>(v) $(, avx512: $avx512)?);
        table!($t32: f32 => |v| $lm32::$lf32::<M>(v) $(, avx512: $avx512_32)?);
        entry_points!($(#[$doc])* $f64, $t64, $f32, $t32);
    };
}

/// sin, cos and tan: f64 lanes with |x| > 2^20, inf or NaN are recomputed
/// with the scalar Payne-Hanek path; f32 lanes with |x| > 2^17, inf or NaN
/// with the f64 lane functions.
macro_rules! unary_trig {
    ($(#[$doc:meta])* $f64:ident, $t64:ident, $f32:ident, $t32:ident => $which:ident) => {
        table!($t64: f64 =>
            |v| trig::circular_small::<M>(trig::Circular::$which, v),
            trig::trig_needs_large(v),
            trig::circular_large::<M>(trig::Circular::$which, v)
        );
        table!($t32: f32 =>
            |v| trig32::circular_small::<M>(trig::Circular::$which, v),
            trig32::trig_needs_full(v),
            trig32::circular_widened::<M>(trig::Circular::$which, v)
        );
        entry_points!($(#[$doc])* $f64, $t64, $f32, $t32);
    };
}

table!(EXP_F64: f64 =>
    |v| explog::exp_normal::<M>(v), explog::exp_needs_full(v), explog::exp::<M>(v));
table!(EXP_F32: f32 =>
    |v| explog32::exp_normal::<M>(v), explog32::exp_needs_full(v), explog::exp::<M>(v as f64) as f32);
entry_points!(
    /// e^x; within 1 ulp. Overflows to inf above 709.78, underflows through
    /// the subnormals to 0 below -745.13.
    exp_f64, EXP_F64, exp_f32, EXP_F32
);
table!(LOG_F64: f64 =>
    |v| explog::log_normal::<M>(v), explog::log_needs_full(v), explog::log::<M>(v));
table!(LOG_F32: f32 =>
    |v| explog32::log_normal::<M>(v), explog32::log_needs_full(v), explog::log::<M>(v as f64) as f32,
    avx512: log32::avx512::log_f32);
entry_points!(
    /// Natural logarithm; within 1 ulp. log(±0) = -inf, log(x < 0) = NaN.
    log_f64, LOG_F64, log_f32, LOG_F32
);
unary_trig!(
    /// Sine.
    sin_f64, SIN_F64, sin_f32, SIN_F32 => Sin
);
unary_trig!(
    /// Cosine.
    cos_f64, COS_F64, cos_f32, COS_F32 => Cos
);
unary_trig!(
    /// Tangent.
    tan_f64, TAN_F64, tan_f32, TAN_F32 => Tan
);
unary32!(
    /// Hyperbolic tangent.
    tanh_f64, TANH_F64, tanh_f32, TANH_F32 => explog::tanh,
    explog32::tanh / avx512: table32::avx512::tanh_f32
);
unary32!(
    /// e^x - 1, accurate near 0.
    expm1_f64, EXPM1_F64, expm1_f32, EXPM1_F32 => explog::expm1,
    |v| explog32::expm1_normal::<M>(v), explog32::exp_needs_full(v)
);
unary32!(
    /// log(1 + x), accurate near 0.
    log1p_f64, LOG1P_F64, log1p_f32, LOG1P_F32 => explog::log1p / avx512: logtable::avx512::log1p,
    |v| explog32::log1p_normal::<M>(v), explog32::log1p_needs_full(v)
        ; avx512: log32::avx512::log1p_f32
);
unary32!(
    /// Base-2 logarithm.
    log2_f64, LOG2_F64, log2_f32, LOG2_F32 => explog::log2 / avx512: logtable::avx512::log2,
    |v| explog32::log2_normal::<M>(v), explog32::log_needs_full(v); avx512: log32::avx512::log2_f32
);
unary32!(
    /// Base-10 logarithm.
    log10_f64, LOG10_F64, log10_f32, LOG10_F32 => explog::log10 / avx512: logtable::avx512::log10,
    |v| explog32::log10_normal::<M>(v), explog32::log_needs_full(v)
        ; avx512: log32::avx512::log10_f32
);
unary32!(
    /// Inverse tangent, in [-pi/2, pi/2].
    arctan_f64, ARCTAN_F64, arctan_f32, ARCTAN_F32 => trig::atan / avx512: trig::avx512::atan,
        trig32::atan / avx512: table32::avx512::atan_f32
);
unary32!(
    /// Inverse sine; NaN outside [-1, 1].
    arcsin_f64, ARCSIN_F64, arcsin_f32, ARCSIN_F32 => trig::asin, trig32::asin
);
unary32!(
    /// Inverse cosine; NaN outside [-1, 1].
    arccos_f64, ARCCOS_F64, arccos_f32, ARCCOS_F32 => trig::acos, trig32::acos
);
// The f64 lane function for |x| <= 709, the full one beyond.
table!(SINH_F64: f64 => |v| explog::sinh_ordinary::<M>(v), explog::hyperbolic_needs_full(v),
    explog::sinh::<M>(v));
table!(SINH_F32: f32 => |v| explog32::sinh_normal::<M>(v), explog32::exp_needs_full(v),
    explog::sinh::<M>(v as f64) as f32);
entry_points!(
    /// Hyperbolic sine.
    sinh_f64, SINH_F64, sinh_f32, SINH_F32
);
// The f64 lane function for |x| <= 709, the full one beyond.
table!(COSH_F64: f64 => |v| explog::cosh_ordinary::<M>(v), explog::hyperbolic_needs_full(v),
    explog::cosh::<M>(v));
table!(COSH_F32: f32 => |v| explog32::cosh_normal::<M>(v), explog32::exp_needs_full(v),
    explog::cosh::<M>(v as f64) as f32);
entry_points!(
    /// Hyperbolic cosine.
    cosh_f64, COSH_F64, cosh_f32, COSH_F32
);
unary32!(
    /// Inverse hyperbolic sine.
    arcsinh_f64, ARCSINH_F64, arcsinh_f32, ARCSINH_F32 => explog::asinh / avx512: logtable::avx512::asinh,
    |v| explog32::asinh_normal::<M>(v), explog32::not_finite(v)
        ; avx512: log32::avx512::asinh_f32
);
unary32!(
    /// Inverse hyperbolic cosine; NaN below 1.
    arccosh_f64, ARCCOSH_F64, arccosh_f32, ARCCOSH_F32 => explog::acosh / avx512: logtable::avx512::acosh,
    |v| explog32::acosh_normal::<M>(v), explog32::acosh_needs_full(v)
        ; avx512: log32::avx512::acosh_f32
);
unary32!(
    /// Inverse hyperbolic tangent; ±inf at ±1, NaN outside [-1, 1].
    arctanh_f64, ARCTANH_F64, arctanh_f32, ARCTANH_F32 => explog::atanh / avx512: logtable::avx512::atanh,
    |v| explog32::atanh_normal::<M>(v), explog32::atanh_needs_full(v)
        ; avx512: log32::avx512::atanh_f32
);

pub(crate) static SQRT_F64: Unary<f64> = Unary {
    #[cfg(target_arch = "x86_64")]
    avx512: divider::sqrt_f64,
    ..variants!(
        Unary,
        (x: &[f64], out: &mut [f64]),
        {
            map1_fixup!(
                x,
                out,
                |v| sqrt::sqrt_ordinary::<M>(v),
                sqrt::sqrt_needs_full(v),
                sqrt::sqrt_full(v)
            )
        }
    )
};

/// Square root, correctly rounded (the same bits as `f64::sqrt`), faster than
/// the hardware instruction where FMA is available (see `sqrt.rs` and, for
/// AVX-512, `divider.rs`).
///
/// ```
/// let x = [2.0, 0.25, -1.0, f64::INFINITY];
/// let mut out = [0.0; 4];
/// vexpr::unstable::vmath::sqrt_f64(&x, &mut out);
/// assert_eq!(out[..2], [2f64.sqrt(), 0.5]);
/// assert!(out[2].is_nan() && out[3] == f64::INFINITY);
/// ```
pub fn sqrt_f64(x: &[f64], out: &mut [f64]) {
    SQRT_F64.run(Level::current(), x, out)
}

pub(crate) static DIV_F64: Binary<f64> = Binary {
    #[cfg(target_arch = "x86_64")]
    avx512: divider::div_f64,
    ..variants!(
        Binary,
        (a: &[f64], b: &[f64], out: &mut [f64]),
        map2!(a, b, out, |x, y| x / y)
    )
};

/// `a[i] / b[i]`, correctly rounded (the same bits as `/`); on AVX-512 the
/// divider and the FMA units share the work (see `divider.rs`).
///
/// ```
/// let a = [1.0, -0.0, 7.0];
/// let b = [3.0, 2.0, 0.0];
/// let mut out = [0.0; 3];
/// vexpr::unstable::vmath::div_f64(&a, &b, &mut out);
/// assert_eq!(out[0].to_bits(), (1.0f64 / 3.0).to_bits());
/// assert!(out[1] == 0.0 && out[1].is_sign_negative());
/// assert_eq!(out[2], f64::INFINITY);
/// ```
pub fn div_f64(a: &[f64], b: &[f64], out: &mut [f64]) {
    DIV_F64.run(Level::current(), a, b, out)
}

pub(crate) static ATAN2_F64: Binary<f64> = variants!(
    Binary,
    (y: &[f64], x: &[f64], out: &mut [f64]),
    map2_fixup!(
        y,
        x,
        out,
        |a, b| trig::atan2_ordinary::<M>(a, b),
        trig::atan2_needs_full(a, b),
        trig::atan2::<M>(a, b)
    )
);
pub(crate) static ATAN2_F32: Binary<f32> = variants!(
    Binary,
    (y: &[f32], x: &[f32], out: &mut [f32]),
    map2_fixup!(
        y,
        x,
        out,
        |a, b| trig32::atan2_ordinary::<M>(a, b),
        trig32::atan2_needs_full(a, b),
        trig::atan2::<M>(a as f64, b as f64) as f32
    )
);
pub(crate) static HYPOT_F64: Binary<f64> = variants!(
    Binary,
    (x: &[f64], y: &[f64], out: &mut [f64]),
    map2!(x, y, out, |a, b| explog::hypot::<M>(a, b))
);
pub(crate) static HYPOT_F32: Binary<f32> = variants!(
    Binary,
    (x: &[f32], y: &[f32], out: &mut [f32]),
    map2!(x, y, out, |a, b| explog::hypot_f32::<M>(a as f64, b as f64) as f32)
);
pub(crate) static POW_F32: Binary<f32> = Binary {
    #[cfg(target_arch = "x86_64")]
    avx2: pow32::avx2::pow_f32,
    #[cfg(target_arch = "x86_64")]
    avx512: pow32::avx512::pow_f32,
    ..variants!(
        Binary,
        (x: &[f32], y: &[f32], out: &mut [f32]),
        map2_fixup!(
            x,
            y,
            out,
            |a, b| pow32::pow_f32_ordinary::<M>(a as f64, b as f64) as f32,
            pow32::pow_f32_needs_full(a as f64, b as f64),
            explog::pow_f32::<M>(a as f64, b as f64) as f32
        )
    )
};

/// Two-argument inverse tangent of `y[i] / x[i]`, in [-pi, pi], with the
/// IEEE signed-zero and infinity cases.
pub fn atan2_f64(y: &[f64], x: &[f64], out: &mut [f64]) {
    ATAN2_F64.run(Level::current(), y, x, out)
}

/// f32 version of [`atan2_f64`], computed in f64 and rounded once.
pub fn atan2_f32(y: &[f32], x: &[f32], out: &mut [f32]) {
    ATAN2_F32.run(Level::current(), y, x, out)
}

/// sqrt(x^2 + y^2) without intermediate overflow or underflow.
pub fn hypot_f64(x: &[f64], y: &[f64], out: &mut [f64]) {
    HYPOT_F64.run(Level::current(), x, y, out)
}

/// f32 version of [`hypot_f64`], computed in f64 and rounded once.
pub fn hypot_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
    HYPOT_F32.run(Level::current(), x, y, out)
}

pub(crate) static POW_F64: Binary<f64> = Binary {
    #[cfg(target_arch = "x86_64")]
    avx2: pow::avx2::pow,
    #[cfg(target_arch = "x86_64")]
    avx512: pow::avx512::pow,
    ..variants!(
        Binary,
        (x: &[f64], y: &[f64], out: &mut [f64]),
        map2_fixup!(
            x,
            y,
            out,
            |a, b| pow::pow_ordinary::<M>(a, b),
            pow::pow_needs_full(a, b),
            a.powf(b)
        )
    )
};

/// x^y with the C99 special cases (pow(x, 0) = 1, pow(1, y) = 1, NaN for a
/// negative base and a non-integer exponent, ...), within 2 ulps: vectorized
/// for positive bases and results far from overflow (`pow.rs`), glibc's
/// `pow` for the other lanes.
///
/// ```
/// let (x, y) = ([2.0, 10.0, -8.0, 0.0], [0.5, -1.5, 1.0 / 3.0, -1.0]);
/// let mut out = [0.0; 4];
/// vexpr::unstable::vmath::pow_f64(&x, &y, &mut out);
/// assert!((out[0] - 2f64.sqrt()).abs() <= 2.0 * f64::EPSILON);
/// assert!((out[1] - 10f64.powf(-1.5)).abs() <= 2.0 * f64::EPSILON * out[1]);
/// assert!(out[2].is_nan() && out[3] == f64::INFINITY);
/// ```
pub fn pow_f64(x: &[f64], y: &[f64], out: &mut [f64]) {
    POW_F64.run(Level::current(), x, y, out)
}

/// f32 version of [`pow_f64`]: e^(y log|x|) in f64, vectorized.
pub fn pow_f32(x: &[f32], y: &[f32], out: &mut [f32]) {
    POW_F32.run(Level::current(), x, y, out)
}

/// The tables of `%` and `//` on floats: `remainder.rs`'s fmod in the loop,
/// the scalar function for the lanes it does not cover.
macro_rules! remainder_tables {
    ($($table:ident: $t:ty, $ordinary:ident, $needs_full:ident => |$a:ident, $b:ident, $m:ident| $finish:expr, $scalar:path;)*) => {$(
        pub(crate) static $table: Binary<$t> = variants!(
            Binary,
            (x: &[$t], y: &[$t], out: &mut [$t]),
            map2_fixup!(
                x,
                y,
                out,
                |$a, $b| {
                    let $m = remainder::$ordinary::<M>($a, $b);
                    $finish
                },
                remainder::$needs_full($a, $b),
                $scalar($a, $b)
            )
        );
    )*};
}

use crate::kernels::arith as scalar;

/// C's `fmod`, Rust's `%` on floats.
fn c_fmod<T: std::ops::Rem<Output = T>>(a: T, b: T) -> T {
    a % b
}

remainder_tables! {
    FMOD_F64: f64, fmod_ordinary, fmod_needs_full => |a, b, m| m, c_fmod;
    FMOD_F32: f32, fmod_ordinary32, fmod_needs_full32 => |a, b, m| m, c_fmod;
    MOD_F64: f64, fmod_ordinary, fmod_needs_full
        => |a, b, m| scalar::mod_f64_from_fmod(b, m), scalar::mod_f64;
    MOD_F32: f32, fmod_ordinary32, fmod_needs_full32
        => |a, b, m| scalar::mod_f32_from_fmod(b, m), scalar::mod_f32;
}

/// The tables of `//` on floats: one division per lane
/// (`remainder::floordiv_ordinary`), the scalar function for the lanes it
/// does not cover and at levels without fused multiply-adds.
macro_rules! floordiv_tables {
    ($($table:ident: $t:ty, $limit:expr, $scalar:path;)*) => {$(
        pub(crate) static $table: Binary<$t> = variants!(
            Binary,
            (x: &[$t], y: &[$t], out: &mut [$t]),
            map2_fixup!(
                x,
                y,
                out,
                |a, b| if <M as arith::Fma>::FUSED {
                    remainder::floordiv_ordinary::<M>(a as f64, b as f64) as $t
                } else {
                    $scalar(a, b)
                },
                remainder::floordiv_needs_full(a as f64, b as f64, $limit),
                $scalar(a, b)
            )
        );
    )*};
}

floordiv_tables! {
    FLOORDIV_F64: f64, remainder::FLOORDIV_F64_LIMIT, scalar::floordiv_f64;
    FLOORDIV_F32: f32, remainder::FLOORDIV_F32_LIMIT, scalar::floordiv_f32;
}

pub(crate) static FLOORDIV_I32: Binary<i32> = variants!(
    Binary,
    (x: &[i32], y: &[i32], out: &mut [i32]),
    map2!(x, y, out, |a, b| remainder::divmod_i32(a, b).0)
);
pub(crate) static MOD_I32: Binary<i32> = variants!(
    Binary,
    (x: &[i32], y: &[i32], out: &mut [i32]),
    map2!(x, y, out, |a, b| remainder::divmod_i32(a, b).1)
);
pub(crate) static FLOORDIV_I64: Binary<i64> = variants!(
    Binary,
    (x: &[i64], y: &[i64], out: &mut [i64]),
    map2_fixup!(
        x,
        y,
        out,
        |a, b| remainder::divmod_i64_ordinary(a, b).0,
        remainder::divmod_i64_needs_full(a, b),
        scalar::int_floordiv(a, b)
    )
);
pub(crate) static MOD_I64: Binary<i64> = variants!(
    Binary,
    (x: &[i64], y: &[i64], out: &mut [i64]),
    map2_fixup!(
        x,
        y,
        out,
        |a, b| remainder::divmod_i64_ordinary(a, b).1,
        remainder::divmod_i64_needs_full(a, b),
        scalar::int_mod(a, b)
    )
);

/// Python's `a // b` on integers (a zero divisor gives 0), vectorized
/// through f64 (`remainder.rs`).
///
/// ```
/// let (a, b) = ([-7, 7, 5, i32::MIN], [2, -2, 0, -1]);
/// let mut out = [0; 4];
/// vexpr::unstable::vmath::floordiv_i32(&a, &b, &mut out);
/// assert_eq!(out, [-4, -4, 0, i32::MIN]);
/// ```
pub fn floordiv_i32(a: &[i32], b: &[i32], out: &mut [i32]) {
    FLOORDIV_I32.run(Level::current(), a, b, out)
}

/// int64 version of [`floordiv_i32`].
pub fn floordiv_i64(a: &[i64], b: &[i64], out: &mut [i64]) {
    FLOORDIV_I64.run(Level::current(), a, b, out)
}

/// Python's `a % b` on integers (the sign of `b`; a zero divisor gives 0),
/// vectorized through f64.
///
/// ```
/// let (a, b) = ([-7, 7, 5, i32::MIN], [2, -2, 0, -1]);
/// let mut out = [0; 4];
/// vexpr::unstable::vmath::mod_i32(&a, &b, &mut out);
/// assert_eq!(out, [1, -1, 0, 0]);
/// ```
pub fn mod_i32(a: &[i32], b: &[i32], out: &mut [i32]) {
    MOD_I32.run(Level::current(), a, b, out)
}

/// int64 version of [`mod_i32`].
pub fn mod_i64(a: &[i64], b: &[i64], out: &mut [i64]) {
    MOD_I64.run(Level::current(), a, b, out)
}

/// C's `fmod(a, b)` (the sign of `a`), exactly, without a library call
/// per element (`remainder.rs`).
///
/// ```
/// let (a, b) = ([-7.0, 7.5, 1.0], [2.0, -2.0, 0.0]);
/// let mut out = [0.0; 3];
/// vexpr::unstable::vmath::fmod_f64(&a, &b, &mut out);
/// assert_eq!(out[..2], [-1.0, 1.5]);
/// assert!(out[2].is_nan());
/// ```
pub fn fmod_f64(a: &[f64], b: &[f64], out: &mut [f64]) {
    FMOD_F64.run(Level::current(), a, b, out)
}

/// f32 version of [`fmod_f64`].
pub fn fmod_f32(a: &[f32], b: &[f32], out: &mut [f32]) {
    FMOD_F32.run(Level::current(), a, b, out)
}

/// Python's `a % b` on floats (NumPy's `remainder`: the sign of `b`), the
/// same bits as the scalar function, without a library call per element.
///
/// ```
/// let (a, b) = ([-7.0, 7.5, 1.0], [2.0, -2.0, 0.0]);
/// let mut out = [0.0; 3];
/// vexpr::unstable::vmath::mod_f64(&a, &b, &mut out);
/// assert_eq!(out[..2], [1.0, -0.5]);
/// assert!(out[2].is_nan());
/// ```
pub fn mod_f64(a: &[f64], b: &[f64], out: &mut [f64]) {
    MOD_F64.run(Level::current(), a, b, out)
}

/// f32 version of [`mod_f64`].
pub fn mod_f32(a: &[f32], b: &[f32], out: &mut [f32]) {
    MOD_F32.run(Level::current(), a, b, out)
}

/// Python's `a // b` on floats (NumPy's `floor_divide`), the same bits as
/// the scalar function, without a library call per element.
///
/// ```
/// let (a, b) = ([-7.0, 7.5, 1.0], [2.0, -2.0, 0.0]);
/// let mut out = [0.0; 3];
/// vexpr::unstable::vmath::floordiv_f64(&a, &b, &mut out);
/// assert_eq!(out, [-4.0, -4.0, f64::INFINITY]);
/// ```
pub fn floordiv_f64(a: &[f64], b: &[f64], out: &mut [f64]) {
    FLOORDIV_F64.run(Level::current(), a, b, out)
}

/// f32 version of [`floordiv_f64`].
pub fn floordiv_f32(a: &[f32], b: &[f32], out: &mut [f32]) {
    FLOORDIV_F32.run(Level::current(), a, b, out)
}
