//! Optimization: a typed [`Hir`] in, an equivalent smaller [`Hir`] out.
//!
//! One forward pass over the arena rebuilds it:
//! - constant folding: an operation whose operands are all constants is run at
//!   compile time by its own kernel, so folding never changes a result;
//! - common-subexpression elimination: nodes are hash-consed, so `a*a` written
//!   twice (or reached twice through `a**3` and `a**5`) is computed once;
//! - fusion: `x*y + z`, `z + x*y`, `x*y - z`, `z - x*y` and `x*y ± z*w` on
//!   floats and integers become one instruction when the products have no
//!   other use (the fused kernels round, or wrap, each product and the sum
//!   separately, so the bits do not change), and
//!   `where(p OP q, x, y)` on floats and integers becomes one `where_OP`
//!   instruction when the comparison has no other use (one pass, no boolean
//!   register), as do, on floats, `abs(x ± y)`, `abs(x * y)`,
//!   `abs(x) + abs(y)` and `(-x) * y` (`abs_add`, `abs_sub`, `abs_mul`,
//!   `add_abs`, `neg_mul`), and `x & ~y`, `x | ~y` on booleans and integers
//!   become `and_not` and `or_not` when the inverse has no other use;
//! - narrowing: a float32 compared with a float64 constant (`a < 0.5`,
//!   which numexpr's typing widens `a` for) is compared in float32 with
//!   the constant's float32 neighbour on the right side, which answers the
//!   same for every float32, so that the program stays in float32;
//! - dead nodes disappear because code generation only follows the root.

use crate::dtype::{DType, Scalar};
use crate::functions::{Op, Reduction, TABLE, TypeCode};
use crate::hir::{Hir, Node, NodeId, NodeKind};
use crate::kernels::Operand;
use std::collections::HashMap;

/// What makes two nodes the same value.
#[derive(Hash, PartialEq, Eq)]
enum Key {
    Input(usize),
    Const(String, Vec<u8>),
    Apply(usize, Vec<NodeId>),
    Reduce(Reduction, Option<usize>, NodeId),
}

/// Returns the optimized form of `hir`.
pub fn optimize(hir: &Hir) -> Hir {
    let mut out = Builder::default();
    let mut map: Vec<NodeId> = Vec::with_capacity(hir.nodes.len());
    for node in &hir.nodes {
        let new = match &node.kind {
            NodeKind::Apply {
                function,
                overload,
                args,
            } => {
                let args: Vec<NodeId> = args.iter().map(|&a| map[a]).collect();
                let (overload, args) = out.narrow_comparison(function, overload, args, node);
                match out.fold(node, overload.kernel, &args) {
                    Some(value) => out.constant(value, node),
                    None => out.intern(Node {
                        kind: NodeKind::Apply {
                            function,
                            overload,
                            args,
                        },
                        dtype: node.dtype,
                        span: node.span,
                    }),
                }
            }
            NodeKind::Reduce {
                op,
                axis,
                axis_span,
                arg,
            } => out.intern(Node {
                kind: NodeKind::Reduce {
                    op: *op,
                    axis: *axis,
                    axis_span: *axis_span,
                    arg: map[*arg],
                },
                dtype: node.dtype,
                span: node.span,
            }),
            _ => out.intern(node.clone()),
        };
        map.push(new);
    }
    out.hir.root = map[hir.root];
    fuse(out.hir)
}

