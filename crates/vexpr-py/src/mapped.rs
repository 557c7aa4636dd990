//! Evaluation over memory-mapped arrays (`np.memmap`, `np.load(mmap_mode=)`)
//! in bounded resident memory.
//!
//! Read in place, every page of a mapped file that an evaluation touches stays
//! in the process's resident set (as `RssFile`) until the mapping goes: the
//! peak resident size grows by the files' size. Instead, an evaluation with a
//! large input (or `out=`) in a *shared* file mapping runs through the
//! library's chunked evaluation ([`vexpr::Expr::eval_chunked`]): such an input is a
//! [`Source`] that copies each run it is asked for out of the mapping into a
//! chunk buffer and then gives the whole pages it has finished with back to
//! the kernel (`madvise(MADV_DONTNEED)`), and the result goes a chunk at a
//! time to a [`Sink`] that copies it into the output array (and gives back
//! the pages it has written of an output that is itself a shared file
//! mapping). The resident memory is then the chunk buffers (one per source,
//! one for the result; 8 MiB each for float64) plus the pages being copied,
//! whatever the files' size. The values are the in-memory path's, bit for
//! bit (reductions included: see `vexpr::chunked`).
//!
//! `MADV_DONTNEED` on a shared file mapping only unmaps the pages from this
//! process: their contents stay in the file's page cache (written pages are
//! marked dirty and written back as any other), and the next access maps
//! them again. On a private mapping (`np.memmap` mode `'c'`, copy-on-write)
//! it would *discard* the process's own modifications, so an array is only
//! advised when `/proc/self/maps` shows that all of its memory lies in shared
//! mappings of files; any other array is read in place, as on the ordinary
//! path. Linux only; elsewhere every evaluation takes the ordinary path.
//!
//! The path is taken when it applies cleanly: the evaluation is in C order
//! (not over the transposed views of Fortran-ordered inputs), and at least
//! one input, or `out`, of [`MAPPED_FROM`] elements or more is C-contiguous,
//! has a `mmap.mmap` at the root of its `base` chain (a cheap test, so that
//! `/proc/self/maps` is only read for arrays that may be mapped), and lies in
//! shared file mappings. Other inputs (small arrays, scalars, private or
//! non-contiguous maps) are read in place as chunk-sized windows. The result
//! goes straight into `out` when `out` has the result's shape and type
//! (native, any alignment) and overlaps no input except as the very same
//! array (each chunk of that input is read before the same chunk of `out` is
//! written); otherwise the result is made in memory and copied into `out`
//! with `numpy.copyto`, as on the ordinary path.

use crate::inputs::{Input, data_ptr, has_flag, memory_of};
use crate::run::{Prepared, adopt, overlaps, same_view, watched};
use numpy::{PyUntypedArray, PyUntypedArrayMethods, npyffi};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use vexpr::chunked::{self, Chunking, MemorySink, Sink, Source};
use vexpr::{DType, Format, Value};

/// Arrays of at least this many elements are read from their mapping a
/// chunk at a time (32 MiB of float64; smaller ones are read in place: their
/// pages add at most their own size to the resident set).
pub const MAPPED_FROM: usize = 1 << 22;

/// Bytes `lo..hi` of an array, all inside shared mappings of files.
#[derive(Debug, Clone, Copy)]
struct Region {
    lo: usize,
    hi: usize,
}

/// What the chunked path needs to know, with the GIL, before it runs.
pub struct Plan {
    /// By input: the mapped region of an input read as a [`Source`].
    sources: Vec<Option<Region>>,
    /// `out`'s memory, when the result is written straight into it.
    direct: Option<Direct>,
}

/// An output written in place: `out`'s memory (C-contiguous, native, of the
/// result's type), and its pages to drop if it is a shared file mapping.
#[derive(Debug, Clone)]
struct Direct {
    at: usize,
    bytes: usize,
    shape: Vec<usize>,
    dtype: DType,
    mapped: bool,
}

