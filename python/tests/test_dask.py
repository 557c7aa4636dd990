"""vexpr over Dask arrays (``vexpr.dask``): against NumPy and in-memory vexpr,
on Dask's threaded scheduler and on a ``dask.distributed.LocalCluster`` of two
worker processes (256 MiB each) that these tests start and stop themselves,
with a computation larger than a worker's memory and a worker killed midway.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

import vexpr  # noqa: E402
import vexpr.dask as vd  # noqa: E402
from vexpr import _vexpr  # noqa: E402

# The benchmark expressions (benches/compare.py's EXPRESSIONS), vexpr's text
# and NumPy's.
EXPRESSIONS = {
    "E1": ("2*a + 3*b", lambda a, b: 2 * a + 3 * b),
    "E2": ("a**2 + 3*b", lambda a, b: a**2 + 3 * b),
    "E3": ("2*a**3 - 4*a**5 + 6*log(a)", lambda a, b: 2 * a**3 - 4 * a**5 + 6 * np.log(a)),
    "E4": ("abs(a - b) / (abs(a) + abs(b))", lambda a, b: np.abs(a - b) / (np.abs(a) + np.abs(b))),
    "E5": ("sin(a)**2 + cos(b)**2", lambda a, b: np.sin(a) ** 2 + np.cos(b) ** 2),
    "E6": ("where(a > b, a*b, a - b)", lambda a, b: np.where(a > b, a * b, a - b)),
    "E7": ("exp(-a*a) * sqrt(b)", lambda a, b: np.exp(-a * a) * np.sqrt(b)),
    "E8": ("arctan2(a, b) + tanh(a*b)", lambda a, b: np.arctan2(a, b) + np.tanh(a * b)),
}

WORKER_MEMORY = "256MiB"


@pytest.fixture(scope="module")
def client() -> Any:
    """Two worker processes of one thread and 256 MiB each, on the loopback
    interface, ports chosen by the OS; shut down after the module."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        memory_limit=WORKER_MEMORY,
        silence_logs=40,
    )
    c = distributed.Client(cluster, set_as_default=False)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


@pytest.fixture(params=["threads", "distributed"])
def compute(request: Any) -> Any:
    """Computes Dask collections on the threaded scheduler or the cluster."""
    if request.param == "threads":
        return lambda *xs: dask.compute(*xs, scheduler="threads")
    c = request.getfixturevalue("client")
    return lambda *xs: tuple(c.compute(list(xs), sync=True))


def inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float64 inputs uniform in [0.1, 1.1), as the benchmarks take."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.1, shape), rng.uniform(0.1, 1.1, shape)


def check(got: Any, want: Any, rtol: float = 0.0) -> None:
    """Same dtype and shape; equal values (within ``rtol``; NaNs equal)."""
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    if rtol:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
    else:
        np.testing.assert_array_equal(got, want)


# Element-wise


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_benchmark_expressions(name: str, compute: Any) -> None:
    """E1-E8 over inputs of different, uneven chunkings: vexpr's in-memory
    result bit for bit (each element is computed by the same instructions),
    NumPy's within rounding; the dtype is known before computing."""
    text, numpy_form = EXPRESSIONS[name]
    a, b = inputs((301, 207))
    A = da.from_array(a, chunks=(70, 61))
    B = da.from_array(b, chunks=((100, 1, 200), (50, 157)))
    result = vd.evaluate(text, {"a": A, "b": B})
    assert isinstance(result, da.Array)
    assert result.dtype == np.float64
    (got,) = compute(result)
    check(got, vexpr.evaluate(text, {"a": a, "b": b}))
    np.testing.assert_allclose(got, numpy_form(a, b), rtol=1e-12)


