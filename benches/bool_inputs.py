#!/usr/bin/env python3
"""Boolean logic on NumPy boolean arrays from Python: vexpr against NumPy.

Usage (with an interpreter that has vexpr and NumPy)::

    python benches/bool_inputs.py "p | q" 10000000 [THREADS]

The inputs are NumPy booleans (`p`, `q`) and float64 (`a`, `b`), whichever
the expression names. vexpr runs ``evaluate(expr, local_dict=d, out=o)``,
NumPy the expression itself (allocating its result, as users write it).
Three rounds, each the best of 10 loops of 20 calls per engine, in ns per
element.
"""

import sys
import timeit

import numpy as np

import vexpr


def main() -> None:
    text, n = sys.argv[1], int(sys.argv[2])
    vexpr.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    rng = np.random.default_rng(1)
    values = {"p": rng.random(n) < 0.5, "q": rng.random(n) < 0.5, "a": rng.random(n), "b": rng.random(n)}
    d = {k: v for k, v in values.items() if k in text}
    out = np.empty_like(vexpr.evaluate(text, local_dict=d))
    np.testing.assert_array_equal(vexpr.evaluate(text, local_dict=d), eval(text, {}, d))

    def best(call) -> float:
        return min(timeit.repeat(call, number=20, repeat=10)) / 20 / n * 1e9

    for _ in range(3):
        v = best(lambda: vexpr.evaluate(text, local_dict=d, out=out))
        p = best(lambda: eval(text, {}, d))
        print(f"{text}  N = {n}: vexpr {v:.3f}  NumPy {p:.3f} ns/elem")


if __name__ == "__main__":
    main()
