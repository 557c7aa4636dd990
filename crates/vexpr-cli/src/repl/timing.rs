//! `:time EXPR`: how fast vexpr evaluates an expression, against the naive
//! way that NumPy takes.
//!
//! Both ways are timed the same way: one warm-up run (which also sizes the
//! number of runs to a time budget), then several runs, of which the median
//! is reported, so that one preempted run does not skew the figure.
//!
//! - **vexpr**: [`vexpr::Expr::eval_into_with`] into an output allocated once
//!   before timing, with the session's thread count and the default block
//!   length: blocks of a few thousand elements, every temporary in cache.
//! - **naive**: NumPy's pattern, on one thread. Each instruction of the same
//!   compiled program runs as its own pass over all N elements, reading and
//!   writing full-size arrays: one full-size temporary per operation, as
//!   `2*a**3 - 4*a**5 + 6*log(a)` makes in NumPy. It calls the same kernels,
//!   so the difference measured is the memory traffic of the temporaries
//!   and nothing else. Constants are read from a cache-sized buffer (a NumPy
//!   scalar costs no memory traffic either), and the temporaries are
//!   allocated before timing, so the naive figure is a best case for NumPy.
//!
//! Running vexpr itself with `block_len = N` would not do for the naive way:
//! the VM caps its per-thread scratch, so for large N it would still work in
//! blocks and never build full-size temporaries.

use super::interrupt::Cancel;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vexpr::unstable::{Operand, Program, Role};
use vexpr::{Array, DType, Element, Env, Expr, Options};

/// Each way is run about this long in total (after its warm-up)...
const BUDGET: Duration = Duration::from_millis(500);
/// ...but at least this many times...
const MIN_RUNS: usize = 3;
/// ...and at most this many.
const MAX_RUNS: usize = 51;
/// Elements per kernel call in the naive way. Its only role is to let
/// constants come from a small buffer; the passes still run over all N.
const CHUNK: usize = 8192;

/// What `:time` prints.
#[derive(Debug, Clone)]
pub struct Report {
    /// Elements of the result.
    pub len: usize,
    /// The result's type.
    pub dtype: DType,
    /// Bytes of inputs read plus output written by one evaluation.
    pub bytes: usize,
    /// Threads vexpr used.
    pub threads: usize,
    /// The instruction-set level vexpr ran at.
    pub cpu: vexpr::CpuLevel,
    /// Whether the expression's final program ran as machine code.
    pub machine_code: bool,
    /// Median time of one vexpr evaluation, and the number of runs.
    pub fast: (Duration, usize),
    /// Median time of one naive evaluation, and the number of runs; `None` for
    /// expressions with reductions, which the naive way does not model.
    pub naive: Option<(Duration, usize)>,
}

/// Times `expr` both ways against the variables. `Ok(None)` when cancelled.
/// The caller has checked that the expression evaluates (names, shapes).
pub fn measure(
    expr: &Expr,
    vars: &[(String, Arc<Array>)],
    shape: &[usize],
    threads: usize,
    cancel: &Cancel,
) -> Result<Option<Report>, String> {
    let mut env = Env::new();
    for (name, value) in vars {
        env.set(name, &**value);
    }
    let len: usize = shape.iter().product();
    let dtype = expr.result_dtype();
    let options = Options::default().with_threads(threads);
    let fast = match dtype {
        DType::Bool => fast::<bool>(expr, &env, len, options, cancel)?,
        DType::Int32 => fast::<i32>(expr, &env, len, options, cancel)?,
        DType::Int64 => fast::<i64>(expr, &env, len, options, cancel)?,
        DType::Float32 => fast::<f32>(expr, &env, len, options, cancel)?,
        DType::Float64 => fast::<f64>(expr, &env, len, options, cancel)?,
        DType::Complex128 => fast::<vexpr::Complex64>(expr, &env, len, options, cancel)?,
        // Byte strings cannot be written into a caller's slice: allocate per run.
        DType::Bytes(_) => median(cancel, || {
            expr.eval_with(&env, options)
                .map(drop)
                .map_err(|e| e.rendered())
        })?,
    };
    let Some(fast) = fast else { return Ok(None) };
    let naive = if vexpr::unstable::stages(expr).is_empty() {
        let mut naive = Naive::new(vexpr::unstable::program(expr), vars, shape)?;
        let Some(naive) = median(cancel, || naive.run())? else {
            return Ok(None);
        };
        Some(naive)
    } else {
        None
    };
    let program = vexpr::unstable::program(expr);
    let read: usize = program
        .registers
        .iter()
        .filter_map(|r| match r.role {
            Role::Input(v) => vars.iter().find(|(n, _)| *n == program.variables[v]),
            _ => None,
        })
        .map(|(_, a)| a.len() * a.dtype().itemsize())
        .sum();
    let bytes = read + len * dtype.itemsize();
    Ok(Some(Report {
        len,
        dtype,
        bytes,
        threads,
        cpu: vexpr::cpu_level(),
        machine_code: vexpr::unstable::runs_machine_code(expr),
        fast,
        naive,
    }))
}

