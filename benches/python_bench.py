#!/usr/bin/env python3
"""Time vexpr's Python package against numexpr, NumPy and Numba, in one process.

Usage (with an interpreter that has vexpr, numexpr, NumPy and Numba installed;
matplotlib is optional)::

    python benches/python_bench.py                      # full run, ~8-10 min
    python benches/python_bench.py --quick              # N = 10k and 1M, fewer repetitions, < 1 min
    python benches/python_bench.py --out docs/python.md # where the Markdown goes (the default)

What it does, in one run of one process:

1. Throughput.  For each benchmark expression E1..E8 (``EXPRESSIONS`` of
   ``benches/compare.py``), float64 inputs ``a``, ``b`` uniform in [0.1, 1.1)
   from a fixed seed, N = 10k, 1M, 10M and 1 and 2 threads, it times
   ``vexpr.evaluate(expr, local_dict=...)`` and ``numexpr.evaluate(...)``
   (compiled expression cached, output allocated per call, as users call
   them; threads set with each one's ``set_num_threads``), NumPy (the
   expression text ``eval``-ed with NumPy's functions in the namespace, as
   numexpr's tests do; single-threaded, so timed with 1 thread only) and a
   Numba ``@njit(parallel=True, fastmath=False)`` ``prange`` loop over the
   expression written for scalars (``NUMBA_SCALAR``; threads set with
   ``numba.set_num_threads``; compiled before timing).  Before timing, every
   contestant's result is checked against NumPy's (``assert_allclose``).
   The contestants are interleaved: each repetition takes one sample of each,
   in an order that rotates from one repetition to the next.  A sample is one
   call, or for calls under 50 us a batch of calls timed together (as the
   CLI's ``vexpr bench`` does), after 10 ms of untimed calls (steady state,
   as in a user's loop; see ``WARMUP_SECONDS``).  After each block of
   repetitions, vexpr is timed back to back three ways for the same number
   of samples: ``evaluate`` allocating its output, ``evaluate`` into
   ``out=``, and the CLI ``target/release/vexpr bench EXPR --n N --threads T
   --repeat R --json`` (the same engine, into a preallocated output, no
   Python) as a subprocess.  Python / CLI is what the Python layer and the
   output allocation cost; ``out=`` / CLI leaves the allocation out.
2. Per-call cost at N = 10, 1 thread: cached ``evaluate("2*a + 3*b")`` with
   the variables found in the caller's frame and with ``local_dict=``,
   ``re_evaluate()``, a call of a ``NumExpr`` object and a first compile
   (``evaluate`` of expressions ``2*a + k*b`` never seen before, one call
   each), for vexpr and numexpr alike, interleaved.
3. Writes the results as Markdown between the markers ``<!-- bench:begin -->``
   and ``<!-- bench:end -->`` of ``--out`` (the rest of that file is left as it
   is; a missing file is created with a heading and the markers), draws
   ``<out stem>-speed.png`` beside it (``docs/python-speed.png``: speed-up over
   NumPy at N >= 1M; skipped with a note when matplotlib is missing) and keeps
   every raw number in ``benches/results/python-<date>[-quick][-k].json``.

``--quick`` writes the Markdown and the plot only when ``--out`` is given, so
that a check of the script does not replace the documented full run; it
prints the Markdown in any case.

Noise: the machine may be shared.  Every number is a median over many
repetitions, the contestants are interleaved so that a burst of other work
hits all of them alike, and the output states how noisy the run was (the
spread of the repetitions, the CPU time other processes took meanwhile and
the load average).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import re
import statistics
import sys
import textwrap
import time
import timeit
from pathlib import Path

from compare import (  # benches/compare.py: the expressions and the helpers both scripts share
    EXPRESSIONS,
    FULL_LENGTHS,
    HIGH,
    LOW,
    OPENBLAS_OVERRIDES,
    THREAD_COUNTS,
    VEXPR_MIN_SAMPLE_S,
    describe_machine,
    fmt,
    fmt_ratio,
    n_label,
    numbered_results_path,
    run_vexpr,
    write_marked_section,
)

REPO = Path(__file__).resolve().parent.parent
CLI = REPO / "target" / "release" / "vexpr"
DEFAULT_OUT = REPO / "docs" / "python.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
NEW_FILE_HEADING = "# vexpr for Python: measured speed"

# Before NumPy, numexpr and Numba load: no BLAS thread pool competing with the
# measured threads, numexpr's pool no larger than the most threads measured,
# and none of the OpenBLAS overrides that slow a current NumPy (see
# compare.py's worker_env).  OMP_NUM_THREADS stays unset: Numba's OpenMP
# layer would read it.
THREAD_ENVIRONMENT = {
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_MAX_THREADS": str(max(THREAD_COUNTS)),
}
os.environ.update(THREAD_ENVIRONMENT)
REMOVED_ENVIRONMENT = {name: os.environ.pop(name) for name in OPENBLAS_OVERRIDES if name in os.environ}

import numba  # noqa: E402
import numexpr  # noqa: E402
import numpy as np  # noqa: E402
import vexpr  # noqa: E402

SEED = 20240601  # compare.py's worker draws from the same seed
QUICK_LENGTHS = (10_000, 1_000_000)

# The expressions for Numba, per element: what a Numba user writes inside the
# prange loop.  Same order of operations as the expression text.
NUMBA_SCALAR = {
    "E1": lambda a, b: 2 * a + 3 * b,
    "E2": lambda a, b: a**2 + 3 * b,
    "E3": lambda a, b: 2 * a**3 - 4 * a**5 + 6 * math.log(a),
    "E4": lambda a, b: abs(a - b) / (abs(a) + abs(b)),
    "E5": lambda a, b: math.sin(a) ** 2 + math.cos(b) ** 2,
    "E6": lambda a, b: a * b if a > b else a - b,
    "E7": lambda a, b: math.exp(-a * a) * math.sqrt(b),
    "E8": lambda a, b: math.atan2(a, b) + math.tanh(a * b),
}
assert NUMBA_SCALAR.keys() == EXPRESSIONS.keys()

# Before each timed sample, a contestant runs untimed for at least this long
# (at least one call).  On this 2-vCPU VM a core that was idle for a few ms
# runs the next parallel call slowly (the host clocks it down or runs other
# work on it), and Numba's OpenMP layer (libgomp, default wait policy) keeps
# its workers spinning for 5-8 ms after a parallel loop, taking the second
# core from whichever contestant comes next.  Measured (E1, N = 1M, 2 threads,
# interleaved): vexpr 0.70 ns/elem after one untimed call, 0.35-0.38 after
# 5-20 ms of them, as back to back alone and in the CLI (0.33).
WARMUP_SECONDS = 0.010

ENGINES = ("vexpr", "numexpr", "numpy", "numba")
ENGINE_LABELS = {"vexpr": "vexpr", "numexpr": "numexpr", "numpy": "NumPy", "numba": "Numba"}
# Results must agree with NumPy's to this relative tolerance (all are
# float64; the kernels differ by a few ulps at most).
RTOL = 1e-12

# The per-call measurements (N = 10, one thread) and the targets, in us.
OVERHEAD_N = 10
OVERHEAD_EXPR = "2*a + 3*b"
OVERHEAD_NUMEXPR_EXPR = "2*a+3*b"  # the NumExpr object's text, as in the issue
TARGET_EVALUATE_US = 1.5  # numexpr ~5.8
TARGET_NUMEXPR_CALL_US = 0.5  # numexpr ~0.8
TARGET_FIRST_COMPILE_US = 30.0  # numexpr 74-354
# The Python package may cost at most this much over the CLI at N >= 1M.
TARGET_CLI_RATIO = 1.10
# Which of a paired run's two numbers (median, fastest sample) a ratio uses.
# The target is judged on the fastest samples: the host's slowdowns (whole
# runs at 1.3-1.8x, in the CLI as in Python, with this machine idle) only
# ever add time, so a run's fastest sample is its best estimate of the cost
# itself; the ratio of the medians is shown beside it.
MEDIAN, FASTEST = 0, 1
CLI_RATIO_FROM_N = 1_000_000
# A case during which other processes used more than this many cores is
# listed as disturbed.
BUSY_CORES = 0.25
# How often a disturbed case is measured at most (see measure_throughput),
# and the pause before measuring it again.
MEASURE_ATTEMPTS = 3
RETRY_PAUSE_S = 5.0
BUSY_LISTED = 6  # how many of them the text names


class Settings:
    """How long and how often to measure: the full run or --quick."""

    def __init__(self, quick: bool):
        self.lengths = QUICK_LENGTHS if quick else FULL_LENGTHS
        self.case_seconds = 0.4 if quick else 3.0  # Python contestants, per case
        self.min_reps = 5 if quick else 15
        self.max_reps = 40 if quick else 300
        self.measure_attempts = 1 if quick else MEASURE_ATTEMPTS
        self.cli_runs = 1 if quick else 5  # CLI runs per case, between blocks of repetitions
        self.cli_seconds = 0.1 if quick else 0.3  # per CLI run
        self.overhead_number = 1000 if quick else 10_000  # calls per timeit sample
        self.overhead_repeat = 5 if quick else 21
        self.first_compiles = 200 if quick else 2000  # distinct new expressions per library


# ---------------------------------------------------------------------------
# Statistics and the machine's load
# ---------------------------------------------------------------------------


def summarize(samples: list[float]) -> dict:
    """Median and relative interquartile spread of a list of timings."""
    med = statistics.median(samples)
    if len(samples) >= 2:
        q1, _, q3 = statistics.quantiles(samples, n=4)
    else:
        q1 = q3 = med
    return {"median": med, "spread": (q3 - q1) / med if med else 0.0, "count": len(samples)}


def cpu_jiffies() -> dict:
    """The machine's CPU time so far from /proc/stat, in clock ticks, by kind."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return {}
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    return dict(zip(names, map(int, fields)))


