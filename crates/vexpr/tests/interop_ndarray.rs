//! `ndarray` interop (feature `ndarray`) against the plain-slice path: every
//! expression evaluated over ndarray views of every layout gives the bits it
//! gives over a C-order copy of the same elements bound as an ordinary
//! `vexpr::Array`; outputs of every layout receive those bits and nothing
//! else; refusals are errors, never panics.

use ndarray::{
    Array, Array1, Array2, Array3, ArrayD, ArrayView, ArrayViewMut, Axis, Dimension, IxDyn,
    ShapeBuilder, arr0, array, s,
};
use num_complex::Complex32;
use proptest::prelude::*;
use vexpr::interop::ndarray::{NdElement, NdarrayEnv, NdarrayExpr, view_in};
use vexpr::{Complex64, Element, Env, ErrorKind, Expr, Signature};

/// The elements of `view` in C order, as an owned vexpr array of the
/// same shape: the plain path.
fn plain<T: Element, D: Dimension>(view: &ArrayView<'_, T, D>) -> vexpr::Array {
    vexpr::Array::from_vec(view.iter().copied().collect(), view.shape()).unwrap()
}

/// The result's elements as bits, for exact comparison (NaNs included).
fn bits(a: &vexpr::Array) -> (Vec<usize>, Vec<u8>) {
    (a.shape().to_vec(), a.view().bytes().to_vec())
}

/// Evaluates `text` with `a` (and `b`) bound through the ndarray path and
/// through the plain path, and checks that the results are the same bits.
fn same_as_plain<T: Element + NdElement, D: Dimension, E: Dimension>(
    text: &str,
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, E>,
) -> vexpr::Array {
    let env = Env::new()
        .with_ndarray("a", a.view())
        .unwrap()
        .with_ndarray("b", b.view())
        .unwrap();
    let (pa, pb) = (plain(&a), plain(&b));
    let plain_env = Env::new().with("a", &pa).with("b", &pb);
    let got = vexpr::evaluate(text, &env).unwrap();
    let want = vexpr::evaluate(text, &plain_env).unwrap();
    assert_eq!(
        bits(&got),
        bits(&want),
        "{text} over {:?} and {:?}",
        a.strides(),
        b.strides()
    );
    got
}

fn grid(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |idx| {
        let k = idx.slice().iter().fold(0usize, |acc, &i| acc * 7 + i);
        0.25 + (k as f64) * 0.37 - ((k * k) % 11) as f64
    })
}

/// Calls `$check(values, widen)` with six values of every element type the
/// interop reads, `widen` turning one into the type vexpr computes in.
macro_rules! every_element_type {
    ($check:ident) => {{
        $check(vec![true, false, true, true, false, false], |x| x);
        $check(vec![1i32, -2, 3, i32::MAX, i32::MIN, 0], |x| x);
        $check(vec![1i64, -2, 3, i64::MAX, i64::MIN, 0], |x| x);
        $check(
            vec![1.5f32, -2.0, f32::NAN, 4.0, f32::INFINITY, -0.0],
            |x| x,
        );
        $check(
            vec![1.5f64, -2.0, f64::NAN, 4.0, f64::INFINITY, -0.0],
            |x| x,
        );
        $check(
            (0..6)
                .map(|i| Complex64::new(i as f64, -(i as f64)))
                .collect(),
            |x| x,
        );
        $check(vec![-128i8, -1, 0, 1, 2, 127], i32::from);
        $check(vec![0u8, 1, 2, 128, 254, 255], i32::from);
        $check(vec![i16::MIN, -1, 0, 1, 2, i16::MAX], i32::from);
        $check(vec![0u16, 1, 2, 40000, 65534, 65535], i32::from);
        $check(vec![0u32, 1, 2, 1 << 31, u32::MAX - 1, u32::MAX], i64::from);
        // numexpr's widening of uint64 keeps the bits.
        $check(vec![0u64, 1, 2, 1 << 63, u64::MAX - 1, u64::MAX], |x| {
            x as i64
        });
        $check(
            [1.0f32, -2.5, 65504.0, 0.0001, -0.0, f32::INFINITY]
                .map(half::f16::from_f32)
                .to_vec(),
            half::f16::to_f32,
        );
        $check(
            (0..6)
                .map(|i| Complex32::new(i as f32 * 0.5, 1.0))
                .collect(),
            |x| Complex64::new(f64::from(x.re), f64::from(x.im)),
        );
    }};
}