/// The plan of a chunked evaluation over mapped arrays, or `None` when the
/// ordinary path applies (no large shared mapping among the inputs and
/// `out`, a Fortran-ordered run, or an `out` that the ordinary path refuses
/// with an error).
pub fn plan(
    py: Python<'_>,
    p: &Prepared<'_, '_>,
    out: Option<&Bound<'_, PyAny>>,
    reversed: Option<usize>,
) -> PyResult<Option<Plan>> {
    if !sys::SUPPORTED || reversed.is_some() {
        return Ok(None);
    }
    let out = match out {
        Some(o) => match o.cast::<PyUntypedArray>() {
            Ok(a) if has_flag(a, npyffi::flags::NPY_ARRAY_WRITEABLE) => Some(a),
            // Not an array, or read-only: the ordinary path raises.
            _ => return Ok(None),
        },
        None => None,
    };
    // Nothing large (most calls): no candidate, nothing to allocate.
    let large = |a: &Bound<'_, PyUntypedArray>| a.len() >= MAPPED_FROM;
    if !p.inputs.iter().filter_map(Input::array).any(large) && !out.is_some_and(large) {
        return Ok(None);
    }
    // Candidates: large, C-contiguous, rooted in a `mmap.mmap`.
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    let mut candidates: Vec<Option<usize>> = Vec::with_capacity(p.inputs.len());
    for input in &p.inputs {
        let slot = match input.array() {
            Some(a) if may_be_mapped(py, a)? => {
                wanted.push(region_of(a));
                Some(wanted.len() - 1)
            }
            _ => None,
        };
        candidates.push(slot);
    }
    let out_slot = match out {
        Some(o) if may_be_mapped(py, o)? => {
            wanted.push(region_of(o));
            Some(wanted.len() - 1)
        }
        _ => None,
    };
    if wanted.is_empty() {
        return Ok(None);
    }
    let shared = sys::in_shared_file_mappings(&wanted);
    let region = |slot: Option<usize>| {
        slot.filter(|&s| shared[s]).map(|s| Region {
            lo: wanted[s].0,
            hi: wanted[s].1,
        })
    };
    let sources: Vec<Option<Region>> = candidates.iter().map(|&s| region(s)).collect();
    let out_mapped = region(out_slot).is_some();
    if sources.iter().all(Option::is_none) && !out_mapped {
        return Ok(None);
    }
    let direct = match out {
        Some(o) => direct_target(p, o, &sources, out_mapped),
        None => None,
    };
    Ok(Some(Plan { sources, direct }))
}

/// Whether `array` is worth reading through the chunked path, if its memory
/// turns out to be a shared file mapping: large, C-contiguous, and a
/// `mmap.mmap` at the root of its `base` chain (`np.memmap`, its views and
/// slices, `np.load(mmap_mode=...)`, `np.frombuffer` of a `mmap`).
fn may_be_mapped(py: Python<'_>, array: &Bound<'_, PyUntypedArray>) -> PyResult<bool> {
    if array.len() < MAPPED_FROM || !array.is_c_contiguous() {
        return Ok(false);
    }
    static MMAP: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    let mmap = MMAP.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("mmap")?
                .getattr("mmap")?
                .cast_into::<PyType>()?
                .unbind(),
        )
    })?;
    let mut object: Bound<'_, PyAny> = array.clone().into_any();
    // A chain of views is short; the bound only guards against a cycle.
    for _ in 0..64 {
        let Ok(a) = object.cast::<PyUntypedArray>() else {
            return object.is_instance(mmap.bind(py));
        };
        // SAFETY: `as_array_ptr` points at the live array object `a` holds;
        // its `base` is null or a reference the array owns, made an owned
        // reference of our own at once.
        let base = unsafe { Bound::from_borrowed_ptr_or_opt(py, (*a.as_array_ptr()).fields.base) };
        let Some(base) = base else {
            return Ok(false);
        };
        object = base;
    }
    Ok(false)
}

/// The bytes of a C-contiguous, non-empty array, as addresses.
fn region_of(array: &Bound<'_, PyUntypedArray>) -> (usize, usize) {
    let (bytes, _) = memory_of(array);
    let lo = bytes.as_ptr() as usize;
    (lo, lo + bytes.len())
}

