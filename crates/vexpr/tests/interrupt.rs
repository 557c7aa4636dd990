//! Interrupting evaluations (`Options::interrupt`): a flag set before a call
//! stops it before any work, and a flag set by another thread during a long
//! run stops it at the next block, on every path (passes, machine code,
//! gathered and converted inputs, reductions, every entry point).

use std::time::Duration;
use vexpr::{
    ArrayView, DType, Env, ErrorKind, Expr, Format, InterruptFlag, Options, Signature, Span,
    Storage,
};

fn options(flag: &InterruptFlag, threads: usize, jit: bool) -> Options {
    Options::default()
        .with_threads(threads)
        .with_jit(jit)
        .with_interrupt(flag.flag())
}

#[test]
fn a_flag_set_before_the_call_interrupts_it() {
    let flag = InterruptFlag::new();
    flag.interrupt();
    let a: Vec<f64> = (0..100_000).map(|i| i as f64 * 1e-3).collect();
    let env = Env::new().with("a", &a);
    let sources = [
        "sin(a)**2 + cos(a)**2",
        "a",
        "a * 2",
        "sum(a) + a",
        "sum(a*a, axis=0)",
    ];
    for threads in [1, 2] {
        for jit in [false, true] {
            let options = options(&flag, threads, jit);
            for source in sources {
                let err = vexpr::evaluate_with(source, &env, options).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Interrupted, "{source}");
                assert_eq!(err.span(), Span::new(0, source.len()), "{source}");
                assert_eq!(err.message(), "the evaluation was interrupted");
            }
            // Even with no elements to compute.
            let empty: [f64; 0] = [];
            let none = Env::new().with("a", &empty[..]);
            let err = vexpr::evaluate_with("a + 1", &none, options).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Interrupted);
            // Every entry point.
            let sig = Signature::new().with("a", DType::Float64);
            let expr = Expr::compile("a + 1", &sig).unwrap();
            let mut out = vec![0.0; a.len()];
            let err = expr.eval_into_with(&env, &mut out, options).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Interrupted);
            let mut data = a.clone();
            let err = expr
                .eval_in_place_with(&Env::new(), "a", &[a.len()], &mut data, options)
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Interrupted);
            assert_eq!(data, a, "nothing was written");
        }
    }
    // Cleared, the same flag lets the same evaluations run.
    flag.clear();
    let r = vexpr::evaluate_with("a * 2", &env, options(&flag, 2, true)).unwrap();
    assert_eq!(r.as_slice::<f64>().unwrap()[1], 2e-3);
}

/// Runs `f` while another thread sets `flag` after a millisecond; the run
/// either finished first or was interrupted, and in both cases returned.
fn race(flag: &InterruptFlag, f: impl FnOnce() -> vexpr::Result<()>) -> bool {
    flag.clear();
    let flag_ref = flag.flag();
    let result = std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            flag_ref.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        f()
    });
    match result {
        Ok(()) => false,
        Err(e) if e.kind() == ErrorKind::Interrupted => true,
        Err(e) => panic!("not an interruption: {e}"),
    }
}

/// 50M elements: on one thread hundreds of milliseconds of work, so the
/// flag set a millisecond in stops it (not asserted: the machine may be
/// slow to start the setter; only that the run returns, Ok or Interrupted).
#[test]
#[cfg_attr(miri, ignore = "hundreds of MiB by design")]
fn a_flag_set_during_a_long_run_stops_it() {
    let n = 50_000_000;
    let a: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 * 1e-3).collect();
    let env = Env::new().with("a", &a);
    let sig = Signature::new().with("a", DType::Float64);
    let flag = InterruptFlag::new();
    let mut out = vec![0.0; n];
    let mut interrupted = 0;
    let mut runs = 0;
    for source in [
        "sin(a)**2 + cos(a)**2",
        "a",
        "sum(a)",
        "sum(sin(a), axis=0) + 1",
    ] {
        let expr = Expr::compile(source, &sig).unwrap();
        for threads in [1, 2] {
            for jit in [false, true] {
                let options = options(&flag, threads, jit);
                let stopped = if vexpr::unstable::stages(&expr).is_empty() {
                    race(&flag, || expr.eval_into_with(&env, &mut out, options))
                } else {
                    race(&flag, || expr.eval_with(&env, options).map(drop))
                };
                interrupted += usize::from(stopped);
                runs += 1;
            }
        }
    }
    // Stored elements go through the gather, block by block.
    let bytes: &[u8] = bytemuck::cast_slice(&a);
    let swapped = Format {
        storage: Storage::Float64,
        swapped: true,
    };
    let stored = ArrayView::from_bytes(bytes, swapped, &[n], &[8], 0).unwrap();
    let stored = Env::new().with("a", stored);
    let expr = Expr::compile("sin(a)**2 + cos(a)**2", &sig).unwrap();
    for threads in [1, 2] {
        let options = options(&flag, threads, true);
        interrupted += usize::from(race(&flag, || {
            expr.eval_into_with(&stored, &mut out, options)
        }));
        runs += 1;
    }
    println!("{interrupted} of {runs} runs were interrupted");
}
