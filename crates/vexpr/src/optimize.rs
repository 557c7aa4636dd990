//! Optimization: a typed [`Hir`] in, an equivalent smaller [`Hir`] out.
//!
//! One forward pass over the arena rebuilds it:
//! - constant folding: an operation whose operands are all constants is run at
//!   compile time by its own kernel, so folding never changes a result;
//! - common-subexpression elimination: nodes are hash-consed, so `a*a` written
//!   twice (or reached twice through `a**3` and `a**5`) is computed once;
//! - fusion: `x*y + z`, `z + x*y`, `x*y - z`, `z - x*y` and `x*y ± z*w` on
//!   floats become one instruction when the products have no other use (the
//!   fused kernels round each product and the sum separately, so the bits do
//!   not change), and
//!   `where(p OP q, x, y)` on floats becomes one `where_OP` instruction when
//!   the comparison has no other use, as do `abs(x ± y)`, `abs(x * y)`,
//!   `abs(x) + abs(y)` and `(-x) * y` (`abs_add`, `abs_sub`, `abs_mul`,
//!   `add_abs`, `neg_mul`);
//! - dead nodes disappear because code generation only follows the root.

use crate::dtype::Scalar;
use crate::hir::{Hir, Node, NodeId, NodeKind};
use crate::kernels::Operand;
use std::collections::HashMap;

/// What makes two nodes the same value.
#[derive(Hash, PartialEq, Eq)]
enum Key {
    Input(usize),
    Const(String, Vec<u8>),
    Apply(usize, Vec<NodeId>),
    Reduce(crate::vm::Reduction, Option<usize>, NodeId),
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

/// Rewrites additions and subtractions of single-use float products into the
/// table's fused `mul_add`, `mul_sub`, `sub_mul`, `mul_add_mul` and
/// `mul_sub_mul` instructions.
fn fuse(mut hir: Hir) -> Hir {
    use crate::dtype::DType;
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
        if function.name == "where" {
            if let Some(fused) = fuse_where(&hir, &uses, id) {
                hir.nodes[id].kind = fused;
            }
            continue;
        }
        if let Some(fused) = fuse_signs(&hir, &uses, id) {
            hir.nodes[id].kind = fused;
            continue;
        }
        if !matches!(function.name, "add" | "sub")
            || !matches!(node.dtype, DType::Float32 | DType::Float64)
        {
            continue;
        }
        let product = |a: NodeId| match &hir.nodes[a].kind {
            NodeKind::Apply { function, args, .. } if function.name == "mul" && uses[a] == 1 => {
                Some((args[0], args[1]))
            }
            _ => None,
        };
        let (l, r) = (args[0], args[1]);
        // IEEE addition is commutative, so `z + x*y` is `x*y + z` to the bit.
        let fused = match (function.name, product(l), product(r)) {
            ("add", Some((x, y)), Some((z, w))) => ("mul_add_mul", vec![x, y, z, w]),
            ("sub", Some((x, y)), Some((z, w))) => ("mul_sub_mul", vec![x, y, z, w]),
            ("add", Some((x, y)), None) => ("mul_add", vec![x, y, r]),
            ("sub", Some((x, y)), None) => ("mul_sub", vec![x, y, r]),
            ("add", None, Some((x, y))) => ("mul_add", vec![x, y, l]),
            ("sub", None, Some((x, y))) => ("sub_mul", vec![x, y, l]),
            _ => continue,
        };
        hir.nodes[id].kind = fused_apply(fused.0, node.dtype, fused.1);
    }
    hir
}

/// The table's fused instruction `name` applied to `args`, all of type `dtype`
/// (a float type, for which every fused instruction has an overload).
fn fused_apply(name: &str, dtype: crate::dtype::DType, args: Vec<NodeId>) -> NodeKind {
    use crate::functions::{TABLE, TypeCode};
    // The static table has every fused instruction for both float types
    // (the fusions only match float operands).
    let function = TABLE
        .get(name)
        .expect("the table has the fused instructions");
    let code = TypeCode::of(dtype);
    let overload = function
        .overload(code, &vec![code; args.len()])
        .expect("fused instructions exist for floats");
    NodeKind::Apply {
        function,
        overload,
        args,
    }
}

/// `where(p OP q, x, y)` as the table's `where_OP` instruction, when the
/// comparison has no other use and `p`, `q`, `x`, `y` and the result are all
/// the same float type.
fn fuse_where(hir: &Hir, uses: &[usize], id: NodeId) -> Option<NodeKind> {
    use crate::dtype::DType;
    let node = &hir.nodes[id];
    let NodeKind::Apply { args, .. } = &node.kind else {
        return None;
    };
    if !matches!(node.dtype, DType::Float32 | DType::Float64) || uses[args[0]] != 1 {
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
    let name = match cmp.name {
        "lt" => "where_lt",
        "le" => "where_le",
        "gt" => "where_gt",
        "ge" => "where_ge",
        "eq" => "where_eq",
        "ne" => "where_ne",
        _ => return None,
    };
    let operands = [cmp_args[0], cmp_args[1], args[1], args[2]];
    if operands.iter().any(|&a| hir.nodes[a].dtype != node.dtype) {
        return None;
    }
    Some(fused_apply(name, node.dtype, operands.to_vec()))
}

/// `abs(x + y)`, `abs(x - y)`, `abs(x * y)`, `abs(x) + abs(y)` and
/// `(-x) * y` on floats as the table's `abs_add`, `abs_sub`, `abs_mul`,
/// `add_abs` and `neg_mul`, when the inner nodes have no other use and every
/// operand has the result's type.
fn fuse_signs(hir: &Hir, uses: &[usize], id: NodeId) -> Option<NodeKind> {
    use crate::dtype::DType;
    let node = &hir.nodes[id];
    let NodeKind::Apply { function, args, .. } = &node.kind else {
        return None;
    };
    if !matches!(node.dtype, DType::Float32 | DType::Float64) {
        return None;
    }
    // The operands of a single-use `name` node of the result's type.
    let inner = |a: NodeId, names: &[&str]| -> Option<(&'static str, Vec<NodeId>)> {
        match &hir.nodes[a].kind {
            NodeKind::Apply { function, args, .. }
                if names.contains(&function.name)
                    && uses[a] == 1
                    && args.iter().all(|&x| hir.nodes[x].dtype == node.dtype) =>
            {
                Some((function.name, args.clone()))
            }
            _ => None,
        }
    };
    let (name, operands) = match function.name {
        "abs" => match inner(args[0], &["add", "sub", "mul"])? {
            ("add", xy) => ("abs_add", xy),
            ("sub", xy) => ("abs_sub", xy),
            (_, xy) => ("abs_mul", xy),
        },
        "add" => {
            let (_, x) = inner(args[0], &["abs"])?;
            let (_, y) = inner(args[1], &["abs"])?;
            ("add_abs", vec![x[0], y[0]])
        }
        "mul" => {
            let (_, x) = inner(args[0], &["neg"])?;
            ("neg_mul", vec![x[0], args[1]])
        }
        _ => return None,
    };
    Some(fused_apply(name, node.dtype, operands))
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
