"""What happens while an evaluation runs: the GIL, memory, Ctrl-C."""

import json
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import vexpr


def run_python(code: str, timeout: float = 120) -> dict:
    """Runs `code` in a fresh interpreter; it prints one JSON object."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_gil_is_released_while_the_vm_runs():
    # A Python thread counts while the main thread evaluates on one vexpr
    # thread (the machine has a second core for the counter). Holding the GIL
    # would stop the counter for the whole of each evaluation; released, it
    # counts at nearly its own speed throughout.
    vexpr.set_num_threads(1)
    a = np.linspace(0, 1, 4_000_000)
    expr = "sin(a)**2 + cos(a)**2 + arctan2(a, a + 1)"
    vexpr.evaluate(expr)  # compile and warm up
    ticks = 0
    stop = threading.Event()

    def count():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.2)
    rate = ticks / 0.2  # ticks per second with the GIL to itself (roughly)
    start_ticks, t0 = ticks, time.perf_counter()
    evaluations = 0
    while time.perf_counter() - t0 < 0.5:
        vexpr.evaluate(expr)
        evaluations += 1
    during = time.perf_counter() - t0
    progressed = ticks - start_ticks
    stop.set()
    counter.join()
    assert evaluations >= 2
    assert progressed > 0.3 * rate * during, (progressed, rate, during)


def test_peak_memory_grows_by_exactly_one_output_array():
    # The result of "2*a + 3*b" should add one array of 80 MB to the resident
    # size and nothing of the inputs' size (NumPy's `2*a + 3*b` adds three).
    # Linux keeps the peak resident size (VmHWM) of a process; writing "5" to
    # /proc/self/clear_refs resets it to the current size, so the peak after
    # the call less the size before it is what the call itself added, whatever
    # the process did earlier (freed temporaries of the random generator, the
    # warm-up).
    result = run_python(
        """
        import json, numpy as np, vexpr

        def status(field):
            for line in open("/proc/self/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024

        n = 10_000_000
        a = np.random.default_rng(0).standard_normal(n)
        b = np.random.default_rng(1).standard_normal(n)
        vexpr.evaluate("2*a + 3*b", local_dict={"a": a[:1000], "b": b[:1000]})  # warm up: threads, code
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = status("VmRSS")
        c = vexpr.evaluate("2*a + 3*b")
        peak = status("VmHWM")
        ok = bool(np.allclose(c, 2*a + 3*b))
        print(json.dumps({"grew": peak - before, "out": c.nbytes, "ok": ok}))
        """
    )
    assert result["ok"]
    grew, out = result["grew"], result["out"]
    # The output (every page of it written), plus at most a few MiB of
    # per-thread scratch and stacks.
    assert out - (1 << 20) <= grew <= out + (8 << 20), result


def test_ctrl_c_stops_a_long_evaluation_promptly():
    result = run_python(
        """
        import json, os, signal, threading, time, numpy as np, vexpr
        # Python's Ctrl-C handler, even when this test runs where SIGINT is
        # ignored (a background job: Python then installs none).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        vexpr.set_num_threads(1)
        a = np.linspace(0.1, 1, 40_000_000)
        expr = "arctan2(a, a + 1) ** 1.5 + sinh(a) ** 0.7 + arccosh(a + 1) + arcsinh(a) ** 1.3 + sin(a) ** 0.6 * fmod(a, 0.3)"
        t0 = time.perf_counter(); vexpr.evaluate(expr); full = time.perf_counter() - t0
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        t0 = time.perf_counter()
        try:
            vexpr.evaluate(expr)
            outcome = "finished"
        except KeyboardInterrupt:
            outcome = "interrupted"
        stopped = time.perf_counter() - t0
        print(json.dumps({"full": full, "stopped": stopped, "outcome": outcome}))
        """
    )
    assert result["outcome"] == "interrupted", result
    assert result["full"] > 0.6, result  # long enough for the test to mean something
    assert result["stopped"] < 0.2 + 0.3, result


def test_ctrl_c_with_out_leaves_out_fully_written():
    result = run_python(
        """
        import json, os, signal, threading, time, numpy as np, vexpr
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as above
        vexpr.set_num_threads(2)
        a = np.linspace(0.1, 1, 40_000_000)
        expr = "arctan2(a, a + 1) ** 1.5 + sinh(a) ** 0.7 + arccosh(a + 1) + arcsinh(a) ** 1.3 + sin(a) ** 0.6 * fmod(a, 0.3)"
        want = vexpr.evaluate(expr)
        out = np.zeros_like(a)
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            vexpr.evaluate(expr, out=out)
            outcome = "finished"
        except KeyboardInterrupt:
            outcome = "interrupted"
        print(json.dumps({"outcome": outcome, "complete": bool(np.array_equal(out, want))}))
        """
    )
    assert result == {"outcome": "interrupted", "complete": True}


@pytest.mark.parametrize("shift", [0, 1, 2, 3, 7, 8, 9, 255, 256, 300, 511])
def test_large_results_start_where_their_inputs_do_in_a_page(shift):
    # Machine code's vector loads and stores are then aligned together, and
    # no load of an input looks to the CPU like it depends on the output
    # store just made (4K aliasing: kept.rs).
    base = np.empty(1_000_000 + 512, dtype=np.float64)
    a = base[shift : shift + 1_000_000]
    np.copyto(a, np.linspace(0.5, 1.5, a.size))
    for _ in range(2):  # a new buffer, then the kept one
        result = vexpr.evaluate("sin(a)**2 + a")
        assert result.flags["OWNDATA"] and result.flags["ALIGNED"] and result.base is None
        assert result.ctypes.data % 4096 == a.ctypes.data % 4096 // 16 * 16
        np.testing.assert_allclose(result, np.sin(a) ** 2 + a, rtol=1e-15)
        del result
    complex_result = vexpr.evaluate("a * 1j")
    assert complex_result.ctypes.data % 16 == 0
    np.testing.assert_array_equal(complex_result, a * 1j)
    del complex_result
    vexpr.release_memory()


def test_large_results_reuse_the_buffers_numpy_frees():
    # A result of 4 MiB or more gets its memory from vexpr's allocator
    # (NumPy's allocator hook): an ordinary array that owns its data, whose
    # buffer is kept when freed and handed to the next result of its size.
    vexpr.release_memory()
    a = np.linspace(0.0, 1.0, 2_000_000)  # 16 MB of float64
    first = vexpr.evaluate("2*a + 1")
    assert first.flags["OWNDATA"] and first.base is None
    np.testing.assert_array_equal(first, 2 * a + 1)
    address = first.ctypes.data
    del first
    second = vexpr.evaluate("3*a")
    assert second.ctypes.data == address  # the same buffer, all rewritten
    np.testing.assert_array_equal(second, 3 * a)
    # Resizing goes through the allocator's realloc.
    second.resize(3_000_000, refcheck=False)
    np.testing.assert_array_equal(second[:2_000_000], 3 * a)
    del second
    # The old buffer is kept when the resize moves the data, and then the new one.
    assert vexpr.release_memory() == 16_000_000 + 24_000_000
    # At most four buffers are kept, then freed on request.
    results = [vexpr.evaluate("a + k", local_dict={"a": a, "k": float(k)}) for k in range(6)]
    del results
    assert vexpr.release_memory() == 4 * a.nbytes
    assert vexpr.release_memory() == 0
    # Resizing a kept-size buffer smaller and larger keeps the data.
    c = vexpr.evaluate("a * 2")
    c.resize(600_000, refcheck=False)
    np.testing.assert_array_equal(c, 2 * a[:600_000])
    c.resize(2_500_000, refcheck=False)
    np.testing.assert_array_equal(c[:600_000], 2 * a[:600_000])
    del c
    vexpr.release_memory()
    # Small results are NumPy's as before.
    small = vexpr.evaluate("a + 1", local_dict={"a": a[:1000]})
    assert small.flags["OWNDATA"]


@pytest.mark.skipif(sys.platform != "linux", reason="fork and /proc/self/task are Linux's")
def test_a_forked_child_makes_machine_code_with_a_generator_of_its_own():
    # The parent's code generator thread is not copied by fork (and its queue
    # may be locked at that instant): the child must start its own, neither
    # hanging nor computing wrong results. Fresh expressions in the child make
    # it ask for code; its threads' names show the new generator.
    result = run_python(
        """
        import json, os, time
        import numpy as np
        import vexpr

        def threads():
            return sorted(open(f"/proc/self/task/{t}/comm").read().strip()
                          for t in os.listdir("/proc/self/task"))

        a = np.linspace(0.1, 2.0, 300_000)
        b = np.linspace(-1.0, 1.0, 300_000)
        for _ in range(3):
            vexpr.evaluate("2*a**3 - 4*a**5 + 6*log(a)")
        pid = os.fork()
        if pid == 0:
            status = 3
            try:
                ok = True
                for k in range(6):
                    text = f"{k + 2}*a - sin(b)*{k} + a*b"
                    want = (k + 2) * a - np.sin(b) * k + a * b
                    for _ in range(4):
                        ok &= bool(np.allclose(vexpr.evaluate(text), want, rtol=1e-14, atol=0))
                status = 0 if ok and "vexpr-codegen" in threads() else 1
            finally:
                os._exit(status)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            status = -1
        print(json.dumps({"status": status, "parent": "vexpr-codegen" in threads()}))
        """
    )
    assert result == {"status": 0, "parent": True}
