//! The public API: compile once and run from many threads, inputs of every
//! layout, and errors (kind, span, rendering) for bad input of every sort.

use vexpr::{Array, ArrayView, DType, Env, ErrorKind, Expr, Options, Signature, Span, evaluate};

fn f64s(a: &Array) -> &[f64] {
    a.as_slice::<f64>().expect("a float64 result")
}

#[test]
fn compiled_expressions_are_shared_by_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expr>();

    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    let expr = Expr::compile("2*a**3 - 4*a**5 + 6*log(a) + b", &sig).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let expr = &expr;
            s.spawn(move || {
                // Each thread has its own inputs, and checks its own result
                // (short ones under Miri, where this is its data race check).
                let n = if cfg!(miri) {
                    40 + t * 7
                } else {
                    10_000 + t * 977
                };
                let a: Vec<f64> = (0..n)
                    .map(|i| 0.1 + (i % 1000) as f64 / 1000.0 + t as f64)
                    .collect();
                let b: Vec<f64> = (0..n).map(|i| (i * t) as f64).collect();
                let env = Env::new().with("a", &a[..]).with("b", &b[..]);
                for round in 0..5 {
                    let threads = 1 + (t + round) % 3;
                    let r = expr
                        .eval_with(
                            &env,
                            Options::default().with_threads(threads).with_block_len(512),
                        )
                        .unwrap();
                    for (i, &got) in f64s(&r).iter().enumerate() {
                        let x = a[i];
                        // numexpr's (and vexpr's) definition of constant integer powers:
                        // binary exponentiation by multiplication.
                        let x2 = x * x;
                        let want = 2.0 * (x * x2) - 4.0 * (x * (x2 * x2)) + 6.0 * x.ln() + b[i];
                        let close = (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0);
                        assert!(close, "thread {t} element {i}: {got} vs {want}");
                    }
                }
            });
        }
    });
}

#[test]
fn eval_into_writes_the_callers_buffer() {
    let a = [1.0, 2.0, 3.0, 4.0, 5.0];
    let env = Env::new().with("a", &a[..]);
    let expr = Expr::compile("a*a + 1", &Signature::of(&env)).unwrap();
    let mut out = vec![0.0; 5];
    expr.eval_into(&env, &mut out).unwrap();
    assert_eq!(out, [2.0, 5.0, 10.0, 17.0, 26.0]);
    let mut wrong_len = vec![0.0; 4];
    assert_eq!(
        expr.eval_into(&env, &mut wrong_len).unwrap_err().kind(),
        ErrorKind::Shape
    );
    let mut wrong_type = vec![0i32; 5];
    assert_eq!(
        expr.eval_into(&env, &mut wrong_type).unwrap_err().kind(),
        ErrorKind::Input
    );
    let mut flags = vec![false; 5];
    Expr::compile("a > 2", &Signature::of(&env))
        .unwrap()
        .eval_into(&env, &mut flags)
        .unwrap();
    assert_eq!(flags, [false, false, true, true, true]);
}

#[test]
fn scalars_empty_and_single_element_inputs() {
    let a: Vec<f64> = vec![];
    let r = evaluate("a * 2", &Env::new().with("a", &a[..])).unwrap();
    assert_eq!((r.shape(), r.len()), (&[0usize][..], 0));
    let one = [3.0];
    let r = evaluate("a * k", &Env::new().with("a", &one[..]).with("k", 2.0)).unwrap();
    assert_eq!(f64s(&r), &[6.0]);
    let r = evaluate("k + 1", &Env::new().with("k", 2.0)).unwrap();
    assert_eq!((r.shape(), f64s(&r)), (&[][..], &[3.0][..]));
    let r = evaluate("2 + 3", &Env::new()).unwrap();
    assert_eq!(
        (r.dtype(), r.as_slice::<i32>().unwrap()),
        (DType::Int32, &[5][..])
    );
}

#[test]
fn strided_and_broadcast_inputs_are_read_in_place() {
    // A 3x4 row-major matrix; its second column and its transpose.
    let m: Vec<f64> = (0..12).map(f64::from).collect();
    let column = ArrayView::strided(&m[..], &[3], &[4], 1).unwrap();
    let r = evaluate("c * 10", &Env::new().with("c", column)).unwrap();
    assert_eq!(f64s(&r), &[10.0, 50.0, 90.0]);
    let every_other = ArrayView::strided(&m[..], &[6], &[2], 0).unwrap();
    let r = evaluate("e + 0.5", &Env::new().with("e", every_other)).unwrap();
    assert_eq!(f64s(&r), &[0.5, 2.5, 4.5, 6.5, 8.5, 10.5]);
    let reversed = ArrayView::strided(&m[..], &[12], &[-1], 11).unwrap();
    let r = evaluate("r", &Env::new().with("r", reversed)).unwrap();
    assert_eq!(f64s(&r)[0], 11.0);
    let transposed = ArrayView::strided(&m[..], &[4, 3], &[1, 4], 0).unwrap();
    let row = [100.0, 200.0, 300.0];
    let r = evaluate(
        "t + row",
        &Env::new().with("t", transposed).with("row", &row[..]),
    )
    .unwrap();
    assert_eq!(r.shape(), &[4, 3]);
    assert_eq!(&f64s(&r)[..3], &[100.0, 204.0, 308.0]);
    // (3,1) * (1,4) broadcasts to (3,4).
    let col = Array::from_vec(vec![1.0, 2.0, 3.0], &[3, 1]).unwrap();
    let rowv = Array::from_vec(vec![1.0, 10.0, 100.0, 1000.0], &[1, 4]).unwrap();
    let r = evaluate("x * y", &Env::new().with("x", &col).with("y", &rowv)).unwrap();
    assert_eq!(r.shape(), &[3, 4]);
    assert_eq!(f64s(&r)[4..8], [2.0, 20.0, 200.0, 2000.0]);
    assert!(ArrayView::strided(&m[..], &[4], &[4], 1).is_err());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "a million elements (`long_programs_on_short_inputs_split_across_threads` is Miri's)"
)]
fn large_inputs_run_blocked_and_threaded() {
    let n = 1_000_003;
    let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let env = Env::new().with("a", &a[..]);
    for threads in [1, 2, 3] {
        let r = vexpr::evaluate_with(
            "a * 2 - 1",
            &env,
            Options::default()
                .with_threads(threads)
                .with_block_len(1000),
        )
        .unwrap();
        assert!(
            f64s(&r)
                .iter()
                .enumerate()
                .all(|(i, &v)| v == 2.0 * i as f64 - 1.0)
        );
    }
}

