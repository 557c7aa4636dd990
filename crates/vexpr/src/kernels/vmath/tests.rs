//! Accuracy and consistency tests against the mpmath reference data in
//! `tests/data/vmath/` (see `gen_reference.py` there), at every dispatch
//! level this CPU supports.
//!
//! `cargo test --release -p vexpr vmath -- --nocapture` prints the accuracy
//! table of `docs/accuracy.md`; the ignored test `vmath_speed` prints the
//! speed table.

use super::*;
use crate::testing::xorshift;
use std::fmt::Write as _;

/// Where `gen_reference.py` writes, relative to this crate.
const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vmath");

/// Reads `<name>_<dtype>.txt`: rows of hex bit patterns.
fn load(file: &str) -> Vec<Vec<u64>> {
    let path = format!("{DATA_DIR}/{file}.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read reference data {path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|h| u64::from_str_radix(h, 16).expect("hex bit pattern"))
                .collect()
        })
        .collect()
}

/// A float format seen through its bit pattern.
trait Bits: Copy + PartialEq + std::fmt::Debug {
    const SIGN: u64;
    const NAME: &'static str;
    fn from_u64(b: u64) -> Self;
    fn to_u64(self) -> u64;
    fn is_nan(self) -> bool;
}

impl Bits for f64 {
    const SIGN: u64 = 1 << 63;
    const NAME: &'static str = "f64";
    fn from_u64(b: u64) -> Self {
        f64::from_bits(b)
    }
    fn to_u64(self) -> u64 {
        self.to_bits()
    }
    fn is_nan(self) -> bool {
        self.is_nan()
    }
}

impl Bits for f32 {
    const SIGN: u64 = 1 << 31;
    const NAME: &'static str = "f32";
    fn from_u64(b: u64) -> Self {
        f32::from_bits(b as u32)
    }
    fn to_u64(self) -> u64 {
        self.to_bits() as u64
    }
    fn is_nan(self) -> bool {
        self.is_nan()
    }
}

