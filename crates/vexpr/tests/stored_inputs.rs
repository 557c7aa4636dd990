//! Inputs stored in formats vexpr does not compute in (`ArrayView::from_bytes`):
//! for every `Storage`, byte-swapped or not, aligned or not, in every layout
//! (contiguous, strided by multiples of the element size and not, negative
//! strides, broadcast, 0-d, empty), an expression over the stored view must
//! give the same bits (or the same error) as over the same values given as
//! an ordinary array of the widened type.
//!
//! The reference widens on its own, with Rust's casts (`i8 as i32`, `u64 as
//! i64`, `half::f16::to_f32`, ...), from the bytes at each element's
//! address, and builds a C-order `Array` of the result; nothing of the
//! library's conversion is used for it.

use proptest::prelude::*;
use vexpr::{
    Array, ArrayView, Buffer, Complex64, DType, Env, Expr, Format, Options, Signature, Storage,
};

const STORAGES: [Storage; 17] = [
    Storage::Bool,
    Storage::Int8,
    Storage::UInt8,
    Storage::Int16,
    Storage::UInt16,
    Storage::Int32,
    Storage::UInt32,
    Storage::Int64,
    Storage::UInt64,
    Storage::Float16,
    Storage::Float32,
    Storage::Float64,
    Storage::Complex64,
    Storage::Complex128,
    Storage::Bytes(1),
    Storage::Bytes(3),
    Storage::Bytes(8),
];

/// Deterministic bytes (xorshift), so that failures reproduce.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// The element stored at `at` in native byte order: each number's bytes
/// reversed if swapped (each part of a complex number on its own).
fn native(bytes: &[u8], at: usize, format: Format) -> Vec<u8> {
    let w = format.storage.itemsize();
    let mut element = bytes[at..at + w].to_vec();
    let part = match format.storage {
        Storage::Bool | Storage::Int8 | Storage::UInt8 | Storage::Bytes(_) => return element,
        Storage::Complex64 | Storage::Complex128 => w / 2,
        _ => w,
    };
    if format.swapped {
        for p in element.chunks_mut(part) {
            p.reverse();
        }
    }
    element
}

/// Typed values of one dtype, in C order.
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    C128(Vec<Complex64>),
    Bytes(Vec<u8>, usize),
}

/// numexpr's widening of one native element, by Rust's own casts.
fn widen(storage: Storage, e: &[u8], into: &mut Values) {
    let a2 = || [e[0], e[1]];
    let a4 = |at: usize| [e[at], e[at + 1], e[at + 2], e[at + 3]];
    let a8 = |at: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&e[at..at + 8]);
        b
    };
    match (storage, into) {
        (Storage::Bool, Values::Bool(v)) => v.push(e[0] != 0),
        (Storage::Int8, Values::I32(v)) => v.push(e[0] as i8 as i32),
        (Storage::UInt8, Values::I32(v)) => v.push(e[0] as i32),
        (Storage::Int16, Values::I32(v)) => v.push(i16::from_ne_bytes(a2()) as i32),
        (Storage::UInt16, Values::I32(v)) => v.push(u16::from_ne_bytes(a2()) as i32),
        (Storage::Int32, Values::I32(v)) => v.push(i32::from_ne_bytes(a4(0))),
        (Storage::UInt32, Values::I64(v)) => v.push(u32::from_ne_bytes(a4(0)) as i64),
        (Storage::Int64, Values::I64(v)) => v.push(i64::from_ne_bytes(a8(0))),
        (Storage::UInt64, Values::I64(v)) => v.push(u64::from_ne_bytes(a8(0)) as i64),
        (Storage::Float16, Values::F32(v)) => {
            v.push(half::f16::from_bits(u16::from_ne_bytes(a2())).to_f32())
        }
        (Storage::Float32, Values::F32(v)) => v.push(f32::from_bits(u32::from_ne_bytes(a4(0)))),
        (Storage::Float64, Values::F64(v)) => v.push(f64::from_bits(u64::from_ne_bytes(a8(0)))),
        (Storage::Complex64, Values::C128(v)) => v.push(Complex64::new(
            f32::from_bits(u32::from_ne_bytes(a4(0))) as f64,
            f32::from_bits(u32::from_ne_bytes(a4(4))) as f64,
        )),
        (Storage::Complex128, Values::C128(v)) => v.push(Complex64::new(
            f64::from_bits(u64::from_ne_bytes(a8(0))),
            f64::from_bits(u64::from_ne_bytes(a8(8))),
        )),
        (Storage::Bytes(_), Values::Bytes(v, _)) => v.extend_from_slice(e),
        (storage, _) => panic!("no reference widening of {storage:?}"),
    }
}

