//! Regression tests for what a differential fuzzing run found (issue 11), and
//! for the limits that keep compile time and memory linear: each test states
//! the rule it checks, and would fail without the fix.

use vexpr::{ArrayView, DType, Env, ErrorKind, Expr, Options, Signature, evaluate_with};

fn options(threads: usize, block_len: usize, jit: bool) -> Options {
    Options::default()
        .with_threads(threads)
        .with_block_len(block_len)
        .with_jit(jit)
}

/// Every configuration the result must not depend on.
fn configurations() -> Vec<Options> {
    let mut all = Vec::new();
    for threads in [1, 2, 3] {
        for block_len in [16, 64, 256, 1024] {
            for jit in [false, true] {
                all.push(options(threads, block_len, jit));
            }
        }
    }
    all
}

// 1. Empty views: the constructor accepts exactly the views the evaluator can
//    read, and reductions of them follow NumPy.

#[test]
fn an_empty_view_may_start_at_most_at_the_end_of_its_data() {
    let none: &[f64] = &[];
    assert!(ArrayView::strided(none, &[0], &[1], 0).is_ok());
    assert!(ArrayView::strided(none, &[0], &[1], 1).is_err());
    let three = [1.0, 2.0, 3.0];
    assert!(ArrayView::strided(&three[..], &[0], &[1], 3).is_ok());
    assert!(ArrayView::strided(&three[..], &[0], &[1], 5).is_err());
    assert!(ArrayView::strided(&three[..], &[2, 0], &[-7, 100], 3).is_ok());
}

/// `sum`/`prod` of nothing are 0 and 1, `min`/`max` of nothing an error, and
/// element-wise results are empty, for every dtype and every accepted empty
/// view (offset at the start and at the end of the data, strides of any sign).
#[test]
fn every_reduction_of_every_empty_view_of_every_dtype_is_numpys() {
    let bools = [true, false, true];
    let i32s = [1i32, 2, 3];
    let i64s = [1i64, 2, 3];
    let f32s = [1.0f32, 2.0, 3.0];
    let f64s = [1.0f64, 2.0, 3.0];
    let c128s = [vexpr::Complex64::new(1.0, 2.0); 3];
    let mut views = Vec::new();
    for (shape, strides) in [
        (vec![0], vec![1]),
        (vec![0, 4], vec![-1, 3]),
        (vec![2, 0], vec![5, -2]),
    ] {
        for offset in [0, 3] {
            views.push(ArrayView::strided(&bools[..], &shape, &strides, offset).unwrap());
            views.push(ArrayView::strided(&i32s[..], &shape, &strides, offset).unwrap());
            views.push(ArrayView::strided(&i64s[..], &shape, &strides, offset).unwrap());
            views.push(ArrayView::strided(&f32s[..], &shape, &strides, offset).unwrap());
            views.push(ArrayView::strided(&f64s[..], &shape, &strides, offset).unwrap());
            views.push(ArrayView::strided(&c128s[..], &shape, &strides, offset).unwrap());
        }
    }
    for view in views {
        let env = Env::new().with("a", view.clone());
        let what = format!(
            "{} {:?} offset {}",
            view.dtype(),
            view.shape(),
            view.offset()
        );
        for config in [options(1, 1024, true), options(2, 16, false)] {
            for op in ["sum", "prod", "min", "max"] {
                let full = evaluate_with(&format!("{op}(a)"), &env, config);
                let complex_order =
                    view.dtype() == DType::Complex128 && matches!(op, "min" | "max");
                match op {
                    "sum" | "prod" if !complex_order => {
                        let r = full.unwrap_or_else(|e| panic!("{op} of {what}: {e}"));
                        assert_eq!(r.shape(), &[] as &[usize], "{op} of {what}");
                        let want = if op == "sum" { "0" } else { "1" };
                        let got = r.get(0).unwrap().to_string();
                        assert!(
                            got.starts_with(want) || got.contains(&format!("({want}")),
                            "{op} of {what}: {got}"
                        );
                    }
                    _ => assert!(full.is_err(), "{op} of {what}"),
                }
                if view.shape().len() == 2 {
                    for axis in 0..2 {
                        let along = evaluate_with(&format!("{op}(a, axis={axis})"), &env, config);
                        let reduced_len = view.shape()[axis];
                        let mut out_shape = view.shape().to_vec();
                        out_shape.remove(axis);
                        match along {
                            Ok(r) => {
                                assert_eq!(r.shape(), &out_shape[..], "{op} axis {axis} of {what}")
                            }
                            // Only an empty lane without identity may fail.
                            Err(e) => assert!(
                                reduced_len == 0 && matches!(op, "min" | "max") || complex_order,
                                "{op} axis {axis} of {what}: {e}"
                            ),
                        }
                    }
                }
            }
            let r = evaluate_with("a + a", &env, config)
                .unwrap_or_else(|e| panic!("a + a of {what}: {e}"));
            assert_eq!(r.shape(), view.shape());
            assert!(r.is_empty());
        }
    }
}

