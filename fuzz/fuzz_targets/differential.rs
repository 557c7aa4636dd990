//! Differential fuzzing: one compiled expression, evaluated several ways, must
//! give the same bits.
//!
//! The fuzzer's bytes describe a case: inputs of every dtype with shapes of
//! zero to three dimensions and every layout (`vexpr_fuzz::inputs`), two block
//! lengths, and an expression over them (`vexpr_fuzz::source`, mostly well
//! typed). If the expression compiles, it is evaluated
//!
//! 1. with machine code allowed, 1 thread, the first block length: the
//!    reference (a program's first small run uses the passes);
//! 2. with machine code, 2 threads, the second block length (the second run:
//!    machine code, for the programs it covers);
//! 3. by the passes, 1 thread, the second block length;
//! 4. by the passes, 2 threads, the first block length;
//! 5. with machine code, 1 thread, the first block length;
//! 6. into a caller's buffer (`eval_into_with`), prefilled with a poison
//!    value so that an element left unwritten shows;
//! 7. in place (`eval_in_place_with`), over the first variable that has the
//!    result's dtype and shape;
//! 8. over the inputs stored another way (`vexpr_fuzz::stored`: narrower
//!    types that vexpr widens, swapped bytes, booleans as other nonzero
//!    bytes), read through `ArrayView::from_bytes`;
//! 9. chunked (`eval_chunked`), a few elements at a time, with the chosen
//!    array inputs read through sources of their stored bytes and the others
//!    in memory;
//!
//! and every result must equal the reference byte for byte (NaN signs and
//! payloads included), or every run fail with the same error (kind, span,
//! message). Errors must lie inside the text and render; boolean results must
//! hold only 0 and 1. (Below some 65,000 elements, or 500,000 for cheap
//! arithmetic, the VM runs on the calling thread whatever the thread count;
//! one case in 256 is that large, with a short expression, and compares just
//! the reference with the first two runs, so that the split between threads
//! and the parallel reductions are compared too, at a bearable cost.)
//!
//! Set `VEXPR_FUZZ_STATS=1` to print, every 2,000 cases, how many compiled,
//! how many evaluated without error, and the error kinds: a generator whose
//! expressions seldom compile wastes the fuzzer's time.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};
use vexpr::chunked::{Chunking, Input as ChunkedInput, MemorySink, MemorySource};
use vexpr::{DType, Env, Expr, Options, Signature};
use vexpr_fuzz::inputs::{Input, Inputs};
use vexpr_fuzz::outcome::{Item, Outcome, check_error, check_value};
use vexpr_fuzz::stored::{self, Stored};
use vexpr_fuzz::{source, vars, with_item};

/// Block lengths of the first and the second configuration: the VM clamps
/// lengths below 16 to 16, and the inputs are at most a few hundred elements
/// long, so small blocks put many block boundaries inside them.
const FIRST_BLOCKS: [usize; 3] = [16, 32, 64];
const SECOND_BLOCKS: [usize; 6] = [32, 64, 17, 100, 1024, 16];
/// Chunk lengths of the chunked run: chunks of one element, ones that cut
/// rows and blocks anywhere, and ones larger than the inputs.
const CHUNK_LENS: [usize; 7] = [1, 2, 3, 7, 16, 64, 1000];

/// One fuzz case.
struct Case {
    inputs: Inputs,
    blocks: (usize, usize),
    /// Whether the evaluation into a buffer may use machine code.
    into_jit: bool,
    /// Whether the stored inputs have their numbers' bytes swapped.
    swapped: bool,
    /// The chunked run's chunk length, and which variables (bits in the
    /// order of `VARS`) it reads through sources.
    chunk_len: usize,
    sources: u16,
    source: String,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        // The fixed-size parts first, so that the expression takes the rest.
        let blocks = (*u.choose(&FIRST_BLOCKS)?, *u.choose(&SECOND_BLOCKS)?);
        let into_jit = u.arbitrary()?;
        let swapped = u.arbitrary()?;
        let chunk_len = *u.choose(&CHUNK_LENS)?;
        let sources = u.arbitrary()?;
        let inputs = Inputs::generate(u)?;
        // Large cases get short expressions: they are for the threads.
        let max_nodes = if inputs.large { 4 } else { source::MAX_NODES };
        let source = source::expression(u, max_nodes)?;
        Ok(Case {
            inputs,
            blocks,
            into_jit,
            swapped,
            chunk_len,
            sources,
            source,
        })
    }
}

impl Case {
    /// The variables the expression reads (all of them if it does not
    /// compile): the inputs that matter.
    fn read(&self) -> Vec<&'static str> {
        match Expr::compile(&self.source, signature()) {
            Ok(expr) => vars::VARS
                .iter()
                .map(|&(name, _)| name)
                .filter(|name| expr.variables().contains(name))
                .collect(),
            Err(_) => vars::VARS.iter().map(|&(name, _)| name).collect(),
        }
    }
}

