//! Type checking: a syntax tree and the types of the variables in, a typed
//! [`Hir`] out.
//!
//! Names are resolved against the variables; literals get numexpr's types
//! (an integer is `int32` if it fits, else `int64`; a float is `float64`; `2j`
//! is `complex128`); each operation's kind is chosen by its table [`Rule`] and
//! then matched against the function's overloads, trying operand upcasts in
//! numexpr's order (`b i l f d c`), and explicit casts are inserted. Errors
//! point at the operator or call that does not fit, with the types it got and
//! those it accepts.

use crate::dtype::{DType, NUMERIC_KINDS, Scalar};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::functions::{Function, Overload, Rule, TABLE, TypeCode};
use crate::hir::{Hir, Node, NodeId, NodeKind};
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use num_complex::Complex64;

/// Checks `ast` against the variables `vars` (name and type, in signature order).
pub fn check(ast: &Expr, vars: &[(String, DType)]) -> Result<Hir> {
    let mut checker = Checker {
        vars,
        hir: Hir::default(),
    };
    let root = checker.expr(ast)?;
    checker.hir.root = root;
    Ok(checker.hir)
}

struct Checker<'v> {
    vars: &'v [(String, DType)],
    hir: Hir,
}

impl Checker<'_> {
    fn expr(&mut self, e: &Expr) -> Result<NodeId> {
        // The tree may be MAX_NESTING deep: grow the stack on demand rather than
        // trust the caller's thread to have room for that many frames.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e))
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<NodeId> {
        match &e.kind {
            ExprKind::Literal(lit) => {
                let value = literal_value(lit, false, e.span)?;
                Ok(self.constant(value, e.span))
            }
            ExprKind::Name(name) => self.name(name, e.span),
            ExprKind::Unary { op, op_span, operand } => {
                // numexpr negates a literal before typing it, so `-2147483648` is int32.
                if let (UnaryOp::Neg, ExprKind::Literal(lit @ (Literal::Int(_) | Literal::Float(_) | Literal::Imag(_)))) =
                    (op, &operand.kind)
                {
                    let value = literal_value(lit, true, e.span)?;
                    return Ok(self.constant(value, e.span));
                }
                let arg = self.expr(operand)?;
                match op {
                    UnaryOp::Plus => Ok(arg),
                    UnaryOp::Neg => self.apply("neg", &[arg], *op_span, e.span),
                    UnaryOp::Invert => self.apply("invert", &[arg], *op_span, e.span),
                }
            }
            ExprKind::Binary { op, op_span, lhs, rhs } => {
                let (l, r) = (self.expr(lhs)?, self.expr(rhs)?);
                self.binary(*op, l, r, *op_span, e.span)
            }
            ExprKind::Call { name, name_span, args, keywords } => {
                if crate::functions::REDUCTIONS.contains(&name.as_str()) {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        *name_span,
                        format!("the reduction `{name}` is not supported yet"),
                    ));
                }
                let Some(function) = TABLE.get(name).filter(|f| f.is_callable()) else {
                    return Err(unknown_function(name, *name_span));
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
                let ids = args.iter().map(|a| self.expr(a)).collect::<Result<Vec<_>>>()?;
                self.apply(name, &ids, *name_span, e.span)
            }
        }
    }

    fn name(&mut self, name: &str, span: Span) -> Result<NodeId> {
        match self.vars.iter().position(|(n, _)| n == name) {
            Some(i) => Ok(self.hir.push(Node {
                kind: NodeKind::Input(i),
                dtype: self.vars[i].1,
                span,
            })),
            None if name == "None" => Err(Error::new(ErrorKind::Type, span, "`None` is only allowed as `axis=None`")),
            None => Err(Error::new(ErrorKind::UnknownName, span, format!("unknown variable `{name}`"))),
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

    fn binary(&mut self, op: BinaryOp, l: NodeId, r: NodeId, op_span: Span, span: Span) -> Result<NodeId> {
        use BinaryOp::*;
        if op == Pow {
            self.check_negative_integer_power(l, r, op_span)?;
        }
        let name = match op {
            Add => "add",
            Sub => "sub",
            Mul => "mul",
            Div => "div",
            FloorDiv => "floordiv",
            Mod => "mod",
            Pow => "pow",
            Shl => "lshift",
            Shr => "rshift",
            And => "and",
            Or => "or",
            Xor => "xor",
            Lt => "lt",
            Le => "le",
            Eq => "eq",
            Ne => "ne",
            Ge => "ge",
            Gt => "gt",
        };
        // numexpr computes `+` and `*` of booleans as `|` and `&`.
        let both_bool = self.dtype(l) == DType::Bool && self.dtype(r) == DType::Bool;
        let name = match name {
            "add" if both_bool => "or",
            "mul" if both_bool => "and",
            other => other,
        };
        self.apply(name, &[l, r], op_span, span)
    }

    fn check_negative_integer_power(&self, base: NodeId, exponent: NodeId, op_span: Span) -> Result<()> {
        let negative = match &self.hir.nodes[exponent].kind {
            NodeKind::Const(Scalar::Int32(v)) => *v < 0,
            NodeKind::Const(Scalar::Int64(v)) => *v < 0,
            _ => false,
        };
        if negative && self.dtype(base).is_integer() {
            return Err(Error::new(
                ErrorKind::Type,
                op_span,
                "integers to negative integer powers are not allowed (write the base as a float, e.g. `a ** -2.0`)",
            ));
        }
        Ok(())
    }

    fn dtype(&self, id: NodeId) -> DType {
        self.hir.nodes[id].dtype
    }

    /// Types `name(args)`: chooses the kind by the function's rule, finds the
    /// first overload reachable by upcasting the operands, and inserts the casts.
    fn apply(&mut self, name: &str, args: &[NodeId], op_span: Span, span: Span) -> Result<NodeId> {
        let function = TABLE.get(name).expect("the checker only names functions of the table");
        let types: Vec<DType> = args.iter().map(|&a| self.dtype(a)).collect();
        let found = result_code(function, &types).and_then(|ret| find_overload(function, ret, &types));
        let Some(overload) = found else {
            return Err(type_mismatch(function, &types, op_span));
        };
        let mut cast_args = Vec::with_capacity(args.len());
        for (&arg, &want) in args.iter().zip(&overload.args) {
            cast_args.push(self.cast(arg, want)?);
        }
        let dtype = match overload.ret {
            TypeCode::S => self.string_result_width(&cast_args),
            code => code.dtype().expect("numeric codes have a dtype"),
        };
        Ok(self.hir.push(Node {
            kind: NodeKind::Apply { function, overload, args: cast_args },
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
        if TypeCode::of(have) == want {
            return Ok(id);
        }
        let span = self.hir.nodes[id].span;
        let target = want.dtype().expect("strings are never cast");
        if let NodeKind::Const(value) = &self.hir.nodes[id].kind {
            let converted = convert_scalar(value, target);
            return Ok(self.constant(converted, span));
        }
        let function = TABLE.get("cast").expect("the table has casts");
        let overload = function
            .overload(want, &[TypeCode::of(have)])
            .expect("the table has every upward cast");
        Ok(self.hir.push(Node {
            kind: NodeKind::Apply { function, overload, args: vec![id] },
            dtype: target,
            span,
        }))
    }
}

/// The result type code a function gets for operands of `types`, by its rule.
fn result_code(function: &Function, types: &[DType]) -> Option<TypeCode> {
    let common = common_kind(types)?;
    let kind = match function.rule {
        Rule::Common | Rule::Where | Rule::Cast => common,
        Rule::Returns(code) => return Some(code),
        Rule::TrueDiv if matches!(common, DType::Bool | DType::Int32 | DType::Int64) => DType::Float64,
        Rule::TrueDiv => common,
        Rule::Math { min, max, ints_keep } => {
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
fn find_overload(function: &'static Function, ret: TypeCode, types: &[DType]) -> Option<&'static Overload> {
    fn choices(t: DType) -> Vec<TypeCode> {
        match t.rank() {
            Some(r) => NUMERIC_KINDS[r..].iter().map(|&k| TypeCode::of(k)).collect(),
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
        None => format!("`{}`", function.name),
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
            if got.len() == 1 { got[0].clone() } else { format!("({})", got.join(", ")) },
            accepted.join(", ")
        ),
    )
}

fn unknown_function(name: &str, span: Span) -> Error {
    let mut message = format!("unknown function `{name}`");
    let candidates = TABLE.callable_names().chain(crate::functions::REDUCTIONS);
    if let Some(best) = candidates.filter(|c| edit_distance(c, name) <= 2).min_by_key(|c| edit_distance(c, name)) {
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
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The typed value of a literal (negated first if `negate`).
fn literal_value(lit: &Literal, negate: bool, span: Span) -> Result<Scalar> {
    Ok(match *lit {
        Literal::Int(v) => {
            let v = if negate { -v } else { v };
            if let Ok(v) = i32::try_from(v) {
                Scalar::Int32(v)
            } else if let Ok(v) = i64::try_from(v) {
                Scalar::Int64(v)
            } else {
                return Err(Error::new(ErrorKind::Literal, span, "integer literal does not fit in int64"));
            }
        }
        Literal::Float(v) => Scalar::Float64(if negate { -v } else { v }),
        Literal::Imag(v) => Scalar::Complex128(if negate { -Complex64::new(0.0, v) } else { Complex64::new(0.0, v) }),
        Literal::Bool(v) => Scalar::Bool(v),
        Literal::Bytes(ref b) => Scalar::Bytes(b.clone()),
    })
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