#[test]
fn every_read_in_place_layout_matches_the_plain_path() {
    let c = grid(&[4, 5, 6]);
    let f = {
        let mut f = Array::zeros((4, 5, 6).f()).into_dyn();
        f.assign(&c);
        f
    };
    let exprs = [
        "a * 2 - b",
        "where(a > b, sin(a), b ** 2)",
        "sum(a * b, axis=1) + 1",
        "min(a - b)",
    ];
    // C and Fortran order, transposed, permuted, reversed, both.
    let views: Vec<ArrayView<'_, f64, IxDyn>> = vec![
        c.view(),
        f.view(),
        c.view().reversed_axes(),
        c.view().permuted_axes(vec![1, 2, 0]),
        c.slice(s![..;-1, .., ..;-1]).into_dyn(),
        f.slice(s![.., ..;-1, ..])
            .into_dyn()
            .permuted_axes(vec![2, 0, 1]),
    ];
    let mut compared = 0;
    for a in &views {
        for b in views.iter().filter(|b| b.shape() == a.shape()) {
            for text in exprs {
                same_as_plain(text, a.view(), b.view());
                compared += 1;
            }
        }
    }
    assert!(compared >= 4 * 8);
}

#[test]
fn broadcast_and_inserted_axes_are_read_in_place() {
    let row = Array1::from_iter((0..6).map(|i| i as f64 * 1.5 - 2.0));
    let column = Array1::from_iter((0..4).map(|i| 10.0 - i as f64));
    // Stride 0 along axis 0 (ndarray's broadcast), and a reversed column
    // with an inserted axis of length 1.
    let a = row.broadcast((4, 6)).unwrap();
    let b = column.slice(s![..;-1]).insert_axis(Axis(1));
    let r = same_as_plain("a * b + 1", a.view(), b.view());
    assert_eq!(r.shape(), &[4, 6]);
    // A view broadcast along a middle axis of three.
    let m = grid(&[3, 1, 5]);
    let wide = m.broadcast(IxDyn(&[3, 4, 5])).unwrap();
    let same = same_as_plain("a - b", wide.view(), wide.view());
    assert!(same.as_slice::<f64>().unwrap().iter().all(|&x| x == 0.0));
    same_as_plain("sum(a, axis=1) + b", wide.view(), m.view());
}

#[test]
fn zero_dimensional_empty_and_many_dimensional_views() {
    let scalar = arr0(2.5);
    let v = array![1.0, 2.0, 3.0];
    let r = same_as_plain("a * b", scalar.view(), v.view());
    assert_eq!(r.as_slice::<f64>().unwrap(), &[2.5, 5.0, 7.5]);

    let empty = Array2::<f64>::zeros((0, 3));
    let r = same_as_plain(
        "a + b",
        empty.view(),
        empty.view().reversed_axes().reversed_axes(),
    );
    assert_eq!(r.shape(), &[0, 3]);
    let r = same_as_plain("sum(a)", empty.view(), empty.view());
    assert_eq!(r.as_slice::<f64>().unwrap(), &[0.0]);

    // Six dimensions (more than vexpr keeps inline), permuted and reversed.
    let six = grid(&[2, 3, 1, 2, 3, 2]);
    let twisted = six
        .slice(s![.., ..;-1, .., .., ..;-1, ..])
        .into_dyn()
        .permuted_axes(vec![5, 3, 1, 0, 2, 4]);
    same_as_plain("a * 3 + b", twisted.view(), twisted.view());
    same_as_plain("sum(a, axis=2) - 1", twisted.view(), twisted.view());
}

#[test]
fn every_element_type_matches_the_plain_path() {
    fn check<T: NdElement + Copy, W: Element>(values: Vec<T>, widen: impl Fn(T) -> W) {
        let a = Array2::from_shape_vec((2, 3).f(), values).unwrap();
        let a = a.slice(s![.., ..;-1]);
        let env = Env::new().with_ndarray("a", a.view()).unwrap();
        let widened: Vec<W> = a.iter().map(|&x| widen(x)).collect();
        let plain = vexpr::Array::from_vec(widened, a.shape()).unwrap();
        let plain_env = Env::new().with("a", &plain);
        for text in ["a", "a + a", "a == a"] {
            let got = vexpr::evaluate(text, &env).unwrap();
            let want = vexpr::evaluate(text, &plain_env).unwrap();
            assert_eq!(
                bits(&got),
                bits(&want),
                "{text} of {}",
                std::any::type_name::<T>()
            );
        }
    }
    every_element_type!(check);
}

