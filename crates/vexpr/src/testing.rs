//! Helpers shared by the unit tests (compiled for tests only).

/// Marsaglia's xorshift64 from `seed` (nonzero): reproducible test inputs.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
