//! Kernels: the element loops that instructions run over one block.
//!
//! A [`Kernel`] takes its operands as byte slices in native layout (one
//! [`Operand`] per argument, all of the same length in elements) and writes the
//! result bytes. The function table in [`crate::functions`] pairs each kernel
//! with the exact operand and result types it is compiled for, so a kernel can
//! reinterpret its bytes as those types without checking. Booleans are one byte
//! holding 0 or 1; kernels that produce booleans write only 0 or 1.
//!
//! The loops here are written so that LLVM vectorizes them; [`vmath`] holds the
//! hand-vectorized transcendental functions and [`complex`] the careful complex
//! algorithms.

pub mod arith;
pub mod complex;
pub mod vmath;

use bytemuck::Pod;

/// One argument of a kernel: the bytes of `len` elements of `width` bytes each.
#[derive(Debug, Clone, Copy)]
pub struct Operand<'a> {
    /// The element bytes.
    pub bytes: &'a [u8],
    /// Bytes per element (the string width for byte strings).
    pub width: usize,
}

/// The signature every kernel has: result bytes, operands, element count.
/// A kernel fails only where NumPy raises at run time (an integer raised to a
/// negative power); the message becomes an [`crate::Error`] at the instruction's span.
/// A kernel that fails has written nothing: it checks its operands first (the
/// VM relies on this to find the first failing element of an in-place run).
pub type Kernel = fn(out: &mut [u8], args: &[Operand<'_>], len: usize) -> KernelResult;

/// What a kernel returns.
pub type KernelResult = Result<(), &'static str>;

/// Views an operand as a slice of `T`.
///
/// Operands come from typed user slices or from 64-byte aligned scratch, so the
/// alignment check in `cast_slice` always passes.
#[inline(always)]
pub(crate) fn typed<'a, T: Pod>(operand: &Operand<'a>) -> &'a [T] {
    bytemuck::cast_slice(operand.bytes)
}

#[inline(always)]
pub(crate) fn typed_mut<T: Pod>(out: &mut [u8]) -> &mut [T] {
    bytemuck::cast_slice_mut(out)
}

