"""Memory-mapped inputs and outputs (`np.memmap`): evaluated a chunk at a time
with their pages given back to the kernel (crates/vexpr-py/src/mapped.rs), so
that the peak resident size does not grow with the files' size, and with the
in-memory path's results bit for bit."""

import numpy as np
import pytest

import vexpr
from test_runtime import run_python

# Large enough for the chunked path (vexpr-py's MAPPED_FROM, 4 Mi elements),
# and not a whole number of chunks or pages.
N = (1 << 22) + 12_345


def bits_equal(x, y):
    x, y = np.asarray(x), np.asarray(y)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.fixture
def files(tmp_path):
    """Two float64 files of N elements (a > 0, for log) and a float32 one."""
    rng = np.random.default_rng(0)
    paths = {}
    for name, values in (
        ("a", rng.uniform(0.5, 2.0, N)),
        ("b", rng.standard_normal(N)),
        ("f", rng.standard_normal(N).astype(np.float32)),
    ):
        path = tmp_path / f"{name}.npy"
        np.save(path, values)
        paths[name] = path
    return paths


def mapped(files, mode="r"):
    return {k: np.load(p, mmap_mode=mode) for k, p in files.items()}


def loaded(files):
    return {k: np.load(p) for k, p in files.items()}


@pytest.mark.parametrize(
    "expr",
    [
        "2*a + 3*b",  # E1
        "2*a**3 - 4*a**5 + 6*log(a)",  # E3
        "a / sum(a)",  # a reduction: its own pass over the file
        "where(b > 0, a, f) + sum(b * f)",  # mixed dtypes, a reduction of two
        "a * f",  # float32 memmap with float64
        "f * 2.5",
        "sum(a)",
    ],
)
@pytest.mark.parametrize("mode", ["r", "r+", "c"])
@pytest.mark.parametrize("threads", [1, 2])
def test_memmap_results_are_the_in_memory_ones(files, expr, mode, threads):
    vexpr.set_num_threads(threads)
    want = vexpr.evaluate(expr, local_dict=loaded(files))
    got = vexpr.evaluate(expr, local_dict=mapped(files, mode))
    assert bits_equal(got, want), expr