fn fast<T: Element + Default>(
    expr: &Expr,
    env: &Env<'_>,
    len: usize,
    options: Options,
    cancel: &Cancel,
) -> Result<Option<(Duration, usize)>, String> {
    let mut out = try_filled(len, T::default())?;
    median(cancel, || {
        expr.eval_into_with(env, &mut out, options)
            .map_err(|e| e.rendered())
    })
}

/// A warm-up run, then the median of as many runs as fit [`BUDGET`] (within
/// [`MIN_RUNS`]..=[`MAX_RUNS`], always odd so that the median is one run).
fn median(
    cancel: &Cancel,
    mut run: impl FnMut() -> Result<(), String>,
) -> Result<Option<(Duration, usize)>, String> {
    let mut timed = || -> Result<Duration, String> {
        let start = Instant::now();
        run()?;
        Ok(start.elapsed())
    };
    let warm_up = timed()?;
    let fit = (BUDGET.as_secs_f64() / warm_up.as_secs_f64().max(1e-9)) as usize;
    let runs = fit.clamp(MIN_RUNS, MAX_RUNS) | 1;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        if cancel.is_set() {
            return Ok(None);
        }
        times.push(timed()?);
    }
    times.sort();
    Ok(Some((times[runs / 2], runs)))
}

fn try_filled<T: Clone>(len: usize, value: T) -> Result<Vec<T>, String> {
    vexpr::unstable::try_filled(value, len)
        .ok_or_else(|| "not enough memory for the output buffer".to_string())
}

/// Where a register's values live in the naive way.
enum Storage<'a> {
    /// An input of the full length, read in place.
    Input(&'a [u8]),
    /// A full-length array: a temporary, the output, or a broadcast input.
    Full(Vec<u64>),
    /// One value repeated over [`CHUNK`] elements: a constant or a size-1 input.
    Splat(Vec<u64>),
}

/// The naive evaluator: the program's registers as full-size arrays.
struct Naive<'p, 'a> {
    program: &'p Program,
    storage: Vec<Storage<'a>>,
    len: usize,
}

/// Zeroed storage of `bytes` bytes, aligned for every element type (the
/// kernels reinterpret their bytes as the element type).
fn aligned(bytes: usize) -> Result<Vec<u64>, String> {
    try_filled(bytes.div_ceil(8), 0u64)
        .map_err(|_| "not enough memory for the naive way's temporaries".to_string())
}

fn as_bytes(v: &[u64]) -> &[u8] {
    bytemuck::cast_slice(v)
}

/// `count` copies of `value` (padded or cut to `width` bytes).
fn splat(value: &[u8], width: usize, count: usize) -> Result<Vec<u64>, String> {
    let mut v = aligned(width * count)?;
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
    for slot in bytes.chunks_exact_mut(width.max(1)).take(count) {
        let n = value.len().min(slot.len());
        slot[..n].copy_from_slice(&value[..n]);
    }
    Ok(v)
}

/// `array` broadcast to `shape` (NumPy's rules), as full-size row-major bytes.
fn broadcast(array: &Array, shape: &[usize]) -> Result<Vec<u64>, String> {
    let width = array.dtype().itemsize();
    let len: usize = shape.iter().product();
    let mut out = aligned(len * width)?;
    let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
    let src = array.buffer().data().as_bytes();
    // The source's strides over the output's dimensions (0 where it repeats).
    let extra = shape.len() - array.shape().len();
    let mut strides = vec![0usize; shape.len()];
    let mut step = 1;
    for d in (extra..shape.len()).rev() {
        let n = array.shape()[d - extra];
        strides[d] = if n == 1 { 0 } else { step };
        step *= n;
    }
    let mut index = vec![0usize; shape.len()];
    let mut at = 0usize;
    for i in 0..len {
        dst[i * width..(i + 1) * width].copy_from_slice(&src[at * width..(at + 1) * width]);
        // Advance the row-major odometer and the source position with it.
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            at += strides[d];
            if index[d] < shape[d] {
                break;
            }
            at -= strides[d] * index[d];
            index[d] = 0;
        }
    }
    Ok(out)
}

