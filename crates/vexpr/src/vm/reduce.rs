//! Reductions: an array in, its `sum`, `prod`, `min` or `max` over all
//! elements or along one axis out, with NumPy's semantics.
//!
//! Result types: `sum` and `prod` accumulate booleans and integers in int64
//! and floats in their own type; `min` and `max` keep the type and propagate
//! NaN. `sum`/`prod` of nothing are 0 and 1; `min`/`max` of nothing are errors.
//!
//! Reproducibility: the order of every float operation is fixed by the data's
//! shape alone, never by the thread count. A full float sum is a pairwise sum
//! within chunks of [`CHUNK`] elements, and the chunk sums are added pairwise
//! in chunk order; threads only decide which chunks are summed where.
//!
//! A C-contiguous typed view is read in place; any other (strided, or stored
//! bytes converted as they are read) is first copied into C order in its
//! dtype. An interrupt flag is checked between chunks.

use crate::array::{Array, ArrayView, Buffer, Data};
use crate::dtype::DType;
// Named with the function table, below every stage that names a reduction.
use crate::functions::Reduction;
use crate::kernels::arith::{maximum_f32, maximum_f64, minimum_f32, minimum_f64};
use num_complex::Complex64;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Elements summed pairwise as one unit of a full reduction.
pub const CHUNK: usize = 4096;

/// Reductions of fewer elements run on the calling thread.
#[cfg(not(miri))]
pub(crate) const PARALLEL_REDUCTION_LEN: usize = 16 * CHUNK;
/// Under Miri, lower, so that its data race checks reach the parallel sums in
/// minutes (the chunks, and so the result, stay the same).
#[cfg(miri)]
pub(crate) const PARALLEL_REDUCTION_LEN: usize = 2 * CHUNK;

/// Why a reduction gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReduceError {
    /// The operand or axis is refused, for this reason (a message starting
    /// with "axis" is about the axis).
    Refused(String),
    /// The interrupt flag was set.
    Interrupted,
}

impl From<String> for ReduceError {
    fn from(message: String) -> ReduceError {
        ReduceError::Refused(message)
    }
}

/// Reduces `view` over all elements (`axis == None`) or along `axis`,
/// checking `interrupt` between chunks.
pub(crate) fn reduce(
    view: &ArrayView<'_>,
    op: Reduction,
    axis: Option<usize>,
    threads: usize,
    interrupt: Option<&AtomicBool>,
) -> Result<Array, ReduceError> {
    let Geometry {
        outer,
        length,
        inner,
        out_shape,
    } = geometry(view.shape(), view.dtype(), op, axis)?;
    let lanes = Lanes {
        outer,
        length,
        inner,
        threads,
        interrupt,
        stopped: AtomicBool::new(false),
    };
    // Read a C-contiguous typed view in place; copy anything else into C
    // order (converting stored elements) once.
    let copy;
    let data = match view.data() {
        Some(data) if view.is_c_contiguous() => slice_of(view, data),
        _ => {
            copy = contiguous(view, &lanes)?;
            copy.buffer().data()
        }
    };
    let buffer = match data {
        Data::Bool(v) => {
            let v = widened(v, i64::from)?;
            match op {
                Reduction::Min => Buffer::Bool(
                    lanes
                        .run::<_, Least>(&v, i64::MAX)
                        .into_iter()
                        .map(|x| x != 0)
                        .collect(),
                ),
                Reduction::Max => Buffer::Bool(
                    lanes
                        .run::<_, Greatest>(&v, i64::MIN)
                        .into_iter()
                        .map(|x| x != 0)
                        .collect(),
                ),
                _ => Buffer::Int64(int_reduce(&lanes, &v, op)),
            }
        }
        Data::Int32(v) => match op {
            Reduction::Min => Buffer::Int32(lanes.run::<_, Least>(v, i32::MAX)),
            Reduction::Max => Buffer::Int32(lanes.run::<_, Greatest>(v, i32::MIN)),
            _ => Buffer::Int64(int_reduce(&lanes, &widened(v, i64::from)?, op)),
        },
        Data::Int64(v) => match op {
            Reduction::Min => Buffer::Int64(lanes.run::<_, Least>(v, i64::MAX)),
            Reduction::Max => Buffer::Int64(lanes.run::<_, Greatest>(v, i64::MIN)),
            _ => Buffer::Int64(int_reduce(&lanes, v, op)),
        },
        Data::Float32(v) => Buffer::Float32(match op {
            Reduction::Sum => lanes.sum::<_, Add>(v, 0.0),
            Reduction::Prod => lanes.run::<_, Mul>(v, 1.0),
            Reduction::Min => lanes.run::<_, Least>(v, f32::INFINITY),
            Reduction::Max => lanes.run::<_, Greatest>(v, f32::NEG_INFINITY),
        }),
        Data::Float64(v) => Buffer::Float64(match op {
            Reduction::Sum => lanes.sum::<_, Add>(v, 0.0),
            Reduction::Prod => lanes.run::<_, Mul>(v, 1.0),
            Reduction::Min => lanes.run::<_, Least>(v, f64::INFINITY),
            Reduction::Max => lanes.run::<_, Greatest>(v, f64::NEG_INFINITY),
        }),
        Data::Complex128(v) => Buffer::Complex128(match op {
            Reduction::Sum => lanes.sum::<_, Add>(v, Complex64::new(0.0, 0.0)),
            Reduction::Prod => lanes.run::<_, Mul>(v, Complex64::new(1.0, 0.0)),
            _ => return Err(format!("`{}` is not defined for complex128", op.name()).into()),
        }),
        Data::Bytes { .. } => {
            return Err(format!("`{}` is not defined for strings", op.name()).into());
        }
    };
    // Chunks skipped after the flag was seen left the result incomplete
    // (whatever the flag says now: a caller may have cleared it meanwhile).
    if lanes.stopped.load(Ordering::Relaxed) {
        return Err(ReduceError::Interrupted);
    }
    Array::from_buffer(buffer, &out_shape)
        .map_err(|e| ReduceError::Refused(e.message().to_string()))
}