// 2. Machine code gives the passes' bits, NaN signs included.

// Machine code exists on x86-64 only, and the passes' NaN rule below is what
// the x86-64 build of the passes does: Rust leaves the sign and payload of a
// NaN from arithmetic unspecified, and on aarch64 LLVM may swap `a*b`'s
// operands, which picks the other NaN.
#[cfg(target_arch = "x86_64")]
#[test]
fn negated_products_of_nans_keep_the_passes_sign_in_machine_code() {
    // `-a*b` is one fused instruction (`neg_mul`); `-x` flips a NaN's sign.
    let n = 5000;
    let nan = f64::from_bits(0x7ff8_0000_0000_0000);
    let a: Vec<f64> = (0..n)
        .map(|i| if i % 3 == 0 { nan } else { -nan })
        .collect();
    let b: Vec<f64> = (0..n)
        .map(|i| if i % 7 == 0 { -nan } else { 1.0 })
        .collect();
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let sig = Signature::of(&env);
    let expr = Expr::compile("-a*b", &sig).unwrap();
    assert!(expr.to_string().contains("neg_mul"));
    let bits = |r: &vexpr::Array| -> Vec<u64> {
        r.as_slice::<f64>()
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect()
    };
    let passes = bits(&expr.eval_with(&env, options(1, 1024, false)).unwrap());
    // The passes' own rule: the sign of `-a` where a is NaN.
    for (i, &got) in passes.iter().enumerate() {
        let want = if b[i].is_nan() && !a[i].is_nan() {
            b[i]
        } else {
            -a[i]
        };
        assert_eq!(got, want.to_bits(), "passes at {i}");
    }
    for config in configurations() {
        // Twice: machine code is made on a program's second run.
        for _ in 0..2 {
            assert_eq!(
                bits(&expr.eval_with(&env, config).unwrap()),
                passes,
                "{config:?}"
            );
        }
        let mut inplace = a.clone();
        let others = Env::new().with("b", &b[..]);
        expr.eval_in_place_with(&others, "a", &[n], &mut inplace, config)
            .unwrap();
        assert_eq!(
            inplace.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            passes,
            "in place {config:?}"
        );
    }
}

// 3. Nested reductions compile in linear time and memory; limits refuse the rest.

fn nested_sums(depth: usize) -> String {
    format!("{}a{}", "sum(".repeat(depth), ")".repeat(depth))
}

#[test]
fn deeply_nested_reductions_compile_and_evaluate() {
    let a = [1.5, 2.25, -0.5];
    let env = Env::new().with("a", &a[..]);
    for depth in [1, 2, 100, vexpr::MAX_STAGES] {
        let r = vexpr::evaluate(&nested_sums(depth), &env).unwrap();
        assert_eq!(r.as_slice::<f64>().unwrap(), &[3.25], "depth {depth}");
    }
    // A stage's operand may use earlier stages and the inputs.
    let r = vexpr::evaluate("sum(a - sum(a)/3) + max(a*sum(a))", &env).unwrap();
    let mean = 3.25 / 3.0;
    let want = a.iter().map(|x| x - mean).sum::<f64>() + 2.25 * 3.25;
    assert!((r.as_slice::<f64>().unwrap()[0] - want).abs() < 1e-12);
}

