//! Arrow arrays in and out (cargo feature `arrow`, on the `arrow-array`,
//! `arrow-buffer` and `arrow-schema` crates of arrow-rs).
//!
//! In: the columns of a [`RecordBatch`] as the variables of an expression
//! ([`Columns`], or [`evaluate`] in one call), or any one Arrow array as a
//! [`vexpr::ArrayView`](crate::ArrayView) ([`view`]). Out: the result as an
//! Arrow array ([`ArrayRef`]) of the batch's length, its validity the AND
//! of the validities of the columns the expression reads.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Array, Float64Array, Int32Array, RecordBatch};
//! let batch = RecordBatch::try_from_iter([
//!     ("px", Arc::new(Float64Array::from(vec![Some(3.0), None, Some(0.5)])) as _),
//!     ("n", Arc::new(Int32Array::from(vec![1, 2, 3])) as _),
//! ])
//! .unwrap();
//! let pt = vexpr::interop::arrow::evaluate("px * n", &batch)?;
//! let pt = pt.as_any().downcast_ref::<Float64Array>().unwrap();
//! assert_eq!(pt.iter().collect::<Vec<_>>(), [Some(3.0), None, Some(1.5)]);
//! # Ok::<(), vexpr::Error>(())
//! ```
//!
//! # Types
//!
//! | Arrow | vexpr | read |
//! |---|---|---|
//! | `Boolean` | `bool` | unpacked once, when [`Columns`] is made, into one byte per element (Arrow packs eight to a byte; vexpr's `bool` is a byte) |
//! | `Int8`, `Int16`, `UInt8`, `UInt16` | `int32` | in place, widened block by block as the evaluation reads them |
//! | `Int32`, `Int64`, `Float32`, `Float64` | the same | in place |
//! | `UInt32` | `int64` | in place, widened block by block |
//! | `UInt64` | `int64` | in place, the bits kept as numexpr does: 2**64 - 1 reads as -1 |
//! | `Float16` | `float32` | in place, widened exactly, block by block |
//! | `FixedSizeBinary(n)` | `S<n>` | in place |
//!
//! Any other type (strings, dates, decimals, dictionaries, nested types) is
//! refused with an error naming the column and its type when an expression
//! reads it; a batch may hold such columns as long as the expression does
//! not read them. Sliced arrays (an offset into their buffers) are read
//! from their offset. Results are `BooleanArray`, `Int32Array`,
//! `Int64Array`, `Float32Array`, `Float64Array` or `FixedSizeBinaryArray`;
//! a `complex128` result has no Arrow type and is refused before any work.
//!
//! # Nulls
//!
//! As Arrow's own compute kernels (`arrow_arith`'s arithmetic, `arrow_ord`'s
//! comparisons) do: a null in any column an expression reads is a null of
//! the result at that row, the result's validity being the AND of the
//! validities of those columns (scalars bound with [`Columns::with`] have
//! no nulls). The values under null slots are computed like any other from
//! whatever the buffers hold there, and are not specified, as in Arrow.
//! Unlike Arrow's checked kernels, which skip null slots, an error that
//! vexpr raises at run time (an integer to a negative power) is raised even
//! when it arises in a null slot.
//!
//! `where(c, x, y)` is an ordinary element-wise function here: its row is
//! null when `c`, `x` or `y` is null at that row. Arrow's `zip(mask, x,
//! y)` (and SQL's `CASE`/`if_then_else`) differ in two ways: they take a
//! null `mask` as false (choosing `y`), and their result is null only when
//! the value chosen is null, so a null in the branch not taken does not
//! make a null. With vexpr, a null anywhere in the row makes the row null.
//!
//! A reduction (`sum`, `prod`, `min`, `max`) over columns with nulls is
//! refused with an error ([`ErrorKind::Input`]), rather than skipping the
//! nulls as Arrow's `sum` does or folding the unspecified values under
//! them: an expression that contains a reduction may not read a column
//! that has nulls. Filter the nulls out of the batch first (Arrow's
//! `filter_record_batch` with `is_not_null`).
//!
//! Arithmetic is vexpr's (NumPy's), not Arrow's: integer overflow wraps (as
//! Arrow's unchecked kernels do), integer division by zero gives 0 (where
//! Arrow's `div` errors), and `int32 / int32` is a `float64` division, as in
//! NumPy and numexpr. See `docs/language.md`.

