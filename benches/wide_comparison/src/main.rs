//! Why vexpr does not use the `wide` crate for its vector math: `wide`'s
//! f64x4 exp, ln, sin and pow against vexpr's kernels (through the public
//! API, one thread) and glibc's scalar functions, in ns per element (median
//! of 21 runs over 1M values) and in the largest error in ulps against glibc
//! (correctly rounded or within 1 ulp for these functions). `wide` picks its
//! instructions when it is compiled, so it is measured in a default build and
//! in one for AVX2 + FMA; vexpr picks at run time and is the same in both.
//! Not part of the workspace; docs/performance.md ("Why not `wide`") has the
//! numbers. Run:
//!
//!     cargo run --release --manifest-path benches/wide_comparison/Cargo.toml
//!     RUSTFLAGS="-C target-cpu=x86-64-v3" CARGO_TARGET_DIR=target/wide-v3 \
//!         cargo run --release --manifest-path benches/wide_comparison/Cargo.toml
use std::time::Instant;
use wide::f64x4;

fn ulps(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    if !a.is_finite() || !b.is_finite() {
        return f64::INFINITY;
    }
    let to = |x: f64| {
        let i = x.to_bits() as i64;
        if i < 0 { i64::MIN - i } else { i }
    };
    (to(a) - to(b)).unsigned_abs() as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time(mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..21)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn inputs(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = 0x9e3779b97f4a7c15u64;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

fn main() {
    let n = 1 << 20;
    type W = fn(f64x4, f64x4) -> f64x4;
    let cases: [(&str, &str, f64, f64, W, fn(f64, f64) -> f64); 4] = [
        (
            "exp",
            "exp(a)",
            -700.0,
            700.0,
            |a, _| a.exp(),
            |a, _| a.exp(),
        ),
        ("log", "log(a)", 1e-300, 1e300, |a, _| a.ln(), |a, _| a.ln()),
        ("sin", "sin(a)", -1e4, 1e4, |a, _| a.sin(), |a, _| a.sin()),
        (
            "pow",
            "a**b",
            0.1,
            10.0,
            |a, b| a.pow_f64x4(b),
            |a, b| a.powf(b),
        ),
    ];
    let opts = vexpr::Options::new().with_threads(1);
    for (name, text, lo, hi, wide_f, scalar) in cases {
        let a = inputs(n, lo, hi);
        let b = inputs(n, -30.0, 30.0);
        let mut out = vec![0.0; n];
        let t_wide = time(|| {
            for ((o, x), y) in out
                .chunks_exact_mut(4)
                .zip(a.chunks_exact(4))
                .zip(b.chunks_exact(4))
            {
                let r = wide_f(
                    f64x4::from(<[f64; 4]>::try_from(x).unwrap()),
                    f64x4::from(<[f64; 4]>::try_from(y).unwrap()),
                );
                o.copy_from_slice(&r.to_array());
            }
        });
        let wide_out = out.clone();
        let t_scalar = time(|| {
            for ((o, x), y) in out.iter_mut().zip(&a).zip(&b) {
                *o = scalar(*x, *y);
            }
        });
        let reference = out.clone();
        let env = vexpr::Env::new().with("a", &a[..]).with("b", &b[..]);
        let expr = vexpr::Expr::compile(text, &vexpr::Signature::of(&env)).unwrap();
        let t_vexpr = time(|| expr.eval_into_with(&env, &mut out, opts).unwrap());
        let worst = |v: &[f64]| {
            v.iter()
                .zip(&reference)
                .map(|(x, r)| ulps(*x, *r))
                .fold(0.0, f64::max)
        };
        println!(
            "{name}: ns/elem wide {:.2}, glibc {:.2}, vexpr {:.2}; max ulps vs glibc: wide {}, vexpr {}",
            t_wide * 1e9 / n as f64,
            t_scalar * 1e9 / n as f64,
            t_vexpr * 1e9 / n as f64,
            worst(&wide_out),
            worst(&out)
        );
    }
    // sin's range: wide's reduction is exact only for moderate arguments.
    let big = inputs(4096, 1e8, 1e12);
    let worst = big
        .chunks_exact(4)
        .flat_map(|x| {
            let r = f64x4::from(<[f64; 4]>::try_from(x).unwrap())
                .sin()
                .to_array();
            (0..4).map(move |i| ulps(r[i], x[i].sin()))
        })
        .fold(0.0, f64::max);
    println!("sin for 1e8 <= |x| <= 1e12: wide max ulps vs glibc {worst}");
}
