//! Code generation: an optimized [`Hir`] in, a register [`Program`] out.
//!
//! Inputs and constants get one register each; every operation gets a
//! block-sized temporary, taken from a free list of dead temporaries of the same
//! type, so the number of temporaries is the number of values alive at
//! once, not the number of operations. A destination is allocated before the
//! operands that die at that instruction are freed, so an instruction never
//! writes a register it reads. The result node writes the output register.
//!
//! An expression with reductions is first cut into stages by
//! [`crate::stages`]; [`generate_stages`] makes each stage's program and the
//! final one.

use crate::dtype::DType;
use crate::functions::{Op, TABLE, TypeCode};
use crate::hir::{Hir, NodeKind};
use crate::program::{Instr, Program, Reg, Register, Role};
use crate::stages::{self, Stage};
use std::collections::HashMap;

/// Splits `hir` at its reductions ([`stages::split`]) and generates each
/// stage's program and the final one. `variables` are the signature's names;
/// the returned names are those and then one per stage (`sum#0`, ...), which
/// the programs' inputs index.
///
/// Each stage's program is generated from a copy of only the nodes its
/// operand needs, so the work is linear in the HIR plus the programs.
pub fn generate_stages(hir: &Hir, variables: &[String]) -> (Vec<Stage>, Program, Vec<String>) {
    let split = stages::split(hir, variables);
    let names = split.names;
    let stages = split
        .parts
        .into_iter()
        .map(|part| Stage {
            program: generate(&part.operand, &names),
            op: part.op,
            axis: part.axis,
            span: part.span,
            axis_span: part.axis_span,
        })
        .collect();
    let program = generate(&split.main, &names);
    (stages, program, names)
}

/// Generates the program for `hir`, whose inputs refer to `variables`. The
/// program numbers its own inputs ([`Program::input_vars`] maps them back).
pub fn generate(hir: &Hir, variables: &[String]) -> Program {
    let live = reachable(hir);
    let mut last_use = vec![0usize; hir.nodes.len()];
    for id in (0..hir.nodes.len()).filter(|&i| live[i]) {
        for &a in hir.args(id) {
            last_use[a] = last_use[a].max(id);
        }
    }

    let mut builder = Generator {
        registers: Vec::new(),
        code: Vec::new(),
        free: HashMap::new(),
    };
    let mut reg_of: Vec<Option<Reg>> = vec![None; hir.nodes.len()];
    let mut input_regs: HashMap<usize, Reg> = HashMap::new();
    let mut input_vars: Vec<usize> = Vec::new();

    let root = hir.root;
    for id in (0..hir.nodes.len()).filter(|&i| live[i]) {
        let node = &hir.nodes[id];
        match &node.kind {
            NodeKind::Input(v) => {
                let reg = *input_regs.entry(*v).or_insert_with(|| {
                    // Inputs are numbered in the program by first use, so that
                    // a program's bindings are as many as the variables it
                    // reads, not as many as the expression has.
                    input_vars.push(*v);
                    builder.new_register(node.dtype, Role::Input(input_vars.len() - 1))
                });
                reg_of[id] = Some(reg);
            }
            NodeKind::Const(value) => {
                reg_of[id] = Some(builder.new_register(node.dtype, Role::Const(value.clone())));
            }
            NodeKind::Reduce { .. } => {
                unreachable!(
                    "stages::split (through generate_stages) replaces every reduction by an input"
                )
            }
            NodeKind::Apply { overload, args, .. } => {
                let dst = if id == root {
                    builder.new_register(node.dtype, Role::Output)
                } else {
                    builder.temp(node.dtype)
                };
                // The HIR keeps operands before their users (the type checker and
                // the optimizer build it with `Hir::push`), and a live node's
                // operands are live: each has its register by now.
                let arg_regs: Vec<Reg> = args
                    .iter()
                    .map(|&a| reg_of[a].expect("operands come first"))
                    .collect();
                builder.code.push(Instr {
                    overload,
                    dst,
                    args: arg_regs,
                    span: node.span,
                });
                for (k, &a) in args.iter().enumerate() {
                    // An operand may appear twice (`x * x`): free its register once.
                    let repeated = args[..k].contains(&a);
                    if !repeated
                        && last_use[a] == id
                        && matches!(hir.nodes[a].kind, NodeKind::Apply { .. })
                    {
                        builder.release(reg_of[a].expect("operands come first"));
                    }
                }
                reg_of[id] = Some(dst);
            }
        }
    }

    // A result that is an input or a constant still has to be written out.
    if !matches!(hir.nodes[root].kind, NodeKind::Apply { .. }) {
        let dtype = hir.nodes[root].dtype;
        let output = builder.new_register(dtype, Role::Output);
        // The static table has `copy` for every type (any evaluation of a
        // bare variable would fail otherwise); the root is live, so visited.
        let copy = &TABLE[Op::Copy];
        let code = TypeCode::of(dtype);
        let overload = copy
            .overload(code, &[code])
            .expect("copy exists for every type");
        builder.code.push(Instr {
            overload,
            dst: output,
            args: vec![reg_of[root].expect("the root was visited")],
            span: hir.nodes[root].span,
        });
    }

    // Made either for the root operation or for the copy above.
    let output = builder
        .registers
        .iter()
        .position(|r| r.role == Role::Output)
        .expect("an output register was made") as Reg;
    Program {
        registers: builder.registers,
        code: builder.code,
        output,
        variables: input_vars.iter().map(|&v| variables[v].clone()).collect(),
        input_vars,
        id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        jit: Default::default(),
    }
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

struct Generator {
    registers: Vec<Register>,
    code: Vec<Instr>,
    /// Dead temporaries by type, ready for reuse.
    free: HashMap<DType, Vec<Reg>>,
}

impl Generator {
    fn new_register(&mut self, dtype: DType, role: Role) -> Reg {
        self.registers.push(Register { dtype, role });
        (self.registers.len() - 1) as Reg
    }

    fn temp(&mut self, dtype: DType) -> Reg {
        match self.free.get_mut(&dtype).and_then(Vec::pop) {
            Some(reg) => reg,
            None => self.new_register(dtype, Role::Temp),
        }
    }

    fn release(&mut self, reg: Reg) {
        let dtype = self.registers[reg as usize].dtype;
        self.free.entry(dtype).or_default().push(reg);
    }
}

/// Marks the nodes the root depends on.
fn reachable(hir: &Hir) -> Vec<bool> {
    let mut live = vec![false; hir.nodes.len()];
    live[hir.root] = true;
    for id in (0..hir.nodes.len()).rev() {
        if live[id] {
            for &a in hir.args(id) {
                live[a] = true;
            }
        }
    }
    live
}

/// The examples of this module's items (crate-private, so not doc tests).
#[cfg(test)]
mod examples {
    #[test]
    fn generate_stages_names_reductions() {
        use crate::DType;
        let ast = crate::syntax::parse("a / sum(a)").unwrap();
        let hir = crate::typeck::check(&ast, &[("a".to_string(), DType::Float64)]).unwrap();
        let (stages, program, names) = crate::codegen::generate_stages(&hir, &["a".to_string()]);
        assert_eq!(names, ["a", "sum#0"]);
        assert_eq!(stages[0].op, crate::functions::Reduction::Sum);
        assert_eq!(program.variables, ["a", "sum#0"]);
    }
}