/// `out` as a [`Direct`] target when the result can be written straight into
/// it: C-contiguous, native, of a numeric type (the result's type and shape
/// are checked when the run starts), overlapping no input but the one that
/// is the same array read as a source.
fn direct_target(
    p: &Prepared<'_, '_>,
    out: &Bound<'_, PyUntypedArray>,
    sources: &[Option<Region>],
    mapped: bool,
) -> Option<Direct> {
    let format = crate::inputs::format_of(out).ok()?;
    if !out.is_c_contiguous()
        || !format.is_native()
        || !format.storage.is_dtype()
        || format.storage.dtype().is_bytes()
    {
        return None;
    }
    let (out_bytes, _) = memory_of(out);
    for (input, source) in p.inputs.iter().zip(sources) {
        let Some(a) = input.array() else { continue };
        let (bytes, _) = memory_of(a);
        if overlaps(bytes, out_bytes) && (source.is_none() || !(a.is(out) || same_view(a, out))) {
            return None;
        }
    }
    let at = if out.len() == 0 {
        0
    } else {
        data_ptr(out) as usize
    };
    Some(Direct {
        at,
        bytes: out_bytes.len(),
        shape: out.shape().to_vec(),
        dtype: format.storage.dtype(),
        mapped,
    })
}

/// Runs the plan: the GIL released (on a helper thread, watching for
/// Ctrl-C, as the ordinary path), the result into `out` or a new array.
pub fn run<'py>(
    py: Python<'py>,
    p: &Prepared<'py, '_>,
    plan: Plan,
    out: Option<&Bound<'py, PyAny>>,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(result) = run_flat(py, p, &plan, out)? {
        return Ok(result);
    }
    run_chunked(py, p, plan, out, casting)
}

/// One input of a flat run: the same rows of every chunk, or the whole
/// value (a scalar or a 0-d array, broadcast).
enum Flat<'a> {
    Rows {
        bytes: &'a [u8],
        format: Format,
        mapped: Option<Region>,
    },
    Whole(Value<'a>),
}