/// Runs past the VM's streaming threshold (48 MiB moved) prefetch inputs,
/// stage each block and copy it out with non-temporal stores (or, in place,
/// prefetch the output for writing), and their buffers are allocated with the
/// huge-page advice: every element must still be right, at an odd length
/// whose last block is short, on one thread and two.
#[test]
#[cfg_attr(miri, ignore = "48 MiB by design: hours under Miri")]
fn runs_beyond_the_streaming_threshold_are_complete() {
    let n = (40 << 20) / 8 + 13;
    let a: Vec<f64> = (0..n).map(|i| (i % 1000) as f64).collect();
    let env = Env::new().with("a", &a[..]);
    for threads in [1, 2] {
        let options = Options::default().with_threads(threads);
        let r = vexpr::evaluate_with("a * 3 + 1", &env, options).unwrap();
        let bad = f64s(&r)
            .iter()
            .zip(&a)
            .position(|(&v, &x)| v != x * 3.0 + 1.0);
        assert_eq!(bad, None, "{threads} threads");

        let sig = Signature::new()
            .with("a", DType::Float64)
            .with("b", DType::Float64);
        let expr = Expr::compile("a * 3 + b", &sig).unwrap();
        let mut in_place = a.clone();
        let env_b = Env::new().with("b", &a[..]);
        expr.eval_in_place_with(&env_b, "a", &[n], &mut in_place, options)
            .unwrap();
        let bad = in_place.iter().zip(&a).position(|(&v, &x)| v != x * 4.0);
        assert_eq!(bad, None, "in place, {threads} threads");
    }
}

fn err(source: &str, env: &Env<'_>) -> vexpr::Error {
    evaluate(source, env).expect_err(source)
}

#[test]
fn errors_have_a_kind_a_span_and_a_caret() {
    let a = [1.0, 2.0];
    let b = [1.0, 2.0, 3.0];
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let cases: [(&str, ErrorKind, (usize, usize)); 9] = [
        ("2*sinn(a) + a", ErrorKind::UnknownFunction, (2, 6)),
        ("a + zz", ErrorKind::UnknownName, (4, 6)),
        ("sin(a, a)", ErrorKind::Arity, (0, 9)),
        ("a + b", ErrorKind::Shape, (4, 5)),
        ("a << a", ErrorKind::Type, (2, 4)),
        ("a +", ErrorKind::Syntax, (3, 3)),
        ("", ErrorKind::Syntax, (0, 0)),
        ("sin(a, axis=1)", ErrorKind::Arity, (7, 13)),
        ("(a", ErrorKind::Syntax, (2, 2)),
    ];
    for (source, kind, (start, end)) in cases {
        let e = err(source, &env);
        assert_eq!(
            (e.kind(), e.span()),
            (kind, Span::new(start, end)),
            "{source}: {}",
            e.message()
        );
        // One line for `Display`; the report with the caret is `rendered`.
        let line = e.to_string();
        assert!(
            !line.contains('\n') && line.ends_with(&format!("(at bytes {start}..{end})")),
            "{line}"
        );
        let text = e.rendered();
        assert!(text.starts_with("error: "), "{text}");
        if !source.is_empty() {
            assert!(text.contains(source) && text.contains('^'), "{text}");
        }
    }
    let shape = err("a + b", &env);
    assert!(
        shape.message().contains("[3]") && shape.message().contains("[2]"),
        "{}",
        shape.message()
    );
    // A float base takes a negative integer power; an integer base does not.
    assert!(evaluate("a ** -2", &env).is_ok());
    let n = [1i32, 2];
    let ienv = Env::new().with("n", &n[..]);
    assert_eq!(err("n ** -2", &ienv).kind(), ErrorKind::Value);
}

#[test]
#[cfg_attr(miri, ignore = "million-character sources: hours under Miri")]
fn absurd_inputs_give_errors_not_crashes() {
    let a = [0.5];
    let env = Env::new().with("a", &a[..]);
    // A million characters: an addition chain deeper than the nesting limit.
    let long = vec!["a"; 500_000].join("+");
    assert_eq!(err(&long, &env).kind(), ErrorKind::TooDeep);
    // Also long, but shallow: a million characters of whitespace around one name.
    let padded = format!("{}a{}", " ".repeat(500_000), " ".repeat(500_000));
    assert_eq!(f64s(&evaluate(&padded, &env).unwrap()), &[0.5]);
    // Ten thousand nested parentheses evaluate.
    let parens = format!("{}a + 1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(f64s(&evaluate(&parens, &env).unwrap()), &[1.5]);
    // A hundred thousand unary minuses hit the nesting limit.
    let minuses = format!("{}a", "-".repeat(100_000));
    assert_eq!(err(&minuses, &env).kind(), ErrorKind::TooDeep);
    // Just under the limit still works, on a thread with a small stack.
    let deep = format!("{}a", "-".repeat(vexpr::MAX_NESTING - 1));
    let result = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let a = [0.5];
            evaluate(&deep, &Env::new().with("a", &a[..])).map(|r| r.as_slice::<f64>().unwrap()[0])
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        result.unwrap(),
        if (vexpr::MAX_NESTING - 1).is_multiple_of(2) {
            0.5
        } else {
            -0.5
        }
    );
    // Garbage of every kind.
    for source in [
        "\u{0}",
        "a +* b",
        "((((",
        "))))",
        "a(",
        "1e",
        "0x",
        "'unterminated",
        "a ** ** b",
        "🦀 + a",
        "a\u{300}",
    ] {
        let e = err(source, &env);
        assert!(!e.to_string().is_empty());
    }
}