#[test]
fn too_many_reductions_are_refused_at_the_first_one_past_the_limit() {
    let sig = Signature::new().with("a", DType::Float64);
    let err = Expr::compile(&nested_sums(vexpr::MAX_STAGES + 1), &sig).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    // Reductions count in evaluation order: the outermost is the last.
    assert_eq!(err.span().start, 0, "{err}");

    let terms: Vec<String> = (0..=vexpr::MAX_STAGES)
        .map(|i| format!("sum(a*{i})"))
        .collect();
    let source = terms.join("+");
    let err = Expr::compile(&source, &sig).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let last = source.rfind("sum(").unwrap();
    assert_eq!(
        (err.span().start, err.span().end),
        (last, source.len()),
        "{err}"
    );
}

#[test]
fn text_past_the_size_limits_is_refused_with_a_pointed_error() {
    let sig = Signature::new().with("a", DType::Float64);
    let compile = |s: &str| Expr::compile(s, &sig).unwrap_err();

    let long = format!("a{}", " ".repeat(vexpr::MAX_SOURCE_LEN));
    let err = compile(&long);
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert_eq!(err.span().start, vexpr::MAX_SOURCE_LEN);
    assert!(err.rendered().contains('^'), "{err}");

    // Many tokens in little nesting: a balanced sum of products.
    fn balanced(levels: u32, next: &mut usize) -> String {
        if levels == 0 {
            *next += 1;
            return format!("a*{next}");
        }
        let left = balanced(levels - 1, next);
        format!("({left}+{})", balanced(levels - 1, next))
    }
    let wide = balanced(15, &mut 0);
    let err = compile(&wide);
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert!(wide.len() < vexpr::MAX_SOURCE_LEN);

    // Chains the parser could only reduce at their end are refused at the limit,
    // pointing inside the text.
    let limit = vexpr::MAX_NESTING;
    for deep in [
        format!("{}a{}", "(".repeat(limit + 1), ")".repeat(limit + 1)),
        format!("{}a", "-".repeat(300_000)),
        format!("a{}", "**a".repeat(200_000)),
        format!("a{}", "**-a".repeat(100_000)),
        format!("{}a{}", "sin(".repeat(limit + 1), ")".repeat(limit + 1)),
    ] {
        let err = compile(&deep);
        assert_eq!(err.kind(), ErrorKind::TooDeep, "{}", &deep[..20]);
        assert!(
            err.span().end <= deep.len() && err.span().start < 5 * limit,
            "{:?}",
            err.span()
        );
    }
}

#[test]
fn nesting_just_under_the_limit_still_compiles() {
    let a = [2.0];
    let env = Env::new().with("a", &a[..]);
    let limit = vexpr::MAX_NESTING;
    for ok in [
        format!("{}a{}", "(".repeat(limit), ")".repeat(limit)),
        format!("{}a", "-".repeat(limit - 1)),
        format!("{}a{}", "-(".repeat(limit / 2), ")".repeat(limit / 2)),
        format!("a{}", "**a".repeat(limit - 2)),
    ] {
        assert!(vexpr::evaluate(&ok, &env).is_ok(), "{}", &ok[..20]);
    }
}

// 4. A run's error does not depend on threads or block length: it is the
//    fault of the first failing element (and there, the first instruction).

/// The error of evaluating `source` on element `i` alone.
fn error_of_element(
    source: &str,
    columns: &[(&str, &[i64])],
    i: usize,
) -> Option<(usize, usize, String)> {
    let singles: Vec<[i64; 1]> = columns.iter().map(|(_, c)| [c[i]]).collect();
    let env = columns
        .iter()
        .zip(&singles)
        .fold(Env::new(), |env, ((name, _), one)| env.with(name, &one[..]));
    let err = evaluate_with(source, &env, options(1, 1024, false)).err()?;
    Some((err.span().start, err.span().end, err.message().to_string()))
}