use crate::{
    Array, ArrayView, DType, Env, Error, ErrorKind, Expr, Format, Options, Result, Signature, Span,
    Storage, Value,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array as ArrowArray, ArrayRef, BooleanArray, FixedSizeBinaryArray, Float32Array, Float64Array,
    Int32Array, Int64Array, RecordBatch,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, ScalarBuffer, ToByteSlice};
use arrow_schema::DataType;
use std::sync::Arc;

/// An error about an input, outside any expression text.
fn input_error(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Input, Span::default(), message.to_string())
}

/// An error about the whole text of `expr`.
fn whole_error(expr: &Expr, kind: ErrorKind, message: String) -> Error {
    let text: Arc<str> = Arc::from(expr.source());
    Error::new(kind, Span::new(0, text.len()), message).with_source(&text)
}

/// The values of a primitive array, widened as they are read.
fn stored<'a, T: ArrowPrimitiveType>(
    array: &'a dyn ArrowArray,
    storage: Storage,
) -> Option<Result<ArrayView<'a>>> {
    let values: &'a [T::Native] = array.as_primitive_opt::<T>()?.values();
    let width = storage.itemsize();
    Some(
        ArrayView::from_bytes(
            values.to_byte_slice(),
            Format::native(storage),
            &[values.len()],
            &[width as isize],
            0,
        )
        .map_err(input_error),
    )
}

/// The values of a primitive array of one of vexpr's own types.
fn typed<'a, T>(array: &'a dyn ArrowArray) -> Option<Result<ArrayView<'a>>>
where
    T: ArrowPrimitiveType,
    T::Native: crate::Element,
{
    let values: &'a [T::Native] = array.as_primitive_opt::<T>()?.values();
    Some(Ok(ArrayView::from_slice(values)))
}

/// The values of `array` read in place, `None` if its type is not one
/// vexpr reads in place (booleans, which are bit-packed, and the types it
/// does not read at all).
fn in_place(array: &dyn ArrowArray) -> Option<Result<ArrayView<'_>>> {
    match array.data_type() {
        DataType::Int8 => stored::<Int8Type>(array, Storage::Int8),
        DataType::Int16 => stored::<Int16Type>(array, Storage::Int16),
        DataType::UInt8 => stored::<UInt8Type>(array, Storage::UInt8),
        DataType::UInt16 => stored::<UInt16Type>(array, Storage::UInt16),
        DataType::UInt32 => stored::<UInt32Type>(array, Storage::UInt32),
        DataType::UInt64 => stored::<UInt64Type>(array, Storage::UInt64),
        DataType::Float16 => stored::<Float16Type>(array, Storage::Float16),
        DataType::Int32 => typed::<Int32Type>(array),
        DataType::Int64 => typed::<Int64Type>(array),
        DataType::Float32 => typed::<Float32Type>(array),
        DataType::Float64 => typed::<Float64Type>(array),
        &DataType::FixedSizeBinary(width) => {
            let array = array.as_fixed_size_binary_opt()?;
            let width = usize::try_from(width).ok()?;
            Some(
                ArrayView::from_bytes(
                    array.value_data(),
                    Format::native(Storage::Bytes(width)),
                    &[array.len()],
                    &[width as isize],
                    0,
                )
                .map_err(input_error),
            )
        }
        _ => None,
    }
}

