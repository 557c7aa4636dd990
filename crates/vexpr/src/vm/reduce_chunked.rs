//! Reductions fed in pieces: the results of [`super::reduce`], bit for bit,
//! from an operand that arrives a piece at a time.
//!
//! In: the operand's shape and dtype, the reduction and its axis; then the
//! operand's elements in C order, in pieces of any lengths. Out: the reduced
//! array. This is what a chunked evaluation
//! ([`Expr::eval_chunked`](crate::Expr::eval_chunked)) does with a reduction
//! whose operand is larger than memory.
//!
//! Every float operation happens in [`super::reduce`]'s order, which the
//! shape alone fixes: a sum along contiguous lanes is pairwise within each
//! [`CHUNK`] of a lane and then pairwise over the chunk sums; one lane longer
//! than a chunk is folded chunk by chunk and the chunk results folded; any
//! other lane is folded front to back from its first element. So only the
//! accumulators are kept: the result itself, the current chunk of a summed
//! lane, and one partial result per chunk of the current lane (for a
//! reduction over all elements, one value per [`CHUNK`] elements of the
//! operand).

use super::reduce::{
    Add, CHUNK, Fold, Geometry, Greatest, Least, Mul, ReduceError, fold, fold_row, geometry,
    pairwise,
};
use crate::array::{Array, Buffer, Data};
use crate::dtype::DType;
use crate::functions::Reduction;
use num_complex::Complex64;

/// A reduction in progress.
pub(crate) struct ChunkedReduction {
    dtype: DType,
    op: Reduction,
    out_shape: Vec<usize>,
    accumulator: Accumulator,
}

/// The accumulators, in the type [`super::reduce`] computes in: booleans and
/// integers in int64 (exact, whatever the order), floats and complex numbers
/// in their own type.
enum Accumulator {
    Int(Lanes<i64>),
    Float32(Lanes<f32>),
    Float64(Lanes<f64>),
    Complex(Lanes<Complex64>),
}

/// How the lanes are folded (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// A float or complex sum along contiguous lanes (`inner == 1`).
    Pairwise,
    /// One lane longer than [`CHUNK`], neither summed pairwise.
    Chunked,
    /// Each lane folded front to back.
    Rows,
}

/// The fold of every lane of one element type.
struct Lanes<T> {
    mode: Mode,
    length: usize,
    inner: usize,
    /// The compiled folds of the reduction's [`Fold`] that [`super::reduce`]
    /// calls too (see [`Fold`] for why the very same ones).
    pairwise: fn(&[T], T) -> T,
    fold: fn(&[T]) -> T,
    fold_row: fn(&mut [T], &[T]),
    zero: T,
    /// One value per lane: the result.
    result: Vec<T>,
    /// The current lane's chunk results (`Pairwise`, `Chunked`).
    partials: Vec<T>,
    /// The elements of the current chunk (`Pairwise`, `Chunked`) or row
    /// (`Rows`) received so far, when a piece ended inside it.
    staged: Vec<T>,
    /// Elements fed so far.
    seen: usize,
}

impl<T: Copy + Send + Sync> Lanes<T> {
    fn new<O: Fold<T>>(mode: Mode, geometry: &Geometry, zero: T, identity: T) -> Lanes<T> {
        let mode = match mode {
            Mode::Pairwise if geometry.inner == 1 => Mode::Pairwise,
            _ if geometry.outer * geometry.inner == 1 && geometry.length > CHUNK => Mode::Chunked,
            _ => Mode::Rows,
        };
        Lanes {
            mode,
            length: geometry.length,
            inner: geometry.inner,
            pairwise: pairwise::<T, O>,
            fold: fold::<T, O>,
            fold_row: fold_row::<T, O>,
            zero,
            result: vec![identity; geometry.outer * geometry.inner],
            partials: Vec::new(),
            staged: Vec::new(),
            seen: 0,
        }
    }

    /// The unit of work the next element falls in: a chunk of a lane
    /// (`Pairwise`, `Chunked`) or a row (`Rows`), as (elements of it already
    /// received, its length).
    fn unit(&self) -> (usize, usize) {
        match self.mode {
            Mode::Pairwise => {
                let in_lane = self.seen % self.length;
                let at = in_lane % CHUNK;
                (at, CHUNK.min(self.length - (in_lane - at)))
            }
            Mode::Chunked => {
                let at = self.seen % CHUNK;
                (at, CHUNK.min(self.length - (self.seen - at)))
            }
            Mode::Rows => (self.seen % self.inner, self.inner),
        }
    }

