//! `vexpr bench EXPR [--n N] [--type NAME=DTYPE ...] [--threads T] [--repeat R] [--block-len B] [--no-jit] [--json]`.
//!
//! Takes an expression; fills each of its variables with N values (a fixed
//! seed, so runs compare) of its type: `float64` unless `--type` names
//! another, floats drawn uniformly from [0.1, 1.1), integers from
//! [-1000, 1000) with 0 made 1 (so that they divide), as
//! `benches/broad.py` draws them, booleans true or false at even odds; compiles
//! once, and times evaluation into a preallocated output: one warm-up call,
//! then R timed samples. Gives the median and minimum time per element in
//! nanoseconds, as text or as one JSON line.
//!
//! A sample is one call, or for calls shorter than [`MIN_SAMPLE`] a batch of
//! calls timed together and divided, so that a cheap expression at small N is
//! measured above the clock's resolution and the per-call overhead.

use crate::Failure;
use crate::value::parse_literal;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::time::{Duration, Instant};
use vexpr::{Complex64, DType, Element, Env, Expr, Options, Signature};

/// The shortest time one sample may take; cheaper calls are batched.
const MIN_SAMPLE: Duration = Duration::from_micros(50);
/// The most calls a batch holds (a call cannot be faster than ~50 ps).
const MAX_BATCH: u128 = 1_000_000;
/// The random inputs' seed.
const SEED: u64 = 0x7665_7870; // "vexp"

/// The arguments of `vexpr bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The expression (it may start with `-`); variables are float64 unless `--type` says
    #[arg(allow_hyphen_values = true)]
    pub expr: String,

    /// A variable's type: NAME=bool, int32, int64, float32 or float64 (repeatable)
    #[arg(long = "type", value_name = "NAME=DTYPE", value_parser = parse_typed)]
    pub types: Vec<(String, DType)>,

    /// Elements per variable
    #[arg(long, default_value_t = 1_000_000, value_parser = parse_count)]
    pub n: usize,

    /// Worker threads (default: VEXPR_NUM_THREADS or the number of cores)
    #[arg(long, value_name = "T", value_parser = crate::parse_threads)]
    pub threads: Option<usize>,

    /// Timed samples after the warm-up
    #[arg(long, value_name = "R", default_value_t = 20, value_parser = parse_count)]
    pub repeat: usize,

    /// Elements per block (a tuning experiment; default: the library's)
    #[arg(long, value_name = "B", value_parser = parse_count)]
    pub block_len: Option<usize>,
    /// Run the VM's pass per instruction instead of generated machine code
    /// (a comparison; the results are the same)
    #[arg(long)]
    pub no_jit: bool,

    /// Print one JSON line: {"expr", "n", "threads", "cpu", "machine_code", "median_ns_per_elem", "min_ns_per_elem"}
    #[arg(long)]
    pub json: bool,
}

/// A positive count; accepts `1_000_000` and `1e6` as well as `1000000`.
fn parse_count(text: &str) -> Result<usize, String> {
    let bad = || format!("`{text}` is not a positive whole number");
    let value = match parse_literal(text).map_err(|e| e.to_string())? {
        Some(vexpr::Scalar::Int64(v)) => usize::try_from(v).map_err(|_| bad())?,
        Some(vexpr::Scalar::Float64(x)) if x.fract() == 0.0 && x >= 1.0 && x < 2f64.powi(53) => {
            x as usize
        }
        _ => return Err(bad()),
    };
    if value == 0 { Err(bad()) } else { Ok(value) }
}

/// `NAME=DTYPE`, a numeric type.
fn parse_typed(text: &str) -> Result<(String, DType), String> {
    let (name, dtype) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=DTYPE"))?;
    let dtype: DType = dtype
        .trim()
        .parse()
        .map_err(|e: vexpr::Error| e.to_string())?;
    match dtype {
        DType::Complex128 | DType::Bytes(_) => Err(format!(
            "`{dtype}`: bench fills bool, int32, int64, float32 or float64 variables"
        )),
        _ => Ok((name.trim().to_string(), dtype)),
    }
}