/// The values of one Arrow array as a view of its buffer, without a copy
/// (see the [module documentation](self) for the types); its validity is
/// not looked at: the values under null slots are whatever the buffer
/// holds. [`Columns`] applies validities to results.
///
/// A `BooleanArray` is refused (its bits are packed eight to a byte, and a
/// view has one byte per element: [`Columns`] unpacks them), as is any type
/// vexpr does not read.
///
/// ```
/// use arrow_array::{Array, Int16Array, UInt8Array};
/// use vexpr::interop::arrow::view;
/// let a = Int16Array::from(vec![-1, 2, 300, 4]).slice(1, 2); // [2, 300]
/// let b = UInt8Array::from(vec![255, 1]);
/// let env = vexpr::Env::new().with("a", view(&a)?).with("b", view(&b)?);
/// let r = vexpr::evaluate("a + b", &env)?;
/// assert_eq!(r.as_slice::<i32>().unwrap(), &[257, 301]);
/// # Ok::<(), vexpr::Error>(())
/// ```
pub fn view(array: &dyn ArrowArray) -> Result<ArrayView<'_>> {
    in_place(array).unwrap_or_else(|| {
        Err(input_error(match array.data_type() {
            DataType::Boolean => "a BooleanArray's bits are packed: bind it through \
                                  `vexpr::interop::arrow::Columns`, which unpacks them"
                .to_string(),
            other => format!("vexpr cannot compute with Arrow arrays of type {other}"),
        }))
    })
}

impl<'a> TryFrom<&'a dyn ArrowArray> for ArrayView<'a> {
    type Error = Error;

    /// [`view`]: the values of an Arrow array in place.
    ///
    /// ```
    /// use arrow_array::{Array, Float64Array};
    /// let a = Float64Array::from(vec![1.0, 2.0]);
    /// let v = vexpr::ArrayView::try_from(&a as &dyn Array)?;
    /// assert_eq!(v.shape(), &[2]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn try_from(array: &'a dyn ArrowArray) -> Result<Self> {
        view(array)
    }
}

/// How one column reaches the expression.
#[derive(Debug)]
enum Column<'a> {
    /// Its values, in place.
    View(ArrayView<'a>),
    /// A boolean column, one byte per element.
    Bools(Vec<bool>),
    /// A type vexpr does not read (the reason, for the error).
    Unreadable(String),
}

/// The columns of a [`RecordBatch`] (and any other values) as the variables
/// of expressions, and the evaluation of expressions over them into Arrow
/// arrays of the batch's length, with Arrow's null semantics (see the
/// [module documentation](self)).
///
/// Made once per batch, it serves any number of expressions. Each column is
/// read in place, except boolean ones, unpacked here into one byte per
/// element.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch};
/// use vexpr::interop::arrow::Columns;
/// let batch = RecordBatch::try_from_iter([
///     ("e", Arc::new(Float64Array::from(vec![10.0, 20.0, 30.0])) as _),
///     ("ok", Arc::new(BooleanArray::from(vec![true, false, true])) as _),
/// ])
/// .unwrap();
/// let columns = Columns::new(&batch).with("scale", 0.5);
/// let expr = columns.compile("where(ok, e * scale, 0.0)")?;
/// let r = columns.eval(&expr)?;
/// let r = r.as_any().downcast_ref::<Float64Array>().unwrap();
/// assert_eq!(r.values(), &[5.0, 0.0, 15.0]);
/// # Ok::<(), vexpr::Error>(())
/// ```
#[derive(Debug)]
pub struct Columns<'a> {
    len: usize,
    /// Name, how it is read, and its nulls (if it has any).
    columns: Vec<(String, Column<'a>, Option<&'a NullBuffer>)>,
    /// Other values bound by name, after the columns.
    values: Vec<(String, Value<'a>)>,
}

