//! The abstract syntax tree: what the parser gives, what the type checker takes.
//!
//! Every node carries the byte span of its text. The tree is untyped and
//! unresolved: names are plain strings, literals keep their decoded value.
//! Nesting depth is bounded by [`crate::MAX_NESTING`] (the parser refuses
//! deeper input), and dropping a tree is iterative, so no tree, however it was
//! built, can overflow the stack when it goes away.

use crate::error::Span;
use std::fmt;

/// An expression node.
#[derive(Debug, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// The text it was parsed from.
    pub span: Span,
    /// Levels of nesting below and including this node (a leaf has depth 1).
    pub(crate) depth: u32,
}

/// The kinds of expression node.
#[derive(Debug, PartialEq)]
pub enum ExprKind {
    /// A number, boolean or string literal.
    Literal(Literal),
    /// A variable name.
    Name(String),
    /// `-x`, `+x`, `~x`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Where the operator symbol is.
        op_span: Span,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `x OP y` for arithmetic, bitwise, shift and comparison operators.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Where the operator symbol is.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `f(x, y, axis=1)`.
    Call {
        /// The function name.
        name: String,
        /// Where the function name is.
        name_span: Span,
        /// Positional arguments.
        args: Vec<Expr>,
        /// Keyword arguments, in source order.
        keywords: Vec<Keyword>,
    },
}

/// A literal as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// An integer literal (Python ints are unbounded; wider than 64 bits is an error later).
    Int(i128),
    /// A float literal.
    Float(f64),
    /// An imaginary literal `2j`: the value is the imaginary part.
    Imag(f64),
    /// `True` or `False`.
    Bool(bool),
    /// A byte-string literal.
    Bytes(Vec<u8>),
}

/// A keyword argument such as `axis=1`.
#[derive(Debug, PartialEq)]
pub struct Keyword {
    /// The keyword.
    pub name: String,
    /// Span of `name=value`.
    pub span: Span,
    /// The value.
    pub value: Expr,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x` (no operation, kept for spans)
    Plus,
    /// `~x`: logical not on booleans, bitwise not on integers.
    Invert,
}

/// Binary operators, in Python's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (true division)
    Div,
    /// `//` (floor division)
    FloorDiv,
    /// `%` (Python's modulo: the sign of the divisor)
    Mod,
    /// `**`
    Pow,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            FloorDiv => "//",
            Mod => "%",
            Pow => "**",
            Shl => "<<",
            Shr => ">>",
            And => "&",
            Or => "|",
            Xor => "^",
            Lt => "<",
            Le => "<=",
            Eq => "==",
            Ne => "!=",
            Ge => ">=",
            Gt => ">",
        }
    }

    /// True for the six comparisons.
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(self, Lt | Le | Eq | Ne | Ge | Gt)
    }
}

impl UnaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
            UnaryOp::Invert => "~",
        }
    }
}

impl Expr {
    /// Direct children, in evaluation order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Literal(_) | ExprKind::Name(_) => Vec::new(),
            ExprKind::Unary { operand, .. } => vec![operand],
            ExprKind::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            ExprKind::Call { args, keywords, .. } => args
                .iter()
                .chain(keywords.iter().map(|k| &k.value))
                .collect(),
        }
    }

    /// Moves the children out of this node, leaving it a leaf.
    fn take_children(&mut self, into: &mut Vec<Expr>) {
        let leaf = ExprKind::Literal(Literal::Bool(false));
        match std::mem::replace(&mut self.kind, leaf) {
            ExprKind::Unary { operand, .. } => into.push(*operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                into.push(*lhs);
                into.push(*rhs);
            }
            ExprKind::Call { args, keywords, .. } => {
                into.extend(args);
                into.extend(keywords.into_iter().map(|k| k.value));
            }
            leaf @ (ExprKind::Literal(_) | ExprKind::Name(_)) => self.kind = leaf,
        }
    }
}

impl Drop for Expr {
    // The derived drop would recurse once per level of nesting; drop through an
    // explicit stack instead so that a deep tree cannot overflow a small thread stack.
    fn drop(&mut self) {
        let mut pending = Vec::new();
        self.take_children(&mut pending);
        while let Some(mut node) = pending.pop() {
            node.take_children(&mut pending);
        }
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}