def own_cpu_seconds() -> float:
    """CPU time of this process and its finished children (the CLI runs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class LoadMeter:
    """What else ran on the machine between start() and stop()."""

    def start(self) -> None:
        self.wall = time.monotonic()
        self.jiffies = cpu_jiffies()
        self.own = own_cpu_seconds()
        self.load_before = os.getloadavg()

    def stop(self) -> dict:
        wall = time.monotonic() - self.wall
        now = cpu_jiffies()
        tick = os.sysconf("SC_CLK_TCK")
        delta = {k: (now[k] - self.jiffies.get(k, 0)) / tick for k in now}
        busy = sum(v for k, v in delta.items() if k not in ("idle", "iowait", "steal"))
        others = max(0.0, busy - (own_cpu_seconds() - self.own))
        return {
            "wall_seconds": wall,
            "cores": os.cpu_count(),
            # Cores' worth of CPU that other processes used, on average.
            "other_processes_cores": others / wall if wall else 0.0,
            # Of all CPU time, the part at a lower priority (nice > 0).
            "niced_cores": delta.get("nice", 0.0) / wall if wall else 0.0,
            "steal_cores": delta.get("steal", 0.0) / wall if wall else 0.0,
            "load_average_before": self.load_before,
            "load_average_after": os.getloadavg(),
        }


# ---------------------------------------------------------------------------
# The contestants
# ---------------------------------------------------------------------------


def make_inputs(n: int) -> dict:
    """The float64 inputs of length n, the same for every contestant."""
    rng = np.random.default_rng(SEED)
    return {"a": rng.uniform(LOW, HIGH, n), "b": rng.uniform(LOW, HIGH, n)}


def numpy_function(text: str, inputs: dict):
    """The expression as NumPy evaluates it: its text ``eval``-ed with NumPy's
    functions of the same names in the namespace (``abs`` is ``np.abs``)."""
    namespace = {name: getattr(np, name) for name in re.findall(r"\b(\w+)\s*\(", text)}
    namespace.update(inputs)
    code = compile(text, f"<numpy {text}>", "eval")
    return lambda: eval(code, namespace)


def numba_kernel(scalar):
    """A parallel Numba loop computing ``scalar(a[i], b[i])`` into a new array."""
    element = numba.njit(scalar)

    @numba.njit(parallel=True, fastmath=False)
    def kernel(a, b):
        out = np.empty_like(a)
        for i in numba.prange(a.shape[0]):
            out[i] = element(a[i], b[i])
        return out

    return kernel


def contestants(eid: str, inputs: dict, kernels: dict, with_numpy: bool) -> dict:
    """The calls to time for one expression, by engine."""
    text = EXPRESSIONS[eid][0]
    a, b = inputs["a"], inputs["b"]
    calls = {
        "vexpr": lambda: vexpr.evaluate(text, local_dict=inputs),
        "numexpr": lambda: numexpr.evaluate(text, local_dict=inputs),
        "numba": lambda: kernels[eid](a, b),
    }
    if with_numpy:
        calls["numpy"] = numpy_function(text, inputs)
    return calls


def set_threads(threads: int) -> None:
    """The thread count of every threaded contestant."""
    vexpr.set_num_threads(threads)
    numexpr.set_num_threads(threads)
    numba.set_num_threads(threads)


def check_agreement(calls: dict) -> dict:
    """Asserts every result equals NumPy's; returns the largest relative differences."""
    reference = calls["numpy"]()
    differences = {}
    for engine, call in calls.items():
        if engine == "numpy":
            continue
        result = call()
        np.testing.assert_allclose(result, reference, rtol=RTOL, atol=0, err_msg=engine)
        differences[engine] = float(np.max(np.abs(result - reference) / np.abs(reference)))
    return differences


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def seconds_per_call(call) -> float:
    """One call's time, estimated over at least 20 ms after a warm-up call."""
    call()
    calls, start = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02 or calls >= 1000:
            return elapsed / calls


