//! Arrow interop (feature `arrow`) against the plain-slice path: every
//! expression evaluated over Arrow columns (sliced, with nulls, empty, of
//! every type vexpr reads) gives, at every valid row, the bits it gives over
//! plain slices of the same values, and nulls where Arrow's kernels put them;
//! refusals are errors with the place, never panics.

use arrow_array::types::{Int8Type, Int16Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, FixedSizeBinaryArray, Float16Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, PrimitiveArray, RecordBatch, StringArray,
    UInt32Array, UInt64Array,
};
use arrow_buffer::NullBuffer;
use std::sync::Arc;
use vexpr::interop::arrow::{Columns, evaluate, to_arrow, view};
use vexpr::{DType, Env, ErrorKind};

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

/// The values and validity of a result, as bits for exact comparison.
fn parts(a: &dyn Array) -> (Vec<u64>, Vec<bool>) {
    let valid = (0..a.len()).map(|i| a.is_valid(i)).collect();
    let values = if let Some(a) = a.as_any().downcast_ref::<Float64Array>() {
        a.values().iter().map(|x| x.to_bits()).collect()
    } else if let Some(a) = a.as_any().downcast_ref::<Float32Array>() {
        a.values().iter().map(|x| u64::from(x.to_bits())).collect()
    } else if let Some(a) = a.as_any().downcast_ref::<Int32Array>() {
        a.values().iter().map(|&x| x as u64).collect()
    } else if let Some(a) = a.as_any().downcast_ref::<Int64Array>() {
        a.values().iter().map(|&x| x as u64).collect()
    } else if let Some(a) = a.as_any().downcast_ref::<BooleanArray>() {
        a.values().iter().map(u64::from).collect()
    } else {
        panic!("unexpected result type {}", a.data_type())
    };
    (values, valid)
}

/// The plain result's values as bits.
fn plain_bits(a: &vexpr::Array) -> Vec<u64> {
    match a.dtype() {
        DType::Float64 => a
            .as_slice::<f64>()
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect(),
        DType::Float32 => a
            .as_slice::<f32>()
            .unwrap()
            .iter()
            .map(|x| u64::from(x.to_bits()))
            .collect(),
        DType::Int32 => a
            .as_slice::<i32>()
            .unwrap()
            .iter()
            .map(|&x| x as u64)
            .collect(),
        DType::Int64 => a
            .as_slice::<i64>()
            .unwrap()
            .iter()
            .map(|&x| x as u64)
            .collect(),
        DType::Bool => a
            .as_slice::<bool>()
            .unwrap()
            .iter()
            .map(|&x| u64::from(x))
            .collect(),
        other => panic!("unexpected {other}"),
    }
}

/// Checks `text` over `batch` against the plain path over `env` (the same
/// values as plain slices): the same bits at every valid row, and nulls
/// exactly at `nulls`.
fn same_as_plain(text: &str, batch: &RecordBatch, env: &Env<'_>, nulls: &[bool]) {
    let got = evaluate(text, batch).unwrap();
    let want = vexpr::evaluate(text, env).unwrap();
    let (values, valid) = parts(got.as_ref());
    let want = plain_bits(&want);
    assert_eq!(values.len(), want.len(), "{text}");
    for (i, ((v, w), ok)) in values.iter().zip(&want).zip(&valid).enumerate() {
        assert_eq!(*ok, !nulls[i], "{text}: validity of row {i}");
        if *ok {
            assert_eq!(v, w, "{text}: row {i}");
        }
    }
}