/// The byte address of every element of the layout, in C order.
fn addresses(shape: &[usize], strides: &[isize], offset: usize) -> Vec<i128> {
    let mut out = vec![offset as i128];
    for (&n, &s) in shape.iter().zip(strides) {
        out = out
            .iter()
            .flat_map(|&base| (0..n).map(move |i| base + i as i128 * s as i128))
            .collect();
    }
    out
}

/// The reference: the widened values of the stored elements, as an ordinary
/// C-order array; `None` if some element lies outside `bytes`.
fn reference(
    bytes: &[u8],
    format: Format,
    shape: &[usize],
    strides: &[isize],
    offset: usize,
) -> Option<Array> {
    let w = format.storage.itemsize();
    let mut values = match format.storage.dtype() {
        DType::Bool => Values::Bool(Vec::new()),
        DType::Int32 => Values::I32(Vec::new()),
        DType::Int64 => Values::I64(Vec::new()),
        DType::Float32 => Values::F32(Vec::new()),
        DType::Float64 => Values::F64(Vec::new()),
        DType::Complex128 => Values::C128(Vec::new()),
        DType::Bytes(width) => Values::Bytes(Vec::new(), width),
    };
    if shape.contains(&0) {
        if offset > bytes.len() {
            return None;
        }
    } else {
        for at in addresses(shape, strides, offset) {
            if at < 0 || at + w as i128 > bytes.len() as i128 {
                return None;
            }
            widen(
                format.storage,
                &native(bytes, at as usize, format),
                &mut values,
            );
        }
    }
    Some(
        match values {
            Values::Bool(v) => Array::from_vec(v, shape),
            Values::I32(v) => Array::from_vec(v, shape),
            Values::I64(v) => Array::from_vec(v, shape),
            Values::F32(v) => Array::from_vec(v, shape),
            Values::F64(v) => Array::from_vec(v, shape),
            Values::C128(v) => Array::from_vec(v, shape),
            Values::Bytes(data, width) => Array::from_buffer(Buffer::Bytes { data, width }, shape),
        }
        .expect("the reference matches its shape"),
    )
}

/// The expressions each case evaluates: element-wise, a reduction, and one
/// with a second (ordinary) input; those a type refuses must be refused alike.
const EXPRESSIONS: [&str; 6] = [
    "a + a",
    "sum(a)",
    "a*2 + b",
    "a == b",
    "a < b",
    "max(a, axis=0)",
];

fn same_bits(x: &Array, y: &Array) -> bool {
    x.dtype() == y.dtype()
        && x.shape() == y.shape()
        && x.buffer().data().as_bytes() == y.buffer().data().as_bytes()
}

/// Evaluates every expression over the stored view and over the reference
/// (with the reference also as `b`), with a few options; returns how many
/// expressions the type accepted.
fn compare(view: ArrayView<'_>, want: &Array, what: &str) -> usize {
    assert_eq!(view.dtype(), want.dtype(), "{what}");
    assert_eq!(view.shape(), want.shape(), "{what}");
    let stored = Env::new().with("a", view).with("b", want);
    let plain = Env::new().with("a", want).with("b", want);
    let mut accepted = 0;
    for source in EXPRESSIONS {
        let Ok(expr) = Expr::compile(source, &Signature::of(&plain)) else {
            continue;
        };
        accepted += 1;
        let shapes = (expr.result_shape(&stored), expr.result_shape(&plain));
        match shapes {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "{what}: result_shape of {source}"),
            (Err(x), Err(y)) => assert_eq!(x.message(), y.message(), "{what}: {source}"),
            (x, y) => panic!("{what}: result_shape of {source}: {x:?} against {y:?}"),
        }
        for options in [
            Options::default(),
            Options::default()
                .with_threads(2)
                .with_block_len(16)
                .with_jit(false),
        ] {
            let got = expr.eval_with(&stored, options);
            let expected = expr.eval_with(&plain, options);
            match (&got, &expected) {
                (Ok(x), Ok(y)) => assert!(
                    same_bits(x, y),
                    "{what}: {source} gave {x:?}, the widened array {y:?}"
                ),
                (Err(x), Err(y)) => {
                    assert_eq!((x.kind(), x.message()), (y.kind(), y.message()), "{what}")
                }
                _ => panic!("{what}: {source} gave {got:?}, the widened array {expected:?}"),
            }
        }
    }
    accepted
}