/// `out[i] = f(a[i])`.
#[inline(always)]
pub(crate) fn map1<A: Pod, R: Pod>(out: &mut [u8], args: &[Operand<'_>], f: impl Fn(A) -> R) {
    let a = typed::<A>(&args[0]);
    for (o, &a) in typed_mut::<R>(out).iter_mut().zip(a) {
        *o = f(a);
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
pub(crate) fn map2<A: Pod, B: Pod, R: Pod>(
    out: &mut [u8],
    args: &[Operand<'_>],
    f: impl Fn(A, B) -> R,
) {
    let (a, b) = (typed::<A>(&args[0]), typed::<B>(&args[1]));
    for ((o, &a), &b) in typed_mut::<R>(out).iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

/// `out[i] = f(a[i], b[i], c[i])`.
#[inline(always)]
pub(crate) fn map3<A: Pod, B: Pod, C: Pod, R: Pod>(
    out: &mut [u8],
    args: &[Operand<'_>],
    f: impl Fn(A, B, C) -> R,
) {
    let (a, b, c) = (
        typed::<A>(&args[0]),
        typed::<B>(&args[1]),
        typed::<C>(&args[2]),
    );
    for (((o, &a), &b), &c) in typed_mut::<R>(out).iter_mut().zip(a).zip(b).zip(c) {
        *o = f(a, b, c);
    }
}

/// `out[i] = f(a[i], b[i], c[i], d[i])`.
#[inline(always)]
pub(crate) fn map4<A: Pod, B: Pod, C: Pod, D: Pod, R: Pod>(
    out: &mut [u8],
    args: &[Operand<'_>],
    f: impl Fn(A, B, C, D) -> R,
) {
    let (a, b, c, d) = (
        typed::<A>(&args[0]),
        typed::<B>(&args[1]),
        typed::<C>(&args[2]),
        typed::<D>(&args[3]),
    );
    let inputs = a.iter().zip(b).zip(c).zip(d);
    for (o, (((&a, &b), &c), &d)) in typed_mut::<R>(out).iter_mut().zip(inputs) {
        *o = f(a, b, c, d);
    }
}

/// Builds a [`Kernel`] from an element-wise closure:
/// `kernel!(|a: f64, b: f64| -> f64 { a + b })`.
///
/// Each use expands to its own function item, so the closure is inlined into a
/// loop of its own and vectorized; the table stores only the function pointer.
/// The loop is compiled three times, for AVX-512, AVX2 and the baseline target,
/// and the best the CPU has is picked at run time ([`dispatch!`]), so a default
/// build uses the full vector width. Only plain IEEE operations appear in these
/// closures and Rust never contracts them into FMAs, so all three give the same
/// bits.
macro_rules! kernel {
    (|$a:ident : $ta:ty| -> $r:ty { $($body:tt)* }) => {{
        fn k(out: &mut [u8], args: &[$crate::kernels::Operand<'_>], _len: usize) -> $crate::kernels::KernelResult {
            $crate::kernels::dispatch!(out, args, {
                $crate::kernels::map1::<$ta, $r>(out, args, |$a: $ta| -> $r { $($body)* })
            });
            Ok(())
        }
        k as $crate::kernels::Kernel
    }};
    (|$a:ident : $ta:ty, $b:ident : $tb:ty| -> $r:ty { $($body:tt)* }) => {{
        fn k(out: &mut [u8], args: &[$crate::kernels::Operand<'_>], _len: usize) -> $crate::kernels::KernelResult {
            $crate::kernels::dispatch!(out, args, {
                $crate::kernels::map2::<$ta, $tb, $r>(out, args, |$a: $ta, $b: $tb| -> $r { $($body)* })
            });
            Ok(())
        }
        k as $crate::kernels::Kernel
    }};
    (|$a:ident : $ta:ty, $b:ident : $tb:ty, $c:ident : $tc:ty| -> $r:ty { $($body:tt)* }) => {{
        fn k(out: &mut [u8], args: &[$crate::kernels::Operand<'_>], _len: usize) -> $crate::kernels::KernelResult {
            $crate::kernels::dispatch!(out, args, {
                $crate::kernels::map3::<$ta, $tb, $tc, $r>(
                    out,
                    args,
                    |$a: $ta, $b: $tb, $c: $tc| -> $r { $($body)* },
                )
            });
            Ok(())
        }
        k as $crate::kernels::Kernel
    }};
    (|$a:ident : $ta:ty, $b:ident : $tb:ty, $c:ident : $tc:ty, $d:ident : $td:ty| -> $r:ty { $($body:tt)* }) => {{
        fn k(out: &mut [u8], args: &[$crate::kernels::Operand<'_>], _len: usize) -> $crate::kernels::KernelResult {
            $crate::kernels::dispatch!(out, args, {
                $crate::kernels::map4::<$ta, $tb, $tc, $td, $r>(
                    out,
                    args,
                    |$a: $ta, $b: $tb, $c: $tc, $d: $td| -> $r { $($body)* },
                )
            });
            Ok(())
        }
        k as $crate::kernels::Kernel
    }};
}

/// Compiles `$body` (a loop over `out` and `args`) for AVX-512, AVX2 + FMA and
/// the baseline target, and runs the variant the CPU supports.
macro_rules! dispatch {
    ($out:ident, $args:ident, $body:block) => {{
        #[inline(always)]
        fn body($out: &mut [u8], $args: &[$crate::kernels::Operand<'_>]) $body
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")]
        fn avx512($out: &mut [u8], $args: &[$crate::kernels::Operand<'_>]) {
            body($out, $args)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        fn avx2($out: &mut [u8], $args: &[$crate::kernels::Operand<'_>]) {
            body($out, $args)
        }
        match $crate::kernels::vmath::Level::current() {
            // SAFETY: `Level::current` is never above the CPU's level: AVX-512 (F, DQ, VL, BW) is there.
            #[cfg(target_arch = "x86_64")]
            $crate::kernels::vmath::Level::Avx512 => unsafe { avx512($out, $args) },
            // SAFETY: `Level::current` is never above the CPU's level: AVX2 + FMA are there.
            #[cfg(target_arch = "x86_64")]
            $crate::kernels::vmath::Level::Avx2Fma => unsafe { avx2($out, $args) },
            $crate::kernels::vmath::Level::Baseline => body($out, $args),
        }
    }};
}
pub(crate) use dispatch;
pub(crate) use kernel;

/// Builds a [`Kernel`] from a slice function `f(x, out)` of [`vmath`].
macro_rules! slice_kernel {
    ($t:ty, $f:path) => {{
        fn k(
            out: &mut [u8],
            args: &[$crate::kernels::Operand<'_>],
            _len: usize,
        ) -> $crate::kernels::KernelResult {
            $f(
                $crate::kernels::typed::<$t>(&args[0]),
                $crate::kernels::typed_mut::<$t>(out),
            );
            Ok(())
        }
        k as $crate::kernels::Kernel
    }};
    ($t:ty, $f:path, 2) => {{
        fn k(
            out: &mut [u8],
            args: &[$crate::kernels::Operand<'_>],
            _len: usize,
        ) -> $crate::kernels::KernelResult {
            $f(
                $crate::kernels::typed::<$t>(&args[0]),
                $crate::kernels::typed::<$t>(&args[1]),
                $crate::kernels::typed_mut::<$t>(out),
            );
            Ok(())
        }
        k as $crate::kernels::Kernel
    }};
}
pub(crate) use slice_kernel;

/// Copies operand 0 to the output, whatever its type (byte strings included).
pub(crate) fn copy_bytes(out: &mut [u8], args: &[Operand<'_>], _len: usize) -> KernelResult {
    out.copy_from_slice(&args[0].bytes[..out.len()]);
    Ok(())
}

/// Whether every byte is 0 or 1, so that a block of stored booleans can be
/// read as it is (`vm::Binding::Booleans`). An OR over all the bytes, without
/// an early exit, so that it vectorizes; compiled for AVX2 as well as the
/// baseline, like the kernels ([`dispatch!`]): this check runs on every block
/// of a NumPy boolean input, and at the baseline's 16 bytes a vector it
/// would cost as much as the boolean operation itself.
pub(crate) fn all_zero_or_one(bytes: &[u8]) -> bool {
    #[inline(always)]
    fn body(bytes: &[u8]) -> bool {
        bytes.iter().fold(0u8, |acc, &b| acc | b) <= 1
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn avx2(bytes: &[u8]) -> bool {
        body(bytes)
    }
    match vmath::Level::current() {
        // SAFETY: `Level::current` is never above the CPU's level, and both
        // levels above the baseline include AVX2.
        #[cfg(target_arch = "x86_64")]
        vmath::Level::Avx512 | vmath::Level::Avx2Fma => unsafe { avx2(bytes) },
        vmath::Level::Baseline => body(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::all_zero_or_one;

    #[test]
    fn all_zero_or_one_finds_any_other_byte_anywhere() {
        let clean: Vec<u8> = (0..300).map(|i| (i % 2) as u8).collect();
        assert!(all_zero_or_one(&clean) && all_zero_or_one(&[]));
        for at in [0, 1, 31, 32, 33, 150, 299] {
            for byte in [2u8, 3, 0x80, 0xff] {
                let mut stray = clean.clone();
                stray[at] = byte;
                assert!(!all_zero_or_one(&stray), "{byte} at {at}");
            }
        }
    }
}
