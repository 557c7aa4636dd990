#!/usr/bin/env python3
"""What one ``vexpr.evaluate`` call costs beyond its arithmetic, against NumPy.

Usage (with an interpreter that has vexpr and NumPy)::

    python benches/call_overhead.py          # N = 10, 1000, 10k, 40k

One thread. For each N, ``evaluate("a + b", local_dict=d, out=o)``,
``evaluate("a + b", out=o)`` with ``a``, ``b``, ``o`` a function's locals,
the same with ``a`` and ``b`` the module's globals, and NumPy's ``np.add(a, b, out=o)`` are timed in turn, 7 rounds: in each
round, each is called 2000 times in a loop, best of 5 such loops; the
medians of the rounds are printed, in µs a call, and the medians of the
rounds' ratios to NumPy (this host runs whole processes 1.3-1.8x slower at
times: the ratios, taken seconds apart, hold better than the times). At
N = 10 the arithmetic is a few ns, so the time is the call's fixed cost.
"""

import statistics
import time

import numpy as np

import vexpr

CALLS, LOOPS, ROUNDS = 2000, 5, 7

# The inputs of the "module's globals" case (set by `run`).
GLOBAL_A = GLOBAL_B = None


def best_loop(body) -> float:
    """The best of LOOPS timings of CALLS calls of ``body``, in µs a call."""
    best = float("inf")
    for _ in range(LOOPS):
        start = time.perf_counter()
        body(CALLS)
        best = min(best, time.perf_counter() - start)
    return best / CALLS * 1e6


def run(n: int) -> dict:
    global GLOBAL_A, GLOBAL_B
    rng = np.random.default_rng(1)
    a, b, o = rng.random(n), rng.random(n), np.empty(n)
    d = {"a": a, "b": b}
    GLOBAL_A, GLOBAL_B = a, b

    def local_dict(calls):
        for _ in range(calls):
            vexpr.evaluate("a + b", local_dict=d, out=o)

    def callers_locals(calls):
        a_, b_ = a, b  # noqa: F841 - found by name in this frame
        for _ in range(calls):
            vexpr.evaluate("a_ + b_", out=o)

    def module_globals(calls):
        for _ in range(calls):
            vexpr.evaluate("GLOBAL_A + GLOBAL_B", out=o)

    def numpy(calls):
        for _ in range(calls):
            np.add(a, b, out=o)

    bodies = {
        "vexpr local_dict": local_dict,
        "vexpr caller's locals": callers_locals,
        "vexpr module's globals": module_globals,
        "NumPy np.add(out=)": numpy,
    }
    times = {k: [] for k in bodies}
    for _ in range(ROUNDS):
        for name, body in bodies.items():
            times[name].append(best_loop(body))
    numpy_times = times["NumPy np.add(out=)"]
    return {
        k: (statistics.median(v), statistics.median(x / y for x, y in zip(v, numpy_times)))
        for k, v in times.items()
    }


def main() -> None:
    vexpr.set_num_threads(1)
    for n in (10, 1000, 10_000, 40_000):
        row = run(n)
        print(f"N = {n:>6}: " + ", ".join(f"{k} {t:.3f} µs ({r:.2f}x)" for k, (t, r) in row.items()))


if __name__ == "__main__":
    main()
