//! [`ndarray`] arrays in and out (cargo feature `ndarray`).
//!
//! In: an [`ndarray::ArrayView`] (or a reference to any `ndarray` array) of
//! an element type vexpr reads ([`NdElement`]), of any dimension and strides
//! (negative, zero for broadcast axes, transposed), becomes a
//! [`vexpr::ArrayView`](crate::ArrayView) of the same memory, without a
//! copy, through `TryFrom` or [`NdarrayEnv::with_ndarray`]. Out:
//! [`NdarrayExpr::eval_ndarray`] returns the result as an
//! [`ndarray::ArrayD`], and [`NdarrayExpr::eval_into_ndarray`] writes it
//! into an [`ndarray::ArrayViewMut`] of any layout.
//!
//! ```
//! use ndarray::{Axis, array, s};
//! use vexpr::interop::ndarray::{NdarrayEnv, NdarrayExpr};
//! use vexpr::{Env, Expr, Signature};
//!
//! let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
//! let b = array![10.0, 20.0, 30.0];
//! // A transposed view, shape (3, 2), and a reversed column, shape (3, 1),
//! // that broadcasts along it: both read where they are.
//! let env = Env::new()
//!     .with_ndarray("a", a.t())?
//!     .with_ndarray("b", b.slice(s![..;-1]).insert_axis(Axis(1)))?;
//! let expr = Expr::compile("a + b", &Signature::of(&env))?;
//! let sum = expr.eval_ndarray::<f64>(&env)?;
//! assert_eq!(sum, array![[31.0, 34.0], [22.0, 25.0], [13.0, 16.0]].into_dyn());
//! # Ok::<(), vexpr::Error>(())
//! ```
//!
//! # How views are read in place
//!
//! Every view is read where it is, whatever its strides; nothing is ever
//! copied behind the caller's back. A view whose distinct elements fill the
//! memory from its lowest to its highest one (contiguous arrays in C or
//! Fortran order, any transposition or permutation of their axes, reversed
//! axes, broadcast axes of stride 0, inserted axes of length 1) is read
//! through one Rust slice of that memory, as a slice bound with
//! [`Env::with`] is, and a C-order one straight into the kernels.
//!
//! A view that leaves gaps (a column or a block of a larger matrix, a
//! stepped slice, a diagonal) cannot be: a Rust reference asserts that
//! nothing else writes any of the memory it covers, and `ndarray` lets other
//! views write the elements between a view's own (`split_at`,
//! `multi_slice_mut`, parallel chunks of a matrix's columns), from another
//! thread even. Such a view is read through its pointer and strides
//! instead: each evaluation gathers its elements, block by block, reading
//! the bytes of its own elements and never the gaps between them, as it
//! gathers any strided input. [`view_in`], which reads a view in the memory
//! of the array it was cut from, is no longer needed for that.

use crate::{
    Array, ArrayView, Complex64, Element, Env, Error, ErrorKind, Expr, Format, Options, Result,
    Scalar, Span, Storage, Value,
};
use ::ndarray::{ArrayBase, ArrayD, ArrayViewD, ArrayViewMut, Axis, Dimension, IxDyn};
use num_complex::Complex32;
use std::ptr::NonNull;
use std::sync::Arc;

mod sealed {
    pub trait Sealed {}
}

/// The element types an `ndarray` input may have: vexpr's own ([`Element`]:
/// `bool`, `i32`, `i64`, `f32`, `f64`, [`Complex64`]), read as they are, and
/// the narrower or unsigned ones that vexpr widens as numexpr does
/// ([`Storage::dtype`]): `i8`, `u8`, `i16`, `u16` to `int32`, `u32` and
/// `u64` to `int64` (`u64` keeping its bits: 2**64 - 1 reads as -1),
/// [`half::f16`] to `float32`, [`Complex32`] to `complex128`. A widened
/// input is converted block by block as the evaluation reads it, never
/// whole.
///
/// ```
/// use vexpr::interop::ndarray::NdElement;
/// assert_eq!(<u8 as NdElement>::STORAGE.dtype(), vexpr::DType::Int32);
/// ```
pub trait NdElement: sealed::Sealed + Copy + 'static {
    /// How one element is stored, in the machine's byte order.
    const STORAGE: Storage;

    /// A view of `shape` and `strides` (in elements) from element `offset`
    /// of `memory`.
    #[doc(hidden)]
    fn view<'a>(
        memory: &'a [Self],
        shape: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<ArrayView<'a>>;
}