impl<'a> Columns<'a> {
    /// The columns of `batch`, by their field names.
    ///
    /// A column of a type vexpr does not read, or whose name another column
    /// has too, is refused when an expression reads it (not before: a batch
    /// may hold columns no expression reads).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int64Array, RecordBatch, StringArray};
    /// use vexpr::interop::arrow::Columns;
    /// let batch = RecordBatch::try_from_iter([
    ///     ("id", Arc::new(Int64Array::from(vec![7, 8])) as _),
    ///     ("name", Arc::new(StringArray::from(vec!["a", "b"])) as _),
    /// ])
    /// .unwrap();
    /// let columns = Columns::new(&batch);
    /// assert!(columns.compile("id * 2").is_ok());
    /// let err = columns.compile("id + name").unwrap_err();
    /// assert!(err.message().contains("Utf8"));
    /// assert_eq!((err.span().start, err.span().end), (5, 9));
    /// ```
    pub fn new(batch: &'a RecordBatch) -> Columns<'a> {
        let schema = batch.schema_ref();
        let mut columns: Vec<(String, Column<'a>, Option<&'a NullBuffer>)> =
            Vec::with_capacity(batch.num_columns());
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let name = field.name();
            let array: &'a dyn ArrowArray = array.as_ref();
            let nulls = array.nulls().filter(|n| n.null_count() > 0);
            let column = if let Some(other) = columns.iter_mut().find(|(n, ..)| n == name) {
                other.1 =
                    Column::Unreadable(format!("two columns of the batch are named `{name}`"));
                continue;
            } else if let Some(bools) = array.as_boolean_opt() {
                Column::Bools(bools.values().iter().collect())
            } else {
                match in_place(array) {
                    Some(Ok(view)) => Column::View(view),
                    Some(Err(error)) => Column::Unreadable(format!(
                        "column `{name}` cannot be read: {}",
                        error.message()
                    )),
                    None => Column::Unreadable(format!(
                        "column `{name}` is {}, which vexpr cannot compute with",
                        array.data_type()
                    )),
                }
            };
            columns.push((name.clone(), column, nulls));
        }
        Columns {
            len: batch.num_rows(),
            columns,
            values: Vec::new(),
        }
    }

