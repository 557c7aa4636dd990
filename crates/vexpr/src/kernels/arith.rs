//! Element functions with NumPy's semantics where Rust's operators differ:
//! Python's floor division and modulo, integer powers, shifts past the width,
//! NaN-propagating maximum and minimum, string comparison of NUL-padded
//! fixed-width byte strings, and an int64 to float64 conversion that
//! vectorizes. The kernels in the function table call these.

/// Integer operations shared by `int32` and `int64`.
pub trait Int: Copy + Ord + Default {
    /// `0`
    const ZERO: Self;
    /// `1`
    const ONE: Self;
    /// Wrapping division (`MIN / -1` wraps, as in NumPy).
    fn wrapping_div(self, b: Self) -> Self;
    /// Wrapping remainder.
    fn wrapping_rem(self, b: Self) -> Self;
    /// Wrapping multiplication.
    fn wrapping_mul(self, b: Self) -> Self;
    /// Wrapping addition.
    fn wrapping_add(self, b: Self) -> Self;
    /// Shift left by `s` bits, `s` below the type's width.
    fn shl(self, s: u32) -> Self;
    /// Arithmetic shift right by `s` bits, `s` below the type's width.
    fn shr(self, s: u32) -> Self;
    /// The shift amount if it is below the type's width.
    fn shift_amount(self) -> Option<u32>;
    /// True if negative.
    fn is_negative(self) -> bool;
    /// `-1`
    const MINUS_ONE: Self;
}

macro_rules! impl_int {
    ($t:ty) => {
        impl Int for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const MINUS_ONE: Self = -1;
            fn wrapping_div(self, b: Self) -> Self {
                <$t>::wrapping_div(self, b)
            }
            fn wrapping_rem(self, b: Self) -> Self {
                <$t>::wrapping_rem(self, b)
            }
            fn wrapping_mul(self, b: Self) -> Self {
                <$t>::wrapping_mul(self, b)
            }
            fn wrapping_add(self, b: Self) -> Self {
                <$t>::wrapping_add(self, b)
            }
            fn shl(self, s: u32) -> Self {
                self << s
            }
            fn shr(self, s: u32) -> Self {
                self >> s
            }
            fn shift_amount(self) -> Option<u32> {
                u32::try_from(self).ok().filter(|&s| s < Self::BITS)
            }
            fn is_negative(self) -> bool {
                self < 0
            }
        }
    };
}
impl_int!(i32);
impl_int!(i64);