/// The common case without copies: an element-wise expression (no
/// reduction, a numeric result) whose array inputs all have the result's
/// shape and are C-contiguous (or are 0-d), into a new array or an `out` of
/// the result's shape and type that overlaps no input. Every array is then
/// a flat run of elements in the same order, so the run goes through it a
/// chunk of [`chunked::DEFAULT_CHUNK_LEN`] elements at a time, the VM
/// reading the inputs' chunks in place and writing the result's straight
/// into the output (with all threads, as the ordinary path), and the pages
/// of the mapped ones are given back after each chunk. `None` when the
/// case does not apply.
fn run_flat<'py>(
    py: Python<'py>,
    p: &Prepared<'py, '_>,
    plan: &Plan,
    out: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let expr = p.expr;
    let dtype = expr.result_dtype();
    if !vexpr::unstable::stages(expr).is_empty() || dtype.is_bytes() {
        return Ok(None);
    }
    let values: Vec<Value<'_>> = p
        .inputs
        .iter()
        .map(|input| input.value(None))
        .collect::<PyResult<_>>()?;
    let shape = expr
        .result_shape_positional(&values)
        .map_err(|e| crate::errors::to_py(&e))?;
    let len: usize = shape.iter().product();
    let mut flat = Vec::with_capacity(values.len());
    for ((input, value), source) in p.inputs.iter().zip(&values).zip(&plan.sources) {
        flat.push(match input {
            Input::Array(a, format) if a.ndim() > 0 => {
                if a.shape() != shape.as_slice() || !a.is_c_contiguous() {
                    return Ok(None);
                }
                Flat::Rows {
                    bytes: memory_of(a).0,
                    format: *format,
                    mapped: *source,
                }
            }
            _ => Flat::Whole(value.clone()),
        });
    }
    let Some(out) = out else {
        fn fill<'py, T: vexpr::Element + numpy::Element>(
            py: Python<'py>,
            expr: &vexpr::Expr,
            flat: &[Flat<'_>],
            shape: &[usize],
        ) -> PyResult<Bound<'py, PyAny>> {
            // The result lines up with the first array input.
            let like = flat.iter().find_map(|f| match f {
                Flat::Rows { bytes, .. } => Some(bytes.as_ptr() as usize),
                Flat::Whole(_) => None,
            });
            // SAFETY: `array` lives to the end of this function, after the
            // last use of `slice`; `flat_run` writes every element before the
            // array is returned (on an error or interruption it is dropped
            // unseen).
            let (array, slice) = unsafe { crate::run::empty::<T>(py, shape, like.unwrap_or(0))? };
            flat_run(py, expr, flat, slice, None, true)?;
            Ok(array.into_any())
        }
        let result = match dtype {
            DType::Bool => fill::<bool>(py, expr, &flat, &shape),
            DType::Int32 => fill::<i32>(py, expr, &flat, &shape),
            DType::Int64 => fill::<i64>(py, expr, &flat, &shape),
            DType::Float32 => fill::<f32>(py, expr, &flat, &shape),
            DType::Float64 => fill::<f64>(py, expr, &flat, &shape),
            DType::Complex128 => fill::<vexpr::Complex64>(py, expr, &flat, &shape),
            DType::Bytes(_) => unreachable!("string results take the chunked path"),
        }?;
        return Ok(Some(result));
    };
    let Some(d) = &plan.direct else {
        return Ok(None);
    };
    if d.shape != shape || d.dtype != dtype {
        return Ok(None);
    }
    // Not even the same array: the VM would read what it writes.
    let out_bytes = (d.at, d.at + d.bytes);
    let overlap = p.inputs.iter().filter_map(Input::array).any(|a| {
        let (lo, hi) = region_of(a);
        len > 0 && lo < out_bytes.1 && out_bytes.0 < hi
    });
    if overlap {
        return Ok(None);
    }
    let mapped = d.mapped.then_some(Region {
        lo: out_bytes.0,
        hi: out_bytes.1,
    });
    fn fill<T: vexpr::Element>(
        py: Python<'_>,
        expr: &vexpr::Expr,
        flat: &[Flat<'_>],
        d: &Direct,
        len: usize,
        mapped: Option<Region>,
    ) -> PyResult<bool> {
        if !d.at.is_multiple_of(std::mem::align_of::<T>()) || d.bytes != len * size_of::<T>() {
            return Ok(false);
        }
        let data = if len == 0 {
            std::ptr::NonNull::<T>::dangling().as_ptr()
        } else {
            d.at as *mut T
        };
        // SAFETY: `d` describes `out`'s memory: writeable (checked in
        // `plan`), C-contiguous, `len` elements of `T` (its dtype is the
        // result's, `T`; its size checked above), aligned for `T` (checked
        // above), kept alive by the caller for the run. No input's memory
        // overlaps it (checked by the caller), so nothing else refers to it
        // while the slice exists.
        let slice = unsafe { std::slice::from_raw_parts_mut(data, len) };
        flat_run(py, expr, flat, slice, mapped, false)?;
        Ok(true)
    }
    let done = match dtype {
        DType::Bool => fill::<bool>(py, expr, &flat, d, len, mapped),
        DType::Int32 => fill::<i32>(py, expr, &flat, d, len, mapped),
        DType::Int64 => fill::<i64>(py, expr, &flat, d, len, mapped),
        DType::Float32 => fill::<f32>(py, expr, &flat, d, len, mapped),
        DType::Float64 => fill::<f64>(py, expr, &flat, d, len, mapped),
        DType::Complex128 => fill::<vexpr::Complex64>(py, expr, &flat, d, len, mapped),
        DType::Bytes(_) => unreachable!("string results take the chunked path"),
    }?;
    Ok(done.then(|| out.clone()))
}