/// The case as a report: the expression, the configuration and the inputs it
/// reads (what `cargo fuzz fmt` prints, and every failure).
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "expression: {}", self.source)?;
        writeln!(
            f,
            "block lengths {:?}, eval_into with machine code: {}",
            self.blocks, self.into_jit
        )?;
        writeln!(
            f,
            "stored bytes swapped: {}; chunk length {}, sources {:#b}",
            self.swapped, self.chunk_len, self.sources
        )?;
        write!(f, "{}", self.inputs.describe(&self.read()))
    }
}

/// The signature of [`vars::VARS`], made once.
fn signature() -> &'static Signature {
    static SIGNATURE: OnceLock<Signature> = OnceLock::new();
    SIGNATURE.get_or_init(vars::signature)
}

/// The options of one configuration.
fn options(jit: bool, threads: usize, block_len: usize) -> Options {
    Options::default()
        .with_block_len(block_len)
        .with_threads(threads)
        .with_jit(jit)
}

fuzz_target!(|case: Case| run(&case));

fn run(case: &Case) {
    let expr = match Expr::compile(&case.source, signature()) {
        Ok(expr) => expr,
        Err(err) => {
            check_error(&err, &case.source);
            stats::record(Some(&Outcome::error(&err)), None);
            return;
        }
    };
    let env = case.inputs.env(&expr.variables());
    // What the NaN rule needs (found once: it runs per element).
    let read = Reads {
        names: case.read(),
        reductions: vexpr::unstable::stages(&expr).len(),
    };
    let (b1, b2) = case.blocks;

    let first = expr.eval_with(&env, options(true, 1, b1));
    if let Err(err) = &first {
        check_error(err, &case.source);
    }
    let reference = Outcome::of(first);
    check_value(&reference);
    stats::record(None, Some(&reference));

    let runs = [
        (
            "machine code, 2 threads, 2nd block length",
            options(true, 2, b2),
        ),
        ("passes, 1 thread, 2nd block length", options(false, 1, b2)),
        ("passes, 2 threads, 1st block length", options(false, 2, b1)),
        (
            "machine code, 1 thread, 1st block length",
            options(true, 1, b1),
        ),
    ];
    // A large case is for the thread counts: the reference (1 thread) and
    // the first two runs (2 threads) only, as it is slow.
    let runs = if case.inputs.large {
        &runs[..2]
    } else {
        &runs[..]
    };
    for &(what, options) in runs {
        let got = Outcome::of(expr.eval_with(&env, options));
        let shape = shape_of(&reference);
        reference.assert_same_but_open_nans(
            &got,
            what,
            |i| nans_may_meet(case, &read, &reference, &got, &shape, i),
            |at| report(case, &shape, at),
        );
    }

    if case.inputs.large {
        return;
    }

    // Over the inputs stored another way.
    let stored: Vec<Option<Stored>> = case
        .inputs
        .inputs
        .iter()
        .map(|input| Stored::of(input, case.swapped))
        .collect();
    let mut stored_env = Env::new();
    for ((&(name, _), input), restored) in vars::VARS.iter().zip(&case.inputs.inputs).zip(&stored) {
        if read.names.contains(&name) {
            match restored {
                Some(r) => stored_env.set(name, vexpr::Value::Array(r.view())),
                None => stored_env.set(name, input.value()),
            }
        }
    }
    let got = Outcome::of(expr.eval_with(&stored_env, options(true, 1, b2)));
    let shape = shape_of(&reference);
    reference.assert_same_but_open_nans(
        &got,
        "the inputs stored another way (from_bytes)",
        |i| nans_may_meet(case, &read, &reference, &got, &shape, i),
        |at| report(case, &shape, at),
    );

    // Chunked, with the chosen inputs read through sources.
    let chunked = chunked(&expr, case, &stored);
    reference.assert_same_but_open_nans(
        &chunked,
        "eval_chunked",
        |i| nans_may_meet(case, &read, &reference, &chunked, &shape, i),
        |at| report(case, &shape, at),
    );

    // The result's shape, as `eval_into` and `eval_in_place` need it.
    let shape = match expr.result_shape(&env) {
        Ok(shape) => shape,
        Err(err) => {
            // Only a failing reduction or a shape mismatch can fail here, and
            // then the reference failed the same way.
            reference.assert_same(&Outcome::error(&err), "result_shape", |at| {
                report(case, &[], at)
            });
            return;
        }
    };
    let dtype = expr.result_dtype();
    let len: usize = shape.iter().product();

    // Into a caller's buffer.
    let into_options = options(case.into_jit, 1, b2);
    let into = with_item!(dtype, |T| {
        let mut out = vec![T::POISON; len];
        match expr.eval_into_with(&env, &mut out, into_options) {
            Ok(()) => Outcome::Value {
                dtype,
                shape: shape.clone(),
                bytes: to_bytes(&out),
            },
            Err(err) => Outcome::error(&err),
        }
    });
    if let Some(into) = into {
        reference.assert_same_but_open_nans(
            &into,
            "eval_into_with",
            |i| nans_may_meet(case, &read, &reference, &into, &shape, i),
            |at| report(case, &shape, at),
        );
    }

    // In place, over the first variable with the result's dtype and shape.
    let target = vars::VARS
        .iter()
        .zip(&case.inputs.inputs)
        .find(|((_, d), input)| *d == dtype && input.shape() == shape.as_slice());
    if let Some((&(name, _), input)) = target {
        let in_place = with_item!(dtype, |T| {
            let mut data: Vec<T> = input
                .c_order_bytes()
                .chunks(dtype.itemsize())
                .map(T::read)
                .collect();
            match expr.eval_in_place_with(&env, name, &shape, &mut data, options(true, 1, b1)) {
                Ok(()) => Outcome::Value {
                    dtype,
                    shape: shape.clone(),
                    bytes: to_bytes(&data),
                },
                Err(err) => Outcome::error(&err),
            }
        });
        if let Some(in_place) = in_place {
            // In place refuses expressions whose reductions read the target.
            if in_place.error_kind() != Some(vexpr::ErrorKind::Unsupported) {
                let what = format!("eval_in_place_with over `{name}`");
                reference.assert_same_but_open_nans(
                    &in_place,
                    &what,
                    |i| nans_may_meet(case, &read, &reference, &in_place, &shape, i),
                    |at| report(case, &shape, at),
                );
            }
        }
    }
}