/// One element viewed with stride 0 as `shape`: as many elements as asked,
/// in 8 bytes of memory.
fn broadcast_one<'a>(one: &'a [f64; 1], shape: &[usize]) -> ArrayView<'a> {
    ArrayView::strided(&one[..], shape, &vec![0; shape.len()], 0).unwrap()
}

#[test]
#[cfg_attr(miri, ignore = "asks the allocator for terabytes")]
fn huge_broadcasts_are_errors_from_every_entry_point() {
    let one = [1.0];
    let is_shape_error = |e: vexpr::Error| {
        assert_eq!(e.kind(), ErrorKind::Shape, "{e}");
        assert!(e.to_string().contains("too large"), "{e}");
    };
    // [1, 2^40] by [2^40, 1]: 2^80 elements, more than a usize counts.
    let env = Env::new()
        .with("x", broadcast_one(&one, &[1, 1 << 40]))
        .with("y", broadcast_one(&one, &[1 << 40, 1]));
    let e = Expr::compile("x * y", &Signature::of(&env)).unwrap();
    is_shape_error(evaluate("x * y", &env).unwrap_err());
    is_shape_error(e.eval(&env).unwrap_err());
    is_shape_error(e.result_shape(&env).unwrap_err());
    is_shape_error(e.eval_into(&env, &mut [0.0f64; 4]).unwrap_err());
    // 2^31 by 2^31 elements: the count fits, its bytes (2^65) do not.
    let env = Env::new()
        .with("x", broadcast_one(&one, &[1, 1 << 31]))
        .with("y", broadcast_one(&one, &[1 << 31, 1]));
    is_shape_error(e.result_shape(&env).unwrap_err());
    is_shape_error(e.eval_into(&env, &mut [0.0f64; 4]).unwrap_err());
    // 2^40 elements, 8 TiB: a shape, but one that cannot be allocated.
    let env = Env::new()
        .with("x", broadcast_one(&one, &[1, 1 << 20]))
        .with("y", broadcast_one(&one, &[1 << 20, 1]));
    assert_eq!(e.result_shape(&env).unwrap(), [1 << 20, 1 << 20]);
    is_shape_error(e.eval(&env).unwrap_err());
    let wrong = e.eval_into(&env, &mut [0.0f64; 4]).unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::Shape);
    // In place, a shape whose product wraps to the length of the data.
    let sig = Signature::new().with("a", DType::Float64);
    let twice = Expr::compile("a * 2", &sig).unwrap();
    let wraps = [1 << 32, 1 << 32];
    let e = twice
        .eval_in_place(&Env::new(), "a", &wraps, &mut [0.0f64; 0])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
    let mut a = [1.0];
    let env = Env::new().with("y", broadcast_one(&one, &[1 << 40, 1 << 40]));
    let sig = Signature::of(&env).with("a", DType::Float64);
    let e = Expr::compile("a * y", &sig).unwrap();
    let e = e.eval_in_place(&env, "a", &[1], &mut a).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
}

#[test]
#[cfg_attr(miri, ignore = "asks the allocator for terabytes")]
fn reductions_of_huge_broadcasts_are_errors() {
    let one = [1.0];
    // 2^80 elements; and an empty array of nonzero dimensions that NumPy
    // would refuse to make (its reduction over axis 0 would be 2^80 long).
    for shape in [&[1 << 40, 1 << 40][..], &[0, 1 << 40, 1 << 40]] {
        let env = Env::new().with("h", broadcast_one(&one, shape));
        for source in ["sum(h)", "sum(h, axis=0)", "prod(h, axis=1)", "max(h) + 1"] {
            let e = evaluate(source, &env).unwrap_err();
            assert!(e.to_string().contains("overflows"), "{source}: {e}");
            let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
            assert!(expr.result_shape(&env).is_err(), "{source}");
        }
    }
    // 2^40 elements: counted, but the copy the reduction reads (8 TiB) cannot
    // be had; the operand of a compound expression cannot be computed either.
    let env = Env::new()
        .with("h", broadcast_one(&one, &[1 << 20, 1 << 20]))
        .with("x", broadcast_one(&one, &[1, 1 << 20]))
        .with("y", broadcast_one(&one, &[1 << 20, 1]));
    for source in [
        "sum(h)",
        "sum(h, axis=0)",
        "sum(x * y)",
        "sum(x * y, axis=1)",
    ] {
        let e = evaluate(source, &env).unwrap_err();
        assert!(e.to_string().contains("cannot allocate"), "{source}: {e}");
    }
    // A broadcast that fits is reduced as usual.
    let env = Env::new().with("h", broadcast_one(&one, &[1000, 1000]));
    let r = evaluate("sum(h, axis=0)", &env).unwrap();
    assert!(f64s(&r).iter().all(|&x| x == 1000.0));
}

