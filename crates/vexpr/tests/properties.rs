//! Property tests: random float64 expression trees over random inputs, run by
//! the VM at random thread counts and block sizes, must match a plain
//! tree-walking reference evaluator element by element.
//!
//! The reference evaluates each element on its own by walking the tree, using
//! the Rust operators and `std` functions directly, and for the functions vexpr
//! vectorizes itself (exp, log, sin, ...) those slice functions on one element
//! (their accuracy is tested against mpmath on their own): it shares no code
//! with the parser, type checker, optimizer, code generator or VM. Results must be
//! bit-identical (NaN matches NaN): no stage of vexpr reassociates, contracts
//! to FMA or approximates these operations.

use proptest::prelude::*;
use vexpr::unstable::vmath;
use vexpr::{Env, Expr, Options, Signature};

/// One element through a vectorized math function of vexpr (whose accuracy
/// is tested on its own against mpmath in `kernels/vmath/tests.rs`).
fn vm(f: fn(&[f64], &mut [f64]), x: f64) -> f64 {
    let mut out = [0.0];
    f(&[x], &mut out);
    out[0]
}

fn vm2(f: fn(&[f64], &[f64], &mut [f64]), x: f64, y: f64) -> f64 {
    let mut out = [0.0];
    f(&[x], &[y], &mut out);
    out[0]
}

/// A float64-valued expression tree.
#[derive(Debug, Clone)]
enum Tree {
    Var(usize),
    Const(f64),
    Neg(Box<Tree>),
    Bin(&'static str, Box<Tree>, Box<Tree>),
    Call(&'static str, Box<Tree>),
    Call2(&'static str, Box<Tree>, Box<Tree>),
    Where(Box<Cond>, Box<Tree>, Box<Tree>),
}

/// A bool-valued tree, for `where`.
#[derive(Debug, Clone)]
enum Cond {
    Cmp(&'static str, Tree, Tree),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

const VARS: [&str; 3] = ["a", "b", "c"];
const FUNCS: [&str; 11] = [
    "sqrt", "sin", "cos", "exp", "log", "tanh", "abs", "floor", "arctan", "expm1", "log1p",
];
const FUNCS2: [&str; 4] = ["arctan2", "hypot", "maximum", "minimum"];

fn arb_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0..VARS.len()).prop_map(Tree::Var),
        prop_oneof![Just(0.0), Just(1.0), Just(2.0), Just(0.5), -10.0..10.0f64]
            .prop_map(Tree::Const),
    ];
    leaf.prop_recursive(6, 48, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Tree::Neg(Box::new(t))),
            (
                prop::sample::select(vec!["+", "-", "*", "/", "**", "%", "//"]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| {
                    // An operator on literals alone is Python arithmetic at compile time
                    // (where `1.0 / 0.0` is an error): keep a variable on one side.
                    let l = if reads_no_variable(&l) && reads_no_variable(&r) {
                        Tree::Var(0)
                    } else {
                        l
                    };
                    Tree::Bin(op, Box::new(l), Box::new(r))
                }),
            (prop::sample::select(FUNCS.to_vec()), inner.clone())
                .prop_map(|(f, t)| Tree::Call(f, Box::new(t))),
            (
                prop::sample::select(FUNCS2.to_vec()),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(f, x, y)| Tree::Call2(f, Box::new(x), Box::new(y))),
            (arb_cond(inner.clone()), inner.clone(), inner).prop_map(|(c, x, y)| Tree::Where(
                Box::new(c),
                Box::new(x),
                Box::new(y)
            )),
        ]
    })
}

fn reads_no_variable(t: &Tree) -> bool {
    match t {
        Tree::Var(_) => false,
        Tree::Const(_) => true,
        Tree::Neg(x) => reads_no_variable(x),
        Tree::Bin(..) | Tree::Call(..) | Tree::Call2(..) | Tree::Where(..) => false,
    }
}

fn arb_cond(tree: impl Strategy<Value = Tree> + Clone + 'static) -> impl Strategy<Value = Cond> {
    // The left side reads a variable: a comparison of literals alone would be
    // Python arithmetic (where `~False` is -1), not a boolean array.
    let cmp = (
        prop::sample::select(vec!["<", "<=", "==", "!=", ">=", ">"]),
        0..VARS.len(),
        tree,
    )
        .prop_map(|(op, v, r)| Cond::Cmp(op, Tree::Var(v), r));
    cmp.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| Cond::Not(Box::new(c))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
        ]
    })
}

/// Python source for a tree, fully parenthesized.
fn source(t: &Tree) -> String {
    match t {
        Tree::Var(i) => VARS[*i].to_string(),
        Tree::Const(v) if *v < 0.0 => format!("({v:?})"),
        Tree::Const(v) => format!("{v:?}"),
        Tree::Neg(x) => format!("(-{})", source(x)),
        Tree::Bin(op, l, r) => format!("({} {op} {})", source(l), source(r)),
        Tree::Call(f, x) => format!("{f}({})", source(x)),
        Tree::Call2(f, x, y) => format!("{f}({}, {})", source(x), source(y)),
        Tree::Where(c, x, y) => format!("where({}, {}, {})", cond_source(c), source(x), source(y)),
    }
}