    /// Binds `name` to another value (a scalar parameter, say), and returns
    /// the columns; it hides a column of that name. Such values have no
    /// nulls. An array value must broadcast to the batch's length.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Array, Float32Array, RecordBatch};
    /// let batch = RecordBatch::try_from_iter([
    ///     ("x", Arc::new(Float32Array::from(vec![1.0, 2.0])) as _),
    /// ])
    /// .unwrap();
    /// let columns = vexpr::interop::arrow::Columns::new(&batch).with("k", 3.0f32);
    /// let r = columns.eval(&columns.compile("x * k")?)?;
    /// let r = r.as_any().downcast_ref::<Float32Array>().unwrap();
    /// assert_eq!(r.values(), &[3.0, 6.0]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    pub fn with(mut self, name: &str, value: impl Into<Value<'a>>) -> Columns<'a> {
        let value = value.into();
        match self.values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name.to_string(), value)),
        }
        self
    }

    /// The batch's number of rows: every result's length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The environment of the columns vexpr reads and the other values, for
    /// vexpr's own entry points ([`Expr::eval_into`] and the like), which
    /// do not apply the columns' validities.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int32Array, RecordBatch};
    /// let batch = RecordBatch::try_from_iter([
    ///     ("a", Arc::new(Int32Array::from(vec![1, 2, 3])) as _),
    /// ])
    /// .unwrap();
    /// let columns = vexpr::interop::arrow::Columns::new(&batch);
    /// let expr = columns.compile("a * 2")?;
    /// let mut out = [0i32; 3];
    /// expr.eval_into(&columns.env(), &mut out)?;
    /// assert_eq!(out, [2, 4, 6]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    pub fn env(&self) -> Env<'_> {
        let mut env = Env::new();
        for (name, column, _) in &self.columns {
            match column {
                Column::View(view) => env.set(name, view.clone()),
                Column::Bools(bools) => env.set(name, &bools[..]),
                Column::Unreadable(_) => {}
            }
        }
        for (name, value) in &self.values {
            env.set(name, value.clone());
        }
        env
    }

    /// Compiles `text` for the types of the columns and values. A name that
    /// is a column vexpr cannot read gives an error at that name saying why.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Int8Array, RecordBatch};
    /// let batch = RecordBatch::try_from_iter([
    ///     ("a", Arc::new(Int8Array::from(vec![1, 2])) as _),
    /// ])
    /// .unwrap();
    /// let expr = vexpr::interop::arrow::Columns::new(&batch).compile("a + 1")?;
    /// assert_eq!(expr.result_dtype(), vexpr::DType::Int32);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    pub fn compile(&self, text: &str) -> Result<Expr> {
        let error = match Expr::compile(text, &Signature::of(&self.env())) {
            Ok(expr) => return Ok(expr),
            Err(error) => error,
        };
        if error.kind() != ErrorKind::UnknownName {
            return Err(error);
        }
        let span = error.span();
        let name = text.get(span.start..span.end).unwrap_or_default();
        match self.unreadable(name) {
            Some(why) => {
                let text: Arc<str> = Arc::from(text);
                Err(Error::new(ErrorKind::Input, span, why).with_source(&text))
            }
            None => Err(error),
        }
    }

    /// Why the column `name` cannot be read, if it is one that cannot (and
    /// no other value hides it).
    fn unreadable(&self, name: &str) -> Option<String> {
        if self.values.iter().any(|(n, _)| n == name) {
            return None;
        }
        self.columns.iter().find_map(|(n, column, _)| match column {
            Column::Unreadable(why) if n == name => Some(why.clone()),
            _ => None,
        })
    }

    /// Evaluates `expr` (compiled by [`Columns::compile`], or for the same
    /// types) with the default [`Options`] into an Arrow array of the
    /// batch's length: null where any column the expression reads is null.
    /// A result that is one value (a reduction over all rows, or a
    /// constant) is repeated down the column.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Array, Float64Array, RecordBatch};
    /// let batch = RecordBatch::try_from_iter([
    ///     ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 5.0])) as _),
    /// ])
    /// .unwrap();
    /// let columns = vexpr::interop::arrow::Columns::new(&batch);
    /// let share = columns.eval(&columns.compile("x / sum(x)")?)?;
    /// let share = share.as_any().downcast_ref::<Float64Array>().unwrap();
    /// assert_eq!(share.values(), &[0.125, 0.25, 0.625]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    pub fn eval(&self, expr: &Expr) -> Result<ArrayRef> {
        self.eval_with(expr, Options::default())
    }

    /// [`Columns::eval`] with explicit [`Options`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Array, Int64Array, RecordBatch};
    /// use vexpr::Options;
    /// let batch = RecordBatch::try_from_iter([
    ///     ("n", Arc::new(Int64Array::from(vec![Some(1), None])) as _),
    /// ])
    /// .unwrap();
    /// let columns = vexpr::interop::arrow::Columns::new(&batch);
    /// let one_thread = Options::new().with_threads(1);
    /// let r = columns.eval_with(&columns.compile("n * n")?, one_thread)?;
    /// assert_eq!(r.null_count(), 1);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    pub fn eval_with(&self, expr: &Expr, options: Options) -> Result<ArrayRef> {
        // Refused before any work: a type Arrow has no array for, a
        // column vexpr cannot read.
        arrow_type(expr.result_dtype())
            .map_err(|message| whole_error(expr, ErrorKind::Type, message))?;
        let read = expr.variables();
        if let Some(why) = read.iter().find_map(|name| self.unreadable(name)) {
            return Err(whole_error(expr, ErrorKind::Input, why));
        }
        let nulls = NullBuffer::union_many(
            self.columns
                .iter()
                .filter(|(name, ..)| {
                    read.contains(&name.as_str()) && !self.values.iter().any(|(n, _)| n == name)
                })
                .map(|(.., nulls)| *nulls),
        );
        if nulls.is_some() && has_reductions(expr) {
            let with_nulls: Vec<String> = self
                .columns
                .iter()
                .filter(|(name, _, nulls)| nulls.is_some() && read.contains(&name.as_str()))
                .map(|(name, ..)| format!("`{name}`"))
                .collect();
            return Err(whole_error(
                expr,
                ErrorKind::Input,
                format!(
                    "the expression has a reduction, and reads columns with nulls ({}): a \
                     reduction does not skip nulls; filter them out of the batch first",
                    with_nulls.join(", ")
                ),
            ));
        }
        let result = expr.eval_with(&self.env(), options)?;
        match result.shape() {
            [n] if *n == self.len => {}
            [] => {}
            other => {
                return Err(whole_error(
                    expr,
                    ErrorKind::Shape,
                    format!(
                        "the result has shape {other:?}, not one value for each of the batch's {} rows",
                        self.len
                    ),
                ));
            }
        }
        build(result, self.len, nulls)
            .map_err(|error| whole_error(expr, error.kind(), error.message().to_string()))
    }
}

