//! Helpers shared by the binary's end-to-end tests: running it, and
//! writing and reading `.npy` files with the `npyz` crate directly (not
//! through the binary's own reader).

// Each test binary uses only some of these.
#![allow(dead_code)]

pub use npyz::{AutoSerialize, Deserialize, Order, WriterBuilder};
pub use std::path::{Path, PathBuf};
pub use std::process::{Command, Output};
pub use tempfile::TempDir;

/// Runs `vexpr ARGS...` in `dir`.
pub fn vexpr(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the vexpr binary runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit status `code`, showing the streams if not.
pub fn assert_status(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

/// Asserts status 1 and a one-line `error:` message saying `says`, no
/// panic (`what` names the case).
pub fn assert_fails_cleanly(out: &Output, says: &str, what: &str) {
    assert_status(out, 1);
    let err = stderr(out);
    assert!(
        err.starts_with("error:") && err.contains(says),
        "{what}: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
}

/// Writes `values` with `shape` in the given order, with npyz's dtype for `T`.
pub fn save_ordered<T: AutoSerialize + Copy>(
    path: &Path,
    shape: &[u64],
    values: &[T],
    order: Order,
) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .order(order)
        .writer(file)
        .begin_nd()
        .unwrap();
    writer.extend(values.iter().copied()).unwrap();
    writer.finish().unwrap();
}

pub fn save<T: AutoSerialize + Copy>(path: &Path, shape: &[u64], values: &[T]) {
    save_ordered(path, shape, values, Order::C);
}

/// Writes byte strings as `|S<width>`.
pub fn save_strings(path: &Path, shape: &[u64], width: usize, values: &[&[u8]]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = npyz::WriteOptions::<[u8]>::new()
        .dtype(npyz::DType::Plain(format!("|S{width}").parse().unwrap()))
        .shape(shape)
        .writer(file)
        .begin_nd()
        .unwrap();
    for v in values {
        writer.push(v).unwrap();
    }
    writer.finish().unwrap();
}

/// Reads a file: its dtype string (`<f8`), shape and elements.
pub fn load<T: Deserialize>(path: &Path) -> (String, Vec<u64>, Vec<T>) {
    let file = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let descr = file.dtype().descr().trim_matches('\'').to_string();
    let shape = file.shape().to_vec();
    assert_eq!(file.order(), Order::C, "vexpr writes C order");
    (descr, shape, file.into_vec().unwrap())
}

/// A scratch folder with a few inputs.
pub fn scratch() -> TempDir {
    tempfile::tempdir().unwrap()
}

pub fn path(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A version 1.0 `.npy` file with the header `dict` and 24 bytes of data.
pub fn npy_with_header(dict: &str) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let padded = format!("{dict:<180}\n");
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    bytes.extend_from_slice(&[0; 24]);
    bytes
}
