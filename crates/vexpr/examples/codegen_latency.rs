//! What making machine code costs, and what a caller pays for it:
//! `cargo run --release -p vexpr --example codegen_latency`.
//!
//! For E1-E8 of `docs/performance.md`: the time to generate a program's code
//! (`vexpr::unstable::runs_machine_code` on a fresh compile, which makes it
//! on the calling thread), and the slowest of a fresh expression's first
//! twenty calls at N = 1,000 and 100,000 (each call's own time; the code is
//! made on the code generator's thread after the first call asks for it),
//! beside a call's usual time (the median of calls 11-20), so that what the
//! code costs a caller is their difference. Medians over fifteen fresh
//! compiles, in µs.

use std::time::Instant;
use vexpr::{DType, Env, Expr, Options, Signature};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let signature = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    println!(
        "level {}; µs, median of 15 fresh compiles",
        vexpr::cpu_level()
    );
    println!(
        "{:<4} {:>9} {:>13} {:>11} {:>13} {:>11}",
        "", "generate", "N=1000: worst", "usual", "N=1e5: worst", "usual"
    );
    for (k, source) in vexpr::unstable::BENCHMARKS.iter().enumerate() {
        let mut generate = Vec::new();
        let mut slowest = [Vec::new(), Vec::new()];
        let mut usual = [Vec::new(), Vec::new()];
        for _ in 0..15 {
            let expr = Expr::compile(source, &signature).unwrap();
            let start = Instant::now();
            let made = vexpr::unstable::runs_machine_code(&expr);
            generate.push(start.elapsed().as_secs_f64() * 1e6);
            assert!(made || vexpr::cpu_level() < vexpr::CpuLevel::Avx512);
            for (i, n) in [1_000, 100_000].into_iter().enumerate() {
                let a: Vec<f64> = (0..n).map(|i| 0.1 + (i % 1000) as f64 / 1000.0).collect();
                let b: Vec<f64> = (0..n).map(|i| 1.1 - (i % 997) as f64 / 1000.0).collect();
                let env = Env::new().with("a", &a[..]).with("b", &b[..]);
                let mut out = vec![0.0f64; n];
                let expr = Expr::compile(source, &signature).unwrap();
                let options = Options::default().with_threads(1);
                let calls: Vec<f64> = (0..20)
                    .map(|_| {
                        let start = Instant::now();
                        expr.eval_into_with(&env, &mut out, options).unwrap();
                        start.elapsed().as_secs_f64() * 1e6
                    })
                    .collect();
                // The first call has no code either way (it is small): what
                // the later ones pay is the question.
                slowest[i].push(calls[1..].iter().copied().fold(0.0, f64::max));
                usual[i].push(median(calls[10..].to_vec()));
            }
        }
        let [small, large] = slowest;
        let [small_usual, large_usual] = usual;
        println!(
            "E{:<3} {:>9.1} {:>13.1} {:>11.1} {:>13.1} {:>11.1}",
            k + 1,
            median(generate),
            median(small),
            median(small_usual),
            median(large),
            median(large_usual)
        );
    }
}