#[test]
fn owned_and_shared_arrays_convert_by_reference() {
    let a = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as i64);
    let shared = a.to_shared();
    let env = Env::new()
        .with_ndarray("a", &a)
        .unwrap()
        .with_ndarray("b", &shared)
        .unwrap();
    let r = vexpr::evaluate("sum(a - b) + sum(a)", &env).unwrap();
    assert_eq!(r.as_slice::<i64>().unwrap(), &[(0..24).sum::<i64>()]);
    // An owned array cut with steps leaves gaps like a view would: read in
    // place all the same.
    drop(env);
    let stepped = a.slice_move(s![.., .., ..;2]);
    let view = vexpr::ArrayView::try_from(&stepped).unwrap();
    assert_eq!(view.as_ptr(), stepped.as_ptr().cast::<u8>());
    let r = vexpr::evaluate("a * 3", &Env::new().with("a", view)).unwrap();
    let want = stepped.mapv(|x| x * 3);
    assert_eq!(
        r.as_slice::<i64>().unwrap(),
        want.iter().copied().collect::<Vec<_>>()
    );
}

/// Checks that `view`, whose elements leave gaps, converts without a copy
/// (through its pointer: no slice, its first element where ndarray's is),
/// and that `texts` over it give the bits they give over a C-order copy and
/// over the same view read in its parent's memory (`view_in`).
fn gapped_matches_the_copy<T: Element + NdElement, D: Dimension, P: Dimension>(
    what: &str,
    view: ArrayView<'_, T, D>,
    parent: ArrayView<'_, T, P>,
    texts: &[&str],
) {
    let converted = vexpr::ArrayView::try_from(view.view()).unwrap();
    assert!(converted.data().is_none(), "{what}: read through a slice");
    assert!(converted.bytes().is_empty(), "{what}");
    assert_eq!(converted.as_ptr(), view.as_ptr().cast::<u8>(), "{what}");
    assert_eq!(converted.shape(), view.shape(), "{what}");
    let env = Env::new().with_ndarray("a", view.view()).unwrap();
    let inside = Env::new().with("a", view_in(view.view(), parent).unwrap());
    let copy = plain(&view);
    let copy_env = Env::new().with("a", &copy);
    for text in texts {
        let want = vexpr::evaluate(text, &copy_env).unwrap();
        let got = vexpr::evaluate(text, &env).unwrap();
        assert_eq!(bits(&got), bits(&want), "{text} of {what}");
        let got = vexpr::evaluate(text, &inside).unwrap();
        assert_eq!(bits(&got), bits(&want), "{text} of {what} in its parent");
    }
}

#[test]
fn views_with_gaps_are_read_in_place() {
    let table = Array2::from_shape_fn((9, 4), |(i, j)| (i * 4 + j) as f64 * 0.75 - 7.0);
    let fortran = {
        let mut f = Array2::zeros((9, 4).f());
        f.assign(&table);
        f
    };
    // What, the view, and the array it was cut from.
    type Case<'a> = (
        &'a str,
        ArrayView<'a, f64, IxDyn>,
        ArrayView<'a, f64, IxDyn>,
    );
    let gapped: Vec<Case<'_>> = vec![
        (
            "a column of a row-major matrix",
            table.column(1).into_dyn(),
            table.view().into_dyn(),
        ),
        (
            "a row of a column-major matrix",
            fortran.row(2).into_dyn(),
            fortran.view().into_dyn(),
        ),
        (
            "a block",
            table.slice(s![1..4, 1..3]).into_dyn(),
            table.view().into_dyn(),
        ),
        (
            "every third row",
            table.slice(s![..;3, ..]).into_dyn(),
            table.view().into_dyn(),
        ),
        (
            "every other row, reversed",
            table.slice(s![..;-2, ..]).into_dyn(),
            table.view().into_dyn(),
        ),
        (
            "a reversed stepped column",
            table.slice(s![..;-2, 3]).into_dyn(),
            table.view().into_dyn(),
        ),
        (
            "a diagonal",
            table.diag().into_dyn(),
            table.view().into_dyn(),
        ),
        (
            "a transposed block of a Fortran matrix",
            fortran.slice(s![2..7, 1..;2]).reversed_axes().into_dyn(),
            fortran.view().into_dyn(),
        ),
    ];
    let texts = ["a * 2 + 1", "where(a > 0, sqrt(a), -a)", "sum(a)", "a > 5"];
    for (what, view, parent) in gapped {
        gapped_matches_the_copy(what, view, parent, &texts);
    }
    // One dimension, stepped both ways.
    let line = Array1::from_iter((0..20).map(|i| (i * i) as f64 - 50.5));
    gapped_matches_the_copy("s![..;3]", line.slice(s![..;3]), line.view(), &texts);
    gapped_matches_the_copy("s![..;-2]", line.slice(s![..;-2]), line.view(), &texts);
}

