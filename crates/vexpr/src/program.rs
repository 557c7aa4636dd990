//! The bytecode: what code generation gives and the VM runs.
//!
//! A [`Program`] is a register machine in the manner of Lua's: a list of
//! registers, each with an element type and a role (an input variable, a
//! constant, a block-sized temporary, or the output), and a list of
//! [`Instr`]uctions, each naming its destination and source registers and the
//! table overload (so the kernel) it runs. The VM runs the whole list once per
//! block of elements. A program is immutable once built; everything a run
//! needs to write lives in per-thread scratch, so one program can be run by
//! many threads at once.

use crate::cpu::Level;
use crate::dtype::{DType, Scalar};
use crate::functions::Overload;
use std::any::Any;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// A register number.
pub type Reg = u32;

/// What a register holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// The program's input number `i`: the variable named
    /// [`Program::variables`]`[i]`, which is the expression's variable
    /// [`Program::input_vars`]`[i]`.
    Input(usize),
    /// A constant, broadcast over the block.
    Const(Scalar),
    /// A block-sized temporary.
    Temp,
    /// The output block.
    Output,
}

/// A register's type and role.
#[derive(Debug, Clone)]
pub struct Register {
    /// Element type.
    pub dtype: DType,
    /// What it holds.
    pub role: Role,
}

/// The most operands an instruction has (the fused `where_gt` and friends
/// have four).
pub const MAX_ARGS: usize = 4;

/// One instruction: `dst = overload(args...)`.
#[derive(Debug, Clone)]
pub struct Instr {
    /// The exact typed operation, with its kernel.
    pub overload: &'static Overload,
    /// Destination register (a temporary or the output; never one of `args`).
    pub dst: Reg,
    /// Source registers.
    pub args: Vec<Reg>,
    /// The source text this instruction computes (for run-time errors).
    pub span: crate::error::Span,
}

/// A compiled expression's code.
#[derive(Debug, Clone)]
pub struct Program {
    /// All registers; instructions refer to them by index.
    pub registers: Vec<Register>,
    /// The instructions, run in order once per block.
    pub code: Vec<Instr>,
    /// The output register.
    pub output: Reg,
    /// Names of the variables the program reads, by input number
    /// ([`Role::Input`]).
    pub variables: Vec<String>,
    /// For each input number, the expression's variable: the signature's
    /// variables first, then one per reduction stage.
    pub input_vars: Vec<usize>,
    /// Unique per program made in this process: lets per-thread scratch know
    /// whether it already holds this program's constants.
    pub id: u64,
    /// The machine code of the program (`jit`), made when a run
    /// first asks for it.
    pub(crate) jit: JitCache,
}

/// A program's machine code, made once for each CPU level it runs at, and
/// whether the program has run.
///
/// The code is kept as `dyn Any`: its type belongs to `jit`, which
/// reads this module, and naming it here would make the two depend on each
/// other. [`CodeSlot::get`] gives it back typed.
#[derive(Debug, Default)]
pub(crate) struct JitCache {
    /// By [`Level`] (less one). Behind an `Arc` so that a code generator on
    /// another thread can fill a slot of this program (its clones get slots
    /// of their own).
    slots: Arc<[CodeSlot; 3]>,
    ran: AtomicBool,
}

/// The code of one level: made at most once.
#[derive(Debug, Default)]
pub(crate) struct CodeSlot {
    /// `Some(None)` when the program or the level is not covered.
    made: OnceLock<Option<Arc<dyn Any + Send + Sync>>>,
    /// The id (plus one) of the process that began making the code away
    /// from the caller's thread; 0 when none has. A child process made by
    /// `fork` has no such thread, so it begins again.
    started: AtomicU32,
}

impl CodeSlot {
    /// The code, if it has been made: `Some(None)` when it was found not
    /// covered, `None` while it is not made. One type is ever attached
    /// (`jit`'s `Code`); another would read as not covered.
    pub(crate) fn get<T: Any + Send + Sync>(&self) -> Option<Option<&T>> {
        self.made
            .get()
            .map(|made| made.as_deref().and_then(|code| code.downcast_ref::<T>()))
    }

    /// The code, made now by `make` if nobody has made it yet (waiting for
    /// another thread that is making it).
    pub(crate) fn get_or_make<T: Any + Send + Sync>(
        &self,
        make: impl FnOnce() -> Option<T>,
    ) -> Option<&T> {
        self.made
            .get_or_init(|| make().map(|code| Arc::new(code) as Arc<dyn Any + Send + Sync>))
            .as_deref()
            .and_then(|code| code.downcast_ref::<T>())
    }

