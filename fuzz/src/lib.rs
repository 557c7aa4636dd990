//! Shared pieces of the fuzz targets in `fuzz_targets/`.
//!
//! - [`vars`]: the variables every target compiles against, one or two of each
//!   element type.
//! - [`source`]: expression text generated from fuzzer bytes, mostly well typed
//!   (so that most of it compiles) and sometimes not.
//! - [`inputs`]: arrays of every dtype, shape and memory layout the API takes,
//!   filled with hard values (NaNs of both signs, signed zeros, infinities,
//!   subnormals, extreme integers).
//! - [`outcome`]: an evaluation's result reduced to what must not differ
//!   between two runs: the raw bytes of the output, or the error.
//! - [`stored`]: the same inputs stored in narrower types and the other byte
//!   order, as `ArrayView::from_bytes` and chunked sources read them.

pub mod inputs;
pub mod outcome;
pub mod source;
pub mod stored;
pub mod vars;