/// A reduction's layout: `outer` independent groups, each reducing `length`
/// rows of `inner` contiguous lanes, into an array of `out_shape`.
pub(super) struct Geometry {
    pub outer: usize,
    pub length: usize,
    pub inner: usize,
    pub out_shape: Vec<usize>,
}

/// The shape of reducing an array of `shape` along `axis` (all of it for
/// `None`), or why the reduction is refused, as the reduction itself would
/// say it: known before any element is computed.
pub(crate) fn reduced_shape(
    shape: &[usize],
    dtype: DType,
    op: Reduction,
    axis: Option<usize>,
) -> Result<Vec<usize>, ReduceError> {
    geometry(shape, dtype, op, axis).map(|g| g.out_shape)
}

/// The layout of reducing an array of `shape` along `axis` (all of it for
/// `None`), or why the reduction is refused: an axis out of bounds, a shape
/// too large to count, `min`/`max` of nothing.
pub(super) fn geometry(
    shape: &[usize],
    dtype: DType,
    op: Reduction,
    axis: Option<usize>,
) -> Result<Geometry, ReduceError> {
    if let Some(axis) = axis
        && axis >= shape.len()
    {
        return Err(ReduceError::Refused(format!(
            "axis {axis} is out of bounds for an array of dimension {}",
            shape.len()
        )));
    }
    // A stride-0 view can describe more elements than a usize counts. Once the
    // shape passes NumPy's size rule, every partial product of it below
    // (`outer`, `inner`, the count) fits as well.
    let Some(count) = crate::array::checked_size(shape, dtype.itemsize()) else {
        return Err(ReduceError::Refused(format!(
            "cannot reduce an array of shape {shape:?}: its size in bytes overflows the address space"
        )));
    };
    let geometry = match axis {
        None => Geometry {
            outer: 1,
            length: count,
            inner: 1,
            out_shape: Vec::new(),
        },
        Some(k) => {
            let mut out_shape = shape.to_vec();
            out_shape.remove(k);
            Geometry {
                outer: shape[..k].iter().product(),
                length: shape[k],
                inner: shape[k + 1..].iter().product(),
                out_shape,
            }
        }
    };
    if geometry.length == 0 && matches!(op, Reduction::Min | Reduction::Max) {
        return Err(ReduceError::Refused(format!(
            "zero-size array to reduction operation {} which has no identity",
            op.name()
        )));
    }
    Ok(geometry)
}

/// `v` converted to int64, the accumulator type, or an error if the copy
/// (8 bytes an element) cannot be had: an input that fits may still not fit
/// eight times over.
fn widened<T: Copy>(v: &[T], f: impl Fn(T) -> i64) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    out.try_reserve_exact(v.len())
        .map_err(|_| format!("cannot allocate {} int64 values to reduce", v.len()))?;
    out.extend(v.iter().map(|&x| f(x)));
    Ok(out)
}

