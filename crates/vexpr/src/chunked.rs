//! Chunked evaluation: an expression over inputs that are read a piece at a
//! time, its result handed on a piece at a time, so that neither has to fit
//! in memory (files larger than memory, streamed from disk to disk).
//!
//! In: a compiled [`Expr`], one [`Input`] per variable of its signature (a
//! [`Source`], which reads any run of its elements on demand, or an ordinary
//! in-memory [`Value`]), a [`Sink`] and a [`Chunking`]. Out: the result, in
//! order, to the sink; [`Expr::eval_chunked`] returns once it has all of it.
//!
//! How: the output is cut into chunks of at most [`Chunking::chunk_len`]
//! elements along its leading axes: a chunk fixes the indices of the axes
//! before some axis `k`, takes a range of axis `k` and all of the axes after
//! it. The part of each input such a chunk reads is then one contiguous run
//! of the input in C order (a row range of every broadcast-aligned input), so
//! a source in C order is read with one read a chunk. The chunk's pieces are
//! read into buffers of the chunk's size and evaluated as ordinary views
//! (stored formats converted as the VM reads them). When every source that
//! the output's elements vary along more than one axis of is in Fortran
//! order, the traversal is transposed instead, and the output is given to the
//! sink in Fortran order. Any other source (Fortran among C) is read run by
//! run: correct, but one read per contiguous run of it.
//!
//! Reductions are passes of their own before the result's: the operand of
//! each is computed chunk by chunk, in C order, and fed to a
//! `vm::ChunkedReduction`, which gives the bits of the in-memory reduction;
//! its result (an array the size of the reduced shape) stays in memory as an
//! input of the later passes. Memory use is therefore the chunk buffers (one
//! per source read, one for the result), plus the reductions' results and,
//! for a reduction over all elements, one partial sum per 4096 elements.

use crate::array::{Array, ArrayView, Buffer, Value};
use crate::dtype::{DType, Format};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::expr::Expr;
use crate::program::Program;
use crate::vm::{ChunkedReduction, Options};

/// An input read a run of elements at a time: for example a file.
///
/// Its elements are numbered in storage order (C order, or Fortran order if
/// [`Source::fortran_order`]). A chunked evaluation may read any run, more
/// than once (a reduction is a pass of its own), and in C order sources
/// always in increasing order within a pass.
///
/// ```
/// use vexpr::chunked::{Chunking, Input, MemorySink, Source};
/// use vexpr::{DType, Expr, Format, Options, Signature, Storage};
///
/// /// The numbers 0, 1, 2, ... as float64, made as they are read.
/// struct Counting(usize);
///
/// impl Source for Counting {
///     fn shape(&self) -> &[usize] {
///         std::slice::from_ref(&self.0)
///     }
///     fn format(&self) -> Format {
///         Format::native(Storage::Float64)
///     }
///     fn read_at(&mut self, start: usize, buf: &mut [u8]) -> std::io::Result<()> {
///         for (k, element) in buf.chunks_exact_mut(8).enumerate() {
///             element.copy_from_slice(&((start + k) as f64).to_ne_bytes());
///         }
///         Ok(())
///     }
/// }
///
/// let e = Expr::compile("sum(a)", &Signature::new().with("a", DType::Float64)).unwrap();
/// let mut sink = MemorySink::default();
/// let chunking = Chunking { chunk_len: 1000, ..Chunking::default() };
/// e.eval_chunked(&mut [Input::Source(&mut Counting(10_000))], &mut sink, Options::default(), chunking)
///     .unwrap();
/// assert_eq!(sink.into_array().unwrap().as_slice::<f64>().unwrap(), &[49_995_000.0]);
/// ```
pub trait Source {
    /// The array's shape.
    fn shape(&self) -> &[usize];
    /// How each element is stored (its type and byte order).
    fn format(&self) -> Format;
    /// True when the elements are stored in Fortran (column-major) order.
    fn fortran_order(&self) -> bool {
        false
    }
    /// Fills `buf` with the stored bytes of the elements from number
    /// `start` on (`buf.len()` is a whole number of elements, all within
    /// the array). An error ends the evaluation with [`ErrorKind::Io`].
    fn read_at(&mut self, start: usize, buf: &mut [u8]) -> std::io::Result<()>;
}