#[test]
fn every_primitive_type_is_read_as_the_plain_path_reads_it() {
    let n = 37;
    let f64s: Vec<f64> = (0..n).map(|i| (i as f64) * 0.75 - 9.0).collect();
    let f32s: Vec<f32> = f64s.iter().map(|&x| x as f32).collect();
    let i32s: Vec<i32> = (0..n).map(|i| i * 7 - 100).collect();
    let i64s: Vec<i64> = (0..n).map(|i| (i as i64) << 40).collect();
    let bools: Vec<bool> = (0..n).map(|i| i % 3 == 1).collect();
    let columns = batch(vec![
        ("d", Arc::new(Float64Array::from(f64s.clone()))),
        ("f", Arc::new(Float32Array::from(f32s.clone()))),
        ("i", Arc::new(Int32Array::from(i32s.clone()))),
        ("l", Arc::new(Int64Array::from(i64s.clone()))),
        ("b", Arc::new(BooleanArray::from(bools.clone()))),
    ]);
    let env = Env::new()
        .with("d", &f64s)
        .with("f", &f32s)
        .with("i", &i32s)
        .with("l", &i64s)
        .with("b", &bools);
    let none = vec![false; n as usize];
    for text in [
        "d * f + i",
        "where(b, l, i)",
        "sin(d) + sqrt(abs(f))",
        "(i % 5 == 0) | b",
        "l >> 3",
        "d / sum(d) + max(i)",
        "~b",
    ] {
        same_as_plain(text, &columns, &env, &none);
    }
}

/// A narrow Arrow type against its widened plain slice.
fn check_widened<T>(values: Vec<T::Native>, widen: impl Fn(T::Native) -> i64)
where
    T: arrow_array::ArrowPrimitiveType,
    PrimitiveArray<T>: From<Vec<T::Native>>,
{
    let array = PrimitiveArray::<T>::from(values.clone());
    let b = batch(vec![("a", Arc::new(array) as ArrayRef)]);
    let wide: Vec<i64> = values.iter().map(|&x| widen(x)).collect();
    let env = Env::new().with("a", &wide);
    let none = vec![false; values.len()];
    for text in ["a * 3 - 1", "a > 2", "sum(a)"] {
        let got = evaluate(text, &b).unwrap();
        let want = vexpr::evaluate(text, &env).unwrap();
        let (values, valid) = parts(got.as_ref());
        assert!(valid.iter().all(|&v| v));
        // int32 results of narrow types widen to int64 in the plain path:
        // compare as numbers.
        let got: Vec<i64> = match got.data_type() {
            arrow_schema::DataType::Int32 => {
                values.iter().map(|&x| x as u32 as i32 as i64).collect()
            }
            _ => values.iter().map(|&x| x as i64).collect(),
        };
        let want: Vec<i64> = match want.dtype() {
            DType::Bool => want
                .as_slice::<bool>()
                .unwrap()
                .iter()
                .map(|&x| x as i64)
                .collect(),
            DType::Int64 => {
                let w = want.as_slice::<i64>().unwrap().to_vec();
                if w.len() == 1 {
                    vec![w[0]; none.len()]
                } else {
                    w
                }
            }
            other => panic!("{other}"),
        };
        assert_eq!(got, want, "{text} of {}", std::any::type_name::<T>());
    }
}

#[test]
fn narrow_and_unsigned_types_are_widened_as_numexpr_does() {
    check_widened::<Int8Type>(vec![-128, -1, 0, 1, 127], i64::from);
    check_widened::<Int16Type>(vec![i16::MIN, -1, 0, 1, i16::MAX], i64::from);
    check_widened::<UInt8Type>(vec![0, 1, 2, 200, 255], i64::from);
    check_widened::<UInt16Type>(vec![0, 1, 2, 40000, 65535], i64::from);
    check_widened::<UInt32Type>(vec![0, 1, 2, 1 << 31, u32::MAX], i64::from);
    // uint64 keeps its bits: 2**64 - 1 reads as -1.
    check_widened::<UInt64Type>(vec![0, 1, 2, 1 << 62, u64::MAX], |x| x as i64);
    // The types' own dtypes.
    let a = Int8Array::from(vec![1, 2]);
    assert_eq!(view(&a).unwrap().dtype(), DType::Int32);
    let a = UInt32Array::from(vec![1, 2]);
    assert_eq!(view(&a).unwrap().dtype(), DType::Int64);
    let a = UInt64Array::from(vec![u64::MAX]);
    let r = vexpr::evaluate("a", &Env::new().with("a", view(&a).unwrap())).unwrap();
    assert_eq!(r.as_slice::<i64>().unwrap(), &[-1]);
}