/// Fills `out` a chunk at a time from the flat inputs (see [`run_flat`]),
/// giving back the pages of mapped inputs (and of `out`, if `mapped`) after
/// each chunk.
fn flat_run<T: vexpr::Element>(
    py: Python<'_>,
    expr: &vexpr::Expr,
    flat: &[Flat<'_>],
    out: &mut [T],
    mapped: Option<Region>,
    cancellable: bool,
) -> PyResult<()> {
    let len = out.len();
    let page = sys::page_size();
    watched(py, len, cancellable, |opts| {
        let mut pages: Vec<Option<Pages>> = flat
            .iter()
            .map(|f| match f {
                Flat::Rows {
                    mapped: Some(r), ..
                } => Some(Pages::new(*r, page)),
                _ => None,
            })
            .collect();
        let mut out_pages = mapped.map(|r| Pages::new(r, page));
        let step = chunked::DEFAULT_CHUNK_LEN;
        let mut values: Vec<Value<'_>> = Vec::with_capacity(flat.len());
        let mut r0 = 0;
        while r0 < len {
            let r1 = (r0 + step).min(len);
            values.clear();
            for f in flat {
                values.push(match f {
                    Flat::Whole(v) => v.clone(),
                    Flat::Rows { bytes, format, .. } => {
                        let width = format.storage.itemsize();
                        let view = vexpr::ArrayView::from_bytes(
                            &bytes[r0 * width..r1 * width],
                            *format,
                            &[r1 - r0],
                            &[width as isize],
                            0,
                        )
                        .expect("a chunk lies inside its array");
                        Value::Array(view)
                    }
                });
            }
            expr.eval_into_positional(&values, &mut out[r0..r1], opts)?;
            for (f, p) in flat.iter().zip(&mut pages) {
                if let (Flat::Rows { bytes, format, .. }, Some(p)) = (f, p) {
                    let width = format.storage.itemsize();
                    let lo = bytes.as_ptr() as usize;
                    p.done(lo + r0 * width, lo + r1 * width, true);
                }
            }
            if let Some(p) = &mut out_pages {
                let lo = out.as_ptr() as usize;
                let width = size_of::<T>();
                p.done(lo + r0 * width, lo + r1 * width, false);
            }
            r0 = r1;
        }
        Ok(())
    })
}

/// The general case: the mapped inputs as [`Source`]s of
/// [`vexpr::Expr::eval_chunked`] (each run copied out of the mapping), any
/// expression (reductions, broadcasting, strings), the result into `out`
/// when it fits it, else into memory (then copied into `out`).
fn run_chunked<'py>(
    py: Python<'py>,
    p: &Prepared<'py, '_>,
    plan: Plan,
    out: Option<&Bound<'py, PyAny>>,
    casting: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let expr = p.expr;
    let mut values: Vec<Option<Value<'_>>> = Vec::with_capacity(p.inputs.len());
    let mut formats: Vec<Option<(Format, Vec<usize>)>> = Vec::with_capacity(p.inputs.len());
    let mut len_hint = 0usize;
    for (input, source) in p.inputs.iter().zip(&plan.sources) {
        if let Some(a) = input.array() {
            len_hint = len_hint.max(a.len());
        }
        match (input, source) {
            (Input::Array(a, format), Some(_)) => {
                values.push(None);
                formats.push(Some((*format, a.shape().to_vec())));
            }
            _ => {
                values.push(Some(input.value(None)?));
                formats.push(None);
            }
        }
    }
    if let Some(d) = &plan.direct {
        len_hint = len_hint.max(d.shape.iter().product());
    }
    // With `out`, the run finishes before Ctrl-C raises, so that `out` is
    // never half written (as on the ordinary path).
    let cancellable = out.is_none();
    let page = sys::page_size();
    let result = watched(py, len_hint, cancellable, |opts| {
        let mut sources: Vec<Option<MappedSource>> = plan
            .sources
            .iter()
            .zip(&formats)
            .map(|(region, format)| match (region, format) {
                (Some(r), Some((format, shape))) => Some(MappedSource {
                    region: *r,
                    format: *format,
                    shape: shape.clone(),
                    pages: Pages::new(*r, page),
                }),
                _ => None,
            })
            .collect();
        let mut inputs: Vec<chunked::Input<'_>> = sources
            .iter_mut()
            .zip(&values)
            .map(|(source, value)| match (source, value) {
                (Some(s), _) => chunked::Input::Source(s),
                (None, Some(v)) => chunked::Input::Value(v.clone()),
                (None, None) => unreachable!("an input is a source or a value"),
            })
            .collect();
        let mut sink = ResultSink {
            direct: plan.direct.clone(),
            pages: None,
            written: 0,
            memory: None,
            page,
        };
        expr.eval_chunked(&mut inputs, &mut sink, opts, Chunking::default())?;
        Ok(sink.memory.map(MemorySink::into_array))
    })?;
    match result {
        // Written into `out`.
        None => Ok(out.expect("a direct run has `out`").clone()),
        Some(array) => {
            let array = array.ok_or_else(|| {
                pyo3::exceptions::PyRuntimeError::new_err("the chunked evaluation gave no result")
            })?;
            let result = adopt(py, array)?;
            match out {
                None => Ok(result),
                Some(out) => crate::run::copy_into(py, out, &result, casting),
            }
        }
    }
}

/// The pages of a region that a run has finished with, given back to the
/// kernel as it goes.
struct Pages {
    region: Region,
    page: usize,
    /// Pages below this address (and at or above the region's first page)
    /// are given back, unless read again since.
    dropped: usize,
}

impl Pages {
    fn new(region: Region, page: usize) -> Pages {
        Pages {
            region,
            page,
            dropped: floor(region.lo, page),
        }
    }

