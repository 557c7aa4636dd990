#!/usr/bin/env python3
"""NumPy's ns per element for the functions and inputs of
crates/vexpr/examples/f32_speed.rs, float64 and float32, one thread
(NumPy's ufuncs do not thread): the comparison column of the float32 table
in docs/performance.md.

    python benches/f32_numpy.py            # N = 2^20
    python benches/f32_numpy.py 10000
"""
import sys
import time

import numpy as np

CASES = [
    ("exp", (-10, 10), False, np.exp),
    ("log", (-20, 20), True, np.log),
    ("sin", (-10, 10), False, np.sin),
    ("cos", (-10, 10), False, np.cos),
    ("tan", (-10, 10), False, np.tan),
    ("tanh", (-10, 10), False, np.tanh),
    ("expm1", (-10, 10), False, np.expm1),
    ("log1p", (0, 10), False, np.log1p),
    ("log2", (-20, 20), True, np.log2),
    ("log10", (-20, 20), True, np.log10),
    ("arctan", (-10, 10), False, np.arctan),
    ("arcsin", (-1, 1), False, np.arcsin),
    ("arccos", (-1, 1), False, np.arccos),
    ("sinh", (-10, 10), False, np.sinh),
    ("cosh", (-10, 10), False, np.cosh),
    ("arcsinh", (-10, 10), False, np.arcsinh),
    ("arccosh", (1, 100), False, np.arccosh),
    ("arctanh", (-1, 1), False, np.arctanh),
]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 20
    reps = max(1, 10_000_000 // n)
    rng = np.random.default_rng(1)
    print(f"numpy {np.__version__}, N = {n}, {reps} calls per sample")
    print("| function | numpy float64 | numpy float32 |")
    print("|---|---|---|")
    for name, (lo, hi), log_uniform, f in CASES:
        x = rng.uniform(lo, hi, n)
        if log_uniform:
            x = np.exp(x)
        x32 = x.astype(np.float32)
        out, out32 = np.empty_like(x), np.empty_like(x32)
        t64, t32 = [], []
        for _ in range(21):
            t = time.perf_counter()
            for _ in range(reps):
                f(x, out=out)
            t64.append((time.perf_counter() - t) * 1e9 / (n * reps))
            t = time.perf_counter()
            for _ in range(reps):
                f(x32, out=out32)
            t32.append((time.perf_counter() - t) * 1e9 / (n * reps))
        print(f"| {name} | {np.median(t64):.3f} | {np.median(t32):.3f} |")


if __name__ == "__main__":
    main()