macro_rules! typed_element {
    ($($t:ty => $storage:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl NdElement for $t {
            const STORAGE: Storage = Storage::$storage;
            fn view<'a>(
                memory: &'a [Self],
                shape: &[usize],
                strides: &[isize],
                offset: usize,
            ) -> Result<ArrayView<'a>> {
                ArrayView::strided(memory, shape, strides, offset).map_err(input_error)
            }
        }
    )*};
}
typed_element!(
    bool => Bool, i32 => Int32, i64 => Int64, f32 => Float32, f64 => Float64,
    Complex64 => Complex128
);

macro_rules! stored_element {
    ($($t:ty => $storage:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl NdElement for $t {
            const STORAGE: Storage = Storage::$storage;
            fn view<'a>(
                memory: &'a [Self],
                shape: &[usize],
                strides: &[isize],
                offset: usize,
            ) -> Result<ArrayView<'a>> {
                // Strides and offset in bytes, as `from_bytes` counts them.
                let width = size_of::<$t>();
                let byte_strides: Vec<isize> =
                    strides.iter().map(|&s| s * width as isize).collect();
                let bytes: &[u8] = bytemuck::cast_slice(memory);
                let format = Format::native(Self::STORAGE);
                ArrayView::from_bytes(bytes, format, shape, &byte_strides, offset * width)
                    .map_err(input_error)
            }
        }
    )*};
}
stored_element!(
    i8 => Int8, u8 => UInt8, i16 => Int16, u16 => UInt16, u32 => UInt32, u64 => UInt64,
    half::f16 => Float16, Complex32 => Complex64
);

/// An error about an input, outside any expression text.
fn input_error(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Input, Span::default(), message.to_string())
}

/// The error of an evaluation about the whole expression text of `expr`.
fn whole_error(expr: &Expr, kind: ErrorKind, message: String) -> Error {
    let text: Arc<str> = Arc::from(expr.source());
    Error::new(kind, Span::new(0, text.len()), message).with_source(&text)
}

/// The slice of memory that `view`'s distinct elements fill, if they fill
/// it without gaps (see the module documentation), and the position of the
/// view's first element in it.
fn memory_of<'a, T, D: Dimension>(
    view: &::ndarray::ArrayView<'a, T, D>,
) -> Option<(&'a [T], usize)> {
    if view.is_empty() {
        return Some((&[], 0));
    }
    // A broadcast axis repeats the same elements: its first index has
    // them all.
    let mut distinct = view.clone();
    for (axis, (&n, &s)) in view.shape().iter().zip(view.strides()).enumerate() {
        if s == 0 && n > 1 {
            distinct.collapse_axis(Axis(axis), 0);
        }
    }
    let memory = distinct.to_slice_memory_order()?;
    // Both pointers are into `memory` (the first element is one of its
    // elements), so this is the element index of the first in it.
    let offset = (view.as_ptr() as usize - memory.as_ptr() as usize) / size_of::<T>().max(1);
    Some((memory, offset))
}

/// The refusal of a parent, given to [`view_in`], that leaves gaps itself.
fn gaps_error<T, D: Dimension>(view: &::ndarray::ArrayView<'_, T, D>) -> Error {
    input_error(format!(
        "the ndarray view of shape {:?} with strides {:?} given as the array to read in leaves \
         gaps between its elements, so no slice of its memory can be read: give the whole \
         array it was cut from, or the view alone (`vexpr::ArrayView::try_from(view)` reads \
         any view in place)",
        view.shape(),
        view.strides()
    ))
}

