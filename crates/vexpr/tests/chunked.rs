//! Chunked evaluation (`Expr::eval_chunked`) against in-memory evaluation of
//! the same bytes: every result, reductions included, must have the same
//! bits (or the same error), for any chunk length, any mix of sources and
//! in-memory values, C and Fortran order, stored formats and broadcasting.

use proptest::prelude::*;
use vexpr::chunked::{Chunking, Input, MemorySink, MemorySource, Progress, Source};
use vexpr::{
    Array, ArrayView, DType, Env, ErrorKind, Expr, Format, Options, Scalar, Signature, Storage,
    Value,
};

/// Deterministic finite values of `storage`, as stored bytes: floats of
/// varied sizes and signs (with a few zeros of both signs), small integers.
fn stored(storage: Storage, swapped: bool, len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    for _ in 0..len {
        let r = next();
        let x = ((r >> 11) % 20001) as f64 / 1000.0 - 10.0 + if r % 97 == 0 { 1e6 } else { 0.0 };
        let x = if r % 31 == 0 { -0.0 } else { x };
        let mut bytes = match storage {
            Storage::Float64 => x.to_ne_bytes().to_vec(),
            Storage::Float32 => (x as f32).to_ne_bytes().to_vec(),
            Storage::Int16 => (x as i16).to_ne_bytes().to_vec(),
            Storage::Int64 => ((x * 1000.0) as i64).to_ne_bytes().to_vec(),
            Storage::UInt8 => vec![(r >> 40) as u8],
            Storage::Bool => vec![u8::from(r % 3 == 0)],
            other => panic!("no test values for {other:?}"),
        };
        if swapped {
            bytes.reverse();
        }
        out.extend(bytes);
    }
    out
}

/// One test input: its stored bytes and how to read them.
struct Stored {
    bytes: Vec<u8>,
    format: Format,
    shape: Vec<usize>,
    fortran: bool,
}

impl Stored {
    fn new(storage: Storage, swapped: bool, shape: &[usize], fortran: bool, seed: u64) -> Stored {
        let len = shape.iter().product();
        Stored {
            bytes: stored(storage, swapped, len, seed),
            format: Format { storage, swapped },
            shape: shape.to_vec(),
            fortran,
        }
    }

    /// The in-memory view of the same elements.
    fn view(&self) -> ArrayView<'_> {
        let w = self.format.storage.itemsize() as isize;
        let mut strides = vec![0isize; self.shape.len()];
        let mut step = w;
        let axes: Vec<usize> = if self.fortran {
            (0..self.shape.len()).collect()
        } else {
            (0..self.shape.len()).rev().collect()
        };
        for a in axes {
            strides[a] = step;
            step *= self.shape[a].max(1) as isize;
        }
        ArrayView::from_bytes(&self.bytes, self.format, &self.shape, &strides, 0).unwrap()
    }

    fn source(&self) -> MemorySource<'_> {
        let source = MemorySource::new(&self.bytes, self.format, &self.shape);
        if self.fortran {
            source.fortran()
        } else {
            source
        }
    }
}

fn same_bits(a: &Array, b: &Array) -> bool {
    a.dtype() == b.dtype()
        && a.shape() == b.shape()
        && a.buffer().data().as_bytes() == b.buffer().data().as_bytes()
}

