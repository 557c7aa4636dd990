//! The code generator against the VM's passes: same bits, and the programs it
//! is meant for really compiled.

use crate::cpu::{Level, with_run_cap};
use crate::unstable::BENCHMARKS;
use crate::{CpuLevel, Env, Expr, Options, Signature};
use std::cell::Cell;

thread_local! {
    /// Whether a run that wants machine code makes it on its own thread, at
    /// once: these tests compare machine code with the passes, so the run
    /// that asks for the code must have it. Off for the tests of making it
    /// on the code generator's thread, as runs outside tests do.
    pub(super) static MAKE_INLINE: Cell<bool> = const { Cell::new(true) };
}

/// The levels at which this machine runs generated code (x86-64 with AVX2 and
/// FMA, or AVX-512), up to the process cap (`VEXPR_CPU`), lowest first. The
/// checks below run at each: the machine code of that level against the
/// passes of that level.
fn levels() -> Vec<CpuLevel> {
    #[cfg(target_arch = "x86_64")]
    {
        Level::supported()
            .into_iter()
            .filter(|&l| l >= Level::Avx2Fma)
            .map(Level::public)
            .collect()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Vec::new()
    }
}

/// The signature of float64 variables `vars`.
fn signature(vars: &[&str]) -> Signature {
    vars.iter()
        .fold(Signature::new(), |s, v| s.with(v, crate::DType::Float64))
}

/// Whether `source` compiles to machine code at `level`.
fn compiles(level: CpuLevel, source: &str, vars: &[&str]) -> bool {
    has_machine_code(&Expr::compile(source, &signature(vars)).unwrap(), level)
}

/// Whether `expr`'s program compiles to machine code at `level`.
fn has_machine_code(expr: &Expr, level: CpuLevel) -> bool {
    with_run_cap(Some(level), || expr.program().machine_code().is_some())
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn the_benchmark_programs_compile_to_machine_code() {
    for level in levels() {
        for source in BENCHMARKS {
            assert!(compiles(level, source, &["a", "b"]), "{source} at {level}");
        }
        // Not covered: other functions.
        assert!(!compiles(level, "arcsinh(a)", &["a"]));
        // A select on a boolean value: a lane mask.
        assert!(compiles(
            level,
            "where(a > b, a, b) + where((a < 1) | (b < 1), a, b)",
            &["a", "b"]
        ));
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn the_benchmark_programs_compile_at_avx2() {
    if !levels().contains(&CpuLevel::Avx2) {
        return;
    }
    for source in BENCHMARKS {
        assert!(compiles(CpuLevel::Avx2, source, &["a", "b"]), "{source}");
    }
    // More values than the 16 ymm registers hold with exp's scratch: some
    // constants are read from the pool (`Plan::spilled`).
    let many = "exp(a) + exp(b) * (a + 1.5) * (b + 2.5) * (a + 3.5) * (b + 4.5) * (a + 5.5) * (b + 6.5) * (a + 7.5)";
    assert!(compiles(CpuLevel::Avx2, many, &["a", "b"]));
    #[cfg(target_arch = "x86_64")]
    {
        let expr = Expr::compile(many, &signature(&["a", "b"])).unwrap();
        assert!(avx2_plan(expr.program()).is_some_and(|plan| plan.spills()));
    }
    if levels().contains(&CpuLevel::Avx512) {
        assert!(compiles(CpuLevel::Avx512, many, &["a", "b"]));
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(miri, ignore = "assembles machine code: slow under Miri")]
fn avx2_code_has_no_avx512_instructions() {
    // Generated whatever this CPU has: the other tests run it, but on a CPU
    // with AVX-512 an EVEX instruction would run too.
    use proptest::strategy::ValueTree;
    let sig = signature(&NAMES[..3]);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let random = (0..300).map(|_| arb_source().new_tree(&mut runner).unwrap().current());
    let mut covered = 0;
    for source in BENCHMARKS.map(String::from).into_iter().chain(random) {
        let expr = Expr::compile(&source, &sig).unwrap();
        if let Some(names) = super::x86::avx2_instructions(expr.program()) {
            let evex: Vec<_> = names.iter().filter(|n| n.starts_with("EVEX_")).collect();
            assert!(evex.is_empty(), "{source}: {evex:?}");
            covered += 1;
        }
    }
    assert!(covered >= 250, "{covered}");
}

/// Bit equality, NaN signs and payloads included.
fn same(x: f64, y: f64) -> bool {
    x.to_bits() == y.to_bits()
}

/// A float64 or float32 result's elements: each one's bits, and its value as
/// a float64 (exact; a float32 NaN keeps its sign and payload).
fn lanes(array: &crate::Array) -> Vec<(u64, f64)> {
    match array.as_slice::<f32>() {
        Some(v) => v
            .iter()
            .map(|&x| (u64::from(x.to_bits()), f64::from(x)))
            .collect(),
        None => (array.as_slice::<f64>().unwrap().iter())
            .map(|&x| (x.to_bits(), x))
            .collect(),
    }
}

/// Whether two NaN results may differ in sign or payload: when an operation
/// meets two NaN operands, which one it returns depends on the order in which
/// the compiled code presents them (x86 returns the first source; IEEE 754
/// leaves it open, and LLVM may swap the operands of `+` and `*`), so only
/// then may machine code and passes disagree, as `docs/reliability.md` says.
/// Two NaNs may meet at an element when NaN inputs occur twice or more in
/// the expression, or when either result may be a NaN that an operation
/// made (the default payload, or no input's), which can meet another NaN.
fn nans_may_differ(source: &str, names: &[&str], inputs: &[f64], want: f64, got: f64) -> bool {
    if !(want.is_nan() && got.is_nan()) {
        return false;
    }
    let payload = |x: f64| x.to_bits() & !(1 << 63);
    let occurrences: usize = names
        .iter()
        .zip(inputs)
        .filter(|(_, x)| x.is_nan())
        .map(|(name, _)| {
            source
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .filter(|token| token == name)
                .count()
        })
        .sum();
    let made = [want, got].iter().any(|&r| {
        payload(r) == payload(f64::NAN)
            || !inputs
                .iter()
                .any(|&x| x.is_nan() && payload(x) == payload(r))
    });
    occurrences >= 2 || made
}

/// The variables [`check`] binds, the first as many as it has columns: as
/// many as a loop reads at most ([`MAX_INPUTS`](super::MAX_INPUTS)).
const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

/// Names of up to [`MAX_INPUTS`](super::MAX_INPUTS) variables.
const MANY_NAMES: [&str; super::MAX_INPUTS] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
];

/// Options of the checks' runs: with or without machine code, on `threads`
/// threads, in blocks of 64 elements (so that runs have many), at `level`.
fn small_blocks(jit: bool, threads: usize, level: CpuLevel) -> Options {
    let options = Options {
        threads,
        block_len: 64,
        jit,
        ..Options::default()
    };
    options.with_cpu(level)
}

/// `columns` rounded to float32.
fn singles(columns: &[Vec<f64>]) -> Vec<Vec<f32>> {
    (columns.iter())
        .map(|c| c.iter().map(|&x| x as f32).collect())
        .collect()
}

/// The variables `names` bound to `columns` (float64) or to their float32
/// `singles`, by `dtype`.
fn typed_env<'a>(
    names: &[&str],
    columns: &'a [Vec<f64>],
    singles: &'a [Vec<f32>],
    dtype: crate::DType,
) -> Env<'a> {
    match dtype {
        crate::DType::Float32 => {
            (names.iter().zip(singles)).fold(Env::new(), |env, (n, c)| env.with(n, &c[..]))
        }
        _ => (names.iter().zip(columns)).fold(Env::new(), |env, (n, c)| env.with(n, &c[..])),
    }
}

/// Evaluates `source` with and without machine code and compares every element.
fn check(source: &str, columns: &[Vec<f64>]) -> Result<(), String> {
    check_typed(source, columns, crate::DType::Float64)
}

/// [`check`] with the inputs of `dtype`, float64 or float32 (`columns`
/// then holds float32 values).
fn check_typed(source: &str, columns: &[Vec<f64>], dtype: crate::DType) -> Result<(), String> {
    let names = &MANY_NAMES[..columns.len()];
    let singles = singles(columns);
    let env = typed_env(names, columns, &singles, dtype);
    // Literals alone are Python arithmetic at compile time, where `1 / 0`
    // is an error: nothing to run.
    let Ok(expr) = Expr::compile(source, &Signature::of(&env)) else {
        return Ok(());
    };
    let run = |jit: bool, threads: usize, level: CpuLevel| {
        (expr.eval_with(&env, small_blocks(jit, threads, level))).map_err(|e| e.to_string())
    };
    for level in levels() {
        check_at(source, columns, names, |jit, threads| {
            run(jit, threads, level)
        })
        .map_err(|e| format!("at {level}: {e}"))?;
    }
    Ok(())
}

/// The machine code runs each check compares with the passes: on one
/// thread and two, through the function that runs in the caches (the
/// checks' inputs are small) and through the one that prefetches
/// (`jit::Traffic`; the streaming one has its own tests).
fn machine_code_runs() -> [(usize, bool); 4] {
    [(1, false), (2, false), (1, true), (2, true)]
}

/// `f()` with runs that prefetch (`vm::PREFETCH_ANYWAY`) or not.
fn with_prefetch<T>(prefetch: bool, f: impl FnOnce() -> T) -> T {
    crate::vm::PREFETCH_ANYWAY.set(prefetch);
    let result = f();
    crate::vm::PREFETCH_ANYWAY.set(false);
    result
}

/// [`check`] at one level: `run(jit, threads)` evaluates there.
fn check_at(
    source: &str,
    columns: &[Vec<f64>],
    names: &[&str],
    run: impl Fn(bool, usize) -> Result<crate::Array, String>,
) -> Result<(), String> {
    let want = lanes(&run(false, 1)?);
    for (threads, prefetch) in machine_code_runs() {
        let got = with_prefetch(prefetch, || run(true, threads));
        let got = lanes(&got?);
        for (i, (&(wb, w), &(gb, g))) in want.iter().zip(&got).enumerate() {
            if wb == gb {
                continue;
            }
            // A result of one element (constants alone) broadcasts no input.
            let inputs: Vec<f64> = columns.iter().filter_map(|c| c.get(i).copied()).collect();
            if !nans_may_differ(source, names, &inputs, w, g) {
                return Err(format!(
                    "{source} at {i}, inputs {inputs:?}: passes {w:e} ({wb:#x}), machine code {g:e} ({gb:#x})"
                ));
            }
        }
    }
    Ok(())
}

use proptest::prelude::*;

/// Expressions of what the code generator covers: after optimization they use
/// every `JitOp` (products with sums make the fused forms).
fn arb_source() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["a", "b", "c"]).prop_map(str::to_string),
        prop_oneof![Just(2.0), Just(0.5), Just(-3.25), -10.0..10.0f64]
            .prop_map(|v| format!("({v:?})")),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec!["+", "-", "*", "/"]),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, l, r)| format!("({l} {op} {r})")),
            (
                prop::sample::select(vec!["-", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh"]),
                inner.clone()
            )
                .prop_map(|(f, x)| if f == "-" {
                    format!("(-{x})")
                } else {
                    format!("{f}({x})")
                }),
            (inner.clone(), 2..17i32).prop_map(|(x, n)| format!("({x})**{n}")),
            (inner.clone(), inner.clone()).prop_map(|(y, x)| format!("arctan2({y}, {x})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(x, y, z)| format!("({x}*{y} - abs({z}))")),
            (
                prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]),
                inner.clone(),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(op, p, x, y)| format!("where({p} {op} {x}, {x}, {y})")),
            // A select on a boolean value, a lane mask.
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(p, x, y)| format!("where(({p} < a) | ~(b > {y}), {x}, {y})")),
        ]
    })
}

/// Ordinary values mostly, and every kind of value that sends a vector to a
/// full math function or the hardware divider.
fn arb_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        12 => 0.01..4.0f64,
        4 => -4.0..4.0f64,
        1 => prop::sample::select(vec![
            0.0, -0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN, 1e300, -1e300, 1e-310,
            -1e-310, 709.5, -745.5, 708.0, 1e-300, f64::MIN_POSITIVE, f64::MAX,
        ]),
    ]
}

fn arb_columns() -> impl Strategy<Value = Vec<Vec<f64>>> {
    prop_oneof![0..40usize, 40..300usize]
        .prop_flat_map(|n| prop::collection::vec(prop::collection::vec(arb_value(), n), 3))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(miri, ignore = "machine code against the passes: Miri runs no machine code")]
    fn machine_code_gives_the_bits_of_the_passes(source in arb_source(), columns in arb_columns()) {
        check(&source, &columns).map_err(TestCaseError::fail)?;
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn the_random_programs_mostly_compile() {
    // Otherwise the comparison above would compare the passes with themselves.
    use proptest::strategy::ValueTree;
    for level in levels() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut tried, mut compiled) = (0, 0);
        for _ in 0..300 {
            let source = arb_source().new_tree(&mut runner).unwrap().current();
            let expr = Expr::compile(&source, &signature(&NAMES[..3])).unwrap();
            // Constants alone fold to a value: there is nothing to run.
            if expr.variables().is_empty() {
                continue;
            }
            tried += 1;
            compiled += usize::from(has_machine_code(&expr, level));
        }
        assert!(
            tried >= 200 && compiled * 10 >= tried * 9,
            "{compiled} of {tried} at {level}"
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn every_function_and_power_on_hard_values_and_every_length() {
    let hard = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        1e300,
        -1e300,
        1e-310,
        -1e-310,
        709.7,
        709.8,
        -745.1,
        -745.2,
        708.0,
        -708.0,
        708.0000000000001,
        1e-300,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN_POSITIVE * 0.5,
        3.0,
        1e-155,
        1e155,
        1e-200,
        1e200,
        4.0e-270,
        2.5e270,
        1048576.0,
        1048576.0000000002,
        -1048575.9999999999,
        7.450580596923828e-9,
        7.450580596923827e-9,
        -7.450580596923828e-9,
        std::f64::consts::FRAC_PI_2,
        std::f64::consts::PI,
        -4.71238898038469,
        1e5,
        355.0,
        103993.0,
        // Halves and the edges of rounding.
        2.5,
        -2.5,
        -0.5,
        1.5,
        0.49999999999999994,
        4503599627370497.0,
        -4503599627370495.5,
    ];
    // Each hard value among ordinary ones, at every position of a vector and
    // of the tail, so that every way out of the loop is taken.
    let mut sources: Vec<String> = ["exp", "log", "sqrt", "abs", "-", "sin", "cos", "tanh"]
        .iter()
        .map(|f| format!("{f}(a)"))
        .collect();
    sources.extend((2..=17).map(|n| format!("a**{n}")));
    sources.extend(
        [
            "a / b",
            "b / a",
            "a // b",
            "(a * c) // b + a",
            "a % b",
            "(a * c) % b - a",
            "fmod(a, b)",
            "fmod(a * c, b) - a",
            "a * b + c",
            "a*b - c*b",
            "c - a*b",
            "abs(a) + abs(b)",
        ]
        .map(String::from),
    );
    // Powers of one base share their squares; divisions and square roots
    // with more or less other work take different shares of Newton vectors.
    sources.extend(
        [
            "a**3 + a**5 * a**9",
            "a**16 - a**2 * a**4",
            "sqrt(a) / b",
            "exp(a) / sqrt(b) + log(c)",
        ]
        .map(String::from),
    );
    for op in ["<", "<=", ">", ">=", "==", "!="] {
        sources.push(format!("where(a {op} b, a*b, c - b)"));
    }
    sources.extend(
        [
            "arctan2(a, b)",
            "arctan2(b, -a)",
            "arctan2(a, b) + tanh(a*b)",
        ]
        .map(String::from),
    );
    sources.push("2*a**3 - 4*a**5 + 6*log(a)".into());
    sources.push("exp(-a*a) * sqrt(b)".into());
    sources.extend(SELECTING_SOURCES.map(String::from));
    for source in &sources {
        for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 40, 47] {
            for (h, &value) in hard.iter().enumerate() {
                let column = |j: usize| -> Vec<f64> {
                    (0..n)
                        .map(|i| {
                            if i == (h + j) % n.max(1) {
                                value
                            } else {
                                0.25 + ((i * 7 + j * 3) % 13) as f64 * 0.3
                            }
                        })
                        .collect()
                };
                let columns = [column(0), column(1), column(2)];
                if let Err(message) = check(source, &columns) {
                    panic!("{message}");
                }
            }
        }
    }
}