    /// True for the first caller in this process: it is to start making the
    /// code elsewhere.
    pub(crate) fn claim(&self) -> bool {
        let me = std::process::id().wrapping_add(1);
        let seen = self.started.load(Ordering::Relaxed);
        seen != me
            && self
                .started
                .compare_exchange(seen, me, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

impl Clone for JitCache {
    fn clone(&self) -> Self {
        let slots = self.slots.each_ref().map(|slot| CodeSlot {
            made: slot.made.clone(),
            started: AtomicU32::new(0),
        });
        JitCache {
            slots: Arc::new(slots),
            ran: AtomicBool::new(self.ran.load(Ordering::Relaxed)),
        }
    }
}

impl Program {
    /// The slots of this program's machine code, by level: shared with a
    /// code generator that fills one elsewhere.
    pub(crate) fn code_slots(&self) -> &Arc<[CodeSlot; 3]> {
        &self.jit.slots
    }

    /// The slot of `level`.
    pub(crate) fn code_slot(&self, level: Level) -> &CodeSlot {
        &self.jit.slots[level as usize - 1]
    }

    /// Records a run; true if the program had run before.
    pub(crate) fn ran_before(&self) -> bool {
        // A load first: every later run finds the flag set without the
        // locked exchange (a cache line's ownership) a swap costs.
        self.has_run() || self.jit.ran.swap(true, Ordering::Relaxed)
    }

    /// Whether a run of this program has started, without marking one.
    pub(crate) fn has_run(&self) -> bool {
        self.jit.ran.load(Ordering::Relaxed)
    }

    /// The result's element type.
    pub fn result_dtype(&self) -> DType {
        self.registers[self.output as usize].dtype
    }

    /// Number of temporaries (each block-sized) a run needs per thread.
    pub fn temp_count(&self) -> usize {
        self.registers
            .iter()
            .filter(|r| r.role == Role::Temp)
            .count()
    }

    /// Bytes of per-thread scratch one element of a block needs (all
    /// temporaries, constants and inputs that are gathered).
    pub fn scratch_bytes_per_element(&self) -> usize {
        self.registers
            .iter()
            .filter(|r| r.role != Role::Output)
            .map(|r| r.dtype.itemsize().max(1))
            .sum()
    }

    /// The readable name of a register: the variable's name, `k0` for constants,
    /// `t0` for temporaries, `out` for the output.
    pub fn register_name(&self, reg: Reg) -> String {
        let mut consts = 0;
        let mut temps = 0;
        for (i, r) in self.registers.iter().enumerate() {
            let here = i == reg as usize;
            match &r.role {
                Role::Input(v) if here => return self.variables[*v].clone(),
                Role::Const(_) if here => return format!("k{consts}"),
                Role::Temp if here => return format!("t{temps}"),
                Role::Output if here => return "out".to_string(),
                Role::Const(_) => consts += 1,
                Role::Temp => temps += 1,
                _ => {}
            }
        }
        format!("r{reg}")
    }
}

impl fmt::Display for Program {
    /// The listing `vexpr dis` prints: registers, then one line per instruction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = (0..self.registers.len() as Reg)
            .map(|r| self.register_name(r))
            .collect();
        let width = names.iter().map(String::len).max().unwrap_or(3).max(3);
        writeln!(f, "registers:")?;
        for (name, r) in names.iter().zip(&self.registers) {
            let role = match &r.role {
                Role::Input(_) => "input".to_string(),
                Role::Const(c) => format!("constant {c}"),
                Role::Temp => "temporary".to_string(),
                Role::Output => "result".to_string(),
            };
            writeln!(f, "  {name:<width$}  {:<10}  {role}", r.dtype.name())?;
        }
        writeln!(f, "code:")?;
        let digits = self.code.len().max(1).to_string().len();
        let op_width = self
            .code
            .iter()
            .map(|i| i.overload.name.len())
            .max()
            .unwrap_or(0)
            .max(14);
        for (i, instr) in self.code.iter().enumerate() {
            let mut args = String::new();
            for (j, a) in instr.args.iter().enumerate() {
                if j > 0 {
                    args.push_str(", ");
                }
                let _ = write!(args, "{}", names[*a as usize]);
            }
            writeln!(
                f,
                "  {i:>digits$}  {:<width$} = {:<op_width$} {args}",
                names[instr.dst as usize], instr.overload.name
            )?;
        }
        Ok(())
    }
}