/// Evaluates `text` in memory and chunked (each input a source where
/// `as_source` says so, else an in-memory view), and checks that both give
/// the same bits or the same kind of error. Returns the chunked progress
/// reports.
fn check(
    text: &str,
    inputs: &[(&str, &Stored)],
    as_source: &[bool],
    chunk_len: usize,
) -> Vec<Progress> {
    let mut env = Env::new();
    let mut sig = Signature::new();
    for (name, input) in inputs {
        env.set(name, input.view());
        sig = sig.with(name, input.format.storage.dtype());
    }
    // Types an operator refuses (say `bool - bool` from random storages)
    // are the compiler's business, not this test's.
    let expr = match Expr::compile(text, &sig) {
        Ok(expr) => expr,
        Err(e) if e.kind() == ErrorKind::Type => return Vec::new(),
        Err(e) => panic!("{text}: {e}"),
    };
    let whole = expr.eval(&env);
    let mut sources: Vec<MemorySource> = inputs.iter().map(|(_, s)| s.source()).collect();
    let views: Vec<ArrayView> = inputs.iter().map(|(_, s)| s.view()).collect();
    let mut chunked_inputs: Vec<Input> = sources
        .iter_mut()
        .zip(views)
        .zip(as_source)
        .map(|((source, view), &is_source)| {
            if is_source {
                Input::Source(source as &mut dyn Source)
            } else {
                Input::Value(Value::Array(view))
            }
        })
        .collect();
    let mut sink = MemorySink::default();
    let mut reports = Vec::new();
    let mut record = |p: Progress| reports.push(p);
    let chunking = Chunking {
        chunk_len,
        progress: Some(&mut record),
    };
    let chunked = expr
        .eval_chunked(&mut chunked_inputs, &mut sink, Options::default(), chunking)
        .map(|()| sink.into_array().expect("the sink was started"));
    match (whole, chunked) {
        (Ok(a), Ok(b)) => assert!(
            same_bits(&a, &b),
            "{text} (chunk {chunk_len}, sources {as_source:?}):\nin memory {a:?}\nchunked   {b:?}"
        ),
        (Err(a), Err(b)) => assert_eq!(
            (a.kind(), a.span(), a.message()),
            (b.kind(), b.span(), b.message()),
            "{text}: {a} / {b}"
        ),
        (a, b) => panic!("{text} (chunk {chunk_len}): in memory {a:?}, chunked {b:?}"),
    }
    reports
}

const EXPRESSIONS: [&str; 16] = [
    "2*a**3 - 4*a + b",
    "a*c + b",
    "where(a > b, a, c)",
    "sum(a)",
    "sum(a, axis=0)",
    "sum(a, axis=1)",
    "a / sum(a)",
    "a - max(a, axis=0)",
    "prod(a*0.01 + 1, axis=1)",
    "min(a + b)",
    "max(c, axis=0) + sum(b)",
    "sum(a > 0)",
    "sum(a + 1j*b)",
    "prod(a*0.01 + 1)",
    "sum(sum(a, axis=1) * c, axis=0)",
    "a",
];

#[test]
fn every_expression_at_every_chunk_length() {
    let a = Stored::new(Storage::Float64, false, &[7, 5], false, 1);
    let b = Stored::new(Storage::Float32, true, &[5], false, 2);
    let c = Stored::new(Storage::Int16, true, &[7, 1], false, 3);
    for text in EXPRESSIONS {
        for chunk_len in [1, 2, 3, 4, 5, 6, 11, 34, 35, 36, 1000] {
            for mask in 0..8 {
                let as_source = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0];
                check(
                    text,
                    &[("a", &a), ("b", &b), ("c", &c)],
                    &as_source,
                    chunk_len,
                );
            }
        }
    }
}

#[test]
fn fortran_sources_stream_transposed_and_mixed_orders_still_agree() {
    let a = Stored::new(Storage::Float64, false, &[6, 5], true, 4);
    let b = Stored::new(Storage::Float32, false, &[5], false, 5);
    let c = Stored::new(Storage::Int16, false, &[6, 1], true, 6);
    let d = Stored::new(Storage::Float64, true, &[6, 5], false, 7);
    for text in EXPRESSIONS
        .iter()
        .copied()
        .chain(["a + d", "sum(a*d, axis=0)", "d - a"])
    {
        for chunk_len in [1, 4, 7, 30, 64] {
            check(
                text,
                &[("a", &a), ("b", &b), ("c", &c), ("d", &d)],
                &[true, true, true, true],
                chunk_len,
            );
        }
    }
}

#[test]
fn long_lanes_reduce_to_the_same_bits() {
    // Lanes longer than a reduction chunk (4096), cut by chunks that do not
    // divide it: every mode of the chunked reduction.
    let a = Stored::new(Storage::Float64, false, &[3, 9000], false, 8);
    let v = Stored::new(Storage::Float32, false, &[20_000], false, 9);
    for text in [
        "sum(a)",
        "sum(a, axis=1)",
        "sum(a, axis=0)",
        "prod(a*1e-3 + 1, axis=1)",
        "max(a, axis=1)",
        "a / sum(a)",
        "sum(v)",
        "prod(v*1e-4 + 1)",
        "sum(v*v) + min(v)",
        "sum(a + 1j)",
    ] {
        for chunk_len in [1000, 4096, 5000, 1 << 20] {
            check(text, &[("a", &a), ("v", &v)], &[true, true], chunk_len);
        }
    }
}

