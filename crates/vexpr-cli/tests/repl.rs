//! The REPL driven as a script: `vexpr` with no arguments and a pipe on
//! standard input, the way a user scripts it. Each test writes a script, runs
//! the built binary in a scratch folder, and checks standard output, standard
//! error and the exit code. Expected values are computed here, independently
//! of vexpr.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `script` through `vexpr` (no arguments) in `dir`.
fn repl_in(dir: &Path, script: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .current_dir(dir)
        // Keep the user's files out of reach, whatever the REPL might write.
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("VEXPR_NUM_THREADS", "2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vexpr starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        code: out.status.code().expect("vexpr exits by itself"),
    };
    // Scripting mode prints no prompt and no terminal escapes.
    assert!(
        !run.stdout.contains("vexpr>") && !run.stdout.contains('\x1b'),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains('\x1b'), "{}", run.stderr);
    run
}

fn repl(script: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    repl_in(dir.path(), script)
}

/// The numbers printed in NumPy's `array([...])` form, without the `...`.
fn printed_values(text: &str) -> Vec<f64> {
    let start = text.find("array([").expect("an array is printed") + "array([".len();
    let end = start + text[start..].find(']').unwrap();
    text[start..end]
        .split(',')
        .map(str::trim)
        .filter(|v| *v != "...")
        .map(|v| {
            v.parse::<f64>()
                .unwrap_or_else(|_| panic!("a number: {v:?}"))
        })
        .collect()
}

/// NumPy's `linspace`: `i * step + start`, the end point exact.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    v[num - 1] = stop;
    v
}

fn polynomial(a: f64) -> f64 {
    2.0 * a.powi(3) - 4.0 * a.powi(5) + 6.0 * a.ln()
}

/// `printed` shows `expected` to the 8 fractional digits NumPy prints.
fn assert_close(printed: &[f64], expected: &[f64]) {
    assert_eq!(printed.len(), expected.len(), "{printed:?} vs {expected:?}");
    for (p, e) in printed.iter().zip(expected) {
        let ok = p == e || (p - e).abs() <= 1e-8 * e.abs().max(1.0);
        assert!(ok, "printed {p}, expected {e}");
    }
}

#[test]
fn every_generator_makes_its_array() {
    let run = repl(
        "a = linspace(0, 1, 5)\n\
         a\n\
         b = random(1e6)\n\
         i = arange(5)\n\
         i\n\
         j = arange(2, 11, 3)\n\
         j\n\
         z = zeros((3, 4))\n\
         z\n\
         o = ones(3)\n\
         o\n\
         f = full(2, 2.5)\n\
         f\n\
         n = full(3, 1_000, dtype='int32')\n\
         n\n\
         :vars\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], "array([0.  , 0.25, 0.5 , 0.75, 1.  ])");
    assert_eq!(lines[1], "array([0, 1, 2, 3, 4])");
    assert_eq!(lines[2], "array([2, 5, 8])");
    assert_eq!(lines[3], "array([[0., 0., 0., 0.],");
    assert!(run.stdout.contains("array([1., 1., 1.])"));
    assert!(run.stdout.contains("array([2.5, 2.5])"));
    assert!(
        run.stdout
            .contains("array([1000, 1000, 1000], dtype=int32)")
    );
    let vars = &run.stdout[run.stdout.find("name").expect(":vars prints a table")..];
    for row in [
        ["a", "float64", "(5,)", "40 B"],
        ["b", "float64", "(1000000,)", "7.6 MiB"],
        ["i", "int64", "(5,)", "40 B"],
        ["z", "float64", "(3, 4)", "96 B"],
        ["n", "int32", "(3,)", "12 B"],
    ] {
        let line = vars
            .lines()
            .find(|l| l.split_whitespace().next() == Some(row[0]))
            .expect("a row per variable");
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[1], row[1], "{line}");
        assert!(line.contains(row[2]) && line.ends_with(row[3]), "{line}");
    }
    assert!(vars.contains("8 variables"), "{vars}");
}

