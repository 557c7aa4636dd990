//! Checks every float32 math function on all 2^32 inputs against the
//! widened reference: `std`'s f64 function on the input widened to f64,
//! rounded to f32 (glibc's libm, or Rust's own asinh, acosh, atanh; their
//! f64 errors are far below an f32 ulp). Prints the largest ulp distance per
//! function with an input where it occurs, and the count of inputs more
//! than 1 ulp off; NaN against non-NaN and a zero of the wrong sign count
//! as "wrong".
//!
//! ```sh
//! cargo run --release -p vexpr --example f32_exhaustive               # all functions
//! cargo run --release -p vexpr --example f32_exhaustive -- exp tan    # some
//! VEXPR_CPU=avx2 cargo run --release -p vexpr --example f32_exhaustive  # another level
//! ```
//!
//! In: function names (none: all). Out: one Markdown table row per
//! function. Runs on all cores: about a minute per function on two, several
//! for sin, cos and tan (glibc reduces their huge arguments slowly).

use std::sync::atomic::{AtomicU64, Ordering};
use vexpr::unstable::vmath;

/// (name, the vexpr kernel, the f64 reference)
type Entry = (&'static str, fn(&[f32], &mut [f32]), fn(f64) -> f64);

const FUNCTIONS: [Entry; 18] = [
    ("exp", vmath::exp_f32, f64::exp),
    ("log", vmath::log_f32, f64::ln),
    ("sin", vmath::sin_f32, f64::sin),
    ("cos", vmath::cos_f32, f64::cos),
    ("tan", vmath::tan_f32, f64::tan),
    ("tanh", vmath::tanh_f32, f64::tanh),
    ("expm1", vmath::expm1_f32, f64::exp_m1),
    ("log1p", vmath::log1p_f32, f64::ln_1p),
    ("log2", vmath::log2_f32, f64::log2),
    ("log10", vmath::log10_f32, f64::log10),
    ("arctan", vmath::arctan_f32, f64::atan),
    ("arcsin", vmath::arcsin_f32, f64::asin),
    ("arccos", vmath::arccos_f32, f64::acos),
    ("sinh", vmath::sinh_f32, f64::sinh),
    ("cosh", vmath::cosh_f32, f64::cosh),
    ("arcsinh", vmath::arcsinh_f32, f64::asinh),
    ("arccosh", vmath::arccosh_f32, f64::acosh),
    ("arctanh", vmath::arctanh_f32, f64::atanh),
];

/// Distance in representable f32 values; `u64::MAX` for a NaN mismatch or
/// a zero of the wrong sign.
fn ulps(got: f32, want: f32) -> u64 {
    if got.is_nan() || want.is_nan() {
        return if got.is_nan() && want.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    if got == 0.0 && want == 0.0 && got.is_sign_negative() != want.is_sign_negative() {
        return u64::MAX;
    }
    let key = |v: f32| {
        let m = (v.to_bits() & 0x7fff_ffff) as i64;
        if v.is_sign_negative() { -m } else { m }
    };
    (key(got) - key(want)).unsigned_abs()
}

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("level: {}, threads: {threads}", vexpr::cpu_level().name());
    println!("| function | max ulp | at input | inputs > 1 ulp |\n|---|---|---|---|");
    for (name, kernel, reference) in FUNCTIONS {
        if !names.is_empty() && !names.iter().any(|n| n == name) {
            continue;
        }
        const CHUNK: u64 = 1 << 16;
        let next = AtomicU64::new(0);
        // (worst ulps, its input's bits, inputs over 1 ulp), per thread.
        let results: Vec<(u64, u32, u64)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut x = vec![0.0f32; CHUNK as usize];
                        let mut out = vec![0.0f32; CHUNK as usize];
                        let (mut worst, mut at, mut over) = (0u64, 0u32, 0u64);
                        loop {
                            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                            if start >= 1 << 32 {
                                break;
                            }
                            for (i, v) in x.iter_mut().enumerate() {
                                *v = f32::from_bits((start + i as u64) as u32);
                            }
                            kernel(&x, &mut out);
                            for (&v, &o) in x.iter().zip(&out) {
                                let d = ulps(o, reference(v as f64) as f32);
                                over += (d > 1) as u64;
                                if d > worst {
                                    (worst, at) = (d, v.to_bits());
                                }
                            }
                        }
                        (worst, at, over)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let (worst, at, _) = results.iter().copied().max().unwrap_or((0, 0, 0));
        let over: u64 = results.iter().map(|r| r.2).sum();
        let shown = if worst == u64::MAX {
            "wrong".to_string()
        } else {
            worst.to_string()
        };
        println!(
            "| {name} | {shown} | {:e} ({at:#010x}) | {over} |",
            f32::from_bits(at)
        );
    }
}