/// The vexpr view of an ndarray view, without a copy: through a slice of
/// its memory when its elements leave no gaps, through its pointer when
/// they do (see the [module documentation](self)).
fn convert<'a, T: NdElement, D: Dimension>(
    view: &::ndarray::ArrayView<'a, T, D>,
) -> Result<ArrayView<'a>> {
    if let Some((memory, offset)) = memory_of(view) {
        return T::view(memory, view.shape(), view.strides(), offset);
    }
    // Not empty (`memory_of` takes those), so its first element exists.
    let first = NonNull::new(view.as_ptr().cast_mut().cast::<u8>())
        .ok_or_else(|| input_error("an ndarray view with elements has a null pointer"))?;
    // SAFETY: `view` is an `ndarray::ArrayView<'a, T, D>`, a shared borrow
    // of its elements for `'a`: each address that its shape and strides
    // reach from its first element holds a valid `T`, in the array's one
    // allocation, that nothing writes during `'a`. `T` is an `NdElement`
    // (sealed: plain numbers, `bool`, `f16`, complex numbers of floats),
    // with no padding and no interior mutability, so each of those elements
    // is `size_of::<T>()` initialized bytes stored as `T::STORAGE` says, in
    // native byte order. The memory between them is never read.
    unsafe { ArrayView::from_raw(first, T::STORAGE, view.shape(), view.strides()) }
        .map_err(input_error)
}

impl<'a, T: NdElement, D: Dimension> TryFrom<::ndarray::ArrayView<'a, T, D>> for ArrayView<'a> {
    type Error = Error;

    /// Reads the view's memory in place: any dimension, any strides (see
    /// the [module documentation](self)).
    ///
    /// ```
    /// use ndarray::{Array2, ShapeBuilder};
    /// let fortran = Array2::from_shape_vec((2, 3).f(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// let view = vexpr::ArrayView::try_from(fortran.view())?;
    /// assert_eq!(view.shape(), &[2, 3]);
    /// assert_eq!(view.strides(), &[1, 2]);
    /// // A column of a row-major matrix leaves gaps: read through its
    /// // pointer, in place, not copied.
    /// let c = Array2::from_shape_fn((3, 3), |(i, j)| (i * 3 + j) as f64);
    /// let column = vexpr::ArrayView::try_from(c.column(1))?;
    /// assert_eq!(column.as_ptr(), c.column(1).as_ptr().cast::<u8>());
    /// let r = vexpr::evaluate("x * 10", &vexpr::Env::new().with("x", column))?;
    /// assert_eq!(r.as_slice::<f64>().unwrap(), &[10.0, 40.0, 70.0]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn try_from(view: ::ndarray::ArrayView<'a, T, D>) -> Result<Self> {
        convert(&view)
    }
}

impl<'a, S, T, D> TryFrom<&'a ArrayBase<S, D>> for ArrayView<'a>
where
    S: ::ndarray::Data<Elem = T>,
    T: NdElement,
    D: Dimension,
{
    type Error = Error;

    /// Reads the array's memory in place, as the conversion of its
    /// [`ndarray::ArrayView`] does.
    ///
    /// ```
    /// let a = ndarray::Array::from_shape_fn((2, 2, 2), |(i, j, k)| (i * 4 + j * 2 + k) as i32);
    /// let view = vexpr::ArrayView::try_from(&a)?;
    /// let r = vexpr::evaluate("sum(a)", &vexpr::Env::new().with("a", view))?;
    /// assert_eq!(r.as_slice::<i64>().unwrap(), &[28]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn try_from(array: &'a ArrayBase<S, D>) -> Result<Self> {
        convert(&array.view())
    }
}

