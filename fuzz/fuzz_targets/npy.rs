//! The command line's `.npy` reader on arbitrary bytes: it must give an array
//! or an error message, never panic, and never allocate more than the file's
//! contents justify (libFuzzer's `-rss_limit_mb` and `-malloc_limit_mb` stop
//! the run on an absurd allocation, such as one sized by a hostile header).
//!
//! An array it gives must be consistent: as many elements as its shape says.
//! The header reader that `vexpr eval` streams files with (`npy::layout`)
//! gets the same bytes: it must agree with the whole-file reader about the
//! shape, and its data length must be what the file holds after the header
//! whenever the whole-file reader accepted the file.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let layout = vexpr_cli::npy::layout(data);
    if let Ok(array) = vexpr_cli::npy::from_bytes(data) {
        let elements = array
            .shape()
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n));
        assert_eq!(elements, Some(array.len()), "shape and elements disagree");
        let layout = layout.expect("a file read whole has a readable header");
        assert_eq!(
            layout.shape,
            array.shape(),
            "the two readers disagree on the shape"
        );
        assert_eq!(layout.header_len + layout.data_len, data.len());
    }
});