#[test]
fn many_dimensional_views_with_gaps_and_permuted_axes() {
    let cube = grid(&[5, 6, 7]);
    // Gaps along every axis, one reversed, the axes permuted.
    let view = cube
        .slice(s![1..;2, ..;-3, 1..6;2])
        .into_dyn()
        .permuted_axes(vec![2, 0, 1]);
    assert!(view.as_slice_memory_order().is_none());
    let texts = [
        "a * 3 - 1",
        "sum(a, axis=0)",
        "sum(a, axis=2) + 1",
        "prod(a, axis=1)",
        "max(a)",
    ];
    gapped_matches_the_copy("a 3-D view", view.view(), cube.view(), &texts);
    // Six dimensions, beyond what a view keeps inline, with gaps.
    let six = grid(&[3, 2, 4, 2, 3, 3]);
    let view = six
        .slice(s![..;2, .., 1..;2, ..;-1, .., ..;2])
        .into_dyn()
        .permuted_axes(vec![4, 0, 5, 2, 1, 3]);
    gapped_matches_the_copy("a 6-D view", view.view(), six.view(), &texts);
    // Against a C-order view of the same shape, and itself.
    let other = grid(view.shape());
    same_as_plain("a * b - a", view.view(), other.view());
    same_as_plain("a - b", view.view(), view.view());
}

#[test]
fn gapped_views_of_every_element_type_match_the_copy() {
    fn check<T: NdElement + Copy, W: Element>(values: Vec<T>, widen: impl Fn(T) -> W) {
        let big = Array2::from_shape_fn((6, 3), |(i, j)| values[(i + 2 * j) % 6]);
        let gapped: [ArrayView<'_, T, IxDyn>; 3] = [
            big.column(1).into_dyn(),
            big.slice(s![..;-2, ..;2]).into_dyn(),
            big.slice(s![1..;2, ..;2]).reversed_axes().into_dyn(),
        ];
        for a in gapped {
            let converted = vexpr::ArrayView::try_from(a.view()).unwrap();
            assert!(converted.data().is_none());
            assert_eq!(converted.as_ptr(), a.as_ptr().cast::<u8>());
            assert_eq!(converted.dtype(), T::STORAGE.dtype());
            let env = Env::new().with_ndarray("a", a.view()).unwrap();
            let widened: Vec<W> = a.iter().map(|&x| widen(x)).collect();
            let copy = vexpr::Array::from_vec(widened, a.shape()).unwrap();
            let copy_env = Env::new().with("a", &copy);
            // Miri gives the NaN an operation makes a random sign and
            // payload: there, only what copies the elements is compared.
            let texts: &[&str] = if cfg!(miri) {
                &["a", "a == a"]
            } else {
                &["a", "a + a", "a == a"]
            };
            for text in texts {
                let got = vexpr::evaluate(text, &env).unwrap();
                let want = vexpr::evaluate(text, &copy_env).unwrap();
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "{text} of {} with strides {:?}",
                    std::any::type_name::<T>(),
                    a.strides()
                );
            }
        }
    }
    every_element_type!(check);
}