    /// Folds the next elements, in C order, into the lanes: each unit whole,
    /// straight from `xs` when a piece holds all of it, else once its
    /// elements are gathered in `staged` across pieces.
    fn feed(&mut self, mut xs: &[T]) {
        while !xs.is_empty() {
            let (at, len) = self.unit();
            let take = xs.len().min(len - at);
            let (head, rest) = xs.split_at(take);
            xs = rest;
            let start = self.seen - at;
            if at == 0 && take == len {
                self.complete(start, head);
            } else {
                self.staged.extend_from_slice(head);
                if self.staged.len() == len {
                    let staged = std::mem::take(&mut self.staged);
                    self.complete(start, &staged);
                    self.staged = staged;
                    self.staged.clear();
                }
            }
            self.seen += take;
        }
    }

    /// Folds in the unit of `values` that starts at element `start`.
    fn complete(&mut self, start: usize, values: &[T]) {
        match self.mode {
            Mode::Pairwise => {
                self.partials.push((self.pairwise)(values, self.zero));
                if (start % self.length) + values.len() == self.length {
                    // `chunked_sum`: one chunk is its own sum; more are
                    // summed pairwise (`pairwise` of one value would add it
                    // to zero, turning -0.0 into 0.0).
                    self.result[start / self.length] = match self.partials.as_slice() {
                        [one] => *one,
                        many => (self.pairwise)(many, self.zero),
                    };
                    self.partials.clear();
                }
            }
            Mode::Chunked => self.partials.push((self.fold)(values)),
            Mode::Rows => {
                let row = start / self.inner;
                let (group, l) = (row / self.length, row % self.length);
                let acc = &mut self.result[group * self.inner..(group + 1) * self.inner];
                if l == 0 {
                    acc.copy_from_slice(values);
                } else {
                    (self.fold_row)(acc, values);
                }
            }
        }
    }

    /// The result of every lane.
    fn finish(mut self) -> Vec<T> {
        if self.mode == Mode::Chunked && !self.partials.is_empty() {
            self.result[0] = (self.fold)(&self.partials);
        }
        self.result
    }
}

impl ChunkedReduction {
    /// Starts reducing an operand of `shape` and `dtype`, or says why the
    /// reduction is refused, with [`super::reduce`]'s messages.
    pub(crate) fn new(
        shape: &[usize],
        dtype: DType,
        op: Reduction,
        axis: Option<usize>,
    ) -> Result<ChunkedReduction, ReduceError> {
        let geometry = geometry(shape, dtype, op, axis)?;
        use Reduction::*;
        let rows = Mode::Rows;
        let accumulator = match (dtype, op) {
            (DType::Bytes(_), _) => {
                return Err(format!("`{}` is not defined for strings", op.name()).into());
            }
            (DType::Complex128, Min | Max) => {
                return Err(format!("`{}` is not defined for complex128", op.name()).into());
            }
            // Integers are exact in any order; int32's extremes are int32s.
            (DType::Bool | DType::Int32 | DType::Int64, _) => Accumulator::Int(match op {
                Sum => Lanes::new::<Add>(rows, &geometry, 0, 0),
                Prod => Lanes::new::<Mul>(rows, &geometry, 0, 1),
                Min => Lanes::new::<Least>(rows, &geometry, 0, i64::MAX),
                Max => Lanes::new::<Greatest>(rows, &geometry, 0, i64::MIN),
            }),
            (DType::Float32, _) => Accumulator::Float32(float_lanes(op, &geometry)),
            (DType::Float64, _) => Accumulator::Float64(float_lanes(op, &geometry)),
            (DType::Complex128, Sum | Prod) => {
                let (zero, one) = (Complex64::new(0.0, 0.0), Complex64::new(1.0, 0.0));
                Accumulator::Complex(match op {
                    Sum => Lanes::new::<Add>(Mode::Pairwise, &geometry, zero, zero),
                    _ => Lanes::new::<Mul>(rows, &geometry, zero, one),
                })
            }
        };
        Ok(ChunkedReduction {
            dtype,
            op,
            out_shape: geometry.out_shape,
            accumulator,
        })
    }