def test_broadcasting_scalars_and_numpy(compute: Any) -> None:
    """Dask arrays of different dimensions, NumPy arrays, NumPy and Python
    scalars in one expression, broadcast as vexpr (and NumPy) do."""
    a, b = inputs((40, 30))
    row = b[0]  # (30,)
    col = a[:, :1].copy()  # (40, 1), NumPy
    env = {"a": da.from_array(a, chunks=(15, 7)), "r": da.from_array(row, chunks=11), "c": col, "k": 2.5, "n": np.float32(3)}
    text = "a*r - c/k + n"
    (got,) = compute(vd.evaluate(text, env))
    check(got, vexpr.evaluate(text, {"a": a, "r": row, "c": col, "k": 2.5, "n": np.float32(3)}))
    # A (1, n) Dask array against an (m, n) one, and a 0-d Dask array.
    z = da.from_array(np.array(4.0))
    one_row = da.from_array(b[:1], chunks=(1, 9))
    (got,) = compute(vd.evaluate("a + o * z", {"a": env["a"], "o": one_row, "z": z}))
    check(got, vexpr.evaluate("a + o * z", {"a": a, "o": b[:1], "z": np.array(4.0)}))


def test_zero_dimensional_and_lone_variables(compute: Any) -> None:
    """0-d Dask arrays reduced, and an expression that is one variable: the
    result has vexpr's type (uint8 computes as int32), not the input's."""
    z = np.array(3.5)
    u = np.arange(7, dtype=np.uint8)
    env = {"z": da.from_array(z), "u": da.from_array(u, chunks=3)}
    for text in ("sum(z)", "sum(z) + z", "u", "max(u) - u"):
        want = vexpr.evaluate(text, {"z": z, "u": u})
        result = vd.evaluate(text, env)
        assert result.dtype == want.dtype, text
        (got,) = compute(result)
        check(got, want)


@pytest.mark.parametrize(
    "types",
    [("int32", "float32"), ("uint8", "int16"), ("int64", "float64"), ("bool", "int32"), ("uint32", "float32"), ("float16", "int8")],
)
def test_mixed_dtypes(types: tuple[str, str], compute: Any) -> None:
    """vexpr's result types (numexpr's: int32 + float32 is float32), narrow
    dtypes read in place, against in-memory vexpr bit for bit."""
    rng = np.random.default_rng(1)
    a = (rng.random((57, 13)) * 50).astype(types[0])
    b = (rng.random((57, 13)) * 50 + 1).astype(types[1])
    for text in ("a + b", "a * 3 - b", "where(a > b, a, b)", "sum(a + b, axis=1)", "max(b) - a"):
        want = vexpr.evaluate(text, {"a": a, "b": b})
        result = vd.evaluate(text, {"a": da.from_array(a, chunks=(20, 6)), "b": da.from_array(b, chunks=(9, 13))})
        assert result.dtype == want.dtype, text
        (got,) = compute(result)
        # Floating sums add in another order: within rounding.
        rtol = 1e-5 if "sum" in text and want.dtype.kind == "f" else 0.0
        check(got, want, rtol=rtol)


def test_empty_arrays(compute: Any) -> None:
    """Arrays of no elements: element-wise results and sums of nothing are
    empty or 0; min and max of nothing raise vexpr's error, at once."""
    e = np.zeros((0, 5))
    E = da.from_array(e, chunks=(3, 2))
    for text in ("2*e + 1", "sum(e)", "sum(e, axis=0)", "prod(e, axis=1)", "e - sum(e, axis=0)", "max(e, axis=1)"):
        (got,) = compute(vd.evaluate(text, {"e": E}))
        check(got, vexpr.evaluate(text, {"e": e}))
    with pytest.raises(ValueError) as want:
        vexpr.evaluate("min(e)", {"e": e})
    with pytest.raises(ValueError) as raised:
        vd.evaluate("min(e)", {"e": E})
    assert str(raised.value) == str(want.value)


