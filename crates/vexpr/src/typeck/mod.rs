//! Type checking: a syntax tree and the types of the variables in, a typed
//! [`Hir`] out.
//!
//! Names are resolved against the variables; operators on literals alone are
//! computed with Python's arithmetic (`python.rs`), as numexpr lets Python do,
//! and the values get numexpr's types (an integer is `int32` if it fits, else
//! `int64`; a float is `float64`; `2j` is `complex128`); each operation's kind is chosen by its table [`Rule`] and
//! then matched against the function's overloads, trying operand upcasts in
//! numexpr's order (`b i l f d c`), and explicit casts are inserted. Errors
//! point at the operator or call that does not fit, with the types it got and
//! those it accepts.

use crate::dtype::{DType, NUMERIC_KINDS, Scalar};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::functions::{Function, Op, Overload, REDUCTIONS, Reduction, Rule, TABLE, TypeCode};
use crate::hir::{Hir, Node, NodeId, NodeKind};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use num_complex::Complex64;
use python::PyValue;
use std::collections::HashMap;

mod python;

/// Checks `ast` against the variables `vars` (name and type, in signature order).
pub fn check(ast: &Expr, vars: &[(String, DType)]) -> Result<Hir> {
    let mut checker = Checker {
        vars,
        hir: Hir::default(),
        wide_ints: HashMap::new(),
    };
    let root = checker.node(ast)?;
    if let Some(&wide) = checker.wide_ints.get(&root) {
        let span = checker.hir.nodes[root].span;
        return Err(Error::new(
            ErrorKind::Literal,
            span,
            format!("integer {wide:e} does not fit in int64"),
        ));
    }
    checker.hir.root = root;
    Ok(checker.hir)
}

struct Checker<'v> {
    vars: &'v [(String, DType)],
    hir: Hir,
    /// Constants typed int64 whose value is beyond int64: usable only where they
    /// are cast to a float kind, as in numexpr (`a + 2**63` works for float `a`).
    wide_ints: HashMap<NodeId, f64>,
}

/// A checked subexpression: a node of the typed IR, or a literal value that
/// Python would still be computing with (see [`python`]).
#[derive(Debug, Clone, Copy)]
enum Typed {
    Node(NodeId),
    Py(PyValue, Span),
}

