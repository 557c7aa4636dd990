//! ns per element of float32 expressions on one thread, by passes (the VM's
//! pass per instruction, `with_jit(false)`: all that float32 programs had
//! before they had machine code) and as run by default (machine code where
//! it covers the program), interleaved: three rounds, each of 21 timed runs
//! per side after a warm-up, and the median of the rounds' medians.
//!
//! ```sh
//! cargo run --release -p vexpr --example f32_jit_speed            # N = 10^6
//! cargo run --release -p vexpr --example f32_jit_speed -- 10000   # another N
//! ```
//!
//! In: N (optional). Out: a Markdown table, expression | whether it runs as
//! machine code | passes | default | passes / default. Only the public API is used, so the same file builds
//! against older versions for comparison.

use std::time::Instant;
use vexpr::{Env, Expr, Options, Signature};

const EXPRS: [&str; 4] = [
    "a*b + c",
    "where(a < b, c, d)",
    "abs(a - b) / (abs(a) + abs(b))",
    "a*b + c*d - a*d",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median ns per element of 21 runs of `expr` into `out`.
fn time(expr: &Expr, env: &Env<'_>, out: &mut [f32], options: Options) -> f64 {
    for _ in 0..3 {
        expr.eval_into_with(env, out, options).unwrap();
    }
    let samples = (0..21)
        .map(|_| {
            let start = Instant::now();
            expr.eval_into_with(env, out, options).unwrap();
            start.elapsed().as_nanos() as f64 / out.len() as f64
        })
        .collect();
    median(samples)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("N must be a number"));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut column = || -> Vec<f32> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32
            })
            .collect()
    };
    let (a, b, c, d) = (column(), column(), column(), column());
    let env = Env::new()
        .with("a", &a[..])
        .with("b", &b[..])
        .with("c", &c[..])
        .with("d", &d[..]);
    let mut out = vec![0.0f32; n];
    println!("N = {n}, 1 thread\n");
    println!("| expression | machine code | passes | default | passes / default |");
    println!("|---|---|---:|---:|---:|");
    for source in EXPRS {
        let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
        // The machine code made now, so that every timed run has it (runs
        // otherwise ask for it and go on with passes until it is made).
        let code = vexpr::unstable::runs_machine_code(&expr);
        let one = Options::default().with_threads(1);
        let (mut passes, mut default) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            passes.push(time(&expr, &env, &mut out, one.with_jit(false)));
            default.push(time(&expr, &env, &mut out, one));
        }
        let (p, d) = (median(passes), median(default));
        println!("| `{source}` | {code} | {p:.3} | {d:.3} | {:.2} |", p / d);
    }
}