impl<'p, 'a> Naive<'p, 'a> {
    fn new(
        program: &'p Program,
        vars: &'a [(String, Arc<Array>)],
        shape: &[usize],
    ) -> Result<Self, String> {
        let len: usize = shape.iter().product();
        let mut storage = Vec::with_capacity(program.registers.len());
        for r in &program.registers {
            let width = r.dtype.itemsize();
            storage.push(match &r.role {
                Role::Input(v) => {
                    let name = &program.variables[*v];
                    let (_, array) = vars
                        .iter()
                        .find(|(n, _)| n == name)
                        .ok_or_else(|| format!("no value for `{name}`"))?;
                    let bytes = array.buffer().data().as_bytes();
                    // Arrays of the result's length only add dimensions of 1,
                    // so their elements are already in the result's order.
                    if array.len() == len {
                        Storage::Input(bytes)
                    } else if array.len() == 1 {
                        Storage::Splat(splat(bytes, width, CHUNK)?)
                    } else {
                        Storage::Full(broadcast(array, shape)?)
                    }
                }
                Role::Const(value) => Storage::Splat(splat(&value.to_bytes(), width, CHUNK)?),
                Role::Temp | Role::Output => Storage::Full(aligned(len * width)?),
            });
        }
        Ok(Naive {
            program,
            storage,
            len,
        })
    }

    /// One evaluation: each instruction is one pass over all elements.
    /// Fails where the kernels fail (an integer to a negative power).
    fn run(&mut self) -> Result<(), String> {
        for instr in &self.program.code {
            let dst = instr.dst as usize;
            let dst_width = self.program.registers[dst].dtype.itemsize();
            // Taken out for the pass so that the operands can be borrowed
            // alongside it; an instruction never reads its destination.
            let Storage::Full(mut out) =
                std::mem::replace(&mut self.storage[dst], Storage::Input(&[]))
            else {
                unreachable!("instructions write temporaries and the output only")
            };
            let out_bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
            for start in (0..self.len).step_by(CHUNK) {
                let n = CHUNK.min(self.len - start);
                let mut operands = [Operand {
                    bytes: &[],
                    width: 0,
                }; vexpr::unstable::MAX_ARGS];
                for (slot, &a) in operands.iter_mut().zip(&instr.args) {
                    let width = self.program.registers[a as usize].dtype.itemsize();
                    let bytes = match &self.storage[a as usize] {
                        Storage::Input(b) => &b[start * width..(start + n) * width],
                        Storage::Full(v) => &as_bytes(v)[start * width..(start + n) * width],
                        Storage::Splat(v) => &as_bytes(v)[..n * width],
                    };
                    *slot = Operand { bytes, width };
                }
                let target = &mut out_bytes[start * dst_width..(start + n) * dst_width];
                let done = (instr.overload.kernel)(target, &operands[..instr.args.len()], n);
                if let Err(message) = done {
                    self.storage[dst] = Storage::Full(out);
                    return Err(message.to_string());
                }
            }
            self.storage[dst] = Storage::Full(out);
        }
        Ok(())
    }
}