#[test]
fn zero_width_strings_are_stored_as_numpy_stores_b_empty() {
    use vexpr::{Buffer, Scalar};
    // Only a variable can have type S0 (the literal '' is S1): a scalar b''.
    // The result is stored as NumPy stores b'': S1, one NUL.
    let env = Env::new().with("s", Scalar::Bytes(Vec::new()));
    let e = Expr::compile("s", &Signature::of(&env)).unwrap();
    assert_eq!(e.result_dtype(), DType::Bytes(0));
    assert_eq!(e.result_shape(&env).unwrap(), [] as [usize; 0]);
    let r = e.eval(&env).unwrap();
    assert_eq!((r.dtype(), r.shape()), (DType::Bytes(1), &[][..]));
    let nul = Buffer::Bytes {
        data: vec![0],
        width: 1,
    };
    assert_eq!(r.buffer(), &nul);
    let r = evaluate("(s == '') & (s < 'a')", &env).unwrap();
    assert_eq!(r.as_slice::<bool>().unwrap(), &[true]);
    // An empty S0 array is fine; a non-empty one cannot say its length.
    let empty = vexpr::Data::Bytes {
        data: &[],
        width: 0,
    };
    let view = ArrayView::contiguous(empty, &[2, 0]).unwrap();
    let r = evaluate("t", &Env::new().with("t", view)).unwrap();
    assert_eq!((r.dtype(), r.shape()), (DType::Bytes(1), &[2, 0][..]));
    let none = Buffer::Bytes {
        data: Vec::new(),
        width: 0,
    };
    let e = Array::from_buffer(none, &[3]).unwrap_err();
    assert!(e.to_string().contains("width 1"), "{e}");
    let a = Array::from_scalar(&Scalar::Bytes(Vec::new()));
    assert_eq!(a.dtype(), DType::Bytes(1));
    assert_eq!(a.view().shape(), &[] as &[usize]);
}

#[test]
fn an_operand_used_twice_frees_its_register_once() {
    // Regression (found by the property tests): `t0 * t0` freed t0 twice, so two
    // later values shared one register.
    let a = [1.0, 2.0, 3.0];
    let r = evaluate(
        "((a+1)*(a+1) - (a+2)) * ((a+1)*(a+1))",
        &Env::new().with("a", &a[..]),
    )
    .unwrap();
    let want: Vec<f64> = a
        .iter()
        .map(|x| ((x + 1.0) * (x + 1.0) - (x + 2.0)) * ((x + 1.0) * (x + 1.0)))
        .collect();
    assert_eq!(f64s(&r), &want[..]);
}

#[test]
fn evaluation_in_place_reads_every_input_first() {
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    // Each element depends on its own old value twice, and on another input.
    let expr = Expr::compile("a * a + where(a > 2, b, -a)", &sig).unwrap();
    let original: Vec<f64> = (0..10_000).map(|i| (i % 7) as f64).collect();
    let b: Vec<f64> = (0..10_000).map(f64::from).collect();
    let want: Vec<f64> = original
        .iter()
        .zip(&b)
        .map(|(&x, &y)| x * x + if x > 2.0 { y } else { -x })
        .collect();
    for threads in [1, 2, 3] {
        let mut a = original.clone();
        let env = Env::new().with("b", &b[..]);
        expr.eval_in_place_with(
            &env,
            "a",
            &[10_000],
            &mut a,
            Options::default().with_threads(threads).with_block_len(64),
        )
        .unwrap();
        assert_eq!(a, want);
    }
    // A 2-D target with a broadcast row.
    let mut m = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let row = [10.0, 20.0, 30.0];
    let e = Expr::compile("a + b", &sig).unwrap();
    e.eval_in_place(&Env::new().with("b", &row[..]), "a", &[2, 3], &mut m)
        .unwrap();
    assert_eq!(m, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    // The result must fit the target.
    let wide = [1.0; 4];
    let err = e
        .eval_in_place(&Env::new().with("b", &wide[..]), "a", &[2, 3], &mut m)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    let mut ints = vec![1i32; 3];
    assert_eq!(
        e.eval_in_place(&Env::new().with("b", &row[..]), "a", &[3], &mut ints)
            .unwrap_err()
            .kind(),
        ErrorKind::Input
    );
}

#[test]
fn the_function_reference_is_printed_from_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/functions.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == vexpr::unstable::reference_markdown(),
        "docs/functions.md is stale: run `cargo run -p vexpr --example function_reference > docs/functions.md`"
    );
}

#[test]
fn huge_integer_powers_of_complex_numbers_stay_exact_where_numpy_overflows() {
    // (-2.25) ** 2**31 is a positive real number too large for a double: inf + 0j.
    // NumPy (inf-infj) and numexpr overflow in intermediate products instead.
    let a = [
        vexpr::Complex64::new(-2.25, 0.0),
        vexpr::Complex64::new(0.5, 0.0),
    ];
    let r = evaluate("a ** 2147483648", &Env::new().with("a", &a[..])).unwrap();
    let r = r.as_slice::<vexpr::Complex64>().unwrap();
    assert_eq!((r[0].re, r[0].im), (f64::INFINITY, 0.0));
    assert_eq!((r[1].re, r[1].im), (0.0, 0.0));
}

#[test]
fn empty_strings_and_impossible_results_are_handled() {
    // NumPy types '' as S1.
    let r = evaluate("''", &Env::new()).unwrap();
    assert_eq!(r.dtype(), DType::Bytes(1));
    let s = Array::from_buffer(
        vexpr::Buffer::Bytes {
            data: b"ab\0".to_vec(),
            width: 1,
        },
        &[3],
    )
    .unwrap();
    let r = evaluate("s == ''", &Env::new().with("s", &s)).unwrap();
    assert_eq!(r.as_slice::<bool>().unwrap(), &[false, false, true]);
    // A broadcast far too large to allocate is an error, not an abort.
    let big = [1.0; 4];
    let x = ArrayView::strided(&big[..], &[1 << 31, 1], &[0, 1], 0).unwrap();
    let y = ArrayView::strided(&big[..], &[1, 1 << 31], &[1, 0], 0).unwrap();
    let e = evaluate("x * y", &Env::new().with("x", x).with("y", y)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
}

#[test]
fn the_seed_expression_compiles_to_five_instructions_in_three_temporaries() {
    let sig = Signature::new().with("a", DType::Float64);
    let e = Expr::compile("2*a**3 - 4*a**5 + 6*log(a)", &sig).unwrap();
    // a**3 and a**5 are numexpr's multiplication chains, each one `powi` pass; the
    // difference of the products by 2 and 4 is one instruction, and the product
    // by 6 is fused into the final addition.
    assert_eq!(
        instruction_names("2*a**3 - 4*a**5 + 6*log(a)", &sig),
        [
            "powi_ddl",
            "powi_ddl",
            "mul_sub_mul_ddddd",
            "log_dd",
            "mul_add_dddd"
        ]
    );
    assert_eq!(vexpr::unstable::program(&e).temp_count(), 3);
    // The chain gives numexpr's bits: a**5 is a * ((a*a) * (a*a)), not a*a*a*a*a.
    let a = [1.1f64, 0.3, -2.7, 1e-80, f64::NAN, f64::INFINITY];
    let env = Env::new().with("a", &a[..]);
    let got = evaluate("a**5", &env).unwrap();
    for (&g, &x) in f64s(&got).iter().zip(&a) {
        let want = x * ((x * x) * (x * x));
        assert!(g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()));
    }
    // float32 stays float32, with float32 roundings: a**7 = (a * a**2) * a**4.
    let a32 = [1.1f32, 0.3, -2.7, 1e-6, f32::NAN, 3e5];
    let env = Env::new().with("a", &a32[..]);
    let got = evaluate("a**7", &env).unwrap();
    for (&g, &x) in got.as_slice::<f32>().unwrap().iter().zip(&a32) {
        let x2 = x * x;
        let want = (x * x2) * (x2 * x2);
        assert!(
            g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
            "{x}"
        );
    }
}

