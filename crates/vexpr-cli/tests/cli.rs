//! End-to-end tests of the `vexpr` binary's `eval`, `dis` and `bench`
//! commands: each test writes its `.npy` inputs with the `npyz` crate directly
//! (not through the binary's own reader) in a scratch folder, runs the built
//! binary, and checks its output files, stdout, stderr and exit status.

mod common;

use common::*;
use npyz::Order;

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(1e-300)
}

#[test]
fn the_polynomial_matches_plain_rust() {
    let dir = scratch();
    let a: Vec<f64> = (0..10_000).map(|i| 0.1 + f64::from(i) / 10_000.0).collect();
    save(&path(&dir, "a.npy"), &[10_000], &a);
    for threads in ["1", "2"] {
        let out = vexpr(
            dir.path(),
            &[
                "eval",
                "2*a**3 - 4*a**5 + 6*log(a)",
                "a=a.npy",
                "-o",
                "c.npy",
                "--threads",
                threads,
            ],
        );
        assert_status(&out, 0);
        assert_eq!(stdout(&out), "", "with -o nothing is printed");
        let (descr, shape, c) = load::<f64>(&path(&dir, "c.npy"));
        assert_eq!((descr.as_str(), shape), ("<f8", vec![10_000]));
        for (&x, &got) in a.iter().zip(&c) {
            let want = 2.0 * x.powi(3) - 4.0 * x.powi(5) + 6.0 * x.ln();
            assert!(close(got, want), "a = {x}: got {got}, want {want}");
        }
    }
}

#[test]
fn every_dtype_round_trips_through_eval() {
    let dir = scratch();
    let shape = [2u64, 3];
    fn check<T: AutoSerialize + Deserialize + Copy + PartialEq + std::fmt::Debug>(
        dir: &TempDir,
        shape: &[u64],
        values: &[T],
        descr: &str,
    ) {
        save(&path(dir, "in.npy"), shape, values);
        let out = vexpr(dir.path(), &["eval", "a", "a=in.npy", "-o", "out.npy"]);
        assert_status(&out, 0);
        let (got_descr, got_shape, got) = load::<T>(&path(dir, "out.npy"));
        assert_eq!(got_descr, descr);
        assert_eq!(got_shape, shape);
        assert_eq!(got, values);
    }
    check(
        &dir,
        &shape,
        &[true, false, true, true, false, false],
        "|b1",
    );
    check(&dir, &shape, &[1i32, -2, 3, i32::MAX, i32::MIN, 0], "<i4");
    check(&dir, &shape, &[1i64, -2, 3, i64::MAX, i64::MIN, 0], "<i8");
    check(
        &dir,
        &shape,
        &[1.5f32, -2.0, 3.25, f32::MAX, f32::MIN_POSITIVE, 0.0],
        "<f4",
    );
    check(
        &dir,
        &shape,
        &[1.5f64, -2.0, 1e300, f64::MAX, 5e-324, -0.0],
        "<f8",
    );
    let z: Vec<vexpr::Complex64> = (0..6)
        .map(|i| vexpr::Complex64::new(f64::from(i), -0.5))
        .collect();
    check(&dir, &shape, &z, "<c16");

    save_strings(&path(&dir, "s.npy"), &[3], 4, &[b"ab", b"wxyz", b""]);
    let out = vexpr(dir.path(), &["eval", "s", "s=s.npy", "-o", "out.npy"]);
    assert_status(&out, 0);
    let (descr, shape, got) = load::<Vec<u8>>(&path(&dir, "out.npy"));
    assert_eq!((descr.as_str(), shape), ("|S4", vec![3]));
    assert_eq!(got, [b"ab".to_vec(), b"wxyz".to_vec(), Vec::new()]);
}

