#!/usr/bin/env python3
"""Derive the tables and polynomials of float32 log, log2 and log10 at
AVX-512: crates/vexpr/src/kernels/vmath/consts_log32.rs (see `log32.rs`).

Written with mpmath 1.4.1 (run: /path/to/python fit_log32.py > consts_log32.rs).

The method: x = 2^k m with m in [1, 2) (`vgetmantps`, `vgetexpps`); m's
top four mantissa bits pick one of 16 intervals and its 1/c (INV_C, a
`vpermps` lookup), z = m/c - 1 is exact in one fused multiply-add (checked
below), and log_b x = (k log_b 2 - log_b(1/c)) + log_b(1 + z).

- LOG_2 = log_b 2 in two parts, the first on a grid so coarse that
  k * LOG_2[0] + T_HI[i] is exact for every exponent k of a float32 (checked
  below with exact rationals); T_HI + T_LO = -log_b(INV_C[i]) with T_HI on the
  same grid.
- INV_LN = 1/ln b in two parts (1 and 0 for base e).
- log_b(1 + z) = z * INV_LN + z^2 * P(z): P is a near-minimax Chebyshev fit
  (mpmath.chebyfit) of (log_b(1 + z) - z / ln b) / z^2 with its coefficients
  rounded to f32; the printed error is re-measured after rounding, relative
  to log_b(1 + z). The first count of coefficients
  to reach 2^-27 (a sixteenth of an ulp) is kept.
"""
import struct
import sys
from fractions import Fraction
import mpmath
from mpmath import mp, mpf

mp.prec = 200

# k of x = 2^k m, m in [1, 2): `vgetexpps` gives -149 (the least
# subnormal) to 127.
K_RANGE = range(-149, 128)
ULP_M = Fraction(1, 2**23)


def f32(v):
    """v rounded to the nearest float32 (normal range)."""
    with mpmath.workprec(24):
        return mpf(+mpf(v))


def hexf(v):
    return "0x%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0]


def on_grid(v, grid):
    return mpmath.nint(v / grid) * grid


def intervals():
    """The interval i = m's top four mantissa bits, m in [1 + i/16, 1 + (i+1)/16):
    1/c for each, a multiple of 1/32 (so that z = m/c - 1 is exact, below),
    chosen to make the largest |z| least; 1 for the interval holding 1 (z = m - 1)
    and 1/2 for the last one (so that for x just below a power of two,
    k log_b 2 - log_b(1/c) cancels exactly to the next k's). Returns the 1/c
    and the range of z, exact rationals."""
    inv_c = []
    z_lo = z_hi = Fraction(0)
    for i in range(16):
        lo = 1 + Fraction(i, 16)
        hi = 1 + Fraction(i + 1, 16) - ULP_M
        if i == 0:
            candidates = [Fraction(1)]
        elif i == 15:
            candidates = [Fraction(1, 2)]
        else:
            candidates = [Fraction(q, 32) for q in range(16, 33)]
        c = min(candidates, key=lambda c: max(abs(lo * c - 1), abs(hi * c - 1)))
        inv_c.append(c)
        z_lo, z_hi = min(z_lo, lo * c - 1), max(z_hi, hi * c - 1)
        # z is a multiple of ulp(m)/32 = 2^-28; below 2^24 of them it is a
        # float32, so the fused multiply-add m * (1/c) - 1 is exact.
        for z in (lo * c - 1, hi * c - 1):
            assert (z / (ULP_M / 32)).denominator == 1 and abs(z) < Fraction(2**24) * ULP_M / 32
    return inv_c, z_lo, z_hi


def split_pair(v, grid):
    hi = on_grid(v, grid)
    lo = f32(v - hi)
    assert f32(hi) == hi
    return hi, lo