#[test]
fn reductions_of_impossible_views_are_errors() {
    // A view that broadcasts one element over 2**80 positions: its count saturates
    // and copying it cannot be done, which is an error, not an abort.
    let one = [1.0];
    let huge = ArrayView::strided(&one[..], &[1 << 40, 1 << 40], &[0, 0], 0).unwrap();
    let transposed = ArrayView::strided(&one[..], &[1 << 40, 1 << 40], &[0, 0], 0).unwrap();
    assert_eq!(huge.len(), usize::MAX);
    let e = evaluate("sum(x, axis=1)", &Env::new().with("x", transposed)).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Value | ErrorKind::Shape),
        "{e}"
    );
    let e = evaluate("x + 1", &Env::new().with("x", huge)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
}

/// The instructions `source` compiles to, by overload name.
fn instruction_names(source: &str, sig: &Signature) -> Vec<String> {
    let e = Expr::compile(source, sig).unwrap();
    vexpr::unstable::program(&e)
        .code
        .iter()
        .map(|i| i.overload.name.clone())
        .collect()
}

/// `where(p > q, x, y)` runs as one fused instruction, with the comparison's
/// IEEE semantics kept: NaN on either side picks `y`, and -0 == 0.
#[test]
fn where_of_a_comparison_is_one_instruction_with_ieee_semantics() {
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    let names = |source: &str| instruction_names(source, &sig);
    assert_eq!(
        names("where(a > b, a*b, a - b)").last().unwrap(),
        "where_gt_ddddd"
    );
    assert_eq!(names("where(a == b, 1.0, a)"), ["where_eq_ddddd"]);
    // A comparison used elsewhere stays a boolean register.
    assert!(
        names("where(a < b, a, b) + (a < b)")
            .iter()
            .any(|n| n == "lt_bdd")
    );

    let nan = f64::NAN;
    let a = [1.0, 2.0, nan, 3.0, -0.0, 5.0];
    let b = [0.0, 2.0, 1.0, nan, 0.0, 6.0];
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    type Holds = fn(f64, f64) -> bool;
    let ops: [(&str, Holds); 6] = [
        (">", |p, q| p > q),
        (">=", |p, q| p >= q),
        ("<", |p, q| p < q),
        ("<=", |p, q| p <= q),
        ("==", |p, q| p == q),
        ("!=", |p, q| p != q),
    ];
    for (op, holds) in ops {
        let source = format!("where(a {op} b, 10.0, 20.0)");
        let got = evaluate(&source, &env).unwrap();
        let want: Vec<f64> = a
            .iter()
            .zip(&b)
            .map(|(&p, &q)| if holds(p, q) { 10.0 } else { 20.0 })
            .collect();
        assert_eq!(f64s(&got), want, "{source}");
    }
}

/// `abs(x - y)`, `abs(x) + abs(y)`, `(-x) * y` and `x*y ± z*w` run as single instructions with the bits
/// of the separate ones (signed zeros, infinities and NaN included), and are
/// left alone when an inner result is used twice.
#[test]
fn sign_operations_fuse_into_their_neighbours() {
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    let names = |source: &str| instruction_names(source, &sig);
    assert_eq!(
        names("abs(a - b) / (abs(a) + abs(b))"),
        ["abs_sub_ddd", "add_abs_ddd", "div_ddd"]
    );
    assert_eq!(names("abs(a + b)"), ["abs_add_ddd"]);
    assert_eq!(names("abs(a * b)"), ["abs_mul_ddd"]);
    assert_eq!(names("exp(-a*a)"), ["neg_mul_ddd", "exp_dd"]);
    assert_eq!(names("a*a + b*b"), ["mul_add_mul_ddddd"]);
    assert_eq!(names("a*b - b*b"), ["mul_sub_mul_ddddd"]);
    // A product used twice is computed once, and the sum takes it as an operand.
    assert_eq!(names("a*b + (a*b)*a"), ["mul_ddd", "mul_add_dddd"]);
    assert!(names("abs(a - b) + (a - b)").contains(&"sub_ddd".to_string()));

    let special = [
        0.0,
        -0.0,
        1.5,
        -2.25,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e308,
    ];
    let (a, b): (Vec<f64>, Vec<f64>) = special
        .iter()
        .flat_map(|&x| special.iter().map(move |&y| (x, y)))
        .unzip();
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    type Reference = fn(f64, f64) -> f64;
    let cases: [(&str, Reference); 7] = [
        ("abs(a + b)", |x, y| (x + y).abs()),
        ("abs(a - b)", |x, y| (x - y).abs()),
        ("abs(a * b)", |x, y| (x * y).abs()),
        ("abs(a) + abs(b)", |x, y| x.abs() + y.abs()),
        ("-a * b", |x, y| (-x) * y),
        ("a*b + b*b", |x, y| x * y + y * y),
        ("a*a - a*b", |x, y| x * x - x * y),
    ];
    for (source, reference) in cases {
        let got = evaluate(source, &env).unwrap();
        for ((&g, &x), &y) in f64s(&got).iter().zip(&a).zip(&b) {
            let want = reference(x, y);
            assert!(
                g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
                "{source} at ({x}, {y}): {g}, want {want}"
            );
        }
    }
}

