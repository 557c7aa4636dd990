"""The per-call fast path (``crates/vexpr-py/src/fast.rs``): a call that
repeats the thread's last one with ``local_dict`` runs straight over the
arrays. Each test makes a first call (which the general path runs, and which
the fast path then remembers) and a second one that differs in one way the
fast path must notice, and checks the second result against NumPy."""

import threading
import weakref

import numpy as np
import pytest

import vexpr

EX = "2*a + 3*b"


def twice(d, out=None, ex=EX, **kw):
    """The first call remembered, then the second one with ``d``."""
    first = {k: np.ascontiguousarray(v) if isinstance(v, np.ndarray) else v for k, v in d.items()}
    vexpr.evaluate(ex, local_dict=first, **kw)
    return vexpr.evaluate(ex, local_dict=d, out=out, **kw)


def expected(d):
    return 2 * d["a"] + 3 * d["b"]


def test_a_repeat_reads_the_new_arrays_and_writes_out():
    a, b = np.arange(10.0), np.linspace(0, 1, 10)
    out = np.empty(10)
    for scale in (1.0, -2.0, 3.5):
        got = vexpr.evaluate(EX, local_dict={"a": a * scale, "b": b}, out=out)
        assert got is out
        np.testing.assert_array_equal(out, 2 * (a * scale) + 3 * b)
    # Without out, a new array each time.
    first = vexpr.evaluate(EX, local_dict={"a": a, "b": b})
    second = vexpr.evaluate(EX, local_dict={"a": a + 1, "b": b})
    assert first is not second
    np.testing.assert_array_equal(first, 2 * a + 3 * b)
    np.testing.assert_array_equal(second, 2 * (a + 1) + 3 * b)


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "complex128", "bool"])
def test_other_dtypes_and_a_change_of_dtype(dtype):
    rng = np.random.default_rng(1)
    a = (rng.random(100) * 10).astype(dtype)
    b = (rng.random(100) * 10).astype(dtype)
    # The general path's answer: a strided view of the same values.
    strided = np.repeat(b, 2)[::2]
    want = vexpr.evaluate(EX, local_dict={"a": a, "b": strided})
    numpy_dtype = np.result_type(a.dtype, np.int64) if dtype == "bool" else a.dtype
    np.testing.assert_allclose(want, 2 * a.astype(numpy_dtype) + 3 * b.astype(numpy_dtype), rtol=1e-6)
    # Remembered for float64 inputs, then called with these.
    vexpr.evaluate(EX, local_dict={"a": np.real(a).astype(np.float64), "b": np.real(b).astype(np.float64)})
    for _ in range(2):
        got = vexpr.evaluate(EX, local_dict={"a": a, "b": b})
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_booleans_with_stray_bytes_read_as_true():
    raw = np.array([0, 1, 2, 255, 0, 7] * 5, dtype=np.uint8)
    p = raw.view(np.bool_)
    q = np.ones(raw.size, dtype=bool)
    ex = "p & q"
    vexpr.evaluate(ex, local_dict={"p": np.zeros(raw.size, bool), "q": q})
    got = vexpr.evaluate(ex, local_dict={"p": p, "q": q})
    np.testing.assert_array_equal(got, raw != 0)


def test_layouts_the_fast_path_leaves_to_the_general_one():
    a, b = np.arange(20.0), np.arange(20.0) * 0.5
    cases = [
        {"a": a[::2], "b": b[::2]},  # strided
        {"a": a[:10], "b": 2.0},  # a scalar
        {"a": a.reshape(4, 5), "b": b[:5]},  # broadcasting
        {"a": a.reshape(4, 5).T, "b": b.reshape(4, 5).T},  # Fortran order
        {"a": a.astype(">f8"), "b": b},  # swapped bytes
        {"a": list(range(5)), "b": b[:5]},  # a list
        {"a": np.float64(3.0) + a[:0], "b": b[:0]},  # empty
    ]
    for d in cases:
        got = twice(d)
        np.testing.assert_array_equal(got, expected({k: np.asarray(v) for k, v in d.items()}))


def test_a_subclass_or_a_dict_subclass_is_not_taken_for_an_ndarray_or_dict():
    class Marked(np.ndarray):
        pass

    class Mapping(dict):
        def __getitem__(self, key):
            return super().__getitem__(key) + 1

    a, b = np.arange(5.0), np.ones(5)
    got = twice({"a": a.view(Marked), "b": b})
    np.testing.assert_array_equal(got, 2 * a + 3 * b)
    vexpr.evaluate(EX, local_dict={"a": a, "b": b})
    got = vexpr.evaluate(EX, local_dict=Mapping(a=a, b=b))
    np.testing.assert_array_equal(np.asarray(got), 2 * (a + 1) + 3 * (b + 1))


def test_out_that_is_an_input_overlaps_one_or_needs_a_cast():
    a, b = np.arange(8.0), np.arange(8.0) + 0.25
    want = 2 * a + 3 * b
    vexpr.evaluate(EX, local_dict={"a": a.copy(), "b": b}, out=np.empty(8))
    # out is a: evaluated in place.
    x = a.copy()
    assert vexpr.evaluate(EX, local_dict={"a": x, "b": b}, out=x) is x
    np.testing.assert_array_equal(x, want)
    # out overlaps a, shifted by one element.
    buf = np.concatenate([a, [0.0]])
    vexpr.evaluate(EX, local_dict={"a": buf[1:].copy(), "b": b}, out=np.empty(8))
    vexpr.evaluate(EX, local_dict={"a": buf[:8], "b": b}, out=buf[1:])
    np.testing.assert_array_equal(buf[1:], want)
    # A float32 out: the general path casts.
    out32 = np.empty(8, np.float32)
    vexpr.evaluate(EX, local_dict={"a": a, "b": b}, out=out32)
    np.testing.assert_array_equal(out32, want.astype(np.float32))
    # Read-only out: the general path's error.
    ro = np.empty(8)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        vexpr.evaluate(EX, local_dict={"a": a, "b": b}, out=ro)
    # A shape out does not have.
    with pytest.raises(ValueError):
        vexpr.evaluate(EX, local_dict={"a": a, "b": b}, out=np.empty(9))