/// Where a chunked evaluation's result goes.
///
/// ```
/// use vexpr::chunked::{Chunking, Input, Sink};
/// use vexpr::{DType, Env, Expr, Options, Signature, Value};
///
/// /// Counts the result's elements and keeps none of them.
/// #[derive(Default)]
/// struct Counter {
///     itemsize: usize,
///     elements: usize,
/// }
///
/// impl Sink for Counter {
///     fn start(&mut self, _shape: &[usize], dtype: DType, _fortran: bool) -> std::io::Result<()> {
///         self.itemsize = dtype.itemsize();
///         Ok(())
///     }
///     fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
///         self.elements += bytes.len() / self.itemsize;
///         Ok(())
///     }
/// }
///
/// let a = vec![1.0; 5000];
/// let e = Expr::compile("a * 2", &Signature::new().with("a", DType::Float64)).unwrap();
/// let mut counter = Counter::default();
/// let chunking = Chunking { chunk_len: 512, ..Chunking::default() };
/// let mut inputs = [Input::Value(Value::from(&a))];
/// e.eval_chunked(&mut inputs, &mut counter, Options::default(), chunking).unwrap();
/// assert_eq!(counter.elements, 5000);
/// ```
pub trait Sink {
    /// Called once, before any element, with the result's shape, type (its
    /// elements come in native byte order) and order: Fortran order when the
    /// evaluation went through the inputs in that order.
    fn start(&mut self, shape: &[usize], dtype: DType, fortran_order: bool) -> std::io::Result<()>;
    /// The next elements of the result, in the order `start` announced.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
}

/// One variable's value for [`Expr::eval_chunked`]: see [`Source`] and
/// [`MemorySource`] for examples.
pub enum Input<'a> {
    /// Read a piece at a time.
    Source(&'a mut dyn Source),
    /// In memory (scalars, small arrays, or memory that is already mapped).
    Value(Value<'a>),
}

impl std::fmt::Debug for Input<'_> {
    /// A source shows its shape and format (it has no `Debug` of its own).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Source(source) => f
                .debug_struct("Source")
                .field("shape", &source.shape())
                .field("format", &source.format())
                .field("fortran_order", &source.fortran_order())
                .finish(),
            Input::Value(value) => f.debug_tuple("Value").field(value).finish(),
        }
    }
}

/// How far a chunked evaluation has come, in elements computed over all of
/// its passes (one per reduction, then the result): see [`Chunking`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Elements computed so far.
    pub done: u64,
    /// Elements of all passes.
    pub total: u64,
}

/// The elements a chunk holds by default: 8 MiB reads of float64. Over 2 GB
/// files from the page cache, chunks from 16Ki to 4Mi elements ran within
/// the run-to-run noise of one another, and peak memory grows with the
/// chunk (about 32 MB at this length); see `docs/performance.md`.
///
/// ```
/// assert_eq!(vexpr::chunked::Chunking::default().chunk_len, vexpr::chunked::DEFAULT_CHUNK_LEN);
/// ```
pub const DEFAULT_CHUNK_LEN: usize = 1 << 20;

/// The chunk length and an optional progress callback.
///
/// ```
/// use vexpr::chunked::{Chunking, Input, MemorySink, Progress};
/// use vexpr::{DType, Expr, Options, Signature, Value};
/// let a = vec![2.0; 100];
/// let e = Expr::compile("a / sum(a)", &Signature::new().with("a", DType::Float64)).unwrap();
/// let mut seen = Vec::new();
/// let mut report = |p: Progress| seen.push(p);
/// let chunking = Chunking { chunk_len: 30, progress: Some(&mut report) };
/// let mut sink = MemorySink::default();
/// e.eval_chunked(&mut [Input::Value(Value::from(&a))], &mut sink, Options::default(), chunking)
///     .unwrap();
/// let last = seen.last().unwrap();
/// assert!(seen.len() >= 4 && last.done == last.total);
/// ```
pub struct Chunking<'p> {
    /// Elements a chunk holds at most (a chunk is never empty).
    pub chunk_len: usize,
    /// Called after each chunk.
    pub progress: Option<&'p mut dyn FnMut(Progress)>,
}

impl std::fmt::Debug for Chunking<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunking")
            .field("chunk_len", &self.chunk_len)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

impl Default for Chunking<'_> {
    fn default() -> Self {
        Chunking {
            chunk_len: DEFAULT_CHUNK_LEN,
            progress: None,
        }
    }
}

