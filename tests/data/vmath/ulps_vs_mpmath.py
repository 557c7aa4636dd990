#!/usr/bin/env python3
"""Measure a float64 function of the `vexpr` command against mpmath (and glibc).

Run from the repository root after `cargo build --release -p vexpr-cli`:

    python3 tests/data/vmath/ulps_vs_mpmath.py FUNCTION LOW HIGH [N [YLOW YHIGH]]

draws N (default 20000) uniform float64 inputs in [LOW, HIGH) (seed 5),
evaluates `FUNCTION(a)` with target/release/vexpr at the CPU's level (for
`pow`, `a ** b` with `b` uniform in [YLOW, YHIGH), default [-10, 10)), and
prints the largest and mean error in ulps against mpmath at 120 bits, how
many lanes are over 1 and over 0.5 ulp, and, of the lanes where vexpr and
glibc's function (through ctypes) differ, how many of each are within half an
ulp. Needs numpy and mpmath.
"""
import ctypes
import os
import subprocess
import sys
import tempfile

import mpmath
import numpy as np

mpmath.mp.prec = 120
FUNCTIONS = {
    "sinh": (mpmath.sinh, "sinh"),
    "cosh": (mpmath.cosh, "cosh"),
    "arcsinh": (mpmath.asinh, "asinh"),
    "arctanh": (mpmath.atanh, "atanh"),
    "log1p": (mpmath.log1p, "log1p"),
    "log2": (lambda x: mpmath.log(x, 2), "log2"),
    "log10": (mpmath.log10, "log10"),
    "arctan": (mpmath.atan, "atan"),
    "arccosh": (mpmath.acosh, "acosh"),
}
# Functions of two operands, and their expression in `a` and `b`.
BINARY = {"pow": (mpmath.power, "pow", "a ** b")}


def ulps(got, exact):
    e = float(exact)
    return abs(float((mpmath.mpf(got) - exact) / np.spacing(abs(e)))) if e != 0 else 0.0


def main():
    name, low, high = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    rng = np.random.default_rng(5)
    x = rng.uniform(low, high, n)
    libm = ctypes.CDLL("libm.so.6")
    if name in BINARY:
        exact_fn, c_name, expr = BINARY[name]
        b_low, b_high = (float(v) for v in sys.argv[5:7]) if len(sys.argv) > 6 else (-10.0, 10.0)
        b = rng.uniform(b_low, b_high, n)
        operands = [x, b]
        name = f"{name} b in [{b_low}, {b_high})"
    else:
        exact_fn, c_name = FUNCTIONS[name]
        expr = f"{name}(a)"
        operands = [x]
    glibc = getattr(libm, c_name)
    glibc.restype, glibc.argtypes = ctypes.c_double, [ctypes.c_double] * len(operands)
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for var, values in zip("ab", operands):
            path = os.path.join(tmp, f"{var}.npy")
            np.save(path, values)
            args.append(f"{var}={path}")
        ys = os.path.join(tmp, "out.npy")
        subprocess.run(["target/release/vexpr", "eval", expr, *args, "-o", ys, "-q"], check=True)
        y = np.load(ys)
    errs, differ, ours_half, glibc_half = [], 0, 0, 0
    for i, yi in enumerate(y):
        point = [float(v[i]) for v in operands]
        exact = exact_fn(*(mpmath.mpf(v) for v in point))
        errs.append(ulps(yi, exact))
        g = glibc(*point)
        if g != yi:
            differ += 1
            ours_half += errs[-1] <= 0.5
            glibc_half += ulps(g, exact) <= 0.5
    errs = np.array(errs)
    print(f"{name} [{low}, {high}) n={n}: max {errs.max():.3f} ulp, mean {errs.mean():.3f}, "
          f">1: {(errs > 1).sum()}, >0.5: {(errs > 0.5).sum()}; differ from glibc: {differ}, "
          f"of those within 0.5 ulp: vexpr {ours_half}, glibc {glibc_half}")


if __name__ == "__main__":
    main()