/// Distance in ulps between `got` and the correctly rounded `want`: the
/// number of representable values between them (inf counts as the value
/// after MAX). NaN must match NaN and a zero result must have the right sign;
/// anything else is `u64::MAX`.
fn ulps<T: Bits>(got: T, want: T) -> u64 {
    if want.is_nan() || got.is_nan() {
        return if want.is_nan() && got.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let (g, w) = (got.to_u64(), want.to_u64());
    if w & !T::SIGN == 0 || g & !T::SIGN == 0 {
        // a zero on either side: only the identical zero is exact
        if g == w {
            return 0;
        }
        if (g & !T::SIGN == 0) != (w & !T::SIGN == 0) {
            // one zero, one not: distance through zero
        } else {
            return u64::MAX; // +0 vs -0
        }
    }
    let key = |b: u64| -> i128 {
        let m = (b & !T::SIGN) as i128;
        if b & T::SIGN != 0 { -m } else { m }
    };
    (key(g) - key(w)).unsigned_abs() as u64
}

/// How one function is run: through its dispatch table at a given level.
enum Kernel<T: 'static> {
    Unary(&'static Unary<T>),
    Binary(&'static Binary<T>),
}

impl<T: Copy + Default> Kernel<T> {
    fn run(&self, level: Level, args: &[Vec<T>]) -> Vec<T> {
        let mut out = vec![T::default(); args[0].len()];
        match self {
            Kernel::Unary(k) => k.run(level, &args[0], &mut out),
            Kernel::Binary(k) => k.run(level, &args[0], &args[1], &mut out),
        }
        out
    }
}

/// (name in the data files, ulp bound, f64 kernel, f32 kernel)
fn functions() -> Vec<(&'static str, u64, Kernel<f64>, Kernel<f32>)> {
    use Kernel::{Binary as B, Unary as U};
    vec![
        ("exp", 1, U(&EXP_F64), U(&EXP_F32)),
        ("log", 1, U(&LOG_F64), U(&LOG_F32)),
        ("sin", 4, U(&SIN_F64), U(&SIN_F32)),
        ("cos", 4, U(&COS_F64), U(&COS_F32)),
        ("tanh", 4, U(&TANH_F64), U(&TANH_F32)),
        ("atan2", 4, B(&ATAN2_F64), B(&ATAN2_F32)),
        ("expm1", 4, U(&EXPM1_F64), U(&EXPM1_F32)),
        ("log1p", 4, U(&LOG1P_F64), U(&LOG1P_F32)),
        ("log2", 4, U(&LOG2_F64), U(&LOG2_F32)),
        ("log10", 4, U(&LOG10_F64), U(&LOG10_F32)),
        ("tan", 4, U(&TAN_F64), U(&TAN_F32)),
        ("arctan", 4, U(&ARCTAN_F64), U(&ARCTAN_F32)),
        ("arcsin", 4, U(&ARCSIN_F64), U(&ARCSIN_F32)),
        ("arccos", 4, U(&ARCCOS_F64), U(&ARCCOS_F32)),
        ("sinh", 4, U(&SINH_F64), U(&SINH_F32)),
        ("cosh", 4, U(&COSH_F64), U(&COSH_F32)),
        ("arcsinh", 4, U(&ARCSINH_F64), U(&ARCSINH_F32)),
        ("arccosh", 4, U(&ARCCOSH_F64), U(&ARCCOSH_F32)),
        ("arctanh", 4, U(&ARCTANH_F64), U(&ARCTANH_F32)),
        ("pow", 4, B(&POW_F64), B(&POW_F32)),
        ("hypot", 4, B(&HYPOT_F64), B(&HYPOT_F32)),
    ]
}

/// Worst case of one kernel at one level: (max ulps, inputs, got, want).
struct Worst<T> {
    ulps: u64,
    args: Vec<T>,
    got: T,
    want: T,
}

fn measure<T: Bits + Default>(name: &str, kernel: &Kernel<T>, level: Level) -> Worst<T> {
    let rows = load(&format!("{name}_{}", T::NAME));
    let arity = rows[0].len() - 1;
    let args: Vec<Vec<T>> = (0..arity)
        .map(|i| rows.iter().map(|r| T::from_u64(r[i])).collect())
        .collect();
    let got = kernel.run(level, &args);
    let mut worst = Worst {
        ulps: 0,
        args: vec![],
        got: T::default(),
        want: T::default(),
    };
    for (i, r) in rows.iter().enumerate() {
        let want = T::from_u64(r[arity]);
        let d = ulps(got[i], want);
        if d > worst.ulps || worst.args.is_empty() {
            worst = Worst {
                ulps: d,
                args: args.iter().map(|a| a[i]).collect(),
                got: got[i],
                want,
            };
        }
    }
    worst
}

/// Checks every function, dtype and level against its bound and prints the
/// table of `docs/accuracy.md`.
#[test]
#[cfg_attr(miri, ignore = "reads and checks the mpmath tables: hours under Miri")]
fn vmath_accuracy() {
    let levels = Level::supported();
    let mut table =
        String::from("| function | dtype | max ulp | bound | per level |\n|---|---|---|---|---|\n");
    let mut failures = vec![];
    fn row<T: Bits + Default>(
        name: &str,
        bound: u64,
        kernel: &Kernel<T>,
        levels: &[Level],
        table: &mut String,
        failures: &mut Vec<String>,
    ) {
        let mut max = 0;
        let mut per = vec![];
        for &level in levels {
            let w = measure(name, kernel, level);
            if w.ulps > bound {
                failures.push(format!(
                    "{name}_{} at {level:?}: {} ulps at {:?}: got {:?}, want {:?}",
                    T::NAME,
                    w.ulps,
                    w.args,
                    w.got,
                    w.want
                ));
            }
            max = max.max(w.ulps);
            per.push(format!("{level:?} {}", w.ulps));
        }
        let shown = if max == u64::MAX {
            "wrong".to_string()
        } else {
            max.to_string()
        };
        let _ = writeln!(
            table,
            "| {name} | {} | {shown} | {bound} | {} |",
            T::NAME,
            per.join(", ")
        );
    }
    for (name, bound, k64, k32) in functions() {
        row(name, bound, &k64, &levels, &mut table, &mut failures);
        row(name, bound, &k32, &levels, &mut table, &mut failures);
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "over the bound:\n{}",
        failures.join("\n")
    );
}

/// Every length (tails, blocks, the fix-up path) gives the same values as
/// evaluating elements one at a time.
#[test]
fn vmath_lengths_and_tails() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // mostly ordinary values, some huge ones to trigger the trig fix-up
        let v = (seed >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 10.0;
        if seed.is_multiple_of(17) { v * 1e12 } else { v }
    };
    // Under Miri, the short tails only: it interprets every lane.
    let total = if cfg!(miri) { 17 } else { 1100 };
    let x: Vec<f64> = (0..total).map(|_| next()).collect();
    let y: Vec<f64> = (0..total).map(|_| next()).collect();
    // In f32 the huge values overflow to inf for some functions: more fix-up lanes.
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let y32: Vec<f32> = y.iter().map(|&v| v as f32).collect();
    for level in Level::supported() {
        for (name, _, k64, k32) in functions() {
            same_at_every_length(name, &k64, level, &x, &y);
            same_at_every_length(name, &k32, level, &x32, &y32);
        }
    }
}

/// `kernel` on every prefix length in a list of awkward ones gives the bits
/// it gives on the whole of `x` (and `y`).
fn same_at_every_length<T: Bits + Default>(
    name: &str,
    kernel: &Kernel<T>,
    level: Level,
    x: &[T],
    y: &[T],
) {
    let lengths = [
        0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 49, 511, 512, 513, 1100,
    ];
    let full = kernel.run(level, &[x.to_vec(), y.to_vec()]);
    for len in lengths.into_iter().filter(|&len| len <= x.len()) {
        let part = kernel.run(level, &[x[..len].to_vec(), y[..len].to_vec()]);
        for i in 0..len {
            assert_eq!(
                part[i].to_u64(),
                full[i].to_u64(),
                "{name}_{} at {level:?}, len {len}, index {i}",
                T::NAME
            );
        }
    }
}

/// glibc's functions, through the C library std links: within an ulp
/// everywhere (Rust's own `asinh` and `atanh` are not glibc's and lose
/// accuracy near the ends of their ranges).
pub(super) mod glibc {
    unsafe extern "C" {
        pub(in super::super) fn log1p(x: f64) -> f64;
        pub(in super::super) fn asinh(x: f64) -> f64;
        pub(in super::super) fn acosh(x: f64) -> f64;
        pub(in super::super) fn atanh(x: f64) -> f64;
        pub(in super::super) fn sinh(x: f64) -> f64;
        pub(in super::super) fn cosh(x: f64) -> f64;
        pub(in super::super) fn log2(x: f64) -> f64;
        pub(in super::super) fn log10(x: f64) -> f64;
    }
}

/// Inputs every kernel must get right, whatever its function.
pub(super) const SPECIALS: [f64; 10] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    5e-324,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    -f64::NAN,
];