/// Rewrites additions and subtractions of single-use float or integer
/// products into the table's fused `mul_add`, `mul_sub`, `sub_mul`,
/// `mul_add_mul` and `mul_sub_mul` instructions, selects on single-use
/// comparisons into `where_OP`, and the sign and inverse fusions
/// (`fuse_signs`, `fuse_not`).
fn fuse(mut hir: Hir) -> Hir {
    let mut uses = vec![0usize; hir.nodes.len()];
    uses[hir.root] += 1;
    for id in 0..hir.nodes.len() {
        for &a in hir.args(id) {
            uses[a] += 1;
        }
    }
    for id in 0..hir.nodes.len() {
        let node = &hir.nodes[id];
        let NodeKind::Apply { function, args, .. } = &node.kind else {
            continue;
        };
        if function.op == Op::Where {
            if let Some(fused) = fuse_where(&hir, &uses, id) {
                hir.nodes[id].kind = fused;
            }
            continue;
        }
        if let Some(fused) = fuse_signs(&hir, &uses, id).or_else(|| fuse_not(&hir, &uses, id)) {
            hir.nodes[id].kind = fused;
            continue;
        }
        if !matches!(function.op, Op::Add | Op::Sub) || !fusable(node.dtype) {
            continue;
        }
        let product = |a: NodeId| match &hir.nodes[a].kind {
            NodeKind::Apply { function, args, .. } if function.op == Op::Mul && uses[a] == 1 => {
                Some((args[0], args[1]))
            }
            _ => None,
        };
        let (l, r) = (args[0], args[1]);
        // IEEE and wrapping addition are commutative, so `z + x*y` is `x*y + z`
        // to the bit.
        let fused = match (function.op, product(l), product(r)) {
            (Op::Add, Some((x, y)), Some((z, w))) => (Op::MulAddMul, vec![x, y, z, w]),
            (Op::Sub, Some((x, y)), Some((z, w))) => (Op::MulSubMul, vec![x, y, z, w]),
            (Op::Add, Some((x, y)), None) => (Op::MulAdd, vec![x, y, r]),
            (Op::Sub, Some((x, y)), None) => (Op::MulSub, vec![x, y, r]),
            (Op::Add, None, Some((x, y))) => (Op::MulAdd, vec![x, y, l]),
            (Op::Sub, None, Some((x, y))) => (Op::SubMul, vec![x, y, l]),
            _ => continue,
        };
        hir.nodes[id].kind = fused_apply(fused.0, node.dtype, fused.1);
    }
    hir
}

/// The numeric types the multiply-add and select fusions apply to: those the
/// table's `mul_add`, ..., `where_OP` entries have overloads for.
fn fusable(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::Int32 | DType::Int64 | DType::Float32 | DType::Float64
    )
}

/// The table's fused instruction `op` applied to `args`, all of type `dtype`
/// (a type the fusion of `op` matches, for which the table has an overload).
fn fused_apply(op: Op, dtype: DType, args: Vec<NodeId>) -> NodeKind {
    // The static table has every fused instruction for both float types, the
    // multiply-adds and selects for both integer types, and `and_not` and
    // `or_not` for booleans and integers (the fusions match only those).
    let function = &TABLE[op];
    let code = TypeCode::of(dtype);
    let overload = function
        .overload(code, &vec![code; args.len()])
        .expect("fused instructions exist for the types the fusions match");
    NodeKind::Apply {
        function,
        overload,
        args,
    }
}

/// `where(p OP q, x, y)` as the table's `where_OP` instruction, when the
/// comparison has no other use and `p`, `q`, `x`, `y` and the result are all
/// the same float or integer type.
fn fuse_where(hir: &Hir, uses: &[usize], id: NodeId) -> Option<NodeKind> {
    let node = &hir.nodes[id];
    let NodeKind::Apply { args, .. } = &node.kind else {
        return None;
    };
    if !fusable(node.dtype) || uses[args[0]] != 1 {
        return None;
    }
    let NodeKind::Apply {
        function: cmp,
        args: cmp_args,
        ..
    } = &hir.nodes[args[0]].kind
    else {
        return None;
    };
    let fused = match cmp.op {
        Op::Lt => Op::WhereLt,
        Op::Le => Op::WhereLe,
        Op::Gt => Op::WhereGt,
        Op::Ge => Op::WhereGe,
        Op::Eq => Op::WhereEq,
        Op::Ne => Op::WhereNe,
        _ => return None,
    };
    let operands = [cmp_args[0], cmp_args[1], args[1], args[2]];
    if operands.iter().any(|&a| hir.nodes[a].dtype != node.dtype) {
        return None;
    }
    Some(fused_apply(fused, node.dtype, operands.to_vec()))
}