/// A layout: shape, byte strides and byte offset for elements of `w` bytes in
/// a buffer of `len` bytes.
type Layout = (&'static str, Vec<usize>, Vec<isize>, usize);

fn layouts(w: usize, len: usize) -> Vec<Layout> {
    let wi = w as isize;
    vec![
        ("contiguous", vec![10], vec![wi], 0),
        (
            "2-D strided by multiples",
            vec![7, 9],
            vec![wi * 20, wi * 2],
            0,
        ),
        (
            "strides not multiples",
            vec![6, 5],
            vec![5 * wi + 3, wi + 1],
            2,
        ),
        (
            "negative strides",
            vec![4, 6],
            vec![-(8 * wi + 1), -(wi + 2)],
            3 * (8 * w + 1) + 5 * (w + 2) + 1,
        ),
        ("broadcast rows", vec![5, 7], vec![0, wi], 3),
        ("broadcast columns", vec![6, 4], vec![wi + 1, 0], 0),
        ("0-d", vec![], vec![], 5),
        ("size 1", vec![1, 1, 1], vec![17, -3, 99], 4),
        ("empty", vec![0, 3], vec![wi, wi], 0),
        ("empty at the end", vec![3, 0], vec![wi, wi], len),
    ]
}

#[test]
#[cfg_attr(
    miri,
    ignore = "thousands of evaluations, and no unsafe code of its own"
)]
fn every_storage_and_layout_matches_the_widened_array() {
    for (k, storage) in STORAGES.into_iter().enumerate() {
        for swapped in [false, true] {
            for misaligned in [0, 1] {
                let format = Format { storage, swapped };
                let w = storage.itemsize();
                // An 8-aligned allocation, entered 0 or 1 bytes in.
                let words = noise(200 * w + 64, 1 + k as u64);
                let backing: Vec<u64> = words
                    .chunks(8)
                    .map(|c| {
                        let mut b = [0; 8];
                        b[..c.len()].copy_from_slice(c);
                        u64::from_ne_bytes(b)
                    })
                    .collect();
                let bytes = &bytemuck::cast_slice::<u64, u8>(&backing)[misaligned..];
                let mut accepted = 0;
                for (name, shape, strides, offset) in layouts(w, bytes.len()) {
                    let what = format!("{format:?}, {name}, {misaligned} byte(s) in");
                    let view = ArrayView::from_bytes(bytes, format, &shape, &strides, offset)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    let want = reference(bytes, format, &shape, &strides, offset)
                        .unwrap_or_else(|| panic!("{what}: outside the bytes"));
                    accepted = accepted.max(compare(view, &want, &what));
                }
                // Numbers take at least `+`, `sum`, `*`, `==`; strings `==`, `<`.
                let least = if storage.dtype().is_bytes() { 2 } else { 4 };
                assert!(accepted >= least, "{format:?}: {accepted} expressions");
            }
        }
    }
}

