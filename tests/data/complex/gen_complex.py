#!/usr/bin/env python3
"""Reference values for vexpr's complex128 kernels (crates/vexpr/src/kernels/complex.rs).

Generated with NumPy 2.4.6 (complex functions from glibc 2.36 libm) and mpmath 1.4.1;
the versions actually used are also recorded in reference.json.

Which value is the reference:
  * inputs with an infinite or NaN part, a zero divisor, pow with a zero base or
    exponent, and results that are infinite or NaN for finite inputs by
    definition (poles such as log(0), atanh(1)): NumPy's result, bit for bit
    (C99 Annex G special values as NumPy/glibc implement them);
  * every other (finite) input: the exact value computed by mpmath at 2400 bits,
    checked against 4800 bits (more where needed), rounded once to the nearest double (overflow to
    inf, gradual underflow to subnormals). A part that is exactly zero takes
    NumPy's sign. For an input on a branch cut (e.g. log(-2 - 0j)), the zero
    part is evaluated as +-2**-2400 with the zero's sign, so the value is the
    limit from the side the signed zero points to (the C99 convention).
  * expm1 of non-finite inputs is NumPy's: its formula
    expm1(x)*cos(y) - 2*sin(y/2)**2 + i*exp(x)*sin(y) gives NaN in places where
    exp(z) - 1 would be defined (expm1(inf+0j) is inf+nanj), but vexpr follows
    NumPy there, as the conformance suite does.
  * mul of finite inputs whose true product overflows is left out: NumPy's
    array loop fuses multiply-adds on FMA hardware and its scalar path does not,
    so the NaN/inf pattern there depends on the machine.

File format (reference.json): {"cases": {name: [case, ...]}, ...} where a case is
a list of strings: the input parts (re, im; for binary functions re_a, im_a,
re_b, im_b), then the result (re, im; abs has one value), then the source flag
"m" (mpmath) or "n" (NumPy). Floats are Python repr strings, which round-trip
exactly: "nan", "inf", "-inf", "-0.0", "5e-324".

Usage (from the repository root):
  python3 tests/data/complex/gen_complex.py            # rewrite reference.json
  python3 tests/data/complex/gen_complex.py --numexpr  # also report where numexpr
                                                       # differs from the reference
"""

import json
import math
import os
import platform
import random
import sys
import warnings
from fractions import Fraction

import mpmath
import numpy as np

mp = mpmath.mp
INF = math.inf
NAN = math.nan
PREC = 2400
CHECK_PREC = 4800  # escalated up to 8x when results sit on a rounding midpoint
PERTURB_EXP = -2400

UNARY = {
    # name: (numpy ufunc, mpmath function)
    "exp": (np.exp, mpmath.exp),
    "expm1": (np.expm1, mpmath.expm1),
    "log": (np.log, mpmath.log),
    "log1p": (np.log1p, mpmath.log1p),
    "log10": (np.log10, lambda z: mpmath.log(z) / mpmath.log(10)),
    "log2": (np.log2, lambda z: mpmath.log(z) / mpmath.log(2)),
    "sqrt": (np.sqrt, mpmath.sqrt),
    "sin": (np.sin, mpmath.sin),
    "cos": (np.cos, mpmath.cos),
    "tan": (np.tan, mpmath.tan),
    "sinh": (np.sinh, mpmath.sinh),
    "cosh": (np.cosh, mpmath.cosh),
    "tanh": (np.tanh, mpmath.tanh),
    "arcsin": (np.arcsin, mpmath.asin),
    "arccos": (np.arccos, mpmath.acos),
    "arctan": (np.arctan, mpmath.atan),
    "arcsinh": (np.arcsinh, mpmath.asinh),
    "arccosh": (np.arccosh, mpmath.acosh),
    "arctanh": (np.arctanh, mpmath.atanh),
    "abs": (np.abs, mpmath.fabs),
    "conj": (np.conj, mpmath.conj),
}
def mp_pow(a, b):
    """a**b; an integer exponent by binary powering with mpc products, whose
    parts are exact products rounded once, so that a part that is exactly zero
    (e.g. of (1e154+1e154j)**10**10) comes out as zero (mpmath's own
    mpc ** int switches to exp(n log a) for large n)."""
    if b.imag == 0 and b.real == int(b.real):
        n = int(b.real)
        acc, p, k = None, a, abs(n)
        while True:
            if k & 1:
                acc = p if acc is None else acc * p
            k >>= 1
            if not k:
                break
            p = p * p
        return 1 / acc if n < 0 else acc
    return mpmath.power(a, b)