def test_names_missing_from_local_dict_come_from_the_globals():
    a, b = np.arange(4.0), np.arange(4.0)
    vexpr.evaluate(EX, local_dict={"a": a, "b": b})
    got = vexpr.evaluate(EX, local_dict={"a": a}, global_dict={"b": b + 1})
    np.testing.assert_array_equal(got, 2 * a + 3 * (b + 1))
    with pytest.raises(KeyError):
        vexpr.evaluate(EX, local_dict={"a": a})


def test_another_text_clear_cache_and_re_evaluate():
    a, b = np.arange(6.0), np.full(6, 2.0)
    d = {"a": a, "b": b}
    vexpr.evaluate(EX, local_dict=d)
    np.testing.assert_array_equal(vexpr.evaluate("a - b", local_dict=d), a - b)
    # A text equal to the last one but another object.
    np.testing.assert_array_equal(vexpr.evaluate("".join(["a ", "- b"]), local_dict=d), a - b)
    vexpr._vexpr.clear_cache()
    np.testing.assert_array_equal(vexpr.evaluate("a - b", local_dict=d), a - b)
    out = np.empty(6)
    vexpr.evaluate("a - b", local_dict=d, out=out)
    d["a"][:] = 10.0
    assert vexpr.re_evaluate(local_dict=d) is out
    np.testing.assert_array_equal(out, 10.0 - b)


def test_faults_raise_as_on_the_general_path():
    a, b = np.arange(1, 6, dtype=np.int64), np.array([1, 2, -1, 4, 5], dtype=np.int64)
    ex = "a ** b"
    vexpr.evaluate(ex, local_dict={"a": a, "b": np.abs(b)})
    with pytest.raises(ValueError):
        vexpr.evaluate(ex, local_dict={"a": a, "b": b})


def test_threads_keep_their_own_memo():
    errors = []

    def worker(k):
        try:
            a = np.arange(100.0) * k
            b = np.ones(100) * k
            out = np.empty(100)
            for _ in range(300):
                vexpr.evaluate(EX, local_dict={"a": a, "b": b}, out=out)
                np.testing.assert_array_equal(out, 2 * a + 3 * b)
                vexpr.evaluate("a * b", local_dict={"a": a, "b": b}, out=out)
                np.testing.assert_array_equal(out, a * b)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_large_runs_release_the_gil_and_match():
    n = 300_000
    a, b = np.random.default_rng(2).random((2, n))
    out = np.empty(n)
    vexpr.evaluate(EX, local_dict={"a": a, "b": b}, out=out)
    vexpr.evaluate(EX, local_dict={"a": a, "b": b}, out=out)
    np.testing.assert_allclose(out, 2 * a + 3 * b, rtol=1e-15)


GLOBAL_B = np.full(5, 4.0)


def test_the_callers_locals_take_the_fast_path_too():
    def call(a, b):
        return vexpr.evaluate(EX)

    for k in range(3):
        a, b = np.arange(5.0) + k, np.ones(5) * k
        np.testing.assert_array_equal(call(a, b), 2 * a + 3 * b)

    def call_with_global_b(a):
        return vexpr.evaluate("2*a + 3*GLOBAL_B")

    for k in range(3):
        a = np.arange(5.0) * k
        np.testing.assert_array_equal(call_with_global_b(a), 2 * a + 3 * GLOBAL_B)

    # The calls (fast ones too) keep none of the caller's locals alive.
    def locals_left():
        a, b = np.arange(5.0), np.ones(5)
        for _ in range(3):
            vexpr.evaluate(EX)
        return weakref.ref(a)

    assert locals_left()() is None


def test_names_only_in_the_globals_are_read_anew_each_call():
    g = {"vexpr": vexpr}
    exec("def call(a):\n    return vexpr.evaluate('2*a + 3*b')\n", g)
    exec("def shadow(a, b):\n    return vexpr.evaluate('2*a + 3*b')\n", g)
    for k in range(3):
        g["b"] = np.arange(5.0) * k
        a = np.ones(5) * k
        np.testing.assert_array_equal(g["call"](a), 2 * a + 3 * g["b"])
    # A local shadows the global of its name.
    np.testing.assert_array_equal(g["shadow"](np.ones(5), np.full(5, 7.0)), np.full(5, 23.0))
    np.testing.assert_array_equal(g["call"](np.ones(5)), 2 + 3 * g["b"])
    # Another dtype and another shape in the globals: the general path's answers.
    g["b"] = np.arange(5, dtype=np.int32)
    np.testing.assert_array_equal(g["call"](np.ones(5)), 2 + 3 * np.arange(5.0))
    g["b"] = np.array([4.0])
    np.testing.assert_array_equal(g["call"](np.ones(5)), np.full(5, 14.0))
    # A global gone: the general path's KeyError.
    del g["b"]
    with pytest.raises(KeyError):
        g["call"](np.ones(5))
    # With local_dict given, the caller's globals still fill in.
    g["b"] = np.full(5, 2.0)
    exec("def given(a):\n    return vexpr.evaluate('2*a + 3*b', local_dict={'a': a})\n", g)
    for k in range(3):
        np.testing.assert_array_equal(g["given"](np.full(5, float(k))), 2.0 * k + 6.0)