#[test]
fn numexprs_widening_of_edge_values() {
    let eval = |bytes: &[u8], storage: Storage| {
        let format = Format::native(storage);
        let w = storage.itemsize();
        let n = bytes.len() / w;
        let a = ArrayView::from_bytes(bytes, format, &[n], &[w as isize], 0).unwrap();
        vexpr::evaluate("a", &Env::new().with("a", a)).unwrap()
    };
    let u64s: Vec<u8> = [u64::MAX, 1 << 63, 7]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    let r = eval(&u64s, Storage::UInt64);
    assert_eq!(r.as_slice::<i64>().unwrap(), [-1, i64::MIN, 7]);
    let u32s: Vec<u8> = [u32::MAX, 0].iter().flat_map(|x| x.to_ne_bytes()).collect();
    let r = eval(&u32s, Storage::UInt32);
    assert_eq!(r.as_slice::<i64>().unwrap(), [4_294_967_295, 0]);
    let r = eval(&[0x80, 0x7F, 0xFF], Storage::Int8);
    assert_eq!(r.as_slice::<i32>().unwrap(), [-128, 127, -1]);
    let r = eval(&[0x80, 0x7F, 0xFF], Storage::UInt8);
    assert_eq!(r.as_slice::<i32>().unwrap(), [128, 127, 255]);
    // Smallest subnormal, infinity, a NaN, 65504 (the largest float16).
    let halves: Vec<u8> = [0x0001u16, 0x7C00, 0x7E01, 0x7BFF]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    let r = eval(&halves, Storage::Float16);
    let r = r.as_slice::<f32>().unwrap();
    assert_eq!(r[0], 2f32.powi(-24));
    assert_eq!(r[1], f32::INFINITY);
    assert!(r[2].is_nan());
    assert_eq!(r[3], 65504.0);
    // Any nonzero byte is True, and is 1 to the kernels.
    let r = eval(&[0, 1, 2, 255], Storage::Bool);
    assert_eq!(r.as_slice::<bool>().unwrap(), [false, true, true, true]);
    let bools = [0u8, 2, 255, 1];
    let a = ArrayView::from_bytes(&bools, Format::native(Storage::Bool), &[4], &[1], 0).unwrap();
    assert!(
        a.format().is_some(),
        "bytes other than 0 and 1 are not bools"
    );
    let r = vexpr::evaluate("sum(a) + 0*a", &Env::new().with("a", a)).unwrap();
    assert_eq!(r.as_slice::<i64>().unwrap(), [3, 3, 3, 3]);
}

#[test]
fn native_aligned_elements_of_vexprs_types_are_read_in_place() {
    let values: Vec<f64> = (0..16).map(f64::from).collect();
    let bytes: &[u8] = bytemuck::cast_slice(&values);
    let native = Format::native(Storage::Float64);
    let typed = ArrayView::from_bytes(bytes, native, &[4, 4], &[32, 8], 0).unwrap();
    assert!(typed.format().is_none());
    let data = typed.data().expect("a typed view");
    assert_eq!(data.as_bytes().as_ptr(), bytes.as_ptr(), "zero-copy");
    assert!(typed.is_c_contiguous());
    // Reversed rows, by whole elements: still typed.
    let reversed = ArrayView::from_bytes(bytes, native, &[4, 4], &[-32, 8], 96).unwrap();
    assert!(reversed.data().is_some());
    let r = vexpr::evaluate("a", &Env::new().with("a", reversed)).unwrap();
    assert_eq!(r.as_slice::<f64>().unwrap()[..4], [12.0, 13.0, 14.0, 15.0]);
    // Misaligned, or strided by a part of an element, or swapped: converted.
    let odd = &bytes[1..];
    let converted = [
        ArrayView::from_bytes(odd, native, &[3], &[8], 0).unwrap(),
        ArrayView::from_bytes(bytes, native, &[3], &[12], 0).unwrap(),
        ArrayView::from_bytes(
            bytes,
            Format {
                swapped: true,
                ..native
            },
            &[3],
            &[8],
            0,
        )
        .unwrap(),
        ArrayView::from_bytes(bytes, Format::native(Storage::UInt64), &[3], &[8], 0).unwrap(),
    ];
    for view in converted {
        assert!(view.data().is_none() && view.format().is_some(), "{view:?}");
    }
    // Strings are typed at any alignment; swapping one-byte elements means
    // nothing.
    let s3 = Format {
        storage: Storage::Bytes(3),
        swapped: true,
    };
    let s = ArrayView::from_bytes(odd, s3, &[2, 2], &[-6, 3], 6).unwrap();
    assert_eq!(s.data().map(|d| d.dtype()), Some(DType::Bytes(3)));
    // Bools never are: any byte may be stored there.
    let bools = [0u8, 1, 1, 0];
    let b = ArrayView::from_bytes(&bools, Format::native(Storage::Bool), &[4], &[1], 0).unwrap();
    assert_eq!((b.dtype(), b.data().is_none()), (DType::Bool, true));
}