/// The outcome of `eval_chunked` over the case, the arrays chosen by
/// `case.sources` read through sources of their `stored` bytes in C order
/// (all of it, not the view's buffer), the rest in memory.
fn chunked(expr: &Expr, case: &Case, stored: &[Option<Stored>]) -> Outcome {
    let mut sources: Vec<Option<(Vec<u8>, vexpr::Format, &[usize])>> = vars::VARS
        .iter()
        .enumerate()
        .zip(&case.inputs.inputs)
        .zip(stored)
        .map(|(((v, &(_, dtype)), input), restored)| {
            let chosen = case.sources & (1 << v) != 0;
            // Zero-width strings only exist in memory (a source refuses them).
            let storable = !matches!(dtype, DType::Bytes(0));
            match input {
                Input::Array { shape, .. } if chosen && storable && !shape.is_empty() => {
                    let format = restored
                        .as_ref()
                        .map_or(vexpr::Format::native(dtype.into()), Stored::format);
                    Some((stored::c_order(input, format), format, shape.as_slice()))
                }
                _ => None,
            }
        })
        .collect();
    let mut memory: Vec<Option<MemorySource<'_>>> = sources
        .iter_mut()
        .map(|s| {
            s.as_ref()
                .map(|(bytes, format, shape)| MemorySource::new(bytes, *format, shape))
        })
        .collect();
    let mut inputs: Vec<ChunkedInput<'_>> = memory
        .iter_mut()
        .zip(&case.inputs.inputs)
        .map(|(source, input)| match source {
            Some(source) => ChunkedInput::Source(source),
            None => ChunkedInput::Value(input.value()),
        })
        .collect();
    let mut sink = MemorySink::default();
    let chunking = Chunking {
        chunk_len: case.chunk_len,
        progress: None,
    };
    match expr.eval_chunked(
        &mut inputs,
        &mut sink,
        options(true, 1, case.blocks.1),
        chunking,
    ) {
        Ok(()) => Outcome::of(Ok(sink
            .into_array()
            .expect("a successful eval_chunked starts its sink"))),
        Err(err) => Outcome::error(&err),
    }
}

/// The case, and each input's element at the first differing element `at`
/// of a result of `shape`.
fn report(case: &Case, shape: &[usize], at: Option<usize>) -> String {
    let mut text = format!("{case:?}");
    if let Some(at) = at {
        text.push_str(&format!(
            "the inputs at element {at}:\n{}",
            case.inputs.elements_at(&case.read(), shape, at)
        ));
    }
    text
}

/// What the NaN rule knows of a compiled case.
struct Reads {
    /// The variables the expression reads.
    names: Vec<&'static str>,
    /// How many reductions it has: each may give a NaN from any element.
    reductions: usize,
}