#[test]
fn progress_counts_every_pass() {
    let a = Stored::new(Storage::Float64, false, &[10, 10], false, 10);
    let reports = check("a / sum(a)", &[("a", &a)], &[true], 30);
    // Two passes of 100 elements: the sum's, then the result's.
    assert_eq!(
        reports.last(),
        Some(&Progress {
            done: 200,
            total: 200
        })
    );
    assert!(reports.windows(2).all(|w| w[0].done < w[1].done));
    assert_eq!(reports.len(), 8); // 4 chunks a pass (30, 30, 30, 10)
}

#[test]
fn empty_zero_d_and_scalar_inputs() {
    let empty = Stored::new(Storage::Float64, false, &[0, 4], false, 11);
    let zero_d = Stored::new(Storage::Float64, false, &[], false, 12);
    for text in ["a + b", "sum(a)", "sum(a, axis=1) + b", "b * 2", "max(a)"] {
        for chunk_len in [1, 3, 100] {
            check(
                text,
                &[("a", &empty), ("b", &zero_d)],
                &[true, true],
                chunk_len,
            );
            check(
                text,
                &[("a", &empty), ("b", &zero_d)],
                &[true, false],
                chunk_len,
            );
        }
    }
    // A scalar among sources.
    let a = Stored::new(Storage::Float64, false, &[9], false, 13);
    let e = Expr::compile(
        "a * k",
        &Signature::new()
            .with("a", DType::Float64)
            .with("k", DType::Int64),
    )
    .unwrap();
    let mut source = a.source();
    let mut sink = MemorySink::default();
    let mut inputs = [
        Input::Source(&mut source),
        Input::Value(Value::Scalar(Scalar::Int64(3))),
    ];
    let chunking = Chunking {
        chunk_len: 4,
        progress: None,
    };
    e.eval_chunked(&mut inputs, &mut sink, Options::default(), chunking)
        .unwrap();
    let env = Env::new()
        .with("a", a.view())
        .with("k", Value::Scalar(Scalar::Int64(3)));
    assert!(same_bits(
        &sink.into_array().unwrap(),
        &e.eval(&env).unwrap()
    ));
}