#[test]
fn views_outside_their_bytes_are_refused() {
    let bytes = [0u8; 16];
    let f8 = Format::native(Storage::Float64);
    let u2 = Format::native(Storage::UInt16);
    // The last element's last byte is one past the end.
    assert!(ArrayView::from_bytes(&bytes, f8, &[2], &[8], 1).is_err());
    assert!(ArrayView::from_bytes(&bytes, f8, &[2], &[8], 0).is_ok());
    assert!(ArrayView::from_bytes(&bytes, u2, &[2], &[-3], 2).is_err());
    assert!(ArrayView::from_bytes(&bytes, u2, &[2], &[-3], 3).is_ok());
    assert!(ArrayView::from_bytes(&bytes, u2, &[2, 2], &[1], 0).is_err());
    // Empty views need only their offset inside (or at the end).
    assert!(ArrayView::from_bytes(&bytes, f8, &[0], &[isize::MAX], 16).is_ok());
    assert!(ArrayView::from_bytes(&bytes, f8, &[0], &[8], 17).is_err());
    // Absurd shapes and strides overflow nothing.
    let huge = [usize::MAX, usize::MAX];
    assert!(ArrayView::from_bytes(&bytes, u2, &huge, &[isize::MAX, isize::MIN], 0).is_err());
    assert!(ArrayView::from_bytes(&bytes, u2, &huge, &[0, 0], 0).is_ok());
    assert!(ArrayView::from_bytes(&bytes, f8, &[usize::MAX], &[1], usize::MAX).is_err());
    let huger = [usize::MAX; 3];
    for stride in [isize::MIN, isize::MAX] {
        let strides = [stride; 3];
        assert!(ArrayView::from_bytes(&bytes, u2, &huger, &strides, 0).is_err());
        let floats = [0.0f64; 2];
        let typed = ArrayView::strided(&floats[..], &huger, &strides, 0);
        assert!(typed.is_err());
    }
    // Zero-width strings cannot have elements.
    let s0 = Format::native(Storage::Bytes(0));
    assert!(ArrayView::from_bytes(&bytes, s0, &[3], &[0], 0).is_err());
    assert!(ArrayView::from_bytes(&bytes, s0, &[0], &[0], 0).is_ok());
    // A broadcast stored view too large to count is refused at evaluation.
    let a = ArrayView::from_bytes(&bytes, u2, &huge, &[0, 0], 0).unwrap();
    let err = vexpr::evaluate("a + 1", &Env::new().with("a", a)).unwrap_err();
    assert_eq!(err.kind(), vexpr::ErrorKind::Shape);
}

/// A million uint8 values go through the gather block by block (there is no
/// conversion of the whole array to make); big-endian float64 values at
/// every thread count, with and without machine code, give the bits of the
/// native array.
#[test]
#[cfg_attr(miri, ignore = "a million elements: too slow under Miri")]
fn large_stored_inputs_match() {
    let n = 1_000_000;
    let raw = noise(n, 99);
    let u1 = Format::native(Storage::UInt8);
    let a = ArrayView::from_bytes(&raw, u1, &[n], &[1], 0).unwrap();
    let b: Vec<f64> = (0..n).map(|i| i as f64 * 0.25).collect();
    let env = Env::new().with("a", a).with("b", &b);
    let r = vexpr::evaluate("a*2 + b", &env).unwrap();
    let want: Vec<f64> = raw
        .iter()
        .zip(&b)
        .map(|(&x, &y)| f64::from(i32::from(x) * 2) + y)
        .collect();
    assert!(r.as_slice::<f64>().unwrap() == want.as_slice());
    let total = vexpr::evaluate("sum(a)", &env).unwrap();
    let sum: i64 = raw.iter().map(|&x| i64::from(x)).sum();
    assert_eq!(total.as_slice::<i64>().unwrap(), [sum]);

    let values: Vec<f64> = (0..n).map(|i| (i as f64).sqrt() - 300.0).collect();
    let swapped: Vec<u8> = values.iter().flat_map(|x| x.to_be_bytes()).collect();
    let big = Format {
        storage: Storage::Float64,
        swapped: cfg!(target_endian = "little"),
    };
    let stored = ArrayView::from_bytes(&swapped, big, &[n], &[8], 0).unwrap();
    let stored = Env::new().with("a", stored);
    let plain = Env::new().with("a", &values);
    for threads in [1, 2] {
        for jit in [false, true] {
            let options = Options::default().with_threads(threads).with_jit(jit);
            let source = "sin(a)**2 + 3*a - exp(a*1e-3)";
            let x = vexpr::evaluate_with(source, &stored, options).unwrap();
            let y = vexpr::evaluate_with(source, &plain, options).unwrap();
            assert!(same_bits(&x, &y), "threads {threads}, jit {jit}");
        }
    }
}