/// 1.2M test inputs for [`check_against_glibc`]: `draw(i, r, u,
/// sign)` makes the i-th from a random `r`, `u` uniform in [0, 1) and a
/// random `sign`, and one of [`SPECIALS`] and `specials` follows every
/// 89th, in turn, so that they sit among ordinary lanes in the same blocks.
pub(super) fn mixed_inputs(
    seed: u64,
    specials: &[f64],
    draw: impl Fn(usize, u64, f64, f64) -> f64,
) -> Vec<f64> {
    let specials = [&SPECIALS[..], specials].concat();
    let mut next = xorshift(seed);
    let mut x = Vec::new();
    for i in 0..1_200_000 {
        let r = next();
        let unit = (r >> 11) as f64 / (1u64 << 53) as f64;
        let sign = if r & 1 == 0 { 1.0 } else { -1.0 };
        x.push(draw(i, r, unit, sign));
        if i % 89 == 0 {
            x.push(specials[i / 89 % specials.len()]);
        }
    }
    x
}

/// Checks an f64 kernel (`logtable.rs`'s, `sinh`, `cosh`) on `x` at every
/// level: each lane within `max_ulps` of
/// `glibc` (NaN for NaN, the same zero and infinity), at most one lane in
/// 1000 more than an ulp off, and every short run from a few starts (tails,
/// the scalar pass's lanes) the long run's bits.
pub(super) fn check_against_glibc(
    name: &str,
    kernel: &Unary<f64>,
    glibc: unsafe extern "C" fn(f64) -> f64,
    x: &[f64],
    max_ulps: u64,
) {
    let mut out = vec![0.0; x.len()];
    for level in Level::supported() {
        kernel.run(level, x, &mut out);
        let mut far = 0usize;
        for (&v, &got) in x.iter().zip(&out) {
            // SAFETY: a pure C function of one double.
            let want = unsafe { glibc(v) };
            let d = ulps(got, want);
            assert!(
                d <= max_ulps,
                "{level:?}: {name}({v:e}) = {got:e} but glibc gives {want:e}"
            );
            far += usize::from(d > 1);
        }
        assert!(
            far * 1000 < x.len(),
            "{level:?}: {name}: {far} of {} lanes more than an ulp from glibc",
            x.len()
        );
        for len in 0..=40 {
            for start in [0, 3, 89 * 7, 89 * 7 + 5] {
                let range = start..(start + len).min(x.len());
                let mut part = vec![0.0; range.len()];
                kernel.run(level, &x[range.clone()], &mut part);
                let same = part
                    .iter()
                    .zip(&out[range])
                    .all(|(p, w)| p.to_bits() == w.to_bits() || (p.is_nan() && w.is_nan()));
                assert!(same, "{level:?}: {name}: {len} lanes from {start}");
            }
        }
    }
}

/// Float64 `sinh` and `cosh` (`explog::sinh_ordinary`, `cosh_ordinary` and
/// the full lane functions past |x| = 709) within 2 ulps of glibc at every
/// level (so within 3 of the exact result, inside the bound of 4; the mpmath
/// data above measures the error itself): any bit pattern, the ordinary range
/// on a linear and on a log scale, around 1 (where `sinh` changes form) and
/// around each k ln2 / 2 (where k changes), next to the overflow and the
/// bound of the vector path.
#[test]
#[cfg_attr(miri, ignore = "10^6 samples: hours under Miri")]
fn sinh_and_cosh_within_two_ulps_of_glibc() {
    let specials = [
        709.0,
        -709.0000000000001,
        710.4758600739439,
        710.475860073944,
    ];
    let x = mixed_inputs(
        0x9E37_79B9_7F4A_7C15,
        &specials,
        |i, r, unit, sign| match i % 6 {
            0 => f64::from_bits(r),
            1 => sign * (unit * 70.0 - 60.0).exp2(),
            2 => sign * unit * 712.0,
            3 => sign * (1.0 + (unit - 0.5) * 2f64.powi(-20)),
            4 => {
                let k = (r >> 40) % 2048;
                sign * (k as f64 * std::f64::consts::LN_2 / 2.0 + (unit - 0.5) * 1e-12)
            }
            _ => sign * unit * 20.0,
        },
    );
    check_against_glibc("sinh", &SINH_F64, glibc::sinh, &x, 2);
    check_against_glibc("cosh", &COSH_F64, glibc::cosh, &x, 2);
}

