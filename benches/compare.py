#!/usr/bin/env python3
"""Compare vexpr with numexpr, NumPy and a plain memory copy.

Usage (from anywhere in the repository)::

    python3 benches/compare.py              # full run: E1..E8, N = 10k, 1M, 10M, 1 and 2 threads
    python3 benches/compare.py --quick      # N = 1M only, one round of shorter measurements
    python3 benches/compare.py --exprs E1,E3
    python3 benches/compare.py --cpu avx2   # every engine held to AVX2 + FMA (see LEVELS)

What it does, in order:

1. Creates ``.venv`` at the repository root if it is missing, installs numexpr
   2.14, NumPy, matplotlib and threadpoolctl into it, and re-executes itself with
   that interpreter, so the comparison never depends on what the system Python
   happens to have.
2. Builds ``vexpr`` with ``cargo build --release -p vexpr-cli`` (the default
   build: no ``target-cpu`` flags, as a user installs it).
3. For each expression, length N and thread count, times
   ``vexpr bench EXPR --n N --threads T --repeat R --json``, then
   ``numexpr.evaluate(expr, out=...)`` with ``set_num_threads(T)``, NumPy as
   users write it (single-threaded), and ``np.copyto`` of one array, from which
   the memory floor of the expression is derived, and a Numba
   ``@njit(parallel=True)`` ``prange`` loop of the same expression with
   ``numba.set_num_threads(T)``.  NumPy, numexpr and Numba run in a
   separate worker process whose environment pins BLAS/OpenMP to one thread and
   drops ``OPENBLAS_CORETYPE``/``OPENBLAS_L2_SIZE`` (see ``worker_env``).
4. Prints two Markdown tables (targets per case; thread scaling), writes every
   raw number to ``benches/results/compare-<date>.json`` (``-2``, ``-3``... for
   later runs that day) and, after a full run, draws ``docs/performance.png``.
   ``--report FILE`` prints the tables of an earlier results file again.

Each measurement is the median of R timed samples after a warm-up, R chosen
so that it takes about ``--seconds`` (0.4 s by default).  The whole sweep runs
``--rounds`` times (3 by default), interleaving the engines, and the tables
show for every engine and case the lowest of the rounds' medians: the machine
this runs on is shared, and other work only ever adds time.  Every round's
numbers are kept in the results file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"

# What the venv must hold.  numexpr is pinned to the 2.14 series so that
# results from different days compare the same competitor.
REQUIREMENTS = ["numexpr==2.14.*", "numpy", "numba", "matplotlib", "threadpoolctl"]

# The benchmark expressions of issue "Speed".  Each has the text given to vexpr
# and numexpr (both accept the same syntax for these), the same computation
# written with NumPy functions, the way a NumPy user would write it, and the
# body of a Numba loop over elements x = a[i], y = b[i].
EXPRESSIONS = {
    "E1": ("2*a + 3*b", "2*a + 3*b", "2*x + 3*y"),
    "E2": ("a**2 + 3*b", "a**2 + 3*b", "x**2 + 3*y"),
    "E3": ("2*a**3 - 4*a**5 + 6*log(a)", "2*a**3 - 4*a**5 + 6*np.log(a)", "2*x**3 - 4*x**5 + 6*np.log(x)"),
    "E4": ("abs(a - b) / (abs(a) + abs(b))", "np.abs(a - b) / (np.abs(a) + np.abs(b))",
           "abs(x - y) / (abs(x) + abs(y))"),
    "E5": ("sin(a)**2 + cos(b)**2", "np.sin(a)**2 + np.cos(b)**2", "np.sin(x)**2 + np.cos(y)**2"),
    "E6": ("where(a > b, a*b, a - b)", "np.where(a > b, a*b, a - b)", "x*y if x > y else x - y"),
    "E7": ("exp(-a*a) * sqrt(b)", "np.exp(-a*a) * np.sqrt(b)", "np.exp(-x*x) * np.sqrt(y)"),
    "E8": ("arctan2(a, b) + tanh(a*b)", "np.arctan2(a, b) + np.tanh(a*b)", "np.arctan2(x, y) + np.tanh(x*y)"),
}

# The CPU levels (`--cpu`): how each engine is held to the instructions of
# that level on a CPU that has more.  vexpr: its switch, VEXPR_CPU.  Numba:
# LLVM's CPU name and an explicit feature list (a name alone keeps the host's
# features, AVX-512 included: checked in the generated assembly).  NumPy: its
# run-time dispatch switched off above the level (NumPy's own baseline is
# x86-64-v2, SSE4.2, so at `baseline` it keeps that).  numexpr's loops are
# compiled for the wheel's baseline target (SSE2) whatever the level.
HASWELL_FEATURES = "+64bit,+sse,+sse2,+sse3,+ssse3,+sse4.1,+sse4.2,+popcnt,+cx16,+cmov,+avx,+avx2,+fma,+bmi,+bmi2,+f16c,+lzcnt,+movbe"
LEVELS = {
    "avx512": {},
    "avx2": {
        "VEXPR_CPU": "avx2",
        "NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": HASWELL_FEATURES,
        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    },
    "baseline": {
        "VEXPR_CPU": "baseline",
        "NUMBA_CPU_NAME": "x86-64", "NUMBA_CPU_FEATURES": "+64bit,+sse,+sse2,+cx8,+cmov",
        "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
    },
}
# At the AVX2 level (issue "Fast on every CPU"): the compute-bound expressions
# at least this much faster than numexpr and than the Numba loop, the others
# within FLOOR_SLACK of the memory floor.
AVX2_COMPUTE_EXPRS = ("E3", "E5", "E7", "E8")
AVX2_VS_NUMEXPR = 4.0
AVX2_VS_NUMBA = 2.0

FULL_LENGTHS = (10_000, 1_000_000, 10_000_000)
QUICK_LENGTHS = (1_000_000,)
THREAD_COUNTS = (1, 2)

# Targets of issue "Speed".
TARGET_SPEEDUP = 8.0  # vexpr at least this much faster than numexpr ...
FLOOR_SLACK = 1.15  # ... or within 15% of the memory floor, whichever is slower.
SCALING_TARGET = 1.8  # 2 threads vs 1 at N = 1M, on the compute-bound ones:
SCALING_EXPRS = ("E3", "E5", "E7", "E8")
SCALING_N = 1_000_000
# "Never slower with 2 threads": two runs of the same code differ by a few
# percent on a shared machine, so only a loss beyond this counts.
SCALING_NOISE = 1.05

# The environment `vexpr bench` runs in: this one, with VEXPR_CPU as `--cpu`
# sets it (main() fills it in).
VEXPR_ENV: dict = dict(os.environ)

# The shortest sample `vexpr bench` takes (crates/vexpr-cli/src/bench.rs,
# MIN_SAMPLE): cheaper calls are timed in batches.
VEXPR_MIN_SAMPLE_S = 50e-6

# Variables OpenBLAS reads on some of the workplace's machines: they pick a
# slower kernel for a current NumPy, so the worker drops them (in its own
# environment only; see docs/performance.md).
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# Both vexpr and the worker draw inputs uniform in [0.1, 1.1): positive, so
# log and sqrt stay real, and spread so that no branch is always taken.
LOW, HIGH = 0.1, 1.1


# ---------------------------------------------------------------------------
# Environment: virtual environment, build, machine description
# ---------------------------------------------------------------------------


def venv_python() -> Path:
    """The interpreter of the repository's ``.venv``."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(script: Path | None = None) -> None:
    """Re-executes ``script`` (this one by default; ``benches/broad.py``
    passes its own) under ``.venv``'s Python, creating it if needed.

    Runs before anything imports NumPy, so the system Python needs nothing but
    the standard library.  The packages are installed only when an import
    fails, so later runs start immediately and work offline.
    """
    python = venv_python()
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        print(f"creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = "import numexpr, numpy, numba, matplotlib, threadpoolctl; assert numexpr.__version__.startswith('2.14.')"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode != 0:
        print(f"installing {' '.join(REQUIREMENTS)} into {VENV}", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True)
    os.execv(str(python), [str(python), str(script or Path(__file__).resolve()), *sys.argv[1:]])


def build_vexpr() -> Path:
    """Builds the CLI in release mode and returns the path of the binary.

    The target directory comes from ``cargo metadata`` so that a
    ``CARGO_TARGET_DIR`` or ``.cargo/config.toml`` setting is honoured.
    """
    subprocess.run(["cargo", "build", "--release", "-p", "vexpr-cli"], cwd=REPO, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO, check=True, capture_output=True, text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"])
    binary = target / "release" / ("vexpr.exe" if os.name == "nt" else "vexpr")
    if not binary.exists():
        sys.exit(f"cargo build succeeded but {binary} is missing")
    return binary


def command_output(args: list[str]) -> str:
    """The stripped stdout of a command, or '' if it cannot be run."""
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def describe_machine() -> dict:
    """CPU, cores, memory and toolchain versions, for the results file."""
    lscpu = {}
    for line in command_output(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        lscpu[key.strip()] = value.strip()
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": lscpu.get("Model name", platform.processor()),
        "cores": os.cpu_count(),
        "caches": {k: lscpu[k] for k in ("L1d cache", "L2 cache", "L3 cache") if k in lscpu},
        "hypervisor": lscpu.get("Hypervisor vendor", ""),
        "memory_gib": round(mem_kib / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "rustc": command_output(["rustc", "--version"]),
        "git_commit": command_output(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
        "git_dirty": bool(command_output(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])),
    }


def worker_env(level: str) -> tuple[dict, dict]:
    """The environment of the NumPy/numexpr worker, and what was changed.

    NumPy and its BLAS get one thread (NumPy's element-wise functions are
    single-threaded anyway; this keeps a BLAS pool from competing with the
    numexpr threads), and OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are removed: some
    of the workplace's machines set them for old OpenBLAS builds, and they slow
    a current NumPy.  Numba and NumPy are held to ``level`` (``LEVELS``).
    Only the worker's environment changes.
    """
    env = dict(os.environ)
    changes = {"set": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}, "unset": {}}
    env.update(changes["set"])
    for name in OPENBLAS_OVERRIDES:
        if name in env:
            changes["unset"][name] = env.pop(name)
    # numexpr reads this at import to size its pool: no more threads than
    # the largest count measured.
    env["NUMEXPR_MAX_THREADS"] = str(max(THREAD_COUNTS))
    changes["set"]["NUMEXPR_MAX_THREADS"] = env["NUMEXPR_MAX_THREADS"]
    env["NUMBA_NUM_THREADS"] = str(max(THREAD_COUNTS))
    changes["set"]["NUMBA_NUM_THREADS"] = env["NUMBA_NUM_THREADS"]
    for name, value in LEVELS[level].items():
        if name != "VEXPR_CPU":
            env[name] = value
            changes["set"][name] = value
    return env, changes


# ---------------------------------------------------------------------------
# The worker process: NumPy, numexpr and the copy, one request per line
# ---------------------------------------------------------------------------


def time_calls(fn, n: int, seconds: float, min_repeat: int, max_repeat: int) -> dict:
    """Times ``fn()`` in R samples after a warm-up; returns per-element statistics.

    Samples are taken the way ``vexpr bench`` takes them, so that both sides
    are measured alike: a sample is one call, or for calls shorter than 50 us
    a batch of back-to-back calls timed together and divided (a lone 10k-element
    call is too short to time on its own).  R is chosen from the warm-up so
    that the samples take about ``seconds`` in all, within [min_repeat,
    max_repeat].  The median is reported, which ignores the occasional sample
    that a context switch lengthened.
    """
    batch, repeat = _sampling(fn, seconds, min_repeat, max_repeat)
    return _statistics(_samples(fn, batch, repeat), n, batch)


# How `time_interleaved` spreads its samples: this many rounds, each calling
# every engine in turn, and this long idle before each engine's turn.  The
# pause outlasts the spinning of the engines' idle threads (vexpr's pool
# lingers 0.5 ms; GNU OpenMP, Numba's threading layer here, spins 300,000
# `pause` instructions, about 8 ms here), so that no engine's turn competes with
# the threads of the one before, and every turn starts from idle threads.
INTERLEAVE_ROUNDS = 4
INTERLEAVE_PAUSE_S = 0.015


def time_interleaved(calls: dict, n: int, seconds: float, min_repeat: int = 3,
                     max_repeat: int = 100_000) -> dict:
    """Times several calls of the same work side by side; returns
    ``time_calls``'s statistics per key of ``calls``.

    Each call's samples (as ``time_calls`` takes them, about ``seconds`` of
    them) are split into ``INTERLEAVE_ROUNDS`` turns, and the turns of the
    calls alternate, the first call of a round rotating.  The machine's load
    drifts over seconds (on a shared host one process's 10k-element runs take
    0.105 ns/elem and the next one's 0.15); timed one after the other, one
    engine could take its samples in a slow spell and the next in a fast one,
    while alternating turns share the spells out.  The median of each call's
    pooled samples is reported.
    """
    plans = {key: _sampling(fn, seconds, min_repeat, max_repeat) for key, fn in calls.items()}
    samples: dict = {key: [] for key in calls}
    keys = list(calls)
    for r in range(INTERLEAVE_ROUNDS):
        for key in keys[r % len(keys):] + keys[:r % len(keys)]:
            batch, repeat = plans[key]
            turn = -(-repeat // INTERLEAVE_ROUNDS)  # ceil: at least min_repeat in all
            time.sleep(INTERLEAVE_PAUSE_S)
            samples[key] += _samples(calls[key], batch, turn)
    return {key: _statistics(samples[key], n, plans[key][0]) | {"rounds": INTERLEAVE_ROUNDS}
            for key in calls}


def _sampling(fn, seconds: float, min_repeat: int, max_repeat: int) -> tuple[int, int]:
    """Warms ``fn`` up and picks (calls per sample, samples) for about
    ``seconds`` of samples of at least ``VEXPR_MIN_SAMPLE_S`` each."""
    fn()  # warm-up: page faults, caches, numexpr's compiled-expression cache
    # Estimate one call's time over at least 20 ms.
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02 or calls >= 1000:
            break
    per_call = elapsed / calls
    batch = max(1, math.ceil(VEXPR_MIN_SAMPLE_S / per_call))
    repeat = max(min_repeat, min(max_repeat, round(seconds / (per_call * batch))))
    return batch, repeat


def _samples(fn, batch: int, repeat: int) -> list[float]:
    """``repeat`` samples of ``batch`` back-to-back calls, ns per call."""
    import gc

    per_call_ns = []
    gc.disable()  # a collection mid-run would be charged to whichever sample it hit
    try:
        for _ in range(repeat):
            t0 = time.perf_counter_ns()
            for _ in range(batch):
                fn()
            per_call_ns.append((time.perf_counter_ns() - t0) / batch)
    finally:
        gc.enable()
    return per_call_ns


def _statistics(per_call_ns: list[float], n: int, batch: int) -> dict:
    per_call_ns = sorted(per_call_ns)
    return {
        "median_ns_per_elem": per_call_ns[len(per_call_ns) // 2] / n,
        "min_ns_per_elem": per_call_ns[0] / n,
        "repeat": len(per_call_ns),
        "batch": batch,
    }


def worker_main() -> None:
    """Serves timing requests from stdin, one JSON object per line.

    A long-lived process keeps the inputs of each N allocated between
    requests, and lets the main process interleave vexpr and numexpr runs so
    that a burst of load on a shared machine hits both alike.
    """
    import numexpr as ne
    import numpy as np

    inputs: dict[int, dict] = {}
    loops: dict[str, object] = {}

    def numba_loop(body: str):
        """The prange loop of ``body``, compiled once (at the worker's CPU level)."""
        if body not in loops:
            import numba

            source = (
                "def loop(a, b, out):\n"
                "    for i in numba.prange(a.shape[0]):\n"
                "        x = a[i]\n"
                "        y = b[i]\n"
                f"        out[i] = {body}\n"
            )
            scope = {"numba": numba, "np": np}
            exec(source, scope)
            loops[body] = numba.njit(parallel=True)(scope["loop"])
        return loops[body]

    def arrays(n: int) -> dict:
        # One set of inputs per length at a time: the 10M set alone is 240 MB.
        if n not in inputs:
            inputs.clear()
            rng = np.random.default_rng(20240601)
            inputs[n] = {
                "a": rng.uniform(LOW, HIGH, n),
                "b": rng.uniform(LOW, HIGH, n),
                "out": np.empty(n),
            }
        return inputs[n]

    for line in sys.stdin:
        req = json.loads(line)
        op, n = req["op"], req["n"]
        data = arrays(n)
        a, b, out = data["a"], data["b"], data["out"]
        if op == "info":
            import numba

            reply = {"numpy": np.__version__, "numexpr": ne.__version__, "numba": numba.__version__}
            try:
                from threadpoolctl import threadpool_info

                reply["threadpools"] = threadpool_info()
            except ImportError:
                pass
            reply["numexpr_vml"] = bool(getattr(ne, "use_vml", False))
        elif op == "numexpr":
            ne.set_num_threads(req["threads"])
            expr = req["expr"]
            env = {"a": a, "b": b}
            reply = time_calls(lambda: ne.evaluate(expr, local_dict=env, out=out), n, req["seconds"], 3, 100_000)
        elif op == "numpy":
            # Compiled once here so that the timed call is the expression alone.
            code = compile(req["expr"], "<numpy>", "eval")
            env = {"np": np, "a": a, "b": b}
            reply = time_calls(lambda: eval(code, env), n, req["seconds"], 3, 100_000)
        elif op == "numba":
            import numba

            numba.set_num_threads(req["threads"])
            loop = numba_loop(req["body"])
            reply = time_calls(lambda: loop(a, b, out), n, req["seconds"], 3, 100_000)
        elif op == "copy":
            reply = time_calls(lambda: np.copyto(out, a), n, req["seconds"], 3, 100_000)
        else:
            reply = {"error": f"unknown op {op!r}"}
        print(json.dumps(reply), flush=True)


class Worker:
    """The main process's handle on the NumPy/numexpr worker."""

    def __init__(self, env: dict):
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )

    def ask(self, **request) -> dict:
        """Sends one request and waits for its answer."""
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("the NumPy/numexpr worker died; see its error above")
        reply = json.loads(line)
        if "error" in reply:
            sys.exit(f"worker: {reply['error']}")
        return reply

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


# ---------------------------------------------------------------------------
# vexpr, through its CLI
# ---------------------------------------------------------------------------


def run_vexpr(binary: Path, expr: str, n: int, threads: int, repeat: int) -> dict:
    """One ``vexpr bench --json`` run (at ``VEXPR_CPU``); returns its JSON line."""
    args = [str(binary), "bench", expr, "--n", str(n), "--threads", str(threads), "--repeat", str(repeat), "--json"]
    proc = subprocess.run(args, capture_output=True, text=True, env=VEXPR_ENV)
    if proc.returncode != 0:
        sys.exit(f"`{' '.join(args)}` failed ({proc.returncode}):\n{proc.stderr}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    sys.exit(f"`{' '.join(args)}` printed no JSON line:\n{proc.stdout}")


def time_vexpr(binary: Path, expr: str, n: int, threads: int, seconds: float) -> dict:
    """Times vexpr like ``time_calls`` times the others.

    A short probe run (3 repeats) estimates one call's time, from which the
    repeat count of the real run is chosen; the CLI does its own warm-up.
    ``vexpr bench`` times calls shorter than 50 us in batches (one sample =
    one batch of >= 50 us, reported per call), so a sample lasts at least that.
    """
    probe = run_vexpr(binary, expr, n, threads, 3)
    per_sample_s = max(probe["min_ns_per_elem"] * n / 1e9, VEXPR_MIN_SAMPLE_S)
    repeat = max(3, min(100_000, round(seconds / per_sample_s)))
    result = run_vexpr(binary, expr, n, threads, repeat)
    return {
        "median_ns_per_elem": result["median_ns_per_elem"],
        "min_ns_per_elem": result["min_ns_per_elem"],
        "repeat": repeat,
        "cpu": result.get("cpu"),
        "machine_code": result.get("machine_code"),
    }


# ---------------------------------------------------------------------------
# One sweep over all cases, and the combination of several
# ---------------------------------------------------------------------------


def run_round(binary: Path, worker: Worker, ids: list[str], lengths: tuple[int, ...],
              seconds: float, index: int, count: int) -> dict:
    """Measures every case once; returns the raw timings of this round.

    The engines are interleaved case by case (copy, NumPy, then vexpr and
    numexpr for each thread count), so that a burst of load from elsewhere
    hits all of them alike rather than one engine's whole series.
    """
    copy: dict[int, dict] = {}
    numpy_t: dict[tuple, dict] = {}
    vexpr_t: dict[tuple, dict] = {}
    numexpr_t: dict[tuple, dict] = {}
    numba_t: dict[tuple, dict] = {}
    for n in lengths:
        # The copy speed depends on N only (which cache level holds the
        # arrays), so it is measured once per N, next to the expressions.
        copy[n] = worker.ask(op="copy", n=n, seconds=seconds)
        for eid in ids:
            text, numpy_text, numba_body = EXPRESSIONS[eid]
            numpy_t[eid, n] = worker.ask(op="numpy", expr=numpy_text, n=n, seconds=seconds)
            for threads in THREAD_COUNTS:
                vexpr_t[eid, n, threads] = time_vexpr(binary, text, n, threads, seconds)
                numexpr_t[eid, n, threads] = worker.ask(op="numexpr", expr=text, n=n, threads=threads, seconds=seconds)
                numba_t[eid, n, threads] = worker.ask(
                    op="numba", body=numba_body, n=n, threads=threads, seconds=seconds)
                print(
                    f"round {index + 1}/{count} {eid} N={n_label(n)} T={threads}: "
                    f"vexpr {fmt(vexpr_t[eid, n, threads]['median_ns_per_elem'])}, "
                    f"numexpr {fmt(numexpr_t[eid, n, threads]['median_ns_per_elem'])}, "
                    f"numba {fmt(numba_t[eid, n, threads]['median_ns_per_elem'])}, "
                    f"numpy {fmt(numpy_t[eid, n]['median_ns_per_elem'])}, "
                    f"copy {fmt(copy[n]['median_ns_per_elem'])} ns/elem",
                    file=sys.stderr,
                )
    return {"copy": copy, "numpy": numpy_t, "vexpr": vexpr_t, "numexpr": numexpr_t, "numba": numba_t}


def best_median(rounds: list[dict], engine: str, key) -> float:
    """The lowest of the rounds' medians for one engine and case.

    Within a round each number is a median; across rounds the lowest is kept
    because on a shared machine other work only ever adds time, and it does so
    in bursts that rarely hit the same case in every round.
    """
    return min(r[engine][key]["median_ns_per_elem"] for r in rounds)


def combine_rounds(rounds: list[dict], level: str) -> tuple[list[dict], dict]:
    """Table rows (best median per engine and case) plus the copy times."""
    first = rounds[0]
    copies = {n: best_median(rounds, "copy", n) for n in first["copy"]}
    rows = []
    for (eid, n, threads) in first["vexpr"]:
        text = EXPRESSIONS[eid][0]
        row = {
            "id": eid, "expr": text, "n": n, "threads": threads,
            "vexpr": best_median(rounds, "vexpr", (eid, n, threads)),
            "numexpr": best_median(rounds, "numexpr", (eid, n, threads)),
            "numba": best_median(rounds, "numba", (eid, n, threads)),
            "numpy": best_median(rounds, "numpy", (eid, n)),
            "copy": copies[n],
            "floor": memory_floor(copies[n], len(variables_of(text))),
            # Every round's timings, for whoever wants another statistic.
            "rounds": [
                {
                    "vexpr": r["vexpr"][eid, n, threads], "numexpr": r["numexpr"][eid, n, threads],
                    "numba": r["numba"][eid, n, threads],
                    "numpy": r["numpy"][eid, n], "copy": r["copy"][n],
                }
                for r in rounds
            ],
        }
        assess(row, level)
        rows.append(row)
    return rows, copies


# ---------------------------------------------------------------------------
# Derived numbers
# ---------------------------------------------------------------------------


def variables_of(expr: str) -> list[str]:
    """The input arrays an expression reads (the benchmarks use only a and b)."""
    import re

    return sorted(set(re.findall(r"\b[ab]\b", expr)))


def memory_floor(copy_ns_per_elem: float, n_inputs: int, bytes_per_elem: float | None = None) -> float:
    """The ns/elem an expression needs just to move its bytes.

    A copy of one float64 array moves 16 bytes per element (8 read, 8
    written), so its bandwidth is 16 / copy_ns_per_elem bytes/ns; the
    expression reads 8 bytes per input and writes 8 per element, or
    ``bytes_per_elem`` in all when its arrays are not all float64
    (``benches/broad.py``: float32, int32 and bool move fewer).
    """
    bandwidth = 16.0 / copy_ns_per_elem
    if bytes_per_elem is None:
        bytes_per_elem = 8.0 * (n_inputs + 1)
    return bytes_per_elem / bandwidth


def assess(row: dict, level: str) -> None:
    """Adds the speed-ups, the ratio to the floor and the verdict to a row.

    At the AVX-512 level: at least TARGET_SPEEDUP times numexpr or within
    FLOOR_SLACK of the floor, whichever is easier.  At the AVX2 level: the
    compute-bound expressions AVX2_VS_NUMEXPR times numexpr and AVX2_VS_NUMBA
    times the Numba loop, the others within FLOOR_SLACK of the floor.  The
    baseline level is measured without a target (``target_met`` None).
    """
    vexpr, numexpr, numba, floor = row["vexpr"], row["numexpr"], row["numba"], row["floor"]
    row["speedup_vs_numexpr"] = numexpr / vexpr
    row["speedup_vs_numba"] = numba / vexpr
    row["ratio_to_floor"] = vexpr / floor
    if level == "avx512":
        row["target_ns_per_elem"] = max(numexpr / TARGET_SPEEDUP, FLOOR_SLACK * floor)
    elif level == "avx2" and row["id"] in AVX2_COMPUTE_EXPRS:
        row["target_ns_per_elem"] = min(numexpr / AVX2_VS_NUMEXPR, numba / AVX2_VS_NUMBA)
    elif level == "avx2":
        row["target_ns_per_elem"] = FLOOR_SLACK * floor
    else:
        row["target_ns_per_elem"] = None
    target = row["target_ns_per_elem"]
    row["target_met"] = None if target is None else vexpr <= target


def scaling_rows(rows: list[dict], lengths: tuple[int, ...]) -> list[dict]:
    """Per expression: 2 threads vs 1 at N = 1M, and the worst ratio at any N."""
    by_key = {(r["id"], r["n"], r["threads"]): r["vexpr"] for r in rows}
    out = []
    for eid in dict.fromkeys(r["id"] for r in rows):
        ratios = {
            n: by_key[(eid, n, 1)] / by_key[(eid, n, 2)]
            for n in lengths
            if (eid, n, 1) in by_key and (eid, n, 2) in by_key
        }
        if not ratios:
            continue
        at_1m = ratios.get(SCALING_N)
        worst_n = min(ratios, key=ratios.get)
        needs = eid in SCALING_EXPRS
        out.append({
            "id": eid,
            "speedup_1m": at_1m,
            "target_1m": SCALING_TARGET if needs else None,
            "meets_1m": (at_1m >= SCALING_TARGET) if (needs and at_1m is not None) else None,
            "worst_n": worst_n,
            "worst_speedup": ratios[worst_n],
            "never_slower": ratios[worst_n] >= 1 / SCALING_NOISE,
            "speedups": ratios,
        })
    return out


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    """A number with `digits` significant digits, or '–' for a missing one."""
    if x is None:
        return "–"
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def fmt_ratio(x: float | None, up: bool = False) -> str:
    """A ratio with two decimals, rounded towards failing its target: down for
    speed-ups (targets are minimums), up for ratios to the floor (maximums), so
    that 1.7996 never prints as 1.80 next to a verdict that it misses 1.8."""
    if x is None:
        return "–"
    scaled = math.ceil(x * 100) if up else math.floor(x * 100)
    return f"{scaled / 100:.2f}"


def n_label(n: int) -> str:
    """10000 -> '10k', 1000000 -> '1M'."""
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def markdown_tables(rows: list[dict], scaling: list[dict]) -> str:
    """The two result tables and the expression legend, as Markdown."""
    lines = ["| id | expression |", "|---|---|"]
    for eid in dict.fromkeys(r["id"] for r in rows):
        lines.append(f"| {eid} | `{EXPRESSIONS[eid][0]}` |")
    lines += [
        "",
        "Times in ns per element: per engine and case the lowest of the rounds' medians. "
        "NumPy is single-threaded, so its column repeats across thread counts.",
        "",
        "| expr | N | threads | vexpr | numexpr | Numba | NumPy | memory floor | vs numexpr | vs Numba | vexpr / floor | target met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    # Measured N-major (one input set alive at a time); read expression-major.
    for r in sorted(rows, key=lambda r: (r["id"], r["n"], r["threads"])):
        if r["target_met"] is None:
            verdict = "–"
        else:
            verdict = "yes" if r["target_met"] else f"no (needs ≤ {fmt(r['target_ns_per_elem'])})"
        lines.append(
            f"| {r['id']} | {n_label(r['n'])} | {r['threads']} | {fmt(r['vexpr'])} | {fmt(r['numexpr'])} "
            f"| {fmt(r.get('numba'))} | {fmt(r['numpy'])} | {fmt(r['floor'])} | {fmt_ratio(r['speedup_vs_numexpr'])}x "
            f"| {fmt_ratio(r.get('speedup_vs_numba'))}x | {fmt_ratio(r['ratio_to_floor'], up=True)} | {verdict} |"
        )
    if scaling:
        lines += [
            "",
            f"vexpr, 2 threads vs 1 (speed-up = time with 1 / time with 2). Target: ≥ {SCALING_TARGET}x at "
            f"N = {n_label(SCALING_N)} on {', '.join(SCALING_EXPRS)}, and never slower at any N "
            f"(slower = more than {round((SCALING_NOISE - 1) * 100)}% slower, beyond run-to-run noise).",
            "",
            f"| expr | speed-up at {n_label(SCALING_N)} | target at {n_label(SCALING_N)} | worst speed-up (at N) | never slower |",
            "|---|---:|:---:|---:|:---:|",
        ]
        for s in scaling:
            target = "–" if s["target_1m"] is None else ("yes" if s["meets_1m"] else "no") + f" (≥ {s['target_1m']}x)"
            lines.append(
                f"| {s['id']} | {fmt_ratio(s['speedup_1m'])}x | {target} | {fmt_ratio(s['worst_speedup'])}x "
                f"({n_label(s['worst_n'])}) | {'yes' if s['never_slower'] else 'no'} |"
            )
    return "\n".join(lines)


def minor_label(value: float, _pos) -> str:
    """Labels the 2x and 5x minor ticks of a log axis, so that a panel spanning
    less than a decade still has numbers on it."""
    mantissa = value / 10 ** math.floor(math.log10(value))
    return f"{value:g}" if round(mantissa, 6) in (2.0, 5.0) else ""


def plot(rows: list[dict], path: Path, caption: str, threads: int = 2, exprs: tuple[str, ...] = ("E3", "E1")) -> bool:
    """Throughput against N for each engine, one panel per expression.

    Returns False (and draws nothing) when the run has fewer than two lengths
    or none of the plotted expressions, e.g. with --quick.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on the benchmark machine
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    panels = [e for e in exprs if sum(1 for r in rows if r["id"] == e and r["threads"] == threads) >= 2]
    if not panels:
        return False
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    engines = (
        ("vexpr", "vexpr", "-o"),
        ("numexpr", "numexpr", "-s"),
        ("numpy", "NumPy (1 thread)", "-^"),
        ("floor", "memory floor (copy)", "--"),
    )
    for ax, eid in zip(axes[0], panels):
        sel = sorted((r for r in rows if r["id"] == eid and r["threads"] == threads), key=lambda r: r["n"])
        ns = [r["n"] for r in sel]
        for key, label, style in engines:
            ax.plot(ns, [1.0 / r[key] for r in sel], style, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        # Plain numbers (0.5, 2) read better than 5x10^-1 on a throughput axis.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(minor_label))
        ax.set_xlabel("N (elements per array)")
        ax.set_ylabel("throughput (elements / ns, higher is better)")
        ax.set_title(f"{eid}: {EXPRESSIONS[eid][0]}  ({threads} threads)", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.text(0.5, 0.005, caption, ha="center", va="bottom", fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only N = 1M, ~0.2 s per measurement")
    parser.add_argument("--exprs", default=",".join(EXPRESSIONS), help="comma-separated ids, e.g. E1,E3")
    parser.add_argument("--seconds", type=float, help="target time of one measurement (default 0.4, 0.2 with --quick)")
    parser.add_argument("--rounds", type=int, help="sweeps over all cases; the best median is kept (default 3, 1 with --quick)")
    parser.add_argument("--out", type=Path, help="results file (default benches/results/compare-<date>[-quick][-ids][-k].json)")
    parser.add_argument("--plot", type=Path, help="plot file (default: docs/performance.png after a full run, else none)")
    parser.add_argument("--no-build", action="store_true", help="use the existing release binary")
    parser.add_argument("--report", type=Path, metavar="RESULTS_JSON",
                        help="measure nothing: print the tables of an earlier results file (and plot it with --plot)")
    parser.add_argument("--cpu", choices=list(LEVELS), default="avx512",
                        help="CPU level every engine is held to (default avx512: the level vexpr picks on this machine)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.ids = [e.strip().upper() for e in args.exprs.split(",") if e.strip()]
    unknown = [e for e in args.ids if e not in EXPRESSIONS]
    if unknown:
        parser.error(f"unknown expression id(s) {', '.join(unknown)}; known: {', '.join(EXPRESSIONS)}")
    if args.seconds is None:
        args.seconds = 0.2 if args.quick else 0.4
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def measure(args: argparse.Namespace) -> dict:
    """Builds vexpr, runs every round and returns the results document."""
    if args.no_build:
        meta = json.loads(command_output(["cargo", "metadata", "--format-version", "1", "--no-deps"]) or "{}")
        binary = Path(meta.get("target_directory", REPO / "target")) / "release" / "vexpr"
        if not binary.exists():
            sys.exit(f"--no-build: {binary} does not exist; run without --no-build first")
    else:
        binary = build_vexpr()
    lengths = QUICK_LENGTHS if args.quick else FULL_LENGTHS

    env, env_changes = worker_env(args.cpu)
    VEXPR_ENV.clear()
    VEXPR_ENV.update(os.environ)
    VEXPR_ENV.pop("VEXPR_CPU", None)
    if "VEXPR_CPU" in LEVELS[args.cpu]:
        VEXPR_ENV["VEXPR_CPU"] = LEVELS[args.cpu]["VEXPR_CPU"]
    worker = Worker(env)
    started = _dt.datetime.now()
    info = worker.ask(op="info", n=1)
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        # Other work on the cores makes 2-thread runs in particular unreliable;
        # the load is also written to the results file.
        print(
            f"warning: 1-minute load average is {load_before[0]:.1f} on {os.cpu_count()} cores; "
            "the numbers will be noisy",
            file=sys.stderr,
        )
    print(
        f"vexpr {binary}; numexpr {info['numexpr']}, numpy {info['numpy']}; "
        f"worker env: set {env_changes['set']}, unset {sorted(env_changes['unset']) or 'nothing (not set)'}",
        file=sys.stderr,
    )

    rounds = [run_round(binary, worker, args.ids, lengths, args.seconds, k, args.rounds) for k in range(args.rounds)]
    worker.close()
    rows, copies = combine_rounds(rounds, args.cpu)
    levels = {r["vexpr"][key].get("cpu") for r in rounds for key in r["vexpr"]}
    if levels != {args.cpu}:
        sys.exit(f"vexpr ran at {levels}, not {args.cpu}: does this CPU have it?")
    return {
        "command": " ".join(["python3", "benches/compare.py", *sys.argv[1:]]),
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        # The machine is shared: a high load average means noisy numbers.
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "machine": describe_machine(),
        "cpu_level": args.cpu,
        "versions": {"numpy": info["numpy"], "numexpr": info["numexpr"], "numba": info.get("numba"),
                     "numexpr_vml": info.get("numexpr_vml")},
        "worker_environment": env_changes,
        "threadpools": info.get("threadpools"),
        "seconds_per_measurement": args.seconds,
        "round_count": args.rounds,
        "lengths": list(lengths),
        "units": "ns per element; in rows, the lowest of the rounds' medians; in rows[].rounds, each round's median and min",
        "targets": {
            "speedup_vs_numexpr": TARGET_SPEEDUP, "floor_slack": FLOOR_SLACK,
            "scaling_2_threads": SCALING_TARGET, "scaling_exprs": list(SCALING_EXPRS),
            "scaling_n": SCALING_N, "scaling_noise": SCALING_NOISE,
        },
        "copy_ns_per_elem": {str(n): c for n, c in copies.items()},
        "rows": rows,
        "scaling": scaling_rows(rows, lengths),
    }


def report(results: dict, plot_path: Path | None) -> None:
    """Prints the tables of a results document and draws its plot."""
    print(f"CPU level: {results.get('cpu_level', 'avx512')}\n")
    print(markdown_tables(results["rows"], results["scaling"]))
    if plot_path is None:
        return
    machine, versions = results["machine"], results["versions"]
    caption = (
        f"{machine['cpu']}, {machine['cores']} cores; numexpr {versions['numexpr']}, NumPy {versions['numpy']}; "
        f"vexpr {machine['git_commit'][:10]}{'+dirty' if machine['git_dirty'] else ''}; {results['started'][:10]}; "
        f"best of {results['round_count']} round(s) of medians; {results['command']}"
    )
    if plot(results["rows"], plot_path, caption):
        print(f"plot: {plot_path}", file=sys.stderr)
    else:
        print("plot: skipped (needs E1 or E3 at two or more lengths)", file=sys.stderr)


def main() -> None:
    args = parse_args(sys.argv[1:])
    if args.worker:
        worker_main()
        return
    ensure_venv()
    if args.report:
        # Re-render an earlier run (tables always, the plot only when asked).
        results = json.loads(args.report.read_text())
        report(results, args.plot)
        return

    results = measure(args)
    out = args.out or results_path(results["started"][:10], args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"raw numbers: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}", file=sys.stderr)
    # Only a full run at the default level replaces the documented plot.
    full = not args.quick and args.ids == list(EXPRESSIONS) and args.cpu == "avx512"
    report(results, args.plot or (REPO / "docs" / "performance.png" if full else None))


def results_path(date: str, args: argparse.Namespace) -> Path:
    """benches/results/compare-<date>[-quick][-E1-E3].json, numbered -2, -3, ...
    when that day already has one, so that no run overwrites another."""
    stem = f"compare-{date}"
    if args.cpu != "avx512":
        stem += f"-{args.cpu}"
    if args.quick:
        stem += "-quick"
    if args.ids != list(EXPRESSIONS):
        stem += "-" + "-".join(args.ids)
    return numbered_results_path(stem)


def numbered_results_path(stem: str) -> Path:
    """benches/results/<stem>.json, or <stem>-2.json, -3, ... when that one
    exists: no run overwrites another (the benchmark scripts share it)."""
    directory = REPO / "benches" / "results"
    path, k = directory / f"{stem}.json", 1
    while path.exists():
        k += 1
        path = directory / f"{stem}-{k}.json"
    return path


def write_marked_section(path: Path, section: str, begin: str, end: str, heading: str) -> None:
    """Puts ``section`` (its markers ``begin`` and ``end`` included) in place
    of the text between the markers of ``path``; appends it if the file has
    no markers, and creates the file under ``heading`` if it does not exist
    (the benchmark scripts share it)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{heading}\n\n{section}\n")
        return
    text = path.read_text()
    first, last = text.find(begin), text.find(end)
    if first >= 0 and last > first:
        text = text[:first] + section + text[last + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
