//! Property tests over mixed types: random trees over int32, int64, float32 and
//! float64 inputs must give the result type numexpr's rules give and, element by
//! element, the value a small dynamically typed reference interpreter computes.
//!
//! The reference implements the rules as `docs/types.md` states them, on its
//! own: operands run in the higher of their kinds (`int32 < int64 < float32 <
//! float64`), `/` of integers runs in float64, integers wrap, `abs` keeps
//! integers, `where` runs in the higher kind of its branches.

use proptest::prelude::*;
use vexpr::{Array, DType, Env, Expr, Options, Scalar, Signature};

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Kind {
    I32,
    I64,
    F32,
    F64,
}

#[derive(Debug, Clone, Copy)]
enum V {
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
}

impl V {
    fn kind(self) -> Kind {
        match self {
            V::I32(_) => Kind::I32,
            V::I64(_) => Kind::I64,
            V::F32(_) => Kind::F32,
            V::F64(_) => Kind::F64,
        }
    }

    /// Converts upward to `k`, as NumPy's casts do.
    fn to(self, k: Kind) -> V {
        match (self, k) {
            (V::I32(x), Kind::I32) => V::I32(x),
            (V::I32(x), Kind::I64) => V::I64(i64::from(x)),
            (V::I32(x), Kind::F32) => V::F32(x as f32),
            (V::I32(x), Kind::F64) => V::F64(f64::from(x)),
            (V::I64(x), Kind::I64) => V::I64(x),
            (V::I64(x), Kind::F32) => V::F32(x as f32),
            (V::I64(x), Kind::F64) => V::F64(x as f64),
            (V::F32(x), Kind::F32) => V::F32(x),
            (V::F32(x), Kind::F64) => V::F64(f64::from(x)),
            (V::F64(x), Kind::F64) => V::F64(x),
            (v, k) => panic!("no downcast {v:?} to {k:?}"),
        }
    }

    fn same(self, other: V) -> bool {
        match (self, other) {
            (V::I32(a), V::I32(b)) => a == b,
            (V::I64(a), V::I64(b)) => a == b,
            (V::F32(a), V::F32(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (V::F64(a), V::F64(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            _ => false,
        }
    }
}

const VARS: [(&str, Kind); 4] = [
    ("i", Kind::I32),
    ("l", Kind::I64),
    ("f", Kind::F32),
    ("d", Kind::F64),
];

#[derive(Debug, Clone)]
enum Tree {
    Var(usize),
    Int(i32),
    Float(f64),
    Neg(Box<Tree>),
    Abs(Box<Tree>),
    Bin(&'static str, Box<Tree>, Box<Tree>),
    Where(Box<Tree>, Box<Tree>, Box<Tree>, Box<Tree>),
}

fn has_var(t: &Tree) -> bool {
    match t {
        Tree::Var(_) => true,
        Tree::Int(_) | Tree::Float(_) => false,
        Tree::Neg(x) | Tree::Abs(x) => has_var(x),
        Tree::Bin(_, a, b) => has_var(a) || has_var(b),
        Tree::Where(a, b, c, d) => has_var(a) || has_var(b) || has_var(c) || has_var(d),
    }
}

fn arb_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        3 => (0..VARS.len()).prop_map(Tree::Var),
        1 => (-5..6i32).prop_map(Tree::Int),
        1 => prop_oneof![Just(0.5), Just(2.0), Just(-1.25)].prop_map(Tree::Float),
    ];
    leaf.prop_recursive(5, 32, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Tree::Neg(Box::new(t))),
            inner.clone().prop_map(|t| Tree::Abs(Box::new(t))),
            (
                prop::sample::select(vec!["+", "-", "*", "/"]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, a, b)| {
                    // Literals alone would be Python constant arithmetic: keep a variable in.
                    let a = if has_var(&a) || has_var(&b) {
                        a
                    } else {
                        Tree::Var(0)
                    };
                    Tree::Bin(op, Box::new(a), Box::new(b))
                }),
            (inner.clone(), inner.clone(), inner.clone(), inner).prop_map(|(p, q, x, y)| {
                let p = if has_var(&p) || has_var(&q) {
                    p
                } else {
                    Tree::Var(1)
                };
                Tree::Where(Box::new(p), Box::new(q), Box::new(x), Box::new(y))
            }),
        ]
    })
}