/// The sources of the operations that pick, round or move sign bits
/// (`maximum`, `minimum`, `copysign`, `sign`, the roundings), alone and
/// with others around them.
const SELECTING_SOURCES: [&str; 16] = [
    "maximum(a, b)",
    "minimum(b, a)",
    "copysign(a, b)",
    "sign(a)",
    "trunc(a)",
    "floor(a)",
    "ceil(a)",
    "round(a)",
    "maximum(a, minimum(b, c))",
    "sign(a - b) * floor(c)",
    "copysign(a*b, c) + round(a)",
    "where(a < b, trunc(a), ceil(b)) + maximum(a*b, c)",
    "where(isnan(a), b, a) * c",
    "where(signbit(a) | isinf(b), c, a + b)",
    "ones_like(a)",
    "where(a < b, ones_like(c), a) - ones_like(b) * a",
];

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn selecting_and_rounding_programs_compile_to_machine_code() {
    for level in levels() {
        for source in SELECTING_SOURCES {
            assert!(
                compiles(level, source, &["a", "b", "c"]),
                "{source} at {level}"
            );
        }
    }
    // And numexpr computes these functions of float32 in float64: the
    // widened inputs make those programs machine code too.
    for level in levels() {
        for source in ["maximum(a, b)", "sign(a)", "round(a)", "copysign(a, b)"] {
            assert!(
                compiles_f32_any(level, source),
                "float32 {source} at {level}"
            );
        }
    }
}