def base_constants(name, ln_b, inv_c, z_lo, z_hi):
    log_2 = mpmath.ln(2) / ln_b
    minus_log_c = [-mpmath.ln(mpf(c.numerator) / c.denominator) / ln_b for c in inv_c]
    # The largest |k log_b 2 - log_b(1/c)|, and the grid that keeps it in 24 bits.
    biggest = max(abs(k * log_2 + t) for k in (K_RANGE[0], K_RANGE[-1]) for t in minus_log_c)
    grid = mpf(2) ** (int(mpmath.floor(mpmath.log(biggest, 2))) + 1 - 24)
    if name == "LOG2":
        log_2_pair = (mpf(1), mpf(0))
    else:
        log_2_pair = split_pair(log_2, grid)
    t = [split_pair(v, grid) for v in minus_log_c]
    # The last interval's entry is log_b 2 itself, split the same way.
    assert t[15] == log_2_pair or name == "LOG2"
    # Exact: k LOG_2[0] + T_HI[i] is a float32 for every k and i.
    for k in K_RANGE:
        for hi, _ in t:
            s = Fraction(int(k)) * Fraction(float(log_2_pair[0])) + Fraction(float(hi))
            assert Fraction(float(f32(mpf(s.numerator) / s.denominator))) == s, (name, k)
    inv_ln = (mpf(1), mpf(0)) if name == "LN" else (f32(1 / ln_b), f32(1 / ln_b - f32(1 / ln_b)))

    def p_target(z):
        if z == 0:
            return -1 / (2 * ln_b)
        return (mpmath.log1p(z) / ln_b - z / ln_b) / z**2

    best = None
    for n in (4, 5, 6):
        poly, _ = mpmath.chebyfit(p_target, [z_lo, z_hi], n, error=True)
        coeffs = [f32(c) for c in poly]  # highest degree first
        err = mpf(0)
        for i in range(4001):
            z = z_lo + (z_hi - z_lo) * i / 4000
            if z == 0:
                continue
            got = z * (inv_ln[0] + inv_ln[1]) + z**2 * mpmath.polyval(coeffs, z)
            want = mpmath.log1p(z) / ln_b
            err = max(err, abs(got / want - 1))
        print(f"{name}: {n} coefficients, 2^{float(mpmath.log(err, 2)):.1f} relative", file=sys.stderr)
        if best is None and err < mpf(2) ** -27:
            best = (n, coeffs, err)
    assert best is not None
    return log_2_pair, inv_ln, t, best, grid


def main():
    inv_c, z_lo, z_hi = intervals()
    z_lo, z_hi = mpf(z_lo.numerator) / z_lo.denominator, mpf(z_hi.numerator) / z_hi.denominator
    print("//! Tables and polynomial coefficients of float32 log, log2 and log10 at")
    print("//! AVX-512 (`log32.rs`); each is an exact f32 bit pattern.")
    print()
    print("// Generated by tests/data/vmath/fit_log32.py (mpmath 1.4.1); do not edit by hand.")
    print()
    print("/// 1/c of each interval of m in [1, 2) (its top four mantissa bits), a multiple of 1/32.")
    print("pub(super) const INV_C: [f32; 16] = [")
    for c in inv_c:
        print(f"    f32::from_bits({hexf(mpf(c.numerator) / c.denominator)}), // {c}")
    print("];")
    for name, ln_b in (("LN", mpmath.ln(mpf(mpmath.e))), ("LOG2", mpmath.ln(2)), ("LOG10", mpmath.ln(10))):
        log_2, inv_ln, t, (n, coeffs, err), grid = base_constants(name, ln_b, inv_c, z_lo, z_hi)
        print()
        print(f"/// log_b 2 for b = {name}'s base in two parts, the first on a grid of 2^{int(mpmath.log(grid, 2))}:")
        print("/// k times it plus any T_HI entry is exact.")
        print(f"pub(super) const {name}_LOG_2: [f32; 2] = [f32::from_bits({hexf(log_2[0])}), f32::from_bits({hexf(log_2[1])})];")
        print("/// 1 / ln b in two parts.")
        print(f"pub(super) const {name}_INV_LN: [f32; 2] = [f32::from_bits({hexf(inv_ln[0])}), f32::from_bits({hexf(inv_ln[1])})];")
        for part, idx in (("HI", 0), ("LO", 1)):
            print(f"/// -log_b(INV_C[i]) ({part.lower()} part).")
            print(f"pub(super) const {name}_T_{part}: [f32; 16] = [")
            for i in range(16):
                v = t[i][idx]
                print(f"    f32::from_bits({hexf(v)}), // {float(v)!r}")
            print("];")
        print(f"/// log_b(1 + z) = z * INV_LN + z^2 * P(z) for z in [{float(z_lo):.6f}, {float(z_hi):.6f}], to 2^{float(mpmath.log(err, 2)):.1f}")
        print("/// of itself (coefficients from the lowest degree).")
        print(f"pub(super) const {name}_P: [f32; {n}] = [")
        for c in coeffs[::-1]:
            print(f"    f32::from_bits({hexf(c)}), // {float(c)!r}")
        print("];")


if __name__ == "__main__":
    main()
