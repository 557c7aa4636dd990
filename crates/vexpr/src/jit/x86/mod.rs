//! x86-64 lowerings of a [`Plan`](super::Plan), one per instruction set
//! (`avx512.rs`: zmm registers and mask registers; `avx2.rs`: ymm registers,
//! AVX2 and FMA), assembled with `iced-x86`'s code assembler into executable
//! memory (`exec.rs`), and what they share: the generated function's
//! calling convention, the constant pool, the executable memory, and the
//! math kernels both inline (`kernels.rs`, written once against the
//! `Kernels` trait each lowering implements).
//!
//! The generated function, in the System V calling convention on any OS:
//!
//! ```text
//! fn(inputs: *const *const u8, out: *mut u8, n: usize, pool: *const u64) -> usize
//! ```
//!
//! The pointers address elements of the plan's [`Elem`](super::plan::Elem)
//! type (float64 or float32), `n` counts them.
//!
//! General registers: `rdi` the input pointer array (then input 3), `rsi`
//! `out`, `rdx` n (then its byte count), `rcx` the constant pool, `rax` the
//! byte offset of the current vector, `r8`-`r10` inputs 0-2, `r11` scratch,
//! and for a program of more than four inputs `rbx`, `r12`, `r13`, `r14`
//! inputs 4-7 ([`INPUT_GPRS`]). Those four are callee-saved: the function
//! pushes the ones it uses on entry and pops them before its one `ret`
//! (every exit jumps there), so a program of up to four inputs saves
//! nothing. The AVX2 function's frame goes below them: 32-byte slots of
//! spilled temporaries (`Plan::spilled`) and, for a program of more than 8
//! inputs, the pointer array, from which the inputs past the 8th have their
//! pointers read into `r11` where they are loaded ([`GPR_INPUTS`]). The AVX2
//! tail's 32-byte lane mask goes below that (`sub rsp`, then `add rsp`
//! before the frame's and the pops). It returns how many leading elements
//! it wrote.
//!
//! The code holds that function twice: as is, and with non-temporal stores
//! for outputs far larger than the caches (the stores then do not read the
//! output's lines first).

/// The `Kernels::bin` and `Kernels::fused` of a backend: each operation's
/// `ps` form on float32 lanes and `pd` form on float64 ones, through the
/// backend's own `by_elem!` (its register and constant operands differ),
/// with its bitwise forms (`and`, `or`, `xor`: AVX2's `vandps`, EVEX's
/// `vpandd`), written once for both.
macro_rules! bin_and_fused {
    ($v:ty, and: $and_ps:ident | $and_pd:ident, or: $or_ps:ident | $or_pd:ident,
     xor: $xor_ps:ident | $xor_pd:ident) => {
        fn bin(&mut self, op: Bin, dst: $v, a: $v, b: Src) -> R {
            match op {
                Bin::Add => by_elem!(self.vaddps | vaddpd(dst, a; b)),
                Bin::Sub => by_elem!(self.vsubps | vsubpd(dst, a; b)),
                Bin::Mul => by_elem!(self.vmulps | vmulpd(dst, a; b)),
                Bin::Div => by_elem!(self.vdivps | vdivpd(dst, a; b)),
                Bin::And => by_elem!(self.$and_ps | $and_pd(dst, a; b)),
                Bin::Or => by_elem!(self.$or_ps | $or_pd(dst, a; b)),
                Bin::Xor => by_elem!(self.$xor_ps | $xor_pd(dst, a; b)),
                Bin::Min => by_elem!(self.vminps | vminpd(dst, a; b)),
                Bin::SubInt => by_elem!(self.vpsubd | vpsubq(dst, a; b)),
                Bin::AddInt => by_elem!(self.vpaddd | vpaddq(dst, a; b)),
            }
        }

        fn fused(&mut self, form: Fused, dst: $v, a: $v, b: Src) -> R {
            match form {
                Fused::Add231 => by_elem!(self.vfmadd231ps | vfmadd231pd(dst, a; b)),
                Fused::NegAdd231 => by_elem!(self.vfnmadd231ps | vfnmadd231pd(dst, a; b)),
                Fused::Sub231 => by_elem!(self.vfmsub231ps | vfmsub231pd(dst, a; b)),
                Fused::Add132 => by_elem!(self.vfmadd132ps | vfmadd132pd(dst, a; b)),
                Fused::NegAdd132 => by_elem!(self.vfnmadd132ps | vfnmadd132pd(dst, a; b)),
                Fused::Add213 => by_elem!(self.vfmadd213ps | vfmadd213pd(dst, a; b)),
            }
        }
    };
}

