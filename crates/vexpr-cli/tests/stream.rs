//! `vexpr eval` streaming files: results of files of a few hundred MB read
//! with small chunks, bit for bit against the library's in-memory
//! evaluation of the same values (read here with `npyz`); every dtype at
//! tiny chunks against one chunk; `.npz` archives and standard input and
//! output; hostile files; failures and Ctrl-C leaving no file behind; the
//! peak memory of a run; the progress bar.

mod common;

use common::*;
use std::io::{Read, Write};
use std::process::Stdio;
use vexpr::{Array, ArrayView, DType, Env, Expr, Signature};

/// Deterministic values in [0.5, 1.5), varied enough that a sum's order
/// shows in its last bits.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            0.5 + (state >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// A `.npy` file of raw data bytes under the header dict `dict`.
fn npy_raw(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let unpadded = dict.len() + 11;
    let padded = format!("{dict:<width$}\n", width = unpadded.div_ceil(64) * 64 - 11);
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The float64 elements of a file vexpr wrote, with its order and shape.
fn load_f64(path: &Path) -> (Order, Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let file = npyz::NpyFile::new(&bytes[..]).unwrap();
    let (order, shape) = (file.order(), file.shape().to_vec());
    (order, shape, file.into_vec().unwrap())
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// No temporary output (`.NAME.*.part`) is left in `dir`.
fn assert_no_leftovers(dir: &TempDir) {
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn large_files_stream_to_the_in_memory_bits() {
    let dir = scratch();
    let (rows, cols) = (2000usize, 8192usize);
    let a = values(rows * cols, 1); // 131 MB
    let b: Vec<f32> = values(cols, 2).iter().map(|&x| x as f32).collect();
    let matrix = format!("({rows}, {cols})");
    std::fs::write(path(&dir, "a.npy"), npy_f64(&matrix, &a)).unwrap();
    let b_bytes: Vec<u8> = b.iter().flat_map(|x| x.to_le_bytes()).collect();
    let b_dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({cols},), }}");
    std::fs::write(path(&dir, "b.npy"), npy_raw(&b_dict, &b_bytes)).unwrap();
    // The same matrix stored column by column.
    let mut f = vec![0.0; rows * cols];
    for i in 0..rows {
        for j in 0..cols {
            f[j * rows + i] = a[i * cols + j] * 0.5;
        }
    }
    let f_bytes: Vec<u8> = f.iter().flat_map(|x| x.to_le_bytes()).collect();
    let f_dict = format!("{{'descr': '<f8', 'fortran_order': True, 'shape': {matrix}, }}");
    std::fs::write(path(&dir, "f.npy"), npy_raw(&f_dict, &f_bytes)).unwrap();
    drop(f_bytes);
    let a_view = ArrayView::strided(&a[..], &[rows, cols], &[cols as isize, 1], 0).unwrap();
    let f_view = ArrayView::strided(&f[..], &[rows, cols], &[1, rows as isize], 0).unwrap();
    let env = Env::new()
        .with("a", a_view)
        .with("b", &b[..])
        .with("f", f_view);
    let sig = Signature::new()
        .with("a", DType::Float64)
        .with("b", DType::Float32)
        .with("f", DType::Float64);
    let in_memory =
        |text: &str| -> Array { Expr::compile(text, &sig).unwrap().eval(&env).unwrap() };
    let cases: [(&str, &str); 9] = [
        ("2*a**3 - 4*a**5 + 6*log(a) + b", "1000003"),
        ("sum(a)", "65536"),
        ("sum(a, axis=1)", "1000003"),
        ("max(a, axis=0)", "65536"),
        ("a / sum(a) - b", "999999"),
        ("prod(a*1e-3 + 1, axis=0) + sum(b)", "4097"),
        ("f - a", "1048576"),
        ("sum(f)", "1048576"),
        ("f * 2 + b", "100000"),
    ];
    for (text, chunk) in cases {
        let out = vexpr(
            dir.path(),
            &[
                "eval", text, "a=a.npy", "b=b.npy", "f=f.npy", "--chunk", chunk, "-o", "c.npy",
            ],
        );
        assert_status(&out, 0);
        let want = in_memory(text);
        let (order, shape, got) = load_f64(&path(&dir, "c.npy"));
        let shape: Vec<usize> = shape.iter().map(|&n| n as usize).collect();
        assert_eq!(shape, want.shape(), "{text}");
        let want = want.as_slice::<f64>().unwrap();
        let want: Vec<f64> = if order == Order::Fortran {
            // Only `f`, in its own order, streams transposed.
            assert_eq!(text, "f * 2 + b");
            (0..want.len())
                .map(|k| want[(k % rows) * cols + k / rows])
                .collect()
        } else {
            want.to_vec()
        };
        assert!(bits(&got) == bits(&want), "{text} (chunk {chunk}) differs");
    }
    assert_no_leftovers(&dir);
}

#[test]
fn every_stored_type_streams_like_one_chunk() {
    let dir = scratch();
    let noise: Vec<u8> = values(4 * 7 * 16, 3)
        .iter()
        .map(|x| (x.to_bits() >> 20) as u8)
        .collect();
    let types = [
        "|b1", "|i1", "|u1", "<i2", ">i2", "<u2", "<i4", ">i4", "<u4", "<i8", ">i8", "<f2", ">f2",
        "<f4", ">f4", "<f8", ">f8", "<c8", ">c16", "|S3",
    ];
    for descr in types {
        let width: usize = descr[2..].parse().unwrap();
        let data: Vec<u8> = if descr == "|b1" {
            noise[..28].iter().map(|x| x & 1).collect()
        } else {
            noise[..28 * width].to_vec()
        };
        for fortran in ["False", "True"] {
            let dict =
                format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': (4, 7), }}");
            std::fs::write(path(&dir, "x.npy"), npy_raw(&dict, &data)).unwrap();
            let text = if descr == "|S3" { "x == x" } else { "x" };
            let whole = vexpr(dir.path(), &["eval", text, "x=x.npy", "-o", "one.npy"]);
            assert_status(&whole, 0);
            let pieces = vexpr(
                dir.path(),
                &["eval", text, "x=x.npy", "--chunk", "3", "-o", "many.npy"],
            );
            assert_status(&pieces, 0);
            let one = std::fs::read(path(&dir, "one.npy")).unwrap();
            let many = std::fs::read(path(&dir, "many.npy")).unwrap();
            assert!(one == many, "{descr}, fortran {fortran}");
        }
    }
}

/// An `.npz` archive of `(name, .npy bytes)` members, each stored or deflated.
fn npz(path: &Path, members: &[(&str, Vec<u8>, bool)]) {
    let mut archive = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes, deflate) in members {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        archive.start_file(format!("{name}.npy"), options).unwrap();
        archive.write_all(bytes).unwrap();
    }
    archive.finish().unwrap();
}

