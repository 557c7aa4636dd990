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
//! do by hand.

#[cfg(feature = "ndarray")]
#[cfg_attr(docsrs, doc(cfg(feature = "ndarray")))]
pub mod ndarray;

#[cfg(feature = "arrow")]
#[cfg_attr(docsrs, doc(cfg(feature = "arrow")))]
pub mod arrow;