/// A [`Source`] over stored bytes in memory (for tests, and for data that is
/// already mapped into memory but should be read as a source).
///
/// ```
/// use vexpr::chunked::{Chunking, Input, MemorySink, MemorySource};
/// use vexpr::{DType, Expr, Format, Options, Signature, Storage};
/// let bytes: Vec<u8> = [1.0f64, 2.0, 3.0].iter().flat_map(|x| x.to_ne_bytes()).collect();
/// let mut a = MemorySource::new(&bytes, Format::native(Storage::Float64), &[3]);
/// let e = Expr::compile("a / sum(a)", &Signature::new().with("a", DType::Float64)).unwrap();
/// let mut sink = MemorySink::default();
/// e.eval_chunked(&mut [Input::Source(&mut a)], &mut sink, Options::default(), Chunking::default())
///     .unwrap();
/// assert_eq!(sink.into_array().unwrap().as_slice::<f64>().unwrap(), &[1.0 / 6.0, 2.0 / 6.0, 0.5]);
/// ```
#[derive(Debug, Clone)]
pub struct MemorySource<'a> {
    bytes: &'a [u8],
    format: Format,
    shape: Vec<usize>,
    fortran_order: bool,
}

impl<'a> MemorySource<'a> {
    /// `bytes` holds the elements of `shape` in C order, stored as `format`.
    ///
    /// ```
    /// use vexpr::chunked::{MemorySource, Source};
    /// use vexpr::{Format, Storage};
    /// let s = MemorySource::new(&[1, 2, 3, 4], Format::native(Storage::UInt8), &[2, 2]);
    /// assert_eq!(s.shape(), &[2, 2]);
    /// ```
    pub fn new(bytes: &'a [u8], format: Format, shape: &[usize]) -> MemorySource<'a> {
        MemorySource {
            bytes,
            format,
            shape: shape.to_vec(),
            fortran_order: false,
        }
    }

    /// The same bytes read as in Fortran order.
    ///
    /// ```
    /// use vexpr::chunked::{Chunking, Input, MemorySink, MemorySource};
    /// use vexpr::{DType, Expr, Format, Options, Signature, Storage};
    /// // Column-major [[1, 2], [3, 4]]: stored 1, 3, 2, 4.
    /// let mut s = MemorySource::new(&[1, 3, 2, 4], Format::native(Storage::UInt8), &[2, 2]).fortran();
    /// let e = Expr::compile("a", &Signature::new().with("a", DType::Int32)).unwrap();
    /// let mut sink = MemorySink::default();
    /// e.eval_chunked(&mut [Input::Source(&mut s)], &mut sink, Options::default(), Chunking::default())
    ///     .unwrap();
    /// assert_eq!(sink.into_array().unwrap().as_slice::<i32>().unwrap(), &[1, 2, 3, 4]);
    /// ```
    pub fn fortran(mut self) -> MemorySource<'a> {
        self.fortran_order = true;
        self
    }
}

impl Source for MemorySource<'_> {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn format(&self) -> Format {
        self.format
    }

    fn fortran_order(&self) -> bool {
        self.fortran_order
    }

    fn read_at(&mut self, start: usize, buf: &mut [u8]) -> std::io::Result<()> {
        let at = start * self.format.storage.itemsize();
        let part = at
            .checked_add(buf.len())
            .and_then(|end| self.bytes.get(at..end))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(part);
        Ok(())
    }
}

/// A [`Sink`] that keeps the result in memory (see [`MemorySource`] for an
/// example).
#[derive(Debug, Default)]
pub struct MemorySink {
    result: Option<(Buffer, Vec<usize>, bool)>,
    written: usize,
}

impl MemorySink {
    /// The result, in C order; `None` if the evaluation did not start.
    ///
    /// ```
    /// assert!(vexpr::chunked::MemorySink::default().into_array().is_none());
    /// ```
    pub fn into_array(self) -> Option<Array> {
        let (buffer, shape, fortran) = self.result?;
        if !fortran {
            return Array::from_buffer(buffer, &shape).ok();
        }
        // Fortran order: the elements of the reversed shape in C order;
        // their transposition is the result.
        let mut reversed = shape.clone();
        reversed.reverse();
        let stored = Array::from_buffer(buffer, &reversed).ok()?;
        let view = stored.view().arranged(shape.len(), true);
        let mut out = Buffer::try_zeros(stored.dtype(), stored.len())?;
        let gather = crate::vm::Gather::of_view(&view, &shape)?;
        gather.gather(0, stored.len(), out.as_bytes_mut());
        Array::from_buffer(out, &shape).ok()
    }
}