/// A kernel's refusal in a parallel run (integers to a negative power, in the
/// last piece only) is the same error as on one thread, and a run without one
/// succeeds on every thread count.
#[test]
#[cfg_attr(
    miri,
    ignore = "two million elements (`long_programs_on_short_inputs_split_across_threads` is Miri's)"
)]
fn faults_in_parallel_runs_are_reported() {
    let n = 2_000_000;
    let a: Vec<i64> = (0..n as i64).map(|i| i % 7).collect();
    let mut b = vec![2i64; n];
    let sig = Signature::new()
        .with("a", DType::Int64)
        .with("b", DType::Int64);
    let expr = Expr::compile("a ** b + a", &sig).unwrap();
    for threads in [1, 2, 3] {
        let options = Options::default().with_threads(threads);
        let env = Env::new().with("a", &a[..]).with("b", &b[..]);
        let ok = expr.eval_with(&env, options).unwrap();
        let got = ok.as_slice::<i64>().unwrap();
        assert!(got.iter().zip(&a).all(|(&g, &x)| g == x * x + x));
    }
    b[n - 3] = -1;
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let errors: Vec<String> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let options = Options::default().with_threads(threads);
            expr.eval_with(&env, options).unwrap_err().to_string()
        })
        .collect();
    assert!(errors[0].contains("negative"), "{}", errors[0]);
    assert!(errors.iter().all(|e| *e == errors[0]), "{errors:?}");
}

/// The VM weighs elements times instructions before going parallel, so a long
/// program over a short input runs in pieces on several threads: a run small
/// enough for Miri to check the parallel paths (pieces handed out under a
/// lock, per-thread scratch) for data races. Every element is written once,
/// and the earliest fault is reported whatever the thread count.
#[test]
fn long_programs_on_short_inputs_split_across_threads() {
    let sig = Signature::new()
        .with("a", DType::Int64)
        .with("b", DType::Int64);
    let chain: String = (1..=64).map(|k| format!(" + {k}")).collect();
    let expr = Expr::compile(&format!("a ** b{chain}"), &sig).unwrap();
    // 65 instructions of cost 1 over 12,289 elements: 798,785 units of work,
    // at least the 2^18 a thread that the VM asks of each of three threads
    // (under Miri it asks 2^10, and 67 elements in 16-element blocks do).
    assert_eq!(vexpr::unstable::program(&expr).code.len(), 65);
    let (n, block_len) = if cfg!(miri) { (67, 16) } else { (12_289, 256) };
    let a: Vec<i64> = (0..n as i64).map(|i| i % 7 - 3).collect();
    let mut b = vec![2i64; n];
    let run = |b: &[i64], threads: usize| {
        let env = Env::new().with("a", &a[..]).with("b", b);
        let options = Options::default()
            .with_threads(threads)
            .with_block_len(block_len);
        expr.eval_with(&env, options)
    };
    for threads in [1, 2, 3] {
        let r = run(&b, threads).unwrap();
        let got = r.as_slice::<i64>().unwrap();
        assert!(got.iter().zip(&a).all(|(&g, &x)| g == x * x + 2080));
    }
    b[n / 2] = -1;
    b[n - 3] = -1;
    let errors: Vec<String> = [1, 2, 3]
        .into_iter()
        .map(|threads| run(&b, threads).unwrap_err().to_string())
        .collect();
    assert!(errors[0].contains("negative"), "{}", errors[0]);
    assert!(errors.iter().all(|e| *e == errors[0]), "{errors:?}");
}

