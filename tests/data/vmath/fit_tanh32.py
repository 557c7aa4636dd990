#!/usr/bin/env python3
"""Derive the interval table of float32 tanh at AVX-512:
crates/vexpr/src/kernels/vmath/consts_tanh32.rs (see `tanh32.rs`).

Written with mpmath 1.4.1 and NumPy (run: /path/to/python fit_tanh32.py >
consts_tanh32.rs; about a minute).

The method: a = min(|x|, 10) falls in one of 32 intervals found from its
bits alone, (max(bits(a), 0x3d400000) >> 21) mod 32, the quarter binades
from 0.0546875 = bits 491 << 21 up to 10 = bits 521 << 21; everything below
0.0546875 is interval 0 and 10 is the last. Interval k's entries sit at
position (k + 490) mod 32, so that `vpermt2ps`, which reads the index's low
five bits only, needs no subtraction. In each interval
tanh(a) = c0 + y (c1 + y (c2 + ... c5)) with y = a - b exact (Sterbenz: b
lies in the interval, within a factor 2 of a):

- interval 0: b = 0, c0 = 0 (so tanh(x) = x (c1 + ...) keeps tiny inputs'
  relative accuracy);
- the last: b = 0, c0 = 1 and the rest 0 (tanh(10) rounds to 1);
- the others: b is the float32 near the interval's middle whose tanh is
  closest to a float32 (c0 = tanh(b) rounded is then exact to about a
  thousandth of an ulp, so the polynomial's value at 0 adds no error), and
  c1..c5 a near-minimax Chebyshev fit (mpmath.chebyfit) of
  (tanh(b + y) - c0) / y, rounded to float32.

The printed errors are measured on every float32 of each interval
(interval 0: 2^20 random ones per binade) with the kernel's operations
emulated (each fused multiply-add in float64, then rounded to float32),
in ulps of the exact tanh.
"""
import struct
import sys

import mpmath
import numpy as np
from mpmath import mp, mpf

mp.prec = 120

BASE = 0x3D400000  # 0.046875: bits below it share interval 0
SHIFT = 21  # quarter binades
FIRST = BASE >> SHIFT  # 490
COUNT = 32
CLAMP = 10.0
DEGREE = 5


def f32(v):
    """v rounded to the nearest float32 (normal range)."""
    with mpmath.workprec(24):
        return mpf(+mpf(v))


def bits(v):
    return struct.unpack("<I", struct.pack("<f", float(v)))[0]


