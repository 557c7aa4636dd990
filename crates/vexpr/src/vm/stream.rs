//! Large runs: how blocks stream from and to memory.
//!
//! In: a run's size and bindings. Out: a [`Streaming`] plan, and the memory
//! hints the plan calls for (prefetches, non-temporal stores).
//!
//! A run whose inputs and output are far larger than the caches is limited by
//! how much memory traffic one core keeps in flight, not by arithmetic. Three
//! things help, all measured on the project machine at N = 10M (best of three
//! medians of `vexpr bench EXPR --n 10000000 --threads T`, ns/elem):
//! - each instruction of a block first asks for a slice of the *next* block's
//!   inputs, so the memory system always has work while the kernels compute;
//! - the block's result goes to a staging buffer in L1 and is copied out with
//!   non-temporal stores, which skip reading the output lines first;
//! - if the output cannot be staged (evaluation in place), its next block is
//!   prefetched for writing instead.
//!
//! | expression | threads | plain | both hints |
//! |---|---:|---:|---:|
//! | `2*a + 3*b` | 1 / 2 | 1.91 / 0.97 | 1.37 / 0.69 |
//! | `2*a**3 - 4*a**5 + 6*log(a)` | 1 / 2 | 2.52 / 1.41 | 2.10 / 1.07 |
//! | `abs(a - b) / (abs(a) + abs(b))` | 1 / 2 | 2.50 / 1.25 | 2.01 / 1.03 |
//! | `sin(a)**2 + cos(b)**2` | 1 / 2 | 3.10 / 1.59 | 1.92 / 0.96 |
//! | `where(a > b, a*b, a - b)` | 1 / 2 | 2.00 / 1.04 | 1.55 / 0.81 |
//! | `exp(-a*a) * sqrt(b)` | 1 / 2 | 2.88 / 1.49 | 2.51 / 1.29 |
//! | `arctan2(a, b) + tanh(a*b)` | 1 / 2 | 3.56 / 1.79 | 3.11 / 1.58 |
//!
//! At N = 1M, where everything stays in the last-level cache, the input
//! prefetch cost 2-8% and the non-temporal stores would evict an output the
//! caller is about to read, hence [`STREAMING_FROM_BYTES`].

use super::Binding;
use crate::program::{Program, Role};

/// Runs that move at least this many bytes (elements times the widths of the
/// contiguous inputs and the output) stream; smaller ones fit in the caches.
pub(crate) const STREAMING_FROM_BYTES: usize = 48 << 20;

/// Streaming runs use blocks of at most this many elements: the prefetches of
/// the next block then come in smaller, more even slices. N = 10M, one thread
/// (`vexpr bench EXPR --n 10000000 --threads 1 --block-len B`, two runs each),
/// ns/elem with 256 / 512 / 1024-element blocks: `2*a + 3*b` 1.19 / 1.42 /
/// (512), `abs(a - b) / (abs(a) + abs(b))` 1.62 / 1.67 / 1.93,
/// `where(a > b, a*b, a - b)` 1.29 / 1.34 / 1.58, `exp(-a*a) * sqrt(b)` 2.02 /
/// 2.11 / 2.31; the transcendental-heavy `2*a**3 - 4*a**5 + 6*log(a)` and
/// `arctan2(a, b) + tanh(a*b)` lost 3-5% at 256 against 512, and
/// `sin(a)**2 + cos(b)**2` was within noise.
pub(crate) const STREAMING_BLOCK_LEN: usize = 256;

/// What a run does to keep memory busy.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Streaming {
    /// Prefetch the next block's contiguous inputs, a slice per instruction.
    pub prefetch_inputs: bool,
    /// Compute each block into staging and copy it out with non-temporal stores.
    pub stage_output: bool,
    /// Prefetch the next block's output lines for writing.
    pub prefetch_output: bool,
}

