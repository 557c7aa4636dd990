#!/usr/bin/env python3
"""Derive the interval tables of float32 tanh and arctan at AVX-512:
crates/vexpr/src/kernels/vmath/consts_table32.rs (see `table32.rs`).

Written with mpmath 1.4.1 and NumPy (run: /path/to/python fit_table32.py >
consts_table32.rs; about a minute).

The method, for a function f and a = |x| (clamped or reduced as `table32.rs`
says): a's bits alone pick one of 32 intervals, (max(bits(a), BASE) >> 21)
mod 32, the quarter binades from BASE's upper end on, with everything below
in interval 0. Interval k's entries sit at position (k + (BASE >> 21)) mod
32, so that `vpermt2ps`, which reads the index's low five bits only, needs
no subtraction. In each interval f(a) = c0 + y (c1 + y (c2 + ...)) with
y = a - b exact (Sterbenz: b lies in the interval, within a factor 2 of a):

- interval 0: b = 0, c0 = 0 (so f(x) = x (c1 + ...) keeps tiny inputs'
  relative accuracy);
- the others: b is the float32 in the middle half of the interval whose
  f(b) is closest to a float32 (c0 = f(b) rounded is then exact to about a
  millionth of an ulp, so the polynomial's value at 0 adds no error), and
  c1.. a near-minimax Chebyshev fit (mpmath.chebyfit) of (f(b + y) - c0) / y,
  rounded to float32;
- tanh's last interval: b = 0, c0 = 1 and the rest 0 (tanh(10) rounds to 1).

tanh's intervals reach from 0.0546875 to 10, its clamp; arctan's from
0.078125 to 16, above which it takes pi/2 - atan(1/a), 1/a in interval 0.

The printed errors are measured on every float32 of each interval
(interval 0: 2^20 random ones per binade; arctan's reduced inputs
pi/2 - atan(1/a) for a >= 16: 2^20 random ones per binade) with the kernel's
operations emulated (each fused multiply-add in float64, then rounded to
float32), in ulps of the exact result.
"""
import struct
import sys

import mpmath
import numpy as np
from mpmath import mp, mpf

mp.prec = 120

SHIFT = 21  # quarter binades
COUNT = 32


def f32(v):
    """v rounded to the nearest float32 (normal range)."""
    with mpmath.workprec(24):
        return mpf(+mpf(v))


def bits(v):
    return struct.unpack("<I", struct.pack("<f", float(v)))[0]


