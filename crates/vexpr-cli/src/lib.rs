//! The library side of the `vexpr` command: the parts other crates may call.
//!
//! Only the `.npy` reader and writer live here, so that the fuzz targets
//! (`fuzz/fuzz_targets/npy.rs`) can feed the reader arbitrary bytes; the
//! commands themselves stay in the binary (`src/main.rs`).

// Everything unsafe lives in the library, where each use is argued.
#![forbid(unsafe_code)]

pub mod npy;