/// One variable's random values.
enum Column {
    Bool(Vec<bool>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
}

impl Column {
    /// `n` values of `dtype` (numeric, not complex: `parse_typed` sees to it).
    fn random(dtype: DType, n: usize, rng: &mut rand::rngs::StdRng) -> Result<Column, Failure> {
        let int = |rng: &mut rand::rngs::StdRng| match rng.random_range(-1000..1000) {
            0 => 1,
            x => x,
        };
        Ok(match dtype {
            DType::Bool => Column::Bool(random(n, rng, |rng| rng.random_bool(0.5))?),
            DType::Int32 => Column::Int32(random(n, rng, |rng| int(rng) as i32)?),
            DType::Int64 => Column::Int64(random(n, rng, int)?),
            DType::Float32 => Column::Float32(random(n, rng, |rng| rng.random_range(0.1..1.1))?),
            _ => Column::Float64(random(n, rng, |rng| rng.random_range(0.1..1.1))?),
        })
    }

    /// `env` with this column bound to `name`.
    fn bind<'a>(&'a self, env: Env<'a>, name: &str) -> Env<'a> {
        match self {
            Column::Bool(v) => env.with(name, v),
            Column::Int32(v) => env.with(name, v),
            Column::Int64(v) => env.with(name, v),
            Column::Float32(v) => env.with(name, v),
            Column::Float64(v) => env.with(name, v),
        }
    }
}

/// `n` values drawn by `draw`.
fn random<T: Clone + Default>(
    n: usize,
    rng: &mut rand::rngs::StdRng,
    mut draw: impl FnMut(&mut rand::rngs::StdRng) -> T,
) -> Result<Vec<T>, Failure> {
    let mut values = crate::try_filled(T::default(), n)?;
    values.iter_mut().for_each(|x| *x = draw(rng));
    Ok(values)
}

/// The JSON line of `--json`, in this key order.
#[derive(Serialize)]
struct Report<'a> {
    expr: &'a str,
    n: usize,
    threads: usize,
    /// The instruction-set level the run used (`VEXPR_CPU` caps it).
    cpu: &'a str,
    /// Whether the expression ran as generated machine code.
    machine_code: bool,
    median_ns_per_elem: f64,
    min_ns_per_elem: f64,
}