#[test]
fn the_polynomial_prints_numpy_values() {
    let run = repl(
        "a = linspace(0.5, 2, 7)\n\
         2*a**3 - 4*a**5 + 6*log(a)\n\
         big = linspace(0, 1, 1_000_000)\n\
         p = 2*big**3 - 4*big**5 + 6*log(big)\n\
         p\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut outputs = run
        .stdout
        .split("array(")
        .skip(1)
        .map(|t| format!("array({t}"));
    let small = outputs.next().unwrap();
    let expected: Vec<f64> = linspace(0.5, 2.0, 7).into_iter().map(polynomial).collect();
    assert_close(&printed_values(&small), &expected);

    // A long result prints its first and last three values and its shape.
    let big = outputs.next().unwrap();
    assert!(
        big.contains("...") && big.contains("shape=(1000000,)"),
        "{big}"
    );
    let x = linspace(0.0, 1.0, 1_000_000);
    let ends: Vec<f64> = [0, 1, 2, 999_997, 999_998, 999_999]
        .iter()
        .map(|&i| polynomial(x[i]))
        .collect();
    assert!(ends[0].is_infinite());
    assert_close(&printed_values(&big), &ends);
}

#[test]
fn dis_type_and_time() {
    let run = repl(
        "a = linspace(0.5, 1, 200_000)\n\
         b = random(200_000)\n\
         :dis 2*a**3 - 4*a**5 + 6*log(a)\n\
         :type 2*a**3 - 4*a**5 + 6*log(a)\n\
         :type a > b\n\
         :time 2*a**3 - 4*a**5 + 6*log(a)\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    // The listing: registers with their types, then numbered instructions.
    assert!(out.contains("registers:") && out.contains("code:"), "{out}");
    let register_a = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some("a"))
        .expect("a register `a`");
    assert!(
        register_a.contains("float64") && register_a.contains("input"),
        "{register_a}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("out =") && l.trim_start().starts_with(char::is_numeric)),
        "{out}"
    );
    assert!(out.lines().any(|l| l.contains("= log")), "{out}");

    assert!(out.contains("float64, shape (200000,)"), "{out}");
    assert!(out.contains("bool, shape (200000,)"), "{out}");

    assert!(out.contains("ns/elem") && out.contains("GB/s"), "{out}");
    assert!(
        out.contains("naive (one full-size temporary per operation, 1 thread)"),
        "{out}"
    );
    let ratio = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("ratio naive/vexpr: "))
        .expect("a ratio");
    let ratio: f64 = ratio
        .split('x')
        .next()
        .unwrap()
        .parse()
        .expect("a number before x");
    assert!(ratio > 0.0, "{ratio}");
}

#[test]
fn a_typo_gets_a_caret_and_the_script_goes_on() {
    let run = repl(
        "a = linspace(0, 1, 3)\n\
         d = 2*a + 3*bb\n\
         e = sinn(a)\n\
         :tiem a\n\
         a + 1\n",
    );
    // The script went on to the last line...
    assert!(
        run.stdout.contains("array([1. , 1.5, 2. ])"),
        "{}",
        run.stdout
    );
    // ...and, since lines failed, the exit code is 1.
    assert_eq!(run.code, 1);
    let err = &run.stderr;
    assert!(
        err.contains("line 2: error: unknown variable `bb`"),
        "{err}"
    );
    // The caret sits under `bb` in the line as typed.
    let lines: Vec<&str> = err.lines().collect();
    let code = lines
        .iter()
        .position(|l| l.ends_with("d = 2*a + 3*bb"))
        .expect("the line is shown");
    let carets = lines[code + 1..].iter().find(|l| l.contains('^')).unwrap();
    let column = lines[code].len() - "d = 2*a + 3*bb".len() + "d = 2*a + 3*".len();
    assert_eq!(carets.find('^'), Some(column), "{err}");
    assert!(carets.contains("^^") && !carets.contains("^^^"), "{err}");
    assert!(err.contains("did you mean `sin`?"), "{err}");
    assert!(
        err.contains("unknown command `:tiem`; did you mean `:time`?"),
        "{err}"
    );
}

#[test]
fn save_writes_a_file_numpy_reads() {
    let dir = tempfile::tempdir().unwrap();
    let run = repl_in(
        dir.path(),
        "a = linspace(0, 1, 1_000)\n\
         b = arange(6)\n\
         d = 2*a + 1\n\
         :save d d.npy\n\
         :save b 'b file.npy'\n\
         c = load(\"d.npy\")\n\
         :type c\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("saved `d` (float64, shape (1000,)) to d.npy"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("float64, shape (1000,)"),
        "{}",
        run.stdout
    );

    let bytes = std::fs::read(dir.path().join("d.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[1000]);
    let values: Vec<f64> = npy.into_vec().unwrap();
    let expected: Vec<f64> = linspace(0.0, 1.0, 1000)
        .iter()
        .map(|a| 2.0 * a + 1.0)
        .collect();
    assert_eq!(values, expected);

    let bytes = std::fs::read(dir.path().join("b file.npy")).unwrap();
    let values: Vec<i64> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
    assert_eq!(values, vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn quit_ends_the_script() {
    let run = repl(
        "1 + 1\n\
         :threads 1\n\
         :threads\n\
         :quit\n\
         this line is never read +\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "array(2, dtype=int32)",
            "threads: 1 (default here: 2)",
            "threads: 1 (default here: 2)"
        ]
    );
}

#[test]
fn help_lists_every_command() {
    let run = repl(":help\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    for command in [
        ":dis", ":time", ":type", ":vars", ":del", ":threads", ":save", ":help", ":quit",
    ] {
        assert!(run.stdout.contains(command), "{command}");
    }
    for generator in [
        "linspace(",
        "random(",
        "arange(",
        "zeros(",
        "ones(",
        "full(",
        "load(",
    ] {
        assert!(run.stdout.contains(generator), "{generator}");
    }
}