fn int_reduce(lanes: &Lanes, v: &[i64], op: Reduction) -> Vec<i64> {
    match op {
        Reduction::Sum => lanes.run::<_, Add>(v, 0),
        _ => lanes.run::<_, Mul>(v, 1),
    }
}

/// The elements of a C-contiguous typed view, as a slice of its `data`.
fn slice_of<'a>(view: &ArrayView<'a>, data: Data<'a>) -> Data<'a> {
    data.slice(view.offset(), view.offset() + view.len())
}

/// The view's elements in C order, copied (and converted to the view's
/// dtype), a chunk at a time so that the copy can be interrupted.
fn contiguous(view: &ArrayView<'_>, lanes: &Lanes) -> Result<Array, ReduceError> {
    let dtype = view.dtype();
    let width = dtype.itemsize();
    let n = view.len();
    let refused = || format!("cannot allocate a copy of {n} elements to reduce");
    let mut buffer = Buffer::try_zeros(dtype, n).ok_or_else(refused)?;
    if n > 0 && width > 0 {
        let out = buffer.as_bytes_mut();
        let gather = super::Gather::of_view(view, view.shape()).ok_or_else(refused)?;
        const STEP: usize = 16 * CHUNK;
        for (k, part) in out.chunks_mut(STEP * width).enumerate() {
            if lanes.stop() {
                return Err(ReduceError::Interrupted);
            }
            gather.gather(k * STEP, part.len() / width, part);
        }
    }
    // Cannot fail: `try_zeros` made the shape's element count, and a view of
    // zero-width strings has no elements (`ArrayView` refuses any other), so
    // the count is not lost to a zero width.
    Ok(Array::from_buffer(buffer, view.shape()).expect("the buffer was made for the shape"))
}

/// The reduction geometry: `outer` independent groups, each reducing `length`
/// rows of `inner` contiguous lanes; and the interrupt flag its loops check.
struct Lanes<'f> {
    outer: usize,
    length: usize,
    inner: usize,
    threads: usize,
    interrupt: Option<&'f AtomicBool>,
    /// Set when a chunk was skipped because of `interrupt`: the result is
    /// then incomplete.
    stopped: AtomicBool,
}

/// Rows of an axis reduction folded between two checks of the flag.
const ROWS_PER_CHECK: usize = 64;

impl Lanes<'_> {
    /// True (and noted in `stopped`) once the interrupt flag is set: the
    /// caller skips its chunk.
    fn stop(&self) -> bool {
        let stop = super::is_set(self.interrupt);
        if stop {
            self.stopped.store(true, Ordering::Relaxed);
        }
        stop
    }

    /// Reduces each lane front to back with `O` (`identity` for empty lanes).
    fn run<T: Copy + Send + Sync, O: Fold<T>>(&self, v: &[T], identity: T) -> Vec<T> {
        if self.outer * self.inner == 1 && self.length > CHUNK {
            // One long lane: fold it chunk by chunk, then fold the chunk results in
            // order. The chunking depends on the length only, so a float product
            // comes out the same on any number of threads.
            let chunk = |c: &[T]| {
                if self.stop() {
                    identity
                } else {
                    fold::<T, O>(c)
                }
            };
            let partials: Vec<T> = if self.threads > 1 {
                v.par_chunks(CHUNK).map(chunk).collect()
            } else {
                v.chunks(CHUNK).map(chunk).collect()
            };
            return vec![fold::<T, O>(&partials)];
        }
        let mut out = vec![identity; self.outer * self.inner];
        // Each lane starts from its first element and folds NumPy's
        // maximum/minimum into it, so NaN and signed zeros come out as NumPy's.
        let group = |(o, out): (usize, &mut [T])| {
            let base = o * self.length * self.inner;
            if self.length > 0 {
                out.copy_from_slice(&v[base..base + self.inner]);
            }
            for l in 1..self.length {
                if l % ROWS_PER_CHECK == 1 && self.stop() {
                    return;
                }
                fold_row::<T, O>(out, &v[base + l * self.inner..base + (l + 1) * self.inner]);
            }
        };
        if self.threads > 1 && v.len() >= 4 * CHUNK && self.outer > 1 {
            out.par_chunks_mut(self.inner.max(1))
                .enumerate()
                .for_each(group);
        } else {
            out.chunks_mut(self.inner.max(1))
                .enumerate()
                .for_each(group);
        }
        out
    }

    /// Sums each lane: pairwise for a lane along contiguous memory, front to
    /// back across rows otherwise (as NumPy does).
    fn sum<T: Copy + Send + Sync, O: Fold<T>>(&self, v: &[T], zero: T) -> Vec<T> {
        if self.inner != 1 {
            return self.run::<T, O>(v, zero);
        }
        let lane = |o: usize| {
            chunked_sum::<T, O>(
                &v[o * self.length..(o + 1) * self.length],
                zero,
                // Threads only pay off on long lanes; the result is the same either way.
                self.threads > 1 && self.outer == 1 && self.length >= PARALLEL_REDUCTION_LEN,
                &|| self.stop(),
            )
        };
        if self.outer > 1 && self.threads > 1 && v.len() >= 4 * CHUNK {
            (0..self.outer).into_par_iter().map(lane).collect()
        } else {
            (0..self.outer).map(lane).collect()
        }
    }
}

