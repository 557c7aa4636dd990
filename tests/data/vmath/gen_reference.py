#!/usr/bin/env python3
"""Reference data for the vmath accuracy tests (crates/vexpr/src/kernels/vmath/tests.rs).

Generated with mpmath 1.4.1 and NumPy 2.4.6:
    python3 tests/data/vmath/gen_reference.py        # rewrites tests/data/vmath/*.txt

For each function and dtype, one file `<name>_<dtype>.txt`: one case per line,
the input(s) and the expected output as hex bit patterns (16 digits for f64,
8 for f32), separated by spaces. Lines starting with '#' are comments.

Expected outputs are the exact value (mpmath at 320 bits; mpmath reduces huge
trigonometric arguments exactly) rounded once to nearest-even in the target
format, including gradual underflow and overflow to inf. Where the input has a
zero, inf or NaN, or the exact value is not real (log(-1), asin(2), ...), the
expected output is NumPy's, which follows C99 / IEEE 754.

Inputs (fixed seed): log-uniform magnitudes over the whole finite range with
both signs, denser sampling of each function's interesting range, special
values, and hard cases (overflow and underflow thresholds, arguments near 1
for the logarithms, doubles near multiples of pi/2 including the worst case
for argument reduction, near +-1 for asin/acos/atanh).
"""
import math
import os
import random
import struct
import warnings

import mpmath
import numpy as np
from mpmath import mp, mpf

mp.prec = 320
warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))


class Fmt:
    def __init__(self, name, p, emin, emax, np_t, hexw):
        self.name, self.p, self.emin, self.emax, self.np_t, self.hexw = name, p, emin, emax, np_t, hexw
        self.max = float((2 - 2.0 ** (1 - p)) * 2.0**emax)
        self.tiny = 2.0 ** (emin - p + 1)  # smallest subnormal
        self.ln_max = math.log(self.max)

    def cast(self, v):
        return self.np_t(v)

    def hex(self, v):
        v = self.np_t(v)
        if self.hexw == 16:
            return "%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]
        return "%08x" % struct.unpack("<I", struct.pack("<f", v))[0]

    def round(self, v):
        """Round the real mpf v to nearest-even in this format."""
        if v == 0:
            return 0.0
        sign = -1.0 if v < 0 else 1.0
        v = abs(v)
        man, exp = v.man_exp  # v = man * 2^exp exactly (man odd)
        e = exp + man.bit_length() - 1  # floor(log2 v)
        if e > self.emax:
            return sign * math.inf
        if e < self.emin - self.p - 1:  # below half the smallest subnormal
            return sign * 0.0
        q = max(e - (self.p - 1), self.emin - self.p + 1)  # exponent of one ulp
        # n = round_half_even(man * 2^(exp - q))
        sh = exp - q
        if sh >= 0:
            n = man << sh
        else:
            n, rem = divmod(man, 1 << -sh)
            half = 1 << (-sh - 1)
            if rem > half or (rem == half and n & 1):
                n += 1
        if n.bit_length() + q > self.emax + 1:  # rounded up to 2^(emax+1)
            return sign * math.inf
        return sign * math.ldexp(n, q)


F64 = Fmt("f64", 53, -1022, 1023, np.float64, 16)
F32 = Fmt("f32", 24, -126, 127, np.float32, 8)


def loguni(rng, lo, hi):
    """Log-uniform magnitude in [lo, hi] (lo > 0)."""
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def signed(rng, v):
    return v if rng.random() < 0.5 else -v


def full_range(rng, fmt, n, sign=True):
    out = []
    for _ in range(n):
        v = loguni(rng, fmt.tiny, fmt.max)
        out.append(signed(rng, v) if sign else v)
    return out


def uni(rng, lo, hi, n):
    return [rng.uniform(lo, hi) for _ in range(n)]


def around(fmt, v, k=3):
    """v and its k neighbours on each side in fmt."""
    v = fmt.cast(v)
    out, a, b = [v], v, v
    for _ in range(k):
        a = np.nextafter(a, fmt.np_t(-np.inf))
        b = np.nextafter(b, fmt.np_t(np.inf))
        out += [a, b]
    return out


def specials(fmt):
    m = fmt.max
    return [0.0, -0.0, math.inf, -math.inf, math.nan, fmt.tiny, -fmt.tiny, m, -m, 1.0, -1.0,
            2.0 ** fmt.emin, -(2.0 ** fmt.emin), 0.5, -0.5, 2.0, -2.0]


# ---- input generators: (rng, fmt) -> list of floats (unary) -----------------

def g_exp(rng, f):
    L = f.ln_max
    lo = math.log(f.tiny)
    xs = full_range(rng, f, 150) + uni(rng, lo - 2, L + 2, 700)
    xs += [signed(rng, loguni(rng, 1e-20, 1)) for _ in range(150)]
    for t in (L, lo, lo + math.log(2) / 2, math.log(2.0 ** f.emin)):
        xs += around(f, t, 4)
    return xs