def test_broadcasting_with_a_small_in_memory_array(files):
    rows = 1024
    a = np.load(files["a"], mmap_mode="r")[: rows * (N // rows)].reshape(rows, -1)
    small = np.linspace(-1, 1, a.shape[1])
    column = np.arange(rows, dtype=np.int32)[:, None]
    for expr in ["a * small + 1", "a - column", "a / sum(a, axis=0) + small", "a * small - column * sum(a)"]:
        want = vexpr.evaluate(expr, local_dict={"a": np.array(a), "small": small, "column": column})
        got = vexpr.evaluate(expr, local_dict={"a": a, "small": small, "column": column})
        assert bits_equal(got, want), expr


def test_a_mapped_input_broadcast_along_a_new_axis(files):
    b = np.load(files["b"], mmap_mode="r")
    k = np.array([[1.0], [2.0]])
    want = vexpr.evaluate("b * k", local_dict={"b": np.array(b), "k": k})
    got = vexpr.evaluate("b * k", local_dict={"b": b, "k": k})
    assert bits_equal(got, want)


@pytest.mark.parametrize("expr", ["2*a + 3*b", "a / sum(a)", "a * f"])
def test_out_memmap(files, tmp_path, expr):
    want = vexpr.evaluate(expr, local_dict=loaded(files))
    out = np.lib.format.open_memmap(tmp_path / "out.npy", mode="w+", dtype=np.float64, shape=(N,))
    r = vexpr.evaluate(expr, local_dict=mapped(files), out=out)
    assert r is out
    assert bits_equal(out, want)
    out.flush()
    del out, r
    assert bits_equal(np.load(tmp_path / "out.npy"), want)


def test_out_memmap_of_another_dtype_is_cast(files, tmp_path):
    want = vexpr.evaluate("2*a + 3*b", local_dict=loaded(files)).astype(np.float32)
    out = np.memmap(tmp_path / "out.dat", mode="w+", dtype=np.float32, shape=(N,))
    vexpr.evaluate("2*a + 3*b", local_dict=mapped(files), out=out, casting="unsafe")
    assert bits_equal(out, want)


def test_out_memmap_from_in_memory_inputs(files, tmp_path):
    inputs = loaded(files)
    want = vexpr.evaluate("2*a + 3*b", local_dict=inputs)
    out = np.memmap(tmp_path / "out.dat", mode="w+", dtype=np.float64, shape=(N,))
    vexpr.evaluate("2*a + 3*b", local_dict=inputs, out=out)
    assert bits_equal(out, want)


def test_in_place_on_a_memmap(files):
    inputs = loaded(files)
    want = vexpr.evaluate("a / sum(a) + b", local_dict=inputs)
    m = mapped(files, "r+")
    a = m["a"]
    vexpr.evaluate("a / sum(a) + b", local_dict=m, out=a)
    assert bits_equal(a, want)
    a.flush()
    assert bits_equal(np.load(files["a"]), want)
    # Overlapping but not the same array: through a copy.
    a[:] = inputs["a"]
    want = vexpr.evaluate("x + 1", local_dict={"x": inputs["a"][:-1]})
    vexpr.evaluate("x + 1", local_dict={"x": a[:-1]}, out=a[1:])
    assert bits_equal(a[1:], want)


def test_mode_c_keeps_the_users_modifications(files):
    # A copy-on-write map: its modified pages exist only in this process, and
    # giving them back to the kernel would lose them. vexpr must read them
    # (and leave them) as they are.
    inputs = loaded(files)
    m = mapped(files, "c")
    a = m["a"]
    for i in (0, N // 2, N - 1):
        a[i] = 1000.0 + i
        inputs["a"][i] = 1000.0 + i
    for expr in ["2*a + 3*b", "a / sum(a)", "a * f"]:
        want = vexpr.evaluate(expr, local_dict=inputs)
        got = vexpr.evaluate(expr, local_dict=m)
        assert bits_equal(got, want), expr
    for i in (0, N // 2, N - 1):
        assert a[i] == 1000.0 + i
    # ... and the file itself is untouched.
    assert np.load(files["a"])[0] != 1000.0


def test_mode_c_out_keeps_what_is_written(files, tmp_path):
    path = tmp_path / "out.dat"
    np.memmap(path, mode="w+", dtype=np.float64, shape=(N,)).flush()
    out = np.memmap(path, mode="c", dtype=np.float64, shape=(N,))
    want = vexpr.evaluate("2*a + 3*b", local_dict=loaded(files))
    vexpr.evaluate("2*a + 3*b", local_dict=mapped(files), out=out)
    assert bits_equal(out, want)


def test_other_layouts_and_types_of_memmaps(files, tmp_path):
    # Swapped byte order, a Fortran-ordered 2-D map, a strided view, int16,
    # unaligned: whichever path takes them, the results are the same.
    a = np.load(files["a"])
    rows = 2048
    cases = {}
    path = tmp_path / "be.dat"
    m = np.memmap(path, mode="w+", dtype=">f8", shape=(N,))
    m[:] = a
    cases["swapped"] = (m, a)
    path = tmp_path / "f.dat"
    shape = (rows, N // rows)
    m = np.memmap(path, mode="w+", dtype=np.float64, shape=shape, order="F")
    m[:] = a[: rows * (N // rows)].reshape(shape)
    cases["fortran"] = (m, np.asfortranarray(a[: rows * (N // rows)].reshape(shape)))
    cases["strided"] = (np.load(files["a"], mmap_mode="r")[::2], a[::2])
    path = tmp_path / "i2.dat"
    m = np.memmap(path, mode="w+", dtype=np.int16, shape=(N,))
    m[:] = (a * 100).astype(np.int16)
    cases["int16"] = (m, (a * 100).astype(np.int16))
    path = tmp_path / "u.dat"
    raw = np.memmap(path, mode="w+", dtype=np.uint8, shape=(N * 8 + 1,))
    m = raw[1:].view(np.float64)
    m[:] = a
    cases["unaligned"] = (m, a)
    for name, (mm, mem) in cases.items():
        for expr in ["x * 2 + 1", "x / sum(x)"]:
            want = vexpr.evaluate(expr, local_dict={"x": mem})
            got = vexpr.evaluate(expr, local_dict={"x": mm})
            assert bits_equal(got, want), (name, expr)


def test_peak_memory_stays_bounded_on_memmaps():
    # Two 400 MB input files and a 400 MB `out=` file, all mapped: reading
    # them in place would add their 1.2 GB of pages to the resident set (the
    # pages stay mapped); a chunk at a time, with the pages given back, the
    # call adds a few chunk buffers. See test_peak_memory_grows_by_exactly_
    # one_output_array (test_runtime.py) for the VmHWM measurement.
    result = run_python(
        """
        import json, os, tempfile, numpy as np, vexpr

        def status(field):
            for line in open("/proc/self/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024

        n = 50_000_000
        with tempfile.TemporaryDirectory() as d:
            paths = [os.path.join(d, x) for x in ("a.dat", "b.dat", "c.dat")]
            for p, seed in zip(paths, (0, 1, 2)):
                m = np.memmap(p, dtype=np.float64, mode="w+", shape=(n,))
                g = np.random.default_rng(seed)
                for i in range(0, n, 1 << 22):
                    m[i:i + (1 << 22)] = g.standard_normal(min(1 << 22, n - i))
                m.flush()
                del m
            a, b = (np.memmap(p, dtype=np.float64, mode="r", shape=(n,)) for p in paths[:2])
            c = np.memmap(paths[2], dtype=np.float64, mode="r+", shape=(n,))
            vexpr.evaluate("2*a + 3*b", local_dict={"a": a[:1000], "b": b[:1000]})  # warm up
            grew = {}
            for expr in ["2*a + 3*b", "a / sum(a) + b"]:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
                before = status("VmRSS")
                vexpr.evaluate(expr, out=c)
                grew[expr] = status("VmHWM") - before
            i = np.random.default_rng(3).integers(0, n, 1000)
            ok = bool(np.allclose(c[i], a[i] / np.sum(a) + b[i], rtol=1e-12))
            files = 3 * n * 8
            del a, b, c
        print(json.dumps({"grew": grew, "files": files, "ok": ok}))
        """,
        timeout=300,
    )
    assert result["ok"]
    for expr, grew in result["grew"].items():
        assert grew < 96 << 20, result