impl Streaming {
    /// The plan for a run of `program` over `bindings` that moves `bytes`
    /// ([`run_bytes`]), by `machine_code` or else by the passes.
    pub(crate) fn plan(
        program: &Program,
        bindings: &[Binding<'_>],
        bytes: usize,
        machine_code: bool,
    ) -> Streaming {
        if bytes < STREAMING_FROM_BYTES || (!machine_code && one_expensive_kernel(program)) {
            return Streaming::default();
        }
        let in_place = (program.registers.iter())
            .any(|r| matches!(r.role, Role::Input(v) if matches!(bindings[v], Binding::Output)));
        Streaming {
            prefetch_inputs: true,
            stage_output: !in_place,
            prefetch_output: in_place,
        }
    }
}

/// True for a program of one expensive function (a cost above 1:
/// [`TRANSCENDENTAL_COST`](crate::functions::TRANSCENDENTAL_COST), half of it
/// in float32), which its pass computes at 1-4 ns an element, well below the memory's
/// pace: there the hints only cost. On an AVX-512 Xeon at N = 10M, one
/// thread (`vexpr bench EXPR --n 10000000 --threads 1 --repeat 10`, with and
/// without the hints alternated, medians of 5, ns/elem): `sinh(a)` 2.66 /
/// 2.07, `tan(a)` 3.39 / 2.61 (two threads 1.56 / 1.28), `log1p(a)` 2.59 /
/// 2.08, `arctanh(a)` 2.72 / 2.21, `a ** b` 4.49 / 3.47, `log2(a)` 1.86 /
/// 1.87; float32 `log(a)` 0.79 / 0.73. The hints still pay where the machine
/// code runs the function (`sqrt(a)` 0.91 / 1.00, `2*a**3 - 4*a**5 +
/// 6*log(a)` 1.19 / 1.63) and for cheap passes (`a + b` 1.42 / 1.46).
fn one_expensive_kernel(program: &Program) -> bool {
    matches!(&program.code[..], [only] if only.overload.cost > 1)
}

/// The bytes a run of `len` elements moves: each contiguous input's and the
/// output's.
pub(crate) fn run_bytes(program: &Program, bindings: &[Binding<'_>], len: usize) -> usize {
    let mut bytes_per_element = program.result_dtype().itemsize();
    for r in &program.registers {
        if let Role::Input(v) = r.role
            && bindings[v].contiguous().is_some()
        {
            bytes_per_element += r.dtype.itemsize();
        }
    }
    len.saturating_mul(bytes_per_element)
}

/// Asks for the contiguous inputs of elements `start..start + n` (clipped to
/// each input), one cache line at a time, into L2.
pub(crate) fn prefetch_inputs(program: &Program, bindings: &[Binding<'_>], start: usize, n: usize) {
    for r in &program.registers {
        if let Role::Input(v) = r.role
            && let Some(data) = bindings[v].contiguous()
        {
            let w = r.dtype.itemsize();
            let lo = start.saturating_mul(w).min(data.len());
            let hi = start.saturating_add(n).saturating_mul(w).min(data.len());
            prefetch(&data[lo..hi], false);
        }
    }
}

/// Asks for the cache lines of `bytes`, with intent to write if `write`.
pub(crate) fn prefetch(bytes: &[u8], write: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_ET1, _MM_HINT_T1, _mm_prefetch};
        for line in bytes.chunks(64) {
            if write {
                // SAFETY: a prefetch is only a hint and cannot fault; the
                // address is inside `bytes`.
                unsafe { _mm_prefetch::<_MM_HINT_ET1>(line.as_ptr().cast()) };
            } else {
                // SAFETY: as above.
                unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr().cast()) };
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, write);
}

/// Copies `src` to `dst` (the same length), with non-temporal stores for the
/// 16-byte aligned part of `dst`. Call [`stream_fence`] before the data is
/// handed to another thread.
pub(crate) fn stream_copy(src: &[u8], dst: &mut [u8]) {
    debug_assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
        let len = dst.len().min(src.len());
        let head = dst.as_ptr().align_offset(16).min(len);
        dst[..head].copy_from_slice(&src[..head]);
        let body_end = head + (len - head) / 16 * 16;
        let stream = |from: &[u8; 16], to: &mut [u8; 16]| {
            // SAFETY: `from` is 16 readable bytes, what the unaligned load reads.
            let v = unsafe { _mm_loadu_si128(from.as_ptr().cast::<__m128i>()) };
            // SAFETY: `to` is 16 writable bytes, 16-byte aligned as the
            // streaming store requires: `dst + head` is aligned and every
            // chunk starts a multiple of 16 bytes after it.
            unsafe { _mm_stream_si128(to.as_mut_ptr().cast::<__m128i>(), v) };
        };
        // Four stores a 64-byte step, so that a write-combining buffer fills
        // within one iteration: with one 16-byte store an iteration the
        // copy's speed depended on where the linker put the loop (the same
        // copy took 0.61 or 0.75 ns/elem at N = 10M in two builds).
        let (src_body, _) = src[head..body_end].as_chunks::<16>();
        let (dst_body, _) = dst[head..body_end].as_chunks_mut::<16>();
        let (src_lines, src_rest) = src_body.as_chunks::<4>();
        let (dst_lines, dst_rest) = dst_body.as_chunks_mut::<4>();
        for (from, to) in src_lines.iter().zip(dst_lines) {
            let [t0, t1, t2, t3] = to;
            stream(&from[0], t0);
            stream(&from[1], t1);
            stream(&from[2], t2);
            stream(&from[3], t3);
        }
        for (from, to) in src_rest.iter().zip(dst_rest) {
            stream(from, to);
        }
        dst[body_end..len].copy_from_slice(&src[body_end..len]);
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst.copy_from_slice(src);
}

/// Orders this thread's non-temporal stores before its later stores, so that
/// whoever synchronizes with this thread afterwards sees them.
pub(crate) fn stream_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: sfence has no preconditions.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

#[cfg(test)]
mod tests {
    /// Every alignment of the destination and of the source, and lengths
    /// around the 16-byte stores and the 64-byte steps: the bytes of a
    /// plain copy, and nothing written outside the destination.
    #[test]
    #[cfg_attr(miri, ignore = "non-temporal store intrinsics")]
    fn stream_copy_copies_every_length_and_alignment() {
        let src: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        let lengths = (0..=200).chain([255, 256, 257, 319, 320, 321, 511, 512, 513]);
        for len in lengths {
            for dst_at in 0..16 {
                for src_at in [0, 1, 8, 15] {
                    let mut dst = vec![0xAAu8; 600];
                    let from = &src[src_at..src_at + len];
                    super::stream_copy(from, &mut dst[dst_at..dst_at + len]);
                    super::stream_fence();
                    assert_eq!(&dst[dst_at..dst_at + len], from, "{len} {dst_at} {src_at}");
                    assert!(dst[..dst_at].iter().all(|&b| b == 0xAA));
                    assert!(dst[dst_at + len..].iter().all(|&b| b == 0xAA));
                }
            }
        }
    }
}
