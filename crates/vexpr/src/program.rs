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
use std::sync::atomic::{AtomicBool, Ordering};
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
/// other. [`Program::attached`] gives it back typed.
#[derive(Debug, Default)]
pub(crate) struct JitCache {
    /// By [`Level`] (less one); `None` inside when the program or the level
    /// is not covered.
    code: [OnceLock<Option<Arc<dyn Any + Send + Sync>>>; 3],
    ran: AtomicBool,
}

impl Clone for JitCache {
    fn clone(&self) -> Self {
        JitCache {
            code: self.code.clone(),
            ran: AtomicBool::new(self.ran.load(Ordering::Relaxed)),
        }
    }
}

impl Program {
    /// What `make` compiles this program to at `level`, made on the first
    /// call for that level and kept with the program (shared by its clones);
    /// `None` if `make` gave none. One type is ever attached (`jit`'s `Code`,
    /// through `Program::machine_code`); another would read as `None`.
    pub(crate) fn attached<T: Any + Send + Sync>(
        &self,
        level: Level,
        make: impl FnOnce(&Program) -> Option<T>,
    ) -> Option<&T> {
        self.jit.code[level as usize - 1]
            .get_or_init(|| make(self).map(|code| Arc::new(code) as Arc<dyn Any + Send + Sync>))
            .as_deref()
            .and_then(|code| code.downcast_ref::<T>())
    }

    /// Records a run; true if the program had run before.
    pub(crate) fn ran_before(&self) -> bool {
        self.jit.ran.swap(true, Ordering::Relaxed)
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