/// True when the expression has a reduction (a stage of its own).
fn has_reductions(expr: &Expr) -> bool {
    !expr.stages().is_empty()
}

/// The Arrow type of results of `dtype`, or why there is none.
fn arrow_type(dtype: DType) -> Result<DataType, String> {
    Ok(match dtype {
        DType::Bool => DataType::Boolean,
        DType::Int32 => DataType::Int32,
        DType::Int64 => DataType::Int64,
        DType::Float32 => DataType::Float32,
        DType::Float64 => DataType::Float64,
        // `S0` results are stored as `S1` NULs (see `Expr::result_dtype`).
        DType::Bytes(width) => DataType::FixedSizeBinary(
            i32::try_from(width.max(1))
                .map_err(|_| format!("strings of {width} bytes are too wide for Arrow"))?,
        ),
        DType::Complex128 => {
            return Err("the result is complex128, which Arrow has no type for".to_string());
        }
    })
}

/// A one-dimensional result as an Arrow array with validity `nulls`, its
/// values moved without a copy (booleans are packed into bits).
///
/// ```
/// use arrow_array::{Array, Int32Array};
/// use arrow_buffer::NullBuffer;
/// let a = vexpr::Array::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
/// let r = vexpr::interop::arrow::to_arrow(a, Some(NullBuffer::from(vec![true, false, true])))?;
/// let r = r.as_any().downcast_ref::<Int32Array>().unwrap();
/// assert_eq!(r.iter().collect::<Vec<_>>(), [Some(1), None, Some(3)]);
/// # Ok::<(), vexpr::Error>(())
/// ```
pub fn to_arrow(array: Array, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    match *array.shape() {
        [len] => build(array, len, nulls),
        ref other => Err(input_error(format!(
            "an Arrow array has one dimension; the result has shape {other:?}"
        ))),
    }
}

/// The Arrow array of `len` elements with validity `nulls` of `array`,
/// which holds `len` elements (moved, not copied, except booleans, which
/// are packed into bits, and strings) or one, repeated `len` times.
fn build(array: Array, len: usize, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    if array.len() != len && array.len() != 1 {
        return Err(input_error(format!(
            "{} elements cannot fill an Arrow array of {len}",
            array.len()
        )));
    }
    if let Some(nulls) = &nulls
        && nulls.len() != len
    {
        return Err(input_error(format!(
            "the validity has {} elements, the result {len}",
            nulls.len()
        )));
    }
    let dtype = array.dtype();
    arrow_type(dtype).map_err(|message| Error::new(ErrorKind::Type, Span::default(), message))?;
    let mismatch = || input_error(format!("a {dtype} array holds other elements"));
    // The elements, repeated if there is one for all rows.
    fn fill<T: Copy>(values: Vec<T>, len: usize) -> Vec<T> {
        if values.len() == len {
            values
        } else {
            values.repeat(len)
        }
    }
    Ok(match dtype {
        DType::Bool => {
            let values = fill(array.into_vec::<bool>().ok_or_else(mismatch)?, len);
            Arc::new(BooleanArray::new(BooleanBuffer::from(&values[..]), nulls))
        }
        DType::Int32 => {
            let values = fill(array.into_vec::<i32>().ok_or_else(mismatch)?, len);
            Arc::new(Int32Array::new(ScalarBuffer::from(values), nulls))
        }
        DType::Int64 => {
            let values = fill(array.into_vec::<i64>().ok_or_else(mismatch)?, len);
            Arc::new(Int64Array::new(ScalarBuffer::from(values), nulls))
        }
        DType::Float32 => {
            let values = fill(array.into_vec::<f32>().ok_or_else(mismatch)?, len);
            Arc::new(Float32Array::new(ScalarBuffer::from(values), nulls))
        }
        DType::Float64 => {
            let values = fill(array.into_vec::<f64>().ok_or_else(mismatch)?, len);
            Arc::new(Float64Array::new(ScalarBuffer::from(values), nulls))
        }
        DType::Bytes(width) => {
            let stored = array.view().bytes();
            let bytes = if array.len() == len {
                stored.to_vec()
            } else {
                stored.repeat(len)
            };
            let width = i32::try_from(width).map_err(input_error)?;
            Arc::new(
                FixedSizeBinaryArray::try_new_with_len(width, Buffer::from(bytes), nulls, len)
                    .map_err(input_error)?,
            )
        }
        DType::Complex128 => return Err(mismatch()),
    })
}