def time_interleaved(calls: dict, batches: dict, reps: int, first_rep: int = 0) -> dict:
    """Samples of every call, interleaved; returns seconds per call by name.

    Each repetition takes one sample of each call (a batch of ``batches[name]``
    back-to-back calls, timed together) in an order that rotates from one
    repetition to the next, so that no call always runs right after the same
    other one.  A sample starts with ``WARMUP_SECONDS`` of untimed calls (at
    least one): it measures the call's steady state, as in a user's loop, not
    the state the previous contestant left: idle or busy cores (see
    ``WARMUP_SECONDS``), or a heap from which glibc returned memory to the
    system after NumPy freed its temporaries, so that the next large
    allocation page-faults again.  The garbage collector is off meanwhile, as
    in timeit.
    """
    names = list(calls)
    samples = {name: [] for name in names}
    gc.collect()
    gc.disable()
    try:
        for rep in range(first_rep, first_rep + reps):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                call, batch = calls[name], batches[name]
                warm_until = time.perf_counter() + WARMUP_SECONDS
                call()
                while time.perf_counter() < warm_until:
                    call()
                t0 = time.perf_counter_ns()
                for _ in range(batch):
                    call()
                samples[name].append((time.perf_counter_ns() - t0) / batch / 1e9)
    finally:
        gc.enable()
    return samples


def time_back_to_back(call, batch: int, repeat: int) -> tuple[float, float]:
    """The median and the fastest seconds per call of ``repeat``
    back-to-back samples of ``batch`` calls, after ``WARMUP_SECONDS`` of
    untimed calls: a run timed the way ``vexpr bench`` times its own."""
    warm_until = time.perf_counter() + WARMUP_SECONDS
    call()
    while time.perf_counter() < warm_until:
        call()
    samples = []
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter_ns()
            for _ in range(batch):
                call()
            samples.append((time.perf_counter_ns() - t0) / batch / 1e9)
    finally:
        gc.enable()
    return statistics.median(samples), min(samples)


def time_case(calls: dict, paired_runs: dict, settings: Settings) -> tuple[dict, dict, int]:
    """Times one case (expression, N, threads).

    The Python contestants ``calls`` run interleaved (``time_interleaved``)
    in ``settings.cli_runs`` blocks of repetitions.  After each block, the
    ``paired_runs`` (vexpr from Python back to back, with and without
    ``out=``, and the CLI: see ``paired_runners``) run one after the other
    and then in the reverse order, each for the same number of samples, about
    ``settings.cli_seconds``: two rounds per block.
    Returns the interleaved samples (seconds per call) by engine, the paired
    runs' (median, fastest sample) pairs in ns/elem by name, and the
    repetition count.
    """
    per_call = {name: seconds_per_call(call) for name, call in calls.items()}
    batches = {name: max(1, math.ceil(VEXPR_MIN_SAMPLE_S / s)) for name, s in per_call.items()}
    round_seconds = sum(per_call[name] * batches[name] + max(per_call[name], WARMUP_SECONDS) for name in calls)
    reps = max(settings.min_reps, min(settings.max_reps, round(settings.case_seconds / round_seconds)))
    reps = math.ceil(reps / settings.cli_runs) * settings.cli_runs
    block = reps // settings.cli_runs
    paired_repeat = max(5, min(100_000, round(settings.cli_seconds / (per_call["vexpr"] * batches["vexpr"]))))
    samples = {name: [] for name in calls}
    paired = {name: [] for name in paired_runs}
    for k in range(settings.cli_runs):
        for name, values in time_interleaved(calls, batches, block, first_rep=k * block).items():
            samples[name] += values
        # Forward, then backward (A B C C B A): a load that drifts during
        # the block weighs on every run alike, so the rounds' ratios stay fair.
        order = list(paired_runs)
        for names in (order, order[::-1]):
            for name in names:
                paired[name].append(paired_runs[name](paired_repeat, batches["vexpr"]))
    return samples, paired, reps