/// Python's `a // b`; division by zero gives 0, as NumPy does.
#[inline(always)]
pub fn int_floordiv<T: Int>(a: T, b: T) -> T {
    if b == T::ZERO {
        return T::ZERO;
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_rem(b);
    if r != T::ZERO && (r.is_negative() != b.is_negative()) {
        q.wrapping_add(T::MINUS_ONE)
    } else {
        q
    }
}

/// Python's `a % b` (the result has the sign of `b`); modulo by zero gives 0, as NumPy does.
#[inline(always)]
pub fn int_mod<T: Int>(a: T, b: T) -> T {
    if b == T::ZERO {
        return T::ZERO;
    }
    let r = a.wrapping_rem(b);
    if r != T::ZERO && (r.is_negative() != b.is_negative()) {
        r.wrapping_add(b)
    } else {
        r
    }
}

/// `a ** b` by repeated squaring, wrapping on overflow as NumPy does.
/// A negative exponent gives the integer part of `1 / a**|b|`: 1 for `a == 1`,
/// ±1 for `a == -1`, 0 otherwise (NumPy refuses negative integer powers of
/// integer constants; the type checker refuses those, this covers array exponents).
#[inline(always)]
pub fn int_pow<T: Int>(a: T, b: T) -> T {
    if b.is_negative() {
        if a == T::ONE {
            return T::ONE;
        }
        if a == T::MINUS_ONE {
            return if int_mod(b, T::ONE.wrapping_add(T::ONE)) == T::ZERO {
                T::ONE
            } else {
                T::MINUS_ONE
            };
        }
        return T::ZERO;
    }
    let (mut base, mut exp, mut acc) = (a, b, T::ONE);
    while exp != T::ZERO {
        if int_mod(exp, T::ONE.wrapping_add(T::ONE)) != T::ZERO {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        exp = exp.shr(1);
    }
    acc
}

/// `a << b`; a shift by a negative amount or by the width or more gives 0, as NumPy does.
#[inline(always)]
pub fn int_shl<T: Int>(a: T, b: T) -> T {
    b.shift_amount().map_or(T::ZERO, |s| a.shl(s))
}

/// `a >> b`; a shift by the width or more gives 0 or -1 (the sign), as NumPy does.
#[inline(always)]
pub fn int_shr<T: Int>(a: T, b: T) -> T {
    match b.shift_amount() {
        Some(s) => a.shr(s),
        None if a.is_negative() => T::MINUS_ONE,
        None => T::ZERO,
    }
}

macro_rules! float_fns {
    ($t:ident, $floordiv:ident, $mod_:ident, $mod_from_fmod:ident,
     $maximum:ident, $minimum:ident, $sign:ident, $nextafter:ident) => {
        /// Python's floor division on floats, following NumPy's `npy_floor_divide`
        /// (`vmath::remainder` has the one-division form its vector loop uses).
        #[inline(always)]
        pub fn $floordiv(a: $t, b: $t) -> $t {
            let m = a % b;
            if b == 0.0 {
                return a / b;
            }
            let mut div = (a - m) / b;
            if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
                div -= 1.0;
            }
            if div == 0.0 {
                return (0.0 as $t).copysign(a / b);
            }
            let mut floordiv = div.floor();
            if div - floordiv > 0.5 {
                floordiv += 1.0;
            }
            floordiv
        }

        /// Python's modulo on floats (the result has the sign of `b`), as NumPy's `npy_remainder`.
        #[inline(always)]
        pub fn $mod_(a: $t, b: $t) -> $t {
            $mod_from_fmod(b, a % b)
        }

        #[doc = concat!("`", stringify!($mod_), "` from `m`, C's `fmod(a, b)`.")]
        #[inline(always)]
        pub(crate) fn $mod_from_fmod(b: $t, m: $t) -> $t {
            if b == 0.0 {
                // fmod(a, 0) is NaN.
                m
            } else if m == 0.0 {
                (0.0 as $t).copysign(b)
            } else if (b < 0.0) != (m < 0.0) {
                m + b
            } else {
                m
            }
        }

        /// NumPy's `maximum`: NaN if either is NaN; of two equal values (0.0 and
        /// -0.0) the second, as NumPy's `a > b || isnan(a) ? a : b`.
        #[inline(always)]
        pub fn $maximum(a: $t, b: $t) -> $t {
            if a > b || a.is_nan() { a } else { b }
        }

        /// NumPy's `minimum`: NaN if either is NaN; of two equal values the second.
        #[inline(always)]
        pub fn $minimum(a: $t, b: $t) -> $t {
            if a < b || a.is_nan() { a } else { b }
        }

        /// NumPy's `sign`: -1, 0 or 1 (`sign(-0.0)` is `0.0`); NaN stays NaN.
        #[inline(always)]
        pub fn $sign(a: $t) -> $t {
            if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else if a == 0.0 {
                0.0
            } else {
                a
            }
        }

        /// C's `nextafter` (NaN if either is NaN, `b` if they are equal),
        /// as selects, so that the loop over it vectorizes: the bits of a
        /// nonzero `a` step by one, up when it moves away from zero (toward
        /// `b` and away from 0 are one direction); from a zero, the
        /// smallest subnormal with `b`'s sign.
        #[inline(always)]
        pub fn $nextafter(a: $t, b: $t) -> $t {
            let bits = a.to_bits();
            let up = (a < b) == (a > 0.0);
            let stepped = $t::from_bits(if up {
                bits.wrapping_add(1)
            } else {
                bits.wrapping_sub(1)
            });
            let r = if a == 0.0 {
                $t::from_bits(1).copysign(b)
            } else {
                stepped
            };
            let r = if a == b { b } else { r };
            if a.is_nan() || b.is_nan() { $t::NAN } else { r }
        }
    };
}
float_fns!(
    f64,
    floordiv_f64,
    mod_f64,
    mod_f64_from_fmod,
    maximum_f64,
    minimum_f64,
    sign_f64,
    nextafter_f64
);
float_fns!(
    f32,
    floordiv_f32,
    mod_f32,
    mod_f32_from_fmod,
    maximum_f32,
    minimum_f32,
    sign_f32,
    nextafter_f32
);

/// `x as f64`, correctly rounded, in operations that vectorize without
/// AVX-512DQ's `vcvtqq2pd` (LLVM makes `as f64` one scalar `vcvtsi2sd` an
/// element at AVX2): the high 32 bits, their sign bit flipped to make them
/// unsigned, and the low 32 bits each become an exact double through the
/// bits of 2^84 and 2^52, and one addition rounds their sum, `x`, once.
#[inline(always)]
pub fn i64_to_f64(x: i64) -> f64 {
    const TWO_84: u64 = 0x4530_0000_0000_0000;
    const TWO_52: u64 = 0x4330_0000_0000_0000;
    const SIGN_32: u64 = 0x8000_0000;
    let bits = x as u64;
    // 2^84 + (high + 2^31) 2^32 minus 2^84 + 2^63: high 2^32, exact (a
    // multiple of 2^32 below 2^63).
    let high = f64::from_bits(((bits >> 32) ^ SIGN_32) | TWO_84) - f64::from_bits(TWO_84 | SIGN_32);
    let low = f64::from_bits((bits & 0xFFFF_FFFF) | TWO_52) - f64::from_bits(TWO_52);
    high + low
}

/// Compares fixed-width byte strings as NumPy does: trailing NUL bytes do not count.
#[inline]
pub fn compare_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    fn trim(s: &[u8]) -> &[u8] {
        let end = s.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
        &s[..end]
    }
    trim(a).cmp(trim(b))
}