/// Pairwise sum of each CHUNK, then of the chunk sums, in order; a chunk
/// is skipped (summed as zero) once `stop` says so.
fn chunked_sum<T: Copy + Send + Sync, O: Fold<T>>(
    v: &[T],
    zero: T,
    parallel: bool,
    stop: &(dyn Fn() -> bool + Sync),
) -> T {
    let chunk = |c: &[T]| {
        if stop() {
            zero
        } else {
            pairwise::<T, O>(c, zero)
        }
    };
    if v.len() <= CHUNK {
        return chunk(v);
    }
    let partials: Vec<T> = if parallel {
        v.par_chunks(CHUNK).map(chunk).collect()
    } else {
        v.chunks(CHUNK).map(chunk).collect()
    };
    pairwise::<T, O>(&partials, zero)
}

/// A reduction's operation on one element type, as a type of its own: every
/// fold of `O` over `T` then runs one compiled copy of [`fold`],
/// [`fold_row`] and [`pairwise`], and a reduction fed in pieces
/// (`reduce_chunked.rs`) gives the bits of [`reduce`], down to which NaN a
/// sum of two different NaNs gives (which the compiler's choice of operand
/// order would otherwise decide).
pub(super) trait Fold<T>: Copy + Send + Sync {
    fn apply(a: T, b: T) -> T;
}

/// `sum`'s operation (wrapping for integers).
#[derive(Debug, Clone, Copy)]
pub(super) struct Add;
/// `prod`'s operation (wrapping for integers).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mul;
/// `min`'s operation (NaN-propagating for floats, as NumPy's).
#[derive(Debug, Clone, Copy)]
pub(super) struct Least;
/// `max`'s operation (NaN-propagating for floats, as NumPy's).
#[derive(Debug, Clone, Copy)]
pub(super) struct Greatest;

macro_rules! folds {
    ($t:ty: $add:expr, $mul:expr, $least:expr, $greatest:expr) => {
        impl Fold<$t> for Add {
            #[inline(always)]
            fn apply(a: $t, b: $t) -> $t {
                $add(a, b)
            }
        }
        impl Fold<$t> for Mul {
            #[inline(always)]
            fn apply(a: $t, b: $t) -> $t {
                $mul(a, b)
            }
        }
        impl Fold<$t> for Least {
            #[inline(always)]
            fn apply(a: $t, b: $t) -> $t {
                $least(a, b)
            }
        }
        impl Fold<$t> for Greatest {
            #[inline(always)]
            fn apply(a: $t, b: $t) -> $t {
                $greatest(a, b)
            }
        }
    };
}
folds!(i32: i32::wrapping_add, i32::wrapping_mul, Ord::min, Ord::max);
folds!(i64: i64::wrapping_add, i64::wrapping_mul, Ord::min, Ord::max);
folds!(f32: |a, b| a + b, |a, b| a * b, minimum_f32, maximum_f32);
folds!(f64: |a, b| a + b, |a, b| a * b, minimum_f64, maximum_f64);

impl Fold<Complex64> for Add {
    #[inline(always)]
    fn apply(a: Complex64, b: Complex64) -> Complex64 {
        a + b
    }
}
impl Fold<Complex64> for Mul {
    #[inline(always)]
    fn apply(a: Complex64, b: Complex64) -> Complex64 {
        a * b
    }
}

/// `c` folded front to back from its first element (`c` is not empty).
#[inline(never)]
pub(super) fn fold<T: Copy, O: Fold<T>>(c: &[T]) -> T {
    c[1..].iter().fold(c[0], |a, &x| O::apply(a, x))
}