fn npy_f64(shape: &str, v: &[f64]) -> Vec<u8> {
    let data: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    npy_raw(
        &format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"),
        &data,
    )
}

#[test]
fn npz_archives_in_and_out() {
    let dir = scratch();
    let a = values(50_000, 4);
    let b = values(50_000, 5);
    std::fs::write(path(&dir, "a.npy"), npy_f64("(50000,)", &a)).unwrap();
    std::fs::write(path(&dir, "b.npy"), npy_f64("(50000,)", &b)).unwrap();
    npz(
        &path(&dir, "data.npz"),
        &[
            ("a", npy_f64("(50000,)", &a), false),
            ("b", npy_f64("(50000,)", &b), true),
        ],
    );
    npz(
        &path(&dir, "one.npz"),
        &[("only", npy_f64("(50000,)", &b), true)],
    );
    let reference = vexpr(
        dir.path(),
        &[
            "eval",
            "a / sum(a) + b",
            "a=a.npy",
            "b=b.npy",
            "-o",
            "ref.npy",
        ],
    );
    assert_status(&reference, 0);
    let (_, _, want) = load_f64(&path(&dir, "ref.npy"));
    // By name, by the variable's name, the only array; stored and deflated
    // (read twice: once for the sum, once for the result), small chunks.
    for (x, y) in [
        ("a=data.npz:a", "b=data.npz:b"),
        ("a=data.npz", "b=data.npz"),
        ("a=data.npz", "b=one.npz"),
    ] {
        let out = vexpr(
            dir.path(),
            &[
                "eval",
                "a / sum(a) + b",
                x,
                y,
                "--chunk",
                "777",
                "-o",
                "c.npz:r",
            ],
        );
        assert_status(&out, 0);
        let mut archive =
            zip::ZipArchive::new(std::fs::File::open(path(&dir, "c.npz")).unwrap()).unwrap();
        assert_eq!(archive.file_names().collect::<Vec<_>>().len(), 1);
        let mut member = archive.by_name("r.npy").unwrap();
        let mut bytes = Vec::new();
        member.read_to_end(&mut bytes).unwrap();
        let got: Vec<f64> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
        assert!(bits(&got) == bits(&want), "{x} {y}");
    }
    // Several arrays and no name: the message lists them.
    let out = vexpr(dir.path(), &["eval", "z", "z=data.npz"]);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains("write FILE.npz:NAME with one of: a, b"),
        "{}",
        stderr(&out)
    );
    let out = vexpr(dir.path(), &["eval", "z", "z=data.npz:nope"]);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains("has no array `nope`"),
        "{}",
        stderr(&out)
    );
    assert_no_leftovers(&dir);
}