def test_empty_chunks(compute: Any) -> None:
    """Chunks of no elements inside a non-empty array (as slicing makes):
    min and max, which have no identity, still reduce the other chunks."""
    a, _ = inputs((50,))
    A = da.from_array(a, chunks=((20, 0, 13, 0, 17),))
    assert 0 in A.chunks[0]
    for text in ("min(a)", "max(a) - a", "sum(a)"):
        (got,) = compute(vd.evaluate(text, {"a": A}))
        check(got, vexpr.evaluate(text, {"a": a}), rtol=1e-15)


# Reductions

REDUCTIONS = [
    "sum(a)",
    "prod(a)",
    "min(a)",
    "max(a)",
    "sum(a, axis=0)",
    "sum(a, axis=1)",
    "prod(a, axis=0)",
    "min(a, axis=1)",
    "max(b, axis=0)",
    "a / sum(a)",
    "sum(a, axis=1) + 1",
    "sum(a - sum(a))",
    "a - max(a, axis=0) + min(b)",
    "sum(a*b, axis=0) / sum(b, axis=0)",
    "sum(a) / sum(a)",
    "max(sum(a, axis=1))",
]


@pytest.mark.parametrize("text", REDUCTIONS)
def test_reductions(text: str, compute: Any) -> None:
    """Reductions anywhere in the expression, as Dask tree reductions of
    vexpr's per-chunk partials: within rounding of the in-memory result
    (sums and products in another order), min and max exactly."""
    a, b = inputs((97, 61), seed=2)
    env = {"a": da.from_array(a, chunks=(20, 17)), "b": da.from_array(b, chunks=(31, 61))}
    result = vd.evaluate(text, env, split_every=3)
    want = vexpr.evaluate(text, {"a": a, "b": b})
    assert result.dtype == want.dtype
    (got,) = compute(result)
    exact = "sum" not in text and "prod" not in text
    check(got, want, rtol=0.0 if exact else 1e-12)


@pytest.mark.parametrize("text", ["sum(a)", "sum(i)", "max(i, axis=0) - min(i)", "sum(i*i, axis=1)", "sum(a > 0.5)"])
def test_integer_reductions_exact(text: str, compute: Any) -> None:
    """Integer and boolean reductions equal the in-memory result exactly."""
    a, _ = inputs((83, 29), seed=3)
    i = (a * 1000).astype(np.int32)
    env = {"a": da.from_array(a, chunks=(10, 10)), "i": da.from_array(i, chunks=(25, 7))}
    want = vexpr.evaluate(text, {"a": a, "i": i})
    (got,) = compute(vd.evaluate(text, env))
    check(got, want, rtol=0.0 if "i" in text.replace("min", "") or ">" in text else 1e-12)


def test_identical_reductions_computed_once() -> None:
    """The same reduction twice in a text is one set of tasks in the graph."""
    a = da.ones(1000, chunks=10)
    once = len(dict(vd.evaluate("sum(a)", {"a": a}).__dask_graph__()))
    twice = len(dict(vd.evaluate("sum(a) / sum(a)", {"a": a}).__dask_graph__()))
    assert twice == once + 1


def test_reductions_reproducible(client: Any) -> None:
    """For a fixed chunking the tree is fixed: computing twice, and on the
    threaded scheduler or the cluster, gives the same bits."""
    a, b = inputs((400, 300), seed=4)
    env = {"a": da.from_array(a, chunks=(33, 41)), "b": da.from_array(b, chunks=(33, 41))}
    results = [vd.evaluate(t, env) for t in ("sum(a*b)", "sum(a, axis=0) / prod(b/b + 1e-9, axis=0)", "a / sum(a)")]
    first = client.compute(results, sync=True)
    second = client.compute(results, sync=True)
    threaded = dask.compute(*results, scheduler="threads")
    for x, y, z in zip(first, second, threaded):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes() == np.asarray(z).tobytes()


# Construction: errors, dtype, dispatch


