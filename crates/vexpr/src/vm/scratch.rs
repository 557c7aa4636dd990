//! Per-thread scratch registers.
//!
//! Each thread keeps one [`Scratch`] in a thread-local and reuses it for every
//! block of every call, so registers are allocated once per thread (and grown
//! only when a program needs more), never per block. The compiled program holds
//! no mutable state, which is what lets many threads run one program at once.

use super::Binding;
use crate::program::{Program, Role};
use bytemuck::{Pod, Zeroable};
use std::cell::RefCell;

/// 64 bytes, aligned to 64: the unit of scratch storage. Alignment to 64 makes
/// every register suitably aligned for any element type (and for SIMD loads).
#[derive(Clone, Copy, Pod, Zeroable)]
#[repr(C, align(64))]
pub(crate) struct Line([u8; 64]);

impl Line {
    /// A line of zero bytes.
    pub(crate) const ZERO: Line = Line([0; 64]);
}

/// The registers of one thread.
#[derive(Default)]
pub(crate) struct Scratch {
    registers: Vec<Vec<Line>>,
    /// The program (by [`Program::id`]) and block length whose constants the
    /// registers hold.
    constants_for: Option<(u64, usize)>,
}

/// Fills `dst` with copies of the element `value`, with a typed fill for the
/// common widths (a byte-wise copy per element is several times slower).
fn splat(dst: &mut [u8], value: &[u8]) {
    fn fill<T: Pod>(dst: &mut [u8], value: &[u8]) {
        let v: T = bytemuck::pod_read_unaligned(value);
        bytemuck::cast_slice_mut::<u8, T>(dst).fill(v);
    }
    match value.len() {
        1 => dst.fill(value[0]),
        4 => fill::<u32>(dst, value),
        8 => fill::<u64>(dst, value),
        16 => fill::<u128>(dst, value),
        w => {
            for chunk in dst.chunks_exact_mut(w) {
                chunk.copy_from_slice(value);
            }
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch (or a fresh one if it is already in use,
/// which only a re-entrant call from inside a kernel could cause).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

impl Scratch {
    /// Sizes the registers for blocks of `block_len` elements of `program` and
    /// fills the ones that hold the same value for every block (constants and
    /// splatted inputs).
    pub(crate) fn prepare(
        &mut self,
        program: &Program,
        bindings: &[Binding<'_>],
        block_len: usize,
    ) {
        if self.registers.len() < program.registers.len() {
            self.registers
                .resize_with(program.registers.len(), Vec::new);
        }
        // Constants stay valid while the same program runs with the same block
        // length on this thread; splatted inputs may differ from call to call.
        let constants_ready = self.constants_for == Some((program.id, block_len));
        for (i, r) in program.registers.iter().enumerate() {
            let value: Option<Vec<u8>> = match &r.role {
                Role::Output => continue,
                Role::Input(v) => match &bindings[*v] {
                    Binding::Dense(_) => continue,
                    Binding::Splat(value) => Some(value.clone()),
                    Binding::Gathered(_) | Binding::Booleans(_) | Binding::Output => None,
                },
                Role::Const(c) if !constants_ready => Some(c.to_bytes()),
                Role::Const(_) | Role::Temp => None,
            };
            let width = r.dtype.itemsize();
            let lines = (block_len * width).div_ceil(64);
            if self.registers[i].len() < lines {
                self.registers[i].resize(lines, Line([0; 64]));
            }
            if let Some(value) = value.filter(|v| v.len() == width && width > 0) {
                splat(self.bytes_mut(i, block_len * width), &value);
            }
        }
        self.constants_for = Some((program.id, block_len));
    }

    /// The first `n` bytes of register `i`.
    pub(crate) fn bytes(&self, i: usize, n: usize) -> &[u8] {
        &bytemuck::cast_slice::<Line, u8>(&self.registers[i])[..n]
    }

    /// The first `n` bytes of register `i`, writable.
    pub(crate) fn bytes_mut(&mut self, i: usize, n: usize) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut::<Line, u8>(&mut self.registers[i])[..n]
    }

    /// Takes register `i` out, so that it can be written while others are read.
    pub(crate) fn take(&mut self, i: usize) -> Vec<Line> {
        std::mem::take(&mut self.registers[i])
    }

    /// Puts back a register taken with [`Scratch::take`].
    pub(crate) fn put_back(&mut self, i: usize, register: Vec<Line>) {
        self.registers[i] = register;
    }
}
