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
use crate::hir::{Hir, NodeId, NodeKind};
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
/// named like `sum#0`, and the returned names are all of them.
///
/// The work is linear in the size of the HIR plus the size of the programs:
/// each stage's program is generated from a copy of only the nodes its operand
/// needs (earlier reductions are inputs by then), never the whole arena, so a
/// deep nest of reductions (`sum(sum(...sum(a)...))`) does not cost the
/// square of its depth.
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
    let mut extractor = Extractor::new(main.nodes.len());
    let stages = pending
        .into_iter()
        .map(|(arg, op, axis, span, axis_span)| Stage {
            program: codegen::generate(&extractor.operand(&main, arg), &names),
            op,
            axis,
            span,
            axis_span,
        })
        .collect();
    let program = codegen::generate(&main, &names);
    (stages, program, names)
}

/// Copies the part of an arena that one node depends on, reusing its marks
/// across calls so that each call costs the size of the part, not the arena.
struct Extractor {
    /// `mark[id] == round` when node `id` was reached in the current call.
    mark: Vec<u32>,
    round: u32,
    /// Where a reached node lands in the copy.
    new_id: Vec<NodeId>,
    stack: Vec<NodeId>,
}

impl Extractor {
    fn new(len: usize) -> Self {
        Extractor {
            mark: vec![0; len],
            round: 0,
            new_id: vec![0; len],
            stack: Vec::new(),
        }
    }

    /// The nodes `root` depends on, in their arena order (so operands still
    /// come first), as an [`Hir`] whose root is `root`'s copy.
    fn operand(&mut self, hir: &Hir, root: NodeId) -> Hir {
        self.round += 1;
        let round = self.round;
        let mut reached = Vec::new();
        self.stack.push(root);
        self.mark[root] = round;
        while let Some(id) = self.stack.pop() {
            reached.push(id);
            for &a in hir.args(id) {
                if self.mark[a] != round {
                    self.mark[a] = round;
                    self.stack.push(a);
                }
            }
        }
        reached.sort_unstable();
        for (new, &old) in reached.iter().enumerate() {
            self.new_id[old] = new;
        }
        let nodes = reached
            .iter()
            .map(|&old| {
                let mut node = hir.nodes[old].clone();
                match &mut node.kind {
                    NodeKind::Apply { args, .. } => {
                        for a in args.iter_mut() {
                            *a = self.new_id[*a];
                        }
                    }
                    NodeKind::Reduce { arg, .. } => *arg = self.new_id[*arg],
                    NodeKind::Input(_) | NodeKind::Const(_) => {}
                }
                node
            })
            .collect();
        Hir {
            nodes,
            root: self.new_id[root],
        }
    }
}