    /// Bytes `at..end` of the region have been read or written: gives back
    /// the whole pages before `end` (through the last, partial one at the
    /// region's end), and asks the kernel to read ahead the next `end - at`
    /// bytes when reading.
    fn done(&mut self, at: usize, end: usize, ahead: bool) {
        let page = self.page;
        if at < self.dropped {
            // Read again: a new pass (a reduction's), or a broadcast input.
            self.dropped = floor(at, page);
        }
        let last = ceil(self.region.hi, page);
        let upto = if end >= self.region.hi {
            last
        } else {
            floor(end, page)
        };
        if upto > self.dropped {
            // SAFETY (of the call, see `sys::advise`): `dropped..upto` is
            // page-aligned and lies within the pages of the region
            // (`floor(lo)..ceil(hi)`), all of which belong to shared file
            // mappings (checked in `plan` through /proc/self/maps; mappings
            // are page-aligned, so the pages holding the region's first and
            // last bytes are inside them), which stay mapped for the run
            // (the array holding the memory is kept alive by the caller).
            // Views of these pages may still be alive (the flat path's
            // chunk views, `out`'s slice): the advice leaves the bytes they
            // read unchanged, so they stay valid.
            sys::drop_pages(self.dropped, upto - self.dropped);
            self.dropped = upto;
        }
        if ahead && upto < last {
            let next = ceil(end.saturating_add(end - at), page).min(last);
            if next > upto {
                sys::read_ahead(upto, next - upto);
            }
        }
    }
}

fn floor(address: usize, page: usize) -> usize {
    address / page * page
}

fn ceil(address: usize, page: usize) -> usize {
    address.div_ceil(page) * page
}

/// An input in a shared file mapping, read a run at a time.
struct MappedSource {
    region: Region,
    format: Format,
    shape: Vec<usize>,
    pages: Pages,
}

impl Source for MappedSource {
    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn format(&self) -> Format {
        self.format
    }

    fn read_at(&mut self, start: usize, buf: &mut [u8]) -> std::io::Result<()> {
        let width = self.format.storage.itemsize();
        let region = self.region;
        let at = start
            .checked_mul(width)
            .and_then(|b| region.lo.checked_add(b))
            .filter(|&at| at <= region.hi)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        let end = at
            .checked_add(buf.len())
            .filter(|&end| end <= region.hi)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        // SAFETY: `at..end` lies within the array's memory (`region`, checked
        // above), which NumPy keeps alive while the array is, and the caller
        // keeps the array for the whole run; `buf` is our own buffer, so the
        // two do not overlap. Another Python thread may write the array while
        // it is copied (as with the ordinary path): the values copied are
        // then unspecified, never out of bounds.
        unsafe {
            std::ptr::copy_nonoverlapping(at as *const u8, buf.as_mut_ptr(), buf.len());
        }
        self.pages.done(at, end, true);
        Ok(())
    }
}

/// Where the result goes: straight into `out` (when it has the result's
/// shape and type), else into memory.
struct ResultSink {
    direct: Option<Direct>,
    /// `out`'s pages to give back after writing them (a shared file mapping).
    pages: Option<Pages>,
    /// Bytes written into `out`.
    written: usize,
    /// The result in memory, when it does not go into `out`.
    memory: Option<MemorySink>,
    page: usize,
}

impl Sink for ResultSink {
    fn start(&mut self, shape: &[usize], dtype: DType, fortran_order: bool) -> std::io::Result<()> {
        let fits = self
            .direct
            .as_ref()
            .is_some_and(|d| !fortran_order && d.shape == shape && d.dtype == dtype);
        if fits {
            let d = self.direct.as_ref().expect("checked above");
            self.pages = d.mapped.then(|| {
                Pages::new(
                    Region {
                        lo: d.at,
                        hi: d.at + d.bytes,
                    },
                    self.page,
                )
            });
            self.written = 0;
            return Ok(());
        }
        self.direct = None;
        let mut memory = MemorySink::default();
        memory.start(shape, dtype, fortran_order)?;
        self.memory = Some(memory);
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(memory) = &mut self.memory {
            return memory.write(bytes);
        }
        let Some(d) = &self.direct else {
            return Err(std::io::Error::other("write before start"));
        };
        let end = self
            .written
            .checked_add(bytes.len())
            .filter(|&end| end <= d.bytes)
            .ok_or_else(|| std::io::Error::other("more elements than `out` holds"))?;
        let at = d.at + self.written;
        // SAFETY: `at..at + bytes.len()` lies within `out`'s memory (checked
        // above against its size), which is writeable and kept alive by the
        // caller for the run. No view of it exists during the run: `plan`
        // sends any input overlapping `out` down the copying path, except the
        // same array read as a source, which copies each run out before the
        // same run of the result is written here (chunks go in order).
        // `bytes` is the run's own chunk buffer, not `out`.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, bytes.len());
        }
        self.written = end;
        if let Some(pages) = &mut self.pages {
            pages.done(at, d.at + end, false);
        }
        Ok(())
    }
}