/// Folds `row` into `acc`, element by element.
#[inline(never)]
pub(super) fn fold_row<T: Copy, O: Fold<T>>(acc: &mut [T], row: &[T]) {
    for (a, &x) in acc.iter_mut().zip(row) {
        *a = O::apply(*a, x);
    }
}

/// Pairwise summation, as NumPy does it: up to 128 elements are added into 8
/// interleaved partial sums (which vectorize) combined pairwise; longer runs are
/// halved recursively. The error grows with log(n), not n.
#[inline(never)]
pub(super) fn pairwise<T: Copy, O: Fold<T>>(v: &[T], zero: T) -> T {
    let add = O::apply;
    const LEAF: usize = 128;
    if v.len() < 8 {
        return v.iter().fold(zero, |a, &x| add(a, x));
    }
    if v.len() <= LEAF {
        let mut acc = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
        let body = (v.len() / 8) * 8;
        for chunk in v[8..body].chunks_exact(8) {
            for (a, &x) in acc.iter_mut().zip(chunk) {
                *a = add(*a, x);
            }
        }
        let low = add(add(acc[0], acc[1]), add(acc[2], acc[3]));
        let high = add(add(acc[4], acc[5]), add(acc[6], acc[7]));
        let mut sum = add(low, high);
        for &x in &v[body..] {
            sum = add(sum, x);
        }
        return sum;
    }
    // Split on a multiple of 8 so that the leaves stay full.
    let half = (v.len() / 2).div_ceil(8) * 8;
    let (l, r) = v.split_at(half);
    add(pairwise::<T, O>(l, zero), pairwise::<T, O>(r, zero))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64s(a: &Array) -> Vec<f64> {
        a.as_slice::<f64>().unwrap().to_vec()
    }

    #[test]
    fn sums_along_each_axis() {
        let m = Array::from_vec((0..6).map(f64::from).collect::<Vec<_>>(), &[2, 3]).unwrap();
        let v = m.view();
        assert_eq!(
            f64s(&reduce(&v, Reduction::Sum, None, 1, None).unwrap()),
            [15.0]
        );
        assert_eq!(
            f64s(&reduce(&v, Reduction::Sum, Some(0), 1, None).unwrap()),
            [3.0, 5.0, 7.0]
        );
        assert_eq!(
            f64s(&reduce(&v, Reduction::Sum, Some(1), 1, None).unwrap()),
            [3.0, 12.0]
        );
        assert_eq!(
            f64s(&reduce(&v, Reduction::Max, Some(0), 1, None).unwrap()),
            [3.0, 4.0, 5.0]
        );
        assert!(reduce(&v, Reduction::Sum, Some(2), 1, None).is_err());
    }

    #[test]
    fn full_sums_do_not_depend_on_threads() {
        // Past the parallel threshold, with a short last chunk.
        let n = PARALLEL_REDUCTION_LEN + CHUNK / 2 + 3;
        let v: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
        let a = Array::from_vec(v, &[n]).unwrap();
        let one = reduce(&a.view(), Reduction::Sum, None, 1, None).unwrap();
        for threads in 2..5 {
            assert_eq!(
                one,
                reduce(&a.view(), Reduction::Sum, None, threads, None).unwrap()
            );
        }
    }

    #[test]
    fn empty_and_nan_follow_numpy() {
        let e = Array::from_vec(Vec::<f64>::new(), &[0]).unwrap();
        assert_eq!(
            f64s(&reduce(&e.view(), Reduction::Sum, None, 1, None).unwrap()),
            [0.0]
        );
        assert_eq!(
            f64s(&reduce(&e.view(), Reduction::Prod, None, 1, None).unwrap()),
            [1.0]
        );
        assert!(reduce(&e.view(), Reduction::Min, None, 1, None).is_err());
        let n = Array::from_vec(vec![1.0, f64::NAN, -1.0], &[3]).unwrap();
        assert!(f64s(&reduce(&n.view(), Reduction::Min, None, 1, None).unwrap())[0].is_nan());
        let i = Array::from_vec(vec![i32::MAX, 1], &[2]).unwrap();
        assert_eq!(
            reduce(&i.view(), Reduction::Sum, None, 1, None)
                .unwrap()
                .as_slice::<i64>()
                .unwrap(),
            [i64::from(i32::MAX) + 1]
        );
    }
}