def from_bits(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


class Function:
    """One function's table: its name, mpmath and NumPy forms, BASE (the bits
    below which inputs share interval 0) and the degree."""

    def __init__(self, name, f, f_np, base, degree):
        self.name, self.f, self.f_np = name, f, f_np
        self.base, self.first, self.degree = base, base >> SHIFT, degree

    def bounds(self, k):
        """[lo, hi) of interval k, floats."""
        lo = 0.0 if k == 0 else from_bits((self.first + k) << SHIFT)
        return lo, from_bits((self.first + k + 1) << SHIFT)

    def pick_b(self, lo, hi):
        """The float32 in the middle half of [lo, hi) whose f is nearest a float32
        (scanned in float64, exact to far below a float32 ulp)."""
        mid, span = bits((lo + hi) / 2), (bits(hi) - bits(lo)) // 4
        cand = np.arange(mid - span, mid + span, dtype=np.uint32).view(np.float32)
        t = self.f_np(cand.astype(np.float64))
        miss = np.abs(t - t.astype(np.float32)) / np.spacing(t.astype(np.float32))
        return mpf(float(cand[miss.argmin()]))

    def fit(self, k):
        """(b, [c0..c_degree]) of interval k, float32 values as mpf."""
        if self.name == "TANH" and k == COUNT - 1:
            return mpf(0), [mpf(1)] + [mpf(0)] * self.degree
        lo, hi = self.bounds(k)
        f = self.f
        if k == 0:
            b, c0 = mpf(0), mpf(0)

            def q(y):
                return mpmath.diff(f, 0) if y == 0 else f(y) / y
        else:
            b = self.pick_b(lo, hi)
            c0 = f32(f(b))

            def q(y):
                return mpmath.diff(f, b) if y == 0 else (f(b + y) - c0) / y

        poly, _ = mpmath.chebyfit(q, [mpf(lo) - b, mpf(hi) - b], self.degree, error=True)
        # chebyfit gives the highest degree first.
        return b, [c0] + [f32(c) for c in poly[::-1]]


TANH = Function("TANH", mpmath.tanh, np.tanh, 0x3D400000, 5)
ATAN = Function("ATAN", mpmath.atan, np.arctan, 0x3D900000, 5)
FUNCTIONS = [TANH, ATAN]
PIO2_HI = f32(mpmath.pi / 2)
PIO2_LO = f32(mpmath.pi / 2 - PIO2_HI)


def evaluate(a, b, coeffs):
    """The kernel's operations on float32 array a, emulated."""
    y = (a - np.float32(b)).astype(np.float32)
    r = np.full_like(a, np.float32(coeffs[-1]))
    for c in coeffs[-2::-1]:
        r = (r.astype(np.float64) * y.astype(np.float64) + float(c)).astype(np.float32)
    return r


def ulp_error(want, got):
    spacing = np.spacing(want.astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


def tiny_and_small(hi, top=-4):
    """2^20 random float32 of each binade from the subnormals up to 2^top, below hi."""
    rng = np.random.default_rng(1)
    parts = []
    for e in range(-149, top):
        m = rng.integers(0, 1 << 23, 1 << 20 if e > -126 else 1 << 12, dtype=np.uint32)
        v = ((e + 127) << 23) | m if e >= -126 else m >> (-126 - e)
        parts.append(v.astype(np.uint32).view(np.float32))
    a = np.concatenate(parts)
    return a[(a > 0) & (a < hi)]


def measure(fn, k, b, coeffs):
    lo, hi = fn.bounds(k)
    if k == 0:
        a = tiny_and_small(hi)
    else:
        a = np.arange(bits(lo), bits(hi), dtype=np.uint32).view(np.float32)
        if fn is TANH:
            a = np.minimum(a, np.float32(10.0))
    return float(ulp_error(fn.f_np(a.astype(np.float64)), evaluate(a, b, coeffs)).max())


def measure_atan_reduced(b, coeffs):
    """pi/2 - atan(u), u = 1/a rounded, for a >= 16: as the kernel forms it."""
    rng = np.random.default_rng(2)
    parts = []
    for e in range(4, 128):
        m = rng.integers(0, 1 << 23, 1 << 20, dtype=np.uint32)
        parts.append((((e + 127) << 23) | m).astype(np.uint32).view(np.float32))
    a = np.concatenate(parts)
    u = (1.0 / np.minimum(a, np.float32(2.0**60)).astype(np.float64)).astype(np.float32)
    p = evaluate(u, b, coeffs)
    t = (np.float64(PIO2_LO) - p.astype(np.float64)).astype(np.float32)
    got = (np.float64(PIO2_HI) + t.astype(np.float64)).astype(np.float32)
    return float(ulp_error(np.arctan(a.astype(np.float64)), got).max())


def emit(fn, table):
    rot = fn.first % COUNT
    print()
    print(f"/// {fn.name}: inputs below these bits share interval 0 with the quarter binade they start.")
    print(f"pub(super) const {fn.name}_BASE_BITS: i32 = 0x{fn.base:08x};")
    print(f"/// {fn.name}: b of each interval, where y = a - b; entry (k + {rot}) mod 32 is interval k's.")
    print(f"pub(super) const {fn.name}_B: [f32; {COUNT}] = [")
    for k, b, _ in table:
        print(f"    f32::from_bits(0x{bits(b):08x}), // {k}: {float(b)!r}")
    print("];")
    print(f"/// {fn.name}: the coefficients of y^0 to y^{fn.degree}, each ordered as B.")
    print(f"pub(super) const {fn.name}_C: [[f32; {COUNT}]; {fn.degree + 1}] = [")
    for j in range(fn.degree + 1):
        print("    [")
        for k, _, coeffs in table:
            print(f"        f32::from_bits(0x{bits(coeffs[j]):08x}), // {k}: {float(coeffs[j])!r}")
        print("    ],")
    print("];")


def main():
    print("//! The interval tables of float32 tanh and arctan at AVX-512 (`table32.rs`);")
    print("//! each entry is an exact f32 bit pattern.")
    print()
    print("// Generated by tests/data/vmath/fit_table32.py (mpmath 1.4.1); do not edit by hand.")
    print()
    print("/// An input's interval is its bits shifted right by this, modulo 32.")
    print(f"pub(super) const SHIFT: u32 = {SHIFT};")
    for fn in FUNCTIONS:
        table = [None] * COUNT
        worst = 0.0
        for k in range(COUNT):
            b, coeffs = fn.fit(k)
            table[(fn.first + k) % COUNT] = (k, b, coeffs)
            err = measure(fn, k, b, coeffs)
            worst = max(worst, err)
            lo, hi = fn.bounds(k)
            print(f"{fn.name} {k:2} [{lo:.6g}, {hi:.6g}): b = {float(b):.9g}, max {err:.3f} ulp", file=sys.stderr)
            if fn is ATAN and k == 0:
                err = measure_atan_reduced(b, coeffs)
                worst = max(worst, err)
                print(f"{fn.name} pi/2 - atan(1/a), a >= 16: max {err:.3f} ulp", file=sys.stderr)
        print(f"{fn.name} worst: {worst:.3f} ulp", file=sys.stderr)
        emit(fn, table)
    print()
    print("/// pi/2 in two parts, for arctan's pi/2 - atan(1/a).")
    print(f"pub(super) const PIO2: [f32; 2] = [f32::from_bits(0x{bits(PIO2_HI):08x}), f32::from_bits(0x{bits(PIO2_LO):08x})];")


if __name__ == "__main__":
    main()