#[test]
fn float16_is_widened_exactly() {
    let halves: Vec<half::f16> = [1.0f32, -2.5, 65504.0, 0.0001, -0.0, f32::INFINITY]
        .into_iter()
        .map(half::f16::from_f32)
        .collect();
    let b = batch(vec![(
        "h",
        Arc::new(Float16Array::from(halves.clone())) as ArrayRef,
    )]);
    let wide: Vec<f32> = halves.iter().map(|h| h.to_f32()).collect();
    let env = Env::new().with("h", &wide);
    same_as_plain("h * 2 + 1", &b, &env, &[false; 6]);
}

#[test]
fn sliced_arrays_are_read_from_their_offset() {
    let n = 100;
    let d: Vec<f64> = (0..n).map(|i| i as f64 * 1.25).collect();
    let i: Vec<i16> = (0..n).map(|i| i as i16 * 3 - 50).collect();
    let b: Vec<bool> = (0..n).map(|i| (i * 7) % 5 < 2).collect();
    let s: Vec<[u8; 3]> = (0..n)
        .map(|i| [b'a' + (i % 26) as u8, b'0' + (i % 10) as u8, 0])
        .collect();
    let d_arr = Float64Array::from(d.clone());
    let i_arr = Int16Array::from(i.clone());
    let b_arr = BooleanArray::from(b.clone());
    let s_arr = FixedSizeBinaryArray::try_from_iter(s.iter()).unwrap();
    // Offsets that are not a multiple of 8 (inside a byte of booleans).
    for (offset, len) in [(3, 50), (13, 0), (0, 100), (61, 39), (99, 1)] {
        let batch = batch(vec![
            ("d", Arc::new(d_arr.slice(offset, len)) as ArrayRef),
            ("i", Arc::new(i_arr.slice(offset, len))),
            ("b", Arc::new(b_arr.slice(offset, len))),
            ("s", Arc::new(s_arr.slice(offset, len))),
        ]);
        let wide: Vec<i32> = i[offset..offset + len]
            .iter()
            .map(|&x| i32::from(x))
            .collect();
        let flat: Vec<u8> = s[offset..offset + len].concat();
        let s_view = vexpr::ArrayView::from_bytes(
            &flat,
            vexpr::Format::native(vexpr::Storage::Bytes(3)),
            &[len],
            &[3],
            0,
        )
        .unwrap();
        let env = Env::new()
            .with("d", &d[offset..offset + len])
            .with("i", &wide)
            .with("b", &b[offset..offset + len])
            .with("s", s_view);
        let none = vec![false; len];
        for text in [
            "d * i",
            "where(b, d, -d)",
            "b & (i > 0)",
            "s == b'c3'",
            "contains(s, b'7')",
        ] {
            same_as_plain(text, &batch, &env, &none);
        }
        // A string result comes back as fixed-size binary.
        let r = evaluate("s", &batch).unwrap();
        let r = r.as_any().downcast_ref::<FixedSizeBinaryArray>().unwrap();
        assert_eq!(r.value_length(), 3);
        assert_eq!(r.value_data(), &flat[..]);
    }
}

#[test]
fn a_null_in_any_column_read_is_a_null_of_the_result() {
    let x = Float64Array::from(vec![Some(1.0), None, Some(3.0), Some(4.0), None, Some(6.0)]);
    let y = Int32Array::from(vec![Some(10), Some(20), None, Some(40), None, Some(60)]);
    let c = BooleanArray::from(vec![
        Some(true),
        Some(false),
        Some(true),
        None,
        Some(true),
        Some(false),
    ]);
    let z = Float64Array::from(vec![None, None, None, None, None, None]);
    let batch = batch(vec![
        ("x", Arc::new(x.clone()) as ArrayRef),
        ("y", Arc::new(y.clone())),
        ("c", Arc::new(c.clone())),
        ("z", Arc::new(z)),
    ]);
    // The plain path sees the values under the nulls as they are.
    let xv = x.values().to_vec();
    let yv = y.values().to_vec();
    let cv: Vec<bool> = c.values().iter().collect();
    let env = Env::new().with("x", &xv).with("y", &yv).with("c", &cv);
    let (nx, ny, nc) = (
        [false, true, false, false, true, false],
        [false, false, true, false, true, false],
        [false, false, false, true, false, false],
    );
    let or =
        |a: &[bool], b: &[bool]| -> Vec<bool> { a.iter().zip(b).map(|(p, q)| p | q).collect() };
    same_as_plain("x * 2", &batch, &env, &nx);
    same_as_plain("x + y", &batch, &env, &or(&nx, &ny));
    same_as_plain("where(c, x, y)", &batch, &env, &or(&or(&nx, &ny), &nc));
    same_as_plain("c & (y > 15)", &batch, &env, &or(&ny, &nc));
    // A column with nulls that the expression does not read changes nothing.
    same_as_plain("y * 0 + 7", &batch, &env, &ny);
    // A column of nulls only.
    let r = evaluate("z + x", &batch).unwrap();
    assert_eq!(r.null_count(), 6);
}