def paired_ratio(paired: dict, name: str, statistic: int) -> float:
    """The median over rounds of ``name``'s time over the CLI's in the same
    round: each ratio compares runs made seconds apart, under the same load.
    ``statistic`` picks the runs' medians (``MEDIAN``) or their fastest
    samples (``FASTEST``)."""
    return statistics.median(p[statistic] / c[statistic] for p, c in zip(paired[name], paired["cli"]))


def paired_runners(text: str, inputs: dict, threads: int) -> dict:
    """vexpr's runs timed alike, each a function (repeat, batch) -> median
    ns/elem: ``evaluate`` from Python back to back (allocating its output as
    users call it, and into a preallocated ``out=``, which takes the
    allocation out), and the CLI's ``vexpr bench`` (into a preallocated
    output, no Python; it batches short calls itself)."""
    n = len(inputs["a"])
    out = np.empty(n)

    def python(call):
        return lambda repeat, batch: tuple(t * 1e9 / n for t in time_back_to_back(call, batch, repeat))

    def cli(repeat, _batch):
        run = run_vexpr(CLI, text, n, threads, repeat)
        return run["median_ns_per_elem"], run["min_ns_per_elem"]

    return {
        "python": python(lambda: vexpr.evaluate(text, local_dict=inputs)),
        "python_out": python(lambda: vexpr.evaluate(text, local_dict=inputs, out=out)),
        "cli": cli,
    }