fn source(t: &Tree) -> String {
    match t {
        Tree::Var(v) => VARS[*v].0.to_string(),
        Tree::Int(x) if *x < 0 => format!("({x})"),
        Tree::Int(x) => x.to_string(),
        Tree::Float(x) if *x < 0.0 => format!("({x:?})"),
        Tree::Float(x) => format!("{x:?}"),
        Tree::Neg(x) => format!("(-{})", source(x)),
        Tree::Abs(x) => format!("abs({})", source(x)),
        Tree::Bin(op, a, b) => format!("({} {op} {})", source(a), source(b)),
        Tree::Where(p, q, x, y) => format!(
            "where({} < {}, {}, {})",
            source(p),
            source(q),
            source(x),
            source(y)
        ),
    }
}

fn arith(op: &str, a: V, b: V) -> V {
    let mut k = if a.kind() > b.kind() {
        a.kind()
    } else {
        b.kind()
    };
    if op == "/" && k < Kind::F32 {
        k = Kind::F64;
    }
    match (a.to(k), b.to(k)) {
        (V::I32(x), V::I32(y)) => V::I32(match op {
            "+" => x.wrapping_add(y),
            "-" => x.wrapping_sub(y),
            _ => x.wrapping_mul(y),
        }),
        (V::I64(x), V::I64(y)) => V::I64(match op {
            "+" => x.wrapping_add(y),
            "-" => x.wrapping_sub(y),
            _ => x.wrapping_mul(y),
        }),
        (V::F32(x), V::F32(y)) => V::F32(match op {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            _ => x / y,
        }),
        (V::F64(x), V::F64(y)) => V::F64(match op {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            _ => x / y,
        }),
        _ => unreachable!(),
    }
}

fn less(a: V, b: V) -> bool {
    let k = if a.kind() > b.kind() {
        a.kind()
    } else {
        b.kind()
    };
    match (a.to(k), b.to(k)) {
        (V::I32(x), V::I32(y)) => x < y,
        (V::I64(x), V::I64(y)) => x < y,
        (V::F32(x), V::F32(y)) => x < y,
        (V::F64(x), V::F64(y)) => x < y,
        _ => unreachable!(),
    }
}

fn eval(t: &Tree, row: &[V; 4]) -> V {
    match t {
        Tree::Var(v) => row[*v],
        Tree::Int(x) => V::I32(*x),
        Tree::Float(x) => V::F64(*x),
        Tree::Neg(x) => match eval(x, row) {
            V::I32(v) => V::I32(v.wrapping_neg()),
            V::I64(v) => V::I64(v.wrapping_neg()),
            V::F32(v) => V::F32(-v),
            V::F64(v) => V::F64(-v),
        },
        Tree::Abs(x) => match eval(x, row) {
            V::I32(v) => V::I32(v.wrapping_abs()),
            V::I64(v) => V::I64(v.wrapping_abs()),
            V::F32(v) => V::F32(v.abs()),
            V::F64(v) => V::F64(v.abs()),
        },
        Tree::Bin(op, a, b) => arith(op, eval(a, row), eval(b, row)),
        Tree::Where(p, q, x, y) => {
            let (x, y) = (eval(x, row), eval(y, row));
            let k = if x.kind() > y.kind() {
                x.kind()
            } else {
                y.kind()
            };
            if less(eval(p, row), eval(q, row)) {
                x.to(k)
            } else {
                y.to(k)
            }
        }
    }
}