#[test]
fn where_differs_from_arrow_zip_as_documented() {
    // zip(c, x, y) would give [1, 20]: the null `y` at row 0 is not chosen,
    // and x's null at row 1 is not either. vexpr gives nulls at both rows.
    let batch = batch(vec![
        (
            "c",
            Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef,
        ),
        ("x", Arc::new(Int64Array::from(vec![Some(1), None]))),
        ("y", Arc::new(Int64Array::from(vec![None, Some(20)]))),
    ]);
    let r = evaluate("where(c, x, y)", &batch).unwrap();
    assert_eq!(r.null_count(), 2);
}

#[test]
fn reductions_refuse_columns_with_nulls() {
    let batch = batch(vec![
        (
            "x",
            Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)])) as ArrayRef,
        ),
        ("y", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]))),
        // A null buffer with no nulls in it is no null.
        (
            "w",
            Arc::new(Float64Array::new(
                vec![5.0, 6.0, 7.0].into(),
                Some(NullBuffer::new_valid(3)),
            )),
        ),
    ]);
    for text in ["sum(x)", "x / sum(y)", "max(x, axis=0) + y"] {
        let err = evaluate(text, &batch).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Input, "{text}");
        assert!(err.message().contains("`x`"), "{text}: {}", err.message());
        assert_eq!(err.source_text(), Some(text));
    }
    // Without nulls: the plain result, a one-value result repeated.
    let r = evaluate("y - sum(w)", &batch).unwrap();
    let r = r.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(r.values(), &[-17.0, -16.0, -15.0]);
    assert_eq!(r.null_count(), 0);
    let r = evaluate("min(y) + max(w)", &batch).unwrap();
    assert_eq!(
        r.as_any().downcast_ref::<Float64Array>().unwrap().values(),
        &[8.0, 8.0, 8.0]
    );
    let r = evaluate("2 > 1", &batch).unwrap();
    assert_eq!(
        r.as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap()
            .true_count(),
        3
    );
}

#[test]
fn empty_batches_give_empty_columns() {
    let batch = batch(vec![
        (
            "x",
            Arc::new(Float64Array::from(Vec::<f64>::new())) as ArrayRef,
        ),
        ("b", Arc::new(BooleanArray::from(Vec::<bool>::new()))),
        ("n", Arc::new(Int8Array::from(Vec::<i8>::new()))),
    ]);
    for (text, dtype) in [
        ("x * 2", arrow_schema::DataType::Float64),
        ("b | (n > 1)", arrow_schema::DataType::Boolean),
        ("n + 1", arrow_schema::DataType::Int32),
        ("x + sum(x)", arrow_schema::DataType::Float64),
        ("sum(x)", arrow_schema::DataType::Float64),
    ] {
        let r = evaluate(text, &batch).unwrap();
        assert_eq!(r.len(), 0, "{text}");
        assert_eq!(r.data_type(), &dtype, "{text}");
    }
    // `min` of nothing has no value: vexpr's own error.
    let err = evaluate("min(x)", &batch).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
}