#[test]
fn stored_inputs_work_with_every_entry_point() {
    let raw: Vec<u8> = (0..12u8).collect();
    let i2 = Format {
        storage: Storage::Int16,
        swapped: true,
    };
    // [[0x0001, 0x0203, 0x0405], [0x0607, 0x0809, 0x0A0B]] read big-endian
    // on a little-endian machine (swapped from whatever is native).
    let a = ArrayView::from_bytes(&raw, i2, &[2, 3], &[6, 2], 0).unwrap();
    let value = |k: usize| {
        let e = [raw[2 * k], raw[2 * k + 1]];
        i32::from(i16::from_ne_bytes([e[1], e[0]]))
    };
    let want: Vec<i32> = (0..6).map(|k| value(k) + 1).collect();
    let sig = Signature::new()
        .with("a", DType::Int32)
        .with("c", DType::Int32);
    let env = Env::new().with("a", a.clone());
    let expr = Expr::compile("a + 1", &sig).unwrap();
    assert_eq!(expr.result_shape(&env).unwrap(), [2, 3]);
    let mut out = [0i32; 6];
    expr.eval_into(&env, &mut out).unwrap();
    assert_eq!(out, want.as_slice());
    // In place into `c`, reading the stored `a`.
    let mut c = vec![100i32; 6];
    let add = Expr::compile("c + a", &sig).unwrap();
    add.eval_in_place(&env, "c", &[2, 3], &mut c).unwrap();
    let sums: Vec<i32> = (0..6).map(|k| 100 + value(k)).collect();
    assert_eq!(c, sums);
    // Reductions along an axis, over the stored view.
    let env = Env::new().with("a", a);
    let r = vexpr::evaluate("sum(a, axis=1)", &env).unwrap();
    let rows = [
        value(0) + value(1) + value(2),
        value(3) + value(4) + value(5),
    ];
    assert_eq!(r.as_slice::<i64>().unwrap(), rows.map(i64::from));
}

/// One random layout: a storage, its byte order, a shape, byte strides and
/// an offset over random bytes.
fn arb_case() -> impl Strategy<Value = (Format, Vec<usize>, Vec<isize>, usize, Vec<u8>)> {
    (
        0..STORAGES.len(),
        any::<bool>(),
        prop::collection::vec((0usize..5, -40isize..40), 0..4),
        0usize..96,
        prop::collection::vec(any::<u8>(), 0..160),
    )
        .prop_map(|(k, swapped, dims, offset, bytes)| {
            let format = Format {
                storage: STORAGES[k],
                swapped,
            };
            let (shape, strides) = dims.into_iter().unzip();
            (format, shape, strides, offset, bytes)
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 8 } else { 600 },
        ..ProptestConfig::default()
    })]

    /// A layout is accepted exactly when every element lies inside the
    /// bytes, and then evaluates as the widened array does.
    #[test]
    fn random_layouts_match_the_widened_array(
        (format, shape, strides, offset, bytes) in arb_case(),
        misaligned in 0usize..2,
    ) {
        let bytes = &bytes[misaligned.min(bytes.len())..];
        let view = ArrayView::from_bytes(bytes, format, &shape, &strides, offset);
        let want = reference(bytes, format, &shape, &strides, offset);
        match (view, want) {
            (Ok(view), Some(want)) => {
                compare(view, &want, &format!("{format:?} {shape:?} {strides:?} {offset}"));
            }
            (Err(_), None) => {}
            (view, want) => prop_assert!(false, "from_bytes {view:?}, reference {want:?}"),
        }
    }
}