impl Checker<'_> {
    fn expr(&mut self, e: &Expr) -> Result<Typed> {
        // The tree may be MAX_NESTING deep: grow the stack on demand rather than
        // trust the caller's thread to have room for that many frames.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e))
    }

    /// Checks `e` and makes it a node (materializing a literal value).
    fn node(&mut self, e: &Expr) -> Result<NodeId> {
        let typed = self.expr(e)?;
        self.materialize(typed)
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<Typed> {
        match &e.kind {
            ExprKind::Literal(lit) => Ok(match lit {
                Literal::Int(v) => Typed::Py(PyValue::Int(*v), e.span),
                Literal::Float(v) => Typed::Py(PyValue::Float(*v), e.span),
                Literal::Imag(v) => Typed::Py(PyValue::Complex(Complex64::new(0.0, *v)), e.span),
                Literal::Bool(v) => Typed::Py(PyValue::Bool(*v), e.span),
                // NumPy types the empty string as `S1` (one NUL byte).
                Literal::Bytes(b) if b.is_empty() => {
                    Typed::Node(self.constant(Scalar::Bytes(vec![0]), e.span))
                }
                Literal::Bytes(b) => Typed::Node(self.constant(Scalar::Bytes(b.clone()), e.span)),
            }),
            ExprKind::Name(name) => self.name(name, e.span).map(Typed::Node),
            ExprKind::Unary {
                op,
                op_span,
                operand,
            } => {
                let arg = self.expr(operand)?;
                if let Typed::Py(v, _) = arg {
                    let value = match op {
                        UnaryOp::Plus => Ok(v),
                        UnaryOp::Neg => v.neg(),
                        UnaryOp::Invert => v.invert(),
                    };
                    return value
                        .map(|v| Typed::Py(v, e.span))
                        .map_err(|m| Error::new(ErrorKind::Type, *op_span, m));
                }
                let arg = self.materialize(arg)?;
                match op {
                    UnaryOp::Plus => Ok(Typed::Node(arg)),
                    UnaryOp::Neg => self
                        .apply(Op::Neg, &[arg], *op_span, e.span)
                        .map(Typed::Node),
                    UnaryOp::Invert => self
                        .apply(Op::Invert, &[arg], *op_span, e.span)
                        .map(Typed::Node),
                }
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                let (l, r) = (self.expr(lhs)?, self.expr(rhs)?);
                if let (Typed::Py(a, _), Typed::Py(b, _)) = (l, r) {
                    return a
                        .binary(*op, b)
                        .map(|v| Typed::Py(v, e.span))
                        .map_err(|m| Error::new(ErrorKind::Type, *op_span, m));
                }
                if *op == BinaryOp::Pow
                    && let Typed::Py(exponent, _) = r
                {
                    let base = self.materialize(l)?;
                    if let Some(id) = self.constant_power(base, exponent, *op_span, e.span)? {
                        return Ok(Typed::Node(id));
                    }
                }
                let (l, r) = (self.materialize(l)?, self.materialize(r)?);
                self.binary(*op, l, r, *op_span, e.span).map(Typed::Node)
            }
            ExprKind::Call {
                name,
                name_span,
                args,
                keywords,
            } => self.call(e, name, *name_span, args, keywords),
        }
    }

    fn call(
        &mut self,
        e: &Expr,
        name: &str,
        name_span: Span,
        args: &[Expr],
        keywords: &[crate::syntax::ast::Keyword],
    ) -> Result<Typed> {
        // The user's text is read here, once; from here on the call is an
        // identity.
        if let Some(op) = Reduction::from_name(name) {
            return self.reduction(op, e, name_span, args, keywords);
        }
        let Some(function) = TABLE.get(name).filter(|f| f.is_callable()) else {
            return Err(unknown_function(name, name_span));
        };
        if let Some(k) = keywords.first() {
            return Err(Error::new(
                ErrorKind::Arity,
                k.span,
                format!("`{name}` takes no keyword argument `{}`", k.name),
            ));
        }
        if args.len() != function.arity {
            return Err(Error::new(
                ErrorKind::Arity,
                e.span,
                format!(
                    "`{name}` takes {} argument{}, got {}",
                    function.arity,
                    if function.arity == 1 { "" } else { "s" },
                    args.len()
                ),
            ));
        }
        let typed = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Result<Vec<_>>>()?;
        // numexpr's `where` with a constant condition is simply one of its branches.
        if function.op == Op::Where
            && let Typed::Py(condition, _) = typed[0]
        {
            let truthy = condition.as_f64().is_none_or(|v| v != 0.0);
            return Ok(if truthy { typed[1] } else { typed[2] });
        }
        let ids = typed
            .into_iter()
            .map(|t| self.materialize(t))
            .collect::<Result<Vec<_>>>()?;
        self.apply(function.op, &ids, name_span, e.span)
            .map(Typed::Node)
    }

    /// `sum(x)`, `sum(x, axis=k)` (or `sum(x, k)`), and `prod`, `min`, `max` alike.
    fn reduction(
        &mut self,
        op: Reduction,
        e: &Expr,
        name_span: Span,
        args: &[Expr],
        keywords: &[crate::syntax::ast::Keyword],
    ) -> Result<Typed> {
        let name = op.name();
        if let Some(k) = keywords.iter().find(|k| k.name != "axis") {
            return Err(Error::new(
                ErrorKind::Arity,
                k.span,
                format!("`{name}` takes no keyword argument `{}`", k.name),
            ));
        }
        let axis_expr = match (args.get(1), keywords.first()) {
            (Some(_), Some(k)) => {
                return Err(Error::new(
                    ErrorKind::Arity,
                    k.span,
                    format!("`{name}` got the axis twice"),
                ));
            }
            (Some(a), None) => Some(a),
            (None, Some(k)) => Some(&k.value),
            (None, None) => None,
        };
        if args.is_empty() || args.len() > 2 {
            return Err(Error::new(
                ErrorKind::Arity,
                e.span,
                format!(
                    "`{name}` takes an operand and an optional axis, got {} arguments",
                    args.len()
                ),
            ));
        }
        let (axis, axis_span) = match axis_expr {
            None => (None, e.span),
            Some(a) if matches!(&a.kind, ExprKind::Name(n) if n == "None") => (None, a.span),
            Some(a) => match self.expr(a)? {
                Typed::Py(PyValue::Int(k), span) if k < 0 => {
                    return Err(Error::new(
                        ErrorKind::Value,
                        span,
                        "negative axes are not supported (as in numexpr)",
                    ));
                }
                Typed::Py(PyValue::Int(k), span) => match usize::try_from(k) {
                    Ok(k) if k <= 254 => (Some(k), span),
                    _ => return Err(Error::new(ErrorKind::Value, span, "axis too large")),
                },
                _ => {
                    return Err(Error::new(
                        ErrorKind::Type,
                        a.span,
                        "the axis must be an integer literal or None",
                    ));
                }
            },
        };
        let arg = match self.expr(&args[0])? {
            Typed::Py(_, span) => {
                return Err(Error::new(
                    ErrorKind::Type,
                    span,
                    format!("`{name}` of a constant: reduce an array"),
                ));
            }
            Typed::Node(id) => id,
        };
        let have = self.dtype(arg);
        let Some(dtype) = op.result(have) else {
            return Err(Error::new(
                ErrorKind::Type,
                name_span,
                format!("`{name}` does not accept {have}"),
            ));
        };
        Ok(Typed::Node(self.hir.push(Node {
            kind: NodeKind::Reduce {
                op,
                axis,
                axis_span,
                arg,
            },
            dtype,
            span: e.span,
        })))
    }

    /// numexpr's expansion of `base ** c` for a constant `c` that is a multiple of
    /// 0.5 in [-50, 50]: multiplications in the base's own kind (so `float32 ** 2`
    /// stays float32 and `bool ** 3` stays bool), times `sqrt(base)` for a half
    /// power, inverted for a negative power. Returns `None` where the ordinary `**`
    /// applies: other exponents, and (unlike numexpr, following NumPy) a float
    /// exponent on an integer or boolean base, which gives float64.
    fn constant_power(
        &mut self,
        base: NodeId,
        exponent: PyValue,
        op_span: Span,
        span: Span,
    ) -> Result<Option<NodeId>> {
        let base_type = self.dtype(base);
        let Some(x) = exponent.as_f64() else {
            return Ok(None);
        };
        let integral_exponent = matches!(exponent, PyValue::Int(_) | PyValue::Bool(_));
        if base_type.is_integer() && integral_exponent && x < 0.0 {
            // A value error, as NumPy's and numexpr's (the exponent's value,
            // not its type, is what is refused).
            return Err(Error::new(
                ErrorKind::Value,
                op_span,
                "integers to negative integer powers are not allowed (write the exponent as a float, e.g. `a ** -2.0`)",
            ));
        }
        // Complex bases use the complex power itself, whose special values are
        // NumPy's (`0j ** -1` is nan+nanj there, where 1/0j would be inf+nanj).
        if (2.0 * x).fract() != 0.0
            || x.abs() > 50.0
            || base_type.is_bytes()
            || base_type == DType::Complex128
        {
            return Ok(None);
        }
        if matches!(base_type, DType::Bool | DType::Int32 | DType::Int64) && !integral_exponent {
            return Ok(None);
        }
        let n = x.abs().trunc() as u32;
        let half = (2.0 * x.abs()) as u32 % 2 == 1;
        let mul = |c: &mut Self, a: NodeId, b: NodeId| c.binary(BinaryOp::Mul, a, b, op_span, span);
        let mut result: Option<NodeId> = None;
        if matches!(base_type, DType::Float32 | DType::Float64)
            && (crate::functions::POWI_MIN..=crate::functions::POWI_MAX).contains(&n)
        {
            // The same chain as below, as one instruction.
            result = Some(self.powi(base, n, op_span, span));
        } else {
            let mut power = base;
            let mut mask = 1u32;
            loop {
                if n & mask != 0 {
                    result = Some(match result {
                        None => power,
                        Some(r) => mul(self, r, power)?,
                    });
                }
                mask <<= 1;
                if mask > n {
                    break;
                }
                power = mul(self, power, power)?;
            }
        }
        if half {
            let root = self.apply(Op::Sqrt, &[base], op_span, span)?;
            result = Some(match result {
                None => root,
                Some(r) => mul(self, r, root)?,
            });
        }
        let result = match result {
            Some(r) => r,
            None => self.apply(Op::OnesLike, &[base], op_span, span)?,
        };
        if x < 0.0 {
            let one = self.constant(Scalar::Int32(1), op_span);
            return self
                .binary(BinaryOp::Div, one, result, op_span, span)
                .map(Some);
        }
        Ok(Some(result))
    }

    /// `base ** n` as the table's `powi` instruction (a float base; `n` in
    /// `POWI_MIN..=POWI_MAX`).
    fn powi(&mut self, base: NodeId, n: u32, op_span: Span, span: Span) -> NodeId {
        let dtype = self.dtype(base);
        // The static table has `powi` for both float types, and `base` is one.
        let function = &TABLE[Op::Powi];
        let code = TypeCode::of(dtype);
        let overload = function
            .overload(code, &[code, TypeCode::L])
            .expect("powi exists for both float types");
        let exponent = self.constant(Scalar::Int64(i64::from(n)), op_span);
        self.hir.push(Node {
            kind: NodeKind::Apply {
                function,
                overload,
                args: vec![base, exponent],
            },
            dtype,
            span,
        })
    }

    /// Gives a literal value its numexpr type and makes it a constant node.
    fn materialize(&mut self, typed: Typed) -> Result<NodeId> {
        let (value, span) = match typed {
            Typed::Node(id) => return Ok(id),
            Typed::Py(value, span) => (value, span),
        };
        let scalar = match value {
            PyValue::Bool(b) => Scalar::Bool(b),
            PyValue::Int(i) => match (i32::try_from(i), i64::try_from(i)) {
                (Ok(v), _) => Scalar::Int32(v),
                (_, Ok(v)) => Scalar::Int64(v),
                _ => {
                    let id = self.constant(Scalar::Int64(0), span);
                    self.wide_ints.insert(id, i as f64);
                    return Ok(id);
                }
            },
            PyValue::Float(f) => Scalar::Float64(f),
            PyValue::Complex(c) => Scalar::Complex128(c),
        };
        Ok(self.constant(scalar, span))
    }

    fn name(&mut self, name: &str, span: Span) -> Result<NodeId> {
        match self.vars.iter().position(|(n, _)| n == name) {
            Some(i) => Ok(self.hir.push(Node {
                kind: NodeKind::Input(i),
                dtype: self.vars[i].1,
                span,
            })),
            None if name == "None" => Err(Error::new(
                ErrorKind::Type,
                span,
                "`None` is only allowed as `axis=None`",
            )),
            None => Err(Error::new(
                ErrorKind::UnknownName,
                span,
                format!("unknown variable `{name}`"),
            )),
        }
    }

    fn constant(&mut self, value: Scalar, span: Span) -> NodeId {
        let dtype = value.dtype();
        self.hir.push(Node {
            kind: NodeKind::Const(value),
            dtype,
            span,
        })
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        l: NodeId,
        r: NodeId,
        op_span: Span,
        span: Span,
    ) -> Result<NodeId> {
        let op = match op {
            BinaryOp::Add => Op::Add,
            BinaryOp::Sub => Op::Sub,
            BinaryOp::Mul => Op::Mul,
            BinaryOp::Div => Op::Div,
            BinaryOp::FloorDiv => Op::FloorDiv,
            BinaryOp::Mod => Op::Mod,
            BinaryOp::Pow => Op::Pow,
            BinaryOp::Shl => Op::LShift,
            BinaryOp::Shr => Op::RShift,
            BinaryOp::And => Op::And,
            BinaryOp::Or => Op::Or,
            BinaryOp::Xor => Op::Xor,
            BinaryOp::Lt => Op::Lt,
            BinaryOp::Le => Op::Le,
            BinaryOp::Eq => Op::Eq,
            BinaryOp::Ne => Op::Ne,
            BinaryOp::Ge => Op::Ge,
            BinaryOp::Gt => Op::Gt,
        };
        // numexpr computes `+` and `*` of booleans as `|` and `&`.
        let both_bool = self.dtype(l) == DType::Bool && self.dtype(r) == DType::Bool;
        let op = match op {
            Op::Add if both_bool => Op::Or,
            Op::Mul if both_bool => Op::And,
            other => other,
        };
        self.apply(op, &[l, r], op_span, span)
    }

    fn dtype(&self, id: NodeId) -> DType {
        self.hir.nodes[id].dtype
    }

    /// Types `op(args)`: chooses the kind by the function's rule, finds the
    /// first overload reachable by upcasting the operands, and inserts the casts.
    fn apply(&mut self, op: Op, args: &[NodeId], op_span: Span, span: Span) -> Result<NodeId> {
        let function = &TABLE[op];
        let types: Vec<DType> = args.iter().map(|&a| self.dtype(a)).collect();
        let found =
            result_code(function, &types).and_then(|ret| find_overload(function, ret, &types));
        let Some(overload) = found else {
            return Err(type_mismatch(function, &types, op_span));
        };
        let mut cast_args = Vec::with_capacity(args.len());
        for (&arg, &want) in args.iter().zip(&overload.args) {
            cast_args.push(self.cast(arg, want)?);
        }
        let dtype = match overload.ret {
            TypeCode::S => self.string_result_width(&cast_args),
            // Only `S` has no dtype of its own, handled above.
            code => code.dtype().expect("numeric codes have a dtype"),
        };
        Ok(self.hir.push(Node {
            kind: NodeKind::Apply {
                function,
                overload,
                args: cast_args,
            },
            dtype,
            span,
        }))
    }

    /// A string result (`where` on strings, `copy`) is as wide as its widest string operand.
    fn string_result_width(&self, args: &[NodeId]) -> DType {
        let width = args
            .iter()
            .filter_map(|&a| match self.dtype(a) {
                DType::Bytes(w) => Some(w),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        DType::Bytes(width)
    }

    /// Converts node `id` to type code `want`: constants directly, other nodes by a cast node.
    fn cast(&mut self, id: NodeId, want: TypeCode) -> Result<NodeId> {
        let have = self.dtype(id);
        let span = self.hir.nodes[id].span;
        if let Some(&wide) = self.wide_ints.get(&id) {
            return match want.dtype() {
                Some(target @ (DType::Float32 | DType::Float64 | DType::Complex128)) => {
                    Ok(self.constant(convert_scalar(&Scalar::Float64(wide), target), span))
                }
                _ => Err(Error::new(
                    ErrorKind::Literal,
                    span,
                    "integer literal does not fit in int64",
                )),
            };
        }
        if TypeCode::of(have) == want {
            return Ok(id);
        }
        // `want == S` only for string operands, which returned above
        // (`TypeCode::of(have) == want`).
        let target = want.dtype().expect("strings are never cast");
        if let NodeKind::Const(value) = &self.hir.nodes[id].kind {
            let converted = convert_scalar(value, target);
            return Ok(self.constant(converted, span));
        }
        // Overloads are only found through upcasts the table lists as casts.
        let function = &TABLE[Op::Cast];
        let overload = function
            .overload(want, &[TypeCode::of(have)])
            .expect("the table has every upward cast");
        Ok(self.hir.push(Node {
            kind: NodeKind::Apply {
                function,
                overload,
                args: vec![id],
            },
            dtype: target,
            span,
        }))
    }
}

/// The result type code a function gets for operands of `types`, by its rule.
fn result_code(function: &Function, types: &[DType]) -> Option<TypeCode> {
    let common = common_kind(types)?;
    let kind = match function.rule {
        Rule::Common | Rule::Where | Rule::Cast | Rule::Fused => common,
        Rule::Returns(code) => return Some(code),
        Rule::TrueDiv if matches!(common, DType::Bool | DType::Int32 | DType::Int64) => {
            DType::Float64
        }
        Rule::TrueDiv => common,
        Rule::Math {
            complex_to_real: true,
            ..
        } if common == DType::Complex128 => DType::Float64,
        Rule::Math {
            min,
            max,
            ints_keep,
            ..
        } => {
            if common.is_integer() {
                if ints_keep { common } else { DType::Float64 }
            } else {
                let mut kind = common;
                if let Some(min) = min.filter(|m| m.rank() > kind.rank()) {
                    kind = min;
                }
                if let Some(max) = max.filter(|m| m.rank() < kind.rank()) {
                    kind = max;
                }
                kind
            }
        }
    };
    Some(TypeCode::of(kind))
}

/// numexpr's common kind: the highest-ranked numeric type, or bytes if all
/// operands are strings; `None` when strings are mixed with numbers.
fn common_kind(types: &[DType]) -> Option<DType> {
    let strings = types.iter().filter(|t| t.is_bytes()).count();
    if strings == types.len() {
        return types.first().copied();
    }
    if strings > 0 {
        return None;
    }
    types.iter().copied().max_by_key(|t| t.rank())
}

/// The first overload returning `ret` whose operands the given types upcast to,
/// trying upcasts in numexpr's order (`sigPerms`: the first operand varies slowest).
fn find_overload(
    function: &'static Function,
    ret: TypeCode,
    types: &[DType],
) -> Option<&'static Overload> {
    fn choices(t: DType) -> Vec<TypeCode> {
        match t.rank() {
            Some(r) => NUMERIC_KINDS[r..]
                .iter()
                .map(|&k| TypeCode::of(k))
                .collect(),
            None => vec![TypeCode::S],
        }
    }
    let options: Vec<Vec<TypeCode>> = types.iter().map(|&t| choices(t)).collect();
    let mut index = vec![0usize; types.len()];
    loop {
        let candidate: Vec<TypeCode> = index.iter().zip(&options).map(|(&i, o)| o[i]).collect();
        if let Some(found) = function.overload(ret, &candidate) {
            return Some(found);
        }
        // Advance like an odometer whose last digit turns fastest.
        let mut pos = types.len();
        loop {
            if pos == 0 {
                return None;
            }
            pos -= 1;
            index[pos] += 1;
            if index[pos] < options[pos].len() {
                break;
            }
            index[pos] = 0;
        }
    }
}

fn type_mismatch(function: &Function, types: &[DType], span: Span) -> Error {
    let what = match function.symbol {
        Some(sym) => format!("`{sym}`"),
        None => format!("`{}`", function.name()),
    };
    let got: Vec<String> = types.iter().map(|t| t.name()).collect();
    let mut accepted: Vec<String> = Vec::new();
    for o in &function.overloads {
        let names: Vec<&str> = o
            .args
            .iter()
            .map(|c| c.dtype().map_or("bytes", |d| d.numeric_name()))
            .collect();
        let s = names.join(", ");
        if !accepted.contains(&s) {
            accepted.push(s);
        }
    }
    let accepted: Vec<String> = accepted.into_iter().map(|s| format!("({s})")).collect();
    Error::new(
        ErrorKind::Type,
        span,
        format!(
            "{what} does not accept {} (it accepts {})",
            if got.len() == 1 {
                got[0].clone()
            } else {
                format!("({})", got.join(", "))
            },
            accepted.join(", ")
        ),
    )
}

fn unknown_function(name: &str, span: Span) -> Error {
    let mut message = format!("unknown function `{name}`");
    let candidates = TABLE.callable_names().chain(REDUCTIONS);
    if let Some(best) = candidates
        .filter(|c| edit_distance(c, name) <= 2)
        .min_by_key(|c| edit_distance(c, name))
    {
        message.push_str(&format!("; did you mean `{best}`?"));
    }
    Error::new(ErrorKind::UnknownFunction, span, message)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Converts a constant upward to `target` (a widening the table also has as a cast).
pub(crate) fn convert_scalar(value: &Scalar, target: DType) -> Scalar {
    let (re, int): (f64, Option<i64>) = match *value {
        Scalar::Bool(v) => (f64::from(u8::from(v)), Some(i64::from(v))),
        Scalar::Int32(v) => (f64::from(v), Some(i64::from(v))),
        Scalar::Int64(v) => (v as f64, Some(v)),
        Scalar::Float32(v) => (f64::from(v), None),
        Scalar::Float64(v) => (v, None),
        Scalar::Complex128(c) => return Scalar::Complex128(c),
        Scalar::Bytes(ref b) => return Scalar::Bytes(b.clone()),
    };
    match target {
        DType::Bool => Scalar::Bool(re != 0.0),
        // Upward casts only: an int source always has `int`.
        DType::Int32 => Scalar::Int32(int.unwrap_or(re as i64) as i32),
        DType::Int64 => Scalar::Int64(int.unwrap_or(re as i64)),
        DType::Float32 => Scalar::Float32(match int {
            Some(i) => i as f32,
            None => re as f32,
        }),
        DType::Float64 => Scalar::Float64(re),
        DType::Complex128 => Scalar::Complex128(Complex64::new(re, 0.0)),
        DType::Bytes(_) => value.clone(),
    }
}
