use std::time::Instant;
fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(65536);
    let block: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(vexpr::DEFAULT_BLOCK_LEN);
    let a: Vec<f64> = (0..n).map(|i| 0.1 + (i as f64 * 0.618034) % 1.0).collect();
    let b: Vec<f64> = (0..n).map(|i| 0.1 + (i as f64 * 0.414214) % 1.0).collect();
    let env = vexpr::Env::new().with("a", &a[..]).with("b", &b[..]);
    {
        let mut out = vec![0.0; n];
        let mut best = f64::MAX;
        for _ in 0..200 { let t = Instant::now(); for ((o, x), y) in out.iter_mut().zip(&a).zip(&b) { *o = x * y; } std::hint::black_box(&out); best = best.min(t.elapsed().as_secs_f64() * 1e9 / n as f64); }
        println!("{best:.3} ns/elem  direct a*b loop");
        let mut best = f64::MAX;
        for _ in 0..200 { let t = Instant::now(); for c in 0..n/1024 { let r = c*1024..(c+1)*1024; for ((o, x), y) in out[r.clone()].iter_mut().zip(&a[r.clone()]).zip(&b[r]) { *o = x * y; } } std::hint::black_box(&out); best = best.min(t.elapsed().as_secs_f64() * 1e9 / n as f64); }
        println!("{best:.3} ns/elem  direct a*b loop in 1024 chunks");
    }
    for src in ["a*b", "2*a + 3*b", "2*a**3 - 4*a**5 + 6*log(a)", "log(a)", "exp(a)", "sin(a)"] {
        let e = vexpr::Expr::compile(src, &vexpr::Signature::of(&env)).unwrap();
        let mut out = vec![0.0; n];
        let opts = vexpr::Options { threads: 1, block_len: block };
        let mut best = f64::MAX;
        for _ in 0..200 { let t = Instant::now(); e.eval_into_with(&env, &mut out, opts).unwrap(); best = best.min(t.elapsed().as_secs_f64() * 1e9 / n as f64); }
        println!("{best:.3} ns/elem  {src}");
    }
}
#[allow(dead_code)]
fn direct() {}
