//! The variables every fuzz target compiles against: at least one of each
//! element type, two where binary operations between distinct inputs matter
//! (float64 for the fused instructions and machine code, byte strings of two
//! widths for `where` and comparisons of unequal widths).

use vexpr::{DType, Signature};

/// Name and type of each variable.
pub const VARS: [(&str, DType); 9] = [
    ("a", DType::Float64),
    ("b", DType::Float64),
    ("f", DType::Float32),
    ("i", DType::Int32),
    ("l", DType::Int64),
    ("p", DType::Bool),
    ("z", DType::Complex128),
    ("s", DType::Bytes(4)),
    ("t", DType::Bytes(2)),
];

/// The signature of [`VARS`].
pub fn signature() -> Signature {
    VARS.iter().fold(Signature::new(), |sig, &(name, dtype)| {
        sig.with(name, dtype)
    })
}