/// Contiguous stored booleans are read in place block by block when their
/// bytes are 0 and 1, and converted where a block has any other byte: every
/// boolean operation must see any nonzero byte as True, in whichever block,
/// at every block length and thread count.
#[test]
fn stored_booleans_with_stray_bytes_in_some_blocks() {
    let n = 20_000;
    // p: 0/1 with stray bytes in a few places (the first element, one in the
    // second 1024-block, the last); q: clean 0/1.
    let mut p: Vec<u8> = (0..n).map(|i| u8::from(i % 3 == 0)).collect();
    for (at, byte) in [(0, 2u8), (1500, 255), (8191, 0x80), (n - 1, 7)] {
        p[at] = byte;
    }
    // One more leading byte, so that the view starts at an offset.
    let q_bytes: Vec<u8> = std::iter::once(9)
        .chain((0..n).map(|i| u8::from(i % 5 < 2)))
        .collect();
    let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let truth_p: Vec<bool> = p.iter().map(|&b| b != 0).collect();
    let truth_q: Vec<bool> = q_bytes[1..].iter().map(|&b| b != 0).collect();
    let bool_view = |bytes: &'static [u8], offset: usize| {
        ArrayView::from_bytes(bytes, Format::native(Storage::Bool), &[n], &[1], offset).unwrap()
    };
    let p: &'static [u8] = Box::leak(p.into_boxed_slice());
    let q: &'static [u8] = Box::leak(q_bytes.into_boxed_slice());
    let env = Env::new()
        .with("p", bool_view(p, 0))
        .with("q", bool_view(q, 1))
        .with("a", &a[..]);
    type Reference = fn(bool, bool, f64) -> f64;
    // The logic reads stored booleans unchecked (any byte but zero is
    // true); everything else after the check.
    let cases: [(&str, Reference); 10] = [
        ("p & q", |p, q, _| f64::from(u8::from(p && q))),
        ("p | q", |p, q, _| f64::from(u8::from(p || q))),
        ("~p", |p, _, _| f64::from(u8::from(!p))),
        ("q & ~p", |p, q, _| f64::from(u8::from(q && !p))),
        ("p | ~q", |p, q, _| f64::from(u8::from(p || !q))),
        ("p ^ q", |p, q, _| f64::from(u8::from(p != q))),
        ("p == q", |p, q, _| f64::from(u8::from(p == q))),
        ("where(p, a, -a)", |p, _, a| if p { a } else { -a }),
        ("where(p & ~q, 1.0, 0.0) + a", |p, q, a| {
            f64::from(u8::from(p && !q)) + a
        }),
        // A stray byte read as its value would make the exponent negative,
        // which faults: the fault must not stand.
        ("(q*1 + 2) ** (1 - p*1)", |p, q, _| {
            if p { 1.0 } else { f64::from(u8::from(q)) + 2.0 }
        }),
    ];
    for (text, reference) in cases {
        let expected: Vec<f64> = (0..n)
            .map(|i| reference(truth_p[i], truth_q[i], a[i]))
            .collect();
        for (block, threads) in [(1024, 1), (8192, 2), (100, 2)] {
            let options = Options::default()
                .with_block_len(block)
                .with_threads(threads);
            let r = vexpr::evaluate_with(text, &env, options).unwrap();
            let got: Vec<f64> = match r.dtype() {
                DType::Bool => r
                    .as_slice::<bool>()
                    .unwrap()
                    .iter()
                    .map(|&b| f64::from(u8::from(b)))
                    .collect(),
                DType::Int32 => (r.as_slice::<i32>().unwrap().iter())
                    .map(|&v| f64::from(v))
                    .collect(),
                _ => r.as_slice::<f64>().unwrap().to_vec(),
            };
            assert_eq!(got, expected, "{text} at block {block}, {threads} threads");
        }
    }
    let sum = vexpr::evaluate("sum(p)", &env).unwrap();
    let count = truth_p.iter().filter(|&&b| b).count() as i64;
    assert_eq!(sum.as_slice::<i64>().unwrap(), [count]);
}