/// Runs `vexpr ARGS` with `input` on standard input.
fn vexpr_piped(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A child that fails early closes its end: the write may then fail.
    let writer = std::thread::spawn(move || stdin.write_all(&input).is_ok());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

#[test]
fn standard_input_and_output() {
    let dir = scratch();
    let a = values(100_000, 6);
    let npy = npy_f64("(100000,)", &a);
    let out = vexpr_piped(
        dir.path(),
        &["eval", "a * 2", "a=-", "--chunk", "1000", "-o", "-"],
        &npy,
    );
    assert_status(&out, 0);
    let got: Vec<f64> = npyz::NpyFile::new(&out.stdout[..])
        .unwrap()
        .into_vec()
        .unwrap();
    assert!(got.iter().zip(&a).all(|(g, x)| *g == x * 2.0));
    // Read twice (a reduction first): refused with advice.
    let out = vexpr_piped(dir.path(), &["eval", "a / sum(a)", "a=-"], &npy);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains("standard input can be read only once"),
        "{}",
        stderr(&out)
    );
    // Cut short.
    let out = vexpr_piped(
        dir.path(),
        &["eval", "a + 1", "a=-", "-o", "c.npy"],
        &npy[..npy.len() / 2],
    );
    assert_status(&out, 1);
    assert!(stderr(&out).contains("ended early"), "{}", stderr(&out));
    assert!(!path(&dir, "c.npy").exists());
    assert_no_leftovers(&dir);
}

#[test]
fn hostile_archives_and_failing_reads_leave_the_output_alone() {
    let dir = scratch();
    let good = npy_f64("(1000,)", &values(1000, 7));
    std::fs::write(path(&dir, "c.npy"), b"the old result").unwrap();
    // The header claims more than the member holds (a bomb's lie), or less.
    let lying = npy_f64("(1000000000000,)", &values(1000, 7));
    let short = npy_f64("(2000,)", &values(1000, 7));
    // A deflated stream whose bytes are damaged halfway.
    let damaged_path = path(&dir, "damaged.npz");
    npz(
        &damaged_path,
        &[("a", npy_f64("(200000,)", &values(200_000, 8)), true)],
    );
    let mut bytes = std::fs::read(&damaged_path).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&damaged_path, &bytes).unwrap();
    npz(&path(&dir, "lying.npz"), &[("a", lying, true)]);
    npz(&path(&dir, "short.npz"), &[("a", short, false)]);
    npz(&path(&dir, "good.npz"), &[("a", good, false)]);
    std::fs::write(path(&dir, "notzip.npz"), b"PK\x03\x04 not really").unwrap();
    for (file, says) in [
        ("a=lying.npz", "truncated"),
        ("a=short.npz", "truncated"),
        ("a=damaged.npz", "reading `a`"),
        ("a=notzip.npz", "not a valid .npz file"),
        ("a=missing.npz", "cannot read"),
    ] {
        let out = vexpr(
            dir.path(),
            &["eval", "a * 2", file, "--chunk", "1000", "-o", "c.npy"],
        );
        assert_fails_cleanly(&out, says, file);
        assert_eq!(
            std::fs::read(path(&dir, "c.npy")).unwrap(),
            b"the old result",
            "{file}"
        );
    }
    assert_no_leftovers(&dir);
}