#[test]
fn gapped_views_broadcast_and_reduce() {
    let table = Array2::from_shape_fn((6, 5), |(i, j)| (i * 5 + j) as f64 - 12.5);
    let row = Array1::from_iter((0..4).map(|i| i as f64 * 2.0 + 0.5));
    // A column (stride 5) against a row: broadcast to (6, 4).
    let column = table.column(2).insert_axis(Axis(1));
    let r = same_as_plain("a * b + 1", column.view(), row.view());
    assert_eq!(r.shape(), &[6, 4]);
    // A gapped view broadcast by ndarray itself (stride 0 and gaps).
    let wide = table.slice(s![..;2, 3]).insert_axis(Axis(0));
    let wide = wide.broadcast((4, 3)).unwrap();
    let r = same_as_plain("a - b", wide.view(), table.slice(s![1..5, ..;2]));
    assert_eq!(r.shape(), &[4, 3]);
    // Reductions over a block with gaps, whole and along each axis.
    let block = table.slice(s![1..5, ..;-2]);
    for text in [
        "sum(a)",
        "prod(a)",
        "min(a, axis=0)",
        "max(a, axis=1)",
        "sum(a * b, axis=1)",
    ] {
        same_as_plain(text, block.view(), block.view());
    }
}

#[test]
fn a_gapped_view_is_read_while_another_thread_writes_between_its_elements() {
    // Small under Miri, which checks every access for races.
    let rows = if cfg!(miri) { 12 } else { 20_000 };
    let mut table = Array2::from_shape_fn((rows, 4), |(i, j)| (i * 4 + j) as f64 * 0.5);
    let copy = table.slice(s![.., ..;2]).to_owned();
    let want = vexpr::evaluate("a * 2 + 1", &Env::new().with_ndarray("a", &copy).unwrap()).unwrap();
    let options = vexpr::Options::default().with_threads(2).with_block_len(64);
    {
        // Columns 0 and 2 read; columns 1 and 3, between them, written.
        let (read, mut written) = table.multi_slice_mut((s![.., ..;2], s![.., 1..;2]));
        let read = read.view();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for round in 0..3 {
                    written.fill(-(round as f64));
                }
            });
            let env = Env::new().with_ndarray("a", read.view()).unwrap();
            assert_eq!(
                vexpr::ArrayView::try_from(read.view()).unwrap().as_ptr(),
                read.as_ptr().cast::<u8>()
            );
            for _ in 0..3 {
                let got = vexpr::evaluate_with("a * 2 + 1", &env, options).unwrap();
                assert_eq!(bits(&got), bits(&want));
            }
        });
    }
    assert!(table.column(3).iter().all(|&x| x == -2.0));
    // The same with `split_at`: the left two columns read (each row's pair
    // a gap apart from the next), the right two written.
    let copy = table.slice(s![.., ..2]).to_owned();
    let want = vexpr::evaluate(
        "sum(a, axis=1)",
        &Env::new().with_ndarray("a", &copy).unwrap(),
    )
    .unwrap();
    let (left, mut right) = table.view_mut().split_at(Axis(1), 2);
    std::thread::scope(|scope| {
        scope.spawn(move || right.fill(7.0));
        let env = Env::new().with_ndarray("a", left.view()).unwrap();
        let got = vexpr::evaluate_with("sum(a, axis=1)", &env, options).unwrap();
        assert_eq!(bits(&got), bits(&want));
    });
    assert!(table.column(2).iter().all(|&x| x == 7.0));
}

#[test]
fn gapped_views_evaluate_a_chunk_at_a_time() {
    use vexpr::chunked::{Chunking, Input, MemorySink};
    let table = Array2::from_shape_fn((11, 6), |(i, j)| (i * 6 + j) as f64 * 0.5 - 9.0);
    let view = table.slice(s![..;-2, 1..;2]);
    let env = Env::new().with_ndarray("a", view.view()).unwrap();
    for text in ["a * 2 - 1", "a - sum(a, axis=0)"] {
        let e = Expr::compile(text, &Signature::of(&env)).unwrap();
        let want = e.eval(&env).unwrap();
        for chunk_len in [1, 2, 5, 7] {
            let value = env.get("a").unwrap().clone();
            let mut inputs = [Input::Value(value)];
            let mut sink = MemorySink::default();
            let chunking = Chunking {
                chunk_len,
                progress: None,
            };
            e.eval_chunked(&mut inputs, &mut sink, vexpr::Options::default(), chunking)
                .unwrap();
            let got = sink.into_array().unwrap();
            assert_eq!(bits(&got), bits(&want), "{text} by {chunk_len}");
        }
    }
}