fn cond_source(c: &Cond) -> String {
    match c {
        Cond::Cmp(op, l, r) => format!("({} {op} {})", source(l), source(r)),
        Cond::Not(x) => format!("(~{})", cond_source(x)),
        Cond::And(a, b) => format!("({} & {})", cond_source(a), cond_source(b)),
        Cond::Or(a, b) => format!("({} | {})", cond_source(a), cond_source(b)),
    }
}

/// The reference: one element, straight from the tree.
fn reference(t: &Tree, x: &[f64; 3]) -> f64 {
    match t {
        Tree::Var(i) => x[*i],
        Tree::Const(v) => *v,
        Tree::Neg(a) => -reference(a, x),
        Tree::Bin(op, l, r) => {
            let (a, b) = (reference(l, x), reference(r, x));
            match *op {
                "+" => a + b,
                "-" => a - b,
                "*" => a * b,
                "/" => a / b,
                "**" => power(a, r, b),
                "%" => python_mod(a, b),
                "//" => python_floordiv(a, b),
                _ => unreachable!(),
            }
        }
        Tree::Call(f, a) => {
            let a = reference(a, x);
            match *f {
                "sqrt" => a.sqrt(),
                "sin" => vm(vmath::sin_f64, a),
                "cos" => vm(vmath::cos_f64, a),
                "exp" => vm(vmath::exp_f64, a),
                "log" => vm(vmath::log_f64, a),
                "tanh" => vm(vmath::tanh_f64, a),
                "abs" => a.abs(),
                "floor" => a.floor(),
                "arctan" => vm(vmath::arctan_f64, a),
                "expm1" => vm(vmath::expm1_f64, a),
                "log1p" => vm(vmath::log1p_f64, a),
                _ => unreachable!(),
            }
        }
        Tree::Call2(f, a, b) => {
            let (a, b) = (reference(a, x), reference(b, x));
            match *f {
                "arctan2" => vm2(vmath::atan2_f64, a, b),
                "hypot" => vm2(vmath::hypot_f64, a, b),
                // NumPy's definitions: NaN if either is NaN; of two equal values
                // (0.0 and -0.0) the second.
                "maximum" => {
                    if a > b || a.is_nan() {
                        a
                    } else {
                        b
                    }
                }
                "minimum" => {
                    if a < b || a.is_nan() {
                        a
                    } else {
                        b
                    }
                }
                _ => unreachable!(),
            }
        }
        Tree::Where(c, a, b) => {
            if reference_cond(c, x) {
                reference(a, x)
            } else {
                reference(b, x)
            }
        }
    }
}

fn reference_cond(c: &Cond, x: &[f64; 3]) -> bool {
    match c {
        Cond::Cmp(op, l, r) => {
            let (a, b) = (reference(l, x), reference(r, x));
            match *op {
                "<" => a < b,
                "<=" => a <= b,
                "==" => a == b,
                "!=" => a != b,
                ">=" => a >= b,
                ">" => a > b,
                _ => unreachable!(),
            }
        }
        Cond::Not(a) => !reference_cond(a, x),
        Cond::And(a, b) => reference_cond(a, x) & reference_cond(b, x),
        Cond::Or(a, b) => reference_cond(a, x) | reference_cond(b, x),
    }
}

/// `a ** b`: vexpr's vectorized pow (tested against glibc and mpmath on its
/// own). For a constant exponent that is a multiple of 0.5 in [-50, 50],
/// the language defines the power as numexpr does: binary exponentiation by
/// multiplication, times `sqrt(a)` for a half power, inverted for a negative one.
fn power(a: f64, exponent: &Tree, b: f64) -> f64 {
    let Some(x) = python_constant(exponent) else {
        return vm2(vmath::pow_f64, a, b);
    };
    if (2.0 * x).fract() != 0.0 || x.abs() > 50.0 {
        return vm2(vmath::pow_f64, a, b);
    }
    let n = x.abs().trunc() as u32;
    let (mut result, mut p, mut mask) = (None::<f64>, a, 1u32);
    loop {
        if n & mask != 0 {
            result = Some(result.map_or(p, |r| r * p));
        }
        mask <<= 1;
        if mask > n {
            break;
        }
        p *= p;
    }
    if (2.0 * x.abs()) as u32 % 2 == 1 {
        result = Some(result.map_or(a.sqrt(), |r| r * a.sqrt()));
    }
    let r = result.unwrap_or(1.0);
    if x < 0.0 { 1.0 / r } else { r }
}

