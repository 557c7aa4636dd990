//! Stages: an optimized [`Hir`] that may contain reductions in, a list of
//! element-wise programs out.
//!
//! The VM runs element-wise programs block by block; a reduction needs all of
//! its operand first. So each reduction becomes a stage of its own: a program
//! computing the reduced operand, followed by the reduction itself; the node
//! is replaced by a new input variable that the later programs read (and
//! broadcast, as in `a / sum(a)`). Stages run in order; the last program
//! computes the result.

use crate::codegen;
use crate::error::Span;
use crate::hir::{Hir, NodeKind};
use crate::program::Program;
use crate::vm::Reduction;

/// One reduction and the program that computes its operand.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Computes the operand of the reduction, element-wise.
    pub program: Program,
    /// The reduction.
    pub op: Reduction,
    /// Its axis, or `None` for all elements.
    pub axis: Option<usize>,
    /// The text of the call.
    pub span: Span,
    /// The text of the axis.
    pub axis_span: Span,
}

/// Splits `hir` into reduction stages and the final program. `variables` are
/// the signature's names; the stages' results become variables after them,
/// named like `sum#0`.
pub fn split(hir: &Hir, variables: &[String]) -> (Vec<Stage>, Program, Vec<String>) {
    let mut main = hir.clone();
    let mut names = variables.to_vec();
    let mut pending = Vec::new();
    for id in 0..main.nodes.len() {
        if let NodeKind::Reduce {
            op,
            axis,
            axis_span,
            arg,
        } = main.nodes[id].kind
        {
            let index = names.len();
            names.push(format!("{}#{}", op.name(), pending.len()));
            pending.push((arg, op, axis, main.nodes[id].span, axis_span));
            // Later nodes (in later stages too) read the reduction as a variable.
            main.nodes[id].kind = NodeKind::Input(index);
        }
    }
    let stages = pending
        .into_iter()
        .map(|(arg, op, axis, span, axis_span)| {
            // Code generation follows only what the root needs, so the whole arena
            // with the operand as root is exactly the operand's program.
            let operand = Hir {
                nodes: main.nodes.clone(),
                root: arg,
            };
            Stage {
                program: codegen::generate(&operand, &names),
                op,
                axis,
                span,
                axis_span,
            }
        })
        .collect();
    let program = codegen::generate(&main, &names);
    (stages, program, names)
}