/// `with_src!` with the instruction's `ps` form for float32 lanes and its
/// `pd` form for float64 ones (each backend defines `with_src!` for its
/// operands).
macro_rules! by_elem {
    ($self:ident . $ps:ident | $pd:ident ( $($args:tt)* )) => {
        match $self.elem() {
            Elem::F32 => with_src!($self.$ps($($args)*)),
            Elem::F64 => with_src!($self.$pd($($args)*)),
        }
    };
}

pub(in crate::jit) mod avx2;
mod avx512;
mod exec;
mod kernels;

pub(super) use avx2::Avx2;
#[cfg(test)]
pub(super) use avx2::avx2_instructions;
pub(super) use avx512::Avx512;
#[cfg(test)]
pub(super) use avx512::instructions as avx512_instructions;

use super::plan::Elem;
use super::{Compare, Traffic};
use crate::functions::{FloatTest, JitOp};
use exec::ExecCode;
use iced_x86::BlockEncoderOptions;
use iced_x86::code_asm::{
    AsmRegister64, CodeAssembler, CodeLabel, r8, r9, r10, r12, r13, r14, rbx, rdi,
};
use std::collections::HashMap;

/// The generated function's type.
pub(super) type Entry =
    unsafe extern "sysv64" fn(*const *const u8, *mut u8, usize, *const u64) -> usize;

/// Machine code in executable memory, with the constants it reads.
pub(crate) struct Compiled {
    /// Read and execute only; released on drop, so the entries live as long.
    _code: ExecCode,
    /// The functions for [`Traffic::Cached`], [`Traffic::Prefetched`] and
    /// [`Traffic::Streaming`] runs, in that order.
    entries: [Entry; 3],
    /// Kernel and program constants, read through `rcx`.
    pool: Box<[u64]>,
}

impl Compiled {
    /// The function for runs of `traffic`.
    pub(super) fn entry(&self, traffic: Traffic) -> Entry {
        self.entries[traffic as usize]
    }

    /// The constants the code reads through its fourth argument.
    pub(super) fn pool(&self) -> *const u64 {
        self.pool.as_ptr()
    }

    /// Assembles `a`, which holds the [`Traffic::Cached`] function at its
    /// start and the other two at `labels`, into executable memory; `None`
    /// if the assembler or the memory mapping refuses (never expected).
    fn assemble(mut a: CodeAssembler, labels: [CodeLabel; 2], pool: Vec<u64>) -> Option<Compiled> {
        let assembled = a
            .assemble_options(0, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS)
            .ok()?;
        let code = ExecCode::new(&assembled.inner.code_buffer)?;
        let mut offsets = [0usize; 3];
        for (offset, label) in offsets[1..].iter_mut().zip(&labels) {
            *offset = usize::try_from(assembled.label_ip(label).ok()?).ok()?;
            if *offset >= code.len() {
                return None;
            }
        }
        // SAFETY: `code` holds the three position-independent functions
        // assembled above (only relative branches; data through the pointer
        // arguments), at offset 0 and at the labels' offsets (within the
        // code, checked), each with the `Entry` signature; they stay mapped
        // as long as `Compiled` lives.
        let entries = offsets.map(|offset| unsafe {
            std::mem::transmute::<*const u8, Entry>(code.as_ptr().wrapping_add(offset))
        });
        Some(Compiled {
            _code: code,
            entries,
            pool: pool.into_boxed_slice(),
        })
    }
}

/// The general registers holding the input pointers, input j in the j-th:
/// caller-saved ones first (`rdi` once the pointer array is read), then
/// callee-saved ones, which the function saves ([`saved_gprs`]). Not `rbp`,
/// so that a profiler walking frame pointers through the loop still finds
/// its caller's frames.
const INPUT_GPRS: [AsmRegister64; GPR_INPUTS] = [r8, r9, r10, rdi, rbx, r12, r13, r14];

/// How many inputs have a general register for their pointer
/// ([`INPUT_GPRS`]); the AVX2 function reads the others' pointers from the
/// pointer array, which it keeps on its stack (`Kernels::pointer_array`).
const GPR_INPUTS: usize = 8;

/// How many of [`INPUT_GPRS`] are caller-saved.
const CALLER_SAVED_INPUTS: usize = 4;

/// Whether `instr` reads the values of register `reg`: an input that only
/// `ones_like` reads ([`JitOp::reads_operands`]) gives the shape alone, and
/// the loop does not load it.
fn reads_values(instr: &crate::program::Instr, reg: usize) -> bool {
    instr.overload.jit.is_some_and(JitOp::reads_operands)
        && instr.args.iter().any(|&a| a as usize == reg)
}