/// The value of an exponent that Python arithmetic makes a constant at compile
/// time: a literal, or a literal negated any number of times (`a ** -2.0`).
fn python_constant(t: &Tree) -> Option<f64> {
    match t {
        Tree::Const(x) => Some(*x),
        Tree::Neg(inner) => python_constant(inner).map(|x| -x),
        _ => None,
    }
}

/// Python's float `%`, written from its definition: the result has the sign of `b`.
fn python_mod(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return f64::NAN;
    }
    let m = a % b;
    if m != 0.0 && (m < 0.0) != (b < 0.0) {
        m + b
    } else if m == 0.0 {
        0.0f64.copysign(b)
    } else {
        m
    }
}

/// Python's float `//`, as NumPy computes it: `(a - a % b) / b`, floored.
fn python_floordiv(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        return a / b;
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && (b < 0.0) != (m < 0.0) {
        div -= 1.0;
    }
    if div == 0.0 {
        return 0.0f64.copysign(a / b);
    }
    let f = div.floor();
    if div - f > 0.5 { f + 1.0 } else { f }
}

fn ulps(a: f64, b: f64) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return u64::MAX;
    }
    let key = |v: f64| {
        let bits = v.to_bits() as i64;
        if bits < 0 { i64::MIN - bits } else { bits }
    };
    key(a).abs_diff(key(b))
}

fn arb_inputs() -> impl Strategy<Value = Vec<[f64; 3]>> {
    let value = prop_oneof![
        8 => -4.0..4.0f64,
        1 => prop_oneof![Just(0.0), Just(-0.0), Just(1.0), Just(f64::INFINITY), Just(f64::NAN), Just(1e300), Just(-1e-310)],
    ];
    prop_oneof![Just(0usize), Just(1usize), 2..300usize].prop_flat_map(move |n| {
        prop::collection::vec([value.clone(), value.clone(), value.clone()], n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn vm_matches_the_reference(tree in arb_tree(), rows in arb_inputs(), threads in 1..4usize, block in 16..80usize, jit in any::<bool>()) {
        let src = source(&tree);
        let columns: Vec<Vec<f64>> = (0..3).map(|j| rows.iter().map(|r| r[j]).collect()).collect();
        let env = Env::new().with("a", &columns[0][..]).with("b", &columns[1][..]).with("c", &columns[2][..]);
        let expr = Expr::compile(&src, &Signature::of(&env)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        // A program's first small run goes by passes; machine code (if `jit`
        // and the CPU has it) from the second.
        let first = expr.eval_with(&env, Options::default().with_threads(threads).with_block_len(block).with_jit(jit)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let got = expr.eval_with(&env, Options::default().with_threads(threads).with_block_len(block).with_jit(jit)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let (first, got) = (first.as_slice::<f64>().expect("float64 result").to_vec(), got);
        let got = got.as_slice::<f64>().expect("float64 result");
        prop_assert!(first.iter().zip(got).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())), "{}: first and second run differ", src);
        let bound = 0;
        if expr.variables().is_empty() {
            // Like numexpr, an expression of constants gives a 0-d result.
            prop_assert_eq!(got.len(), 1);
            let want = reference(&tree, &[0.0; 3]);
            prop_assert!(ulps(got[0], want) <= bound, "{}: vexpr {:?}, reference {:?}", src, got[0], want);
            return Ok(());
        }
        prop_assert_eq!(got.len(), rows.len());
        for (i, row) in rows.iter().enumerate() {
            let want = reference(&tree, row);
            prop_assert!(ulps(got[i], want) <= bound, "{} at row {:?}: vexpr {:?}, reference {:?}", src, row, got[i], want);
        }
    }

    #[test]
    fn result_does_not_depend_on_threads_or_block_size(tree in arb_tree(), n in prop_oneof![0..5000usize, 60_000..120_000usize], t1 in 1..5usize, t2 in 1..5usize, b1 in 16..5000usize, b2 in 16..300usize, j1 in any::<bool>()) {
        let src = source(&tree);
        let columns: Vec<Vec<f64>> = (0..3).map(|j| (0..n).map(|i| ((i * (j + 3)) % 97) as f64 / 13.0 - 3.0).collect()).collect();
        let env = Env::new().with("a", &columns[0][..]).with("b", &columns[1][..]).with("c", &columns[2][..]);
        let expr = Expr::compile(&src, &Signature::of(&env)).unwrap();
        let x = expr.eval_with(&env, Options::default().with_threads(t1).with_block_len(b1).with_jit(j1)).unwrap();
        let y = expr.eval_with(&env, Options::default().with_threads(t2).with_block_len(b2).with_jit(!j1)).unwrap();
        let (x, y) = (x.as_slice::<f64>().unwrap(), y.as_slice::<f64>().unwrap());
        prop_assert_eq!(x.len(), y.len());
        for i in 0..x.len() {
            prop_assert!(x[i].to_bits() == y[i].to_bits() || (x[i].is_nan() && y[i].is_nan()), "{src} at {i}");
        }
    }
}