#[test]
fn positional_inputs_match_named_ones_and_are_checked() {
    use vexpr::Value;
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("unused", DType::Int32)
        .with("b", DType::Float64);
    let e = Expr::compile("where(a > b, a * b, a - b) + sum(b)", &sig).unwrap();
    let a: Vec<f64> = (0..37).map(|i| f64::from(i) * 0.5).collect();
    let b: Vec<f64> = (0..37).map(|i| 9.0 - f64::from(i) * 0.25).collect();
    let env = Env::new()
        .with("a", &a[..])
        .with("unused", 0i32)
        .with("b", &b[..]);
    let named = e.eval(&env).unwrap();
    let inputs = [Value::from(&a[..]), Value::from(0i32), Value::from(&b[..])];
    assert_eq!(e.result_shape_positional(&inputs).unwrap(), [37]);
    let mut out = vec![0.0; 37];
    e.eval_into_positional(&inputs, &mut out, Options::default())
        .unwrap();
    assert_eq!(named.as_slice::<f64>().unwrap(), &out[..]);
    // The one-pass form allocates once it knows the shape.
    let mut storage = Vec::new();
    e.eval_positional_with(&inputs, Options::default(), |shape: &[usize]| {
        storage.resize(shape.iter().product(), f64::NAN);
        Ok::<_, vexpr::Error>(&mut storage[..])
    })
    .unwrap();
    assert_eq!(storage, out);
    // Wrong count, wrong type, wrong output size: errors, not panics.
    assert_eq!(
        e.result_shape_positional(&inputs[..2]).unwrap_err().kind(),
        ErrorKind::Input
    );
    let wrong = [Value::from(&b[..]), Value::from(0i32), Value::from(1i64)];
    assert_eq!(
        e.result_shape_positional(&wrong).unwrap_err().kind(),
        ErrorKind::Type
    );
    let mut short = vec![0.0; 36];
    assert_eq!(
        e.eval_into_positional(&inputs, &mut short, Options::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Shape
    );
}

/// The public types have the traits the Rust API Guidelines ask for
/// (C-COMMON-TRAITS, C-SEND-SYNC): checked at compile time, and the ones
/// with behaviour (equality, hashing, display, parsing) at run time.
#[test]
fn public_types_have_the_common_traits() {
    use std::collections::HashSet;
    use std::fmt::{Debug, Display};
    use std::hash::Hash;
    use std::str::FromStr;
    use vexpr::{Buffer, Data, Format, InterruptFlag, Scalar, Storage, Value};

    fn send_sync<T: Send + Sync>() {}
    send_sync::<Expr>();
    send_sync::<Array>();
    send_sync::<vexpr::Error>();
    send_sync::<Options>();
    send_sync::<Signature>();
    send_sync::<Env<'static>>();
    send_sync::<ArrayView<'static>>();
    send_sync::<Value<'static>>();
    send_sync::<InterruptFlag>();
    send_sync::<DType>();

    fn value_type<T: Debug + Clone + PartialEq + Eq + Hash>() {}
    value_type::<DType>();
    value_type::<Storage>();
    value_type::<Format>();
    value_type::<Span>();
    value_type::<ErrorKind>();
    value_type::<Signature>();
    fn copy<T: Copy>() {}
    copy::<DType>();
    copy::<Storage>();
    copy::<Format>();
    copy::<Span>();
    copy::<ErrorKind>();
    copy::<Options>();
    copy::<Data<'static>>();
    fn shown<T: Debug + Display>() {}
    shown::<DType>();
    shown::<Storage>();
    shown::<Span>();
    shown::<ErrorKind>();
    shown::<vexpr::Error>();
    shown::<Expr>();
    shown::<Signature>();
    shown::<Scalar>();
    fn parsed<T: FromStr<Err = vexpr::Error>>() {}
    parsed::<DType>();
    parsed::<Storage>();
    fn defaulted<T: Default + Debug>() {}
    defaulted::<Options>();
    defaulted::<Signature>();
    defaulted::<Env<'static>>();
    defaulted::<Span>();
    defaulted::<InterruptFlag>();
    fn cloned<T: Clone + Debug>() {}
    cloned::<Expr>();
    cloned::<Array>();
    cloned::<Buffer>();
    cloned::<vexpr::Error>();
    cloned::<Value<'static>>();
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    error::<vexpr::Error>();

    let kinds: HashSet<DType> = ["float64", "f8", "double"]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(kinds.len(), 1);
    assert_eq!(DType::Bytes(3).to_string(), "S3");
    assert_eq!(Span::new(1, 4).to_string(), "1..4");
    assert_eq!(ErrorKind::Shape.to_string(), "shape error");
}

/// Arrays and views that do not fit their data are errors of kind
/// `Shape` without a place, whose `Display` is the message alone.
#[test]
fn shape_errors_of_arrays_and_views_are_errors() {
    let e = Array::from_vec(vec![1.0f64, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
    assert_eq!(e.span(), Span::default());
    assert_eq!(e.source_text(), None);
    assert_eq!(e.to_string(), e.message());
    assert_eq!(e.rendered(), format!("error: {}", e.message()));
    let x = [1.0f64; 4];
    let e = ArrayView::strided(&x[..], &[3], &[2], 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape);
    let e = ArrayView::from_bytes(
        &[0u8; 3],
        vexpr::Format::native(vexpr::Storage::Float32),
        &[1],
        &[4],
        0,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Shape, "{e}");
}

#[test]
fn options_cap_the_cpu_level_of_each_run() {
    use vexpr::CpuLevel;
    let n = 50_000;
    let a: Vec<f64> = (0..n).map(|i| 0.1 + (i as f64) * 1e-4).collect();
    let b: Vec<f64> = (0..n).map(|i| 2.0 - (i as f64) * 3e-5).collect();
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let sources = [
        "2*a**3 - 4*a**5 + 6*log(a)",
        "exp(-a*a) * sqrt(b)",
        "sin(a)**2 + cos(b)**2",
        "where(a > b, a*b, a / b)",
        "arctan2(a, b) + tanh(a*b)",
    ];
    let hardware = CpuLevel::detected();
    for source in sources {
        let default = vexpr::evaluate(source, &env).unwrap();
        for level in CpuLevel::ALL.into_iter().filter(|&l| l <= hardware) {
            let capped = Options::default().with_threads(2).with_cpu(level);
            let jit = vexpr::evaluate_with(source, &env, capped).unwrap();
            let passes = vexpr::evaluate_with(source, &env, capped.with_jit(false)).unwrap();
            // Machine code gives the bits of the passes at its level...
            assert_eq!(
                f64s(&jit).iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                f64s(&passes)
                    .iter()
                    .map(|x| x.to_bits())
                    .collect::<Vec<_>>(),
                "{source} at {level}"
            );
            // ...and every level agrees with the default within the functions'
            // error bounds (4 ulps each, a few operations deep).
            for (x, y) in f64s(&jit).iter().zip(f64s(&default)) {
                assert!(
                    (x - y).abs() <= 1e-14 * y.abs().max(1.0),
                    "{source} at {level}: {x} vs {y}"
                );
            }
        }
    }
    if hardware < CpuLevel::Avx512 {
        let above = Options::default().with_cpu(CpuLevel::Avx512);
        let err = vexpr::evaluate_with("a + b", &env, above).unwrap_err();
        assert_eq!(err.kind(), vexpr::ErrorKind::Unsupported);
        assert!(err.to_string().contains("avx512"), "{err}");
    }
    // The process level is the default's, and a run cap never outlives its run.
    assert!(vexpr::cpu_level() <= hardware);
}

/// Programs whose registers are all narrow (booleans, int32) run in longer
/// blocks by default (up to 8192 elements): the bits of short blocks, across
/// the block edges and the last, partial block.
#[test]
fn narrow_programs_in_long_blocks_give_the_bits_of_short_ones() {
    let n: usize = 3 * 8192 + 5;
    let p: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
    let q: Vec<bool> = (0..n).map(|i| i % 7 < 3).collect();
    let a: Vec<i32> = (0..n as i32)
        .map(|i| i.wrapping_mul(-1_640_531_535))
        .collect();
    let b: Vec<i32> = (0..n as i32).map(|i| i.wrapping_mul(40_503) >> 3).collect();
    let env = Env::new()
        .with("p", &p[..])
        .with("q", &q[..])
        .with("a", &a[..])
        .with("b", &b[..]);
    for source in [
        "p & q | ~p",
        "(a > b) & p | ~q",
        "a*b + a",
        "where(a < b, a, b)",
    ] {
        let run = |options: Options| {
            let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
            expr.eval_with(&env, options.with_threads(1)).unwrap()
        };
        let long = run(Options::default());
        let short = run(Options::default().with_block_len(64));
        assert_eq!(long, short, "{source}");
    }
}

/// `unstable::eval_contiguous` gives what `eval_into` gives, reads NumPy-style
/// boolean bytes (any nonzero byte is true), and refuses inputs of the wrong
/// length or alignment, and expressions with reductions or strings, with an
/// `Input` error rather than reading past a slice.
#[test]
fn eval_contiguous_matches_eval_into_and_refuses_what_it_cannot_read() {
    use vexpr::unstable::eval_contiguous;
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("n", DType::Int32)
        .with("p", DType::Bool);
    let expr = Expr::compile("where(p, a * n, -a)", &sig).unwrap();
    let a: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5 - 7.0).collect();
    let n: Vec<i32> = (0..1000).map(|i| i % 17 - 8).collect();
    let stored: Vec<u8> = (0..1000).map(|i| [0u8, 1, 2, 255][i % 4]).collect();
    let p: Vec<bool> = stored.iter().map(|&b| b != 0).collect();
    let env = Env::new()
        .with("a", &a[..])
        .with("n", &n[..])
        .with("p", &p[..]);
    let mut want = vec![0.0f64; 1000];
    expr.eval_into(&env, &mut want).unwrap();
    let mut got = vec![0.0f64; 1000];
    let inputs = [
        bytemuck::cast_slice(&a),
        bytemuck::cast_slice(&n),
        &stored[..],
    ];
    eval_contiguous(
        &expr,
        &inputs,
        bytemuck::cast_slice_mut(&mut got),
        Options::default(),
    )
    .unwrap();
    assert_eq!(got, want);

    let kind = |r: vexpr::Result<()>| r.unwrap_err().kind();
    let out = bytemuck::cast_slice_mut(&mut got);
    let short = [bytemuck::cast_slice(&a[1..]), inputs[1], inputs[2]];
    assert_eq!(
        kind(eval_contiguous(&expr, &short, out, Options::default())),
        ErrorKind::Input
    );
    assert_eq!(
        kind(eval_contiguous(
            &expr,
            &inputs[..2],
            out,
            Options::default()
        )),
        ErrorKind::Input
    );
    let bytes: &[u8] = bytemuck::cast_slice(&a);
    let misaligned = [
        &bytes[1..1 + 999 * 8],
        &inputs[1][..999 * 4],
        &inputs[2][..999],
    ];
    let out = &mut bytemuck::cast_slice_mut::<f64, u8>(&mut got)[..999 * 8];
    assert_eq!(
        kind(eval_contiguous(&expr, &misaligned, out, Options::default())),
        ErrorKind::Input
    );
    let reduction =
        Expr::compile("a - sum(a)", &Signature::new().with("a", DType::Float64)).unwrap();
    let mut one = [0.0f64; 1000];
    let r = eval_contiguous(
        &reduction,
        &[bytemuck::cast_slice(&a)],
        bytemuck::cast_slice_mut(&mut one),
        Options::default(),
    );
    assert_eq!(kind(r), ErrorKind::Input);
}

/// An expression that is one name copies its array by slices of bytes
/// (`Run::copy_piece` in `vm/mod.rs`), stored past the caches in long
/// runs: every numeric dtype, lengths around a block and past the
/// non-temporal and streaming sizes, one and two threads, into a new array
/// and into the caller's buffer, bit for bit (NaN payloads, signed zeros,
/// subnormals).
#[test]
#[cfg_attr(miri, ignore = "tens of MiB")]
fn a_name_alone_copies_its_array_bit_for_bit() {
    fn check<T: vexpr::Element + bytemuck::Pod>(values: &[T], threads: usize) {
        let env = Env::new().with("a", values);
        let options = Options::default().with_threads(threads);
        let r = vexpr::evaluate_with("a", &env, options).unwrap();
        let want: &[u8] = bytemuck::cast_slice(values);
        assert!(
            r.view().bytes() == want,
            "{} of {:?}",
            values.len(),
            r.dtype()
        );
        let sig = Signature::new().with("a", r.dtype());
        let mut out = vec![T::zeroed(); values.len()];
        Expr::compile("a", &sig)
            .unwrap()
            .eval_into_with(&env, &mut out, options)
            .unwrap();
        assert!(bytemuck::cast_slice::<T, u8>(&out) == want);
    }
    for n in [0, 1, 63, 1000, 8193, 1_100_000, 3_200_000] {
        let bits: Vec<u64> = (0..n as u64)
            .map(|i| {
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .rotate_left(i as u32 % 64)
            })
            .collect();
        let f64s: Vec<f64> = bits.iter().map(|&b| f64::from_bits(b)).collect();
        let f32s: Vec<f32> = bits.iter().map(|&b| f32::from_bits(b as u32)).collect();
        let i64s: Vec<i64> = bits.iter().map(|&b| b as i64).collect();
        let i32s: Vec<i32> = bits.iter().map(|&b| (b >> 32) as i32).collect();
        for threads in [1, 2] {
            check(&f64s, threads);
            check(&f32s, threads);
            check(&i64s, threads);
            check(&i32s, threads);
        }
    }
}
