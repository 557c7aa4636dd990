//! The global thread count: `set_num_threads`, `num_threads`, `MAX_THREADS`,
//! and `Options::default` following them. A test binary of its own, so that
//! changing the count cannot surprise other tests (and one test, so that the
//! steps run in order).

use vexpr::{Env, Options, evaluate, evaluate_with, num_threads, set_num_threads};

#[test]
fn the_global_count_is_set_clamped_and_followed() {
    let initial = num_threads();
    assert!((1..=vexpr::MAX_THREADS).contains(&initial));
    assert_eq!(Options::default().threads(), initial);

    assert_eq!(set_num_threads(3), initial);
    assert_eq!(num_threads(), 3);
    assert_eq!(Options::default().threads(), 3);
    assert_eq!(Options::new().threads(), 3);
    // An explicit count wins over the global one.
    assert_eq!(Options::default().with_threads(2).threads(), 2);

    // Out of range: clamped, as numexpr clamps to its maximum.
    assert_eq!(set_num_threads(0), 3);
    assert_eq!(num_threads(), 1);
    assert_eq!(set_num_threads(vexpr::MAX_THREADS + 1), 1);
    assert_eq!(num_threads(), vexpr::MAX_THREADS);
    assert_eq!(set_num_threads(usize::MAX), vexpr::MAX_THREADS);

    // Every count gives the same result, pools come and go on the way
    // (more counts than the pools kept).
    set_num_threads(1);
    let a: Vec<f64> = (0..300_000).map(|i| f64::from(i) * 1e-3).collect();
    let env = Env::new().with("a", &a[..]);
    let want = evaluate("sin(a) * a + sum(a)", &env).unwrap();
    for threads in [2, 3, 4, 5, 6, 7, 2] {
        set_num_threads(threads);
        assert_eq!(evaluate("sin(a) * a + sum(a)", &env).unwrap(), want);
        let options = Options::default().with_threads(9 - threads);
        assert_eq!(
            evaluate_with("sin(a) * a + sum(a)", &env, options).unwrap(),
            want
        );
    }
    set_num_threads(initial);
    assert_eq!(num_threads(), initial);
}