impl Sink for MemorySink {
    fn start(&mut self, shape: &[usize], dtype: DType, fortran_order: bool) -> std::io::Result<()> {
        let len = shape.iter().product();
        let buffer = Buffer::try_zeros(dtype, len)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::OutOfMemory))?;
        self.result = Some((buffer, shape.to_vec(), fortran_order));
        self.written = 0;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let Some((buffer, ..)) = &mut self.result else {
            return Err(std::io::Error::other("write before start"));
        };
        let out = buffer.as_bytes_mut();
        let end = self.written + bytes.len();
        out.get_mut(self.written..end)
            .ok_or_else(|| std::io::Error::other("more elements than the shape holds"))?
            .copy_from_slice(bytes);
        self.written = end;
        Ok(())
    }
}

impl Expr {
    /// Evaluates with inputs read and the result written a chunk at a time
    /// (see the [module](crate::chunked) doc): memory use does not grow with
    /// the inputs' size. `inputs` has one entry per variable of the
    /// signature, in its order. The result's values are those of
    /// [`Expr::eval`], bit for bit, reductions included.
    ///
    /// A failed read or write is an [`ErrorKind::Io`] error naming the input
    /// (or the result); an interrupted evaluation
    /// ([`Options::with_interrupt`]) has given the sink part of the result.
    ///
    /// ```
    /// use vexpr::chunked::{Chunking, Input, MemorySink, MemorySource};
    /// use vexpr::{DType, Expr, Format, Options, Signature, Storage, Value};
    /// // Big-endian int16 values, read four at a time, plus a scalar.
    /// let bytes: Vec<u8> = (0..10i16).flat_map(|x| x.to_be_bytes()).collect();
    /// let format = Format { storage: Storage::Int16, swapped: cfg!(target_endian = "little") };
    /// let mut a = MemorySource::new(&bytes, format, &[10]);
    /// let sig = Signature::new().with("a", DType::Int32).with("k", DType::Int64);
    /// let e = Expr::compile("a * k", &sig).unwrap();
    /// let mut sink = MemorySink::default();
    /// let mut inputs = [Input::Source(&mut a), Input::Value(Value::Scalar(vexpr::Scalar::Int64(3)))];
    /// let chunking = Chunking { chunk_len: 4, progress: None };
    /// e.eval_chunked(&mut inputs, &mut sink, Options::default(), chunking).unwrap();
    /// let r = sink.into_array().unwrap();
    /// assert_eq!(r.as_slice::<i64>().unwrap(), &[0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    /// ```
    pub fn eval_chunked(
        &self,
        inputs: &mut [Input<'_>],
        sink: &mut dyn Sink,
        options: Options,
        chunking: Chunking<'_>,
    ) -> Result<()> {
        let whole = Span::new(0, self.source.len());
        let vars = &self.signature.vars;
        if inputs.len() != vars.len() {
            let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
            let message = format!(
                "{} inputs given for the {} variables ({})",
                inputs.len(),
                vars.len(),
                names.join(", ")
            );
            return Err(Error::new(ErrorKind::Input, whole, message).with_source(&self.source));
        }
        // Every variable's value, or its source; stage results go on the end.
        let mut values: Vec<Option<Value<'_>>> = Vec::with_capacity(self.variables.len());
        let mut sources: Vec<Option<SourceState<'_, '_>>> = Vec::with_capacity(vars.len());
        for (v, ((name, want), input)) in vars.iter().zip(inputs.iter_mut()).enumerate() {
            let span = self.spans[v].unwrap_or_default();
            match input {
                Input::Value(value) => {
                    if self.spans[v].is_some() {
                        self.check_type(name, *want, &*value, span)?;
                    }
                    values.push(Some(value.clone()));
                    sources.push(None);
                }
                Input::Source(source) => {
                    let format = source.format();
                    let shape = source.shape().to_vec();
                    let fail = |message: String| {
                        Err(Error::new(ErrorKind::Input, span, message).with_source(&self.source))
                    };
                    if crate::array::checked_size(&shape, format.storage.itemsize()).is_none() {
                        return fail(format!(
                            "`{name}` has a shape too large to count: {shape:?}"
                        ));
                    }
                    if let (DType::Bytes(0), false) = (format.storage.dtype(), shape.contains(&0)) {
                        return fail(format!(
                            "`{name}` holds zero-width strings: store b'' with width 1, as NumPy does"
                        ));
                    }
                    let dtype = format.storage.dtype();
                    if self.spans[v].is_some() && dtype != *want {
                        let message = format!(
                            "`{name}` is {dtype}, but the expression was compiled for {want}"
                        );
                        return Err(
                            Error::new(ErrorKind::Type, span, message).with_source(&self.source)
                        );
                    }
                    values.push(None);
                    sources.push(Some(SourceState {
                        name,
                        fortran: source.fortran_order(),
                        format,
                        shape,
                        source: *source,
                    }));
                }
            }
        }
        // Every pass's shape, known before anything is read: each stage's
        // operand (its result has that shape less the reduced axis), then the
        // result's. A shape that fails is reported when its pass comes, after
        // the earlier stages have run, as the in-memory evaluation reports it
        // (an earlier stage may fail first, on a value).
        let mut shapes: Vec<Option<Vec<usize>>> = values
            .iter()
            .zip(&sources)
            .map(|(value, source)| match (value, source) {
                (Some(value), _) => Some(value.shape().to_vec()),
                (None, Some(source)) => Some(source.shape.clone()),
                (None, None) => None,
            })
            .collect();
        let mut operands = Vec::with_capacity(self.stages.len());
        let mut planned: Result<Vec<usize>> = Ok(Vec::new());
        for stage in &self.stages {
            let dtype = stage.program.result_dtype();
            let planned_stage = self
                .broadcast_with(&stage.program, |v| shapes[v].as_deref())
                .map_err(|e| e.with_source(&self.source))
                .and_then(|operand| {
                    crate::vm::reduced_shape(&operand, dtype, stage.op, stage.axis)
                        .map(|reduced| (operand, reduced))
                        .map_err(|error| self.reduce_error(stage, error))
                });
            match planned_stage {
                Ok((operand, reduced)) => {
                    operands.push(operand);
                    shapes.push(Some(reduced));
                }
                Err(error) => {
                    planned = Err(error);
                    break;
                }
            }
        }
        if planned.is_ok() {
            planned = self
                .broadcast_with(&self.program, |v| shapes[v].as_deref())
                .map_err(|e| e.with_source(&self.source));
        }
        // The stages planned before the failure run; then it is reported.
        let shape = planned.as_ref().map_or(&[][..], Vec::as_slice).to_vec();
        let reads_source = |program: &Program| {
            program
                .input_vars
                .iter()
                .any(|&v| matches!(sources.get(v), Some(Some(_))))
        };
        let passes = self
            .stages
            .iter()
            .zip(&operands)
            .filter(|(stage, _)| reads_source(&stage.program))
            .map(|(_, operand)| operand)
            .chain([&shape]);
        let total = passes.map(|s| s.iter().product::<usize>() as u64).sum();
        let streamed: Vec<bool> = self
            .stages
            .iter()
            .map(|s| reads_source(&s.program))
            .collect();
        let mut run = Run {
            expr: self,
            sources,
            options,
            chunk_len: chunking.chunk_len.max(1),
            progress: chunking.progress,
            done: 0,
            total,
        };
        let results = self.stage_slots();
        for (k, (stage, slot)) in self.stages.iter().zip(&results).enumerate() {
            if options.interrupted() {
                return Err(self.interrupted());
            }
            if k == operands.len() {
                // This stage's shape failed in planning (`planned` says why).
                break;
            }
            let reduced = if streamed[k] {
                let dtype = stage.program.result_dtype();
                let mut reduction =
                    ChunkedReduction::new(&operands[k], dtype, stage.op, stage.axis)
                        .map_err(|error| self.reduce_error(stage, error))?;
                run.pass(&stage.program, &values, &operands[k], false, &mut |data| {
                    reduction.feed(data);
                    Ok(())
                })?;
                reduction.finish()
            } else {
                self.run_stage(stage, &values, options)?
            };
            let reduced = slot.get_or_init(|| reduced);
            values.push(Some(Value::Array(reduced.view())));
        }
        let shape = planned?;
        let dtype = self.program.result_dtype();
        // Fortran order when every source the output varies along more than
        // one axis of is.
        let mut wide = self
            .program
            .input_vars
            .iter()
            .filter_map(|&v| run.sources.get(v).and_then(Option::as_ref))
            .filter(|s| s.shape.iter().filter(|&&n| n > 1).count() > 1)
            .peekable();
        let transposed = wide.peek().is_some() && wide.all(|s| s.fortran);
        let io = |what: &str, e: std::io::Error| {
            Error::new(ErrorKind::Io, whole, format!("{what}: {e}")).with_source(&self.source)
        };
        // A zero-width string result is all b'', stored as NumPy stores
        // b'': as `S1` NULs (see `Expr::evaluate_program`).
        if dtype == DType::Bytes(0) {
            sink.start(&shape, DType::Bytes(1), false)
                .map_err(|e| io("writing the result", e))?;
            let zeros = vec![0u8; run.chunk_len];
            let mut left: usize = shape.iter().product();
            while left > 0 {
                let n = left.min(zeros.len());
                sink.write(&zeros[..n])
                    .map_err(|e| io("writing the result", e))?;
                left -= n;
            }
            return Ok(());
        }
        sink.start(&shape, dtype, transposed)
            .map_err(|e| io("writing the result", e))?;
        run.pass(&self.program, &values, &shape, transposed, &mut |data| {
            sink.write(data.as_bytes())
                .map_err(|e| io("writing the result", e))
        })
    }
}

/// A source and what the traversal needs of it.
struct SourceState<'s, 'n> {
    name: &'n str,
    source: &'s mut dyn Source,
    format: Format,
    shape: Vec<usize>,
    fortran: bool,
}

/// One chunked evaluation in progress.
struct Run<'e, 's, 'n, 'p> {
    expr: &'e Expr,
    /// By variable: `Some` for the variables read from a source.
    sources: Vec<Option<SourceState<'s, 'n>>>,
    options: Options,
    chunk_len: usize,
    progress: Option<&'p mut dyn FnMut(Progress)>,
    done: u64,
    total: u64,
}

/// How one variable is read during a pass, arranged for its traversal:
/// `dims` are its dimensions aligned with the output's (leading ones added)
/// in the traversal's order.
enum Operand<'v> {
    /// A scalar, or a variable the program does not read.
    Whole(Option<Value<'v>>),
    /// An in-memory array, windowed per chunk.
    Memory {
        view: ArrayView<'v>,
        dims: Vec<usize>,
    },
    /// A source, read into `buffer` per chunk: `strides` count elements of
    /// its storage order.
    Read {
        var: usize,
        dims: Vec<usize>,
        strides: Vec<isize>,
        buffer: Vec<u8>,
    },
}

impl Run<'_, '_, '_, '_> {
    /// Runs `program` over an output of `shape`, a chunk at a time, handing
    /// each chunk's result to `consume`; in Fortran order if `transposed`.
    fn pass(
        &mut self,
        program: &Program,
        values: &[Option<Value<'_>>],
        shape: &[usize],
        transposed: bool,
        consume: &mut dyn FnMut(crate::array::Data<'_>) -> Result<()>,
    ) -> Result<()> {
        let expr = self.expr;
        let ndim = shape.len();
        let mut order: Vec<usize> = shape.to_vec();
        if transposed {
            order.reverse();
        }
        let count: usize = order.iter().product();
        if count == 0 {
            return Ok(());
        }
        // The chunk's axis: the first whose trailing axes fit in a chunk.
        let inner_of = |k: usize| order[k + 1..].iter().product::<usize>();
        let k = (0..ndim).find(|&k| inner_of(k) <= self.chunk_len);
        let (inner, rows) = match k {
            Some(k) => {
                let inner = inner_of(k);
                (inner, (self.chunk_len / inner.max(1)).clamp(1, order[k]))
            }
            None => (1, 1),
        };
        let capacity = rows * inner;
        let mut operands: Vec<Operand> = Vec::with_capacity(values.len());
        for (v, value) in values.iter().enumerate() {
            if !program.input_vars.contains(&v) {
                operands.push(Operand::Whole(None));
                continue;
            }
            let operand = match (value, self.sources.get(v).and_then(Option::as_ref)) {
                (Some(Value::Array(view)), _) => Operand::Memory {
                    view: view.arranged(ndim, transposed),
                    dims: arranged(view.shape(), ndim, transposed),
                },
                (Some(scalar), _) => Operand::Whole(Some(scalar.clone())),
                (None, Some(source)) => {
                    let padded = arranged(&source.shape, ndim, false);
                    let mut strides = if source.fortran {
                        fortran_strides(&padded)
                    } else {
                        crate::array::c_strides(&padded)
                    };
                    let mut dims = padded;
                    if transposed {
                        dims.reverse();
                        strides.reverse();
                    }
                    let width = source.format.storage.itemsize();
                    let mut buffer = Vec::new();
                    buffer
                        .try_reserve_exact(capacity * width)
                        .map_err(|_| self.out_of_memory(capacity, source.name))?;
                    buffer.resize(capacity * width, 0);
                    Operand::Read {
                        var: v,
                        dims,
                        strides,
                        buffer,
                    }
                }
                (None, None) => Operand::Whole(None),
            };
            operands.push(operand);
        }
        let dtype = program.result_dtype();
        let mut out = Buffer::try_zeros(dtype, capacity)
            .ok_or_else(|| self.out_of_memory(capacity, "the result"))?;
        let k = k.unwrap_or(0);
        // The index of the axes before `k`, as an odometer.
        let mut outer = vec![0usize; k];
        loop {
            let mut r0 = 0;
            while r0 < order.get(k).copied().unwrap_or(1) {
                if self.options.interrupted() {
                    return Err(expr.interrupted());
                }
                let r1 = (r0 + rows).min(order.get(k).copied().unwrap_or(1));
                let chunk: Vec<usize> = if ndim == 0 {
                    Vec::new()
                } else {
                    std::iter::once(r1 - r0)
                        .chain(order[k + 1..].iter().copied())
                        .collect()
                };
                let len = chunk.iter().product::<usize>();
                // Read every source's piece, then view them all.
                for operand in &mut operands {
                    if let Operand::Read {
                        var,
                        dims,
                        strides,
                        buffer,
                    } = operand
                    {
                        let state = self.sources[*var].as_mut().expect("a source");
                        let width = state.format.storage.itemsize();
                        let (base, piece) = piece(dims, strides, &outer, r0, r1, k);
                        let n: usize = piece.iter().product();
                        read_piece(
                            state,
                            base,
                            &piece,
                            &strides[k.min(ndim)..],
                            &mut buffer[..n * width],
                        )
                        .map_err(|e| {
                            Error::new(
                                ErrorKind::Io,
                                Span::new(0, expr.source.len()),
                                format!("reading `{}`: {e}", state.name),
                            )
                            .with_source(&expr.source)
                        })?;
                    }
                }
                let mut chunk_values: Vec<Option<Value<'_>>> = Vec::with_capacity(operands.len());
                for operand in &operands {
                    chunk_values.push(match operand {
                        Operand::Whole(value) => value.clone(),
                        Operand::Memory { view, dims } => {
                            let (start, tail) = window(dims, &outer, r0, r1, ndim, k);
                            Some(Value::Array(view.window(&start, &tail)))
                        }
                        Operand::Read {
                            var,
                            dims,
                            strides,
                            buffer,
                        } => {
                            let state = self.sources[*var].as_ref().expect("a source");
                            let (_, piece) = piece(dims, strides, &outer, r0, r1, k);
                            let width = state.format.storage.itemsize();
                            let n: usize = piece.iter().product();
                            let strides = piece_strides(&piece, &strides[k.min(ndim)..], width);
                            let view = ArrayView::from_bytes(
                                &buffer[..n * width],
                                state.format,
                                &piece,
                                &strides,
                                0,
                            )
                            .expect("a piece lies inside its buffer");
                            Some(Value::Array(view))
                        }
                    });
                }
                let bytes = &mut out.as_bytes_mut()[..len * dtype.itemsize()];
                expr.run(program, &chunk_values, &chunk, bytes, self.options)?;
                consume(out.data().slice(0, len))?;
                self.done += len as u64;
                if let Some(progress) = &mut self.progress {
                    progress(Progress {
                        done: self.done,
                        total: self.total,
                    });
                }
                r0 = r1;
            }
            // The next index of the axes before `k`, or the end.
            let mut a = k;
            loop {
                if a == 0 {
                    return Ok(());
                }
                a -= 1;
                outer[a] += 1;
                if outer[a] < order[a] {
                    break;
                }
                outer[a] = 0;
            }
        }
    }

    fn out_of_memory(&self, elements: usize, what: &str) -> Error {
        let expr = self.expr;
        Error::new(
            ErrorKind::Io,
            Span::new(0, expr.source.len()),
            format!("cannot allocate a chunk buffer of {elements} elements for {what}"),
        )
        .with_source(&expr.source)
    }
}

/// `shape` with leading ones up to `ndim` dimensions, reversed if `reverse`.
fn arranged(shape: &[usize], ndim: usize, reverse: bool) -> Vec<usize> {
    let mut dims: Vec<usize> = std::iter::repeat_n(1, ndim - shape.len())
        .chain(shape.iter().copied())
        .collect();
    if reverse {
        dims.reverse();
    }
    dims
}

/// Column-major strides (in elements) of `shape`.
fn fortran_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = Vec::with_capacity(shape.len());
    let mut step = 1isize;
    for &n in shape {
        strides.push(step);
        step = step.saturating_mul(n.max(1) as isize);
    }
    strides
}

/// Where a chunk (indices `outer` of the axes before `k`, rows `r0..r1` of
/// axis `k`, all of the axes after) starts in a variable of dimensions
/// `dims`, and the shape of its part (axes `k` on): a variable of length 1
/// along an axis is broadcast along it.
fn window(
    dims: &[usize],
    outer: &[usize],
    r0: usize,
    r1: usize,
    ndim: usize,
    k: usize,
) -> (Vec<usize>, Vec<usize>) {
    if ndim == 0 {
        return (Vec::new(), Vec::new());
    }
    let at = |a: usize, i: usize| if dims[a] == 1 { 0 } else { i };
    let mut start: Vec<usize> = (0..k).map(|a| at(a, outer[a])).collect();
    start.push(at(k, r0));
    start.extend(std::iter::repeat_n(0, ndim - k - 1));
    let mut tail = vec![if dims[k] == 1 { 1 } else { r1 - r0 }];
    tail.extend_from_slice(&dims[k + 1..]);
    (start, tail)
}

/// [`window`] for a source of storage strides `strides` (in elements): the
/// element number where the chunk's part starts, and the part's shape.
fn piece(
    dims: &[usize],
    strides: &[isize],
    outer: &[usize],
    r0: usize,
    r1: usize,
    k: usize,
) -> (usize, Vec<usize>) {
    let (start, tail) = window(dims, outer, r0, r1, dims.len(), k);
    // Storage strides are positive and the index inside the shape.
    let base = start
        .iter()
        .zip(strides)
        .map(|(&i, &s)| i * s as usize)
        .sum();
    (base, tail)
}

/// The axes of a part of a source from the slowest-moving in its storage to
/// the fastest (by decreasing stride): the order the part is read in.
fn storage_order(strides: &[isize]) -> Vec<usize> {
    let mut axes: Vec<usize> = (0..strides.len()).collect();
    axes.sort_by_key(|&a| std::cmp::Reverse(strides[a]));
    axes
}

/// Byte strides of a part of `shape` read by [`read_piece`] into a buffer
/// (in the source's storage order), for a view of the buffer.
fn piece_strides(shape: &[usize], strides: &[isize], width: usize) -> Vec<isize> {
    let order = storage_order(strides);
    let stored: Vec<usize> = order.iter().map(|&a| shape[a]).collect();
    let mut out = vec![0isize; shape.len()];
    for (&a, s) in order.iter().zip(crate::array::c_strides(&stored)) {
        out[a] = s * width as isize;
    }
    out
}

/// Reads the part of a source with `shape` (strides `strides`, in elements
/// of its storage order) from element `base` into `buf`, in the source's own
/// order (so that a Fortran-order part of a Fortran-order file is read in
/// runs down its columns): one read per run of elements that lie back to
/// back in the source.
fn read_piece(
    state: &mut SourceState<'_, '_>,
    base: usize,
    shape: &[usize],
    strides: &[isize],
    buf: &mut [u8],
) -> std::io::Result<()> {
    let width = state.format.storage.itemsize();
    let order = storage_order(strides);
    let shape: Vec<usize> = order.iter().map(|&a| shape[a]).collect();
    let strides: Vec<isize> = order.iter().map(|&a| strides[a]).collect();
    // The trailing axes that are contiguous in the source make one run.
    let mut run = 1usize;
    let mut split = shape.len();
    while split > 0 {
        let a = split - 1;
        if shape[a] != 1 && strides[a] != run as isize {
            break;
        }
        run *= shape[a];
        split = a;
    }
    let runs: usize = shape[..split].iter().product();
    let mut index = vec![0usize; split];
    for r in 0..runs {
        let offset: isize = index
            .iter()
            .zip(&strides)
            .map(|(&i, &s)| i as isize * s)
            .sum();
        let at = r * run * width;
        state.source.read_at(
            (base as isize + offset) as usize,
            &mut buf[at..at + run * width],
        )?;
        for a in (0..split).rev() {
            index[a] += 1;
            if index[a] < shape[a] {
                break;
            }
            index[a] = 0;
        }
    }
    Ok(())
}