def g_expm1(rng, f):
    L = f.ln_max
    xs = full_range(rng, f, 150) + uni(rng, -45, L + 2, 600)
    xs += [signed(rng, loguni(rng, f.tiny, 1)) for _ in range(300)]
    xs += around(f, L, 4) + around(f, math.log(2) / 2, 2) + around(f, -math.log(2) / 2, 2)
    return xs


def g_log(rng, f):
    xs = full_range(rng, f, 700, sign=False) + full_range(rng, f, 30)
    xs += uni(rng, 0.5, 2.0, 300) + uni(rng, 0, 100, 100)
    eps = 2.0 ** (1 - f.p)
    for k in range(1, 8):
        xs += [1 + k * eps, 1 - k * eps / 2]
    xs += [1 + signed(rng, loguni(rng, eps, 0.3)) for _ in range(150)]
    xs += [2.0 ** k for k in range(-20, 21)] + [10.0 ** k for k in range(-10, 11)]
    return xs


def g_log1p(rng, f):
    xs = full_range(rng, f, 500, sign=False)
    xs += [-loguni(rng, f.tiny, 1) for _ in range(300)]
    xs += [-1 + loguni(rng, 2.0 ** -f.p, 1) for _ in range(150)]
    xs += uni(rng, -1, 3, 200) + full_range(rng, f, 20)
    xs += around(f, -1.0, 3)
    return xs


def g_trig(rng, f):
    xs = uni(rng, -10, 10, 500) + [signed(rng, loguni(rng, 1e-12, 1e6)) for _ in range(400)]
    xs += full_range(rng, f, 120)
    # near multiples of pi/2, the hard cases of argument reduction
    for k in list(range(1, 40)) + [rng.randrange(1, 1 << 20) for _ in range(60)]:
        xs += around(f, float(k * mpmath.pi / 2), 1)
    if f is F64:
        xs += [6381956970095103 * 2.0**797, 5.319372648326541e+255, 1e22, 1e300, 2.0**20, 2.0**20 + 1]
    else:
        xs += [16367173.0, 2.0**20, 1e30, 3.0e38]
    return xs


def g_tanh(rng, f):
    xs = uni(rng, -25, 25, 600) + [signed(rng, loguni(rng, f.tiny, 30)) for _ in range(400)]
    xs += full_range(rng, f, 100) + around(f, 0.55, 2) + around(f, 22.0, 2)
    return xs


def g_atan(rng, f):
    xs = full_range(rng, f, 600) + uni(rng, -3, 3, 400)
    for t in (0.4375, 0.6875, 1.0, 2.4375, 1.1875):
        xs += around(f, t, 2) + around(f, -t, 2)
    return xs


def g_asin(rng, f):
    xs = uni(rng, -1, 1, 600)
    xs += [signed(rng, 1 - loguni(rng, 2.0 ** -f.p, 0.5)) for _ in range(300)]
    xs += [signed(rng, loguni(rng, f.tiny, 0.5)) for _ in range(200)]
    xs += around(f, 1.0, 3) + around(f, -1.0, 3) + around(f, 0.5, 2) + uni(rng, -3, 3, 20)
    return xs


def g_sinhcosh(rng, f):
    L = f.ln_max + math.log(2)
    xs = uni(rng, -L - 5, L + 5, 600) + [signed(rng, loguni(rng, f.tiny, L)) for _ in range(400)]
    xs += full_range(rng, f, 80) + around(f, L, 4) + around(f, -L, 4) + around(f, f.ln_max, 3)
    return xs


def g_asinh(rng, f):
    xs = full_range(rng, f, 700) + uni(rng, -5, 5, 300) + around(f, 2.0**28, 2)
    return xs


def g_acosh(rng, f):
    eps = 2.0 ** (1 - f.p)
    xs = [1 + loguni(rng, eps, f.max / 2) for _ in range(700)] + uni(rng, 1, 3, 250)
    xs += full_range(rng, f, 50) + around(f, 1.0, 3) + around(f, 2.0, 2) + around(f, 2.0**28, 2)
    return xs


def g_atanh(rng, f):
    xs = uni(rng, -1, 1, 500)
    xs += [signed(rng, 1 - loguni(rng, 2.0 ** -f.p, 0.5)) for _ in range(300)]
    xs += [signed(rng, loguni(rng, f.tiny, 0.5)) for _ in range(200)]
    xs += around(f, 1.0, 2) + around(f, -1.0, 2) + around(f, 0.5, 2) + uni(rng, -3, 3, 20)
    return xs


# ---- binary ------------------------------------------------------------------

def pairs_special(f):
    s = specials(f) + [3.0, -3.0, 0.3, -0.3]
    return [(a, b) for a in s for b in s]


