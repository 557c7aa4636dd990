//! Interoperation with the Rust data ecosystem, behind cargo features: the
//! arrays of programs that evaluate their users' formulas over data they
//! already hold.
//!
//! - [`ndarray`] (feature `ndarray`): `ndarray` views of any dimension and
//!   strides in, read in place; results out as `ArrayD`, or written into an
//!   `ArrayViewMut` of any layout.
//! - [`arrow`] (feature `arrow`): Arrow primitive, boolean and fixed-size
//!   binary arrays in (the columns of a `RecordBatch` as the variables),
//!   results out as Arrow arrays, with Arrow's null semantics.
//!
//! Both are built on the public input API ([`ArrayView`](crate::ArrayView),
//! [`Env`](crate::Env), [`Expr`](crate::Expr)): what they do, a program can
//! do by hand, with one exception. An `ndarray` view whose elements leave
//! gaps (a column of a matrix) is read through its pointer and strides, by a
//! crate-private constructor: the public ones take a slice, and a slice over
//! the gaps would cover elements other views may be writing.

#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod ndarray;

#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub mod arrow;
