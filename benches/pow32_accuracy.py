#!/usr/bin/env python3
"""How far float32 ``a ** b`` is from glibc's float64 ``pow`` rounded to
float32, for NumPy's ``np.power`` and for vexpr: the largest distance in
float32 steps and the share of results that differ at all, on 2M random pairs
in each of three domains (docs/performance.md, "Float32 ``**`` stays a miss").

    .venv/bin/python benches/pow32_accuracy.py        # needs numpy and vexpr
"""
import numpy as np
import vexpr

DOMAINS = [((0.1, 10), (-3, 3)), ((0.5, 2), (-40, 40)), ((1e-3, 1e3), (-10, 10))]


def distance(got, want):
    """Largest distance in float32 steps, and the share not equal."""
    steps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    return int(steps.max()), float((steps > 0).mean())


def main():
    rng = np.random.default_rng(5)
    n = 2_000_000
    print("| x | y | NumPy max / differ | vexpr max / differ |\n|---|---|---|---|")
    for (xlo, xhi), (ylo, yhi) in DOMAINS:
        a = rng.uniform(xlo, xhi, n).astype(np.float32)
        b = rng.uniform(ylo, yhi, n).astype(np.float32)
        want = (a.astype(np.float64) ** b.astype(np.float64)).astype(np.float32)
        mine = vexpr.evaluate("a**b", local_dict={"a": a, "b": b})
        (nm, nd), (vm, vd) = distance(np.power(a, b), want), distance(mine, want)
        print(f"| [{xlo:g}, {xhi:g}] | [{ylo:g}, {yhi:g}] | {nm} / {nd:.4%} | {vm} / {vd:.4%} |")


if __name__ == "__main__":
    main()
