//! `cargo bench -p vexpr`: the expressions E1..E8 of `docs/performance.md`
//! evaluated through the library API, at three lengths and one or two threads,
//! plus what a user pays once (compiling E3) and on every call (N = 10).
//!
//! The numbers are comparable with `benches/compare.py`, which times the same
//! expressions through `vexpr bench` next to numexpr and NumPy: the inputs are
//! float64, uniform in [0.1, 1.1), and every call writes into one preallocated
//! output, so nothing of the inputs' size is allocated while timing.
//!
//! The whole run is kept to a few minutes on a two-core machine by capping
//! each benchmark's samples and time (`SAMPLES`, `MAX_SECONDS`); pass
//! `--sample-count` / `--max-time` to divan for longer, steadier runs, e.g.
//! `cargo bench -p vexpr -- e3 --max-time 10`.

use divan::Bencher;
use divan::counter::ItemsCount;
use vexpr::{DEFAULT_BLOCK_LEN, DType, Env, Expr, Options, Signature};

fn main() {
    divan::main();
}

/// Lengths: one that fits in L2, one that fits in L3 and one that does not.
const LENS: &[usize] = &[10_000, 1_000_000, 10_000_000];

/// Thread counts (the machine the targets are set for has two cores).
const THREADS: &[usize] = &[1, 2];

/// Samples per benchmark: 10M-element runs take tens of milliseconds each, so
/// divan's default of 100 samples would take several seconds per case.
const SAMPLES: u32 = 20;

/// Calls timed together in one sample of the per-call benchmarks.
const CALLS_PER_SAMPLE: u32 = 10_000;

/// Upper bound on the seconds spent on one case, whatever its sample count.
const MAX_SECONDS: f64 = 2.0;

/// Fills `len` values uniform in [0.1, 1.1), the distribution `vexpr bench`
/// and `benches/compare.py` use: positive, so `log` and `sqrt` stay real.
///
/// A fixed-seed SplitMix64 stream is enough here (the values only need to be
/// spread out so that no branch or special case is always taken) and avoids a
/// dependency on a random-number crate.
fn uniform(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // The top 53 bits give a uniform double in [0, 1).
            0.1 + (z >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// Compiles `source` for float64 `a` and `b`, then times one evaluation into a
/// preallocated output per iteration; divan reports time and elements/s.
fn eval_case(bencher: Bencher, source: &str, len: usize, threads: usize) {
    let a = uniform(len, 1);
    let b = uniform(len, 2);
    let signature = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    let expr = Expr::compile(source, &signature).expect("the benchmark expressions compile");
    let env = Env::new().with("a", &a[..]).with("b", &b[..]);
    let mut out = vec![0.0f64; len];
    let options = Options::default()
        .with_threads(threads)
        .with_block_len(DEFAULT_BLOCK_LEN);
    bencher.counter(ItemsCount::new(len)).bench_local(|| {
        expr.eval_into_with(&env, divan::black_box(&mut out[..]), options)
            .expect("the benchmark expressions evaluate");
    });
}

/// One benchmark per expression, over `THREADS` x `LENS`; divan lists them as
/// `e3_poly_log / 2 / 1000000` (expression / threads / N).
macro_rules! expression_benches {
    ($($name:ident => $source:literal;)*) => {$(
        #[doc = concat!("`", $source, "`")]
        #[divan::bench(consts = THREADS, args = LENS, sample_count = SAMPLES, max_time = MAX_SECONDS)]
        fn $name<const T: usize>(bencher: Bencher, len: usize) {
            eval_case(bencher, $source, len, T);
        }
    )*};
}

expression_benches! {
    e1_linear => "2*a + 3*b";
    e2_square => "a**2 + 3*b";
    e3_poly_log => "2*a**3 - 4*a**5 + 6*log(a)";
    e4_abs_ratio => "abs(a - b) / (abs(a) + abs(b))";
    e5_sin_cos => "sin(a)**2 + cos(b)**2";
    e6_where => "where(a > b, a*b, a - b)";
    e7_exp_sqrt => "exp(-a*a) * sqrt(b)";
    e8_atan2_tanh => "arctan2(a, b) + tanh(a*b)";
}

/// What `Expr::compile` costs for E3 (parse, type check, optimize, codegen):
/// the price of not caching a compiled expression.
#[divan::bench(max_time = MAX_SECONDS)]
fn compile_e3(bencher: Bencher) {
    let signature = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float64);
    bencher.bench(|| {
        Expr::compile(divan::black_box("2*a**3 - 4*a**5 + 6*log(a)"), &signature).unwrap()
    });
}

/// Per-call overhead: E1 and E3 on 10 elements, where the arithmetic is a few
/// nanoseconds and the rest is lookup, broadcasting and dispatch. Two threads
/// should cost the same as one, since so short an output runs on the caller.
/// A sample times `CALLS_PER_SAMPLE` calls: timed one at a time, each call
/// also paid for the timer and for caches divan's bookkeeping had cooled
/// (700 ns a call against 120 ns in a loop).
#[divan::bench(
    consts = THREADS,
    args = ["2*a + 3*b", "2*a**3 - 4*a**5 + 6*log(a)"],
    sample_size = CALLS_PER_SAMPLE,
    max_time = MAX_SECONDS
)]
fn call_overhead_n10<const T: usize>(bencher: Bencher, source: &str) {
    eval_case(bencher, source, 10, T);
}

/// E3 at N = 1M on one thread with block lengths around `DEFAULT_BLOCK_LEN`,
/// to recheck that choice: shorter blocks pay more dispatch per element,
/// longer ones push the registers out of L1 and then L2. `block_len` is an
/// upper bound: E3's registers take 64 bytes an element, so the VM's L1 cap
/// (`L1_BUDGET`) runs every length above 512 as 512, and those rows should
/// match the 512 row.
#[divan::bench(args = [256, 512, 1024, 2048, 4096, 16_384], sample_count = SAMPLES, max_time = MAX_SECONDS)]
fn block_len_e3_1m(bencher: Bencher, block_len: usize) {
    let len = 1_000_000;
    let a = uniform(len, 1);
    let signature = Signature::new().with("a", DType::Float64);
    let expr = Expr::compile("2*a**3 - 4*a**5 + 6*log(a)", &signature).unwrap();
    let env = Env::new().with("a", &a[..]);
    let mut out = vec![0.0f64; len];
    let options = Options::default().with_threads(1).with_block_len(block_len);
    bencher.counter(ItemsCount::new(len)).bench_local(|| {
        expr.eval_into_with(&env, divan::black_box(&mut out[..]), options)
            .unwrap();
    });
}