/// The fast square root gives the bits of `f64::sqrt` at every level: random
/// numbers over the whole range, exact squares, near-squares (where rounding
/// is hardest), the edges of the fast path and the special values.
#[test]
#[cfg_attr(miri, ignore = "10^5 samples of portable arithmetic: hours under Miri")]
fn sqrt_is_correctly_rounded() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut xs = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -1.0,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        7.888609052210118e-31,
        1.2676506002282294e30,
    ];
    xs.extend([7.888609052210118e-31f64, 1.2676506002282294e30].map(f64::next_up));
    xs.extend([7.888609052210118e-31f64, 1.2676506002282294e30].map(f64::next_down));
    // The hardest cases: sqrt(x) within about 2^-50 ulp of a rounding
    // midpoint m = M/2 (M odd, 54 bits): x = (M^2 -+ t)/4 with M^2 = +-t
    // modulo 2^55, so that x has 53 bits.
    for t in 1..3000u64 {
        let (residue, sign) = match t % 8 {
            1 => (t, -1i128),
            7 => ((1u64 << 55) - t, 1),
            _ => continue,
        };
        let root = sqrt_mod_2_55(residue);
        for m in [
            root,
            (1 << 55) - root,
            root ^ (1 << 54),
            ((1 << 55) - root) ^ (1 << 54),
        ] {
            let m = m & ((1 << 55) - 1);
            if !(1u64 << 53..1 << 54).contains(&m) {
                continue;
            }
            let x = (m as i128 * m as i128 + sign * t as i128) >> 55;
            let x = x as f64 * 2f64.powi(53) * 4f64.powi((t % 200) as i32 - 100);
            xs.push(x);
        }
    }
    for i in 0..400_000u64 {
        let r = next();
        xs.push(match i % 4 {
            0 => f64::from_bits(r), // every exponent, negatives and NaNs included
            1 => ((r >> 38) as f64).powi(2),
            2 => {
                let m = 1.0 + (r >> 11) as f64 / (1u64 << 53) as f64;
                f64::from_bits((m * m).to_bits() ^ (r >> 62))
            }
            _ => f64::from_bits((r >> 12) | ((1023 - 100 + (r % 200)) << 52)),
        });
    }
    for level in Level::supported() {
        // Every length up to 50 runs the partial-vector tails at each offset.
        for len in (0..50).chain([xs.len()]) {
            let mut out = vec![0.0; len];
            SQRT_F64.run(level, &xs[..len], &mut out);
            for (&x, &got) in xs.iter().zip(&out) {
                let want = x.sqrt();
                let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
                assert!(same, "sqrt({x:e}) at {level:?}: {got:e}, want {want:e}");
            }
        }
    }
}

/// s with s * s = r modulo 2^55, for r = 1 modulo 8 (Hensel lifting, one
/// bit at a time).
fn sqrt_mod_2_55(r: u64) -> u64 {
    let mut s = 1u64;
    for k in 3..55 {
        if s.wrapping_mul(s).wrapping_sub(r) & ((1 << (k + 1)) - 1) != 0 {
            s += 1 << (k - 1);
        }
    }
    assert_eq!(s.wrapping_mul(s) & ((1 << 55) - 1), r & ((1 << 55) - 1));
    s
}

/// The inverse of odd `b` modulo 2^64 (Newton's iteration doubles the bits).
fn inverse_mod_2_64(b: u64) -> u64 {
    let mut x = b;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(b.wrapping_mul(x)));
    }
    assert_eq!(b.wrapping_mul(x), 1);
    x
}

/// The fast division gives the bits of `/` at every level: random bit
/// patterns (every exponent, zeros, infinities, NaNs), ordinary quotients,
/// quotients within a hair of a rounding midpoint (where the test of the
/// Newton quotient decides), exact quotients, powers of two and all-ones
/// mantissas, and the edges of the Newton range.
#[test]
#[cfg_attr(miri, ignore = "10^5 samples of portable arithmetic: hours under Miri")]
fn div_is_correctly_rounded() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let unit = |r: u64| 1.0 + (r >> 12) as f64 / (1u64 << 52) as f64; // [1, 2)
    let sign = |r: u64| if r & 1 == 1 { -1.0 } else { 1.0 };
    let mut pairs = vec![
        (0.0, 1.0),
        (-0.0, 3.0),
        (0.0, -3.0),
        (1.0, 0.0),
        (0.0, 0.0),
        (f64::INFINITY, 2.0),
        (2.0, f64::INFINITY),
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
        (f64::MAX, 0.5),
        (f64::MIN_POSITIVE, 4.0),
        (5e-324, 0.25),
        (1.0, 3.0),
    ];
    // The hardest cases: a/b within about 2^-53 ulp of a rounding midpoint.
    // With b = B (odd, 53 bits) and M = +-1/B modulo 2^54, B M = K 2^54 +- 1,
    // so a = K 2^53 has 53 bits and a/b = M/2 -+ 1/(2B).
    for _ in 0..20_000 {
        let r = next();
        let big_b = (r >> 11) | (1 << 52) | 1;
        let inverse = inverse_mod_2_64(big_b) & ((1 << 54) - 1);
        for (m, plus) in [(inverse, 1i128), ((1 << 54) - inverse, -1)] {
            if m < 1 << 53 {
                continue;
            }
            let k = (big_b as i128 * m as i128 - plus) >> 54;
            let scale = 2f64.powi((r % 100) as i32 - 50);
            let a = k as f64 * 2f64.powi(53) * scale;
            pairs.push((a, big_b as f64 * scale));
            pairs.push((-a, big_b as f64));
        }
    }
    // Edges of the Newton range, for the divisor and for the quotient.
    for e in [-481, -480, -479, 479, 480, 481] {
        let p = 2f64.powi(e);
        for v in [p.next_down(), p, p.next_up()] {
            pairs.extend([(1.0, v), (v, 1.0), (v, 3.0), (3.0, v)]);
        }
    }
    for i in 0..400_000u64 {
        let (r, s) = (next(), next());
        pairs.push(match i % 6 {
            0 => (f64::from_bits(r), f64::from_bits(s)),
            1 => (
                sign(r) * unit(r),
                sign(s) * unit(s) * 2f64.powi((s % 64) as i32 - 32),
            ),
            2 => {
                // a / b within about 2^-52 ulp of the midpoint above q.
                let (q, b) = (unit(r), unit(s));
                let mid = q + f64::EPSILON / 2.0;
                (b.mul_add(mid, 0.0), b)
            }
            3 => {
                let b = unit(s);
                (b * ((r % 1000) as f64 + 1.0), b) // exact quotients
            }
            4 => {
                let k = (s % 100) as i32 - 50;
                let m = [1.0, 2.0 - f64::EPSILON, 1.0 + f64::EPSILON][(r % 3) as usize];
                (sign(r) * unit(r), m * 2f64.powi(k))
            }
            _ => {
                // Quotients near a power of two, from both sides.
                let b = unit(s);
                let q = 2f64.powi((r % 20) as i32 - 10);
                (b * [q, q.next_down(), q.next_up()][(r % 3) as usize], b)
            }
        });
    }
    let (a, b): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
    for level in Level::supported() {
        for len in (0..50).chain([a.len()]) {
            let mut out = vec![0.0; len];
            DIV_F64.run(level, &a[..len], &b[..len], &mut out);
            for ((&x, &y), &got) in a.iter().zip(&b).zip(&out) {
                let want = x / y;
                let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
                assert!(same, "{x:e} / {y:e} at {level:?}: {got:e}, want {want:e}");
            }
        }
    }
}