/// The system calls: Linux only.
#[cfg(target_os = "linux")]
mod sys {
    use std::io::{BufRead, BufReader};

    pub const SUPPORTED: bool = true;

    pub fn page_size() -> usize {
        // SAFETY: sysconf only reads a system setting.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(4096)
    }

    /// For each byte range, whether it lies wholly in shared mappings of
    /// files (`/proc/self/maps` lines with an `s` in their permissions and a
    /// path). On any failure to read the table, none does.
    pub fn in_shared_file_mappings(ranges: &[(usize, usize)]) -> Vec<bool> {
        let mut mappings: Vec<(usize, usize, bool)> = Vec::new();
        let Ok(file) = std::fs::File::open("/proc/self/maps") else {
            return vec![false; ranges.len()];
        };
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else {
                return vec![false; ranges.len()];
            };
            if let Some(m) = parse(&line) {
                mappings.push(m);
            }
        }
        ranges
            .iter()
            .map(|&(lo, hi)| covered(&mappings, lo, hi))
            .collect()
    }

    /// One line of `/proc/self/maps`: `start-end perms offset dev inode
    /// path`, as (start, end, shared file mapping).
    fn parse(line: &str) -> Option<(usize, usize, bool)> {
        let mut fields = line.split_ascii_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        let perms = fields.next()?.as_bytes();
        let (_offset, _dev, inode) = (fields.next()?, fields.next()?, fields.next()?);
        let path = fields.next().unwrap_or("");
        let shared = perms.get(3) == Some(&b's') && inode != "0" && path.starts_with('/');
        Some((start, end, shared))
    }

    /// Whether `lo..hi` lies in consecutive shared file mappings (sorted by
    /// address, as the kernel lists them).
    fn covered(mappings: &[(usize, usize, bool)], lo: usize, hi: usize) -> bool {
        let mut at = lo;
        for &(start, end, shared) in mappings {
            if end <= at {
                continue;
            }
            if start > at || !shared {
                return false;
            }
            at = end;
            if at >= hi {
                return true;
            }
        }
        false
    }

    /// `madvise(MADV_DONTNEED)`: the pages leave the resident set.
    ///
    /// The caller guarantees that `at..at + len` is page-aligned and lies in
    /// live shared file mappings, where the advice changes no contents (the
    /// pages stay in the page cache, written ones dirty, and are mapped again
    /// on the next access). A failure (a locked mapping) leaves them
    /// resident, which only costs memory: it is ignored.
    pub fn drop_pages(at: usize, len: usize) {
        // SAFETY: as above: on a shared file mapping the advice neither
        // frees nor changes memory that any reference points to.
        unsafe {
            libc::madvise(at as *mut libc::c_void, len, libc::MADV_DONTNEED);
        }
    }

    /// `madvise(MADV_WILLNEED)`: the kernel starts reading the pages into
    /// its page cache (without mapping them). Same range conditions as
    /// [`drop_pages`]; a failure is ignored (it is only a hint).
    pub fn read_ahead(at: usize, len: usize) {
        // SAFETY: the advice only starts reads into the page cache; it
        // changes no memory.
        unsafe {
            libc::madvise(at as *mut libc::c_void, len, libc::MADV_WILLNEED);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    pub const SUPPORTED: bool = false;

    pub fn page_size() -> usize {
        4096
    }

    pub fn in_shared_file_mappings(ranges: &[(usize, usize)]) -> Vec<bool> {
        vec![false; ranges.len()]
    }

    pub fn drop_pages(_at: usize, _len: usize) {}

    pub fn read_ahead(_at: usize, _len: usize) {}
}