#[test]
fn n_dimensional_shapes_and_broadcasting() {
    let dir = scratch();
    let a: Vec<f64> = (0..24).map(f64::from).collect();
    save(&path(&dir, "a.npy"), &[2, 3, 4], &a);
    let out = vexpr(dir.path(), &["eval", "a*2 + 1", "a=a.npy", "-o", "c.npy"]);
    assert_status(&out, 0);
    let (_, shape, c) = load::<f64>(&path(&dir, "c.npy"));
    assert_eq!(shape, [2, 3, 4]);
    assert_eq!(c, a.iter().map(|x| x * 2.0 + 1.0).collect::<Vec<_>>());

    // (3, 1) with (4,) broadcasts to (3, 4).
    save(&path(&dir, "col.npy"), &[3, 1], &[0i64, 10, 20]);
    save(&path(&dir, "row.npy"), &[4], &[1i64, 2, 3, 4]);
    let out = vexpr(
        dir.path(),
        &["eval", "c + r", "c=col.npy", "r=row.npy", "-o", "s.npy"],
    );
    assert_status(&out, 0);
    let (descr, shape, s) = load::<i64>(&path(&dir, "s.npy"));
    assert_eq!((descr.as_str(), shape), ("<i8", vec![3, 4]));
    assert_eq!(s, [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24]);

    // A 3-d result prints as NumPy nests it.
    let small: Vec<i32> = (0..8).collect();
    save(&path(&dir, "small.npy"), &[2, 2, 2], &small);
    let out = vexpr(dir.path(), &["eval", "a", "a=small.npy"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "array([[[0, 1],\n        [2, 3]],\n\n       [[4, 5],\n        [6, 7]]], dtype=int32)\n"
    );
}

#[test]
fn fortran_order_files_give_fortran_order_results() {
    let dir = scratch();
    // The 2x3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    save_ordered(
        &path(&dir, "f.npy"),
        &[2, 3],
        &[1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0],
        Order::Fortran,
    );
    // Streamed in the file's order, the result keeps it (NumPy's order='K').
    let out = vexpr(dir.path(), &["eval", "a * 10", "a=f.npy", "-o", "c.npy"]);
    assert_status(&out, 0);
    let file = npyz::NpyFile::new(std::fs::File::open(path(&dir, "c.npy")).unwrap()).unwrap();
    assert_eq!(
        (file.order(), file.shape().to_vec()),
        (Order::Fortran, vec![2, 3])
    );
    assert_eq!(
        file.into_vec::<f64>().unwrap(),
        [10.0, 40.0, 20.0, 50.0, 30.0, 60.0]
    );
    // Printed, it is the matrix.
    let out = vexpr(dir.path(), &["eval", "a", "a=f.npy"]);
    assert_status(&out, 0);
    assert!(
        stdout(&out).contains("[[1., 2., 3.],\n       [4., 5., 6.]]"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn narrower_types_widen_safely_and_others_are_refused() {
    let dir = scratch();
    save(&path(&dir, "u8.npy"), &[3], &[0u8, 200, 255]);
    save(&path(&dir, "u32.npy"), &[2], &[0u32, u32::MAX]);
    save(
        &path(&dir, "f16.npy"),
        &[2],
        &[
            npyz::half::f16::from_f32(1.5),
            npyz::half::f16::from_f32(-0.25),
        ],
    );

    let out = vexpr(dir.path(), &["eval", "a", "a=u8.npy", "-o", "o.npy"]);
    assert_status(&out, 0);
    assert_eq!(
        load::<i32>(&path(&dir, "o.npy")),
        ("<i4".to_string(), vec![3], vec![0, 200, 255])
    );

    let out = vexpr(dir.path(), &["eval", "a", "a=u32.npy", "-o", "o.npy"]);
    assert_status(&out, 0);
    assert_eq!(
        load::<i64>(&path(&dir, "o.npy")).2,
        [0, i64::from(u32::MAX)]
    );

    let out = vexpr(dir.path(), &["eval", "a", "a=f16.npy", "-o", "o.npy"]);
    assert_status(&out, 0);
    assert_eq!(
        load::<f32>(&path(&dir, "o.npy")),
        ("<f4".to_string(), vec![2], vec![1.5, -0.25])
    );

    save(&path(&dir, "u64.npy"), &[1], &[7u64]);
    let out = vexpr(dir.path(), &["eval", "a", "a=u64.npy"]);
    assert_status(&out, 1);
    assert!(stderr(&out).contains("uint64"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("float64"),
        "the message lists what is supported"
    );
}

#[test]
fn numbers_on_the_command_line_are_scalars() {
    let dir = scratch();
    save(&path(&dir, "a.npy"), &[3], &[1.0f64, 2.0, 3.0]);
    let cases: [(&[&str], &str); 7] = [
        (&["eval", "a*k", "a=a.npy", "k=3"], "array([3., 6., 9.])\n"),
        (&["eval", "k + 1", "k=3"], "array(4)\n"),
        (&["eval", "x / 2", "x=2.5"], "array(1.25)\n"),
        (
            &["eval", "a * s", "a=a.npy", "s=1e-3"],
            "array([0.001, 0.002, 0.003])\n",
        ),
        (&["eval", "b | False", "b=True"], "array(True)\n"),
        (&["eval", "z * 2", "z=1+2j"], "array(2.+4.j)\n"),
        (
            &["eval", "a + m", "a=a.npy", "m=-1"],
            "array([0., 1., 2.])\n",
        ),
    ];
    for (args, want) in cases {
        let out = vexpr(dir.path(), args);
        assert_status(&out, 0);
        assert_eq!(stdout(&out), want, "{args:?}");
        assert_eq!(stderr(&out), "", "{args:?}");
    }
    // An int literal is int64, as NumPy's default int.
    let out = vexpr(dir.path(), &["eval", "k * 2", "k=21", "-o", "k.npy"]);
    assert_status(&out, 0);
    assert_eq!(
        load::<i64>(&path(&dir, "k.npy")),
        ("<i8".to_string(), vec![], vec![42])
    );
}

#[test]
fn long_results_print_summarised_with_their_shape() {
    let dir = scratch();
    let a: Vec<i64> = (0..10_000).collect();
    save(&path(&dir, "a.npy"), &[10_000], &a);
    let out = vexpr(dir.path(), &["eval", "a", "a=a.npy"]);
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "array([   0,    1,    2, ..., 9997, 9998, 9999], shape=(10000,))\n"
    );
}

#[test]
fn an_expression_may_start_with_a_minus() {
    let dir = scratch();
    save(&path(&dir, "a.npy"), &[2], &[1.5f64, -2.0]);
    let out = vexpr(dir.path(), &["eval", "-a", "a=a.npy"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "array([-1.5,  2. ])\n");
    let out = vexpr(dir.path(), &["eval", "-a*2", "a=a.npy", "--threads", "1"]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "array([-3.,  4.])\n");
    let out = vexpr(dir.path(), &["dis", "-a"]);
    assert_status(&out, 0);
    assert!(stdout(&out).contains("neg"), "{}", stdout(&out));
}

#[test]
fn dis_prints_the_bytecode() {
    let dir = scratch();
    let out = vexpr(dir.path(), &["dis", "2*a + 3*b"]);
    assert_status(&out, 0);
    let listing = stdout(&out);
    for part in ["registers:", "code:", "mul", "add", "float64"] {
        assert!(listing.contains(part), "no `{part}` in\n{listing}");
    }
    // Values set the variables' types: an int32 file and an int64 literal.
    save(&path(&dir, "i.npy"), &[2], &[1i32, 2]);
    let out = vexpr(dir.path(), &["dis", "log(a) + n", "a=i.npy", "n=3"]);
    assert_status(&out, 0);
    let listing = stdout(&out);
    for part in ["int32", "int64", "log"] {
        assert!(listing.contains(part), "no `{part}` in\n{listing}");
    }
}

#[test]
fn bench_json_is_one_line_with_the_keys() {
    let dir = scratch();
    let out = vexpr(
        dir.path(),
        &[
            "bench",
            "2*a + b",
            "--n",
            "1000",
            "--repeat",
            "3",
            "--threads",
            "1",
            "--json",
        ],
    );
    assert_status(&out, 0);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let json: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(json["expr"], "2*a + b");
    assert_eq!(json["n"], 1000);
    assert_eq!(json["threads"], 1);
    for key in ["median_ns_per_elem", "min_ns_per_elem"] {
        let v = json[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is a number in {text}"));
        assert!(v > 0.0 && v.is_finite(), "{key} = {v}");
    }
    assert!(json["min_ns_per_elem"].as_f64() <= json["median_ns_per_elem"].as_f64());
    assert_eq!(json["cpu"], vexpr::cpu_level().name());
    assert!(json["machine_code"].is_boolean(), "{text}");
    assert_eq!(json.as_object().unwrap().len(), 7);

    // Without --json: a readable report.
    let out = vexpr(
        dir.path(),
        &["bench", "a > 0.5", "--n", "100", "--repeat", "2"],
    );
    assert_status(&out, 0);
    assert!(stdout(&out).contains("ns/elem"), "{}", stdout(&out));
}

/// `vexpr ARGS` with `VEXPR_CPU=level`.
fn vexpr_at(level: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .args(args)
        .current_dir(dir)
        .env("VEXPR_CPU", level)
        .output()
        .expect("the vexpr binary runs")
}

#[test]
fn vexpr_cpu_caps_the_level_and_bench_reports_it() {
    let dir = scratch();
    let a: Vec<f64> = (0..40).map(|i| 0.1 + i as f64 / 7.0).collect();
    save(&path(&dir, "a.npy"), &[40], &a);
    let detected = vexpr::CpuLevel::detected();
    let bench = [
        "bench",
        "exp(a) + 1",
        "--n",
        "4096",
        "--repeat",
        "2",
        "--json",
    ];
    for level in vexpr::CpuLevel::ALL {
        let out = vexpr_at(level.name(), dir.path(), &bench);
        if level > detected {
            assert_fails_cleanly(&out, "supports instruction-set levels up to", level.name());
            continue;
        }
        assert_status(&out, 0);
        let json: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert_eq!(json["cpu"], level.name());
        // Machine code exists for AVX-512 (and, once generated there, other
        // levels); the baseline never has any.
        if level == vexpr::CpuLevel::Baseline {
            assert_eq!(json["machine_code"], false);
        }
        if level == vexpr::CpuLevel::Avx512 {
            assert_eq!(json["machine_code"], true);
        }
        // eval at that level gives the same numbers as the default.
        let capped = vexpr_at(level.name(), dir.path(), &["eval", "exp(a)", "a=a.npy"]);
        let default = vexpr(dir.path(), &["eval", "exp(a)", "a=a.npy"]);
        assert_status(&capped, 0);
        assert_eq!(stdout(&capped), stdout(&default));
    }
    // The text report names the level too; a name that is no level is refused.
    let out = vexpr_at(
        "baseline",
        dir.path(),
        &["bench", "a*2", "--n", "64", "--repeat", "1"],
    );
    assert!(
        stdout(&out).contains("cpu:     baseline (one pass per instruction)"),
        "{}",
        stdout(&out)
    );
    let out = vexpr_at("sse9", dir.path(), &["eval", "1"]);
    assert_fails_cleanly(&out, "unknown CPU level `sse9`", "sse9");
}

#[test]
fn exit_status_is_1_for_evaluation_errors_with_a_caret() {
    let dir = scratch();
    save(&path(&dir, "a.npy"), &[2], &[1.0f64, 2.0]);
    let out = vexpr(dir.path(), &["eval", "2*sinn(a)", "a=a.npy"]);
    assert_status(&out, 1);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("sinn") && err.contains("^^^^"), "{err}");
    // The caret sits under `sinn`.
    let code = err.lines().find(|l| l.contains("2*sinn(a)")).unwrap();
    let carets = err.lines().find(|l| l.contains('^')).unwrap();
    assert_eq!(carets.find('^'), code.find("sinn"));

    for args in [
        &["eval", "a +", "a=a.npy"][..],
        &["eval", "a + b", "a=a.npy"],
        &["dis", "f(a)"],
        &["bench", "a +", "--n", "10"],
    ] {
        let out = vexpr(dir.path(), args);
        assert_status(&out, 1);
        assert!(stderr(&out).contains('^'), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn exit_status_is_2_for_usage_errors() {
    let dir = scratch();
    for args in [
        &["eval"][..],
        &["eval", "a", "a"],
        &["eval", "a", "a="],
        &["eval", "a", "2a=1"],
        &["eval", "a", "a=1", "a=2"],
        &["eval", "a", "a=1", "--threads", "0"],
        &["eval", "a", "a=99999999999999999999"],
        &["bench", "a", "--n", "0"],
        &["dis"],
        &["frobnicate"],
    ] {
        let out = vexpr(dir.path(), args);
        assert_status(&out, 2);
        assert!(stderr(&out).contains("error"), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn bad_files_give_status_1_and_a_message() {
    let dir = scratch();
    std::fs::write(
        path(&dir, "garbage.npy"),
        b"this is not a numpy file at all",
    )
    .unwrap();
    save(&path(&dir, "good.npy"), &[100], &[1.0f64; 100]);
    let good = std::fs::read(path(&dir, "good.npy")).unwrap();
    std::fs::write(path(&dir, "short.npy"), &good[..good.len() - 8]).unwrap();
    // A hand-made header whose shape overflows 64 bits.
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
    let mut huge = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{dict:<117}\n");
    huge.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    huge.extend_from_slice(padded.as_bytes());
    std::fs::write(path(&dir, "huge.npy"), huge).unwrap();
    // A header that claims 4 GiB in a 12-byte file (npyz would allocate it).
    std::fs::write(path(&dir, "liar.npy"), b"\x93NUMPY\x02\x00\xff\xff\xff\xff").unwrap();

    // A header nested 30 brackets deep (npyz's parser would take hours), and
    // one at the accepted depth, which npyz then refuses quickly as a dtype.
    for (file, depth) in [("deep.npy", 30), ("nested.npy", 8)] {
        let dict = format!(
            "{{'descr': {}'<f8'{}, 'fortran_order': False, 'shape': (3,), }}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        );
        std::fs::write(path(&dir, file), npy_with_header(&dict)).unwrap();
    }

    // Brackets that do not match, shallow: npyz's parser backtracked over
    // such a header for 12 s (found by the npy fuzz target); now refused
    // before it is parsed. Quoted brackets do not count.
    for (file, dict) in [
        (
            "mismatched.npy",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,]}",
        ),
        (
            "unclosed.npy",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,",
        ),
        (
            "quoted.npy",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': '(['}",
        ),
    ] {
        std::fs::write(path(&dir, file), npy_with_header(dict)).unwrap();
    }
    // Brackets inside a quoted string are text: that header reads (npyz
    // ignores the extra key).
    let out = vexpr(dir.path(), &["eval", "a", "a=quoted.npy"]);
    assert_status(&out, 0);

    for (file, says) in [
        ("mismatched.npy", "brackets that do not match"),
        ("unclosed.npy", "an unclosed bracket or string"),
        ("garbage.npy", "garbage.npy"),
        ("short.npy", "truncated"),
        ("huge.npy", "huge.npy"),
        ("missing.npy", "missing.npy"),
        ("liar.npy", "header claims 4294967295 bytes, 0 follow"),
        ("deep.npy", "nests brackets more than 8 deep"),
        ("nested.npy", "nested.npy"),
    ] {
        let binding = format!("a={file}");
        let out = vexpr(dir.path(), &["eval", "a", &binding]);
        assert_fails_cleanly(&out, says, file);
    }
    // An unwritable output is an error too.
    let out = vexpr(
        dir.path(),
        &["eval", "a", "a=good.npy", "-o", "no/such/dir/c.npy"],
    );
    assert_status(&out, 1);
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
}
