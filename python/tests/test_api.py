"""numexpr's API: frames, dictionaries, out=, errors, NumExpr objects,
re_evaluate/validate, the cache, E, threads settings."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import vexpr
from vexpr import E, NumExpr

GLOBAL_ARRAY = np.arange(4.0)


def test_names_come_from_the_callers_frame_then_globals():
    local_array = np.arange(4.0) * 10
    got = vexpr.evaluate("local_array + GLOBAL_ARRAY")
    np.testing.assert_array_equal(got, local_array + GLOBAL_ARRAY)
    # The local snapshot is cleared afterwards, not the variables themselves.
    assert local_array[1] == 10.0


def test_explicit_dictionaries_and_any_mapping():
    class Columns:
        def __init__(self, data):
            self.data = data

        def __getitem__(self, key):
            return self.data[key]

    a = np.arange(3.0)
    np.testing.assert_array_equal(vexpr.evaluate("a + b", local_dict={"a": a}, global_dict={"b": 1.0}), a + 1)
    np.testing.assert_array_equal(vexpr.evaluate("a * 2", local_dict=Columns({"a": a})), a * 2)


def test_missing_variable_is_a_key_error_naming_it():
    with pytest.raises(KeyError) as info:
        vexpr.evaluate("nowhere_to_be_found + 1", local_dict={})
    assert info.value.args == ("nowhere_to_be_found",)


@pytest.mark.parametrize(
    "expr, error",
    [
        ("2 +", SyntaxError),
        ("a +* a", SyntaxError),
        ("", SyntaxError),
        ("sinn(a)", TypeError),
        ("sin(a, a)", TypeError),
        ("(a > 1) and (a < 2)", TypeError),
        ("a if a else a", TypeError),
        ("s + s", NotImplementedError),
        ("~a", NotImplementedError),
        ("i ** -1", ValueError),
        ("sum(a, axis=3)", ValueError),
        ("sum(a, axis=-1)", ValueError),
        ("a + short", ValueError),
        ("99999999999999999999999", OverflowError),
        ("a[0]", ValueError),
        ("lambda x: x", ValueError),
        ("__import__('os')", ValueError),
    ],
)
def test_errors_are_numexprs_types_with_a_caret(expr, error):
    env = {"a": np.arange(5.0), "s": np.array([b"x"]), "i": np.arange(5), "short": np.arange(3.0)}
    with pytest.raises(error) as info:
        vexpr.evaluate(expr, local_dict=env)
    if error is not KeyError and not str(info.value).startswith("Expression"):
        assert "^" in str(info.value), str(info.value)


def test_sanitize_can_be_turned_off_and_nothing_is_ever_evaluated_by_python():
    # With the sanitizer off, the text still goes to vexpr's parser only.
    with pytest.raises(SyntaxError):
        vexpr.evaluate("__import__('os').system('echo pwned')", local_dict={}, sanitize=False)
    with pytest.raises(ValueError):
        vexpr.evaluate("a.b", local_dict={"a": 1.0})
    assert vexpr.evaluate("c.real + c.imag", local_dict={"c": 1 + 2j}) == 3.0


def test_keywords_numexpr_accepts():
    a = np.arange(4)
    for truediv in (False, True, "auto"):
        np.testing.assert_array_equal(vexpr.evaluate("a / 2", truediv=truediv), a / 2)
    for level in ("none", "moderate", "aggressive"):
        vexpr.evaluate("a + 1", optimization=level)
    with pytest.raises(ValueError, match="Unknown keyword"):
        vexpr.evaluate("a", bogus=1)
    with pytest.raises(ValueError):
        vexpr.evaluate("a", optimization="max")
    with pytest.raises(ValueError):
        vexpr.evaluate("a + 1", order="X")
    with pytest.raises(ValueError):
        vexpr.evaluate("a + 1", casting="sometimes")


def _evaluate_two_frames_up(text):
    return vexpr.evaluate(text, _frame_depth=4)


def test_every_argument_reaches_its_parameter_however_it_is_passed():
    # `evaluate` reads its arguments off CPython's stack itself (fastcall);
    # each parameter by position and by keyword, a keyword name that is not
    # an interned string, and values that go on to the general parser.
    a = np.arange(6.0).reshape(2, 3)
    d = {"a": a}
    local = "".join(["local_", "dict"])
    forms = {
        "positional": lambda: vexpr.evaluate("a*2", d),
        "keyword": lambda: vexpr.evaluate("a*2", local_dict=d),
        "ex by keyword": lambda: vexpr.evaluate(ex="a*2", local_dict=d),
        "name built at run time": lambda: vexpr.evaluate("a*2", **{local: d}),
        "global_dict": lambda: vexpr.evaluate("a*2", {}, d),
        "all nine": lambda: vexpr.evaluate("a*2", d, None, None, "K", "same_kind", None, 3, None),
        "sanitize": lambda: vexpr.evaluate("a*2", d, sanitize=True),
        "NumPy bool": lambda: vexpr.evaluate("a*2", d, sanitize=np.True_, disable_cache=np.True_),
        "optimization": lambda: vexpr.evaluate("a*2", d, optimization="none", truediv=True),
    }
    for name, form in forms.items():
        np.testing.assert_array_equal(form(), a * 2, err_msg=name)
    assert vexpr.evaluate("a*2", d, order="F").flags.f_contiguous
    assert vexpr.evaluate("a*2", d, order="C").flags.c_contiguous
    ints = np.empty((2, 3), np.int32)
    with pytest.raises(TypeError):
        vexpr.evaluate("a*2", d, out=ints)
    assert vexpr.evaluate("a*2", d, out=ints, casting="unsafe") is ints
    np.testing.assert_array_equal(ints, a * 2)

    def caller():
        only_here = np.arange(3.0)  # noqa: F841 - found two frames up
        return _evaluate_two_frames_up("only_here + 1")

    np.testing.assert_array_equal(caller(), np.arange(3.0) + 1)


def test_argument_errors_are_pythons():
    with pytest.raises(TypeError, match="multiple values for argument 'ex'"):
        vexpr.evaluate("a", ex="a")
    with pytest.raises(TypeError, match="positional arguments"):
        vexpr.evaluate("a", None, None, None, "K", "same_kind", None, 3, None, 5)
    with pytest.raises(TypeError, match="missing 1 required"):
        vexpr.evaluate()
    with pytest.raises(TypeError):
        vexpr.evaluate("a", {"a": 1.0}, order=3)
    with pytest.raises(ValueError, match="must specify expression as a string"):
        vexpr.evaluate(3)


class TestOut:
    def test_out_receives_the_result_and_is_returned(self):
        a = np.arange(10.0)
        out = np.empty(10)
        assert vexpr.evaluate("a * 3", out=out) is out
        np.testing.assert_array_equal(out, a * 3)

    def test_out_that_is_an_input(self):
        x = np.arange(10000.0).reshape(1000, 10)
        y = np.arange(10.0)
        vexpr.evaluate("(x - 3) * y + (x - 3)", out=x)
        np.testing.assert_array_equal(x, (np.arange(10000.0).reshape(1000, 10) - 3) * (y + 1))

    def test_out_overlapping_an_input_differently(self):
        a = np.arange(20.0)
        expected = a[::-1] * 2
        vexpr.evaluate("r * 2", local_dict={"r": a[::-1]}, out=a)
        np.testing.assert_array_equal(a, expected)
        b = np.arange(21.0)
        expected = b[1:] + b[:-1]
        vexpr.evaluate("x + y", local_dict={"x": b[1:], "y": b[:-1]}, out=b[:-1])
        np.testing.assert_array_equal(b[:-1], expected)

    def test_strided_and_fortran_out(self):
        a = np.arange(12.0).reshape(3, 4)
        big = np.zeros((6, 8))
        vexpr.evaluate("a + 1", out=big[::2, ::2])
        np.testing.assert_array_equal(big[::2, ::2], a + 1)
        assert big[1].sum() == 0
        f = np.zeros((3, 4), order="F")
        vexpr.evaluate("a * 2", out=f)
        np.testing.assert_array_equal(f, a * 2)

    def test_casting_rules_apply_to_out(self):
        a = np.arange(5.0)
        out32 = np.zeros(5, np.float32)
        vexpr.evaluate("a + 1", out=out32)  # same_kind: float64 -> float32 is fine
        np.testing.assert_array_equal(out32, (a + 1).astype(np.float32))
        with pytest.raises(TypeError):
            vexpr.evaluate("a + 1", out=np.zeros(5, np.int64))
        vexpr.evaluate("a + 1", out=(o := np.zeros(5, np.int64)), casting="unsafe")
        np.testing.assert_array_equal(o, (a + 1).astype(np.int64))

    def test_out_broadcasts_a_smaller_result(self):
        a = np.empty(5, dtype=np.uint8)[1:].view(np.int32)  # unaligned, as numexpr's test
        vexpr.evaluate("3", out=a)
        np.testing.assert_array_equal(a, 3)

    def test_out_of_a_larger_shape_receives_the_broadcast_result(self):
        # Native, contiguous and aligned, but not the result's shape: the
        # result is computed, then broadcast into `out` by NumPy.
        a = np.arange(4.0)
        out = np.zeros((3, 4))
        assert vexpr.evaluate("a * 2 + 1", out=out) is out
        np.testing.assert_array_equal(out, np.broadcast_to(a * 2 + 1, (3, 4)))

    def test_re_evaluate_writes_into_the_latest_out_while_it_lives(self):
        a = np.arange(4.0)
        first, second = np.zeros(4), np.zeros(4)
        vexpr.evaluate("a + 1", out=first)
        vexpr.evaluate("a + 1", out=first)  # unchanged: the same record
        vexpr.evaluate("a + 1", out=second)
        a = np.arange(10.0, 14.0)
        assert vexpr.re_evaluate() is second
        np.testing.assert_array_equal(second, a + 1)
        np.testing.assert_array_equal(first, np.arange(4.0) + 1)
        import weakref

        gone = weakref.ref(second)
        del second
        assert gone() is None  # the record does not keep `out` alive
        result = vexpr.re_evaluate()  # `out` is gone: a new array
        assert result is not first
        np.testing.assert_array_equal(result, a + 1)

    def test_bad_out(self):
        a = np.arange(3.0)
        ro = np.zeros(3)
        ro.flags.writeable = False
        with pytest.raises(ValueError):
            vexpr.evaluate("a + 1", out=ro)
        with pytest.raises(TypeError):
            vexpr.evaluate("a + 1", out=[0, 0, 0])
        with pytest.raises(ValueError):
            vexpr.evaluate("a + 1", out=np.zeros(4))


def test_reductions_return_0d_arrays_and_axis_reductions():
    y = np.arange(12.0).reshape(3, 4)
    total = vexpr.evaluate("sum(y)")
    assert isinstance(total, np.ndarray) and total.shape == () and total == y.sum()
    np.testing.assert_allclose(vexpr.evaluate("sum(y**2, axis=1)"), (y**2).sum(axis=1))
    np.testing.assert_allclose(vexpr.evaluate("y / max(y)"), y / y.max())


def test_re_evaluate_validate_and_threads_keep_their_own_last():
    a = np.arange(3.0)
    assert vexpr.validate("a * 2") is None
    np.testing.assert_array_equal(vexpr.re_evaluate(), a * 2)
    a = np.arange(3.0, 6.0)
    np.testing.assert_array_equal(vexpr.re_evaluate(), a * 2)
    assert isinstance(vexpr.validate("2 +"), SyntaxError)
    assert isinstance(vexpr.validate("a + missing_name"), KeyError)

    import threading

    results = {}

    def other():
        try:
            vexpr.re_evaluate(local_dict={"a": a})
        except RuntimeError as e:
            results["error"] = e

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert isinstance(results["error"], RuntimeError)


def test_numexpr_objects():
    f = NumExpr("2*a + b", [("a", np.float64), ("b", np.float64)])
    a, b = np.arange(4.0), np.ones(4)
    np.testing.assert_array_equal(f(a, b), 2 * a + b)
    np.testing.assert_array_equal(f.run(a, b), 2 * a + b)
    # Arguments of other types are cast to the signature's.
    np.testing.assert_array_equal(f(np.arange(4), 1), 2 * a + 1)
    # Without a signature: alphabetical order, float64.
    g = NumExpr((E.b + 2.0 * E.a) / (1 + E.a))
    np.testing.assert_allclose(g(a, b), (b + 2 * a) / (1 + a))
    assert g.input_names == ["a", "b"]
    with pytest.raises(ValueError):
        NumExpr("a + b", [("a", np.float64)])
    h = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(h(a, b), f(a, b))
    listing = vexpr.disassemble(f)
    assert listing and all(isinstance(part, bytes) for row in listing for part in row)
    assert "registers:" in f.disassemble()


def test_sixteen_threads_share_one_numexpr_object():
    import threading

    f = NumExpr("sin(a)**2 + cos(b)**2 + a*b", [("a", np.float64), ("b", np.float64)])
    failures = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(20):
            n = int(rng.integers(1, 200_000))
            a, b = rng.standard_normal(n), rng.standard_normal(n)
            got = f(a, b)
            if not np.allclose(got, np.sin(a) ** 2 + np.cos(b) ** 2 + a * b, rtol=1e-14, atol=1e-14):
                failures.append(seed)

    vexpr.set_num_threads(2)
    threads = [threading.Thread(target=work, args=(s,)) for s in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_compiled_cache_is_reused_and_bounded():
    a = np.arange(3.0)
    vexpr._vexpr.clear_cache()
    for k in range(vexpr._vexpr.CACHE_SIZE + 50):
        vexpr.evaluate(f"a + {k}")
    assert vexpr._vexpr.cache_len() == vexpr._vexpr.CACHE_SIZE
    # Same text, new types: compiled once more, same entry.
    vexpr.evaluate("a + 1", local_dict={"a": np.arange(3, dtype=np.int32)})
    assert vexpr._vexpr.cache_len() == vexpr._vexpr.CACHE_SIZE


def test_thread_settings():
    assert vexpr.set_num_threads(1) >= 1
    assert vexpr.set_num_threads(2) == 1
    assert vexpr.get_num_threads() == 2
    assert vexpr.ncores == vexpr.detect_number_of_cores()
    from vexpr.utils import detect_number_of_cores

    assert detect_number_of_cores() >= 1
    assert vexpr.use_vml is False


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "min(cores, 16)"),
        ({"NUMEXPR_NUM_THREADS": "3"}, 3),
        ({"OMP_NUM_THREADS": "5"}, 5),
        ({"NUMEXPR_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"}, 3),
        ({"VEXPR_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "3"}, 1),
        ({"NUMEXPR_MAX_THREADS": "4"}, 4),
    ],
)
def test_environment_variables_at_import(env, expected):
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_THREADS")}
    clean.update(env)
    code = "import vexpr; print(vexpr.nthreads, vexpr.get_num_threads(), vexpr.MAX_THREADS, vexpr.ncores)"
    out = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True).stdout
    nthreads, current, max_threads, cores = map(int, out.split())
    if expected == "min(cores, 16)":
        expected = min(cores, 16)
    assert nthreads == current == expected
    if "NUMEXPR_MAX_THREADS" in env:
        assert max_threads == int(env["NUMEXPR_MAX_THREADS"])


def test_submodules_users_import():
    from vexpr.expressions import ConstantNode
    from vexpr.necompiler import getExprNames
    from vexpr.utils import detect_number_of_cores

    assert getExprNames("b*2 + a", {}) == (["a", "b"], False)
    assert ConstantNode(np.float32(1)).astKind == "float"
    assert detect_number_of_cores() >= 1
    assert isinstance(vexpr.__version__, str)