#[test]
fn special_targets_are_written_in_place_and_a_full_disk_is_an_error() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch();
    std::fs::write(path(&dir, "a.npy"), npy_f64("(1000,)", &values(1000, 9))).unwrap();
    // Renaming a temporary file onto a device would replace the device.
    let out = vexpr(dir.path(), &["eval", "a + 1", "a=a.npy", "-o", "/dev/null"]);
    assert_status(&out, 0);
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    let out = vexpr(dir.path(), &["eval", "a + 1", "a=a.npy", "-o", "/dev/full"]);
    assert_status(&out, 1);
    assert!(
        stderr(&out).contains("No space left on device"),
        "{}",
        stderr(&out)
    );
    // Through a symbolic link: the file it points to is replaced.
    std::fs::write(path(&dir, "real.npy"), b"old").unwrap();
    std::os::unix::fs::symlink("real.npy", path(&dir, "link.npy")).unwrap();
    let out = vexpr(dir.path(), &["eval", "a + 1", "a=a.npy", "-o", "link.npy"]);
    assert_status(&out, 0);
    assert!(
        std::fs::symlink_metadata(path(&dir, "link.npy"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(load_f64(&path(&dir, "real.npy")).2.len(), 1000);
}

#[test]
fn ctrl_c_halfway_leaves_no_file_behind() {
    // Standard input makes "halfway" certain: the run waits for the second
    // half of its data while the signal arrives.
    let dir = scratch();
    std::fs::write(path(&dir, "c.npy"), b"the old result").unwrap();
    let npy = npy_f64("(400000,)", &values(400_000, 10));
    let mut child = Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .args([
            "eval",
            "sin(a) + 1",
            "a=-",
            "--chunk",
            "10000",
            "-o",
            "c.npy",
        ])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let half = npy.len() / 2;
    stdin.write_all(&npy[..half]).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Its temporary output exists by now.
    let parts = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".part")
            })
            .count()
    };
    assert_eq!(parts(), 1);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    // The handler sets the flag from a thread of its own (the `ctrlc`
    // crate's), which a busy machine may run a while after the signal: the
    // rest of the data, which the run would finish in a few milliseconds,
    // comes only once it surely has. The run stops at its next chunk; the
    // rest of the data may not be read.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let _ = stdin.write_all(&npy[half..]);
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_status(&out, 1);
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(path(&dir, "c.npy")).unwrap(),
        b"the old result"
    );
    assert_eq!(parts(), 0);
}

#[test]
fn peak_memory_does_not_grow_with_the_data() {
    let dir = scratch();
    let n = 24 << 20; // 192 MiB of float64 an input
    let a = values(n, 11);
    let npy = npy_f64(&format!("({n},)"), &a);
    std::fs::write(path(&dir, "a.npy"), &npy).unwrap();
    std::fs::write(path(&dir, "b.npy"), &npy).unwrap();
    drop(a);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .args([
            "eval",
            "2*a**3 - 4*a**5 + 6*log(a) + b",
            "a=a.npy",
            "b=b.npy",
            "-o",
            "c.npy",
        ])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    // The child's own high-water mark (VmHWM starts afresh at exec, unlike
    // the rusage of a child forked from this large test process), read
    // until it exits: it only grows, and the buffers are made at the start.
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_path)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kib = line
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<u64>()
                .unwrap();
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert!(status.success());
    assert!(peak_kib > 0, "the child's memory was never seen");
    let peak_mib = peak_kib as f64 / 1024.0;
    // 64 MiB plus the chunk buffers (three of 1Mi elements, 8 MiB each),
    // against 576 MiB of data read and written.
    assert!(peak_mib < 64.0 + 24.0, "peak resident {peak_mib:.1} MiB");
    assert_eq!(
        std::fs::metadata(path(&dir, "c.npy")).unwrap().len(),
        std::fs::metadata(path(&dir, "a.npy")).unwrap().len()
    );
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    let dir = scratch();
    std::fs::write(
        path(&dir, "a.npy"),
        npy_f64("(100000,)", &values(100_000, 12)),
    )
    .unwrap();
    // `script` runs the command on a pseudo-terminal and copies what it shows.
    let run = |quiet: &str| {
        let command = format!(
            "{} eval 'a + 1' a=a.npy --chunk 1000 -o c.npy {quiet}",
            env!("CARGO_BIN_EXE_vexpr")
        );
        Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("VEXPR_PROGRESS_DELAY", "0")
            .current_dir(dir.path())
            .output()
            .expect("script runs")
    };
    let shown = run("");
    assert_status(&shown, 0);
    assert!(stdout(&shown).contains("elements"), "{}", stdout(&shown));
    let quiet = run("--quiet");
    assert!(!stdout(&quiet).contains("elements"), "{}", stdout(&quiet));
    // Not a terminal: nothing on standard error.
    let piped = Command::new(env!("CARGO_BIN_EXE_vexpr"))
        .args(["eval", "a + 1", "a=a.npy", "--chunk", "1000", "-o", "c.npy"])
        .env("VEXPR_PROGRESS_DELAY", "0")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_status(&piped, 0);
    assert!(piped.stderr.is_empty(), "{}", stderr(&piped));
}