/// Values the brief and NumPy pin down exactly.
#[test]
fn vmath_special_values() {
    let one = |k: &Unary<f64>, v: f64| {
        let mut o = [0.0];
        k.run(Level::current(), &[v], &mut o);
        o[0]
    };
    assert_eq!(one(&EXP_F64, 710.0), f64::INFINITY);
    assert_eq!(one(&EXP_F64, -746.0), 0.0);
    assert_eq!(one(&EXP_F64, f64::NEG_INFINITY), 0.0);
    assert_eq!(one(&LOG_F64, 0.0), f64::NEG_INFINITY);
    assert!(one(&LOG_F64, -1.0).is_nan());
    assert!(one(&LOG_F64, 5e-324).is_finite());
    assert!(one(&SIN_F64, f64::INFINITY).is_nan());
    assert!(one(&COS_F64, f64::NAN).is_nan());
    assert_eq!(one(&SIN_F64, -0.0).to_bits(), (-0.0f64).to_bits());
    assert_eq!(one(&TANH_F64, f64::INFINITY), 1.0);
    assert_eq!(one(&ARCTANH_F64, -1.0), f64::NEG_INFINITY);
    let mut o = [0.0];
    ATAN2_F64.run(Level::current(), &[0.0], &[-0.0], &mut o);
    assert_eq!(o[0], std::f64::consts::PI);
}

/// ns/elem at N = 2^20 against a plain std loop; `docs/accuracy.md` records
/// the output of
/// `cargo test --release -p vexpr vmath_speed -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn vmath_speed() {
    use std::hint::black_box;
    use std::time::Instant;
    const N: usize = 1 << 20;
    let mut seed = 1u64;
    let mut uniform = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let sym: Vec<f64> = (0..N).map(|_| uniform() * 20.0 - 10.0).collect();
    let pos: Vec<f64> = (0..N).map(|_| (uniform() * 40.0 - 20.0).exp()).collect();
    let best = |f: &mut dyn FnMut()| {
        (0..11)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
            * 1e9
            / N as f64
    };
    let mut out = vec![0.0; N];
    let mut out32 = vec![0.0f32; N];
    let levels = Level::supported();
    let names: Vec<String> = levels.iter().rev().map(|l| format!("{l:?}")).collect();
    println!(
        "| function | input | vmath f64: {} | std f64 loop | vmath f32 ({:?}) |",
        names.join(" / "),
        Level::current()
    );
    println!("|---|---|---|---|---|");
    type Case = (
        &'static str,
        &'static str,
        &'static Unary<f64>,
        &'static Unary<f32>,
        fn(f64) -> f64,
    );
    let cases: [Case; 6] = [
        ("exp", "U(-10, 10)", &EXP_F64, &EXP_F32, f64::exp),
        ("log", "e^U(-20, 20)", &LOG_F64, &LOG_F32, f64::ln),
        ("sin", "U(-10, 10)", &SIN_F64, &SIN_F32, f64::sin),
        ("cos", "U(-10, 10)", &COS_F64, &COS_F32, f64::cos),
        ("tanh", "U(-10, 10)", &TANH_F64, &TANH_F32, f64::tanh),
        ("arctan", "U(-10, 10)", &ARCTAN_F64, &ARCTAN_F32, f64::atan),
    ];
    for (name, input, k64, k32, sf) in cases {
        let x = if name == "log" { &pos } else { &sym };
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let per_level: Vec<String> = levels
            .iter()
            .rev()
            .map(|&l| {
                format!(
                    "{:.2}",
                    best(&mut || k64.run(l, black_box(x), black_box(&mut out)))
                )
            })
            .collect();
        let s = best(&mut || {
            for (o, &e) in out.iter_mut().zip(black_box(x)) {
                *o = sf(e);
            }
            black_box(&mut out);
        });
        let v32 = best(&mut || k32.run(Level::current(), black_box(&x32), black_box(&mut out32)));
        println!(
            "| {name} | {input} | {} | {s:.2} | {v32:.2} |",
            per_level.join(" / ")
        );
    }
    let y: Vec<f64> = sym.iter().rev().copied().collect();
    let per_level: Vec<String> = levels
        .iter()
        .rev()
        .map(|&l| {
            format!(
                "{:.2}",
                best(&mut || ATAN2_F64.run(l, black_box(&sym), black_box(&y), black_box(&mut out)))
            )
        })
        .collect();
    let s = best(&mut || {
        for ((o, &a), &b) in out.iter_mut().zip(black_box(&sym)).zip(&y) {
            *o = a.atan2(b);
        }
        black_box(&mut out);
    });
    println!(
        "| atan2 | U(-10, 10)^2 | {} | {s:.2} | |",
        per_level.join(" / ")
    );
}

