//! The command line's `.npy` reader on arbitrary bytes: it must give an array
//! or an error message, never panic, and never allocate more than the file's
//! contents justify (libFuzzer's `-rss_limit_mb` and `-malloc_limit_mb` stop
//! the run on an absurd allocation, such as one sized by a hostile header).
//!
//! An array it gives must be consistent: as many elements as its shape says.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = vexpr_cli::npy::from_bytes(data) {
        let elements = array
            .shape()
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n));
        assert_eq!(elements, Some(array.len()), "shape and elements disagree");
    }
});