/// Whether two NaNs may meet in one operation at element `i` of a result of
/// `shape` (see [`Outcome::assert_same_but_open_nans`]): the inputs that are
/// NaN there occur twice or more in the expression, or once in an
/// expression with a reduction (whose result may be a NaN of any element,
/// even one with the same payload), or either result's NaN carries the
/// default payload or no input's (an operation made a NaN, from
/// infinities, zeros, negative operands or a reduction over other elements,
/// and a made NaN can meet another NaN). A NaN input that meets no other
/// NaN must come out with its own payload and the sign the operations give
/// it, bit for bit. The generator never lets `signbit` or `copysign` read the sign
/// of a computed value, so a NaN's open sign cannot leak into other values.
fn nans_may_meet(
    case: &Case,
    read: &Reads,
    reference: &Outcome,
    got: &Outcome,
    shape: &[usize],
    i: usize,
) -> bool {
    let (Outcome::Value { dtype, bytes, .. }, Outcome::Value { bytes: other, .. }) =
        (reference, got)
    else {
        return false;
    };
    let nan_parts = |dtype: DType, b: &[u8]| -> Vec<u64> {
        match dtype {
            DType::Float32 => {
                let x = f32::from_ne_bytes(b[..4].try_into().expect("4 bytes"));
                if x.is_nan() {
                    vec![u64::from(x.to_bits() & !(1 << 31))]
                } else {
                    vec![]
                }
            }
            DType::Float64 | DType::Complex128 => b
                .chunks_exact(8)
                .map(|c| f64::from_ne_bytes(c.try_into().expect("8 bytes")))
                .filter(|x| x.is_nan())
                .map(|x| x.to_bits() & !(1 << 63))
                .collect(),
            _ => vec![],
        }
    };
    let mut occurrences = 0;
    let mut input_payloads = Vec::new();
    for (name, input_dtype, value) in case.inputs.bytes_at(&read.names, shape, i) {
        let payloads = nan_parts(input_dtype, &value);
        if payloads.is_empty() {
            continue;
        }
        occurrences += case
            .source
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .filter(|token| *token == name)
            .count();
        if input_dtype == *dtype {
            input_payloads.extend(payloads);
        }
    }
    let width = dtype.itemsize();
    // The default NaN that operations make (`0x7ff8...` or `0xfff8...`, or
    // float32's `0x7fc00000`) may also be an input's, so it always counts
    // as possibly made.
    let default = [0x7ff8_0000_0000_0000, 0x7fc0_0000];
    let made = [bytes, other].iter().any(|b| {
        nan_parts(*dtype, &b[i * width..(i + 1) * width])
            .iter()
            .any(|p| default.contains(p) || !input_payloads.contains(p))
    });
    occurrences >= 2 || (occurrences == 1 && read.reductions > 0) || made
}

/// The shape of a value (empty for an error).
fn shape_of(outcome: &Outcome) -> Vec<usize> {
    match outcome {
        Outcome::Value { shape, .. } => shape.clone(),
        Outcome::Error { .. } => Vec::new(),
    }
}

/// The native bytes of `values`.
fn to_bytes<T: Item>(values: &[T]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(std::mem::size_of_val(values));
    for &v in values {
        v.write(&mut bytes);
    }
    bytes
}

/// Counts of what the cases gave, printed when `VEXPR_FUZZ_STATS` is set.
mod stats {
    use super::*;

    #[derive(Default)]
    struct Counts {
        cases: u64,
        compiled: u64,
        evaluated: u64,
        compile_errors: BTreeMap<String, u64>,
        eval_errors: BTreeMap<String, u64>,
    }

    /// Records a compile error (`compile`) or an evaluation's reference
    /// outcome (`eval`).
    pub fn record(compile: Option<&Outcome>, eval: Option<&Outcome>) {
        static ENABLED: OnceLock<bool> = OnceLock::new();
        if !*ENABLED.get_or_init(|| std::env::var_os("VEXPR_FUZZ_STATS").is_some()) {
            return;
        }
        static COUNTS: OnceLock<Mutex<Counts>> = OnceLock::new();
        let mut c = COUNTS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        c.cases += 1;
        if let Some(Outcome::Error { kind, .. }) = compile {
            *c.compile_errors.entry(format!("{kind:?}")).or_default() += 1;
        }
        match eval {
            Some(Outcome::Error { kind, .. }) => {
                c.compiled += 1;
                *c.eval_errors.entry(format!("{kind:?}")).or_default() += 1;
            }
            Some(Outcome::Value { .. }) => {
                c.compiled += 1;
                c.evaluated += 1;
            }
            None => {}
        }
        if c.cases.is_multiple_of(2000) {
            eprintln!(
                "stats: {} cases, {} compiled ({:.0}%), {} evaluated ({:.0}%); compile errors {:?}; evaluation errors {:?}",
                c.cases,
                c.compiled,
                100.0 * c.compiled as f64 / c.cases as f64,
                c.evaluated,
                100.0 * c.evaluated as f64 / c.cases as f64,
                c.compile_errors,
                c.eval_errors
            );
        }
    }
}