/// `view` read in the memory of `within`, an array it was cut from, without
/// a copy: the resulting view's [`data`](ArrayView::data) is a slice of
/// `within`'s memory, which `within` borrows whole, indexed by `view`'s
/// strides.
///
/// This is no longer needed to read a view whose elements leave gaps (a
/// column or a block of a matrix, a stepped slice): the conversion of the
/// view alone (`vexpr::ArrayView::try_from(view)`, [`NdarrayEnv::with_ndarray`])
/// reads any view in place, through its pointer (see the [module
/// documentation](self)). Both read the same elements and give the same
/// results.
///
/// `within` must leave no gaps itself (it is usually the whole array:
/// `matrix.view()`), and every element of `view` must lie in its memory;
/// otherwise an error says which.
///
/// ```
/// use ndarray::{array, s};
/// use vexpr::interop::ndarray::view_in;
/// use vexpr::Env;
/// let table = array![[1.0, 10.0, 100.0], [2.0, 20.0, 200.0], [3.0, 30.0, 300.0]];
/// // Every other row of the first and last columns.
/// let env = Env::new()
///     .with("x", view_in(table.slice(s![..;2, 0]), table.view())?)
///     .with("y", view_in(table.slice(s![..;2, 2]), table.view())?);
/// let r = vexpr::evaluate("x + y", &env)?;
/// assert_eq!(r.as_slice::<f64>().unwrap(), &[101.0, 303.0]);
/// # Ok::<(), vexpr::Error>(())
/// ```
pub fn view_in<'a, T: NdElement, D: Dimension, P: Dimension>(
    view: ::ndarray::ArrayView<'a, T, D>,
    within: ::ndarray::ArrayView<'a, T, P>,
) -> Result<ArrayView<'a>> {
    if view.is_empty() {
        return T::view(&[], view.shape(), view.strides(), 0);
    }
    let (memory, _) = memory_of(&within).ok_or_else(|| gaps_error(&within))?;
    let outside = || {
        input_error(format!(
            "the ndarray view of shape {:?} with strides {:?} does not lie inside the array of \
             shape {:?} it was given with",
            view.shape(),
            view.strides(),
            within.shape()
        ))
    };
    let (first, start) = (view.as_ptr() as usize, memory.as_ptr() as usize);
    if first < start || (first - start) % size_of::<T>().max(1) != 0 {
        return Err(outside());
    }
    // vexpr checks that every element lies inside `memory`.
    T::view(
        memory,
        view.shape(),
        view.strides(),
        (first - start) / size_of::<T>().max(1),
    )
    .map_err(|_| outside())
}

/// Binding `ndarray` arrays to variables of an [`Env`]: the extension that
/// [`NdarrayEnv::with_ndarray`] and [`NdarrayEnv::set_ndarray`] add.
pub trait NdarrayEnv<'a>: Sized {
    /// Binds `name` to `array` (an [`ndarray::ArrayView`] of any strides,
    /// or a reference to any ndarray array), read in place (see the [module
    /// documentation](self)), and returns the environment.
    ///
    /// ```
    /// use ndarray::array;
    /// use vexpr::interop::ndarray::NdarrayEnv;
    /// let a = array![[1u8, 2], [3, 4]];
    /// let env = vexpr::Env::new().with_ndarray("a", &a)?.with("k", 2);
    /// let r = vexpr::evaluate("a * k", &env)?;
    /// assert_eq!(r.as_slice::<i32>().unwrap(), &[2, 4, 6, 8]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn with_ndarray<V>(self, name: &str, array: V) -> Result<Self>
    where
        V: TryInto<ArrayView<'a>, Error = Error>;

    /// Binds `name` to `array`, as [`NdarrayEnv::with_ndarray`] does, in
    /// place; on an error the environment is unchanged.
    ///
    /// ```
    /// use vexpr::interop::ndarray::NdarrayEnv;
    /// let a = ndarray::Array1::linspace(0.0, 1.0, 5);
    /// let mut env = vexpr::Env::new();
    /// env.set_ndarray("a", &a)?;
    /// assert_eq!(env.get("a").unwrap().shape(), &[5]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn set_ndarray<V>(&mut self, name: &str, array: V) -> Result<()>
    where
        V: TryInto<ArrayView<'a>, Error = Error>;
}

impl<'a> NdarrayEnv<'a> for Env<'a> {
    fn with_ndarray<V>(mut self, name: &str, array: V) -> Result<Self>
    where
        V: TryInto<ArrayView<'a>, Error = Error>,
    {
        self.set_ndarray(name, array)?;
        Ok(self)
    }

    fn set_ndarray<V>(&mut self, name: &str, array: V) -> Result<()>
    where
        V: TryInto<ArrayView<'a>, Error = Error>,
    {
        self.set(name, array.try_into()?);
        Ok(())
    }
}

impl<T: Element> TryFrom<Array> for ArrayD<T> {
    type Error = Error;