BINARY = {
    "div": (np.divide, lambda a, b: a / b),
    "mul": (np.multiply, lambda a, b: a * b),
    "pow": (np.power, mp_pow),
}

# ---------------------------------------------------------------------------
# float <-> string, mpmath -> double


def fstr(v):
    """Exact, round-trippable text for a double ('nan', 'inf', '-0.0', repr)."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    return repr(v)


def mp_round(v):
    """Round an mpf to the nearest double once; None if it is exactly zero."""
    if v == 0:
        return None
    if not mpmath.isfinite(v):
        return float(v)
    mag = mpmath.mag(v)
    if mag > 1100:
        return INF if v > 0 else -INF
    if mag < -1200:
        return 0.0 if v > 0 else -0.0
    sign, man, exp, _ = v._mpf_
    q = Fraction(-man if sign else man) * (Fraction(2) ** exp)
    try:
        return float(q)  # correctly rounded, subnormals included
    except OverflowError:
        return INF if q > 0 else -INF


def to_mp(v, perturb):
    """An input part as an mpf; with perturb, a zero becomes a signed 2**-2400."""
    if v == 0 and perturb:
        return mpmath.ldexp(mpmath.mpf(-1 if math.copysign(1, v) < 0 else 1), PERTURB_EXP)
    return mpmath.mpf(v)


def on_cut(name, x, y):
    """Which part of x + iy to perturb: the zero that selects a side of a branch cut."""
    if name in ("log", "log10", "log2", "sqrt"):
        return (False, y == 0 and x < 0)
    if name == "pow":  # only for non-integer exponents, see mp_eval
        return (False, y == 0 and x < 0)
    if name == "log1p":
        return (False, y == 0 and x < -1)
    if name in ("arcsin", "arccos", "arctanh"):
        return (False, y == 0 and abs(x) > 1)
    if name == "arccosh":
        return (False, y == 0 and x < 1)
    if name in ("arcsinh", "arctan"):
        return (x == 0 and abs(y) > 1, False)
    return (False, False)


def same_double(a, b):
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def mp_eval(fn, args, name):
    """Evaluate at increasing precision until two precisions round alike.

    The first argument's zero part is perturbed if it puts the input on a branch
    cut of `name`. Returns the rounded (re, im).
    """

    def once(prec):
        with mpmath.workprec(prec):
            margs = []
            integer_power = name == "pow" and args[1][1] == 0 and args[1][0] == int(args[1][0])
            for i, (re, im) in enumerate(args):
                pre, pim = on_cut(name, re, im) if i == 0 and not integer_power else (False, False)
                margs.append(mpmath.mpc(to_mp(re, pre), to_mp(im, pim)))
            r = mpmath.mpc(fn(*margs))
            return (mp_round(r.real), mp_round(r.imag))

    return converged(once, args)


def converged(once, args):
    """Results at PREC, 2*PREC, ... until two in a row agree.

    Results whose true value lies a hair from a rounding midpoint (e.g. y/2 + O(y**3)
    for a subnormal y) need the extra precision. A part that is an exact zero at the
    lower precision and a tiny signed value at the higher one (a perturbation effect
    far below the double range) takes the higher precision's signed zero.
    """
    prev = once(PREC)
    prec = PREC
    while prec < 8 * CHECK_PREC:
        prec *= 2
        cur = once(prec)
        out = []
        for pa, pb in zip(prev, cur):
            if same_double(pa, pb):
                out.append(pa)
            elif pa is None and pb == 0:
                out.append(pb)
            else:
                break
        else:
            return tuple(out)
        prev = cur
    raise RuntimeError(f"mpmath not converged for {args}")


def is_pole(fn, args):
    """True if the exact (unperturbed) input is a pole or singular point."""
    with mpmath.workprec(PREC):
        try:
            r = mpmath.mpc(fn(*[mpmath.mpc(re, im) for re, im in args]))
        except (ZeroDivisionError, ValueError):
            return True
        return not (mpmath.isfinite(r.real) and mpmath.isfinite(r.imag))


# ---------------------------------------------------------------------------
# inputs

SPECIAL = [0.0, -0.0, 0.5, -0.5, 2.5, -2.5, INF, -INF, NAN]
TINY = [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200, 1e-160, 1e-100, 1e-20, 1e-10]
HUGE = [1e10, 1e20, 1e100, 1e154, 1e160, 1e200, 1e300, 1e307, 1e308, 1.7976931348623157e308]
MODERATE = [0.1, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 10.0]
EPS = 2.0**-52
PI_2 = math.pi / 2


def signed(rng, v):
    return v if rng.random() < 0.5 else -v


def random_part(rng):
    """A random double from a mix of ranges: the whole exponent range, [0, 3],
    within 1e-16..1e-1 of 1, and the overflow region of exp (100..1600)."""
    k = rng.random()
    if k < 0.35:
        v = 10 ** rng.uniform(-320, 308)
    elif k < 0.6:
        v = rng.uniform(0, 3)
    elif k < 0.8:
        v = 1 + rng.choice([-1, 1]) * 10 ** rng.uniform(-16, -1)
    else:
        v = 10 ** rng.uniform(2, 3.2)
    return signed(rng, v)


def common_inputs(rng):
    pts = [(x, y) for x in SPECIAL for y in SPECIAL]
    pool = TINY + HUGE + MODERATE + [0.0]
    for _ in range(110):
        pts.append((signed(rng, rng.choice(pool)), signed(rng, rng.choice(pool))))
    for _ in range(40):
        pts.append((signed(rng, 10 ** rng.uniform(-12, 12)), signed(rng, 10 ** rng.uniform(-12, 12))))
    for _ in range(20):
        pts.append((rng.uniform(-4, 4), rng.uniform(-4, 4)))
    for _ in range(80):
        pts.append((random_part(rng), random_part(rng)))
    for _ in range(20):
        # near the unit circle
        r = 1 + rng.choice([-1, 1]) * 10 ** rng.uniform(-16, -1)
        t = rng.uniform(-math.pi, math.pi)
        pts.append((r * math.cos(t), r * math.sin(t)))
    return pts


def with_signs(points):
    """All four sign combinations of each (x, y)."""
    out = []
    for x, y in points:
        for sx in (1, -1):
            for sy in (1, -1):
                out.append((sx * x, sy * y))
    return out


def exp_like_inputs():
    xs = [708.0, 709.5, 709.78, 710.0, 711.0, 745.0, 800.0, 1000.0, 1454.0, 1455.0, 2000.0,
          -708.0, -709.0, -740.0, -745.0, -746.0, -800.0, -1e300]
    ys = [1e-320, 1e-300, 1e-10, 0.5, PI_2, 3.0, 1e10, 1e300]
    pts = [(x, y) for x in xs for y in ys[::2]] + [(x, ys[1 + (i % 4) * 2]) for i, x in enumerate(xs)]
    pts += [(1e-10, 1e-5), (-1e-8, 1.4142135623730951e-4), (1e-300, 1e-300), (0.0, 1e-8),
            (1e-20, 1e-10), (5e-324, 5e-324), (-1e-300, PI_2), (40.0, PI_2), (-40.0, PI_2)]
    # real part of expm1 cancels near x = -log(cos y)
    for y in (1e-1, 1e-3, 1e-5, 1e-8, 0.5, 1.0, 1.5):
        pts.append((-math.log(math.cos(y)), y))
        pts.append((y * y / 2, y))
    return pts


def log_like_inputs(rng):
    pts = [(0.6, 0.8), (0.8, 0.6), (1 - 1e-10, 1e-5), (1.0, 1e-8), (0.99999999, 1e-4),
           (1 + EPS, 0.0), (1 - EPS / 2, 2.0**-26), (1.0, 5e-324), (1e-300, 1.0),
           (-1.0, 1e-300), (-1.0, 0.0), (-2.0, 0.0), (-0.5, 0.0), (-1e300, 0.0), (-1e-300, 0.0),
           (1.7976931348623157e308, 1.7976931348623157e308), (5e-324, 5e-324), (1e-310, 1e-320),
           (0.7071067811865476, 0.7071067811865475), (3e-8, 0.9999999999999996)]
    for _ in range(12):
        t = rng.uniform(0, 2 * math.pi)
        pts.append((math.cos(t), math.sin(t)))
    for _ in range(6):
        r = 1 + rng.uniform(-1e-6, 1e-6)
        t = rng.uniform(0, 2 * math.pi)
        pts.append((r * math.cos(t), r * math.sin(t)))
    return pts


def log1p_inputs(rng):
    pts = [(1e-20, 1e-20), (-5e-9, 1e-4), (-0.5, 0.8660254037844386), (-1 + 1e-10, 1e-5),
           (-1.0, 1e-300), (-1.0, 5e-324), (-2.0, 0.0), (-1e300, 0.0), (-1e-300, 1e-150),
           (0.0, 1e-160), (-1e-300, 1e-300), (1e-300, 0.0), (1e16, 1.0), (-1.5, 1e-20)]
    for _ in range(10):
        t = rng.uniform(0, 2 * math.pi)
        pts.append((math.cos(t) - 1, math.sin(t)))
    for y in (1e-2, 1e-4, 1e-8, 1e-100):
        pts.append((-y * y / 2, y))
    return pts


def sqrt_inputs():
    return [(-4.0, 0.0), (-4.0, -0.0), (-4.0, 1e-300), (-1e300, 1e-300), (1e-310, -1e-310),
            (-5e-324, 5e-324), (1.7976931348623157e308, 1.7976931348623157e308),
            (-1.7976931348623157e308, 1.7976931348623157e308), (1e308, 1e-308), (-1e-308, 1e300),
            (3e-320, 1e-320), (4.0, 1e-300), (1e-300, 1.0), (-1.0, 5e-324), (5e-324, 0.0)]


def trig_inputs():
    xs = [18.0, 20.0, 22.0, 23.0, 25.0, 40.0, 355.0, 400.0, 710.0, 711.0, 1e10, 1e300]
    ys = [PI_2, 1e-300, 1.0, 1e300, 3.0]
    pts = [(x, y) for x in xs for y in ys]
    pts += [(1e308, 1.0), (1.0, 1e308), (1e-300, 1e-300), (5e-324, 1e-310), (PI_2, 20.0),
            (3.0, 25.0), (1e22, 1e-5), (6381956970095103 * 2.0**797, 1.0)]
    return pts


def inverse_inputs(rng):
    xs = [1.0, 1 + EPS, 1 - EPS / 2, 1.5, 2.0, 1e10, 1e300, 0.5, 1e-300, 0.0]
    ys = [0.0, 5e-324, 1e-300, 1e-20, 1e-8]
    pts = [(x, y) for x in xs for y in ys]
    # both sides of the cuts and of the branch points
    pts += with_signs([(x, y) for x in (1.0, 1 + EPS, 1 - EPS / 2, 1.5, 1e300, 0.5)
                       for y in (0.0, 5e-324, 1e-20)])
    pts += [(2.0**27, 1.0), (2.0**29, 2.0**29), (1.0, 2.0**28), (2.0**56, 1e10), (3e153, 1e154),
            (1e-20, 1e-20), (2.0**-28, 2.0**-29), (1e-5, 1e-5), (0.6417, 0.1), (0.64, 1e-10),
            (1.2, 0.2), (0.9, 0.7), (1.0, 1.0), (0.5, 1.2), (1.4, 1e-3), (1.0 + 1e-10, 1e-12),
            (1.0 - 1e-10, 1e-12), (1.7976931348623157e308, 1.7976931348623157e308)]
    for _ in range(20):
        r = rng.uniform(0.3, 2.5)
        t = rng.uniform(0, PI_2)
        pts.append((r * math.cos(t), r * math.sin(t)))
    return pts


def unary_inputs(name, rng):
    pts = common_inputs(rng)
    if name in ("exp", "expm1", "sinh", "cosh"):
        pts += exp_like_inputs()
    elif name in ("sin", "cos"):
        pts += [(y, x) for x, y in exp_like_inputs()]
    elif name in ("log", "log10", "log2", "abs"):
        pts += log_like_inputs(rng)
    elif name == "log1p":
        pts += log1p_inputs(rng)
    elif name == "sqrt":
        pts += sqrt_inputs()
    elif name == "tanh":
        pts += trig_inputs()
    elif name == "tan":
        pts += [(y, x) for x, y in trig_inputs()]
    elif name in ("arcsin", "arccos", "arctanh", "arccosh"):
        pts += inverse_inputs(rng)
    elif name in ("arcsinh", "arctan"):
        pts += [(y, x) for x, y in inverse_inputs(rng)]
    # drop duplicates (same bits), keep order
    seen = set()
    out = []
    for x, y in pts:
        key = (fstr(x), fstr(y))
        if key not in seen:
            seen.add(key)
            out.append((x, y))
    return out


def binary_inputs(name, rng):
    specials = [0.0, -0.0, 1.0, -2.0, INF, -INF, NAN]
    pts = []
    # a random selection of special combinations plus every zero divisor
    for _ in range(160):
        pts.append(tuple(rng.choice(specials) for _ in range(4)))
    for br in (0.0, -0.0):
        for bi in (0.0, -0.0):
            for a in [(1.0, 1.0), (1.0, 0.0), (0.0, 0.0), (-1.0, -0.0), (NAN, 1.0), (INF, 1.0)]:
                pts.append((a[0], a[1], br, bi))
    pool = TINY + HUGE + MODERATE
    for _ in range(150):
        pts.append(tuple(signed(rng, rng.choice(pool)) for _ in range(4)))
    for _ in range(60):
        pts.append(tuple(signed(rng, 10 ** rng.uniform(-10, 10)) for _ in range(4)))
    for _ in range(80):
        pts.append(tuple(random_part(rng) for _ in range(4)))
    if name == "div":
        # hard cases from Baudin & Smith (2012), "A Robust Complex Division in Scilab"
        p = 2.0
        pts += [(1.0, 1.0, 1.0, p**1023), (1.0, 1.0, p**-1023, p**-1023),
                (p**1023, p**-1023, p**677, p**-677), (p**1023, p**1023, 1.0, 1.0),
                (p**1020, p**-844, p**656, p**-780), (p**-71, p**1021, p**1001, p**-323),
                (p**-347, p**-54, p**-1037, p**-1058), (p**-1074, p**-1074, p**-1073, p**-1074),
                (p**1015, p**-989, p**1023, p**1023), (p**-622, p**-1071, p**-343, p**-1065),
                (1e300, 1e300, 1e-300, 1e-300), (1.0, 1.0, 1e-300, 1e-300), (1.0, 2.0, 3.0, 4.0)]
    if name == "mul":
        pts += [(1e154, 1e154, 1e154, -1e154), (1e-160, 1e-160, 1e-160, 1e-160),
                (1.0, 1e-16, 1.0, -1e-16), (3.0, 4.0, 3.0, -4.0)]
    if name == "pow":
        pts = [p for p in pts if not (math.isfinite(p[0]) and math.isfinite(p[1])
                                      and math.isfinite(p[2]) and math.isfinite(p[3]))
               or rng.random() < 0.3]
        bases = [(2.5, 0.5), (-4.0, 0.0), (-4.0, -0.0), (0.0, 3.0), (1e-300, 1e-300), (1e154, 1e154),
                 (1e200, 1e200), (1.0 + 1e-10, 1e-10), (0.6, 0.8), (-1.0, 0.0), (1e-100, -1e100),
                 (3.0, -7.0), (INF, 1.0), (1.0, INF), (NAN, 0.0), (0.0, 0.0), (-0.0, 0.0), (0.0, -0.0),
                 (1.0, NAN), (-INF, 0.0), (5e-324, 0.0)]
        exps = [(1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (4.0, 0.0), (5.0, 0.0), (7.0, 0.0), (-1.0, 0.0),
                (-2.0, 0.0), (-3.0, 0.0), (-5.0, 0.0), (10.0, 0.0), (-10.0, 0.0), (50.0, 0.0),
                (99.0, 0.0), (-99.0, 0.0), (100.0, 0.0), (-100.0, 0.0), (2.0**53, 0.0), (0.5, 0.0),
                (-0.5, 0.0), (1.5, 0.0), (1 / 3, 0.0), (2.5, 0.0), (1e-10, 0.0), (150.5, 0.0),
                (0.0, 1.0), (1.0, 1.0), (-1.0, 0.5), (0.0, 0.0), (-0.0, -0.0), (0.0, -0.0),
                (NAN, 0.0), (INF, 0.0), (2.0, -0.0), (-2.0, -0.0), (1e10, 0.0), (0.0, 2.0)]
        pts += [b + e for b in bases for e in exps]
    seen = set()
    out = []
    for p in pts:
        key = tuple(fstr(v) for v in p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


# ---------------------------------------------------------------------------
# reference


def numpy_unary(f, pts):
    z = np.array([complex(x, y) for x, y in pts], dtype=np.complex128)
    return f(z)


def numpy_binary(f, pts):
    a = np.array([complex(p[0], p[1]) for p in pts], dtype=np.complex128)
    b = np.array([complex(p[2], p[3]) for p in pts], dtype=np.complex128)
    return f(a, b)


NUMPY_NONZERO = []  # exact zeros where NumPy's part is not a zero (reported)


def pick(mp_val, np_val, alt=None, what=""):
    """Component of the reference: mpmath's rounding, or NumPy's sign for exact zeros.

    If NumPy's part is not a zero either, the zero takes the sign of `alt`
    (for expm1: the part of NumPy's exp(z) - 1), else +0 with a warning.
    """
    if mp_val is not None:
        return mp_val
    if np_val == 0:
        return float(np_val)
    if alt is not None and alt == 0:
        return float(alt)
    NUMPY_NONZERO.append(f"{what}: exact zero, NumPy gives {np_val}")
    return 0.0


def ulp_err(got, want):
    if math.isnan(want) or math.isinf(want) or want == 0:
        return 0.0 if same_double(got, want) else math.inf
    if not math.isfinite(got):
        return math.inf
    return abs(got - want) / math.ulp(max(abs(want), 2.2250738585072014e-308))


def reference(name, rng, stats):
    cases = []
    if name in UNARY:
        npf, mpf = UNARY[name]
        pts = unary_inputs(name, rng)
        nres = numpy_unary(npf, pts)
        if name == "expm1":
            eres = numpy_unary(np.exp, pts)
        for (x, y), nr in zip(pts, nres):
            nr = complex(nr)
            finite_in = math.isfinite(x) and math.isfinite(y)
            if not finite_in or is_pole(mpf, [(x, y)]):
                ref, src = (nr.real, nr.imag), "n"
            else:
                m = mp_eval(mpf, [(x, y)], name)
                alt = (None, None)
                if name == "expm1":
                    e = complex(eres[len(cases)])
                    alt = (e.real - 1.0, e.imag)
                what = f"{name}({x!r}, {y!r})"
                ref = (pick(m[0], nr.real, alt[0], what), pick(m[1], nr.imag, alt[1], what))
                src = "m"
                stats_add(stats, name, (nr.real, nr.imag), ref, (x, y))
            if name == "abs":
                cases.append([fstr(x), fstr(y), fstr(ref[0]), src])
            else:
                cases.append([fstr(x), fstr(y), fstr(ref[0]), fstr(ref[1]), src])
    else:
        npf, mpf = BINARY[name]
        pts = binary_inputs(name, rng)
        nres = numpy_binary(npf, pts)
        for p, nr in zip(pts, nres):
            nr = complex(nr)
            a, b = (p[0], p[1]), (p[2], p[3])
            finite_in = all(math.isfinite(v) for v in p)
            special = not finite_in
            if name == "div" and b == (0.0, 0.0):
                special = True
            if name == "pow" and (b == (0.0, 0.0) or a == (0.0, 0.0)):
                special = True
            if special:
                ref, src = (nr.real, nr.imag), "n"
            else:
                m = mp_eval(mpf, [a, b], name)
                if name == "mul" and not all(v is None or math.isfinite(v) for v in m):
                    continue  # machine-dependent in NumPy, see module doc
                what = f"{name}{p!r}"
                ref = (pick(m[0], nr.real, None, what), pick(m[1], nr.imag, None, what))
                src = "m"
                stats_add(stats, name, (nr.real, nr.imag), ref, p)
            cases.append([fstr(v) for v in p] + [fstr(ref[0]), fstr(ref[1]), src])
    return cases


def stats_add(stats, name, got, want, inp):
    """Track how far NumPy itself is from the mpmath reference (componentwise ulps)."""
    s = stats.setdefault(name, {"n": 0, "bad": 0, "max": 0.0, "worst": None})
    s["n"] += 1
    e = max(ulp_err(got[0], want[0]), ulp_err(got[1], want[1]))
    if e > 4:
        s["bad"] += 1
    if e > s["max"]:
        s["max"] = e
        s["worst"] = (inp, got, want)


# ---------------------------------------------------------------------------
# numexpr comparison (report only)


def numexpr_report(data):
    import numexpr as ne

    print(f"\nnumexpr {ne.__version__} vs reference (special = NaN/inf/zero-sign pattern differs, "
          f"inexact = finite part off by > 4 ulps of max(|re|,|im|)):")
    exprs = {n: f"{n}(z)" for n in UNARY}
    exprs.update({"div": "a / b", "mul": "a * b", "pow": "a ** b", "abs": "abs(z)"})
    for name, cases in data.items():
        if name in UNARY:
            z = np.array([complex(float(c[0]), float(c[1])) for c in cases])
            r = ne.evaluate(exprs[name], local_dict={"z": z})
            args = [(c[0], c[1]) for c in cases]
            refs = [(float(c[2]), 0.0 if name == "abs" else float(c[3])) for c in cases]
        else:
            a = np.array([complex(float(c[0]), float(c[1])) for c in cases])
            b = np.array([complex(float(c[2]), float(c[3])) for c in cases])
            r = ne.evaluate(exprs[name], local_dict={"a": a, "b": b})
            args = [tuple(c[:4]) for c in cases]
            refs = [(float(c[4]), float(c[5])) for c in cases]
        special, inexact, maxerr = [], [], 0.0
        for arg, got, want in zip(args, r, refs):
            got = (complex(got).real, 0.0 if name == "abs" else complex(got).imag)
            pattern_ok = True
            for g, w in zip(got, want):
                if not math.isfinite(w) or w == 0 or not math.isfinite(g):
                    if w == 0 and g != 0 and math.isfinite(g):
                        continue  # a cancelling part; judged normwise below
                    if not same_double(g, w):
                        pattern_ok = False
            if not pattern_ok:
                special.append((arg, got, want))
                continue
            scale = max(abs(want[0]), abs(want[1]))
            if math.isfinite(scale) and scale > 0:
                u = math.ulp(max(scale, 2.2250738585072014e-308))
                e = max(abs(got[0] - want[0]) if math.isfinite(want[0]) else 0.0,
                        abs(got[1] - want[1]) if math.isfinite(want[1]) else 0.0) / u
                maxerr = max(maxerr, e)
                if e > 4:
                    inexact.append((arg, got, want, e))
        print(f"  {name:8s} {len(cases):4d} cases: {len(special):3d} special, {len(inexact):3d} inexact, "
              f"max normwise error {maxerr:.3g} ulps")
        for arg, got, want in special[:3]:
            print(f"      special: {arg} -> {got}, want {want}")
        for arg, got, want, e in sorted(inexact, key=lambda t: -t[3])[:2]:
            print(f"      inexact: {arg} -> {got}, want {want} ({e:.3g} ulps)")


def main():
    warnings.simplefilter("ignore")
    here = os.path.dirname(os.path.abspath(__file__))
    data = {}
    stats = {}
    for i, name in enumerate(list(UNARY) + list(BINARY)):
        rng = random.Random(20240 + i)
        data[name] = reference(name, rng, stats)
        print(f"{name:8s} {len(data[name]):4d} cases", file=sys.stderr)
    doc = {
        "generator": "tests/data/complex/gen_complex.py",
        "numpy": np.__version__,
        "mpmath": mpmath.__version__,
        "libc": " ".join(platform.libc_ver()),
        "format": "case = input parts (re, im[, re_b, im_b]), result parts (re, im; abs: one), "
                  "source ('m' mpmath, 'n' NumPy); floats as Python repr strings",
        "cases": data,
    }
    path = os.path.join(here, "reference.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)
    print("\nNumPy vs mpmath on finite inputs (componentwise ulps; 'bad' = more than 4):")
    for name, s in stats.items():
        line = f"  {name:8s} {s['n']:4d} finite cases, {s['bad']:3d} bad, max {s['max']:.3g}"
        if s["max"] > 4:
            line += f"  worst: {s['worst']}"
        print(line)
    if NUMPY_NONZERO:
        print(f"\n{len(NUMPY_NONZERO)} parts are exactly zero where NumPy's is not (reference: +0), e.g.:")
        for line in NUMPY_NONZERO[:: max(1, len(NUMPY_NONZERO) // 6)]:
            print(f"  {line}")
    if "--numexpr" in sys.argv:
        numexpr_report(data)


if __name__ == "__main__":
    main()