/// A duration in the unit that suits it.
fn human_time(d: Duration) -> String {
    let s = d.as_secs_f64();
    match s {
        s if s < 1e-6 => format!("{:.0} ns", s * 1e9),
        s if s < 1e-3 => format!("{:.1} µs", s * 1e6),
        s if s < 1.0 => format!("{:.2} ms", s * 1e3),
        s => format!("{s:.2} s"),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_element = |d: Duration| d.as_secs_f64() * 1e9 / self.len as f64;
        let throughput = |d: Duration| self.bytes as f64 / d.as_secs_f64().max(1e-12) / 1e9;
        let vexpr_label = format!(
            "vexpr ({} thread{}, {}, {})",
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            self.cpu,
            if self.machine_code {
                "machine code"
            } else {
                "passes"
            }
        );
        let naive_label = "naive (one full-size temporary per operation, 1 thread)";
        let width = vexpr_label.len().max(naive_label.len());
        writeln!(
            f,
            "{} elements, {}; {} read and written per evaluation",
            self.len,
            self.dtype,
            super::session::human_bytes(self.bytes)
        )?;
        let Some(naive) = self.naive else {
            let (time, runs) = self.fast;
            return write!(
                f,
                "  {vexpr_label}  {:>8.3} ns/elem  {:>7.2} GB/s  {:>9} (median of {runs} runs)\n  \
                 (no naive comparison: it models element-wise expressions, and this one has reductions)",
                per_element(time),
                throughput(time),
                human_time(time),
            );
        };
        for (label, (time, _)) in [(vexpr_label.as_str(), self.fast), (naive_label, naive)] {
            writeln!(
                f,
                "  {label:<width$}  {:>8.3} ns/elem  {:>7.2} GB/s  {:>9}",
                per_element(time),
                throughput(time),
                human_time(time),
            )?;
        }
        let ratio = naive.0.as_secs_f64() / self.fast.0.as_secs_f64().max(1e-12);
        write!(
            f,
            "  ratio naive/vexpr: {ratio:.2}x (median times of {} and {} runs, after a warm-up)",
            self.fast.1, naive.1
        )?;
        if ratio < 1.0 {
            // Below a few cache sizes the temporaries never leave the cache,
            // and vexpr's fixed cost per call (setting up blocks and threads)
            // is not paid back.
            write!(
                f,
                "\n  (the arrays are small: the naive way's temporaries stay in cache)"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vexpr::Signature;

    fn vars(list: &[(&str, Array)]) -> Vec<(String, Arc<Array>)> {
        list.iter()
            .map(|(n, a)| (n.to_string(), Arc::new(a.clone())))
            .collect()
    }

    /// The naive way computes what vexpr computes, broadcasting included.
    #[test]
    fn naive_agrees_with_vexpr() {
        let a = Array::from_vec((0..12).map(|i| i as f64 * 0.5 + 1.0).collect(), &[3, 4]).unwrap();
        let row = Array::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
        let col = Array::from_vec(vec![10.0, 20.0, 30.0], &[3, 1]).unwrap();
        let one = Array::from_vec(vec![7.0], &[1]).unwrap();
        let vars = vars(&[("a", a), ("row", row), ("col", col), ("one", one)]);
        let mut env = Env::new();
        for (n, v) in &vars {
            env.set(n, &**v);
        }
        for source in [
            "2*a**3 - 4*a**5 + 6*log(a)",
            "a*row + col - one",
            "row + col",
            "where(a > 3, a, -a)",
        ] {
            let expr = Expr::compile(source, &Signature::of(&env)).unwrap();
            let expected = expr
                .eval_with(
                    &env,
                    Options::default()
                        .with_threads(1)
                        .with_block_len(16)
                        .with_jit(true),
                )
                .unwrap();
            let shape = expr.result_shape(&env).unwrap();
            let mut naive = Naive::new(vexpr::unstable::program(&expr), &vars, &shape).unwrap();
            naive.run().unwrap();
            let Storage::Full(out) =
                &naive.storage[vexpr::unstable::program(&expr).output as usize]
            else {
                panic!()
            };
            let got: &[f64] = &bytemuck::cast_slice(out)[..expected.len()];
            assert_eq!(got, expected.as_slice::<f64>().unwrap(), "{source}");
        }
    }

    #[test]
    fn a_report_has_times_and_the_ratio() {
        let a = Array::from_vec((1..=50_000).map(f64::from).collect(), &[50_000]).unwrap();
        let vars = vars(&[("a", a)]);
        let mut env = Env::new();
        env.set("a", &*vars[0].1);
        let expr = Expr::compile("2*a + 1", &Signature::of(&env)).unwrap();
        let report = measure(&expr, &vars, &[50_000], 1, &Cancel::default())
            .unwrap()
            .unwrap();
        assert_eq!(report.bytes, 50_000 * 16);
        let text = report.to_string();
        assert!(
            text.contains("ns/elem") && text.contains("GB/s") && text.contains("ratio naive/vexpr"),
            "{text}"
        );
    }
}