fn got(r: &Array, i: usize) -> V {
    match r.get(i).unwrap() {
        Scalar::Int32(x) => V::I32(x),
        Scalar::Int64(x) => V::I64(x),
        Scalar::Float32(x) => V::F32(x),
        Scalar::Float64(x) => V::F64(x),
        other => panic!("unexpected result type {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mixed_types_follow_numexprs_rules(
        tree in arb_tree(),
        rows in prop::collection::vec(
            (
                prop_oneof![-1000..1000i32, Just(i32::MAX), Just(i32::MIN)],
                prop_oneof![-100_000..100_000i64, Just(i64::MAX), Just(1i64 << 40)],
                prop_oneof![-100.0..100.0f32, Just(0.0f32), Just(f32::NAN)],
                prop_oneof![-1e6..1e6f64, Just(-0.0f64), Just(f64::INFINITY)],
            ),
            0..200,
        ),
        threads in 1..4usize,
    ) {
        let src = source(&tree);
        let i: Vec<i32> = rows.iter().map(|r| r.0).collect();
        let l: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let f: Vec<f32> = rows.iter().map(|r| r.2).collect();
        let d: Vec<f64> = rows.iter().map(|r| r.3).collect();
        let env = Env::new().with("i", &i[..]).with("l", &l[..]).with("f", &f[..]).with("d", &d[..]);
        let expr = Expr::compile(&src, &Signature::of(&env)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let result = expr.eval_with(&env, Options::default().with_threads(threads).with_block_len(32)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let sample = rows.first().copied().unwrap_or((0, 0, 0.0, 0.0));
        let want_kind = eval(&tree, &[V::I32(sample.0), V::I64(sample.1), V::F32(sample.2), V::F64(sample.3)]).kind();
        let dtype = match want_kind { Kind::I32 => DType::Int32, Kind::I64 => DType::Int64, Kind::F32 => DType::Float32, Kind::F64 => DType::Float64 };
        prop_assert_eq!(result.dtype(), dtype, "{}", src);
        for (k, r) in rows.iter().enumerate().take(result.len()) {
            let want = eval(&tree, &[V::I32(r.0), V::I64(r.1), V::F32(r.2), V::F64(r.3)]);
            let have = got(&result, if result.shape().is_empty() { 0 } else { k });
            prop_assert!(have.same(want), "{} at row {:?}: vexpr {:?}, reference {:?}", src, r, have, want);
        }
    }
}

/// A float32 compared with a float64 constant runs in float32 (the
/// optimizer narrows the constant to its float32 neighbour on the right
/// side) and answers, for every float32, what the comparison in float64
/// answers: constants between float32 values, equal to one, beyond the
/// float32 range and subnormal, against their neighbours, zeros, NaN and
/// the infinities, with the constant on either side.
#[test]
fn float32_compared_with_a_float64_constant_answers_as_in_float64() {
    let sig = Signature::new().with("x", DType::Float32);
    let constants: [f64; 14] = [
        0.2,
        0.3,
        0.5,
        -0.7,
        0.0,
        1.0 + f64::from(f32::EPSILON) / 2.0,
        1e-45,
        1.5e-45,
        -1e-46,
        f64::from(f32::MAX),
        3.5e38,
        -1e39,
        1e300,
        16_777_217.0,
    ];
    let mut xs: Vec<f32> = vec![
        0.0,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
    ];
    for &c in &constants {
        let near = c as f32;
        for v in [near, near.next_up(), near.next_down()] {
            xs.extend([v, v.next_up(), v.next_down(), -v]);
        }
    }
    let env = Env::new().with("x", &xs[..]);
    for &c in &constants {
        for (op, holds) in [
            ("<", f64::lt as fn(&f64, &f64) -> bool),
            ("<=", f64::le),
            (">", f64::gt),
            (">=", f64::ge),
            ("==", f64::eq),
            ("!=", f64::ne),
        ] {
            for x_left in [true, false] {
                let text = if x_left {
                    format!("x {op} {c:?}")
                } else {
                    format!("{c:?} {op} x")
                };
                let expr = Expr::compile(&text, &sig).unwrap();
                // `==` and `!=` are narrowed when `c` is a float32 value.
                let equality = op == "==" || op == "!=";
                let narrowed = !equality || f64::from(c as f32) == c;
                let program = vexpr::unstable::program(&expr);
                let widens = program.registers.iter().any(|r| r.dtype == DType::Float64);
                assert_eq!(widens, !narrowed, "{text}:\n{expr}");
                let got = expr.eval(&env).unwrap();
                let got = got.as_slice::<bool>().unwrap();
                for (&x, &g) in xs.iter().zip(got) {
                    let (l, r) = if x_left {
                        (f64::from(x), c)
                    } else {
                        (c, f64::from(x))
                    };
                    assert_eq!(g, holds(&l, &r), "{text} at x = {x:e}");
                }
            }
        }
    }
}