def exploding(shape: tuple[int, ...], dtype: Any = np.float64) -> Any:
    """A Dask array whose chunks raise when computed: what the graph is built
    from without computing anything."""

    def boom(block: np.ndarray) -> np.ndarray:
        raise AssertionError("computed")

    return da.zeros(shape, dtype=dtype, chunks=5).map_blocks(boom, dtype=dtype)


@pytest.mark.parametrize(
    "text",
    [
        "2*sinn(a)",
        "a +",
        "a and b",
        "a[0]",
        "where(a, b)",
        "sum(a, axis=2)",
        "sum(a, axis=-1)",
        "sum(a, axis=b)",
        "a + c",
        "a << 1.5",
        "b + 'x'",
        "sum(3)",
        "min(a, 1, 2)",
        "i + 99999999999999999999999",
    ],
)
def test_bad_expressions_fail_at_construction(text: str) -> None:
    """vexpr's exception type and message, raised by vexpr.dask.evaluate
    itself (nothing computed: the inputs would raise AssertionError)."""
    a = np.zeros((6, 4))
    i = np.zeros((6, 4), np.int32)
    with pytest.raises(Exception) as want:
        vexpr.evaluate(text, {"a": a, "b": a, "i": i})
    with pytest.raises(Exception) as raised:
        vd.evaluate(text, {"a": exploding((6, 4)), "b": exploding((6, 4)), "i": exploding((6, 4), np.int32)})
    assert type(raised.value) is type(want.value)
    assert str(raised.value) == str(want.value)


def test_shape_errors_fail_at_construction() -> None:
    """Shapes that do not broadcast: vexpr's message, at once."""
    with pytest.raises(ValueError) as want:
        vexpr.evaluate("a + b", {"a": np.zeros(7), "b": np.zeros((3, 8))})
    with pytest.raises(ValueError) as raised:
        vd.evaluate("a + b", {"a": exploding((7,)), "b": exploding((3, 8))})
    assert str(raised.value) == str(want.value)


def test_dtype_without_evaluating() -> None:
    """The result dtype is vexpr's, known from the signature alone."""
    cases = {
        ("int32", "float32"): "a + b",
        ("int64", "float32"): "a * b",
        ("int32", "int32"): "a > b",
        ("uint8", "int16"): "sum(a + b, axis=0)",
        ("float32", "complex64"): "a + b",
    }
    for (ta, tb), text in cases.items():
        want = vexpr.evaluate(text, {"a": np.ones((3, 2), ta), "b": np.ones((3, 2), tb)}).dtype
        got = vd.evaluate(text, {"a": exploding((12, 8), ta), "b": exploding((12, 8), tb)}).dtype
        assert got == want, text
    assert vexpr.NumExpr("a > 1", [("a", "int32")]).result_dtype == "bool"


def test_result_dtype_and_stages_properties() -> None:
    """NumExpr.result_dtype and .stages, which vexpr.dask builds on."""
    text = "sum(a - sum(a)) + max(b, axis=1)"
    nex = vexpr.NumExpr(text, [("a", np.float64), ("b", np.int32)])
    assert nex.result_dtype == "float64"
    assert [(op, axis, text[s:e]) for op, axis, s, e in nex.stages] == [
        ("sum", None, "sum(a)"),
        ("sum", None, "sum(a - sum(a))"),
        ("max", 1, "max(b, axis=1)"),
    ]
    assert vexpr.NumExpr("a + 1", [("a", np.float64)]).stages == []