/// numexpr's `contains(haystack, needle)` on NUL-padded byte strings.
#[inline]
pub fn bytes_contain(haystack: &[u8], needle: &[u8]) -> bool {
    let end = |s: &[u8]| s.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    let (h, n) = (&haystack[..end(haystack)], &needle[..end(needle)]);
    n.is_empty() || h.windows(n.len()).any(|w| w == n)
}

/// numexpr's multiplication chain for `x ** N` (binary exponentiation: the
/// partial product times the running square, `r * p`, then `p * p`), exactly as
/// the type checker would expand it into separate instructions, so the bits are
/// the same; here the chain stays in registers for one pass over the block
/// (`powi_chain::<f64, 5>(x)` is `x * ((x * x) * (x * x))`, tested below).
#[inline(always)]
pub fn powi_chain<T: Copy + std::ops::Mul<Output = T>, const N: u32>(x: T) -> T {
    const { assert!(N < 32, "powi_chain handles powers below 32") };
    // The loop of the expansion written out bit by bit: every condition is a
    // constant, so the chain compiles to straight-line code that vectorizes.
    let mut result: Option<T> = None;
    let mut power = x;
    macro_rules! take_bit {
        ($b:expr) => {
            if N & (1 << $b) != 0 {
                result = Some(match result {
                    None => power,
                    Some(r) => r * power,
                });
            }
        };
    }
    macro_rules! bit {
        ($b:expr) => {
            take_bit!($b);
            if N >> ($b + 1) != 0 {
                power = power * power;
            }
        };
    }
    bit!(0);
    bit!(1);
    bit!(2);
    bit!(3);
    take_bit!(4);
    result.unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branch-free `nextafter` against its definition by `next_up` and
    /// `next_down`, bit for bit, over zeros, subnormals, the largest
    /// finite values, the infinities, NaN and ordinary values, both ways.
    #[test]
    fn nextafter_steps_one_float_toward_the_target() {
        macro_rules! check {
            ($t:ty, $f:ident, $values:expr) => {
                for &a in $values {
                    for &b in $values {
                        let want: $t = if a.is_nan() || b.is_nan() {
                            <$t>::NAN
                        } else if a == b {
                            b
                        } else if a < b {
                            a.next_up()
                        } else {
                            a.next_down()
                        };
                        let got = $f(a, b);
                        assert!(
                            got.to_bits() == want.to_bits() || got.is_nan() && want.is_nan(),
                            "nextafter({a:e}, {b:e}) = {got:e}, want {want:e}"
                        );
                    }
                }
            };
        }
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            -2.5,
            5e-324,
            -5e-324,
            2.2250738585072014e-308,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        check!(f64, nextafter_f64, &values);
        let values: Vec<f32> = values
            .iter()
            .map(|&v| v as f32)
            .chain([1e-45, -1e-45, 1.1754944e-38, f32::MAX, f32::MIN])
            .collect();
        check!(f32, nextafter_f32, &values);
    }

    #[test]
    fn powi_chain_multiplies_as_the_expansion_does() {
        let x = 1.1f64;
        assert_eq!(
            powi_chain::<f64, 5>(x).to_bits(),
            (x * ((x * x) * (x * x))).to_bits()
        );
    }

    #[test]
    fn floor_division_and_modulo_follow_python() {
        // Python: divmod(-7, 2) == (-4, 1); divmod(7, -2) == (-4, -1)
        assert_eq!((int_floordiv(-7i32, 2), int_mod(-7i32, 2)), (-4, 1));
        assert_eq!((int_floordiv(7i64, -2), int_mod(7i64, -2)), (-4, -1));
        assert_eq!(
            (int_floordiv(i32::MIN, -1), int_mod(i32::MIN, -1)),
            (i32::MIN, 0)
        );
        assert_eq!((int_floordiv(5i32, 0), int_mod(5i32, 0)), (0, 0));
        assert_eq!((floordiv_f64(-7.0, 2.0), mod_f64(-7.0, 2.0)), (-4.0, 1.0));
        assert_eq!(mod_f64(-0.0, 3.0).to_bits(), 0.0f64.to_bits());
        assert!(mod_f64(1.0, 0.0).is_nan());
        assert_eq!(floordiv_f64(1.0, 0.0), f64::INFINITY);
    }

    #[test]
    fn integer_powers_and_shifts() {
        assert_eq!(int_pow(3i64, 4), 81);
        assert_eq!(int_pow(2i32, 31), i32::MIN);
        assert_eq!(int_pow(-1i32, -3), -1);
        assert_eq!(int_pow(2i32, -1), 0);
        assert_eq!(int_shl(1i32, 40), 0);
        assert_eq!(int_shr(-8i64, 70), -1);
        assert_eq!(int_shl(3i64, 2), 12);
    }

    #[test]
    fn strings_compare_without_padding() {
        assert_eq!(compare_bytes(b"ab\0\0", b"ab"), std::cmp::Ordering::Equal);
        assert!(bytes_contain(b"hello\0", b"ll"));
        assert!(!bytes_contain(b"he\0", b"hel"));
    }

    #[test]
    fn int64_to_float64_rounds_as_the_cast_does() {
        let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1Du64);
        let edges = [
            0,
            1,
            -1,
            i64::MIN,
            i64::MAX,
            1 << 53,
            (1 << 53) + 1,
            -(1 << 60) - 3,
        ];
        // Random bit patterns at every magnitude, and values next to the
        // halfway points where rounding to 53 bits ties.
        let random = (0..200_000).map(|_| {
            let x = next() >> (next() % 64);
            let x = if next().is_multiple_of(2) {
                x
            } else {
                x.wrapping_neg()
            } as i64;
            if next().is_multiple_of(4) {
                (x & !0x3FF) | 0x200
            } else {
                x
            }
        });
        for x in edges.into_iter().chain(random) {
            assert_eq!(i64_to_f64(x).to_bits(), (x as f64).to_bits(), "{x}");
        }
    }
}