/// `abs(x + y)`, `abs(x - y)`, `abs(x * y)`, `abs(x) + abs(y)` and
/// `(-x) * y` on floats as the table's `abs_add`, `abs_sub`, `abs_mul`,
/// `add_abs` and `neg_mul`, when the inner nodes have no other use and every
/// operand has the result's type.
fn fuse_signs(hir: &Hir, uses: &[usize], id: NodeId) -> Option<NodeKind> {
    let node = &hir.nodes[id];
    let NodeKind::Apply { function, args, .. } = &node.kind else {
        return None;
    };
    if !matches!(node.dtype, DType::Float32 | DType::Float64) {
        return None;
    }
    // The operands of a single-use node of one of `ops`, of the result's type.
    let inner = |a: NodeId, ops: &[Op]| -> Option<(Op, Vec<NodeId>)> {
        match &hir.nodes[a].kind {
            NodeKind::Apply { function, args, .. }
                if ops.contains(&function.op)
                    && uses[a] == 1
                    && args.iter().all(|&x| hir.nodes[x].dtype == node.dtype) =>
            {
                Some((function.op, args.clone()))
            }
            _ => None,
        }
    };
    let (fused, operands) = match function.op {
        Op::Abs => match inner(args[0], &[Op::Add, Op::Sub, Op::Mul])? {
            (Op::Add, xy) => (Op::AbsAdd, xy),
            (Op::Sub, xy) => (Op::AbsSub, xy),
            (_, xy) => (Op::AbsMul, xy),
        },
        Op::Add => {
            let (_, x) = inner(args[0], &[Op::Abs])?;
            let (_, y) = inner(args[1], &[Op::Abs])?;
            (Op::AddAbs, vec![x[0], y[0]])
        }
        Op::Mul => {
            let (_, x) = inner(args[0], &[Op::Neg])?;
            (Op::NegMul, vec![x[0], args[1]])
        }
        _ => return None,
    };
    Some(fused_apply(fused, node.dtype, operands))
}

/// `x & ~y` and `x | ~y` (either operand inverted) on booleans and integers
/// as the table's `and_not` and `or_not`, when the inverse has no other use
/// and both operands have the result's type.
fn fuse_not(hir: &Hir, uses: &[usize], id: NodeId) -> Option<NodeKind> {
    let node = &hir.nodes[id];
    let NodeKind::Apply { function, args, .. } = &node.kind else {
        return None;
    };
    let fused = match function.op {
        Op::And => Op::AndNot,
        Op::Or => Op::OrNot,
        _ => return None,
    };
    if !matches!(node.dtype, DType::Bool | DType::Int32 | DType::Int64)
        || args.iter().any(|&a| hir.nodes[a].dtype != node.dtype)
    {
        return None;
    }
    // The operand of a single-use `~`.
    let inverted = |a: NodeId| match &hir.nodes[a].kind {
        NodeKind::Apply { function, args, .. } if function.op == Op::Invert && uses[a] == 1 => {
            Some(args[0])
        }
        _ => None,
    };
    // `&` and `|` are commutative, bit for bit: `~y & x` is `x & ~y`.
    let (x, y) = match (inverted(args[0]), inverted(args[1])) {
        (_, Some(y)) => (args[0], y),
        (Some(y), None) => (args[1], y),
        (None, None) => return None,
    };
    Some(fused_apply(fused, node.dtype, vec![x, y]))
}

#[derive(Default)]
struct Builder {
    hir: Hir,
    interned: HashMap<Key, NodeId>,
}

impl Builder {
    fn intern(&mut self, node: Node) -> NodeId {
        let key = match &node.kind {
            NodeKind::Input(v) => Key::Input(*v),
            NodeKind::Const(c) => Key::Const(node.dtype.name(), c.to_bytes()),
            NodeKind::Apply { overload, args, .. } => {
                Key::Apply(std::ptr::from_ref(*overload) as usize, args.clone())
            }
            NodeKind::Reduce { op, axis, arg, .. } => Key::Reduce(*op, *axis, *arg),
        };
        if let Some(&id) = self.interned.get(&key) {
            return id;
        }
        let id = self.hir.push(node);
        self.interned.insert(key, id);
        id
    }

    fn constant(&mut self, value: Scalar, like: &Node) -> NodeId {
        self.intern(Node {
            dtype: value.dtype(),
            kind: NodeKind::Const(value),
            span: like.span,
        })
    }