#[test]
fn view_in_refuses_what_it_cannot_prove() {
    let table = Array2::from_shape_fn((4, 4), |(i, j)| (i * 4 + j) as f64);
    let other = table.clone();
    // A view of another array.
    let err = view_in(other.column(0), table.view()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Input);
    assert!(err.message().contains("does not lie inside"));
    // A part of the table given with a smaller part of it.
    let err = view_in(table.column(3), table.slice(s![..2, ..])).unwrap_err();
    assert!(err.message().contains("does not lie inside"));
    // A parent that has gaps itself.
    let err = view_in(table.slice(s![..;2, 0]), table.slice(s![.., ..2])).unwrap_err();
    assert!(err.message().contains("gaps"));
    // An empty view needs no memory.
    let empty = view_in(table.slice(s![0..0, 1]), other.view()).unwrap();
    assert_eq!(empty.shape(), &[0]);
}

#[test]
fn results_come_out_as_arrayd() {
    let a = Array2::from_shape_fn((3, 4), |(i, j)| (i as f64) - (j as f64) * 0.5);
    let env = Env::new().with_ndarray("a", a.t()).unwrap();
    let e = Expr::compile("a * a + 1", &Signature::of(&env)).unwrap();
    let r = e.eval_ndarray::<f64>(&env).unwrap();
    assert_eq!(r.shape(), &[4, 3]);
    let want = a.t().mapv(|x| x * x + 1.0).into_dyn();
    assert_eq!(r, want);

    let e = Expr::compile("sum(a, axis=0) > 0", &Signature::of(&env)).unwrap();
    let r = e.eval_ndarray::<bool>(&env).unwrap();
    assert_eq!(r.shape(), &[3]);

    // The wrong element type: an error about the whole expression.
    let err = e.eval_ndarray::<f64>(&env).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    assert_eq!(err.span().end, "sum(a, axis=0) > 0".len());
    let plain_result = vexpr::evaluate("a + 1", &env).unwrap();
    let err = ArrayD::<i32>::try_from(plain_result).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
}