def test_vexpr_evaluate_dispatches() -> None:
    """vexpr.evaluate hands Dask inputs to vexpr.dask.evaluate: from the
    caller's frame or dictionaries; out= is refused clearly."""
    a, b = inputs((30, 20))
    A = da.from_array(a, chunks=7)
    r = vexpr.evaluate("2*A + 3*b")  # A from the frame, b NumPy
    assert isinstance(r, da.Array)
    check(r.compute(scheduler="threads"), vexpr.evaluate("2*a + 3*b"))
    r = vexpr.evaluate("a / sum(a)", local_dict={"a": A})
    check(r.compute(scheduler="threads"), vexpr.evaluate("a / sum(a)", local_dict={"a": a}), rtol=1e-13)
    with pytest.raises(ValueError, match="dask.array.store"):
        vexpr.evaluate("A + 1", out=np.empty((30, 20)))
    with pytest.raises(TypeError) as raised:
        vexpr.evaluate("2*sinn(A)")
    assert "unknown function `sinn`" in str(raised.value)
    # NumExpr objects take in-memory arrays only: a clear error, not a compute.
    with pytest.raises(TypeError, match="dask.array.Array"):
        vexpr.NumExpr("2*a", [("a", np.float64)])(exploding((10,)))


def test_import_vexpr_does_not_import_dask() -> None:
    """Users without Dask pay nothing: importing vexpr (and evaluating)
    leaves Dask unimported; vexpr.dask imports it on first use."""
    code = (
        "import sys, numpy as np, vexpr; vexpr.evaluate('a + 1', {'a': np.ones(3)});"
        "assert 'dask' not in sys.modules, 'imported';"
        "vexpr.dask; assert 'dask.array' in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


# Threads and the worker-side cache


def test_thread_local_count() -> None:
    """The per-thread override the chunks use: the calling thread's count
    only; other threads and the process-wide setting are not touched."""
    vexpr.set_num_threads(2)
    seen: dict[str, int] = {}
    inside = threading.Event()
    release = threading.Event()

    def chunk_thread() -> None:
        previous = _vexpr._set_thread_local_num_threads(1)
        seen["inside"] = vexpr.get_num_threads()
        inside.set()
        release.wait(10)
        _vexpr._set_thread_local_num_threads(previous)
        seen["after"] = vexpr.get_num_threads()

    t = threading.Thread(target=chunk_thread)
    t.start()
    inside.wait(10)
    seen["other"] = vexpr.get_num_threads()
    release.set()
    t.join()
    assert seen == {"inside": 1, "other": 2, "after": 2}
    with pytest.raises(ValueError):
        _vexpr._set_thread_local_num_threads(-1)


def test_chunks_use_one_vexpr_thread() -> None:
    """Each chunk runs with ``threads`` vexpr threads (1 by default) on the
    thread Dask runs it on, and leaves the process-wide count alone."""
    vexpr.set_num_threads(2)
    counts: list[int] = []
    real = vd.compiled

    class Spy:
        def __init__(self, nex: Any) -> None:
            self.nex = nex

        def __getattr__(self, name: str) -> Any:
            return getattr(self.nex, name)

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            counts.append(vexpr.get_num_threads())
            return self.nex(*args, **kwargs)

    a = da.from_array(np.arange(100.0), chunks=10)
    try:
        vd.compiled = lambda text, sig: Spy(real(text, sig))  # type: ignore[assignment]
        vd.evaluate("a + 1", {"a": a}).compute(scheduler="threads")
        assert counts and set(counts) == {1}
        counts.clear()
        vd.evaluate("sum(a*2)", {"a": a}, threads=2).compute(scheduler="threads")
        assert counts and set(counts) == {2}
        counts.clear()
        vexpr.set_num_threads(1)
        vd.evaluate("a + 3", {"a": a}, threads=None).compute(scheduler="threads")
        assert counts and set(counts) == {1}
    finally:
        vd.compiled = real  # type: ignore[assignment]
    assert vexpr.get_num_threads() == 1


def test_tasks_are_small_and_compiled_once_per_worker(client: Any) -> None:
    """A task holds the expression's text and signature (a few hundred
    bytes), not a compiled program; each worker compiles a text once however
    many chunks it evaluates."""
    a, b = inputs((4000,), seed=5)
    text = "2*a**3 - 4*a**5 + 6*log(a) + b / sum(b)"
    result = vd.evaluate(text, {"a": da.from_array(a, chunks=100), "b": da.from_array(b, chunks=100)})
    graph = dict(result.__dask_graph__())
    vexpr_tasks = [v for k, v in graph.items() if str(k[0] if isinstance(k, tuple) else k).startswith("vexpr")]
    assert len(vexpr_tasks) >= 80
    assert max(len(pickle.dumps(t)) for t in vexpr_tasks) < 1500
    before = client.run(vd.compilations)
    for _ in range(2):
        check(client.compute(result, sync=True), vexpr.evaluate(text, {"a": a, "b": b}), rtol=1e-12)
    after = client.run(vd.compilations)
    # At most the texts of the graph: the reduction's partial, its combining
    # step, and the final element-wise text; not one per chunk (40 each).
    assert all(after[w] - before[w] <= 3 for w in after)
    assert sum(after[w] - before[w] for w in after) >= 1


# The cluster: larger than memory, and a worker killed midway


def test_larger_than_worker_memory(client: Any) -> None:
    """4 GiB of lazily generated float64 input (two arrays of 2 GiB) through
    workers of 256 MiB each: an element-wise expression reduced to one
    number and along an axis, equal to Dask's own NumPy computation."""
    n = 1 << 28  # 2 GiB of float64 per array
    a = da.random.RandomState(7).uniform(0.1, 1.1, size=(n // 4096, 4096), chunks=(256, 4096))
    b = da.arange(n, chunks=1 << 20).reshape(n // 4096, 4096) * (1.0 / n) + 0.5
    text = "sum(2*a**3 - 4*a**5 + 6*log(b))"
    # One computation, so that each chunk of the inputs is made once and
    # feeds vexpr and NumPy alike.
    got, rows, want, want_rows = client.compute(
        [
            vd.evaluate(text, {"a": a, "b": b}),
            vd.evaluate("max(a*b, axis=1)", {"a": a, "b": b}),
            (2 * a**3 - 4 * a**5 + 6 * da.log(b)).sum(),
            (a * b).max(axis=1),
        ],
        sync=True,
    )
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert rows.shape == (n // 4096,)
    np.testing.assert_array_equal(rows, want_rows)
    assert len(client.scheduler_info()["workers"]) == 2


def test_worker_killed_midway(client: Any) -> None:
    """SIGKILL one worker process while a computation runs (after some of
    its chunks finished): Dask recomputes the lost chunks on the survivor and
    the nanny's new worker, and the result has the same bits as an
    undisturbed run of the same chunking."""

    def graph(scale: float) -> Any:
        # `* scale` with scale 1.0 changes no value, only the graph's keys:
        # the second run cannot reuse the first one's results.
        a = da.random.RandomState(11).uniform(0.1, 1.1, size=1 << 24, chunks=1 << 16) * scale
        b = da.random.RandomState(12).uniform(0.1, 1.1, size=1 << 24, chunks=1 << 16)
        return vd.evaluate("sum(arctan2(a, b) + tanh(a*b)) + max(exp(-a*a) * sqrt(b))", {"a": a, "b": b})

    started = time.perf_counter()
    want = client.compute(graph(1.0), sync=True)
    undisturbed = time.perf_counter() - started
    future = client.compute(graph(1.0 + 0.0 * undisturbed))

    def finished(dask_scheduler: Any) -> int:
        """vexpr tasks done so far (in memory, or released once used)."""
        return sum(
            tg.states["memory"] + tg.states["released"] + tg.states["forgotten"]
            for name, tg in dask_scheduler.task_groups.items()
            if str(name).startswith("vexpr")
        )

    deadline = time.perf_counter() + 60
    while client.run_on_scheduler(finished) < 10 and time.perf_counter() < deadline:
        time.sleep(0.02)
    assert not future.done(), f"finished before the kill (undisturbed run: {undisturbed:.2f} s)"
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    got = future.result(timeout=120)
    assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
    client.wait_for_workers(2, timeout=60)
    assert pids[victim] not in client.run(os.getpid).values()