/// Wider but weaker check: ulp distance to glibc (through `std`) over 4M
/// random points per distribution. glibc is not correctly rounded either,
/// so this bounds our error only to within glibc's own (< 1 ulp here).
/// Rust's `asinh`, `acosh` and `atanh` are not glibc's and lose accuracy
/// near ±1 and near the overflow threshold, so they are left out.
/// `cargo test --release -p vexpr vmath_vs_glibc -- --ignored --nocapture`
#[test]
#[ignore = "slow sweep; run in release with --ignored --nocapture"]
fn vmath_vs_glibc() {
    const N: usize = 1 << 22;
    let mut rnd = xorshift(88172645463325252);
    let mut unit = || (rnd() >> 11) as f64 / (1u64 << 53) as f64;
    let mut sets: Vec<(&str, Vec<f64>)> = vec![];
    sets.push((
        "U(-750, 750)",
        (0..N).map(|_| unit() * 1500.0 - 750.0).collect(),
    ));
    sets.push((
        "±2^U(-50, 10)",
        (0..N)
            .map(|_| (unit() * 60.0 - 50.0).exp2() * if unit() < 0.5 { 1.0 } else { -1.0 })
            .collect(),
    ));
    sets.push(("U(-1, 1)", (0..N).map(|_| unit() * 2.0 - 1.0).collect()));
    let mut bits = 1u64;
    sets.push((
        "random bits",
        (0..N)
            .map(|_| {
                bits = bits
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                f64::from_bits(bits)
            })
            .collect(),
    ));
    type F = (&'static str, &'static Unary<f64>, fn(f64) -> f64);
    let fs: [F; 15] = [
        ("exp", &EXP_F64, f64::exp),
        ("log", &LOG_F64, f64::ln),
        ("sin", &SIN_F64, f64::sin),
        ("cos", &COS_F64, f64::cos),
        ("tanh", &TANH_F64, f64::tanh),
        ("expm1", &EXPM1_F64, f64::exp_m1),
        ("log1p", &LOG1P_F64, f64::ln_1p),
        ("log2", &LOG2_F64, f64::log2),
        ("log10", &LOG10_F64, f64::log10),
        ("tan", &TAN_F64, f64::tan),
        ("arctan", &ARCTAN_F64, f64::atan),
        ("arcsin", &ARCSIN_F64, f64::asin),
        ("arccos", &ARCCOS_F64, f64::acos),
        ("sinh", &SINH_F64, f64::sinh),
        ("cosh", &COSH_F64, f64::cosh),
    ];
    let mut out = vec![0.0; N];
    let header: Vec<&str> = sets.iter().map(|(n, _)| *n).collect();
    println!(
        "| function | {} |\n|---|---|---|---|---|",
        header.join(" | ")
    );
    for (name, k, sf) in fs {
        let mut cells = vec![];
        for (_, x) in &sets {
            k.run(Level::current(), x, &mut out);
            let worst = x
                .iter()
                .zip(&out)
                .map(|(&v, &o)| ulps(o, sf(v)))
                .max()
                .unwrap_or(0);
            cells.push(if worst == u64::MAX {
                "NaN/zero mismatch".to_string()
            } else {
                worst.to_string()
            });
        }
        println!("| {name} | {} |", cells.join(" | "));
    }
}

