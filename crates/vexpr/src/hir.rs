//! The typed intermediate form: what the type checker gives, what the
//! optimizer rewrites and code generation takes.
//!
//! An [`Hir`] is an arena of [`Node`]s in which every node comes after its
//! operands, so walking the arena front to back is an evaluation order, and no
//! pass needs recursion. Every node has a concrete [`DType`] and the span of
//! the source text it came from; every operation names the exact table
//! [`Overload`] (and so the kernel) that computes it, with explicit casts
//! inserted wherever an operand had to be converted.

use crate::dtype::{DType, Scalar};
use crate::error::Span;
use crate::functions::{Function, Overload, Reduction};

/// Index of a node in its [`Hir`].
pub type NodeId = usize;

/// One value of the expression.
#[derive(Debug, Clone)]
pub struct Node {
    /// How the value is computed.
    pub kind: NodeKind,
    /// Its element type.
    pub dtype: DType,
    /// The source text it stands for.
    pub span: Span,
}

/// How a node's value is computed.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Input variable number `i` of the signature.
    Input(usize),
    /// A constant.
    Const(Scalar),
    /// A reduction of an earlier node (`sum(x, axis=1)`); split into its own
    /// stage before code generation (see [`crate::stages`]).
    Reduce {
        /// Which reduction.
        op: Reduction,
        /// The axis, or `None` for all elements.
        axis: Option<usize>,
        /// Where the axis was given (for an out-of-bounds axis at run time).
        axis_span: Span,
        /// The reduced operand.
        arg: NodeId,
    },
    /// A function or operator applied to earlier nodes.
    Apply {
        /// The table entry.
        function: &'static Function,
        /// The exact typing chosen, with its kernel.
        overload: &'static Overload,
        /// Operands, all earlier in the arena.
        args: Vec<NodeId>,
    },
}

/// A typed expression: nodes in evaluation order and the one that is the result.
#[derive(Debug, Clone, Default)]
pub struct Hir {
    /// The nodes; each node's operands come before it.
    pub nodes: Vec<Node>,
    /// The result node.
    pub root: NodeId,
}

impl Hir {
    /// Appends a node and returns its id.
    pub fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The operands of node `id`.
    pub fn args(&self, id: NodeId) -> &[NodeId] {
        match &self.nodes[id].kind {
            NodeKind::Apply { args, .. } => args,
            NodeKind::Reduce { arg, .. } => std::slice::from_ref(arg),
            _ => &[],
        }
    }
}
