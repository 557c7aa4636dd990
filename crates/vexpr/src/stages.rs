//! Stages: an optimized [`Hir`] that may contain reductions in, one [`Hir`]
//! per reduction's operand and one for the result out.
//!
//! The VM runs element-wise programs block by block; a reduction needs all of
//! its operand first. So each reduction becomes a stage of its own: the HIR
//! of the reduced operand, followed by the reduction itself; the node is
//! replaced by a new input variable that the later parts read (and
//! broadcast, as in `a / sum(a)`). Stages run in order; the last part
//! computes the result. Code generation
//! (`codegen::generate_stages`) turns each part into a program, so that this
//! module, like the rest of the front end, knows nothing of how programs are
//! made or run; it names only the bytecode's [`Program`] type, which a
//! compiled [`Stage`] holds.

use crate::error::Span;
use crate::functions::Reduction;
use crate::hir::{Hir, NodeId, NodeKind};
use crate::program::Program;

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

/// One reduction and the typed IR of its operand, before code generation.
#[derive(Debug, Clone)]
pub struct Part {
    /// The reduced operand, reading earlier stages' results as variables.
    pub operand: Hir,
    /// The reduction.
    pub op: Reduction,
    /// Its axis, or `None` for all elements.
    pub axis: Option<usize>,
    /// The text of the call.
    pub span: Span,
    /// The text of the axis.
    pub axis_span: Span,
}

/// An expression cut at its reductions: what [`split`] gives.
#[derive(Debug, Clone)]
pub struct Split {
    /// One per reduction, in the order they run.
    pub parts: Vec<Part>,
    /// The result, reading every reduction as a variable.
    pub main: Hir,
    /// The signature's variables, then one per reduction, named like
    /// `sum#0`; every part's inputs index these.
    pub names: Vec<String>,
}

/// Splits `hir` into one part per reduction and the final part. `variables`
/// are the signature's names; the stages' results become variables after
/// them.
///
/// The work is linear in the size of the HIR plus the size of the parts:
/// each part is a copy of only the nodes its operand needs (earlier
/// reductions are inputs by then), never the whole arena, so a deep nest of
/// reductions (`sum(sum(...sum(a)...))`) does not cost the square of its
/// depth.
pub fn split(hir: &Hir, variables: &[String]) -> Split {
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
    let parts = pending
        .into_iter()
        .map(|(arg, op, axis, span, axis_span)| Part {
            operand: extractor.operand(&main, arg),
            op,
            axis,
            span,
            axis_span,
        })
        .collect();
    Split { parts, main, names }
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

/// The examples of this module's items (crate-private, so not doc tests).
#[cfg(test)]
mod examples {
    #[test]
    fn split_names_reductions() {
        use crate::DType;
        let ast = crate::syntax::parse("a - max(a * 2)").unwrap();
        let hir = crate::typeck::check(&ast, &[("a".to_string(), DType::Float64)]).unwrap();
        let split = crate::stages::split(&hir, &["a".to_string()]);
        assert_eq!(split.names, ["a", "max#0"]);
        assert_eq!(split.parts[0].op, crate::functions::Reduction::Max);
    }
}