    /// Moves a result's elements into an [`ndarray::ArrayD`] of its shape,
    /// without a copy; an error if `T` is not its element type.
    ///
    /// ```
    /// let a = [1.0, 2.0, 3.0, 4.0];
    /// let env = vexpr::Env::new().with("a", &a[..]);
    /// let r = ndarray::ArrayD::<f64>::try_from(vexpr::evaluate("a / 2", &env)?)?;
    /// assert_eq!(r, ndarray::arr1(&[0.5, 1.0, 1.5, 2.0]).into_dyn());
    /// assert!(ndarray::ArrayD::<i64>::try_from(vexpr::evaluate("a", &env)?).is_err());
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn try_from(array: Array) -> Result<Self> {
        let dtype = array.dtype();
        let shape = IxDyn(array.shape());
        let values = array.into_vec::<T>().ok_or_else(|| {
            Error::new(
                ErrorKind::Type,
                Span::default(),
                format!("the array is {dtype}, not {}", T::DTYPE),
            )
        })?;
        // An `Array` holds exactly its shape's element count.
        ArrayD::from_shape_vec(shape, values).map_err(input_error)
    }
}

/// Evaluating into `ndarray` arrays: the extension of [`Expr`] that
/// [`NdarrayExpr::eval_ndarray`] and [`NdarrayExpr::eval_into_ndarray`] add.
pub trait NdarrayExpr {
    /// Evaluates into a new [`ndarray::ArrayD`] of the result's shape, with
    /// the default [`Options`]; an error if `T` is not the result's type.
    ///
    /// ```
    /// use vexpr::interop::ndarray::{NdarrayEnv, NdarrayExpr};
    /// use vexpr::{Env, Expr, Signature};
    /// let a = ndarray::array![[1.0, 4.0], [9.0, 16.0]];
    /// let env = Env::new().with_ndarray("a", &a)?;
    /// let e = Expr::compile("sqrt(a) > 2", &Signature::of(&env))?;
    /// let r = e.eval_ndarray::<bool>(&env)?;
    /// assert_eq!(r, ndarray::array![[false, false], [true, true]].into_dyn());
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn eval_ndarray<T: Element>(&self, env: &Env<'_>) -> Result<ArrayD<T>>;

    /// [`NdarrayExpr::eval_ndarray`] with explicit [`Options`].
    ///
    /// ```
    /// use vexpr::interop::ndarray::{NdarrayEnv, NdarrayExpr};
    /// use vexpr::{Env, Expr, Options, Signature};
    /// let a = ndarray::Array1::<f64>::ones(10_000);
    /// let env = Env::new().with_ndarray("a", &a)?;
    /// let e = Expr::compile("sum(a)", &Signature::of(&env))?;
    /// let one_thread = Options::new().with_threads(1);
    /// assert_eq!(e.eval_ndarray_with::<f64>(&env, one_thread)?.first(), Some(&1e4));
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn eval_ndarray_with<T: Element>(&self, env: &Env<'_>, options: Options) -> Result<ArrayD<T>>;

    /// Evaluates into `out`, which must have the result's type and shape,
    /// with the default [`Options`]. An output in standard (C) layout is
    /// written in place, with no temporary; any other layout (Fortran order,
    /// transposed, reversed, a column or block of a larger array) receives
    /// the result through one temporary array of its size, copied into it
    /// element by element.
    ///
    /// An error found before the run (a type, a shape, a missing variable)
    /// leaves `out` unchanged, and so does any error with a layout other
    /// than the standard one; a standard-layout `out` may have been partly
    /// written when the run itself stops (an interruption,
    /// [`Options::interrupt`], or a value an operation refuses, such as an
    /// integer to a negative power).
    ///
    /// ```
    /// use ndarray::{Array2, s};
    /// use vexpr::interop::ndarray::{NdarrayEnv, NdarrayExpr};
    /// use vexpr::{Env, Expr, Signature};
    /// let a = ndarray::array![1.0, 2.0, 3.0];
    /// let env = Env::new().with_ndarray("a", &a)?;
    /// let e = Expr::compile("a * 10", &Signature::of(&env))?;
    /// let mut table = Array2::<f64>::zeros((3, 2));
    /// e.eval_into_ndarray(&env, table.column_mut(1))?;
    /// assert_eq!(table, ndarray::array![[0.0, 10.0], [0.0, 20.0], [0.0, 30.0]]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn eval_into_ndarray<T: Element, D: Dimension>(
        &self,
        env: &Env<'_>,
        out: ArrayViewMut<'_, T, D>,
    ) -> Result<()>;

    /// [`NdarrayExpr::eval_into_ndarray`] with explicit [`Options`].
    ///
    /// ```
    /// use vexpr::interop::ndarray::{NdarrayEnv, NdarrayExpr};
    /// use vexpr::{Env, Expr, Options, Signature};
    /// let a = ndarray::array![[1, 2], [3, 4]];
    /// let env = Env::new().with_ndarray("a", &a)?;
    /// let e = Expr::compile("a - 1", &Signature::of(&env))?;
    /// let mut out = ndarray::Array2::<i32>::zeros((2, 2));
    /// e.eval_into_ndarray_with(&env, out.view_mut().reversed_axes(), Options::default())?;
    /// assert_eq!(out, ndarray::array![[0, 2], [1, 3]]);
    /// # Ok::<(), vexpr::Error>(())
    /// ```
    fn eval_into_ndarray_with<T: Element, D: Dimension>(
        &self,
        env: &Env<'_>,
        out: ArrayViewMut<'_, T, D>,
        options: Options,
    ) -> Result<()>;
}

impl NdarrayExpr for Expr {
    fn eval_ndarray<T: Element>(&self, env: &Env<'_>) -> Result<ArrayD<T>> {
        self.eval_ndarray_with(env, Options::default())
    }

