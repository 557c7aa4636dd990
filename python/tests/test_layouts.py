"""Every input layout and dtype numexpr accepts, against NumPy.

Each case evaluates an expression with vexpr and with NumPy on the values
widened as numexpr widens them (int8/16 and uint8/16 to int32, uint32/uint64
to int64, float16 to float32, complex64 to complex128), and compares values
and dtype exactly.
"""

import re

import numpy as np
import pytest

import vexpr

RNG = np.random.default_rng(12345)

# numexpr's widening: the dtype vexpr computes each storage dtype in.
WIDENED = {
    "bool": "bool",
    "int8": "int32", "uint8": "int32", "int16": "int32", "uint16": "int32", "int32": "int32",
    "uint32": "int64", "int64": "int64", "uint64": "int64",
    "float16": "float32", "float32": "float32", "float64": "float64",
    "complex64": "complex128", "complex128": "complex128",
}
NUMERIC = list(WIDENED)


def values(dtype, n):
    if dtype == "bool":
        return RNG.integers(0, 2, n).astype(bool)
    if dtype.startswith(("int", "uint")):
        info = np.iinfo(dtype)
        return RNG.integers(max(info.min, -100), min(info.max, 100), n, endpoint=True).astype(dtype)
    if dtype.startswith("complex"):
        return (RNG.standard_normal(n) + 1j * RNG.standard_normal(n)).astype(dtype)
    return RNG.standard_normal(n).astype(dtype)


def layouts(base):
    """The same 2-D data in many layouts: (name, array)."""
    dtype = base.dtype
    c = base.reshape(6, 7)
    yield "C", c
    yield "F", np.asfortranarray(c)
    yield "strided", base.reshape(6, 7)[::2, ::3]
    yield "negative strides", c[::-1, ::-2]
    yield "transposed", c.T
    yield "broadcast (zero strides)", np.broadcast_to(c[0], (5, 7))
    raw = np.zeros(c.size * dtype.itemsize + 1, np.uint8)
    unaligned = raw[1:].view(dtype).reshape(6, 7)
    unaligned[...] = c
    yield "unaligned", unaligned
    if dtype.itemsize > 1:
        yield "byte-swapped", c.astype(dtype.newbyteorder())
    record = np.zeros(c.size, dtype=[("pad", "i1"), ("x", dtype)])
    record["x"] = base
    yield "field of a record (stride not a multiple of the itemsize)", record["x"].reshape(6, 7)
    yield "0-d", np.array(base[3])
    yield "empty", c[:0]


# numexpr types every operation by kind, in this order: both operands are
# converted to the higher kind (int32 + float32 is float32, NumPy's float64).
KIND_ORDER = ["bool", "int32", "int64", "float32", "float64", "complex128"]


def reference(expr, **arrays):
    """NumPy's value of `expr` computed in the type numexpr gives it."""
    kinds = [WIDENED[v.dtype.name] for v in arrays.values()]
    common = max(kinds, key=KIND_ORDER.index)
    converted = {k: v.astype(common) for k, v in arrays.items()}
    return eval(expr, {"np": np, "where": np.where}, converted)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_every_layout_of_every_dtype(dtype):
    base = values(dtype, 42)
    expr = "a & ~a | a" if dtype == "bool" else "a * 2 + a"
    for name, a in layouts(base):
        got = vexpr.evaluate(expr, local_dict={"a": a})
        want = reference(expr, a=a)
        assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
        assert got.shape == want.shape, name
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("left", NUMERIC)
@pytest.mark.parametrize("right", ["int8", "uint32", "float16", "float64", "complex64"])
def test_mixed_dtypes_promote_as_numexpr(left, right):
    a, b = values(left, 30).reshape(5, 6), values(right, 6)
    if left == "bool" and right != "bool":
        a = a.astype(np.int8)
    got = vexpr.evaluate("a + b", local_dict={"a": a, "b": b})
    want = reference("a + b", a=a, b=b)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_python_scalars_and_0d_arrays_are_scalars():
    a = np.arange(5.0)
    for k, dtype in [(3, "float64"), (2.5, "float64"), (True, "float64"), (1j, "complex128")]:
        got = vexpr.evaluate("a * k", local_dict={"a": a, "k": k})
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, a * k)
    # A Python int is int64, as numpy.asarray makes it (numexpr's rule).
    assert vexpr.evaluate("k", local_dict={"k": 3}).dtype == np.int64
    assert vexpr.evaluate("k + 1", local_dict={"k": np.uint32(4)}).dtype == np.int64
    assert vexpr.evaluate("k", local_dict={"k": np.float32(2)}).dtype == np.float32
    big = vexpr.evaluate("k", local_dict={"k": 2**63})  # uint64 wraps, as in numexpr
    assert big.dtype == np.int64 and int(big) == -(2**63)


