use std::time::Instant;
fn main() {
    let n = 1_000_000;
    let a: Vec<f64> = (0..n).map(|i| 0.1 + (i as f64 * 0.618034) % 1.0).collect();
    let b: Vec<f64> = (0..n).map(|i| 0.1 + (i as f64 * 0.414214) % 1.0).collect();
    let env = vexpr::Env::new().with("a", &a[..]).with("b", &b[..]);
    let exprs = ["2*a + 3*b", "a**2 + 3*b", "2*a**3 - 4*a**5 + 6*log(a)", "abs(a - b) / (abs(a) + abs(b))", "sin(a)**2 + cos(b)**2", "where(a > b, a*b, a - b)", "exp(-a*a) * sqrt(b)", "arctan2(a, b) + tanh(a*b)"];
    let filter = std::env::args().nth(1);
    for (i, src) in exprs.iter().enumerate() {
        if let Some(f) = &filter { if !f.split(',').any(|x| x == format!("E{}", i+1)) { continue; } }
        let e = vexpr::Expr::compile(src, &vexpr::Signature::of(&env)).unwrap();
        let mut out = vec![0.0; n];
        for threads in [1, 2] {
            let opts = vexpr::Options { threads, block_len: vexpr::DEFAULT_BLOCK_LEN };
            let mut times = vec![];
            for _ in 0..15 { let t = Instant::now(); e.eval_into_with(&env, &mut out, opts).unwrap(); times.push(t.elapsed().as_secs_f64() * 1e9 / n as f64); }
            times.sort_by(|a, b| a.partial_cmp(b).unwrap());
            print!("E{} t{threads}: {:.3}  ", i + 1, times[times.len()/2]);
        }
        println!("{src}");
    }
}