def measure_throughput(settings: Settings, ids: list[str]) -> list[dict]:
    """Every (expression, N, threads) case; one row each, N-major (one input
    set alive at a time: the 10M set is 160 MB)."""
    kernels = {}
    for eid in ids:
        t0 = time.perf_counter()
        kernels[eid] = numba_kernel(NUMBA_SCALAR[eid])
        small = make_inputs(100)
        kernels[eid](small["a"], small["b"])  # compile now, not while timing
        print(f"numba: compiled {eid} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    rows = []
    for n in settings.lengths:
        inputs = make_inputs(n)
        for eid in ids:
            text = EXPRESSIONS[eid][0]
            set_threads(1)
            differences = check_agreement(contestants(eid, inputs, kernels, with_numpy=True))
            numpy_result = None
            for threads in THREAD_COUNTS:
                set_threads(threads)
                # NumPy does not thread: it is timed in the 1-thread case only.
                calls = contestants(eid, inputs, kernels, with_numpy=threads == 1)
                # A case during which other processes used more than
                # BUSY_CORES is measured again, up to MEASURE_ATTEMPTS times;
                # the quietest attempt is kept.
                attempts = []
                while len(attempts) < settings.measure_attempts:
                    if attempts:
                        time.sleep(RETRY_PAUSE_S)
                    meter = LoadMeter()
                    meter.start()
                    measured = time_case(calls, paired_runners(text, inputs, threads), settings)
                    attempts.append((meter.stop()["other_processes_cores"], measured))
                    if attempts[-1][0] <= BUSY_CORES:
                        break
                other_cores, (samples, paired, reps) = min(attempts, key=lambda a: a[0])
                stats = {name: summarize([s * 1e9 / n for s in values]) for name, values in samples.items()}
                if numpy_result is None:
                    numpy_result = stats["numpy"]
                stats.setdefault("numpy", numpy_result)
                row = {
                    "id": eid, "expr": text, "n": n, "threads": threads, "repetitions": reps,
                    "ns_per_elem": {name: stats[name]["median"] for name in ENGINES},
                    "spread": {name: stats[name]["spread"] for name in ENGINES},
                    # vexpr timed back to back: from Python, into out=, and the CLI.
                    "paired_ns_per_elem": {name: statistics.median(r[MEDIAN] for r in v) for name, v in paired.items()},
                    # Each run's [median, fastest sample], in the order run.
                    "paired_runs_ns_per_elem": paired,
                    "max_relative_difference_to_numpy": differences,
                    # Cores' worth of CPU other processes used while this case ran.
                    "other_processes_cores": other_cores,
                    "attempts": len(attempts),
                }
                for name in ("python", "python_out"):
                    row[f"{name}_over_cli"] = paired_ratio(paired, name, FASTEST)
                    row[f"{name}_over_cli_medians"] = paired_ratio(paired, name, MEDIAN)
                rows.append(row)
                print(
                    f"{eid} N={n_label(n)} T={threads} ({reps} reps): "
                    + ", ".join(f"{name} {fmt(row['ns_per_elem'][name])}" for name in ENGINES)
                    + "; back to back: "
                    + ", ".join(f"{name} {fmt(v)}" for name, v in row["paired_ns_per_elem"].items())
                    + " ns/elem",
                    file=sys.stderr,
                )
        del inputs
    return rows


# ---------------------------------------------------------------------------
# Per-call cost at N = 10
# ---------------------------------------------------------------------------


def overhead_timers(lib, a, b) -> dict:
    """timeit Timers of the per-call measurements for one library.

    The frame-lookup variants run inside timeit's function, whose locals hold
    ``a`` and ``b`` (set by the setup): what ``evaluate`` finds when a user
    calls it from a function.  ``re_evaluate``'s setup validates the
    expression first, as another measurement may have been the library's last.
    """
    names = {"lib": lib, "A": a, "B": b, "d": {"a": a, "b": b},
             "f": lib.NumExpr(OVERHEAD_NUMEXPR_EXPR, [("a", np.float64), ("b", np.float64)])}
    setup = "a = A; b = B"
    return {
        "evaluate, frame locals": timeit.Timer(f"lib.evaluate({OVERHEAD_EXPR!r})", setup, globals=names),
        "evaluate, local_dict=": timeit.Timer(f"lib.evaluate({OVERHEAD_EXPR!r}, local_dict=d)", globals=names),
        "re_evaluate()": timeit.Timer("lib.re_evaluate()", f"{setup}; lib.validate({OVERHEAD_EXPR!r})", globals=names),
        "NumExpr object call": timeit.Timer("f(a, b)", setup, globals=names),
    }


def time_overheads(settings: Settings) -> dict:
    """Per-call seconds at N = 10 of each measurement and library: the
    libraries' timeit samples interleaved, order rotating."""
    set_threads(1)
    inputs = make_inputs(OVERHEAD_N)
    timers = {}
    for lib in (vexpr, numexpr):
        lib.evaluate(OVERHEAD_EXPR, local_dict=inputs)  # cached from here on
        for what, timer in overhead_timers(lib, inputs["a"], inputs["b"]).items():
            timers[what, lib.__name__] = timer
            timer.timeit(number=100)  # warm-up
    keys = list(timers)
    samples = {key: [] for key in keys}
    for rep in range(settings.overhead_repeat):
        shift = rep % len(keys)
        for key in keys[shift:] + keys[:shift]:
            samples[key].append(timers[key].timeit(number=settings.overhead_number) / settings.overhead_number)
    return samples


def time_first_compiles(settings: Settings) -> dict:
    """Seconds of one ``evaluate`` of an expression the library has never
    seen (``2*a + k*b``, a new k each time), per library, alternating which
    goes first."""
    set_threads(1)
    inputs = make_inputs(OVERHEAD_N)
    libs = [vexpr, numexpr]
    samples = {lib.__name__: [] for lib in libs}
    # Constants no other measurement uses, so that neither cache has them.
    texts = [f"2*a + {k}*b" for k in range(1_000_001, 1_000_001 + settings.first_compiles)]
    gc.collect()
    gc.disable()
    try:
        for i, text in enumerate(texts):
            for lib in (libs if i % 2 == 0 else libs[::-1]):
                t0 = time.perf_counter_ns()
                lib.evaluate(text, local_dict=inputs)
                samples[lib.__name__].append((time.perf_counter_ns() - t0) / 1e9)
    finally:
        gc.enable()
    return samples


def measure_per_call(settings: Settings) -> list[dict]:
    """The per-call table's rows: vexpr and numexpr in us, with targets."""
    samples = time_overheads(settings)
    for lib, values in time_first_compiles(settings).items():
        samples["first compile (new expression)", lib] = values
    targets = {
        "evaluate, frame locals": TARGET_EVALUATE_US,
        "evaluate, local_dict=": TARGET_EVALUATE_US,
        "NumExpr object call": TARGET_NUMEXPR_CALL_US,
        "first compile (new expression)": TARGET_FIRST_COMPILE_US,
    }
    rows = []
    for what in dict.fromkeys(key[0] for key in samples):
        stats = {lib: summarize([s * 1e6 for s in samples[what, lib]]) for lib in ("vexpr", "numexpr")}
        target = targets.get(what)
        rows.append({
            "what": what,
            "vexpr_us": stats["vexpr"]["median"], "numexpr_us": stats["numexpr"]["median"],
            "spread": {lib: s["spread"] for lib, s in stats.items()},
            "samples": stats["vexpr"]["count"],
            "target_us": target,
            "met": None if target is None else stats["vexpr"]["median"] <= target,
        })
    return rows


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def versions() -> dict:
    """Versions of the contestants and where the two vexpr builds came from."""
    extension = Path(vexpr._vexpr.__file__)
    stamp = lambda p: _dt.datetime.fromtimestamp(p.stat().st_mtime).isoformat(timespec="seconds")  # noqa: E731
    return {
        "python": sys.version.split()[0],
        "vexpr": vexpr.__version__, "numexpr": numexpr.__version__,
        "numpy": np.__version__, "numba": numba.__version__,
        "numba_threading_layer": numba.threading_layer(),
        "vexpr_extension": str(extension), "vexpr_extension_built": stamp(extension),
        "vexpr_cli": str(CLI), "vexpr_cli_built": stamp(CLI),
    }


def machine_table(results: dict) -> str:
    """The machine and the versions, as a two-column Markdown table."""
    m, v = results["machine"], results["versions"]
    caches = ", ".join(f"{k.replace(' cache', '')} {val}" for k, val in m["caches"].items())
    hyper = f", {m['hypervisor']} guest" if m["hypervisor"] else ""
    rows = [
        ("CPU", f"`{m['cpu']}` (lscpu){hyper}, {m['cores']} cores"),
        ("caches (lscpu)", caches),
        ("memory", f"{m['memory_gib']} GiB"),
        ("OS", m["os"]),
        ("Python", f"{v['python']}: NumPy {v['numpy']}, numexpr {v['numexpr']}, "
                   f"Numba {v['numba']} (threading layer `{v['numba_threading_layer']}`)"),
        ("vexpr", f"{v['vexpr']}, commit `{m['git_commit'][:10]}`{' + uncommitted changes' if m['git_dirty'] else ''}; "
                  f"extension built {v['vexpr_extension_built']}, CLI built {v['vexpr_cli_built']}"),
        ("environment", ", ".join(f"`{k}={val}`" for k, val in results["environment"]["set"].items())
         + (f"; removed {', '.join(results['environment']['removed'])}" if results["environment"]["removed"] else "")),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {val} |" for k, val in rows)])


def noise_paragraph(results: dict) -> str:
    """How noisy the run was: spreads of the repetitions and other load."""
    load = results["load"]
    spreads = sorted(
        (row["spread"][engine], row["id"], row["n"], row["threads"], engine)
        for row in results["throughput"] for engine in ENGINES
    )
    median_spread = statistics.median(s[0] for s in spreads)
    worst = spreads[-1]
    call_spreads = [s for row in results["per_call"] for s in row["spread"].values()]
    return (
        f"Noise: over the {load['wall_seconds'] / 60:.1f} minutes of the run, other processes used "
        f"{load['other_processes_cores']:.2f} of the {load['cores']} cores on average "
        f"({load['niced_cores']:.2f} of them at a lower priority, nice > 0; VM steal {load['steal_cores']:.2f}); "
        f"load average {load['load_average_before'][0]:.1f} at the start, {load['load_average_after'][0]:.1f} "
        f"at the end. The interquartile range of a cell's repetitions is {median_spread:.0%} of its median "
        f"in the typical cell (median over cells and engines) and {worst[0]:.0%} at worst "
        f"({worst[1]} N={n_label(worst[2])} T={worst[3]}, {ENGINE_LABELS[worst[4]]}); "
        f"for the per-call times {statistics.median(call_spreads):.0%} typical, {max(call_spreads):.0%} at worst. "
        "Differences of a few percent between cells are within this noise."
        + busy_cases_sentence(results["throughput"])
    )


def busy_cases_sentence(rows: list[dict]) -> str:
    """Which cases ran while other processes took a sizeable share of a core."""
    retried = sum(r.get("attempts", 1) > 1 for r in rows)
    again = (
        f" {retried} case(s) measured while other processes used more than {BUSY_CORES} of a core were "
        f"measured again (at most {MEASURE_ATTEMPTS} attempts, the quietest kept)."
        if retried
        else ""
    )
    busy = [r for r in rows if r["other_processes_cores"] > BUSY_CORES]
    if not busy:
        return again + f" No case kept ran while other processes used more than {BUSY_CORES} of a core."
    worst = sorted(busy, key=lambda r: -r["other_processes_cores"])[:BUSY_LISTED]
    listed = ", ".join(f"{r['id']} {n_label(r['n'])} T={r['threads']} ({r['other_processes_cores']:.2f})" for r in worst)
    if len(busy) > len(worst):
        listed = f"the most disturbed {listed}"
    return again + (
        f" {len(busy)} of the {len(rows)} cases ran while other processes used more than {BUSY_CORES} of a "
        f"core (column \"others\"): {listed}; their 2-thread numbers in particular are pessimistic."
    )


def expression_table(ids: list[str]) -> str:
    """The legend of the expression ids."""
    return "\n".join(["| id | expression |", "|---|---|", *(f"| {e} | `{EXPRESSIONS[e][0]}` |" for e in ids)])


def throughput_table(rows: list[dict]) -> str:
    """ns/elem of the four contestants, and vexpr's speed-up over each."""
    lines = [
        "| expr | N | threads | vexpr | numexpr | NumPy | Numba | vexpr vs numexpr | vs NumPy | vs Numba | spread | others |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: (r["id"], r["n"], r["threads"])):
        t = r["ns_per_elem"]
        speedups = " | ".join(f"{fmt_ratio(t[other] / t['vexpr'])}x" for other in ("numexpr", "numpy", "numba"))
        lines.append(
            f"| {r['id']} | {n_label(r['n'])} | {r['threads']} | "
            + " | ".join(fmt(t[e]) for e in ENGINES)
            + f" | {speedups} | {max(r['spread'].values()):.0%} | {r['other_processes_cores']:.2f} |"
        )
    return "\n".join(lines)


def cli_table(rows: list[dict]) -> str:
    """vexpr from Python against the CLI, with the 10% target at N >= 1M."""
    lines = [
        "| expr | N | threads | Python, interleaved | Python | Python, `out=` | CLI | Python / CLI "
        "| `out=` / CLI | Python / CLI, medians | within 10% |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in sorted(rows, key=lambda r: (r["id"], r["n"], r["threads"])):
        paired, ratio = r["paired_ns_per_elem"], r["python_over_cli"]
        verdict = "–" if r["n"] < CLI_RATIO_FROM_N else ("yes" if ratio <= TARGET_CLI_RATIO else "no")
        lines.append(
            f"| {r['id']} | {n_label(r['n'])} | {r['threads']} | {fmt(r['ns_per_elem']['vexpr'])} "
            f"| {fmt(paired['python'])} | {fmt(paired['python_out'])} | {fmt(paired['cli'])} "
            f"| {fmt_ratio(ratio, up=True)} | {fmt_ratio(r['python_out_over_cli'], up=True)} "
            f"| {fmt_ratio(r['python_over_cli_medians'], up=True)} | {verdict} |"
        )
    return "\n".join(lines)


def per_call_table(rows: list[dict]) -> str:
    """The per-call costs in us, with the targets and verdicts."""
    lines = [
        "| call (N = 10, 1 thread) | vexpr (µs) | numexpr (µs) | vexpr vs numexpr | target (vexpr) | met |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        target = "–" if r["target_us"] is None else f"≤ {r['target_us']:g} µs"
        met = "–" if r["met"] is None else ("yes" if r["met"] else "no")
        lines.append(
            f"| {r['what']} | {fmt(r['vexpr_us'])} | {fmt(r['numexpr_us'])} "
            f"| {fmt_ratio(r['numexpr_us'] / r['vexpr_us'])}x | {target} | {met} |"
        )
    return "\n".join(lines)


def cli_summary(rows: list[dict]) -> str:
    """One sentence: how many N >= 1M cases are within 10% of the CLI."""
    big = [r for r in rows if r["n"] >= CLI_RATIO_FROM_N]
    if not big:
        return ""
    within = sum(r["python_over_cli"] <= TARGET_CLI_RATIO for r in big)
    worst = max(big, key=lambda r: r["python_over_cli"])
    return (
        f"At N ≥ 1M, {within} of {len(big)} cases are within 10% of the CLI "
        f"(worst: {worst['id']} N={n_label(worst['n'])} T={worst['threads']}, "
        f"{fmt_ratio(worst['python_over_cli'], up=True)}x)."
    )


def markdown(results: dict, plot_name: str | None, plot_note: str) -> str:
    """The section written between the markers."""
    s = results["settings"]
    parts = [
        BEGIN,
        "<!-- Written by benches/python_bench.py; edit the script, not this section. -->",
        "",
        f"`{results['command']}`, {results['started'].replace('T', ' ')} to "
        f"{results['finished'][11:]}; raw numbers in `{results['results_file']}`.",
        "",
        "### Machine and noise",
        "",
        machine_table(results),
        "",
        noise_paragraph(results),
        "",
        "### Per-call cost",
        "",
        f"`{OVERHEAD_EXPR}` on float64 arrays of {OVERHEAD_N} elements, one thread. Each evaluate / "
        f"re_evaluate / NumExpr time is the median of {s['overhead_repeat']} timeit samples of "
        f"{s['overhead_number']} calls, vexpr's and numexpr's samples interleaved. "
        f"`ne.NumExpr({OVERHEAD_NUMEXPR_EXPR!r}, [('a', np.float64), ('b', np.float64)])`. "
        f"First compile: one `evaluate(f'2*a + {{k}}*b', local_dict=...)` each of {s['first_compiles']} "
        "expressions neither library had seen, median (it includes the evaluation on 10 elements).",
        "",
        per_call_table(results["per_call"]),
        "",
        "### Throughput",
        "",
        "ns per element (lower is better): medians of the repetitions, contestants interleaved (each "
        "repetition takes a sample of each, in rotating order; a sample is one call, or a batch of calls "
        f"of at least 50 µs, after {WARMUP_SECONDS * 1e3:g} ms of untimed calls, at least one: the steady "
        "state of a loop, not the idle cores, the OpenMP workers Numba leaves spinning for 5-8 ms, or the "
        "heap that the previous contestant left). "
        "vexpr and numexpr: `evaluate(expr, local_dict={'a': a, 'b': b})`, output allocated per call; "
        "NumPy: the expression text evaluated with NumPy's functions (single-threaded: measured once, "
        "shown in both thread rows); Numba: `@njit(parallel=True, fastmath=False)` `prange` loop, "
        "output allocated per call. \"vs\" columns: the other's time over vexpr's (rounded down). "
        "\"spread\": the largest interquartile range of the row's contestants, relative to its median; "
        "\"others\": cores' worth of CPU that other processes used while the row was measured. "
        f"Every result equals NumPy's to rtol {RTOL:g} (checked before timing; the largest relative "
        f"difference was {largest_difference(results['throughput']):.1e}).",
        "",
        expression_table(list(dict.fromkeys(r["id"] for r in results["throughput"]))),
        "",
        throughput_table(results["throughput"]),
        "",
    ]
    if plot_name:
        parts += [f"![Speed-up over NumPy, N ≥ 1M, 1 and 2 threads]({plot_name})", ""]
    if plot_note:
        parts += [plot_note, ""]
    parts += [
        "### vexpr from Python against the CLI",
        "",
        "The same engine timed by `target/release/vexpr bench EXPR --n N --threads T --repeat R --json` "
        "(CLI: into a preallocated output, no Python; its own inputs from the same distribution), against "
        "`vexpr.evaluate(expr, local_dict=...)` timed the same way (\"Python\": the output allocated per "
        "call; \"Python, `out=`\": into a preallocated one): R back-to-back samples (a sample is a call, "
        "or a batch of at least 50 µs) after a warm-up, about "
        f"{s['cli_seconds']:g} s each. In each case, after each of the {s['cli_runs']} block(s) of the "
        "interleaved repetitions, the three run one after the other and then in the reverse order "
        "(two rounds a block, so that a load drifting during the block weighs on all three alike). The "
        "times are the medians of the runs' medians. The ratios are medians of the rounds' ratios (each "
        "compares runs seconds apart) of the runs' fastest samples; \"medians\" is the same of the runs' "
        "medians. The fastest sample is the estimate of the cost because this host's slowdowns only add "
        "time: whole runs go 1.3-1.8x slower at times, the CLI's as often as Python's, while the machine "
        "itself is idle (see the runs' [median, fastest] pairs in the JSON). \"Python / CLI\" is what "
        "`evaluate` adds: the Python call, the variable lookup and the output's allocation (from 4 MiB, a "
        "buffer vexpr keeps for the next result, see `kept.rs`); \"`out=` / CLI\" leaves out the "
        f"allocation. Target: Python / CLI within 10% at N ≥ {n_label(CLI_RATIO_FROM_N)}. \"Python, "
        "interleaved\" is the throughput table's, for comparison.",
        "",
        cli_table(results["throughput"]),
        "",
        cli_summary(results["throughput"]),
        "",
        END,
    ]
    return "\n".join(parts)


def largest_difference(rows: list[dict]) -> float:
    """The largest relative difference to NumPy's result of any contestant."""
    return max(d for r in rows for d in r["max_relative_difference_to_numpy"].values())


def write_section(path: Path, section: str) -> None:
    """Puts ``section`` between the markers of ``path`` (see
    ``compare.write_marked_section``)."""
    write_marked_section(path, section, BEGIN, END, NEW_FILE_HEADING)


def plot_speedups(rows: list[dict], path: Path, caption: str) -> str | None:
    """Bars of the speed-up over NumPy per expression, one panel per N >= 1M.

    Returns None when drawn, else why not (no matplotlib, or no such N).
    """
    try:
        import matplotlib
    except ImportError:
        return "The plot was skipped: matplotlib is not installed."
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lengths = sorted({r["n"] for r in rows if r["n"] >= CLI_RATIO_FROM_N})
    if not lengths:
        return "The plot was skipped: no N of 1M or more was measured."
    ids = list(dict.fromkeys(r["id"] for r in rows))
    series = [(e, t) for e in ("vexpr", "numexpr", "numba") for t in THREAD_COUNTS]
    colors = {"vexpr": ("#9ecae1", "#08519c"), "numexpr": ("#fdae6b", "#d94801"), "numba": ("#a1d99b", "#238b45")}
    width = 0.8 / len(series)
    fig, axes = plt.subplots(len(lengths), 1, figsize=(11, 4.3 * len(lengths)), squeeze=False)
    for ax, n in zip(axes[:, 0], lengths):
        by_key = {(r["id"], r["threads"]): r["ns_per_elem"] for r in rows if r["n"] == n}
        for k, (engine, threads) in enumerate(series):
            xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(ids))]
            ys = [by_key[eid, threads]["numpy"] / by_key[eid, threads][engine] for eid in ids]
            ax.bar(xs, ys, width, label=f"{ENGINE_LABELS[engine]}, {threads} thread{'s' if threads > 1 else ''}",
                   color=colors[engine][THREAD_COUNTS.index(threads) % 2])
        ax.axhline(1.0, color="0.3", linewidth=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}x"))
        labels = [f"{eid}\n" + textwrap.fill(EXPRESSIONS[eid][0], 16) for eid in ids]
        ax.set_xticks(range(len(ids)), labels, fontsize=7)
        ax.set_ylabel("speed-up over NumPy (higher is better)")
        ax.set_title(f"N = {n_label(n)}", fontsize=10)
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=7, ncol=3)
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.025, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def results_path(date: str, quick: bool) -> Path:
    """benches/results/python-<date>[-quick].json, numbered -2, -3... so that
    no run overwrites another."""
    return numbered_results_path(f"python-{date}" + ("-quick" if quick else ""))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="N = 10k and 1M, fewer repetitions (< 1 min); writes Markdown and plot only with --out")
    parser.add_argument("--out", type=Path, help=f"Markdown file to update between the markers (default {DEFAULT_OUT.relative_to(REPO)})")
    parser.add_argument("--exprs", default=",".join(EXPRESSIONS), help="comma-separated ids, e.g. E1,E3")
    args = parser.parse_args(argv)
    args.ids = [e.strip().upper() for e in args.exprs.split(",") if e.strip()]
    unknown = [e for e in args.ids if e not in EXPRESSIONS]
    if unknown:
        parser.error(f"unknown expression id(s) {', '.join(unknown)}; known: {', '.join(EXPRESSIONS)}")
    if not CLI.exists():
        parser.error(f"{CLI} is missing: build it with `cargo build --release -p vexpr-cli`")
    return args


def main() -> None:
    args = parse_args(sys.argv[1:])
    settings = Settings(args.quick)
    out = args.out or (None if args.quick else DEFAULT_OUT)
    started = _dt.datetime.now()
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(f"warning: 1-minute load average is {load:.1f} on {os.cpu_count()} cores; the numbers will be noisy",
              file=sys.stderr)
    meter = LoadMeter()
    meter.start()
    per_call = measure_per_call(settings)
    throughput = measure_throughput(settings, args.ids)
    results_file = results_path(started.date().isoformat(), args.quick)
    results = {
        "command": " ".join([sys.executable, "benches/python_bench.py", *sys.argv[1:]]),
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "results_file": str(results_file.relative_to(REPO)),
        "machine": describe_machine(),
        "versions": versions(),
        "environment": {"set": THREAD_ENVIRONMENT, "removed": REMOVED_ENVIRONMENT},
        "load": meter.stop(),
        "settings": vars(settings),
        "units": "throughput: ns per element; per_call: microseconds; spread: interquartile range / median",
        "per_call": per_call,
        "throughput": throughput,
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=1) + "\n")
    print(f"raw numbers: {results['results_file']}", file=sys.stderr)

    plot_name, plot_note = None, ""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        plot_path = out.with_name(f"{out.stem}-speed.png")
        caption = (f"{results['machine']['cpu']}, {results['machine']['cores']} cores; {results['started'][:16]}; "
                   f"medians; {results['command']}")
        plot_note = plot_speedups(throughput, plot_path, caption) or ""
        plot_name = None if plot_note else plot_path.name
        if plot_name:
            print(f"plot: {plot_path}", file=sys.stderr)
    section = markdown(results, plot_name, plot_note)
    print(section)
    if out is not None:
        write_section(out, section)
        print(f"written between the markers of {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