    /// Folds the next elements of the operand (in C order, of its dtype).
    pub(crate) fn feed(&mut self, data: Data<'_>) {
        fn widened<S: Copy>(lanes: &mut Lanes<i64>, v: &[S], f: impl Fn(S) -> i64) {
            // In pieces, so that the widened copy stays small.
            for piece in v.chunks(CHUNK) {
                let wide: Vec<i64> = piece.iter().map(|&x| f(x)).collect();
                lanes.feed(&wide);
            }
        }
        match (&mut self.accumulator, data) {
            (Accumulator::Int(lanes), Data::Bool(v)) => widened(lanes, v, i64::from),
            (Accumulator::Int(lanes), Data::Int32(v)) => widened(lanes, v, i64::from),
            (Accumulator::Int(lanes), Data::Int64(v)) => lanes.feed(v),
            (Accumulator::Float32(lanes), Data::Float32(v)) => lanes.feed(v),
            (Accumulator::Float64(lanes), Data::Float64(v)) => lanes.feed(v),
            (Accumulator::Complex(lanes), Data::Complex128(v)) => lanes.feed(v),
            (_, data) => unreachable!("a {} operand was fed {} data", self.dtype, data.dtype()),
        }
    }

    /// The reduced array, once every element was fed.
    pub(crate) fn finish(self) -> Array {
        let buffer = match self.accumulator {
            Accumulator::Int(lanes) => {
                let v = lanes.finish();
                match (self.dtype, self.op) {
                    (DType::Bool, Reduction::Min | Reduction::Max) => {
                        Buffer::Bool(v.into_iter().map(|x| x != 0).collect())
                    }
                    // The extremes of int32 values are int32 values.
                    (DType::Int32, Reduction::Min | Reduction::Max) => {
                        Buffer::Int32(v.into_iter().map(|x| x as i32).collect())
                    }
                    _ => Buffer::Int64(v),
                }
            }
            Accumulator::Float32(lanes) => Buffer::Float32(lanes.finish()),
            Accumulator::Float64(lanes) => Buffer::Float64(lanes.finish()),
            Accumulator::Complex(lanes) => Buffer::Complex128(lanes.finish()),
        };
        // Cannot fail: one value per lane, and the lanes are the output's elements.
        Array::from_buffer(buffer, &self.out_shape).expect("one value per lane")
    }
}