/// The callee-saved registers the function of a program of `inputs` inputs
/// uses, so pushes on entry and pops before returning.
fn saved_gprs(inputs: usize) -> &'static [AsmRegister64] {
    &INPUT_GPRS[CALLER_SAVED_INPUTS.min(inputs)..inputs.min(GPR_INPUTS)]
}

/// Each input is prefetched this many bytes ahead of the vector being loaded
/// (prefetches never fault, so running past the end is harmless). Measured
/// on one thread with AVX-512 (`vexpr bench`, ns/elem): at N = 1M (inputs in
/// L3) `2*a**3 - 4*a**5 + 6*log(a)` 1.01 → 0.91 and `exp(-a*a) * sqrt(b)`
/// 1.05 → 0.88 with 2048 bytes, 512 to 8192 about alike; at N = 10M (memory)
/// 4096 against 2048 bytes took E3 to 0.91-1.17 from 1.01-1.19 (three pairs
/// of runs); no change at N = 10k. Prefetching the output for writing
/// (`prefetchw`) gained 1-2% at 1M and lost up to 10% at 10k, so it is not
/// done.
const PREFETCH_AHEAD: i32 = 4096;

/// At AVX2, all inputs together are prefetched at most this many bytes
/// ahead, so each input [`prefetch_ahead`] (and no more than
/// [`PREFETCH_AHEAD`]). With 4096 bytes an input whatever their number,
/// eight inputs kept 32 KiB in flight, all of L1: at one thread
/// (`vexpr bench EXPR --n N --threads 1`, the variants in one binary and
/// interleaved, medians of three, ns/elem) `a*b + c*d - e*f + g*h` took 1.80
/// at N = 10k and 4.64 at 1M, against 1.31 and 3.69 with this window;
/// `a*b + c*d` 0.71 and 1.46 against 0.52 and 1.44. Two and three inputs
/// were alike (their distance hardly changes). Not prefetching at all was
/// slower at 1M with fewer inputs (`a <= b` 0.85 against 0.47). AVX-512
/// keeps [`PREFETCH_AHEAD`] for every input (not measured here).
const PREFETCH_WINDOW: i32 = 8192;

/// The AVX2 prefetch distance of each of a program's `inputs` inputs: its
/// share of [`PREFETCH_WINDOW`] in whole cache lines, at most
/// [`PREFETCH_AHEAD`].
fn prefetch_ahead(inputs: usize) -> i32 {
    let share = PREFETCH_WINDOW / inputs.max(1) as i32;
    (share & !63).min(PREFETCH_AHEAD)
}

const SIGN: u64 = 1 << 63;
const ABS: u64 = !SIGN;

/// The pool words holding the lane numbers 0, 1, ... of a vector of
/// `vector_bytes` in `elem` lanes (for the tail's mask: lane < count left).
fn lane_numbers(elem: Elem, vector_bytes: i32) -> Vec<u64> {
    let words = 0..vector_bytes as u64 / 8;
    match elem {
        Elem::F64 => words.collect(),
        Elem::F32 => words.map(|i| (2 * i) | ((2 * i + 1) << 32)).collect(),
    }
}

/// The two-operand vector operations (`dst = a OP b`) each backend lowers
/// to its own instruction.
#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    And,
    Or,
    Xor,
    /// `vminpd`: the second operand where either is NaN.
    Min,
    /// Integer subtraction of the lanes' bits (64-bit lanes of float64's
    /// width, 32-bit of float32's).
    SubInt,
    /// Integer addition, as `SubInt`.
    AddInt,
}

/// Vector-port cycles per vector of an operation whose cost is counted from
/// its emitter's instructions, the same at both levels (each backend's
/// `cycles` takes the math functions, square root and division, whose costs
/// were measured per level, before asking here).
fn counted_cycles(op: JitOp) -> f64 {
    match op {
        JitOp::Sign | JitOp::Powi => 2.0,
        JitOp::MulAddMul | JitOp::MulSubMul | JitOp::AddAbs | JitOp::Maximum | JitOp::Minimum => {
            1.5
        }
        JitOp::MulAdd
        | JitOp::MulSub
        | JitOp::SubMul
        | JitOp::AbsAdd
        | JitOp::AbsSub
        | JitOp::AbsMul
        | JitOp::Where(_)
        | JitOp::Copysign
        | JitOp::Round(_)
        | JitOp::Compare(_)
        | JitOp::Logic(_) => 1.0,
        JitOp::Test(FloatTest::Nan) => 0.5,
        JitOp::Test(_) => 1.5,
        // One instruction: add, sub, mul, neg, abs, a widened input's copy,
        // `ones_like`'s constant,
        // and `(-x) * y`'s two.
        _ => 0.5,
    }
}