/// Checks that every configuration reports the error that the first failing
/// element gives alone; no element before `clean` may fail.
fn check_first_failing_element(source: &str, columns: &[(&str, &[i64])], clean: usize) {
    let n = columns[0].1.len();
    let want = (clean..n)
        .find_map(|i| error_of_element(source, columns, i))
        .expect("some element fails");
    let env = columns
        .iter()
        .fold(Env::new(), |env, (name, c)| env.with(name, *c));
    for config in configurations() {
        let err = evaluate_with(source, &env, config).expect_err("the run fails");
        let got = (err.span().start, err.span().end, err.message().to_string());
        assert_eq!(got, want, "{source} with {config:?}");
    }
}

/// Long enough that two and three threads really split the run (a run goes
/// parallel only with about 2^18 units of work a thread).
const LONG: usize = 1_200_000;

#[test]
fn the_reported_fault_is_the_first_failing_elements() {
    // `c**d` fails first in element order (element 1,000,001), though `a**b`,
    // the earlier instruction, fails in the same 16-element block (1,000,009)
    // and in pieces that other threads run (1,100,000 and 1,190,000).
    let a: Vec<i64> = (0..LONG as i64).map(|i| i % 5).collect();
    let mut b = vec![2i64; LONG];
    b[1_000_009] = -1;
    b[1_100_000] = -3;
    let mut d = vec![1i64; LONG];
    d[1_000_001] = -2;
    b[1_190_000] = -2;
    let cols: [(&str, &[i64]); 4] = [("a", &a), ("b", &b), ("c", &a), ("d", &d)];
    check_first_failing_element("a**b + c**d", &cols, 1_000_000);
    let env = cols.iter().fold(Env::new(), |e, (n, c)| e.with(n, *c));
    let err = evaluate_with("a**b + c**d", &env, options(2, 16, true)).unwrap_err();
    assert_eq!((err.span().start, err.span().end), (7, 11));

    // The chain of the fuzzing report: negative values in a long power chain
    // (non-negative integers to non-negative powers never fail).
    let values: Vec<i64> = (0..LONG as i64)
        .map(|i| {
            if i > 900_000 && i % 97 == 13 {
                -1 - i % 3
            } else {
                i % 4
            }
        })
        .collect();
    let chain = format!("a{}", "**a".repeat(40));
    check_first_failing_element(&chain, &[("a", &values)], 900_000);
}

#[test]
fn in_place_runs_report_the_same_fault() {
    let a: Vec<i64> = (0..LONG as i64).map(|i| i % 3).collect();
    let mut b = vec![1i64; LONG];
    b[1_000_010] = -1;
    let mut c = vec![2i64; LONG];
    c[1_000_002] = -1;
    let env = Env::new().with("b", &b[..]).with("c", &c[..]);
    let sig = Signature::new()
        .with("a", DType::Int64)
        .with("b", DType::Int64)
        .with("c", DType::Int64);
    let expr = Expr::compile("a**b + a**c", &sig).unwrap();
    for config in configurations() {
        let mut data = a.clone();
        let err = expr
            .eval_in_place_with(&env, "a", &[LONG], &mut data, config)
            .unwrap_err();
        // `c` fails first, at element 1,000,002: `a**c`.
        assert_eq!((err.span().start, err.span().end), (7, 11), "{config:?}");
    }
}

// The differential fuzz target found `where` refusing byte strings, which
// `docs/language.md` claimed it took: numexpr 2.14 refuses them too ("strings
// can only be operated with strings", the conformance data), so the documents
// were wrong, not the type checker. The refusal is a typed error with a span.

#[test]
fn where_refuses_byte_strings_as_numexpr_does() {
    let p = [true, false, true];
    let s: &[u8] = b"ab\0\0cdefgh\0\0";
    let strings = ArrayView::contiguous(vexpr::Data::Bytes { data: s, width: 4 }, &[3]).unwrap();
    let env = Env::new().with("p", &p[..]).with("s", strings);
    for source in ["where(p, s, s)", "where(p, s, 'zz')", "where(p, s, 1)"] {
        let err = vexpr::evaluate(source, &env).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Type, "{source}: {err}");
        assert_eq!(
            (err.span().start, err.span().end),
            (0, 5), // `where`
            "{source}: {err}"
        );
    }
}