def from_bits(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def ulp32(v):
    """The float32 ulp at v > 0 (normal range)."""
    e = int(mpmath.floor(mpmath.log(v, 2)))
    return mpf(2) ** (e - 23)


def bounds(k):
    """[lo, hi) of interval k, floats."""
    lo = 0.0 if k == 0 else from_bits((FIRST + k) << SHIFT)
    hi = from_bits((FIRST + k + 1) << SHIFT)
    return lo, hi


def pick_b(lo, hi):
    """The float32 in the middle half of [lo, hi) whose tanh is nearest a float32
    (scanned in float64, whose tanh is exact to far below a float32 ulp)."""
    mid, span = bits((lo + hi) / 2), (bits(hi) - bits(lo)) // 4
    cand = np.arange(mid - span, mid + span, dtype=np.uint32).view(np.float32)
    t = np.tanh(cand.astype(np.float64))
    miss = np.abs(t - t.astype(np.float32)) / np.spacing(t.astype(np.float32))
    return mpf(float(cand[miss.argmin()]))


def fit(k):
    """(b, [c0..c5]) of interval k, float32 values as mpf."""
    lo, hi = bounds(k)
    if k == COUNT - 1:
        return mpf(0), [mpf(1)] + [mpf(0)] * DEGREE
    if k == 0:
        b, c0 = mpf(0), mpf(0)

        def q(y):
            return mpf(1) if y == 0 else mpmath.tanh(y) / y
    else:
        b = pick_b(lo, hi)
        c0 = f32(mpmath.tanh(b))

        def q(y):
            if y == 0:
                return 1 / mpmath.cosh(b) ** 2
            return (mpmath.tanh(b + y) - c0) / y

    poly, _ = mpmath.chebyfit(q, [mpf(lo) - b, mpf(hi) - b], DEGREE, error=True)
    # chebyfit gives the highest degree first.
    return b, [c0] + [f32(c) for c in poly[::-1]]


def evaluate(a, b, coeffs):
    """The kernel's operations on float32 array a, emulated."""
    y = (a - np.float32(b)).astype(np.float32)
    r = np.full_like(a, np.float32(coeffs[-1]))
    for c in coeffs[-2::-1]:
        r = (r.astype(np.float64) * y.astype(np.float64) + float(c)).astype(np.float32)
    return r


def ulp_error(a, got):
    want = np.tanh(a.astype(np.float64))
    spacing = np.spacing(want.astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


def measure(k, b, coeffs):
    lo, hi = bounds(k)
    if k == 0:
        rng = np.random.default_rng(1)
        parts = []
        for e in range(-149, -4):
            m = rng.integers(0, 1 << 23, 1 << 20 if e > -126 else 1 << 12, dtype=np.uint32)
            if e >= -126:
                v = ((e + 127) << 23) | m
            else:
                v = m >> (-126 - e)
            parts.append(v.astype(np.uint32).view(np.float32))
        a = np.concatenate(parts)
        a = a[(a > 0) & (a < hi)]
    else:
        a = np.arange(bits(lo), bits(hi), dtype=np.uint32).view(np.float32)
        a = np.minimum(a, np.float32(CLAMP))
    return float(ulp_error(a, evaluate(a, b, coeffs)).max())


def main():
    table = [None] * COUNT
    worst = 0.0
    for k in range(COUNT):
        b, coeffs = fit(k)
        err = measure(k, b, coeffs)
        worst = max(worst, err)
        lo, hi = bounds(k)
        print(f"interval {k:2} [{lo:.6g}, {hi:.6g}): b = {float(b):.9g}, max {err:.3f} ulp", file=sys.stderr)
        table[(FIRST + k) % COUNT] = (k, b, coeffs)
    print(f"worst: {worst:.3f} ulp", file=sys.stderr)

    print("//! The interval table of float32 tanh at AVX-512 (`tanh32.rs`); each entry")
    print("//! is an exact f32 bit pattern.")
    print()
    print("// Generated by tests/data/vmath/fit_tanh32.py (mpmath 1.4.1); do not edit by hand.")
    print()
    print(f"/// |x| is clamped to this (tanh rounds to 1 from about 9.01 on).")
    print(f"pub(super) const CLAMP: f32 = {CLAMP!r};")
    print("/// Bits of the least input with an interval of its own; below, interval 0.")
    print(f"pub(super) const BASE_BITS: i32 = 0x{BASE:08x};")
    print("/// An input's interval is its bits shifted right by this, modulo 32.")
    print(f"pub(super) const SHIFT: u32 = {SHIFT};")
    names = ["B"] + [f"C{i}" for i in range(DEGREE + 1)]
    docs = ["b, where y = min(|x|, CLAMP) - b"] + [f"The coefficient of y^{i}" for i in range(DEGREE + 1)]
    for j, (name, doc) in enumerate(zip(names, docs)):
        print()
        print(f"/// {doc}; entry (k + {FIRST % COUNT}) mod 32 is interval k's.")
        print(f"pub(super) const {name}: [f32; {COUNT}] = [")
        for k, b, coeffs in table:
            v = b if j == 0 else coeffs[j - 1]
            print(f"    f32::from_bits(0x{bits(v):08x}), // {k}: {float(v)!r}")
        print("];")


if __name__ == "__main__":
    main()
