//! ns per element of the float32 and float64 math kernels, one thread:
//! the float32 kernel and the float64 one of each function alternate, 21
//! samples each, and the medians are printed with their ratio.
//!
//! ```sh
//! cargo run --release -p vexpr --example f32_speed            # N = 2^20
//! cargo run --release -p vexpr --example f32_speed -- 10000   # another N
//! ```
//!
//! In: N (optional). Out: a Markdown table, function | input | float64 |
//! float32 | float64 / float32. Only the public `vmath` entry points are
//! used, so the same file builds against older versions for comparison.

use std::hint::black_box;
use std::time::Instant;
use vexpr::unstable::vmath;

type K64 = fn(&[f64], &mut [f64]);
type K32 = fn(&[f32], &mut [f32]);

/// (float64 kernel name, input range as (lo, hi), log-uniform?, float64
/// kernel, float32 kernel)
type Case = (&'static str, (f64, f64), bool, K64, K32);

macro_rules! case {
    ($f64:ident, $f32:ident, $range:expr, $log:expr) => {
        (stringify!($f64), $range, $log, vmath::$f64, vmath::$f32)
    };
}

const CASES: [Case; 18] = [
    case!(exp_f64, exp_f32, (-10.0, 10.0), false),
    case!(log_f64, log_f32, (-20.0, 20.0), true),
    case!(sin_f64, sin_f32, (-10.0, 10.0), false),
    case!(cos_f64, cos_f32, (-10.0, 10.0), false),
    case!(tan_f64, tan_f32, (-10.0, 10.0), false),
    case!(tanh_f64, tanh_f32, (-10.0, 10.0), false),
    case!(expm1_f64, expm1_f32, (-10.0, 10.0), false),
    case!(log1p_f64, log1p_f32, (0.0, 10.0), false),
    case!(log2_f64, log2_f32, (-20.0, 20.0), true),
    case!(log10_f64, log10_f32, (-20.0, 20.0), true),
    case!(arctan_f64, arctan_f32, (-10.0, 10.0), false),
    case!(arcsin_f64, arcsin_f32, (-1.0, 1.0), false),
    case!(arccos_f64, arccos_f32, (-1.0, 1.0), false),
    case!(sinh_f64, sinh_f32, (-10.0, 10.0), false),
    case!(cosh_f64, cosh_f32, (-10.0, 10.0), false),
    case!(arcsinh_f64, arcsinh_f32, (-10.0, 10.0), false),
    case!(arccosh_f64, arccosh_f32, (1.0, 100.0), false),
    case!(arctanh_f64, arctanh_f32, (-1.0, 1.0), false),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1 << 20, |a| a.parse().expect("N must be a number"));
    let mut seed = 1u64;
    let mut uniform = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    // Enough calls per sample for about 10^7 elements.
    let reps = (10_000_000 / n).max(1);
    println!(
        "level {}, N = {n}, {reps} calls per sample",
        vexpr::cpu_level().name()
    );
    println!("| function | input | float64 | float32 | float64 / float32 |");
    println!("|---|---|---|---|---|");
    for (name, (lo, hi), log_uniform, k64, k32) in CASES {
        let x: Vec<f64> = (0..n)
            .map(|_| {
                let u = lo + (hi - lo) * uniform();
                if log_uniform { u.exp() } else { u }
            })
            .collect();
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut out = vec![0.0; n];
        let mut out32 = vec![0.0f32; n];
        let (mut t64, mut t32) = (vec![], vec![]);
        for _ in 0..21 {
            let t = Instant::now();
            for _ in 0..reps {
                k64(black_box(&x), black_box(&mut out));
            }
            t64.push(t.elapsed().as_secs_f64() * 1e9 / (n * reps) as f64);
            let t = Instant::now();
            for _ in 0..reps {
                k32(black_box(&x32), black_box(&mut out32));
            }
            t32.push(t.elapsed().as_secs_f64() * 1e9 / (n * reps) as f64);
        }
        let (m64, m32) = (median(t64), median(t32));
        let name = name.trim_end_matches("_f64");
        let range = if log_uniform {
            format!("e^U({lo}, {hi})")
        } else {
            format!("U({lo}, {hi})")
        };
        println!(
            "| {name} | {range} | {m64:.3} | {m32:.3} | {:.2} |",
            m64 / m32
        );
    }
}