    /// `x OP c` (or `c OP x`) for `OP` one of `<`, `<=`, `>`, `>=` (and
    /// `==`, `!=` when `c` is a float32 value), with `x`
    /// a float32 widened to float64 and `c` a float64 constant (numexpr's
    /// typing of `a < 0.5` on float32 `a`), as the same comparison of `x`
    /// with a float32 constant: the smallest float32 at or above `c` where
    /// `x` must be below it or reach it (`x < c` is `x < hi`, `x >= c` is
    /// `x >= hi`), the largest at or below it otherwise (`x <= c` is
    /// `x <= lo`, `x > c` is `x > lo`). Every float32 `x`, NaN and the
    /// infinities included, gets the same answer: only float32 values lie
    /// between `lo` and `hi`, none strictly between. The comparison then
    /// runs in float32 lanes, like the rest of a float32 program. Any other
    /// operation is returned as it is.
    fn narrow_comparison(
        &mut self,
        function: &'static crate::functions::Function,
        overload: &'static crate::functions::Overload,
        args: Vec<NodeId>,
        like: &Node,
    ) -> (&'static crate::functions::Overload, Vec<NodeId>) {
        let op = function.op;
        if !matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne) || args.len() != 2 {
            return (overload, args);
        }
        let nodes = &self.hir.nodes;
        // The float32 under a widening cast, and a float64 constant.
        let widened = |a: NodeId| match &nodes[a].kind {
            NodeKind::Apply { function, args, .. }
                if function.op == Op::Cast
                    && nodes[a].dtype == DType::Float64
                    && nodes[args[0]].dtype == DType::Float32 =>
            {
                Some(args[0])
            }
            _ => None,
        };
        let constant = |a: NodeId| match nodes[a].kind {
            NodeKind::Const(Scalar::Float64(c)) if !c.is_nan() => Some(c),
            _ => None,
        };
        let (x, c, x_left) = match (widened(args[0]), constant(args[1])) {
            (Some(x), Some(c)) => (x, c, true),
            _ => match (constant(args[0]), widened(args[1])) {
                (Some(c), Some(x)) => (x, c, false),
                _ => return (overload, args),
            },
        };
        let Some(narrow) = TABLE[op].overload(TypeCode::B, &[TypeCode::F, TypeCode::F]) else {
            return (overload, args);
        };
        // The float32 neighbours of `c` (equal when `c` is one); beyond
        // float32's range, the infinity and the largest finite value.
        let nearest = c as f32;
        // `==` and `!=` only with a constant that is a float32 (against any
        // other, every float32 is unequal).
        if matches!(op, Op::Eq | Op::Ne) && f64::from(nearest) != c {
            return (overload, args);
        }
        let hi = if f64::from(nearest) >= c {
            nearest
        } else {
            nearest.next_up()
        };
        let lo = if f64::from(nearest) <= c {
            nearest
        } else {
            nearest.next_down()
        };
        // Where `x` is on the left: `<` and `>=` take `hi`; on the right,
        // `c < x` is `x > c`, so the other way round.
        let up = matches!(op, Op::Lt | Op::Ge) == x_left;
        let k = self.constant(Scalar::Float32(if up { hi } else { lo }), like);
        let args = if x_left { vec![x, k] } else { vec![k, x] };
        (narrow, args)
    }

    /// Runs `kernel` on one element if every operand is a constant.
    fn fold(&self, node: &Node, kernel: crate::kernels::Kernel, args: &[NodeId]) -> Option<Scalar> {
        let mut bytes = Vec::with_capacity(args.len());
        for &a in args {
            match &self.hir.nodes[a].kind {
                NodeKind::Const(c) => {
                    bytes.push((c.to_bytes(), self.hir.nodes[a].dtype.itemsize()))
                }
                _ => return None,
            }
        }
        // Kernels cast their operands to typed slices, which needs alignment: copy
        // each operand into 16-byte aligned storage first.
        let aligned: Vec<Vec<u128>> = bytes
            .iter()
            .map(|(b, _)| {
                let mut v = vec![0u128; b.len().div_ceil(16).max(1)];
                bytemuck::cast_slice_mut::<u128, u8>(&mut v)[..b.len()].copy_from_slice(b);
                v
            })
            .collect();
        let operands: Vec<Operand<'_>> = aligned
            .iter()
            .zip(&bytes)
            .map(|(v, (b, w))| Operand {
                bytes: &bytemuck::cast_slice::<u128, u8>(v)[..b.len()],
                width: *w,
            })
            .collect();
        let width = node.dtype.itemsize();
        let mut out = vec![0u128; width.div_ceil(16).max(1)];
        // A kernel that refuses its constant operands is left to fail at run time,
        // where the error gets reported with the evaluation.
        kernel(
            &mut bytemuck::cast_slice_mut::<u128, u8>(&mut out)[..width],
            &operands,
            1,
        )
        .ok()?;
        Some(Scalar::from_bytes(
            node.dtype,
            &bytemuck::cast_slice::<u128, u8>(&out)[..width],
        ))
    }
}