#[test]
fn failing_reads_and_writes_are_io_errors() {
    struct Broken;
    impl Source for Broken {
        fn shape(&self) -> &[usize] {
            &[100]
        }
        fn format(&self) -> Format {
            Format::native(Storage::Float64)
        }
        fn read_at(&mut self, start: usize, _: &mut [u8]) -> std::io::Result<()> {
            if start >= 50 {
                Err(std::io::Error::other("the disk is on fire"))
            } else {
                Ok(())
            }
        }
    }
    struct Full(usize);
    impl vexpr::chunked::Sink for Full {
        fn start(&mut self, _: &[usize], _: DType, _: bool) -> std::io::Result<()> {
            Ok(())
        }
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            self.0 += bytes.len();
            if self.0 > 400 {
                return Err(std::io::Error::from(std::io::ErrorKind::StorageFull));
            }
            Ok(())
        }
    }
    let e = Expr::compile("a + 1", &Signature::new().with("a", DType::Float64)).unwrap();
    let chunking = || Chunking {
        chunk_len: 10,
        progress: None,
    };
    let err = e
        .eval_chunked(
            &mut [Input::Source(&mut Broken)],
            &mut MemorySink::default(),
            Options::default(),
            chunking(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(
        err.to_string().contains("reading `a`: the disk is on fire"),
        "{err}"
    );
    let data = Stored::new(Storage::Float64, false, &[100], false, 14);
    let err = e
        .eval_chunked(
            &mut [Input::Source(&mut data.source())],
            &mut Full(0),
            Options::default(),
            chunking(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("writing the result"), "{err}");
}

#[test]
fn wrong_inputs_are_refused() {
    let e = Expr::compile("a + 1", &Signature::new().with("a", DType::Float64)).unwrap();
    let data = Stored::new(Storage::Float32, false, &[4], false, 15);
    let err = e
        .eval_chunked(
            &mut [Input::Source(&mut data.source())],
            &mut MemorySink::default(),
            Options::default(),
            Chunking::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    let err = e
        .eval_chunked(
            &mut [],
            &mut MemorySink::default(),
            Options::default(),
            Chunking::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    // Shapes that do not broadcast.
    let e = Expr::compile(
        "a + b",
        &Signature::new()
            .with("a", DType::Float64)
            .with("b", DType::Float64),
    )
    .unwrap();
    let (x, y) = (
        Stored::new(Storage::Float64, false, &[3], false, 16),
        Stored::new(Storage::Float64, false, &[4], false, 17),
    );
    let err = e
        .eval_chunked(
            &mut [
                Input::Source(&mut x.source()),
                Input::Source(&mut y.source()),
            ],
            &mut MemorySink::default(),
            Options::default(),
            Chunking::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
}

#[test]
fn errors_come_in_the_order_of_the_in_memory_evaluation() {
    // Found by the differential fuzz target: chunked evaluation planned
    // every pass's shape first and reported the result's broadcast failure,
    // where the in-memory evaluation (stage by stage) fails on the first
    // stage's axis.
    let a = Stored::new(Storage::Float64, false, &[3, 7, 3], false, 11);
    let c = Stored::new(Storage::Float64, true, &[3, 7, 3], false, 12);
    let l = Stored::new(Storage::Int64, false, &[3, 7, 3], false, 13);
    let cases = [
        // The first stage's axis, before the result's shapes.
        (
            "c + min(sum(a, axis=3) + a, axis=1)",
            "axis 3 is out of bounds",
        ),
        // The first stage's values (negative integer powers), before the
        // second stage's axis.
        ("sum(l ** l) + sum(l, axis=5)", "negative integer powers"),
        // A stage's axis before its own operand's values.
        ("sum(l ** l, axis=4)", "axis 4 is out of bounds"),
    ];
    for (text, wanted) in cases {
        let sig = Signature::new()
            .with("a", DType::Float64)
            .with("c", DType::Float64)
            .with("l", DType::Int64);
        let env = Env::new()
            .with("a", a.view())
            .with("c", c.view())
            .with("l", l.view());
        let err = Expr::compile(text, &sig).unwrap().eval(&env).unwrap_err();
        assert!(err.message().contains(wanted), "{text}: {err}");
        for chunk_len in [1, 5, 64] {
            for sources in 0..8u8 {
                let as_source: Vec<bool> = (0..3).map(|k| sources & (1 << k) != 0).collect();
                check(
                    text,
                    &[("a", &a), ("c", &c), ("l", &l)],
                    &as_source,
                    chunk_len,
                );
            }
        }
    }
}

#[test]
fn an_interrupted_run_stops() {
    let flag = vexpr::InterruptFlag::new();
    flag.interrupt();
    let options = Options::default().with_interrupt(flag.flag());
    let data = Stored::new(Storage::Float64, false, &[1000], false, 18);
    let e = Expr::compile("sum(a) + a", &Signature::new().with("a", DType::Float64)).unwrap();
    let err = e
        .eval_chunked(
            &mut [Input::Source(&mut data.source())],
            &mut MemorySink::default(),
            options,
            Chunking::default(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
}

const STORAGES: [Storage; 6] = [
    Storage::Float64,
    Storage::Float32,
    Storage::Int16,
    Storage::Int64,
    Storage::UInt8,
    Storage::Bool,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_shapes_layouts_and_chunks_agree(
        dims in prop::collection::vec(1usize..6, 0..4),
        drop in prop::collection::vec(any::<bool>(), 8),
        storages in prop::collection::vec(0usize..6, 2),
        swapped in prop::collection::vec(any::<bool>(), 2),
        fortran in prop::collection::vec(any::<bool>(), 2),
        as_source in prop::collection::vec(any::<bool>(), 2),
        text in prop::sample::select(vec![
            "a + b", "a * b - a", "sum(a) + b", "sum(a*b)", "max(a + b)",
            "where(a > b, a, b)", "sum(b, axis=0) + a", "prod(a + 1)", "a / (sum(b) + 1.5)",
        ]),
        chunk_len in 1usize..40,
        seed in any::<u64>(),
    ) {
        // `b` broadcasts against `a`: some of `a`'s trailing dims, some set to 1.
        let a_shape = dims.clone();
        let skip = usize::from(drop[0]) + usize::from(drop[1] && !a_shape.is_empty());
        let b_shape: Vec<usize> = a_shape[skip.min(a_shape.len())..]
            .iter()
            .zip(&drop[2..])
            .map(|(&n, &one)| if one { 1 } else { n })
            .collect();
        let a = Stored::new(STORAGES[storages[0]], swapped[0], &a_shape, fortran[0], seed);
        let b = Stored::new(STORAGES[storages[1]], swapped[1], &b_shape, fortran[1], seed ^ 5);
        check(text, &[("a", &a), ("b", &b)], &as_source, chunk_len);
    }
}