def test_byte_strings_of_every_layout():
    s = np.array([b"foo", b"bar", b"", b"  ", b"x"] * 4)
    for name, arr in [("C", s), ("strided", s[::3]), ("reversed", s[::-1]), ("swapped order", s.astype(">S3"))]:
        got = vexpr.evaluate("arr >= b'bar'", local_dict={"arr": arr})
        np.testing.assert_array_equal(got, arr >= b"bar", err_msg=name)


@pytest.mark.parametrize("dtype", ["U3", "O", "M8[s]", "m8[s]", "longdouble", "clongdouble"])
def test_dtypes_numexpr_refuses_are_clear_type_errors(dtype):
    if np.dtype(dtype) in (np.dtype("float64"), np.dtype("complex128")):
        pytest.skip("long double is double on this platform")
    a = np.zeros(3, dtype=dtype)
    with pytest.raises(TypeError, match=re.escape(str(np.dtype(dtype)))):
        vexpr.evaluate("a", local_dict={"a": a})
    # numexpr raised ValueError here; both catch it.
    with pytest.raises(ValueError):
        vexpr.evaluate("a", local_dict={"a": a})


def test_fortran_inputs_give_a_fortran_result_with_order_k():
    a = np.asfortranarray(RNG.standard_normal((40, 30)))
    got = vexpr.evaluate("a * 2 + 1", local_dict={"a": a})
    assert got.flags.f_contiguous and not got.flags.c_contiguous
    np.testing.assert_array_equal(got, a * 2 + 1)
    c = vexpr.evaluate("a * 2 + 1", local_dict={"a": a}, order="C")
    assert c.flags.c_contiguous
    np.testing.assert_array_equal(c, a * 2 + 1)
    # A 1-D input broadcasts along the rows as usual.
    row = np.arange(30.0)
    np.testing.assert_array_equal(vexpr.evaluate("a + row", local_dict={"a": a, "row": row}), a + row)


def test_pandas_dataframe_as_local_dict():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10, dtype=np.int32), "z": np.ones(10, np.float32)})
    got = vexpr.evaluate("x * y + z", local_dict=df)
    np.testing.assert_array_equal(got, df.x.to_numpy() * df.y.to_numpy() + df.z.to_numpy())


@pytest.mark.parametrize("threads", [1, 2])
def test_bool_arrays_holding_other_bytes_are_true(threads):
    # A bool array viewed from uint8 may hold any byte; NumPy reads any
    # nonzero one as True. vexpr reads the 0/1 blocks of a contiguous bool
    # array in place and converts the others: put stray bytes in a few blocks.
    n = 50_000
    raw_p = (np.arange(n) % 3 == 0).astype(np.uint8)
    raw_p[[0, 1500, 8191, 30_000, n - 1]] = [2, 255, 128, 7, 9]
    raw_q = (np.arange(n) % 5 < 2).astype(np.uint8)
    p, q = raw_p.view(bool), raw_q.view(bool)
    tp, tq = raw_p != 0, raw_q != 0
    a = np.arange(n, dtype=np.float64)
    old = vexpr.set_num_threads(threads)
    try:
        for text, expected in [
            ("p & q", tp & tq),
            ("p | ~q", tp | ~tq),
            ("p ^ q", tp ^ tq),
            ("p == q", tp == tq),
            ("where(p, a, -a)", np.where(tp, a, -a)),
        ]:
            got = vexpr.evaluate(text, local_dict={"p": p, "q": q, "a": a})
            np.testing.assert_array_equal(got, expected, err_msg=text)
    finally:
        vexpr.set_num_threads(old)