def g_atan2(rng, f):
    ps = [(signed(rng, loguni(rng, f.tiny, f.max)), signed(rng, loguni(rng, f.tiny, f.max))) for _ in range(500)]
    ps += [(rng.uniform(-5, 5), rng.uniform(-5, 5)) for _ in range(500)]
    ps += [(signed(rng, loguni(rng, 1e-30, 1e30)), signed(rng, loguni(rng, 1e-30, 1e30))) for _ in range(300)]
    return ps + pairs_special(f)


def g_hypot(rng, f):
    return g_atan2(rng, f)


def g_pow(rng, f):
    L = f.ln_max
    ps = [(loguni(rng, 1e-10, 1e10), rng.uniform(-30, 30)) for _ in range(400)]
    ps += [(signed(rng, float(rng.randrange(1, 100))), float(rng.randrange(-40, 40))) for _ in range(150)]
    ps += [(rng.uniform(-5, 5), rng.uniform(-5, 5)) for _ in range(200)]
    # results near overflow / underflow: y log x close to the thresholds
    for _ in range(200):
        x = loguni(rng, 1.001, 1e6)
        t = rng.uniform(math.log(f.tiny) - 3, L + 1) * (1 if rng.random() < 0.5 else 1)
        ps.append((x, t / math.log(x)))
    ps += [(signed(rng, loguni(rng, f.tiny, f.max)), rng.uniform(-3, 3)) for _ in range(150)]
    ps += [(1 + signed(rng, loguni(rng, 2.0 ** -f.p, 1e-3)), signed(rng, loguni(rng, 1, 1e9))) for _ in range(100)]
    return ps + pairs_special(f)


def m_log1p(x):
    return mpmath.log1p(x)


def m_atanh(x):
    return mpmath.atanh(x)


UNARY = {
    "exp": (mpmath.exp, np.exp, g_exp),
    "expm1": (mpmath.expm1, np.expm1, g_expm1),
    "log": (mpmath.log, np.log, g_log),
    "log1p": (m_log1p, np.log1p, g_log1p),
    "log2": (lambda x: mpmath.log(x, 2), np.log2, g_log),
    "log10": (mpmath.log10, np.log10, g_log),
    "sin": (mpmath.sin, np.sin, g_trig),
    "cos": (mpmath.cos, np.cos, g_trig),
    "tan": (mpmath.tan, np.tan, g_trig),
    "tanh": (mpmath.tanh, np.tanh, g_tanh),
    "arctan": (mpmath.atan, np.arctan, g_atan),
    "arcsin": (mpmath.asin, np.arcsin, g_asin),
    "arccos": (mpmath.acos, np.arccos, g_asin),
    "sinh": (mpmath.sinh, np.sinh, g_sinhcosh),
    "cosh": (mpmath.cosh, np.cosh, g_sinhcosh),
    "arcsinh": (mpmath.asinh, np.arcsinh, g_asinh),
    "arccosh": (mpmath.acosh, np.arccosh, g_acosh),
    "arctanh": (m_atanh, np.arctanh, g_atanh),
}
BINARY = {
    "atan2": (mpmath.atan2, np.arctan2, g_atan2),
    "hypot": (mpmath.hypot, np.hypot, g_hypot),
    "pow": (mpmath.power, np.power, g_pow),
}


def reference(mfun, nfun, fmt, args):
    if all(math.isfinite(a) and a != 0 for a in args):
        try:
            v = mfun(*[mpf(a) for a in args])
        except (ValueError, ZeroDivisionError):
            v = None
        if isinstance(v, mpmath.mpf) and mpmath.isfinite(v):
            return fmt.round(v)
    with np.errstate(all="ignore"):
        # arrays, not scalars: NumPy's scalar path differs (pow(-inf, 0.5))
        return nfun(*[np.array([a], dtype=fmt.np_t) for a in args])[0]


def write(name, fmt, rows):
    path = os.path.join(HERE, f"{name}_{fmt.name}.txt")
    with open(path, "w") as fh:
        fh.write(f"# {name} {fmt.name}: inputs then correctly rounded output, hex bits; gen_reference.py\n")
        for r in rows:
            fh.write(" ".join(fmt.hex(v) for v in r) + "\n")


def main():
    for fmt in (F64, F32):
        for name, (mfun, nfun, gen) in UNARY.items():
            rng = random.Random(f"{name}-{fmt.name}")
            xs = [float(fmt.cast(x)) for x in gen(rng, fmt) + specials(fmt)]
            write(name, fmt, [(x, reference(mfun, nfun, fmt, (x,))) for x in xs])
        for name, (mfun, nfun, gen) in BINARY.items():
            rng = random.Random(f"{name}-{fmt.name}")
            ps = [(float(fmt.cast(a)), float(fmt.cast(b))) for a, b in gen(rng, fmt)]
            write(name, fmt, [(a, b, reference(mfun, nfun, fmt, (a, b))) for a, b in ps])


if __name__ == "__main__":
    main()