/// The fast-path tests compare bit patterns as integers; they pick the same
/// lanes as the float comparisons they stand for, at the edges (signed zeros,
/// subnormals, the thresholds and their neighbours, infinities, NaNs of both
/// signs) and on random bit patterns.
#[test]
#[cfg_attr(miri, ignore = "10^5 samples of portable arithmetic: hours under Miri")]
fn fast_path_tests_match_their_float_definitions() {
    let mut xs = vec![
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::MAX,
        f64::MIN,
        1.0,
        -1.0,
    ];
    for edge in [
        f64::MIN_POSITIVE,
        708.0,
        trig::TRIG_FAST_MAX,
        2f64.powi(-500),
        2f64.powi(500),
    ] {
        for v in [edge.next_down(), edge, edge.next_up()] {
            xs.extend([v, -v]);
        }
    }
    let mut next = xorshift(0x51af_d7ed_558c_cd01);
    xs.extend((0..200_000).map(|_| f64::from_bits(next())));
    for x in xs {
        let log_full = !(f64::MIN_POSITIVE..f64::INFINITY).contains(&x);
        assert_eq!(explog::log_needs_full(x), log_full, "log at {x:e}");
        let exp_full = x.abs() > 708.0 || x.is_nan();
        assert_eq!(explog::exp_needs_full(x), exp_full, "exp at {x:e}");
        let trig_large = x.abs() > trig::TRIG_FAST_MAX || x.is_nan();
        assert_eq!(trig::trig_needs_large(x), trig_large, "trig at {x:e}");
        let ordinary = |v: f64| (2f64.powi(-500)..=2f64.powi(500)).contains(&v.abs());
        for other in [1.0, x, -x / 3.0] {
            let full = !(ordinary(x) && ordinary(other));
            assert_eq!(
                trig::atan2_needs_full(x, other),
                full,
                "atan2 at {x:e}, {other:e}"
            );
        }
    }
}

/// The short lane functions of the fast paths give the bits of the full ones
/// on the inputs they cover (random positive normals for log, |x| <= 708 for
/// exp, operands in [2^-500, 2^500] for atan2), with and without fused
/// multiply-adds.
#[test]
#[cfg_attr(miri, ignore = "10^5 samples of portable arithmetic: hours under Miri")]
fn fast_lane_functions_give_the_full_ones_bits() {
    let mut next = xorshift(0x94d0_49bb_1331_11eb);
    for _ in 0..100_000 {
        let bits = next();
        let x = f64::from_bits(bits & !(1 << 63));
        if !explog::log_needs_full(x) {
            let (fast, full) = (
                explog::log_normal::<arith::HwFma>(x),
                explog::log::<arith::HwFma>(x),
            );
            assert_eq!(fast.to_bits(), full.to_bits(), "log({x:e})");
            let (fast, full) = (
                explog::log_normal::<arith::BaseFma>(x),
                explog::log::<arith::BaseFma>(x),
            );
            assert_eq!(fast.to_bits(), full.to_bits(), "log({x:e}) without FMA");
        }
        let other = f64::from_bits(next());
        if !trig::atan2_needs_full(x, other) {
            let (fast, full) = (
                trig::atan2_ordinary::<arith::HwFma>(other, x),
                trig::atan2::<arith::HwFma>(other, x),
            );
            assert_eq!(fast.to_bits(), full.to_bits(), "atan2({other:e}, {x:e})");
        }
        // Ordinary operands of both signs with ratios near 1 (all three
        // reduction intervals, both orders) and far from it.
        let p = f64::from_bits((bits & 0x800f_ffff_ffff_ffff) | ((1023 - 200 + bits % 400) << 52));
        let ratio = 0.3 + (bits >> 40) as f64 / (1u64 << 24) as f64 * 3.0;
        let q = match bits % 3 {
            0 => p * ratio,
            1 => -p * ratio,
            _ => p * 2f64.powi((bits >> 20) as i32 % 100),
        };
        assert!(!trig::atan2_needs_full(p, q));
        assert_eq!(
            trig::atan2_ordinary::<arith::BaseFma>(p, q).to_bits(),
            trig::atan2::<arith::BaseFma>(p, q).to_bits(),
            "atan2({p:e}, {q:e})"
        );
        let y = (bits >> 11) as f64 / (1u64 << 53) as f64 * 1416.0 - 708.0;
        assert!(!explog::exp_needs_full(y));
        let (fast, full) = (
            explog::exp_normal::<arith::HwFma>(y),
            explog::exp::<arith::HwFma>(y),
        );
        assert_eq!(fast.to_bits(), full.to_bits(), "exp({y:e})");
    }
}

/// The float32 functions and their independent reference: `std`'s f64
/// function (glibc's, or Rust's own for asinh, acosh, atanh: all far below
/// an f32 ulp off) on the widened input, rounded to f32. (name, ulp bound,
/// kernel, reference)
type Ref32 = (&'static str, u64, &'static Unary<f32>, fn(f64) -> f64);

fn f32_functions() -> [Ref32; 18] {
    [
        ("exp", 1, &EXP_F32, f64::exp),
        ("log", 1, &LOG_F32, f64::ln),
        ("sin", 4, &SIN_F32, f64::sin),
        ("cos", 4, &COS_F32, f64::cos),
        ("tan", 4, &TAN_F32, f64::tan),
        ("tanh", 4, &TANH_F32, f64::tanh),
        ("expm1", 4, &EXPM1_F32, f64::exp_m1),
        ("log1p", 4, &LOG1P_F32, f64::ln_1p),
        ("log2", 4, &LOG2_F32, f64::log2),
        ("log10", 4, &LOG10_F32, f64::log10),
        ("arctan", 4, &ARCTAN_F32, f64::atan),
        ("arcsin", 4, &ARCSIN_F32, f64::asin),
        ("arccos", 4, &ARCCOS_F32, f64::acos),
        ("sinh", 4, &SINH_F32, f64::sinh),
        ("cosh", 4, &COSH_F32, f64::cosh),
        ("arcsinh", 4, &ARCSINH_F32, f64::asinh),
        ("arccosh", 4, &ARCCOSH_F32, f64::acosh),
        ("arctanh", 4, &ARCTANH_F32, f64::atanh),
    ]
}