impl TryFrom<Array> for ArrayRef {
    type Error = Error;

    /// [`to_arrow`] without nulls.
    ///
    /// ```
    /// use arrow_array::{Array, ArrayRef, BooleanArray};
    /// let x = [1.0, -2.0, 3.0];
    /// let r = vexpr::evaluate("x > 0", &vexpr::Env::new().with("x", &x[..]))?;
    /// let r = ArrayRef::try_from(r)?;
    /// let r = r.as_any().downcast_ref::<BooleanArray>().unwrap();
    /// assert_eq!(r.iter().collect::<Vec<_>>(), [Some(true), Some(false), Some(true)]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn try_from(array: Array) -> Result<ArrayRef> {
        to_arrow(array, None)
    }
}

/// Evaluates `text` over the columns of `batch` (its variables are the
/// columns, by field name) into an Arrow array of the batch's length, with
/// the default [`Options`]: [`Columns::new`], [`Columns::compile`] and
/// [`Columns::eval`] in one call.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([
///     ("pt", Arc::new(Float64Array::from(vec![25.0, 5.0, 40.0])) as _),
///     ("eta", Arc::new(Float64Array::from(vec![0.5, 1.0, -3.0])) as _),
/// ])
/// .unwrap();
/// let pass = vexpr::interop::arrow::evaluate("(pt > 20) & (abs(eta) < 2.5)", &batch)?;
/// let pass = pass.as_any().downcast_ref::<BooleanArray>().unwrap();
/// assert_eq!(pass.iter().collect::<Vec<_>>(), [Some(true), Some(false), Some(false)]);
/// # Ok::<(), vexpr::Error>(())
/// ```
pub fn evaluate(text: &str, batch: &RecordBatch) -> Result<ArrayRef> {
    evaluate_with(text, batch, Options::default())
}

/// [`evaluate`] with explicit [`Options`].
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Array, Int32Array, RecordBatch};
/// let batch = RecordBatch::try_from_iter([
///     ("a", Arc::new(Int32Array::from(vec![1, 2, 3])) as _),
/// ])
/// .unwrap();
/// let options = vexpr::Options::new().with_threads(1);
/// let r = vexpr::interop::arrow::evaluate_with("a << 2", &batch, options)?;
/// assert_eq!(r.as_any().downcast_ref::<Int32Array>().unwrap().values(), &[4, 8, 12]);
/// # Ok::<(), vexpr::Error>(())
/// ```
pub fn evaluate_with(text: &str, batch: &RecordBatch, options: Options) -> Result<ArrayRef> {
    let columns = Columns::new(batch);
    let expr = columns.compile(text)?;
    columns.eval_with(&expr, options)
}