    fn eval_ndarray_with<T: Element>(&self, env: &Env<'_>, options: Options) -> Result<ArrayD<T>> {
        check_result_type::<T>(self)?;
        ArrayD::try_from(self.eval_with(env, options)?)
    }

    fn eval_into_ndarray<T: Element, D: Dimension>(
        &self,
        env: &Env<'_>,
        out: ArrayViewMut<'_, T, D>,
    ) -> Result<()> {
        self.eval_into_ndarray_with(env, out, Options::default())
    }

    fn eval_into_ndarray_with<T: Element, D: Dimension>(
        &self,
        env: &Env<'_>,
        mut out: ArrayViewMut<'_, T, D>,
        options: Options,
    ) -> Result<()> {
        check_result_type::<T>(self)?;
        let shape = out.shape().to_vec();
        let mismatch = |got: &[usize]| {
            whole_error(
                self,
                ErrorKind::Shape,
                format!("the result has shape {got:?}, the output array {shape:?}"),
            )
        };
        if let Some(slice) = out.as_slice_mut() {
            let Some(inputs) = positional(self, env) else {
                // A variable the expression reads has no value: the
                // ordinary entry point reports it, before writing anything.
                return self.eval_into_with(env, slice, options);
            };
            return self.eval_positional_with(&inputs, options, |got: &[usize]| {
                if got == shape.as_slice() {
                    Ok(slice)
                } else {
                    Err(mismatch(got))
                }
            });
        }
        let result = self.eval_with(env, options)?;
        if result.shape() != shape.as_slice() {
            return Err(mismatch(result.shape()));
        }
        let values = result
            .as_slice::<T>()
            .ok_or_else(|| mismatch(result.shape()))?;
        let values = ArrayViewD::from_shape(IxDyn(&shape), values).map_err(input_error)?;
        out.assign(&values);
        Ok(())
    }
}

/// Refuses an output type other than the result's, before any work.
fn check_result_type<T: Element>(expr: &Expr) -> Result<()> {
    if expr.result_dtype() == T::DTYPE {
        return Ok(());
    }
    Err(whole_error(
        expr,
        ErrorKind::Type,
        format!(
            "the result is {}, the output array holds {}",
            expr.result_dtype(),
            T::DTYPE
        ),
    ))
}

/// The values of `expr`'s signature's variables in `env`, in signature
/// order, for the positional entry points; a variable the expression does
/// not read may be absent (any value stands in). `None` if a variable it
/// reads is absent.
fn positional<'a>(expr: &Expr, env: &Env<'a>) -> Option<Vec<Value<'a>>> {
    let read = expr.variables();
    expr.signature()
        .iter()
        .map(|(name, _)| match env.get(name) {
            Some(value) => Some(value.clone()),
            None if read.contains(&name) => None,
            None => Some(Value::Scalar(Scalar::Bool(false))),
        })
        .collect()
}