/// About 2.4M float32 inputs: every 2039th bit pattern (all exponents, both
/// signs, subnormals, NaNs), the special values, both sides of every
/// fast-path bound and overflow threshold, and the floats nearest to the
/// multiples of pi/2 up to the end of the f32 trig reduction (where sin,
/// cos and tan cancel most).
fn f32_sample() -> Vec<f32> {
    let mut xs: Vec<f32> = (0..=u32::MAX / 2039)
        .map(|i| f32::from_bits(i * 2039))
        .collect();
    let edges = [
        0.0,
        f32::from_bits(1),
        f32::MIN_POSITIVE,
        f32::MAX,
        f32::INFINITY,
        f32::NAN,
        1.0,
        0.5,
        0.9,
        0.5212,
        2.0,
        4096.0,
        20.0,
        2.0e-8,
        6.0e-8,
        1.0 / 4096.0,
        87.0,
        88.0,
        88.72283,
        89.0,
        89.41599,
        103.97,
        104.0,
        trig32::TRIG32_FAST_MAX,
        2f32.powi(-60),
        2f32.powi(60),
        1.0e30,
        // The ends of `table32.rs`'s intervals and clamps.
        0.0546875,
        0.078125,
        10.0,
        16.0,
        1.0e18,
    ];
    for e in edges {
        for v in [e.next_down(), e, e.next_up()] {
            xs.extend([v, -v]);
        }
    }
    let pio2 = std::f64::consts::FRAC_PI_2;
    for k in 1..(trig32::TRIG32_FAST_MAX as f64 / pio2) as i64 + 2 {
        let v = (k as f64 * pio2) as f32;
        xs.extend([v, v.next_up(), v.next_down(), -v]);
    }
    xs
}

/// Every float32 function at every level against the widened f64 reference
/// over `f32_sample`: within 1 ulp (exp, log) or 4 ulps, NaN where the
/// reference is NaN, and the sign of a zero result right. The full sweep of
/// all 2^32 inputs is `examples/f32_exhaustive.rs`.
#[test]
#[cfg_attr(miri, ignore = "millions of inputs: hours under Miri")]
fn f32_against_widened_std() {
    let xs = f32_sample();
    let mut failures = vec![];
    let mut table = String::from("| function | max ulp | bound | per level |\n|---|---|---|---|\n");
    let mut got = vec![0.0f32; xs.len()];
    for (name, bound, kernel, reference) in f32_functions() {
        let want: Vec<f32> = xs.iter().map(|&x| reference(x as f64) as f32).collect();
        let mut per = vec![];
        let mut max = 0;
        for level in Level::supported() {
            kernel.run(level, &xs, &mut got);
            let (worst, i) = (0..xs.len())
                .map(|i| (ulps(got[i], want[i]), i))
                .max()
                .unwrap_or((0, 0));
            if worst > bound {
                failures.push(format!(
                    "{name}_f32 at {level:?}: {worst} ulps at {:e} ({:#x}): got {:e}, want {:e}",
                    xs[i],
                    xs[i].to_bits(),
                    got[i],
                    want[i]
                ));
            }
            max = max.max(worst);
            per.push(format!("{level:?} {worst}"));
        }
        let _ = writeln!(table, "| {name} | {max} | {bound} | {} |", per.join(", "));
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "over the bound:\n{}",
        failures.join("\n")
    );
}

/// float32 atan2 at every level against the widened f64 reference, on
/// random bit-pattern pairs (every magnitude, zeros, infinities, NaNs) and
/// ordinary pairs with ratios around the reduction's interval bounds.
#[test]
#[cfg_attr(miri, ignore = "10^6 samples: hours under Miri")]
fn f32_atan2_against_widened_std() {
    let mut next = xorshift(0x7f4a_7c15_9e37_79b9);
    let specials = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        f32::INFINITY,
        -f32::INFINITY,
        f32::NAN,
        1e-40,
        1e38,
    ];
    let mut ys = vec![];
    let mut xs = vec![];
    for &a in &specials {
        for &b in &specials {
            ys.push(a);
            xs.push(b);
        }
    }
    for i in 0..1_000_000u64 {
        let r = next();
        let (a, b) = if i % 2 == 0 {
            (f32::from_bits(r as u32), f32::from_bits((r >> 32) as u32))
        } else {
            let b = 1.0 + (r >> 40) as f32 / (1u64 << 24) as f32;
            let ratio = (r & 0xffff) as f32 / 65536.0 * 1.5;
            let s = if r & (1 << 20) != 0 { -1.0 } else { 1.0 };
            (
                b * ratio * s,
                b * if r & (1 << 21) != 0 { -1.0 } else { 1.0 },
            )
        };
        ys.push(a);
        xs.push(b);
    }
    for level in Level::supported() {
        let mut got = vec![0.0f32; xs.len()];
        ATAN2_F32.run(level, &ys, &xs, &mut got);
        for i in 0..xs.len() {
            let want = (ys[i] as f64).atan2(xs[i] as f64) as f32;
            let d = ulps(got[i], want);
            assert!(
                d <= 4,
                "atan2_f32({:e}, {:e}) at {level:?}: {:e}, want {want:e} ({d} ulps)",
                ys[i],
                xs[i],
                got[i]
            );
        }
    }
}