/// The lanes of a float reduction.
fn float_lanes<T>(op: Reduction, geometry: &Geometry) -> Lanes<T>
where
    T: Copy + Send + Sync + From<f32>,
    Add: Fold<T>,
    Mul: Fold<T>,
    Least: Fold<T>,
    Greatest: Fold<T>,
{
    let (zero, one) = (T::from(0.0), T::from(1.0));
    match op {
        Reduction::Sum => Lanes::new::<Add>(Mode::Pairwise, geometry, zero, zero),
        Reduction::Prod => Lanes::new::<Mul>(Mode::Rows, geometry, zero, one),
        // Every lane of `min`/`max` has a first element (an empty one is
        // refused), which replaces the identity.
        Reduction::Min => Lanes::new::<Least>(Mode::Rows, geometry, zero, zero),
        Reduction::Max => Lanes::new::<Greatest>(Mode::Rows, geometry, zero, zero),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::ArrayView;
    use proptest::prelude::*;

    /// Reduces `array` fed in pieces cut at `cuts` (positions, any order).
    fn chunked(
        array: &Array,
        op: Reduction,
        axis: Option<usize>,
        cuts: &[usize],
    ) -> Result<Array, ReduceError> {
        let mut r = ChunkedReduction::new(array.shape(), array.dtype(), op, axis)?;
        let n = array.len();
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (n + 1)).collect();
        cuts.extend([0, n]);
        cuts.sort_unstable();
        cuts.dedup();
        let data = array.buffer().data();
        for w in cuts.windows(2) {
            r.feed(data.slice(w[0], w[1]));
        }
        Ok(r.finish())
    }

    /// Bitwise equality (NaN payloads and signed zeros included).
    fn same_bits(a: &Array, b: &Array) -> bool {
        a.dtype() == b.dtype()
            && a.shape() == b.shape()
            && a.buffer().data().as_bytes() == b.buffer().data().as_bytes()
    }

    fn values(dtype: usize, n: usize, seed: u64) -> Buffer {
        // Floats of very different sizes and signs (so that the order of the
        // additions shows in the bits), NaNs and signed zeros now and then.
        let mut next = crate::testing::xorshift(seed | 1);
        let mut float = move || {
            let r = next();
            match r % 50 {
                0 => f64::NAN,
                1 => -0.0,
                2 => f64::from_bits(0xfff8_0000_0000_0001),
                _ => ((r >> 8) % 2001) as f64 / 7.0 - 140.0 * ((r >> 20) % 3) as f64 + 1e-3,
            }
        };
        match dtype {
            0 => Buffer::Bool((0..n).map(|_| float() > 0.0).collect()),
            1 => Buffer::Int32((0..n).map(|_| float() as i32 * 1_000_000).collect()),
            2 => Buffer::Int64((0..n).map(|_| (float() * 1e15) as i64).collect()),
            3 => Buffer::Float32((0..n).map(|_| float() as f32).collect()),
            4 => Buffer::Float64((0..n).map(|_| float()).collect()),
            _ => Buffer::Complex128((0..n).map(|_| Complex64::new(float(), float())).collect()),
        }
    }

    fn check(
        shape: &[usize],
        dtype: usize,
        op: Reduction,
        axis: Option<usize>,
        cuts: &[usize],
        seed: u64,
    ) {
        let n = shape.iter().product();
        let array = Array::from_buffer(values(dtype, n, seed), shape).unwrap();
        let whole = super::super::reduce(&array.view(), op, axis, 1, None);
        let pieces = chunked(&array, op, axis, cuts);
        match (whole, pieces) {
            (Ok(a), Ok(b)) => assert!(
                same_bits(&a, &b),
                "{op:?} axis {axis:?} of {shape:?} ({:?}) cut at {cuts:?}: {a:?} vs {b:?}",
                array.dtype()
            ),
            (Err(a), Err(b)) => assert_eq!(a, b),
            (a, b) => panic!("{op:?} axis {axis:?} of {shape:?}: {a:?} vs {b:?}"),
        }
    }

    const OPS: [Reduction; 4] = [
        Reduction::Sum,
        Reduction::Prod,
        Reduction::Min,
        Reduction::Max,
    ];

    #[test]
    fn long_lanes_match_the_whole_reduction() {
        // Lanes longer than a chunk in every mode: a full reduction, a long
        // last axis, a long first axis, a single long lane along an axis.
        let shapes: [(&[usize], Option<usize>); 5] = [
            (&[3 * CHUNK + 17], None),
            (&[3, 2 * CHUNK + 5], Some(1)),
            (&[2 * CHUNK + 5, 3], Some(0)),
            (&[1, 2 * CHUNK + 1, 1], Some(1)),
            (&[5, 7, 300], None),
        ];
        for (shape, axis) in shapes {
            for dtype in 0..6 {
                for op in OPS {
                    check(shape, dtype, op, axis, &[1, 4095, 4097, 9000, 5000], 7);
                    check(shape, dtype, op, axis, &[], 9);
                }
            }
        }
    }

    #[test]
    fn refusals_match_the_whole_reduction() {
        check(&[0, 3], 4, Reduction::Min, Some(0), &[], 1);
        check(&[2, 3], 4, Reduction::Sum, Some(2), &[], 1);
        check(&[4], 5, Reduction::Max, None, &[], 1);
        let bytes = ArrayView::contiguous(
            Data::Bytes {
                data: b"ab",
                width: 1,
            },
            &[2],
        )
        .unwrap();
        assert!(ChunkedReduction::new(bytes.shape(), bytes.dtype(), Reduction::Sum, None).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_cutting_gives_the_bits_of_the_whole_reduction(
            shape in prop::collection::vec(0usize..7, 0..4),
            long in prop::option::of((0usize..3, CHUNK - 3..CHUNK + 600)),
            dtype in 0usize..6,
            op in 0usize..4,
            axis in prop::option::of(0usize..4),
            cuts in prop::collection::vec(0usize..20_000, 0..12),
            seed in any::<u64>(),
        ) {
            let mut shape = shape;
            if let Some((at, len)) = long
                && at < shape.len()
            {
                shape[at] = len;
            }
            check(&shape, dtype, OPS[op], axis, &cuts, seed);
        }
    }
}