/// The `vcmppd` predicate of Rust's comparison: ordered and quiet, but `!=`
/// is true for NaN.
fn predicate(compare: Compare) -> i32 {
    match compare {
        Compare::Lt => 0x11,
        Compare::Le => 0x12,
        Compare::Gt => 0x1e,
        Compare::Ge => 0x1d,
        Compare::Eq => 0x00,
        Compare::Ne => 0x04,
    }
}

/// The constants a loop reads, each stored `copies` times in a row (1 for
/// AVX-512's broadcast operands, 4 for AVX2's full-width memory operands),
/// after a prefix of the backend's own.
struct Pool {
    words: Vec<u64>,
    index: HashMap<u64, usize>,
    copies: usize,
    /// Tables of 16 words, stored once each, by their first word's index.
    tables: HashMap<[u64; 16], usize>,
}

impl Pool {
    fn new(prefix: Vec<u64>, copies: usize) -> Pool {
        Pool {
            words: prefix,
            index: HashMap::new(),
            copies,
            tables: HashMap::new(),
        }
    }

    /// The byte offset of the table's first entry, its 16 entries in order
    /// (added once): what a gather or permute reads at computed indices.
    fn table(&mut self, table: &[f64; 16]) -> i32 {
        let words = table.map(f64::to_bits);
        let i = *self.tables.entry(words).or_insert_with(|| {
            self.words.extend(words);
            self.words.len() - 16
        });
        8 * i as i32
    }

    /// The byte offset of the entry with these bits (added once).
    fn offset(&mut self, bits: u64) -> i32 {
        let Pool {
            words,
            index,
            copies,
            ..
        } = self;
        let i = *index.entry(bits).or_insert_with(|| {
            words.extend(std::iter::repeat_n(bits, *copies));
            words.len() - *copies
        });
        8 * i as i32
    }
}

/// Where a vector's body sits in the function: vector `index` of the `len`
/// a main loop iteration computes, or alone (the loop of single vectors,
/// the tail). The AVX2 lowering stores a float64 boolean result two
/// vectors at once (`avx2::Emitter::pair`).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Place {
    InGroup { index: usize, len: usize },
    Alone,
}

/// How one vector of a loop iteration computes `/` (and, at AVX-512,
/// `sqrt`): on the hardware divider, or by an exactly checked Newton
/// iteration on the FMA ports that falls back to the divider.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Divider {
    Hardware,
    Newton,
}

/// The group of at most four vectors per loop iteration whose share of
/// Newton vectors is nearest `share` (a group of two hardware vectors for
/// none), so that the divider and the vector ports work at once: the
/// out-of-order core overlaps a Newton vector's FMAs with the divisions of
/// its neighbours.
fn divider_pattern(share: f64) -> Vec<Divider> {
    use Divider::{Hardware as H, Newton as N};
    let groups: [&[Divider]; 7] = [
        &[H, H],
        &[H, H, H, N],
        &[H, H, N],
        &[H, N],
        &[H, N, N],
        &[H, N, N, N],
        &[N, N],
    ];
    let newton_share =
        |g: &[Divider]| g.iter().filter(|&&d| d == N).count() as f64 / g.len() as f64;
    groups
        .iter()
        .min_by(|a, b| {
            let (da, db) = (
                (newton_share(a) - share).abs(),
                (newton_share(b) - share).abs(),
            );
            da.total_cmp(&db)
        })
        .map_or_else(Vec::new, |g| g.to_vec())
}

/// The constants by how often a first emission read them, most used first
/// (ties by their bits, so that the order is deterministic): the backends
/// keep the first ones in the vector registers nothing else takes.
fn by_use(uses: HashMap<u64, usize>) -> Vec<u64> {
    let mut by_use: Vec<(u64, usize)> = uses.into_iter().collect();
    by_use.sort_by_key(|&(bits, uses)| (std::cmp::Reverse(uses), bits));
    by_use.into_iter().map(|(bits, _)| bits).collect()
}

#[cfg(test)]
mod prefetch_tests {
    use super::super::MAX_INPUTS;
    use super::{PREFETCH_AHEAD, PREFETCH_WINDOW, prefetch_ahead};

    #[test]
    fn prefetch_distances_are_whole_lines_within_the_window() {
        for inputs in 1..=MAX_INPUTS {
            let ahead = prefetch_ahead(inputs);
            assert_eq!(ahead % 64, 0, "{inputs} inputs");
            assert!(
                (64..=PREFETCH_AHEAD).contains(&ahead),
                "{inputs} inputs: {ahead}"
            );
            assert!(
                ahead * inputs as i32 <= PREFETCH_WINDOW,
                "{inputs} inputs: {ahead}"
            );
        }
        // Few inputs keep the distance measured for one.
        assert_eq!(prefetch_ahead(2), PREFETCH_AHEAD);
    }
}