/// `out` filled with a sentinel, evaluated into through `make`, and checked:
/// the part `make` selects holds the plain result, the rest the sentinel.
fn check_output<F>(text: &str, env: &Env<'_>, shape: (usize, usize, usize), make: F)
where
    F: Fn(ArrayViewMut<'_, f64, ndarray::Ix3>) -> ArrayViewMut<'_, f64, IxDyn>,
{
    const SENTINEL: f64 = -12345.0;
    let e = Expr::compile(text, &Signature::of(env)).unwrap();
    let want = e.eval_ndarray::<f64>(env).unwrap();
    let mut out = Array3::from_elem(shape, SENTINEL);
    let mut touched = Array3::from_elem(shape, 0.0);
    make(touched.view_mut()).fill(1.0);
    e.eval_into_ndarray(env, make(out.view_mut())).unwrap();
    let part = make(out.view_mut()).to_owned();
    assert_eq!(part.mapv(f64::to_bits), want.mapv(f64::to_bits), "{text}");
    for (x, t) in out.iter().zip(touched.iter()) {
        if *t == 0.0 {
            assert_eq!(x.to_bits(), SENTINEL.to_bits(), "{text}: a gap was written");
        }
    }
}

#[test]
fn outputs_of_every_layout_receive_the_result() {
    let a = grid(&[3, 4, 5]);
    let b = grid(&[4, 5]);
    let env = Env::new()
        .with_ndarray("a", &a)
        .unwrap()
        .with_ndarray("b", &b)
        .unwrap();
    for text in ["a * b - 1", "a / sum(b) + max(a)", "where(a > 0, a, b)"] {
        check_output(text, &env, (3, 4, 5), |v| v.into_dyn());
        check_output(text, &env, (5, 4, 3), |v| v.reversed_axes().into_dyn());
        check_output(text, &env, (3, 4, 5), |v| {
            v.slice_move(s![..;-1, .., ..;-1]).into_dyn()
        });
        // Inside larger arrays: blocks, steps, reversed steps.
        check_output(text, &env, (4, 6, 7), |v| {
            v.slice_move(s![1.., 1..5, 2..]).into_dyn()
        });
        check_output(text, &env, (6, 4, 10), |v| {
            v.slice_move(s![..;2, .., ..;-2]).into_dyn()
        });
        check_output(text, &env, (5, 4, 3), |v| {
            v.permuted_axes([2, 1, 0])
                .slice_move(s![.., ..;-1, ..])
                .into_dyn()
        });
    }
}

#[test]
fn output_errors_leave_the_output_alone() {
    let a = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
    let env = Env::new().with_ndarray("a", &a).unwrap();
    let e = Expr::compile("a + 1", &Signature::of(&env)).unwrap();
    // As many elements, another shape: refused on both paths.
    let mut flat = Array1::from_elem(6, 7.0);
    let err = e.eval_into_ndarray(&env, flat.view_mut()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert!(err.message().contains("[2, 3]"));
    let mut wide = Array2::from_elem((3, 4), 7.0);
    let err = e
        .eval_into_ndarray(&env, wide.slice_mut(s![.., 1..3]))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert!(flat.iter().chain(wide.iter()).all(|&x| x == 7.0));
    // The wrong element type.
    let mut ints = Array2::<i64>::zeros((2, 3));
    let err = e.eval_into_ndarray(&env, ints.view_mut()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Type);
    // A variable without a value: the usual error, at its name.
    let e = Expr::compile(
        "a + c",
        &Signature::of(&env).with("c", vexpr::DType::Float64),
    )
    .unwrap();
    let mut out = Array2::<f64>::zeros((2, 3));
    let err = e.eval_into_ndarray(&env, out.view_mut()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownName);
    assert_eq!((err.span().start, err.span().end), (4, 5));
    let err = e
        .eval_into_ndarray(&env, out.view_mut().reversed_axes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownName);
    // A variable of the signature that the expression does not read may
    // be absent.
    let e = Expr::compile(
        "where(True, a, c)",
        &Signature::of(&env).with("c", vexpr::DType::Float64),
    )
    .unwrap();
    e.eval_into_ndarray(&env, out.view_mut()).unwrap();
    assert_eq!(out, a);
    // A value refused at run time, into an output of another layout: the
    // error at the operator, the output untouched.
    let (base, power) = (array![[1i64, 2], [3, 4]], array![[1i64, -1], [2, 2]]);
    let env = Env::new()
        .with_ndarray("x", &base)
        .unwrap()
        .with_ndarray("p", &power)
        .unwrap();
    let e = Expr::compile("x ** p", &Signature::of(&env)).unwrap();
    let mut out = Array2::<i64>::from_elem((2, 2), 9);
    let err = e
        .eval_into_ndarray(&env, out.view_mut().reversed_axes())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Value);
    assert_eq!(err.source_text(), Some("x ** p"));
    assert!(out.iter().all(|&x| x == 9));
}

/// A random layout of a 4-D grid: a permutation, reversals, steps inside a
/// larger array (read by itself, and through `view_in`), broadcast axes.
#[derive(Debug, Clone)]
struct Layout {
    shape: Vec<usize>,
    order: Vec<usize>,
    reversed: Vec<bool>,
    step: Vec<usize>,
    broadcast: Vec<bool>,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        proptest::collection::vec(1usize..4, 4),
        Just((0..4).collect::<Vec<usize>>()).prop_shuffle(),
        proptest::collection::vec(any::<bool>(), 4),
        proptest::collection::vec(1usize..3, 4),
        proptest::collection::vec(proptest::bool::weighted(0.25), 4),
    )
        .prop_map(|(shape, order, reversed, step, broadcast)| Layout {
            shape,
            order,
            reversed,
            step,
            broadcast,
        })
}

/// An array large enough for `layout`'s steps.
fn parent_of(layout: &Layout) -> ArrayD<f64> {
    let big: Vec<usize> = layout
        .shape
        .iter()
        .zip(&layout.step)
        .map(|(&n, &s)| n * s)
        .collect();
    grid(&big)
}

/// The view of `parent` that `layout` describes, before broadcasting: its
/// broadcast axes have length 1.
fn view_of<'a>(parent: &'a ArrayD<f64>, layout: &Layout) -> ArrayView<'a, f64, IxDyn> {
    let mut v = parent.view();
    for (axis, (&s, &r)) in layout.step.iter().zip(&layout.reversed).enumerate() {
        let step = if r { -(s as isize) } else { s as isize };
        v.slice_axis_inplace(Axis(axis), ndarray::Slice::new(0, None, step));
    }
    for (axis, &b) in layout.broadcast.iter().enumerate() {
        if b {
            v.collapse_axis(Axis(axis), 0);
        }
    }
    v.permuted_axes(layout.order.clone())
}

