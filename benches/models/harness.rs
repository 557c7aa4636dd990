//! What the timing models share: their inputs and their clock. Compiled into
//! each model with `#[path = "harness.rs"] mod harness;`.

use std::time::Instant;

/// Elements per input, as the N = 10k cells of the comparison.
pub const N: usize = 10_000;

/// `count` inputs of `N` values uniform in [0.1, 1.1), from a fixed xorshift
/// seed (the distribution of `vexpr bench`).
pub fn inputs(count: usize) -> Vec<Vec<f64>> {
    let mut s = 12345u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        0.1 + (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..count)
        .map(|_| (0..N).map(|_| next()).collect())
        .collect()
}

/// The best of 5 timings of 3000 calls of `call`, in ns per element.
pub fn best_ns_per_elem(mut call: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..3000 {
            call();
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / (3000.0 * N as f64));
    }
    best
}