#[test]
fn unreadable_columns_are_refused_only_when_read() {
    let batch = RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(vec![
            arrow_schema::Field::new("a", arrow_schema::DataType::Float64, false),
            arrow_schema::Field::new("name", arrow_schema::DataType::Utf8, false),
            arrow_schema::Field::new("dup", arrow_schema::DataType::Int32, false),
            arrow_schema::Field::new("dup", arrow_schema::DataType::Int32, false),
        ])),
        vec![
            Arc::new(Float64Array::from(vec![1.0, 2.0])),
            Arc::new(StringArray::from(vec!["p", "q"])),
            Arc::new(Int32Array::from(vec![1, 2])),
            Arc::new(Int32Array::from(vec![3, 4])),
        ],
    )
    .unwrap();
    assert!(evaluate("a * 2", &batch).is_ok());
    let err = evaluate("a + name", &batch).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    assert_eq!((err.span().start, err.span().end), (4, 8));
    assert!(err.message().contains("Utf8"), "{}", err.message());
    assert!(err.rendered().contains("^^^^"), "{}", err.rendered());
    let err = evaluate("dup + 1", &batch).unwrap_err();
    assert!(err.message().contains("two columns"), "{}", err.message());
    // An unknown name stays vexpr's own error.
    let err = evaluate("a + nope", &batch).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownName);
    // A value bound by name hides the column.
    let columns = Columns::new(&batch).with("name", 2.0);
    let r = columns.eval(&columns.compile("a * name").unwrap()).unwrap();
    assert_eq!(
        r.as_any().downcast_ref::<Float64Array>().unwrap().values(),
        &[2.0, 4.0]
    );
    // An expression compiled elsewhere that reads an unreadable column.
    let sig = vexpr::Signature::new().with("name", DType::Float64);
    let e = vexpr::Expr::compile("name * 2", &sig).unwrap();
    let err = Columns::new(&batch).eval(&e).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    // `view` refuses booleans and types vexpr does not read.
    let err = view(&BooleanArray::from(vec![true])).unwrap_err();
    assert!(err.message().contains("Columns"));
    let err = view(&StringArray::from(vec!["x"])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
}

#[test]
fn results_vexpr_cannot_hand_to_arrow_are_errors() {
    let batch = batch(vec![(
        "a",
        Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef,
    )]);
    let err = evaluate("a + 1j", &batch).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert!(err.message().contains("complex128"));
    // A 2-D value bound beside the columns makes a 2-D result.
    let m = vexpr::Array::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let columns = Columns::new(&batch).with("m", &m);
    let err = columns
        .eval(&columns.compile("a * m").unwrap())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    // to_arrow checks what it is given.
    let a = vexpr::Array::from_vec(vec![1i64, 2], &[2]).unwrap();
    let err = to_arrow(a.clone(), Some(NullBuffer::new_null(3))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    let err = to_arrow(m, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    let r = to_arrow(a, Some(NullBuffer::from(vec![false, true]))).unwrap();
    assert_eq!(r.null_count(), 1);
    let complex = vexpr::evaluate("1j + a", &Env::new().with("a", &[1.0][..])).unwrap();
    assert_eq!(
        ArrayRef::try_from(complex).unwrap_err().kind(),
        ErrorKind::Type
    );
}

#[test]
fn columns_serve_many_expressions_and_vexpr_entry_points() {
    let batch = batch(vec![
        (
            "px",
            Arc::new(Float64Array::from(vec![3.0, 0.0, -6.0])) as ArrayRef,
        ),
        ("py", Arc::new(Float32Array::from(vec![4.0, 2.0, 8.0]))),
        ("q", Arc::new(BooleanArray::from(vec![true, false, true]))),
    ]);
    let columns = Columns::new(&batch).with("cut", 4.5);
    assert_eq!((columns.len(), columns.is_empty()), (3, false));
    let pt = columns.compile("sqrt(px**2 + py**2)").unwrap();
    let r = columns.eval(&pt).unwrap();
    assert_eq!(
        r.as_any().downcast_ref::<Float64Array>().unwrap().values(),
        &[5.0, 2.0, 10.0]
    );
    let pass = columns.compile("q & (sqrt(px**2 + py**2) > cut)").unwrap();
    let r = columns.eval(&pass).unwrap();
    let r = r.as_any().downcast_ref::<BooleanArray>().unwrap();
    assert_eq!(
        r.iter().collect::<Vec<_>>(),
        [Some(true), Some(false), Some(true)]
    );
    let mut out = [0.0; 3];
    pt.eval_into(&columns.env(), &mut out).unwrap();
    assert_eq!(out, [5.0, 2.0, 10.0]);
    let r = columns
        .eval_with(&pt, vexpr::Options::new().with_threads(1))
        .unwrap();
    assert_eq!(r.len(), 3);
}