/// Programs of five to eight inputs, each reading all of the first `k` of
/// [`NAMES`]: the inputs past the fourth take callee-saved registers that the
/// loop saves and restores. Sums of products (the fused forms), the
/// functions that leave the loop early, a select, inputs read twice and in
/// another order than their registers'.
fn many_input_sources() -> Vec<(usize, &'static str)> {
    vec![
        (5, "a*b + c*d - e"),
        (5, "exp(a) * b + log(c) - d / e"),
        (5, "(e - a) * (d + b) / c"),
        (6, "a*b + c*d - e*f"),
        (6, "exp(a) * b + log(c) - d / e + sqrt(f)"),
        (6, "where(a > b, c*d, e - f)"),
        (7, "a*b + c*d - e*f + g"),
        (7, "where(a > b, c*d, e - f) + sin(g)"),
        (7, "g + f + e + d + c + b + a"),
        (8, "a*b + c*d - e*f + g*h"),
        (8, "exp(a) * b + log(c) - d / e + sqrt(f) * tanh(g) - h**3"),
        (8, "(a + h) * (b - g) + c*f - d*e + h*a"),
        (8, "sin(h) * g + tanh(f) * e - abs(d) + c / (b + a)"),
        // At AVX2 arctan2's 8 scratch registers fit only because the inputs
        // read later are not loaded yet.
        (8, "arctan2(h, g) + cos(f) * e - abs(d) + c / (b + a)"),
    ]
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn programs_of_up_to_eight_inputs_compile_to_machine_code() {
    for (k, source) in many_input_sources() {
        for level in levels() {
            assert!(compiles(level, source, &NAMES[..k]), "{source} at {level}");
        }
        // Also at the levels this machine does not run: the plan and the
        // lowering cover the program (the code is assembled, not run).
        #[cfg(target_arch = "x86_64")]
        {
            let expr = Expr::compile(source, &signature(&NAMES[..k])).unwrap();
            let program = expr.program();
            assert!(
                super::build::<super::x86::Avx512>(program).is_some(),
                "{source}"
            );
            assert!(
                super::build::<super::x86::Avx2>(program).is_some(),
                "{source}"
            );
        }
    }
    // At AVX2 the 16 ymm registers hold the values and each kernel's
    // scratch: here, at arctan2, the other seven inputs are loaded and read
    // later, and of its 8 scratch registers only 6 are to be had (5 above
    // the 11 values, and the output's), until some inputs are read from
    // their arrays where used (`Plan::spilled`).
    #[cfg(target_arch = "x86_64")]
    {
        let late = "arctan2(a*b + c*d - e*f + g*h, a) * b * c * d * e * f * g * h";
        let expr = Expr::compile(late, &signature(&NAMES)).unwrap();
        let plan = avx2_plan(expr.program()).unwrap();
        assert!(plan.slots.contains(&super::Slot::Input));
        assert!(super::build::<super::x86::Avx512>(expr.program()).is_some());
    }
    // Seventeen inputs are more than the loop takes: passes.
    let seventeen = "a*b + c*d - e*f + g*h + i*j - k*l + m*n - o*p + q";
    let vars = [MANY_NAMES.as_slice(), &["q"]].concat();
    for level in levels() {
        assert!(!compiles(level, seventeen, &vars), "{seventeen} at {level}");
    }
}

/// Programs of 9 to 16 inputs: at AVX2 the pointers past the 8 general
/// registers are read from the pointer array where their inputs are loaded.
const MANY_INPUT_SOURCES: [(usize, &str); 6] = [
    (9, "a*b + c*d - e*f + g*h + i"),
    (10, "(a + j) * (b - i) + c*h - d*g + e*f"),
    (12, "a*b + c*d - e*f + g*h + i*j - k*l"),
    (13, "where(m > a, b*c, d - e) + f*g - h*i + j / k - l"),
    (16, "a*b + c*d - e*f + g*h + i*j - k*l + m*n - o*p"),
    (
        16,
        "exp(a) * b + log(c) - d / e + sqrt(f) * tanh(g) - h**3 \
         + where(i > j, k, l) * arctan2(m, n) + o - p",
    ),
];

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn programs_of_up_to_sixteen_inputs_give_the_bits_of_the_passes() {
    for (k, source) in MANY_INPUT_SOURCES {
        let expr = Expr::compile(source, &signature(&MANY_NAMES[..k])).unwrap();
        #[cfg(target_arch = "x86_64")]
        {
            assert!(avx2_plan(expr.program()).is_some(), "{source}");
            assert!(super::build::<super::x86::Avx512>(expr.program()).is_none());
        }
        if levels().contains(&CpuLevel::Avx2) {
            assert!(has_machine_code(&expr, CpuLevel::Avx2), "{source}");
        }
    }
    let hard = [SPECIALS.as_slice(), &[709.8, -745.2, 1e300]].concat();
    for n in (0..=20).chain([31, 32, 33, 63, 64, 65, 127, 128, 129, 300]) {
        let columns: Vec<Vec<f64>> = (0..MANY_NAMES.len())
            .map(|j| {
                (0..n)
                    .map(|i| match (i * 3 + j * 5 + n) % 11 {
                        0 => hard[(i + j) % hard.len()],
                        _ => 0.25 + ((i * 7 + j * 3) % 13) as f64 * 0.3,
                    })
                    .collect()
            })
            .collect();
        for (k, source) in MANY_INPUT_SOURCES {
            for dtype in [crate::DType::Float64, crate::DType::Float32] {
                if let Err(message) = check_typed(source, &columns[..k], dtype) {
                    panic!("{message}");
                }
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn programs_of_up_to_eight_inputs_give_the_bits_of_the_passes() {
    // Each hard value among ordinary ones, at a different position in each
    // input; lengths around the vectors (4 or 8 elements), their groups (up
    // to 4 vectors) and the blocks of `check` (64 elements), with every
    // tail of 1-7 elements.
    let hard = [
        0.0,
        -0.0,
        -1.0,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-310,
        709.8,
        -745.2,
        1e300,
        1048576.0000000002,
    ];
    let lengths = (0..=40).chain([63, 64, 65, 127, 128, 129, 1000, 1027]);
    for n in lengths {
        for (h, &value) in hard.iter().enumerate() {
            let columns: Vec<Vec<f64>> = (0..NAMES.len())
                .map(|j| {
                    (0..n)
                        .map(|i| {
                            if i == (h + 5 * j) % n.max(1) {
                                value
                            } else {
                                0.25 + ((i * 7 + j * 3) % 13) as f64 * 0.3
                            }
                        })
                        .collect()
                })
                .collect();
            for (k, source) in many_input_sources() {
                if let Err(message) = check(source, &columns[..k]) {
                    panic!("{message}");
                }
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn streaming_runs_give_the_bits_of_the_passes_at_any_output_alignment() {
    // 3.5M elements of two inputs and the output move 84 MB: far larger than
    // the caches, so the machine code stores past them (non-temporally), which
    // needs 64-byte alignment; the output starts at every 8-byte offset of a
    // cache line. A few hard values send vectors to the passes midway.
    let n = 3_500_000;
    let a: Vec<f64> = (0..n)
        .map(|i| match i % 1_000_003 {
            17 => 0.0,
            500_000 => f64::NAN,
            _ => 0.1 + (i % 1009) as f64 / 700.0,
        })
        .collect();
    let b: Vec<f64> = (0..n).map(|i| 0.2 + (i % 997) as f64 / 500.0).collect();
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let threads = 1;
    let sources = ["2*a**3 - 4*a**5 + 6*log(a)", "exp(-a*a) * sqrt(b)"];
    for (level, source) in levels().into_iter().flat_map(|l| sources.map(|s| (l, s))) {
        let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
        let options = |jit| {
            Options {
                threads,
                jit,
                ..Options::default()
            }
            .with_cpu(level)
        };
        let want = expr.eval_with(&env, options(false)).unwrap();
        let want = want.as_slice::<f64>().unwrap();
        let mut buffer = vec![0.0f64; n + 8];
        for shift in 0..8 {
            let out = &mut buffer[shift..shift + n];
            expr.eval_into_with(&env, out, options(true)).unwrap();
            let bad = (0..n).find(|&i| !same(out[i], want[i]));
            assert_eq!(
                bad, None,
                "{source} at {level}, output shifted by {shift} elements"
            );
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn gathered_broadcast_scalar_and_in_place_inputs_match_the_passes() {
    check_gathered(
        [
            "exp(-a*a) * sqrt(b) + log(a)",
            "2*a**3 - 4*a**5 + 6*log(b)",
            "sin(a) * b + cos(a)",
        ],
        "exp(-a*a) * sqrt(b) + a",
        |x| x,
    );
}

/// Machine code reads dense inputs in place and everything else from the
/// block the VM gathered; a program's second run uses it. Against the
/// passes at every level, with elements of type `T` (made by `from`):
/// `sources[0]` of a strided column `a` and a reversed strided view `b`,
/// `sources[1]` of a column `a` and a row `b` (broadcast), `sources[2]` of a
/// strided column `a` and a scalar `b`; and `in_place` with the output also
/// its input `a`. Each program must run as machine code.
fn check_gathered<T>(sources: [&str; 3], in_place: &str, from: fn(f64) -> T)
where
    T: crate::Element + for<'a> Into<crate::Value<'a>>,
{
    use crate::ArrayView;
    let rows = 300;
    let m: Vec<T> = (0..rows * 4)
        .map(|i| from(0.05 + (i % 37) as f64 / 9.0))
        .collect();
    let column = ArrayView::strided(&m[..], &[rows], &[4], 1).unwrap();
    let reversed = ArrayView::strided(&m[..], &[rows], &[-3], (rows - 1) * 3 + 2).unwrap();
    let row: Vec<T> = (0..7).map(|i| from(0.5 + i as f64)).collect();
    let col: Vec<T> = (0..rows).map(|i| from(1.0 + (i % 5) as f64)).collect();
    let col = crate::Array::from_vec(col, &[rows, 1]).unwrap();
    let envs = [
        Env::new().with("a", column.clone()).with("b", reversed),
        Env::new().with("a", &col).with("b", &row[..]),
        Env::new().with("a", column).with("b", from(0.75)),
    ];
    let options = |jit, level| {
        Options {
            threads: 1,
            block_len: 64,
            jit,
            ..Options::default()
        }
        .with_cpu(level)
    };
    for level in levels() {
        for (source, env) in sources.iter().zip(&envs) {
            let expr = Expr::compile(source, &Signature::of(env)).unwrap();
            assert!(has_machine_code(&expr, level), "{source} at {level}");
            let want = expr.eval_with(env, options(false, level)).unwrap();
            for _ in 0..2 {
                let got = expr.eval_with(env, options(true, level)).unwrap();
                assert_eq!(got.shape(), want.shape(), "{source}");
                assert!(lanes(&got) == lanes(&want), "{source} at {level}");
            }
        }
    }
    let sig = Signature::new().with("a", T::DTYPE).with("b", T::DTYPE);
    let expr = Expr::compile(in_place, &sig).unwrap();
    let a: Vec<T> = (0..1000).map(|i| from((i % 17) as f64 / 7.0)).collect();
    let b: Vec<T> = (0..1000).map(|i| from(0.1 + (i % 13) as f64)).collect();
    let env_b = Env::new().with("b", &b[..]);
    let run = |jit, level| {
        let mut out = a.clone();
        expr.eval_in_place_with(&env_b, "a", &[1000], &mut out, options(jit, level))
            .unwrap();
        lanes(&crate::Array::from_vec(out, &[1000]).unwrap())
    };
    for level in levels() {
        let want = run(false, level);
        for _ in 0..2 {
            assert!(run(true, level) == want, "{in_place} at {level}");
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn short_runs_call_the_machine_code_directly_and_give_the_bits_of_the_passes() {
    use crate::vm::SMALL_RUNS;
    // `exp(709.5)` needs the full function: the code stops at its vector
    // and the run goes on through the general path.
    let sources = ["2*a + 3*b", "exp(a) * b", "where(a > b, a*b, a - b)"];
    for level in levels() {
        for source in sources {
            let expr = Expr::compile(source, &signature(&["a", "b"])).unwrap();
            // A program's first run decides whether to make code: not short.
            let x = [0.5, 1.5, 2.5];
            let first = Env::new().with("a", &x[..]).with("b", &x[..]);
            let before = SMALL_RUNS.get();
            expr.eval_with(&first, small_blocks(true, 1, level))
                .unwrap();
            assert_eq!(SMALL_RUNS.get(), before, "{source}");
            for n in [1, 3, 4, 5, 17, 1000, 4096, 4097] {
                for overflow in [false, true] {
                    let a: Vec<f64> = (0..n)
                        .map(|i| match overflow && i == n - 1 {
                            true => 709.5,
                            false => 0.25 + (i % 7) as f64 / 3.0,
                        })
                        .collect();
                    let b: Vec<f64> = (0..n).map(|i| 1.5 - (i % 5) as f64 / 4.0).collect();
                    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
                    let scalar_b = Env::new().with("a", &a[..]).with("b", 0.75);
                    for (env, dense) in [(&env, true), (&scalar_b, false)] {
                        for threads in [1, 2] {
                            let options = |jit| small_blocks(jit, threads, level);
                            let want = expr.eval_with(env, options(false)).unwrap();
                            let before = SMALL_RUNS.get();
                            let got = expr.eval_with(env, options(true)).unwrap();
                            let taken = SMALL_RUNS.get() - before;
                            let bails = overflow && source.starts_with("exp");
                            // One element is a size-1 broadcast, bound as a scalar.
                            let expected = dense && (2..=4096).contains(&n) && !bails;
                            let case = format!(
                                "{source}, n = {n}, dense {dense}, overflow {overflow}, {threads} threads at {level}"
                            );
                            // On two threads a run of several µs is left to
                            // the general path, which may split it.
                            if threads == 1 || n <= 1000 {
                                assert_eq!(taken, usize::from(expected), "{case}");
                            }
                            assert!(lanes(&got) == lanes(&want), "{case}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn eight_input_programs_of_gathered_scalar_and_in_place_inputs_match_the_passes() {
    // Dense inputs read in place among gathered, broadcast and scalar ones.
    use crate::ArrayView;
    let rows = 300;
    let m: Vec<f64> = (0..rows * 4)
        .map(|i| 0.05 + (i % 37) as f64 / 9.0)
        .collect();
    let column = ArrayView::strided(&m[..], &[rows], &[4], 1).unwrap();
    let reversed = ArrayView::strided(&m[..], &[rows], &[-3], (rows - 1) * 3 + 2).unwrap();
    let row: Vec<f64> = (0..7).map(|i| 0.5 + i as f64).collect();
    let col: Vec<f64> = (0..rows).map(|i| 1.0 + (i % 5) as f64).collect();
    let col = crate::Array::from_vec(col, &[rows, 1]).unwrap();
    let scalar = 0.75;
    let dense: Vec<f64> = (0..rows).map(|i| 0.3 + (i % 11) as f64 / 4.0).collect();
    let grid: Vec<f64> = (0..rows * 7).map(|i| 0.2 + (i % 19) as f64 / 5.0).collect();
    let grid = crate::Array::from_vec(grid, &[rows, 7]).unwrap();
    let cases: Vec<(&str, Env<'_>)> = vec![
        (
            "a*b + c*d - e*f + g*h",
            Env::new()
                .with("a", column.clone())
                .with("b", &dense[..])
                .with("c", reversed.clone())
                .with("d", scalar)
                .with("e", column.clone())
                .with("f", &dense[..])
                .with("g", reversed.clone())
                .with("h", 2.5),
        ),
        (
            "exp(a) * b + log(c) - d / e + sqrt(f) * tanh(g) - h**3",
            Env::new()
                .with("a", &col)
                .with("b", &row[..])
                .with("c", scalar)
                .with("d", &grid)
                .with("e", &col)
                .with("f", &grid)
                .with("g", &row[..])
                .with("h", &grid),
        ),
    ];
    let options = |jit, level| {
        Options {
            threads: 1,
            block_len: 64,
            jit,
            ..Options::default()
        }
        .with_cpu(level)
    };
    for level in levels() {
        for (source, env) in &cases {
            let expr = Expr::compile(source, &Signature::of(env)).unwrap();
            let want = expr.eval_with(env, options(false, level)).unwrap();
            for _ in 0..2 {
                let got = expr.eval_with(env, options(true, level)).unwrap();
                assert_eq!(got.shape(), want.shape(), "{source}");
                assert!(lanes(&got) == lanes(&want), "{source} at {level}");
            }
        }
    }
    // In place: the output is also the input `a` of eight.
    let source = "a*b + c*d - e*f + g*h + a";
    let a: Vec<f64> = (0..1000).map(|i| (i % 17) as f64 / 7.0).collect();
    let b: Vec<f64> = (0..1000).map(|i| 0.1 + (i % 13) as f64).collect();
    let expr = Expr::compile(source, &signature(&NAMES)).unwrap();
    let env_b = (NAMES[1..].iter()).fold(Env::new(), |env, name| env.with(name, &b[..]));
    for level in levels() {
        let mut want = a.clone();
        expr.eval_in_place_with(&env_b, "a", &[1000], &mut want, options(false, level))
            .unwrap();
        for _ in 0..2 {
            let mut got = a.clone();
            expr.eval_in_place_with(&env_b, "a", &[1000], &mut got, options(true, level))
                .unwrap();
            assert!(
                got.iter().zip(&want).all(|(&x, &y)| same(x, y)),
                "{source} at {level}"
            );
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri runs no machine code")]
fn code_made_on_the_generators_thread_is_taken_up_by_later_runs() {
    // At the process's level (the test's runs set no cap).
    if !levels().contains(&Level::current().public()) {
        return;
    }
    MAKE_INLINE.set(false);
    let n = 1 << 18;
    let a: Vec<f64> = (0..n).map(|i| 0.1 + (i % 1000) as f64 / 1000.0).collect();
    let env = Env::new().with("a", &a[..]);
    for (k, source) in ["2*a**3 - 4*a**5 + 6*log(a)", "exp(-a*a) * sqrt(a)"]
        .iter()
        .enumerate()
    {
        // A different constant each time the test runs its cases: a program
        // no other test has made code for.
        let source = format!("{source} + {k}.25");
        let expr = Expr::compile(&source, &Signature::of(&env)).unwrap();
        let one = Options::default().with_threads(1);
        let want = expr.eval_with(&env, one.with_jit(false)).unwrap();
        // The first run of 2^18 elements of a transcendental is large enough
        // to want code: it starts making it and goes on with its passes,
        // piece by piece; the runs after take the code up.
        assert!(expr.program().machine_code_pending());
        let mut made = false;
        for _ in 0..2000 {
            let got = expr.eval_with(&env, one).unwrap();
            assert!(
                want.as_slice::<f64>()
                    .unwrap()
                    .iter()
                    .zip(got.as_slice::<f64>().unwrap())
                    .all(|(w, g)| same(*w, *g)),
                "{source}"
            );
            if !expr.program().machine_code_pending() {
                made = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(made, "{source}: the code was never made");
        assert!(expr.program().machine_code().is_some(), "{source}");
    }
    MAKE_INLINE.set(true);
}

/// Operand pairs whose quotients the Newton division must get right or
/// hand to the divider: near rounding ties, at and around the bounds its
/// test relies on (f32's range for the reciprocal estimate, the exponent
/// sums where the residual could be inexact, subnormal quotients), and
/// zeros, infinities, NaNs (with payloads), negatives, huge and tiny
/// quotients.
fn hard_divisions() -> (Vec<f64>, Vec<f64>) {
    let pow2 = |k: i32| 2f64.powi(k);
    let mut special = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        3.0,
        0.1,
        -7.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_dead_beef),
        f64::from_bits(0xfff8_0000_0000_1234),
        f64::MAX,
        -f64::MAX,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE * (1.0 + f64::EPSILON),
        f64::MIN_POSITIVE * (1.0 - f64::EPSILON),
        5e-324,
        -5e-324,
        1e-310,
        f64::from(f32::MAX),
        f64::from(f32::MAX) * (1.0 + f64::EPSILON),
        f64::from(f32::MAX) * (1.0 + 2f64.powi(-25)),
        f64::from(f32::MIN_POSITIVE),
        f64::from(f32::MIN_POSITIVE) * (1.0 - f64::EPSILON),
        1e-45,
        1e-40,
    ];
    for k in [
        -1074, -1073, -1060, -1023, -1022, -1000, -970, -969, -900, -850, -500, -481, -480, -150,
        -149, -127, -126, -125, -120, -60, -53, -52, -1, 52, 53, 54, 60, 120, 125, 126, 127, 128,
        129, 480, 481, 900, 970, 1000, 1022, 1023,
    ] {
        let p = pow2(k);
        special.extend([p, -p, p * 1.5, p * (1.0 - f64::EPSILON / 2.0), p * 1.3]);
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ordinary = |i: usize| (0.75 + (i % 11) as f64 * 0.37, 0.3 + (i % 7) as f64 * 0.61);
    // Each pair alone among ordinary lanes (so that its vector goes the
    // Newton way unless that pair fails the test), at each lane in turn.
    for (i, &x) in special.iter().enumerate() {
        for (j, &y) in special.iter().enumerate() {
            for k in 0..4 {
                let (oa, ob) = ordinary(a.len());
                a.push(if k == (i + j) % 4 { x } else { oa });
                b.push(if k == (i + j) % 4 { y } else { ob });
            }
        }
    }
    // Random operands of every scale, and quotients next to a rounding tie:
    // a = RN(b (q + ulp(q)/2)), from a xorshift generator.
    let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15u64);
    for _ in 0..40_000 {
        let (x, y) = (next(), next());
        // Exponents mostly within 2^-600..2^600, sometimes anything.
        let scale = |bits: u64, r: u64| {
            if r.is_multiple_of(8) {
                f64::from_bits(bits)
            } else {
                let e = (1023 - 600 + (r >> 8) % 1200) << 52;
                f64::from_bits((bits & !(0x7ff << 52)) | e)
            }
        };
        let (r1, r2) = (next(), next());
        a.push(scale(x, r1));
        b.push(scale(y, r2));
        let q = f64::from_bits((next() & !(0xfff << 52)) | ((1023 - 30 + next() % 60) << 52));
        let d = f64::from_bits((next() & !(0xfff << 52)) | ((1023 - 30 + next() % 60) << 52));
        let half_ulp = (f64::from_bits(q.to_bits() + 1) - q) / 2.0;
        let sign = if next().is_multiple_of(2) { 1.0 } else { -1.0 };
        a.push(sign * d.mul_add(q, d * half_ulp));
        b.push(d);
        // Exact quotients (a = d q) and their neighbours.
        a.push(f64::from_bits(
            (d * q).to_bits().wrapping_add(next() % 3) - 1,
        ));
        b.push(d);
    }
    (a, b)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn division_gives_the_bits_of_scalar_division_at_every_level() {
    let (a, b) = hard_divisions();
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let sources = ["a / b", "abs(a - b) / (abs(a) + abs(b)) + a / b * 0.5"];
    // With and without the AVX2 backend's Newton vectors where the divider
    // is fast (each expression compiled afresh, so that its code is made
    // under the setting).
    for (newton, source) in [false, true]
        .into_iter()
        .flat_map(|n| sources.map(|s| (n, s)))
    {
        #[cfg(target_arch = "x86_64")]
        crate::jit::x86::avx2::NEWTON_ANYWAY.store(newton, std::sync::atomic::Ordering::Relaxed);
        #[cfg(not(target_arch = "x86_64"))]
        if newton {
            continue;
        }
        let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
        let want: Vec<f64> = if source == "a / b" {
            a.iter().zip(&b).map(|(x, y)| x / y).collect()
        } else {
            let off = Options::default().with_threads(1).with_jit(false);
            let passes = expr.eval_with(&env, off).unwrap();
            passes.as_slice::<f64>().unwrap().to_vec()
        };
        for level in levels() {
            for jit in [true, false] {
                let options = Options::default()
                    .with_threads(1)
                    .with_jit(jit)
                    .with_cpu(level);
                // The second run has the machine code.
                for _ in 0..2 {
                    let got = expr.eval_with(&env, options).unwrap();
                    let got = got.as_slice::<f64>().unwrap();
                    if let Some(i) = (0..a.len()).find(|&i| !same(got[i], want[i])) {
                        panic!(
                            "{source} at {level} (jit {jit}), element {i}: {:e} / {:e} gave {:e} ({:#x}), want {:e} ({:#x})",
                            a[i],
                            b[i],
                            got[i],
                            got[i].to_bits(),
                            want[i],
                            want[i].to_bits()
                        );
                    }
                }
            }
        }
    }
    #[cfg(target_arch = "x86_64")]
    crate::jit::x86::avx2::NEWTON_ANYWAY.store(false, std::sync::atomic::Ordering::Relaxed);
}

/// Float32 programs of every operation the code generator emits in float32
/// ([`JitOp::in_float32`](crate::functions::JitOp::in_float32)), the fused
/// forms the optimizer makes among them. (A literal is a float64 constant,
/// which makes the program mixed: not covered.)
const FLOAT32_SOURCES: [&str; 52] = [
    "a + b",
    "a - b",
    "a * b",
    "a / b",
    "b / a",
    "-a",
    "abs(a)",
    "sqrt(a)",
    "a*b + c",
    "a*b - c",
    "c - a*b",
    "a*b + c*a",
    "a*b - c*b",
    "(-a)*b + c",
    "abs(a + b)",
    "abs(a - b)",
    "abs(a*b)",
    "abs(a) + abs(b)",
    "abs(a - b) / (abs(a) + abs(b))",
    "a**3 + a**5 * a**9",
    "a**16 - a**2 * c",
    "where(a < b, a*b, c - b)",
    "where(a <= b, a, c)",
    "where(a > b, a, c)",
    "where(a >= b, -a, c)",
    "where(a == b, a, c)",
    "where(a != b, a, c / b)",
    "where(a < b, a, where(a < c, b, where(b < c, c, a*b)))",
    "where((a < b) | (b >= c), a, c)",
    "(a - b) / c - a",
    "a // b",
    "(a * c) // b - a",
    "a % b",
    "(a * c) % b + a",
    "fmod(a, b)",
    "fmod(b - a, c) * a",
    "sqrt(a*a + b*b)",
    "floor(a)",
    "ceil(b) - a",
    "ones_like(a)",
    "ones_like(b) * a - ones_like(c)",
    "exp(a)",
    "exp(-a*a) * b",
    "1 / (1 + exp(-a))",
    "exp(a * 30) - exp(b - c) * 2",
    "sin(a)",
    "cos(a) * b - sin(c)",
    "sin(a)**2 + cos(b)**2",
    "log(a)",
    "2*a**3 - 4*a**5 + 6*log(b)",
    "tanh(a)",
    "tanh(a*b + c) * b",
];

/// `source` of float32 inputs `a`, `b` and `c`, compiled.
fn float32_expr(source: &str) -> Expr {
    let sig = ["a", "b", "c"]
        .iter()
        .fold(Signature::new(), |s, v| s.with(v, crate::DType::Float32));
    Expr::compile(source, &sig).unwrap()
}

/// Whether `source` calls a float32 math function that has machine code at
/// AVX2 only (`jit::avx512_keeps_passes`).
fn float32_math(source: &str) -> bool {
    [
        "exp(", "log(", "tanh(", "sin(", "cos(", "arctan2(", "log2(", "log10(", "log1p(", "expm1(",
        "sinh(", "cosh(", "arctan(",
    ]
    .iter()
    .any(|f| source.contains(f))
}

/// Whether `source`, a float32 result of float32 inputs, compiles to
/// machine code at `level`.
fn compiles_f32(level: CpuLevel, source: &str) -> bool {
    let expr = float32_expr(source);
    assert_eq!(expr.result_dtype(), crate::DType::Float32, "{source}");
    has_machine_code(&expr, level)
}

/// Whether `source` of float32 inputs (whatever its result) compiles to
/// machine code at `level`.
fn compiles_f32_any(level: CpuLevel, source: &str) -> bool {
    has_machine_code(&float32_expr(source), level)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_programs_of_ieee_operations_compile_to_machine_code() {
    use crate::functions::JitOp;
    for level in levels() {
        for source in FLOAT32_SOURCES {
            let expected = !(float32_math(source) && level == CpuLevel::Avx512);
            assert_eq!(compiles_f32(level, source), expected, "{source} at {level}");
        }
        // The float32 math functions are other kernels: passes.
        for source in ["a + arcsin(b)", "arcsinh(a)", "arccos(a)", "tan(a)"] {
            assert!(!compiles_f32(level, source), "{source} at {level}");
        }
        // A float64 literal makes a float64 program, which loads `a` widened.
        assert!(compiles_f32_any(level, "a * 2.5"), "at {level}");
        // Also when `a` is read as float32: the float32 product in the low
        // half of a vector (`Plan::half`).
        assert!(compiles_f32_any(level, "a * 2.5 + a * a"), "at {level}");
    }
    // Every float32 operation is among the sources' instructions.
    let mut seen = Vec::new();
    for source in FLOAT32_SOURCES {
        let expr = float32_expr(source);
        for instr in &expr.program().code {
            if let Some(op) = instr.overload.jit {
                let op = match op {
                    JitOp::Where(_) => JitOp::Where(crate::functions::Compare::Lt),
                    op => op,
                };
                if !seen.contains(&op) {
                    seen.push(op);
                }
            }
        }
    }
    assert_eq!(seen.len(), 34, "{seen:?}");
    assert!(seen.iter().all(|op| op.in_float32()));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_machine_code_gives_the_bits_of_the_passes() {
    // NaNs, infinities, zeros, subnormals, the extremes, and values whose
    // products and sums overflow, underflow or round.
    let hard: [f32; 29] = [
        // Either side of exp's fast path (|x| <= 87) and where it
        // overflows and underflows.
        87.0,
        -87.0,
        87.00001,
        -87.00001,
        88.8,
        -103.5,
        -150.0,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fa0_0001),
        f32::MAX,
        -f32::MAX,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -1.4e-45,
        3.0,
        1e20,
        -1e-20,
        16_777_217.0,
        0.1,
        0.35,
    ];
    // Every length of a tail at both levels (1-15 lanes), and lengths
    // around vectors (8, 16) and groups of them (16, 32), and blocks.
    let lengths = (0..=49).chain([63, 64, 65, 95, 96, 97, 127, 128, 129, 200]);
    for source in FLOAT32_SOURCES {
        for n in lengths.clone() {
            // A hard value at every third element or so, at shifting
            // positions per column and length.
            let column = |j: usize| -> Vec<f64> {
                (0..n)
                    .map(|i| {
                        if (i + 2 * j + n).is_multiple_of(3) {
                            f64::from(hard[(i * 5 + j * 7 + n) % hard.len()])
                        } else {
                            f64::from(0.25 + ((i * 7 + j * 3) % 13) as f32 * 0.3)
                        }
                    })
                    .collect()
            };
            let columns = [column(0), column(1), column(2)];
            if let Err(message) = check_typed(source, &columns, crate::DType::Float32) {
                panic!("float32: {message}");
            }
        }
    }
}

/// `sources` (of float32 `a`, `b` and `c`; float64 programs among them
/// compute the function in halves) at every level against the
/// passes, bit for bit: `a` is `ordinary` (arguments a math function's fast
/// path takes, so that whole vectors stay in the loop), then the same with
/// one of `past` (arguments it does not take) every 37 elements, whose
/// vectors leave the loop for the passes. Whole vectors and a tail.
fn check_float32_math(sources: &[&str], ordinary: Vec<f64>, past: &[f64]) {
    let n = ordinary.len();
    let b: Vec<f64> = (0..n).map(|i| 0.5 + (i % 11) as f64 * 0.25).collect();
    let c: Vec<f64> = (0..n).map(|i| (i % 5) as f64 - 2.0).collect();
    let mixed: Vec<f64> = (ordinary.iter().enumerate())
        .map(|(i, &x)| {
            if i % 37 == 5 {
                past[i / 37 % past.len()]
            } else {
                x
            }
        })
        .collect();
    for source in sources {
        // Machine code at AVX2 (`jit::avx512_keeps_passes`).
        for level in levels() {
            let expected = level != CpuLevel::Avx512;
            assert_eq!(
                compiles_f32_any(level, source),
                expected,
                "{source} at {level}"
            );
        }
        for a in [&ordinary, &mixed] {
            for len in [n, n - 7] {
                let columns = [a[..len].to_vec(), b[..len].to_vec(), c[..len].to_vec()];
                if let Err(message) = check_typed(source, &columns, crate::DType::Float32) {
                    panic!("float32: {message}");
                }
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_exp_gives_the_bits_of_the_passes_on_its_fast_path_and_off_it() {
    // Arguments across the whole fast path (|x| <= 87), so that the
    // reduction meets every k and the scaling every exponent, and the ones
    // that round to 1 (zeros, subnormals, tiny values).
    let sweep = (0..4001).map(|i| -87.0 + 174.0 * f64::from(i) / 4000.0);
    let special = [
        0.0, -0.0, 1e-40, -1.4e-45, 3e-8, -3e-8, 87.0, -87.0, 0.3465, -0.3466,
    ];
    // Overflow, underflow, NaN, inf.
    let past = [
        87.5,
        -87.5,
        88.8,
        -103.5,
        -150.0,
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
    ];
    check_float32_math(
        &[
            "exp(a)",
            "exp(a) * b - c",
            "1 / (1 + exp(-a))",
            "exp(a - b) + exp(c)",
            // Float64 programs: the float32 exp in halves.
            "a*2.5 + b*1.5 + exp(a)",
            "0.5*a + 1.5*b + 2.5*a*b + 12.5*exp(-c*a)",
        ],
        sweep.chain(special).collect(),
        &past,
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_log_gives_the_bits_of_the_passes_on_its_fast_path_and_off_it() {
    // Positive normal numbers of every exponent, the powers of two, both
    // sides of the reduction's bound sqrt(2)/2 (times powers of two) and of
    // 1, where log is near 0 and the exact sum matters.
    let scales = (0..3000).map(|i| 2f64.powf(-125.9 + 253.8 * f64::from(i) / 2999.0));
    let powers = (-126..128).map(|e| 2f64.powi(e));
    let bound = f64::from(f32::from_bits(0x3f35_04f3));
    let near = [-3e-7, -6e-8, 0.0, 6e-8, 1.2e-7, 1e-3, -1e-3].into_iter();
    let near = near.flat_map(|e| [1.0 + e, bound * (1.0 + e), 4.0 * bound * (1.0 + e)]);
    let special = [
        f64::from(f32::MIN_POSITIVE),
        f64::from(f32::MAX),
        0.5,
        2.0,
        10.0,
    ];
    // Zeros, subnormals, negatives, inf, NaN.
    let past = [
        0.0,
        -0.0,
        1e-40,
        -1.0,
        -1e-30,
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
    ];
    check_float32_math(
        &[
            "log(a)",
            "log(a) * b - c",
            "log(a + b) - log(b)",
            "2*a**3 - 4*a**5 + 6*log(b)",
            // Float64 programs: the float32 log in halves.
            "a*2.5 + b*1.5 + log(a)",
            "0.5*c + 1.5*b + 2.5*c*b + 13.5*log(a * b)",
        ],
        scales.chain(powers).chain(near).chain(special).collect(),
        &past,
    );
}

/// `count` magnitudes from 2^`lo` to 2^`hi`, evenly spaced in the
/// exponent, with alternating signs (the first positive): a sweep of the
/// scales a float32 kernel meets, both signs at each.
fn alternating_powers(lo: f64, hi: f64, count: u32) -> impl Iterator<Item = f64> {
    (0..count).map(move |i| {
        let x = 2f64.powf(lo + (hi - lo) * f64::from(i) / f64::from(count - 1));
        if i % 2 == 0 { x } else { -x }
    })
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_tanh_gives_the_bits_of_the_passes() {
    // tanh takes every input in the loop: a sweep over its curve and past
    // the clamp at 10, both sides of 1e-8 (where 2|x| rounds to itself in
    // expm1), zeros, subnormals, and in the second pass NaN, inf and huge
    // values.
    let sweep = (0..4001).map(|i| -12.0 + 24.0 * f64::from(i) / 4000.0);
    let small = alternating_powers(-40.0, -2.0, 400);
    let special = [
        0.0,
        -0.0,
        1e-40,
        -1.4e-45,
        1e-8,
        -1e-8,
        1.0000001e-8,
        9.999999e-9,
        10.0,
    ];
    let past = [
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
        3.4e38,
        -3.4e38,
        1e20,
    ];
    check_float32_math(
        &[
            "tanh(a)",
            "tanh(a*b + c) * b",
            "tanh(a) - tanh(b*c)",
            // A float64 program: the float32 tanh in halves.
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*tanh(a)",
        ],
        sweep.chain(small).chain(special).collect(),
        &past,
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_sin_and_cos_give_the_bits_of_the_passes_on_their_fast_path_and_off_it() {
    // Arguments across the fast path (|x| <= 2^17) at every scale, near
    // multiples of pi/2 (where the reduction cancels), at both sides of
    // the tiny bound 2^-12 where sin x is x, zeros and subnormals.
    let scales = alternating_powers(-30.0, 17.0, 3000);
    let near_pio2 = (1..800).flat_map(|k| {
        let q = f64::from(k) * std::f64::consts::FRAC_PI_2;
        [q, -q, q * (1.0 + 1e-7), q * (1.0 - 1e-7)]
    });
    let tiny = 1.0 / 4096.0;
    let special = [
        0.0,
        -0.0,
        1e-40,
        -1.4e-45,
        tiny,
        -tiny,
        tiny * 1.0001,
        131072.0,
        -131072.0,
    ];
    // Past 2^17, NaN, inf.
    let past = [
        131072.02,
        -140000.0,
        1e10,
        -3.4e38,
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
    ];
    check_float32_math(
        &[
            "sin(a)",
            "cos(a)",
            "sin(a) * b - cos(c)",
            "sin(a)**2 + cos(a * b)**2",
            // Float64 programs: the float32 sin and cos in halves.
            "0.5*a + 1.5*b + 2.5*c + 3.5*a*b + 10.5*sin(a) + 11.5*cos(b)",
            "c*2.5 + b*1.5 + cos(a)",
        ],
        scales.chain(near_pio2).chain(special).collect(),
        &past,
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_atan2_gives_the_bits_of_the_passes_on_its_fast_path_and_off_it() {
    // `b` is 0.5 + (i % 11) / 4 (`check_float32_math`); `a` is `b` times
    // ratios across the fast path (magnitudes in [2^-60, 2^60]), so that
    // both orders of |a| and |b| meet every reduction (u of 0, 1/2, 1 by
    // the ratio's bounds 7/16 and 11/16), then ratios either side of those
    // bounds and of 1, where the selects turn.
    let b = |i: usize| 0.5 + (i % 11) as f64 * 0.25;
    let mut a: Vec<f64> = alternating_powers(-55.0, 55.0, 6000)
        .enumerate()
        .map(|(i, ratio)| ratio * b(i))
        .collect();
    for bound in [0.4375, 0.6875, 1.0, 1.0 / 0.6875, 1.0 / 0.4375] {
        for step in -4..=4 {
            for sign in [1.0, -1.0] {
                let ratio = sign * bound * (1.0 + f64::from(step) * 6e-8);
                a.push(ratio * b(a.len()));
            }
        }
    }
    // The ends of the fast path.
    a.extend([
        2f64.powi(-60),
        -(2f64.powi(-60)),
        2f64.powi(60),
        -(2f64.powi(60)),
    ]);
    // Zeros, subnormals, past either end, inf, NaN.
    let past = [
        0.0,
        -0.0,
        1e-40,
        -1e-20,
        2e18,
        -3.4e38,
        f64::INFINITY,
        -f64::INFINITY,
        f64::NAN,
    ];
    check_float32_math(
        &[
            "arctan2(a, b)",
            // `a` as x: negative x takes pi - a.
            "arctan2(b, a)",
            "arctan2(a, b) + tanh(a*b)",
            "arctan2(-b, a) * b",
            // Float64 programs: the float32 arctan2 in halves.
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*arctan2(a, b)",
            "arctan2(b, a)*2.5 - a*b*1.5 + b*0.5",
        ],
        a.clone(),
        &past,
    );
    // `arctan(x)`, atan2(x, 1) for every x: the same ratios as `a` (|x| on
    // both sides of 7/16, 11/16 and 1), and no value leaves the loop (inf
    // gives pi/2 through u = 1/inf, NaN stays NaN).
    let ratios: Vec<f64> = (a.iter().enumerate()).map(|(i, &x)| x / b(i)).collect();
    check_float32_math(
        &[
            "arctan(a)",
            "arctan(a) * b - c",
            "arctan(a * b) + arctan2(b, c)",
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*arctan(a)",
        ],
        ratios,
        &past,
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_log2_and_log10_give_the_bits_of_the_passes_on_their_fast_path_and_off_it() {
    // Every exponent of the normal numbers, both sides of the reduction's
    // bound sqrt(2)/2 times powers of two, the powers of two and ten
    // (exact results), and values next to 1, where the results are tiny.
    let sweep = (0..4000).map(|i| 2f64.powf(-125.9 + 253.8 * f64::from(i) / 3999.0));
    let bounds = (-126..127).flat_map(|e| {
        let m = std::f64::consts::FRAC_1_SQRT_2 * 2f64.powi(e);
        [m, m * (1.0 + 1e-7), m * (1.0 - 1e-7), 2f64.powi(e)]
    });
    let near_one = (1..200).flat_map(|i| {
        let d = f64::from(i) * 6e-8;
        [1.0 + d, 1.0 - d]
    });
    let special = [
        1.0,
        10.0,
        100.0,
        1e10,
        1e-10,
        f64::from(f32::MAX),
        1.1754944e-38,
    ];
    // Zeros, subnormals, negatives, inf, NaN.
    let past = [
        0.0,
        -0.0,
        1e-40,
        -1.0,
        -1e-30,
        f64::INFINITY,
        -f64::INFINITY,
        f64::NAN,
    ];
    check_float32_math(
        &[
            "log2(a)",
            "log10(a)",
            "log10(a) * b - log2(b)",
            "log2(a * b) + c",
            // Float64 programs: in halves.
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*log10(a)",
            "log2(a)*2.5 - a*b*1.5 + b*0.5 + c",
        ],
        sweep.chain(bounds).chain(near_one).chain(special).collect(),
        &past,
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_log1p_gives_the_bits_of_the_passes_on_its_fast_path_and_off_it() {
    // (-1, inf): next to -1, where 1 + x is tiny and the correction large
    // against it; across the scales of both signs, where the tiny bound
    // 6e-8 passes x through; huge x, where k reaches 127 and 2^-k is capped.
    let near_minus_one = (1..600).map(|i| -1.0 + f64::from(i) * 2f64.powi(-24) * 37.0);
    let scales = (0..4000).map(|i| {
        let x = 2f64.powf(-40.0 + 167.0 * f64::from(i) / 3999.0);
        if i % 3 == 0 && x < 1.0 { -x } else { x }
    });
    let special = [
        0.0,
        -0.0,
        1e-40,
        -1.4e-45,
        6e-8,
        -6e-8,
        5.9e-8,
        6.1e-8,
        -0.99999994,
        f64::from(f32::MAX),
        1.7e38,
        0.41421357,
        -0.29289323,
    ];
    let past = [-1.0, -1.5, -3e38, f64::INFINITY, -f64::INFINITY, f64::NAN];
    check_float32_math(
        &[
            "log1p(a)",
            "log1p(a) * b - c",
            "log1p(a * b) + log1p(c)",
            // Float64 programs: in halves.
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*log1p(a)",
        ],
        near_minus_one.chain(scales).chain(special).collect(),
        &past,
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_expm1_sinh_and_cosh_give_the_bits_of_the_passes_on_their_fast_path_and_off_it() {
    // The whole fast path (|x| <= 87), below -20 where expm1 is clamped and
    // rounds to -1, both sides of the tiny bound 2e-8, zeros, subnormals.
    let sweep = (0..4001).map(|i| -87.0 + 174.0 * f64::from(i) / 4000.0);
    let small = alternating_powers(-30.0, -1.0, 1000);
    let special = [
        0.0, -0.0, 1e-40, -1.4e-45, 2e-8, -2e-8, 1.9e-8, 2.1e-8, -20.0, -20.000002, -19.999998,
        87.0, -87.0, 0.3465, -0.3466,
    ];
    let past = [
        87.5,
        -87.5,
        88.8,
        -150.0,
        f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
    ];
    check_float32_math(
        &[
            "expm1(a)",
            "expm1(a) * b - c",
            "expm1(a - b) + expm1(c)",
            // Float64 programs: in halves.
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*expm1(a)",
            // sinh and cosh: expm1 and exp of |x|.
            "sinh(a)",
            "cosh(a)",
            "sinh(a) * b - cosh(c)",
            "0.5*a + 1.5*b + 2.5*a*b + 3.5*cosh(a) - sinh(b)",
        ],
        sweep.chain(small).chain(special).collect(),
        &past,
    );
}

#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(miri, ignore = "assembles machine code: slow under Miri")]
fn avx512_float32_code_takes_32_bit_lanes() {
    // Assembled whatever this CPU has (it may have no AVX-512 to run it):
    // every lane-typed instruction of a float32 program is of 32-bit lanes,
    // but for whole-vector moves, which copy bits.
    for source in FLOAT32_SOURCES {
        let expr = float32_expr(source);
        let code = super::x86::avx512_instructions(expr.program()).expect(source);
        for i in code {
            let name = format!("{:?}", i.mnemonic()).to_lowercase();
            let bit_copy = ["vmovupd", "vmovapd", "vmovntpd"].contains(&name.as_str())
                && i.op_mask() == iced_x86::Register::None;
            let wide = name.ends_with("pd") || name.ends_with('q') || name.ends_with("sd");
            assert!(bit_copy || !wide, "{source}: {:?}", i.code());
            if i.is_broadcast() || name.starts_with("vbroadcast") {
                assert_eq!(
                    i.memory_size().element_size(),
                    4,
                    "{source}: {:?}",
                    i.code()
                );
            }
        }
    }
}

#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(miri, ignore = "assembles machine code: slow under Miri")]
fn avx512_lowering_takes_float32_selecting_boolean_and_halves_programs() {
    // An AVX-512 CPU runs these with its own lowering, not the AVX2 one: the
    // tests above then compare that lowering's results with the passes
    // wherever the machine has AVX-512. Assembling needs no AVX-512. (The
    // float32 sources with `exp`, `log`, `tanh`, `sin` or `cos` it lowers
    // but is not given: `jit::avx512_keeps_passes`.)
    use super::{build, x86::Avx512};
    let lowers = |expr: &Expr| build::<Avx512>(expr.program()).is_some();
    for source in FLOAT32_SOURCES {
        assert!(lowers(&float32_expr(source)), "float32 {source}");
    }
    // Not float32 `arctan2`, `log2`, `log10`, `log1p` and `expm1`, which
    // it does not emit in 32-bit lanes.
    for source in [
        "arctan2(a, b) * c",
        "log2(a)",
        "log10(a) + b",
        "log1p(a)",
        "expm1(a) * b",
        "sinh(a) + cosh(b)",
        "arctan(a) * b",
    ] {
        assert!(!lowers(&float32_expr(source)), "float32 {source}");
    }
    let sig = signature(&["a", "b", "c"]);
    let float64 = |source: &str| Expr::compile(source, &sig).unwrap();
    for source in SELECTING_SOURCES {
        assert!(lowers(&float64(source)), "{source}");
    }
    // Float64 `**` too, assembled but not run (`jit::avx512_keeps_passes`).
    for source in [
        "where((a < 1) | (b < 1), a, b)",
        "where(~(a > b) & isfinite(c), a // b, a % c)",
        "a**b + c",
    ] {
        assert!(lowers(&float64(source)), "{source}");
    }
    // Boolean results, stored a byte an element.
    for source in ["a < b", "isnan(a) | (b >= c)", "~((a > b) ^ signbit(c))"] {
        assert!(lowers(&float64(source)), "{source}");
        assert!(lowers(&float32_expr(source)), "float32 {source}");
    }
    // Inputs widened as they load (float32, int32, int64 of a float64
    // program) or loaded as lane masks (stored booleans).
    let mixed = (Signature::new().with("a", crate::DType::Float32))
        .with("b", crate::DType::Int32)
        .with("c", crate::DType::Int64)
        .with("d", crate::DType::Float64)
        .with("p", crate::DType::Bool);
    let mixed = |source: &str| Expr::compile(source, &mixed).unwrap();
    for source in [
        "a * 2.5",
        "maximum(a, d)",
        "b * d + c",
        "where(p, d, 1.5)",
        "where(p & (d > 1), a, d)",
        "p | (a < d)",
    ] {
        assert!(lowers(&mixed(source)), "{source}");
    }
    assert!(lowers(&float32_expr("where(a < b, a, c)")));
    // Float32 operations of float64 programs, in the low halves.
    for source in FLOAT32_IN_HALVES_SOURCES {
        assert!(lowers(&float32_expr(source)), "in halves: {source}");
    }
    // The AVX2 lowering's alone: integer lanes.
    assert!(!lowers(&mixed("b + 1")));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_streaming_runs_give_the_bits_of_the_passes_at_any_output_alignment() {
    // 2.5M float32 elements: a 10 MB output, stored non-temporally from its
    // first 64-byte aligned element on, which here is at any 4-byte offset.
    let n = 2_500_000;
    let a: Vec<f32> = (0..n).map(|i| 0.1 + (i % 1009) as f32 / 700.0).collect();
    let b: Vec<f32> = (0..n)
        .map(|i| match i % 999_983 {
            5 => f32::NAN,
            6 => 0.0,
            _ => 0.2 + (i % 997) as f32 / 500.0,
        })
        .collect();
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let source = "abs(a - b) / (abs(a) + abs(b))";
    let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
    for level in levels() {
        let options = |jit| {
            Options {
                threads: 1,
                jit,
                ..Options::default()
            }
            .with_cpu(level)
        };
        let want = expr.eval_with(&env, options(false)).unwrap();
        let want = want.as_slice::<f32>().unwrap();
        let mut buffer = vec![0.0f32; n + 16];
        for shift in 0..16 {
            let out = &mut buffer[shift..shift + n];
            expr.eval_into_with(&env, out, options(true)).unwrap();
            let bad = (0..n).find(|&i| out[i].to_bits() != want[i].to_bits());
            assert_eq!(bad, None, "at {level}, output shifted by {shift} elements");
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_gathered_broadcast_scalar_and_in_place_inputs_match_the_passes() {
    check_gathered(
        [
            "abs(a - b) / (abs(a) + abs(b))",
            "a*b + a**3",
            "where(a < b, a*b, -a)",
        ],
        "a*b - abs(a)",
        |x| x as f32,
    );
}

/// Float64 programs of float32, int32 and int64 inputs that are only
/// widened (`cast_df`, `cast_di`, `cast_dl`): loaded converted, four to a
/// vector.
const WIDENING_SOURCES: [&str; 14] = [
    "a + b",
    "2.5*a + b",
    "b * c",
    "c / b + a",
    "a*b + c",
    "a*b - c*b*d",
    "where(a < b, c, d + b)",
    "sqrt(a*b + c*b)",
    "exp(-(a*b)) * b + log(abs(c*b) + 1)",
    "a*b*c*d - (a + b + c + d)",
    "e + b",
    "e / (b + 1)",
    "(e + b)*c - e*b",
    "where(e > b, e, c*b + a)",
];

/// `source` of float32 `a`, float64 `b`, int32 `c`, float32 `d` and int64
/// `e` of `n` elements (hard values among them), by the passes and by machine code at
/// every level, 1 and 2 threads, compared bit for bit; with `a` a strided
/// view if `strided` (gathered into a block by the VM).
fn check_widening(source: &str, n: usize, strided: bool) -> Result<(), String> {
    let hard32 = [
        0.0f32,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        -f32::INFINITY,
        f32::MAX,
        1e-40,
        -1.5,
        16_777_217.0,
    ];
    let ints = [0i32, -1, 1, i32::MAX, i32::MIN, 1 << 24, -(1 << 24) - 1];
    let pick = |i: usize, j: usize| (i * 7 + j * 3 + n).is_multiple_of(4);
    let a: Vec<f32> = (0..2 * n)
        .map(|i| match pick(i, 0) {
            true => hard32[i % hard32.len()],
            false => 0.3 + (i % 11) as f32 * 0.7,
        })
        .collect();
    let b: Vec<f64> = (0..n).map(|i| 0.5 + (i % 13) as f64 * 0.25).collect();
    let c: Vec<i32> = (0..n)
        .map(|i| match pick(i, 1) {
            true => ints[i % ints.len()],
            false => (i % 17) as i32 - 8,
        })
        .collect();
    let d: Vec<f32> = (0..n)
        .map(|i| match pick(i, 2) {
            true => hard32[(i + 3) % hard32.len()],
            false => -2.0 + (i % 5) as f32,
        })
        .collect();
    // int64s that round to float64 (halfway cases among them) and the ends.
    let longs = [
        i64::MIN,
        i64::MAX,
        -1,
        (1 << 53) + 1,
        (1 << 54) + 2,
        -(1 << 60) - 0x300,
        0x7FFF_FFFF_8000_0000,
        0x1234_5678_9ABC_DEF0,
    ];
    let e: Vec<i64> = (0..n)
        .map(|i| match pick(i, 3) {
            true => longs[i % longs.len()],
            false => (i % 19) as i64 - 9,
        })
        .collect();
    let a_view = match strided {
        true => crate::ArrayView::strided(&a[..], &[n], &[2], 0).unwrap(),
        false => crate::ArrayView::from_slice(&a[..n]),
    };
    let env = Env::new()
        .with("a", a_view)
        .with("b", &b[..])
        .with("c", &c[..])
        .with("d", &d[..])
        .with("e", &e[..]);
    let expr = Expr::compile(source, &Signature::of(&env)).map_err(|e| e.to_string())?;
    let step = if strided { 2 } else { 1 };
    let columns = [
        (0..n).map(|i| f64::from(a[i * step])).collect(),
        b.clone(),
        c.iter().map(|&x| f64::from(x)).collect(),
        d.iter().map(|&x| f64::from(x)).collect(),
        e.iter().map(|&x| x as f64).collect(),
    ];
    for level in levels() {
        if !has_machine_code(&expr, level) {
            return Err(format!("{source}: no machine code at {level}"));
        }
        let run = |jit: bool, threads: usize| {
            (expr.eval_with(&env, small_blocks(jit, threads, level))).map_err(|e| e.to_string())
        };
        check_at(source, &columns, &NAMES[..5], run).map_err(|e| format!("at {level}: {e}"))?;
    }
    Ok(())
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn widened_float32_int32_and_int64_inputs_give_the_bits_of_the_passes() {
    // Every tail length (1-3 lanes) and lengths around vectors, groups of
    // them and blocks.
    let lengths = (0..=20).chain([31, 32, 33, 63, 64, 65, 127, 128, 129, 300]);
    for source in WIDENING_SOURCES {
        for n in lengths.clone() {
            for strided in [false, true] {
                if let Err(message) = check_widening(source, n, strided) {
                    panic!("widened inputs: {message}");
                }
            }
        }
    }
}

/// A page of memory whose next page is mapped unreadable, so that a read
/// past the page's end faults: for the tests of the loop's last, partial
/// vector.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
struct GuardedPage {
    base: *mut u8,
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
impl GuardedPage {
    const SIZE: usize = 4096;

    fn new() -> GuardedPage {
        // SAFETY: a fresh private anonymous mapping of two pages; no memory
        // of ours is touched.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * Self::SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let guard = base.cast::<u8>().wrapping_add(Self::SIZE).cast();
        // SAFETY: the second page of the mapping just made, which nothing
        // refers to, made inaccessible.
        let protected = unsafe { libc::mprotect(guard, Self::SIZE, libc::PROT_NONE) };
        assert_eq!(protected, 0);
        GuardedPage { base: base.cast() }
    }

    /// The last `n` 1-, 4- or 8-byte elements of the page, set to `values`.
    fn tail<T: bytemuck::Pod>(&mut self, values: &[T]) -> &[T] {
        let size = std::mem::size_of::<T>();
        assert!([1, 4, 8].contains(&size));
        let bytes = std::mem::size_of_val(values);
        assert!(bytes <= Self::SIZE);
        // SAFETY: the last `bytes` of the readable, writable first page
        // (bytes <= SIZE), aligned to size (the page is, and SIZE is
        // a multiple of it); borrowed mutably from `self`.
        let start = self.base.wrapping_add(Self::SIZE - bytes).cast::<T>();
        // SAFETY: see above.
        let slice = unsafe { std::slice::from_raw_parts_mut(start, values.len()) };
        slice.copy_from_slice(values);
        slice
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
impl Drop for GuardedPage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, no longer borrowed.
        unsafe { libc::munmap(self.base.cast(), 2 * Self::SIZE) };
    }
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn widened_inputs_are_not_read_past_their_last_element() {
    // Each narrow input ends where an unreadable page begins: a lane of the
    // last vector loaded past the end (a wrong tail mask) would fault.
    let (mut pa, mut pc, mut pe) = (GuardedPage::new(), GuardedPage::new(), GuardedPage::new());
    for n in 1..=13 {
        let a = pa.tail(&(0..n).map(|i| i as f32 * 0.5).collect::<Vec<f32>>());
        let c = pc.tail(&(0..n).map(|i| i - 3).collect::<Vec<i32>>());
        let e = pe.tail(&(0..n).map(|i| i64::from(i) << 40).collect::<Vec<i64>>());
        let b: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let env = Env::new()
            .with("a", a)
            .with("b", &b[..])
            .with("c", c)
            .with("e", e);
        let expr = Expr::compile("a*b + c - e", &Signature::of(&env)).unwrap();
        for level in levels() {
            assert!(has_machine_code(&expr, level), "at {level}");
            let options = |jit| Options::default().with_jit(jit).with_cpu(level);
            let want = expr.eval_with(&env, options(false)).unwrap();
            let got = expr.eval_with(&env, options(true)).unwrap();
            assert_eq!(lanes(&want), lanes(&got), "n = {n} at {level}");
        }
    }
}

/// Boolean results of float comparisons, tests of a float's class, and
/// logic on them: lane masks in the loop, bytes as they are stored.
const BOOLEAN_SOURCES: [&str; 22] = [
    "a < b",
    "a <= 0.5",
    "a > b",
    "a >= b",
    "a == b",
    "a != b",
    "(a < 0.5) & (b > 0.3) | ~(a > b)",
    "(a > 0.2) & (a < 0.8)",
    "(a < b) ^ (b < c)",
    "~(a < b)",
    "(a < b) & ~(b < c)",
    "(a*b < c) | (a == c)",
    "(a < b) | ~(c >= a)",
    "exp(a) < b + log(c)",
    "isnan(a)",
    "isfinite(a)",
    "isinf(a)",
    "signbit(a)",
    "isnan(a) | (a < b)",
    "signbit(a - b) & isfinite(c)",
    "~isinf(a * b) ^ signbit(c)",
    "isfinite(exp(a)) & ~isnan(b)",
];

/// `source`'s boolean result with and without machine code at every level,
/// 1 and 2 threads, over `columns` of `dtype` (float32 or float64).
fn check_boolean(source: &str, columns: &[Vec<f64>], dtype: crate::DType) -> Result<(), String> {
    let names = &NAMES[..columns.len()];
    let singles = singles(columns);
    let env = typed_env(names, columns, &singles, dtype);
    let expr = Expr::compile(source, &Signature::of(&env)).map_err(|e| e.to_string())?;
    // Some float32 programs mix float32 and float64 values (`a > b` with
    // `a < 0.5`, where `a` is widened): those stay on passes, checked all
    // the same; `float32_boolean_programs_compile` names some that compile.
    for level in levels() {
        if dtype == crate::DType::Float64 && !has_machine_code(&expr, level) {
            return Err(format!("{source} ({dtype}): no machine code at {level}"));
        }
        let run = |jit: bool, threads: usize| {
            let r = expr
                .eval_with(&env, small_blocks(jit, threads, level))
                .unwrap();
            r.as_slice::<bool>().unwrap().to_vec()
        };
        let want = run(false, 1);
        for (threads, prefetch) in machine_code_runs() {
            let got = with_prefetch(prefetch, || run(true, threads));
            if let Some(i) = (0..want.len()).find(|&i| want[i] != got[i]) {
                let inputs: Vec<f64> = columns.iter().map(|c| c[i]).collect();
                return Err(format!(
                    "{source} ({dtype}) at {level}, element {i} of {}, inputs {inputs:?}: passes {}, machine code {}",
                    want.len(),
                    want[i],
                    got[i]
                ));
            }
        }
    }
    Ok(())
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn boolean_results_give_the_bits_of_the_passes() {
    let hard = [
        0.0,
        -0.0,
        0.5,
        0.3,
        f64::NAN,
        // A NaN with the sign bit set, for `signbit`.
        -f64::NAN,
        f64::INFINITY,
        -f64::INFINITY,
        1e-310,
        f64::MAX,
        // Equal in float32, not in float64.
        0.1,
        0.1 + 1e-12,
    ];
    // Every tail (1-7 elements, the bytes stored one at a time).
    check_at_every_length(&BOOLEAN_SOURCES, &hard, 4, check_boolean);
}

/// A check of a source over columns of a type, float64 or float32.
type CheckTyped = fn(&str, &[Vec<f64>], crate::DType) -> Result<(), String>;

/// `check(source, columns, dtype)` of each of `sources`, float64 and
/// float32, over three columns of ordinary values with one of `hard` in
/// every `every` places, of every length up to 20 (every tail) and lengths
/// around vectors, groups of them and blocks; panics with the first
/// failure.
fn check_at_every_length(sources: &[&str], hard: &[f64], every: usize, check: CheckTyped) {
    let lengths = (0..=20).chain([31, 32, 33, 63, 64, 65, 127, 128, 129, 300]);
    for source in sources {
        for n in lengths.clone() {
            let column = |j: usize| -> Vec<f64> {
                (0..n)
                    .map(|i| match (i * 5 + j * 3 + n) % every {
                        0 => hard[(i + j * 2) % hard.len()],
                        _ => ((i * 7 + j * 11) % 10) as f64 * 0.1,
                    })
                    .collect()
            };
            let columns = [column(0), column(1), column(2)];
            for dtype in [crate::DType::Float64, crate::DType::Float32] {
                if let Err(message) = check(source, &columns, dtype) {
                    panic!("{message}");
                }
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_boolean_programs_compile() {
    for level in levels() {
        // Float32 lanes, and a float32 input widened to compare with a
        // float64 literal (`== 0.2`: the optimizer narrows the other
        // comparisons to float32 ones).
        for source in [
            "a < b",
            "(a < b) ^ (b < c)",
            "a <= 0.5",
            "(a > 0.2) & (a < 0.8)",
            "(a < 0.5) & (a > b)",
            "a == 0.2",
            "isnan(a) | signbit(b)",
            "isinf(a) ^ isfinite(b)",
        ] {
            assert!(compiles_f32_any(level, source), "{source} at {level}");
        }
        // Both at once: the float32 comparison in halves of float64 vectors.
        assert!(
            compiles_f32_any(level, "(a == 0.2) & (a > b)"),
            "at {level}"
        );
    }
}

/// At AVX2 a float64 boolean result is stored two vectors at once (one
/// `vpackssdw` of their masks and one 8-byte store), where a register is
/// free to keep the first: the main loop of these programs has one pack
/// (the bits are checked by `boolean_results_give_the_bits_of_the_passes`).
#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(miri, ignore = "assembles machine code: slow under Miri")]
fn float64_boolean_results_are_stored_in_pairs_of_vectors() {
    for source in ["a < b", "a >= 0.5", "(a < 0.5) & (b > 0.3) | ~(a > b)"] {
        let expr = Expr::compile(source, &signature(&["a", "b"])).unwrap();
        let names = super::x86::avx2_instructions(expr.program()).unwrap();
        let packs = names.iter().filter(|n| n.starts_with("VEX_Vpackssdw"));
        // Once in each of the three functions (cached, prefetched, streaming).
        assert_eq!(packs.count(), 3, "{source}: {names:?}");
    }
}

/// A boolean result's last partial vector is stored by the machine code
/// too, byte by byte: the function returns every element, and writes none
/// past the last.
#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn boolean_tails_are_stored_by_the_machine_code() {
    let mut covered = 0;
    for level in levels() {
        for (dtype, lanes) in [(crate::DType::Float64, 4), (crate::DType::Float32, 8)] {
            for n in (1..lanes).map(|tail| 2 * lanes + tail) {
                let a: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
                let b: Vec<f64> = (0..n).map(|i| (i % 2) as f64 * 1.5).collect();
                let columns = [a.clone(), b.clone()];
                let singles = singles(&columns);
                let env = typed_env(&["a", "b"], &columns, &singles, dtype);
                let expr = Expr::compile("a < b", &Signature::of(&env)).unwrap();
                let Some(code) = with_run_cap(Some(level), || expr.program().machine_code()) else {
                    continue;
                };
                covered += 1;
                let bytes = |column: &Vec<f64>| -> Vec<u8> {
                    match dtype {
                        crate::DType::Float32 => column
                            .iter()
                            .flat_map(|&x| (x as f32).to_ne_bytes())
                            .collect(),
                        _ => column.iter().flat_map(|&x| x.to_ne_bytes()).collect(),
                    }
                };
                let (a_bytes, b_bytes) = (bytes(&a), bytes(&b));
                // The code's inputs in its order, by variable.
                let pointers: Vec<*const u8> = (code.inputs.iter())
                    .map(|&reg| match expr.program().registers[reg].role {
                        crate::program::Role::Input(0) => a_bytes.as_ptr(),
                        _ => b_bytes.as_ptr(),
                    })
                    .collect();
                // One byte more than the result: it must keep its value.
                let mut out = vec![7u8; n + 1];
                // SAFETY: each pointer starts the n elements of its input, of
                // the program's float type, and `out` holds n + 1 bytes.
                let done = with_run_cap(Some(level), || unsafe {
                    code.run(&pointers, out.as_mut_ptr(), n, crate::jit::Traffic::Cached)
                });
                assert_eq!(done, n, "{dtype} at {level}, n = {n}");
                let want: Vec<u8> = (0..n).map(|i| u8::from(a[i] < b[i])).collect();
                assert_eq!(out[..n], want[..], "{dtype} at {level}, n = {n}");
                assert_eq!(
                    out[n], 7,
                    "{dtype} at {level}, n = {n}: a byte past the end"
                );
            }
        }
    }
    // At least the AVX2 level compiles the comparison, wherever it runs.
    assert!(covered > 0 || levels().is_empty());
}

/// Programs that read stored booleans `p` and `q` as lane masks: `where`'s
/// condition and the boolean logic, in float results and boolean ones, with
/// comparisons and a full math function beside them, and a float32 input
/// `d` widened in a float64 program.
const BOOL_INPUT_SOURCES: [&str; 12] = [
    "where(p, a, b)",
    "where(p, a*b, c - a)",
    "where(p & q, a, b)",
    "where(~p, a, 2.5)",
    "where((a < b) | p, a, c)",
    "where(p ^ (a > 0.5), b, -b)",
    "where(p, where(q, a, b), c)",
    "where(p, exp(a), b)",
    "where(p, a, d)",
    "(a > b) & p | ~q",
    "(a < 0.5) ^ q",
    "p & ~(a >= c)",
];

/// The bytes of `n` stored booleans, mostly 0 and 1, with other bytes
/// (true, as NumPy reads them) at some places: the view reads them from
/// the byte at `offset`, so that the input is not aligned.
fn stored_booleans(n: usize, seed: usize, offset: usize) -> Vec<u8> {
    let stray = [2u8, 0x80, 0xff, 7];
    let bytes = (0..n).map(|i| match (i * 7 + seed * 5 + n) % 11 {
        0 => stray[(i + seed) % stray.len()],
        k => u8::from(k % 2 == seed % 2),
    });
    std::iter::repeat_n(9u8, offset).chain(bytes).collect()
}

/// `source` over `columns` of `dtype` as `a`, `b`, `c`, float32 `d`, and the
/// stored booleans `p` and `q` (with stray bytes), with machine code at
/// every level (which it must have), 1 and 2 threads, against the passes:
/// the same bits.
fn check_bool_inputs(
    source: &str,
    columns: &[Vec<f64>],
    dtype: crate::DType,
) -> Result<(), String> {
    use crate::{ArrayView, Format, Storage};
    let n = columns[0].len();
    let singles = singles(columns);
    let (p, q) = (stored_booleans(n, 0, 0), stored_booleans(n, 1, 1));
    let bools = |bytes: &'static [u8], offset: usize| {
        ArrayView::from_bytes(bytes, Format::native(Storage::Bool), &[n], &[1], offset).unwrap()
    };
    let p: &'static [u8] = Box::leak(p.into_boxed_slice());
    let q: &'static [u8] = Box::leak(q.into_boxed_slice());
    let env = typed_env(&NAMES[..3], columns, &singles, dtype)
        .with("d", &singles[0][..])
        .with("p", bools(p, 0))
        .with("q", bools(q, 1));
    let expr = Expr::compile(source, &Signature::of(&env)).map_err(|e| e.to_string())?;
    // The float32 math functions are other kernels, run by passes.
    let float32_math = dtype == crate::DType::Float32 && source.contains("exp(");
    for level in levels() {
        if !float32_math && !has_machine_code(&expr, level) {
            return Err(format!("{source} ({dtype}): no machine code at {level}"));
        }
        let run = |jit: bool, threads: usize| {
            (expr.eval_with(&env, small_blocks(jit, threads, level))).map_err(|e| e.to_string())
        };
        if expr.program().result_dtype() == crate::DType::Bool {
            let want = run(false, 1)?.as_slice::<bool>().unwrap().to_vec();
            for (threads, prefetch) in machine_code_runs() {
                let got = with_prefetch(prefetch, || run(true, threads))?;
                if got.as_slice::<bool>() != Some(&want[..]) {
                    return Err(format!(
                        "stored booleans: {source} ({dtype}) at {level}, n = {n}: {got:?}"
                    ));
                }
            }
        } else {
            check_at(source, columns, &NAMES[..3], run)
                .map_err(|e| format!("stored booleans: {dtype} at {level}, n = {n}: {e}"))?;
        }
    }
    Ok(())
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn stored_boolean_inputs_give_the_bits_of_the_passes() {
    // Values that send a vector of `exp` to the full function (709.5) and
    // NaNs among ordinary ones.
    let hard = [0.5, f64::NAN, -0.0, 709.5, 1e-310, f64::INFINITY];
    // Every tail (1-7 elements, whose bytes are loaded one at a time).
    check_at_every_length(&BOOL_INPUT_SOURCES, &hard, 6, check_bool_inputs);
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn stored_booleans_are_not_read_past_their_last_element() {
    // `p` ends where an unreadable page begins: a byte of the last vector
    // read past the end would fault.
    let mut page = GuardedPage::new();
    for n in 1..=19 {
        let p = page.tail(&(0..n).map(|i| u8::from(i % 3 != 1)).collect::<Vec<u8>>());
        let p = crate::ArrayView::from_bytes(
            p,
            crate::Format::native(crate::Storage::Bool),
            &[n],
            &[1],
            0,
        )
        .unwrap();
        let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let a32: Vec<f32> = (0..n).map(|i| i as f32).collect();
        for (source, env) in [
            (
                "where(p, a, -a)",
                Env::new().with("p", p.clone()).with("a", &a[..]),
            ),
            (
                "where(p, a, -a)",
                Env::new().with("p", p.clone()).with("a", &a32[..]),
            ),
            (
                "(a > 3) & p",
                Env::new().with("p", p.clone()).with("a", &a[..]),
            ),
        ] {
            let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
            for level in levels() {
                assert!(has_machine_code(&expr, level), "{source} at {level}");
                let options = |jit| Options::default().with_jit(jit).with_cpu(level);
                let want = expr.eval_with(&env, options(false)).unwrap();
                let got = expr.eval_with(&env, options(true)).unwrap();
                assert_eq!(want, got, "{source}, n = {n} at {level}");
            }
        }
    }
}

/// [`check_typed`] of `source` with `pairs` as `a` and `b` and a small
/// repeating `c`, on whole vectors and again with a tail; panics on a
/// difference.
fn check_pairs(source: &str, pairs: &[(f64, f64)], dtype: crate::DType) {
    for n in [pairs.len(), pairs.len() - 5] {
        let columns = [
            pairs[..n].iter().map(|p| p.0).collect(),
            pairs[..n].iter().map(|p| p.1).collect(),
            (0..n).map(|i| (i % 7) as f64 * 0.25).collect(),
        ];
        if let Err(message) = check_typed(source, &columns, dtype) {
            panic!("{dtype}: {message}");
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn floor_division_modulo_and_fmod_give_the_bits_of_the_passes() {
    // Quotients that round up to an integer (0.7 / 0.1), exact ones, both
    // signs and zeros, subnormals, and quotients about the limits of `//`
    // (float32 2^22, float64 2^51) and `%` and `fmod` (2^23, 2^52), which leave the
    // loop.
    let values = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.7,
        -0.7,
        7.0,
        -7.0,
        3.0,
        0.3,
        1.0 / 3.0,
        2.5,
        0.35,
        1e-310,
        -1e-310,
        1e-40,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e300,
        -1e300,
        4194303.0,
        4194304.0,
        4194305.0,
        8388607.0,
        8388608.0,
        8388609.0,
        2251799813685247.0,
        2251799813685248.0,
        4503599627370496.0,
        1e20,
        3.4e38,
        16_777_217.0,
        -123.456,
    ];
    let pairs: Vec<(f64, f64)> = (values.iter())
        .flat_map(|&a| values.iter().map(move |&b| (a, b)))
        .collect();
    for dtype in [crate::DType::Float64, crate::DType::Float32] {
        for source in [
            "a // b",
            "(a - c) // b * c",
            "b // (a + c)",
            "a % b",
            "(a - c) % b * c",
            "b % (a + c)",
            "fmod(a, b)",
            "fmod(a - c, b) * c",
            "fmod(b, a + c)",
        ] {
            let ones = [vec![1.0], vec![1.0], vec![1.0]];
            let singles = singles(&ones);
            let env = typed_env(&["a", "b", "c"], &ones, &singles, dtype);
            let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
            for level in levels() {
                assert!(
                    has_machine_code(&expr, level),
                    "{source} ({dtype}) at {level}"
                );
            }
            check_pairs(source, &pairs, dtype);
        }
    }
}

/// Integer programs: wrapping arithmetic, comparisons, selects and bitwise
/// logic on int32 and int64 lanes (`JitOp::on_integers`).
const INTEGER_SOURCES: [&str; 38] = [
    "a + b",
    "a - b",
    "a * b",
    "b * b",
    "-a",
    "a*b + c",
    "a*b - c",
    "c - a*b",
    "a*b + c*a",
    "a*b - c*b",
    "a + 3",
    "a * 7 - b",
    "where(a > b, a, b)",
    "where(a <= b, a*c, b - c)",
    "where(a == b, c, a) + where(a != c, b, a)",
    "where(a >= b, -a, c)",
    "where(a < b, a, b)",
    "a < b",
    "a >= c",
    "(a < b) & (c != a)",
    "(a == b) | ~(b > c)",
    "a & b",
    "a | b",
    "a ^ b",
    "~a",
    "a & ~b",
    "(a ^ b) * c",
    "abs(a) - abs(b*c)",
    "a << b",
    "a >> b",
    "a << 3",
    "a >> 5",
    "(a << c) ^ (b >> c)",
    "(a*b >> 7) + c",
    // Squares (`b * b` above too): the AVX2 product's square form.
    "a**2",
    "b**3 - a",
    "a**4 * c",
    "(a + b)**2",
];

/// `source` of three integer columns (int32 or int64 by `T`) with and
/// without machine code at every level, 1 and 2 threads, prefetching and
/// not: the same bytes.
fn check_integer<T>(source: &str, columns: &[Vec<T>; 3]) -> Result<(), String>
where
    T: crate::Element + Copy + std::fmt::Debug,
{
    let env = Env::new()
        .with("a", &columns[0][..])
        .with("b", &columns[1][..])
        .with("c", &columns[2][..]);
    let expr = Expr::compile(source, &Signature::of(&env)).map_err(|e| e.to_string())?;
    let bytes = |array: &crate::Array| -> Vec<u8> {
        match array.dtype() {
            crate::DType::Int32 => (array.as_slice::<i32>().unwrap().iter())
                .flat_map(|x| x.to_ne_bytes())
                .collect(),
            crate::DType::Int64 => (array.as_slice::<i64>().unwrap().iter())
                .flat_map(|x| x.to_ne_bytes())
                .collect(),
            crate::DType::Bool => (array.as_slice::<bool>().unwrap().iter())
                .map(|&x| u8::from(x))
                .collect(),
            other => panic!("{source}: a {other} result"),
        }
    };
    for level in levels() {
        if !has_machine_code(&expr, level) {
            return Err(format!("{source}: no machine code at {level}"));
        }
        let run = |jit: bool, threads: usize| {
            let r = expr
                .eval_with(&env, small_blocks(jit, threads, level))
                .unwrap();
            bytes(&r)
        };
        let want = run(false, 1);
        for (threads, prefetch) in machine_code_runs() {
            let got = with_prefetch(prefetch, || run(true, threads));
            if got != want {
                let width = want.len() / columns[0].len().max(1);
                let i = (0..want.len()).find(|&i| want[i] != got[i]).unwrap_or(0) / width.max(1);
                let inputs: Vec<T> = columns.iter().map(|c| c[i]).collect();
                return Err(format!(
                    "{source} at {level}, {threads} threads, element {i} of {}, inputs {inputs:?}",
                    columns[0].len()
                ));
            }
        }
    }
    Ok(())
}

/// Every length to 20 (every tail) and around vectors and blocks, a hard
/// value in every third place: the wrapping extremes, products past the
/// type's range, zero and one.
fn check_integers_at_every_length<T>(sources: &[&str], hard: &[T], ordinary: impl Fn(usize) -> T)
where
    T: crate::Element + Copy + std::fmt::Debug,
{
    let lengths = (0..=20).chain([31, 32, 33, 63, 64, 65, 127, 128, 129, 300]);
    for source in sources {
        for n in lengths.clone() {
            let column = |j: usize| -> Vec<T> {
                (0..n)
                    .map(|i| match (i + 2 * j + n) % 3 {
                        0 => hard[(i * 5 + j * 7 + n) % hard.len()],
                        _ => ordinary(i * 7 + j * 3),
                    })
                    .collect()
            };
            if let Err(message) = check_integer(source, &[column(0), column(1), column(2)]) {
                panic!("{message}");
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn integer_programs_give_the_bytes_of_the_passes() {
    let hard32 = [
        0,
        1,
        -1,
        i32::MIN,
        i32::MAX,
        i32::MIN + 1,
        46_341,
        -46_341,
        65_536,
        7,
        // Shift counts at and around the width.
        31,
        32,
        33,
    ];
    check_integers_at_every_length(&INTEGER_SOURCES, &hard32, |k| (k % 23) as i32 - 11);
    let hard64 = [
        0,
        1,
        -1,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        3_037_000_500,
        -3_037_000_500,
        1 << 32,
        (1 << 32) + 1,
        0xffff_ffff,
        -(1 << 32),
        i64::from(i32::MIN),
        // Shift counts in range and at the width.
        5,
        31,
        32,
        63,
        64,
    ];
    check_integers_at_every_length(&INTEGER_SOURCES, &hard64, |k| {
        ((k % 29) as i64 - 14) * 1_000_000_007
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn integer_programs_compile_only_where_covered() {
    let env_of = |dtype: crate::DType| {
        ["a", "b", "c"]
            .iter()
            .fold(Signature::new(), |s, v| s.with(v, dtype))
    };
    for level in levels() {
        let compiles = |source: &str, dtype| {
            has_machine_code(&Expr::compile(source, &env_of(dtype)).unwrap(), level)
        };
        for dtype in [crate::DType::Int32, crate::DType::Int64] {
            for source in INTEGER_SOURCES {
                assert!(compiles(source, dtype), "{source} ({dtype}) at {level}");
            }
            // Floor division and modulo stay on passes (`a / b` is
            // float64's, of widened inputs).
            for source in ["a // b", "a % b"] {
                assert!(!compiles(source, dtype), "{source} ({dtype}) at {level}");
            }
        }
    }
}

/// Zeros, a negative, a NaN, the infinities and a subnormal: among the hard
/// values of the spilling and shared-squares checks.
const SPECIALS: [f64; 7] = [
    0.0,
    -0.0,
    -1.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-310,
];

/// Float programs of more values than AVX2's 16 registers hold beside the
/// kernels' scratch (`Plan::spilled`), with their inputs: literal
/// coefficients read from the pool, eight inputs beside arctan2's eight
/// scratch registers read from their arrays, common subexpressions held
/// across expensive kernels in stack slots, lane masks of `where` among
/// them.
const SPILLING_SOURCES: [(usize, &str); 8] = [
    (
        1,
        "0.1 + 0.2*a + 0.3*a**2 + 0.4*a**3 + 0.5*a**4 + 0.6*a**5 + 0.7*a**6 + 0.8*a**7 \
         + 0.9*a**8 + 1.1*a**9 + 1.2*a**10 + 1.3*a**11 + 1.4*a**12 + 1.5*a**13 + 1.6*a**14",
    ),
    (
        2,
        "((((((((1.5*a + 2.5)*b + 3.5)*a + 4.5)*b + 5.5)*a + 6.5)*b + 7.5)*a + 8.5)*b + 9.5) \
         * (0.11*a + 0.12*b + 0.13) - 0.14*a*b + 0.15 + 0.16*exp(a*0.17) - 0.18*sqrt(b + 0.19)",
    ),
    (
        8,
        "arctan2(a*b + c*d - e*f + g*h, a) * b * c * d * e * f * g * h",
    ),
    (
        8,
        "sin(a)*sin(b) + sin(c)*sin(d) + sin(e)*sin(f) + sin(g)*sin(h) + (sin(a) + sin(b) \
         + sin(c) + sin(d) + sin(e) + sin(f) + sin(g) + sin(h)) * arctan2(a, h)",
    ),
    (
        8,
        "exp(a) + exp(b) + exp(c) + exp(d) + exp(e) + exp(f) + exp(g) + exp(h) + arctan2(a, b) \
         * exp(a) * exp(b) * exp(c) * exp(d) * exp(e) * exp(f) * exp(g) * exp(h)",
    ),
    (
        8,
        "(a*b) * (a*c) / (a*d) * (a*e) * (a*f) - (a*g) * (a*h) + arctan2(b, c) \
         * (a*b + a*c + a*d + a*e + a*f + a*g + a*h)",
    ),
    (
        8,
        "where(a > b, c, d) + where(c > d, e, f) * where(e > f, g, h) - where(g > h, a, b) \
         + arctan2(e, g) * (where(a > b, c, d) - where(c > d, e, f) + where(e > f, g, h) \
         * where(g > h, a, b))",
    ),
    (
        3,
        "0.5*a + 1.5*b + 2.5*c + 3.5*a*b + 4.5*b*c + 5.5*a*c + 6.5*a*a + 7.5*b*b + 8.5*c*c \
         + 9.5*a*b*c + 10.5*sin(a) + 11.5*cos(b) + 12.5*exp(-c*c) + 13.5*log(1.25 + a*a) + 14.5",
    ),
];

/// A boolean program of eight inputs and sixteen literal bounds, more
/// values than the registers hold.
const SPILLING_BOOLEAN_SOURCE: &str = "((a > 0.1) & (a < 0.9) | (b > 0.2) & (b < 0.8)) \
     & ((c > 0.3) & (c < 0.7) | (d > 0.15) & (d < 0.85)) | ((e > 0.25) & (e < 0.75) \
     | (f > 0.35) & (f < 0.65)) & ((g > 0.05) & (g < 0.95) | (h > 0.45) & (h < 0.55))";

/// Integer programs (int32 or int64 `a`, `b`, `c`) of more values than the
/// registers hold: literal factors and addends from the pool, common
/// subexpressions on the stack beside an int64 product's scratch.
const SPILLING_INTEGER_SOURCES: [&str; 3] = [
    "a*3 + b*5 + c*7 + a*b*11 + b*c*13 + a*c*17 + 19*(a << 2) + 23*(b >> 1) + 29*c*c \
     + 31*a*a + 37*b*b + 41 - 43*abs(a - b) + 47*(a ^ c) + 53*(b & c) + 59",
    "(a*b) * (b*c) * (c*a) * (a*a) * (b*b) * (c*c) * (a - b) * (b - c) * (c - a) * (a + b) \
     * (b + c) * (c + a) * (a ^ b) * (b ^ c) * (c ^ a) * (a & b) * (b | c) \
     + ((a*b) + (b*c) - (c*a) + (a*a) - (b*b) + (c*c) ^ (a - b) + (b - c) - (c - a) \
     + (a + b) - (b + c) + (c + a) - (a ^ b) + (b ^ c) - (c ^ a) + (a & b) - (b | c))",
    "where(a > 3, b*5, c*7) + where(b > 11, c*13, a*17) * where(c > 19, a*23, b*29) \
     + where(a < b, a*31, b*37) * 41 - 43",
];

/// The AVX2 plan `build` takes for `program`: the first of `plans` that
/// lowers.
#[cfg(target_arch = "x86_64")]
fn avx2_plan(program: &crate::program::Program) -> Option<super::Plan> {
    use super::Backend;
    use super::x86::Avx2;
    super::plans(program, Avx2::MAX_VALUES, Avx2::SPILLS)
        .find(|plan| Avx2::lower(program, plan).is_some())
}

#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn programs_of_more_values_than_registers_spill_at_avx2() {
    use super::Slot;
    let (mut pool, mut input, mut stack) = (0, 0, 0);
    let mut count = |program: &crate::program::Program, source: &str| {
        let plan = avx2_plan(program).unwrap_or_else(|| panic!("{source}: no AVX2 plan"));
        assert!(plan.spills(), "{source}: every value in a register");
        for slot in &plan.slots {
            match slot {
                Slot::Pool(_) => pool += 1,
                Slot::Input => input += 1,
                Slot::Stack(_) => stack += 1,
                _ => {}
            }
        }
    };
    for (k, source) in SPILLING_SOURCES {
        for dtype in [crate::DType::Float64, crate::DType::Float32] {
            let signature = (NAMES[..k].iter()).fold(Signature::new(), |s, v| s.with(v, dtype));
            let expr = Expr::compile(source, &signature).unwrap();
            // float32 math functions run as passes, and a float32 program
            // of float64 literals is a float64 one (its float32 values in
            // halves): only the float32 programs of IEEE operations here.
            if dtype == crate::DType::Float64 || avx2_plan(expr.program()).is_some() {
                count(expr.program(), source);
            }
        }
    }
    let boolean = Expr::compile(SPILLING_BOOLEAN_SOURCE, &signature(&NAMES)).unwrap();
    count(boolean.program(), SPILLING_BOOLEAN_SOURCE);
    for source in SPILLING_INTEGER_SOURCES {
        for dtype in [crate::DType::Int32, crate::DType::Int64] {
            let signature =
                (["a", "b", "c"].iter()).fold(Signature::new(), |s, v| s.with(v, dtype));
            count(Expr::compile(source, &signature).unwrap().program(), source);
        }
    }
    assert!(pool > 0 && input > 0 && stack > 0, "{pool} {input} {stack}");
    // AVX-512 keeps every value in a register, past the 16th in those above
    // the kernels' scratch, or leaves the program to AVX2; the test below
    // runs these sources at every level the machine has.
    use super::{Backend, x86::Avx512};
    let avx512_values = |source: &str, names: &[&str]| {
        let expr = Expr::compile(source, &signature(names)).unwrap();
        let program = expr.program();
        (super::plans(program, Avx512::MAX_VALUES, Avx512::SPILLS))
            .find(|plan| Avx512::lower(program, plan).is_some())
            .map(|plan| plan.values())
    };
    let polynomial = avx512_values(SPILLING_SOURCES[0].1, &NAMES[..1]);
    assert!(
        polynomial.is_some_and(|values| values > 16),
        "{polynomial:?}"
    );
    // More values than fit beside `sqrt`'s 10 scratch registers.
    assert_eq!(avx512_values(SPILLING_SOURCES[1].1, &NAMES[..2]), None);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn spilled_programs_give_the_bits_of_the_passes() {
    let hard = [SPECIALS.as_slice(), &[709.8, 1e300]].concat();
    let lengths = (0..=20).chain([31, 32, 33, 63, 64, 65, 127, 128, 129, 300]);
    for n in lengths {
        let columns: Vec<Vec<f64>> = (0..NAMES.len())
            .map(|j| {
                (0..n)
                    .map(|i| match (i * 5 + j * 3 + n) % 7 {
                        0 => hard[(i + j * 2) % hard.len()],
                        _ => 0.05 + ((i * 7 + j * 11) % 19) as f64 * 0.05,
                    })
                    .collect()
            })
            .collect();
        for (k, source) in SPILLING_SOURCES {
            for dtype in [crate::DType::Float64, crate::DType::Float32] {
                if let Err(message) = check_typed(source, &columns[..k], dtype) {
                    panic!("{message}");
                }
            }
        }
        for dtype in [crate::DType::Float64, crate::DType::Float32] {
            if let Err(message) = check_boolean(SPILLING_BOOLEAN_SOURCE, &columns, dtype) {
                panic!("{message}");
            }
        }
    }
    let hard64 = [0, 1, -1, i64::MIN, i64::MAX, 3_037_000_500, 1 << 32, 63, 64];
    check_integers_at_every_length(&SPILLING_INTEGER_SOURCES, &hard64, |k| (k % 29) as i64 - 14);
    let hard32 = [0, 1, -1, i32::MIN, i32::MAX, 46_341, 65_536, 31, 32];
    check_integers_at_every_length(&SPILLING_INTEGER_SOURCES, &hard32, |k| (k % 23) as i32 - 11);
}

/// Programs raising one base to several powers (`powers.rs`): a power of
/// two among them, two bases interleaved, a base computed, used and
/// computed again (its squares made anew), powers up to 16, float32 ones,
/// a square written `a*a` and partial products two powers share (`a**3`
/// in `a**7` and `a**11`, `a**5` in `a**13`).
#[cfg(target_arch = "x86_64")]
const SHARED_POWER_SOURCES: [&str; 9] = [
    "a**3 + a**5 - a**4 * b",
    "0.5 - 1.5*a**2 + 2.5*a**3 - a**7*b + a**11 - c*a**13 + a**5",
    "a**16 - a**15 + a**8 * a**7 - a**12",
    "a**3 * b**5 + a**6 - b**7 + a**9 * b**4 - a**13 + b**11",
    // `a - b` takes the register of `a + b`, the base of the first two.
    "(a + b)**3 * (a + b)**6 + (a - b)**5 * (a - b)**9",
    "(a + b)**3 + (a + b)**6 + (a - b)**5 + (a - b)**9 + (a*b)**4 + (a*b)**7",
    "where(a > b, a**3 + a**5, b**7 - b**10) + (a*b)**4 - (a*b)**3",
    "a**3 + b*a**11 - (c*a**6 + a**14) * c**3 * c**5",
    "exp(a)**3 + exp(a)**10 - log(b)**5 * log(b)**7",
];

#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn shared_squares_give_the_bits_of_the_passes() {
    for source in SHARED_POWER_SOURCES {
        let expr = Expr::compile(source, &signature(&NAMES[..3])).unwrap();
        assert!(
            super::powers::share_squares(expr.program()).is_some(),
            "{source}: no squares shared"
        );
        for level in levels() {
            assert!(has_machine_code(&expr, level), "{source} at {level}");
        }
    }
    let hard = [SPECIALS.as_slice(), &[1e-20, 1e20, 1.5, -0.9999999]].concat();
    check_at_every_length(&SHARED_POWER_SOURCES, &hard, 3, check_typed);
    // A single power of a base keeps its `powi`.
    let single = Expr::compile("a**3 + b**5", &signature(&NAMES[..2])).unwrap();
    assert!(super::powers::share_squares(single.program()).is_none());
}

/// Programs of float32 inputs whose float32 operations feed float64 ones
/// (`Plan::half`): float32 powers, products, quotients, square roots and
/// the fused operations beside float64 literals' products; float32
/// comparisons (their masks widened), selects by them and by booleans
/// (the masks narrowed), negations, roundings; a boolean result of both
/// types' comparisons; float32 constants.
#[cfg(target_arch = "x86_64")]
const FLOAT32_IN_HALVES_SOURCES: [&str; 13] = [
    "0.5 + 1.5*a - 2.5*a**2 + 3.5*a**3 - 4.5*a**12 + 5.5*b**5",
    "2.5*(a*b + c) - a/b + 1.5*sqrt(a*a + c)",
    "1.5*(c - a*b) + 0.5*(a*b - c*a) + (a*b + c*c)*2.5 - (a*c - b*b)*0.5",
    "1.5*abs(a - b) - 0.25*abs(a*b) + 2.5*abs(a + c) + 0.5*(abs(a) + abs(b))",
    "where(a*b > 0.5, 1.5*a**3, b - 2.5*c)",
    "(a*b > c*c) & (0.5*a < b) | (a + b == c) | isnan(a*c)",
    "1.5*maximum(a*b, c) - 2.5*minimum(a, -b) + 0.5*copysign(a*b, c) + sign(a - b)*0.25",
    "0.5*floor(a*b) + 1.5*(-(a*c)) + 2.5*where(a < b, a*c, b/c) + round(a/c)*0.5",
    "1.5*(a**4 * b**3) + 0.5*(a*b)**6 + 2.5*(a + b)**7",
    "1.0e30*(a*b*c) + 1.0e-30*(a*b/c) + (a*c + b)*(a*b + c)*0.5",
    // Integer literals and a comparison's literal are float32 constants.
    "where(a*b > 0.1, a*3 + 7, b*2 - c/3)*1.5",
    "(a*3 + 7)*1.5 - (b*2 - c/3)*2.5",
    "where((a > 0.5) & (b < 0.5), a*c, a - c)*1.5 + where(a*b > 0.1, c, 2.5)",
];

#[test]
#[cfg(target_arch = "x86_64")]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float32_operations_in_halves_give_the_bits_of_the_passes() {
    let float32 = |source: &str| {
        let signature =
            (NAMES[..3].iter()).fold(Signature::new(), |s, v| s.with(v, crate::DType::Float32));
        Expr::compile(source, &signature).unwrap()
    };
    let plan = |expr: &Expr| {
        let program = expr.program();
        let shared = super::powers::share_squares(program);
        (shared.iter().chain([program])).find_map(avx2_plan)
    };
    for source in FLOAT32_IN_HALVES_SOURCES {
        let expr = float32(source);
        let plan = plan(&expr).unwrap_or_else(|| panic!("{source}: no AVX2 plan"));
        assert!(plan.half.contains(&true), "{source}: not in halves");
        for level in levels() {
            assert!(has_machine_code(&expr, level), "{source} at {level}");
        }
    }
    // Ties of float32's rounding (squares and products of 1 + 2^-12 and
    // of 1 + 2^-23), results past float32's range and below its normal
    // one, and the special values (widened where the program reads them).
    let hard = [
        SPECIALS.as_slice(),
        &[
            1.000_244_140_625,
            1.000_000_119_209_29,
            3.0e19,
            1.0e-20,
            0.999_755_9,
        ],
    ]
    .concat();
    let (boolean, floats): (Vec<&str>, Vec<&str>) =
        (FLOAT32_IN_HALVES_SOURCES.iter()).partition(|s| s.contains('|'));
    check_at_every_length(&floats, &hard, 3, check_typed);
    check_at_every_length(&boolean, &hard, 3, check_boolean);
    // Float32 lanes divide on the divider, also where float64 ones take
    // Newton's steps (which tests have on every CPU).
    crate::jit::x86::avx2::NEWTON_ANYWAY.store(true, std::sync::atomic::Ordering::Relaxed);
    let quotients = [
        "(a/b)*0.5 + a/c + (b/c)*1.5 + (a*b)/(c*c)*2.5",
        "(a/b + c/a + b/c)*0.5",
    ];
    check_at_every_length(&quotients, &hard, 3, check_typed);
    crate::jit::x86::avx2::NEWTON_ANYWAY.store(false, std::sync::atomic::Ordering::Relaxed);
    // A float32 math function without machine code of its own: the passes'.
    assert!(plan(&float32("1.5*arctan(a*b)")).is_none());
    // A float32 `exp`, `log`, `sin` or `cos` in halves with too few float64
    // instructions beside it (`FLOAT64_OPS_PER_FUNCTION_IN_HALVES`): the
    // passes, which compute the function in twice the lanes.
    for source in [
        "exp(a)*2.5 - b",
        "10.5*sin(a) + 11.5*cos(b) - c",
        "log(a) * 0.5",
    ] {
        assert!(plan(&float32(source)).is_none(), "{source}");
    }
    assert!(plan(&float32("a*2.5 + b*1.5 + exp(c)")).is_some());
    // A float64 program of widened inputs has no float32 values.
    assert!(plan(&float32("2.5*a + b")).is_some_and(|plan| !plan.half.contains(&true)));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "machine code against the passes: Miri runs no machine code"
)]
fn float64_powers_give_the_bits_of_the_passes() {
    // Bases over many binades and next to the bounds of the 16 intervals
    // of the logarithm (OFF_BITS, about 0.6979, times powers of 2^(1/16)),
    // next to 1, negative ones (integer exponents give a sign, fractional
    // ones NaN), and those the loop leaves to the passes: zeros,
    // subnormals, inf, NaN.
    let mut bases = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        2.0,
        3.0,
        -2.5,
        -3.0,
        10.0,
        -7.0,
        123.456,
        1e-310,
        -1e-310,
        1e300,
        -1e300,
        1e-300,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        f64::MAX,
        1.0 + f64::EPSILON,
        1.0 - f64::EPSILON / 2.0,
    ];
    let off = f64::from_bits(0x3fe6_5555_5555_5555);
    for i in 0..17 {
        let bound = off * 2f64.powf(f64::from(i) / 16.0);
        bases.extend([bound, bound.next_up(), bound.next_down(), -bound * 4.0]);
    }
    let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1D);
    for _ in 0..40 {
        // A positive normal of any binade.
        bases.push(f64::from_bits(
            next() % 0x7fe0_0000_0000_0000 + 0x0010_0000_0000_0000,
        ));
    }
    // Exponents: integers (odd and even), halves, fractions, and products
    // with the bases' exponents next to the bound on |y| (|e| + 1) (1000)
    // on both sides.
    let exponents = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.0,
        3.0,
        7.0,
        6.0,
        -3.0,
        0.5,
        -0.5,
        2.5,
        0.3,
        1.7,
        -1.7,
        100.0,
        -100.0,
        700.0,
        999.0,
        1000.0,
        1000.5,
        1e10,
        0.999,
        1.0 / 3.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let pairs: Vec<(f64, f64)> = (bases.iter())
        .flat_map(|&x| exponents.iter().map(move |&y| (x, y)))
        .collect();
    for source in [
        "a**b + c",
        "(a - c)**b * c",
        "c - b**(a * 0.5)",
        "a**0.3 * c + b",
    ] {
        if levels().contains(&CpuLevel::Avx2) {
            assert!(
                compiles(CpuLevel::Avx2, source, &["a", "b", "c"]),
                "{source}"
            );
        }
        check_pairs(source, &pairs, crate::DType::Float64);
    }
    // Passes where a loop of `**` is slower (`jit::pow_keeps_passes`).
    for source in ["a**b", "exp(a) * b**0.7", "a**0.3 + b**0.7"] {
        for level in levels() {
            assert!(!compiles(level, source, &["a", "b"]), "{source} at {level}");
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri runs no machine code")]
fn serial_runs_allowed_two_threads_are_timed_and_runs_on_one_thread_are_not() {
    // 4096 elements take the short path (`run_small`), 8000 the general one;
    // both are estimated too short to split on two threads.
    for level in levels() {
        for n in [4096, 8000] {
            let columns: Vec<Vec<f64>> = (0..4)
                .map(|k| {
                    (0..n)
                        .map(|i| 0.5 + ((i * 7 + k) % 100) as f64 / 64.0)
                        .collect()
                })
                .collect();
            let env = Env::new()
                .with("a", &columns[0][..])
                .with("b", &columns[1][..])
                .with("c", &columns[2][..])
                .with("d", &columns[3][..]);
            let expr = Expr::compile("a*b + c*d", &signature(&["a", "b", "c", "d"])).unwrap();
            let code = with_run_cap(Some(level), || expr.program().machine_code()).unwrap();
            assert!(
                crate::vm::judge(code, n, 2).too_short_to_split(),
                "{n} at {level}"
            );
            let mut out = vec![0.0; n];
            let options = |threads| Options::default().with_threads(threads).with_cpu(level);
            for _ in 0..24 {
                expr.eval_into_with(&env, &mut out, options(1)).unwrap();
            }
            assert_eq!(
                code.serial_time.trusted(),
                None,
                "{n} at {level}, one thread"
            );
            for _ in 0..24 {
                expr.eval_into_with(&env, &mut out, options(2)).unwrap();
            }
            let measured = code.serial_time.trusted();
            assert!(
                measured.is_some_and(|ns| ns > 0.0),
                "{n} at {level}, two threads: {measured:?}"
            );
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri runs no machine code")]
fn a_measured_serial_time_decides_the_split_of_runs_in_the_caches() {
    for level in levels() {
        // A fresh program whose serial runs were measured at `ns` per element.
        let measured_at = |ns: f64| {
            let expr = Expr::compile("a*b + c*d", &signature(&["a", "b", "c", "d"])).unwrap();
            let code = with_run_cap(Some(level), || expr.program().machine_code()).unwrap();
            for _ in 0..16 {
                code.serial_time.record(ns);
            }
            expr
        };
        let short = |expr: &Expr, n| {
            with_run_cap(Some(level), || {
                crate::vm::judge(expr.program().machine_code().unwrap(), n, 2).too_short_to_split()
            })
        };
        // 8000 elements of 40 bytes, 320 kB, are in the caches: the estimate
        // (0.6 ns/elem from the bytes moved) says 2.4 µs a thread, too short;
        // measured at 0.8 ns/elem, 3.2 µs a thread, they split (the bound for
        // a measured time is lower than an estimate's); at 0.3, 1.2 µs a
        // thread, they do not.
        assert!(short(&measured_at(0.3), 8000), "{level}");
        assert!(!short(&measured_at(0.8), 8000), "{level}");
        // 1M elements (40 MB) stream: the estimate decides, however fast the
        // runs in the caches were.
        assert!(!short(&measured_at(1e-6), 1_000_000), "{level}");
    }
}