/// Runs `vexpr bench`: the report to print.
pub fn run(args: &Args) -> Result<Option<String>, Failure> {
    let names = crate::variables(&args.expr)?;
    if let Some((name, _)) = args.types.iter().find(|(name, _)| !names.contains(name)) {
        return Err(Failure::Usage(format!(
            "`--type {name}=...`: the expression has no variable `{name}`"
        )));
    }
    let dtype_of = |name: &String| {
        args.types
            .iter()
            .rfind(|(n, _)| n == name)
            .map_or(DType::Float64, |&(_, dtype)| dtype)
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut inputs = Vec::with_capacity(names.len());
    for name in &names {
        inputs.push(Column::random(dtype_of(name), args.n, &mut rng)?);
    }
    let signature = names
        .iter()
        .fold(Signature::new(), |s, n| s.with(n, dtype_of(n)));
    let env = names
        .iter()
        .zip(&inputs)
        .fold(Env::new(), |env, (n, v)| v.bind(env, n));

    let expr = Expr::compile(&args.expr, &signature)?;
    // Without variables the result is one element, whatever N is.
    let elements: usize = expr.result_shape(&env)?.iter().product();
    let mut options = Options::default()
        .with_threads(args.threads.unwrap_or_else(vexpr::num_threads))
        .with_jit(!args.no_jit);
    if let Some(block_len) = args.block_len {
        options = options.with_block_len(block_len);
    }
    let repeat = args.repeat;
    let cpu = vexpr::cpu_level();
    let machine_code = !args.no_jit && vexpr::unstable::runs_machine_code(&expr);
    let timing = match expr.result_dtype() {
        DType::Bool => time_calls(&expr, &env, false, elements, options, repeat)?,
        DType::Int32 => time_calls(&expr, &env, 0i32, elements, options, repeat)?,
        DType::Int64 => time_calls(&expr, &env, 0i64, elements, options, repeat)?,
        DType::Float32 => time_calls(&expr, &env, 0.0f32, elements, options, repeat)?,
        DType::Float64 => time_calls(&expr, &env, 0.0f64, elements, options, repeat)?,
        DType::Complex128 => time_calls(
            &expr,
            &env,
            Complex64::new(0.0, 0.0),
            elements,
            options,
            repeat,
        )?,
        DType::Bytes(_) => {
            let message = "bench times numeric results; this expression gives byte strings";
            return Err(Failure::Message(message.to_string()));
        }
    };
    if names.is_empty() {
        eprintln!("note: the expression reads no variables, so each call computes 1 element");
    }

    let median = median(&timing.per_call_ns);
    let min = timing
        .per_call_ns
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let per_elem = |ns_per_call: f64| ns_per_call / elements as f64;
    if args.json {
        let report = Report {
            expr: &args.expr,
            n: elements,
            threads: options.threads(),
            cpu: cpu.name(),
            machine_code,
            median_ns_per_elem: per_elem(median),
            min_ns_per_elem: per_elem(min),
        };
        let line = serde_json::to_string(&report).map_err(|e| Failure::Message(e.to_string()))?;
        return Ok(Some(line));
    }
    let inputs = match names.len() {
        0 => String::new(),
        _ => {
            let typed: Vec<String> = names
                .iter()
                .map(|n| format!("{n}: {}", dtype_of(n)))
                .collect();
            format!(" ({})", typed.join(", "))
        }
    };
    let batch = match timing.batch {
        1 => "1 call".to_string(),
        b => format!("a batch of {b} calls"),
    };
    let lines = [
        format!("expr:    {}", args.expr),
        format!("n:       {elements}{inputs}"),
        format!("threads: {}", options.threads()),
        format!(
            "cpu:     {cpu} ({})",
            match machine_code {
                true => "machine code",
                false => "one pass per instruction",
            }
        ),
        format!(
            "median:  {:.4} ns/elem ({} per call)",
            per_elem(median),
            duration_text(median)
        ),
        format!(
            "min:     {:.4} ns/elem ({} per call)",
            per_elem(min),
            duration_text(min)
        ),
        format!("samples: {repeat} of {batch} each, after 1 warm-up call"),
    ];
    Ok(Some(lines.join("\n")))
}

/// Time per call of each sample, and how many calls a sample held.
struct Timing {
    per_call_ns: Vec<f64>,
    batch: u128,
}

/// Times `repeat` samples of evaluating `expr` into an output of `len`
/// elements of type `T` (the result's type), after one warm-up call.
fn time_calls<T: Element>(
    expr: &Expr,
    env: &Env<'_>,
    zero: T,
    len: usize,
    options: Options,
    repeat: usize,
) -> Result<Timing, Failure> {
    let mut out = crate::try_filled(zero, len)?;
    let mut call = || expr.eval_into_with(env, &mut out, options);
    call()?; // warm-up: page in the output, start the thread pool
    let start = Instant::now();
    call()?;
    let one = start.elapsed().as_nanos().max(1);
    let batch = if one < MIN_SAMPLE.as_nanos() {
        MIN_SAMPLE.as_nanos().div_ceil(one).min(MAX_BATCH)
    } else {
        1
    };
    let mut per_call_ns = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let start = Instant::now();
        for _ in 0..batch {
            call()?;
        }
        per_call_ns.push(start.elapsed().as_nanos() as f64 / batch as f64);
    }
    Ok(Timing { per_call_ns, batch })
}

/// The median of non-empty samples.
fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// A time in the unit that suits it: `812 ns`, `3.41 µs`, `1.27 ms`, `2.05 s`.
fn duration_text(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_python_spellings() {
        assert_eq!(parse_count("1000"), Ok(1000));
        assert_eq!(parse_count("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_count("1e6"), Ok(1_000_000));
        assert!(parse_count("0").is_err());
        assert!(parse_count("-5").is_err());
        assert!(parse_count("2.5").is_err());
        assert!(parse_count("many").is_err());
    }

    #[test]
    fn types_are_numeric_names() {
        assert_eq!(parse_typed("p=bool"), Ok(("p".to_string(), DType::Bool)));
        assert_eq!(
            parse_typed("a = int64"),
            Ok(("a".to_string(), DType::Int64))
        );
        assert!(parse_typed("a").is_err());
        assert!(parse_typed("a=complex128").is_err());
        assert!(parse_typed("a=uint8").is_err());
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