/// The shape `layout` broadcasts its view to.
fn full_shape(layout: &Layout) -> IxDyn {
    IxDyn(
        &layout
            .order
            .iter()
            .map(|&k| layout.shape[k])
            .collect::<Vec<_>>(),
    )
}

/// The same view of a mutable array (no broadcasting).
fn view_mut_of<'a>(parent: &'a mut ArrayD<f64>, layout: &Layout) -> ArrayViewMut<'a, f64, IxDyn> {
    let mut v = parent.view_mut();
    for (axis, (&s, &r)) in layout.step.iter().zip(&layout.reversed).enumerate() {
        let step = if r { -(s as isize) } else { s as isize };
        v.slice_axis_inplace(Axis(axis), ndarray::Slice::new(0, None, step));
    }
    v.permuted_axes(layout.order.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_layouts_match_the_plain_path(la in layout(), lb in layout()) {
        let (pa, pb) = (parent_of(&la), parent_of(&lb));
        let (a0, b0) = (view_of(&pa, &la), view_of(&pb, &lb));
        let a = a0.broadcast(full_shape(&la)).unwrap();
        let b = b0.broadcast(full_shape(&lb)).unwrap();
        let a_in = view_in(a.view(), pa.view()).unwrap();
        let b_in = view_in(b.view(), pb.view()).unwrap();
        let env = Env::new().with("a", a_in);
        let (plain_a, plain_b) = (plain(&a), plain(&b));
        let plain_env = Env::new().with("a", &plain_a);
        for text in ["a * 2 - 1", "sum(a, axis=3) + 1", "prod(a)"] {
            let got = vexpr::evaluate(text, &env).unwrap();
            let want = vexpr::evaluate(text, &plain_env).unwrap();
            prop_assert_eq!(bits(&got), bits(&want));
        }
        // Both, where they broadcast together.
        let env = env.with("b", b_in);
        let plain_env = plain_env.with("b", &plain_b);
        match (vexpr::evaluate("a * b + a", &env), vexpr::evaluate("a * b + a", &plain_env)) {
            (Ok(got), Ok(want)) => prop_assert_eq!(bits(&got), bits(&want)),
            (Err(got), Err(want)) => prop_assert_eq!(got.kind(), want.kind()),
            (got, want) => prop_assert!(false, "{:?} vs {:?}", got.map(|a| a.shape().to_vec()), want.map(|a| a.shape().to_vec())),
        }
        // Each view reads in place by itself too, gaps or not.
        let direct = Env::new()
            .with_ndarray("a", a.view())
            .unwrap()
            .with_ndarray("b", b.view())
            .unwrap();
        for text in ["a + 0.5", "sum(a, axis=3) + 1", "a * b + a"] {
            match (vexpr::evaluate(text, &direct), vexpr::evaluate(text, &plain_env)) {
                (Ok(got), Ok(want)) => prop_assert_eq!(bits(&got), bits(&want)),
                (Err(got), Err(want)) => prop_assert_eq!(got.kind(), want.kind()),
                (got, want) => prop_assert!(false, "{:?} vs {:?}", got.map(|a| a.shape().to_vec()), want.map(|a| a.shape().to_vec())),
            }
        }
    }

    #[test]
    fn random_output_layouts_receive_the_result(l in layout()) {
        let l = Layout { broadcast: vec![false; 4], ..l };
        let mut parent = parent_of(&l);
        parent.fill(-1.0);
        let mut want = parent.clone();
        let b = grid(full_shape(&l).slice());
        let env = Env::new().with_ndarray("b", &b).unwrap();
        let e = Expr::compile("b * 3 - 2", &Signature::of(&env)).unwrap();
        e.eval_into_ndarray(&env, view_mut_of(&mut parent, &l)).unwrap();
        view_mut_of(&mut want, &l).assign(&b.mapv(|x| x * 3.0 - 2.0));
        prop_assert_eq!(parent.mapv(f64::to_bits), want.mapv(f64::to_bits));
    }
}
