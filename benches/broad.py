#!/usr/bin/env python3
"""The broad benchmark (issue #15, "Fast on every expression"): vexpr against
numexpr 2.14, NumPy and a Numba loop on every function, operator and dtype.

Usage (from anywhere in the repository)::

    python3 benches/broad.py                   # full run: every case, N = 10k, 1M, 10M, 1 and 2 threads
    python3 benches/broad.py --quick           # N = 1M, 1 thread, shorter measurements
    python3 benches/broad.py --cases f4:,pow   # the cases whose id contains "f4:" or "pow"
    python3 benches/broad.py --list            # the cases, measuring nothing

The cases are the table ``CASES`` below: every float64 and float32 function
and operator of vexpr's function table (``docs/functions.md``), alone and in
small combinations; powers with integer, half-integer and arbitrary
exponents; 1 to 8, 12 and 16 inputs; comparisons and boolean logic; int32 and int64
arithmetic; mixed float32/float64; ``where`` chains.

What it does:

1. Creates ``.venv`` at the repository root if it is missing and installs
   numexpr 2.14, NumPy and Numba into it (``compare.ensure_venv``), re-runs
   itself with that interpreter and installs the Python package from this
   tree into it (``pip install ./python``, which builds the extension with
   maturin), so that the run measures the code checked out.  ``--no-build``
   keeps the vexpr already installed in ``.venv``; ``--no-venv`` runs with the
   interpreter that started the script, as its packages are.
2. For each case and length N, draws the inputs from a seeded RNG in a domain
   where the case's functions are defined (``arccosh`` ≥ 1, ``log`` > 0,
   ``arcsin`` in [-1, 1], integer inputs never 0), computes the result with
   every engine and checks it against NumPy's (``np.allclose`` with
   tolerances for the lowest float precision involved, ``RTOL``/``ATOL``;
   integers and booleans exactly).  A disagreement is reported in the output
   and kept in the results file; an engine that cannot compile the case
   (numexpr lacks a function at a dtype, Numba a ufunc) is n/a in that case.
3. Times, case by case and thread count by thread count, the engines side
   by side (``compare.time_interleaved``: four rounds, each giving every
   engine a turn of its samples, 15 ms idle before each turn):
   ``vexpr.evaluate(text, local_dict=..., out=...)`` and
   ``numexpr.evaluate(text, local_dict=..., out=...)`` with each one's
   ``set_num_threads(T)``; NumPy as users write it (``eval`` of the text with
   NumPy's functions of the same names, allocating its result;
   single-threaded); a Numba ``@njit(parallel=True)``
   ``prange`` loop of the case's scalar body, ``numba.set_num_threads(T)``,
   compiled before timing.  Now and then, ``np.copyto`` of one float64
   array of N, the memory bandwidth (``compare.time_calls``).  Every number
   is the median of the samples in ns per element.  After the cells of an
   N, each cell that missed the bar is measured again, the four engines and
   the copy side by side (``--no-recheck`` skips this): the verdict stays
   the first one, and the summary lists the cells that missed twice with
   their cause.
4. Prints a Markdown table and a summary, writes every raw number to
   ``benches/results/broad-<date>[-quick][-k].json`` and, after a full run
   (all cases, default lengths and threads, no ``--quick``), the table and
   the command to the ``broad`` section of ``docs/performance.md``.

The bar, per cell (case, N, threads): vexpr is faster than the fastest of
numexpr, NumPy and Numba, or within 15% of the memory floor measured in the
same run.  The floor is the bytes the expression moves per element (each
input's item size plus the result's: float32, int32 and bool move fewer than
float64) over the bandwidth of the copy (``compare.memory_floor``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import re
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from compare import (  # benches/compare.py: the helpers the benchmark scripts share
    FLOOR_SLACK,
    FULL_LENGTHS,
    OPENBLAS_OVERRIDES,
    QUICK_LENGTHS,
    REPO,
    THREAD_COUNTS,
    describe_machine,
    ensure_venv,
    fmt,
    memory_floor,
    n_label,
    numbered_results_path,
    time_calls,
    time_interleaved,
    write_marked_section,
)

DOCS = REPO / "docs" / "performance.md"
BEGIN, END = "<!-- broad:begin -->", "<!-- broad:end -->"
NEW_FILE_HEADING = "# Performance\n\n## Broad benchmark"
SEED = 20240601  # compare.py's seed; each input array adds a hash of its name, dtype and domain

DEFAULT_SECONDS, QUICK_SECONDS = 0.25, 0.1  # per engine and cell (time_interleaved), and per copy
WORST_LISTED = 15  # cells named in the summary

# The measured causes of cells that miss the bar twice (``recheck_misses``),
# by case id; each is written out in docs/performance.md.
CAUSES = {
    "f4:poly12": "float32 powers widened for a float64 sum: Numba's loop is the same instructions "
                 "(\"f4:poly12\" in the text)",
}

# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------
#
# A case is an expression as vexpr and numexpr read it, the dtype of its
# inputs, the same computation for NumPy and for a Numba loop, and the domain
# its inputs are drawn from.
#
# * Inputs: a to h take the case's dtype ("f8", "f4", "i4", "i8": one for all,
#   or per input as "a=f4 b=f8"); p and q are always boolean.
# * NumPy: None means the text itself, eval-ed with NumPy's functions of the
#   same names in scope (python_bench.numpy_function); otherwise NumPy text
#   eval-ed the same way.
# * Numba: the loop's body for one element, with each input bound to its
#   element (``a = a_in[i]``); ``np`` and ``math`` are in scope.  None means
#   the text with each function call f(...) written np.f(...).
# * Domain: (low, high) for every input, or per input {"b": (low, high)};
#   floats are uniform in [low, high), integers uniform in [low, high) with 0
#   replaced by 1 (they divide).  A third element, a fraction, replaces that
#   share of the values by NaN, +inf and -inf (for isnan and kin).  The
#   default is compare.py's [0.1, 1.1) for floats and [-1000, 1000) for
#   integers.


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    dtypes: str
    numpy: str | None = None
    numba: str | None = None
    domain: tuple | dict | None = None
    inputs: tuple = field(init=False)

    def __post_init__(self):
        # Inputs in order of first appearance: a..h, j..o, r, s and the
        # booleans p, q (not i, the Numba loop's index).
        names = dict.fromkeys(re.findall(r"\b([a-hj-s])\b(?!\s*\()", self.text))
        object.__setattr__(self, "inputs", tuple(names))


FLOATS = ("f8", "f4")

# Functions of one argument: name, domain, Numba body when np.<name>(a) is not it.
UNARY = [
    ("sqrt", (0.1, 10)), ("sin", (-10, 10)), ("cos", (-10, 10)), ("tan", (-1.4, 1.4)),
    ("arcsin", (-0.99, 0.99)), ("arccos", (-0.99, 0.99)), ("arctan", (-10, 10)),
    ("sinh", (-5, 5)), ("cosh", (-5, 5)), ("tanh", (-5, 5)),
    ("arcsinh", (-10, 10)), ("arccosh", (1, 10)), ("arctanh", (-0.99, 0.99)),
    ("log", (0.1, 10)), ("log1p", (-0.9, 10)), ("log10", (0.1, 10)), ("log2", (0.1, 10)),
    ("exp", (-10, 10)), ("expm1", (-2, 2)),
    ("ceil", (-10, 10)), ("floor", (-10, 10)), ("trunc", (-10, 10)),
    ("abs", (-1, 1)), ("round", (-10, 10), "np.rint(a)"), ("sign", (-1, 1)), ("conj", (-1, 1)),
    ("isnan", (-1, 1, 0.1)), ("isfinite", (-1, 1, 0.1)), ("isinf", (-1, 1, 0.1)), ("signbit", (-1, 1)),
    ("ones_like", (0.1, 1.1), "1.0"),
]

# Functions of two arguments: name, domain.
BINARY = [
    ("arctan2", (-1, 1)), ("fmod", {"a": (-10, 10), "b": (0.5, 3)}), ("hypot", (-10, 10)),
    ("nextafter", (-1, 1)), ("copysign", (-1, 1)), ("maximum", (-1, 1)), ("minimum", (-1, 1)),
]

# Operators, and the forms vexpr's optimizer fuses into one instruction
# (mul_add, abs_sub, powi, where_lt... in the function table): name, text,
# NumPy text, Numba body, domain.
DIVISION = {"a": (-10, 10), "b": (0.5, 3)}
OPERATORS = [
    ("copy", "a", "a.copy()", "a", None),
    ("add", "a + b", None, None, None),
    ("sub", "a - b", None, None, None),
    ("mul", "a * b", None, None, None),
    ("div", "a / b", None, None, None),
    ("floordiv", "a // b", None, None, DIVISION),
    ("mod", "a % b", None, None, DIVISION),
    ("pow", "a ** b", None, None, {"a": (0.1, 2), "b": (-2, 2)}),
    ("neg", "-a", None, None, None),
    ("lt", "a < b", None, None, None),
    ("le", "a <= b", None, None, None),
    ("gt", "a > b", None, None, None),
    ("ge", "a >= b", None, None, None),
    # Inputs on a grid of 8 values, so that equality holds often.
    ("eq", "a == b", None, None, (0, 8)),
    ("ne", "a != b", None, None, (0, 8)),
    ("where", "where(p, a, b)", None, "a if p else b", None),
    ("mul_add", "a*b + c", None, None, None),
    ("mul_sub", "a*b - c", None, None, None),
    ("sub_mul", "c - a*b", None, None, None),
    ("mul_add_mul", "a*b + c*d", None, None, None),
    ("mul_sub_mul", "a*b - c*d", None, None, None),
    ("abs_add", "abs(a + b)", None, None, (-1, 1)),
    ("abs_sub", "abs(a - b)", None, None, (-1, 1)),
    ("abs_mul", "abs(a * b)", None, None, (-1, 1)),
    ("add_abs", "abs(a) + abs(b)", None, None, (-1, 1)),
    ("neg_mul", "-a * b", None, None, None),
    ("where_lt", "where(a < b, c, d)", None, "c if a < b else d", None),
    ("where_le", "where(a <= b, c, d)", None, "c if a <= b else d", None),
    ("where_gt", "where(a > b, c, d)", None, "c if a > b else d", None),
    ("where_ge", "where(a >= b, c, d)", None, "c if a >= b else d", None),
    ("where_eq", "where(a == b, c, d)", None, "c if a == b else d", {"a": (0, 8), "b": (0, 8)}),
    ("where_ne", "where(a != b, c, d)", None, "c if a != b else d", {"a": (0, 8), "b": (0, 8)}),
]

# Small combinations of functions (E3..E8 of compare.py among them): name,
# text, Numba body.
COMBINATIONS = [
    ("E3", "2*a**3 - 4*a**5 + 6*log(a)", "2*a**3 - 4*a**5 + 6*np.log(a)"),
    ("E4", "abs(a - b) / (abs(a) + abs(b))", None),
    ("E5", "sin(a)**2 + cos(b)**2", None),
    ("E7", "exp(-a*a) * sqrt(b)", None),
    ("E8", "arctan2(a, b) + tanh(a*b)", None),
    ("norm", "sqrt(a*a + b*b)", None),
    ("sigmoid", "1 / (1 + exp(-a))", None),
    ("log_exp", "log(a) * b + exp(-b)", None),
    ("where_trig", "where(a > 0.5, sin(a), cos(b))", "np.sin(a) if a > 0.5 else np.cos(b)"),
    # More values than AVX2's registers hold beside the kernels' scratch:
    # literal coefficients, and a sum of many terms of three inputs.
    ("poly12", "0.5 + 1.5*a - 2.5*a**2 + 3.5*a**3 - 4.5*a**4 + 5.5*a**5 - 6.5*a**6 + 7.5*a**7"
     " - 8.5*a**8 + 9.5*a**9 - 10.5*a**10 + 11.5*a**11 - 12.5*a**12", None),
    ("terms15", "0.5*a + 1.5*b + 2.5*c + 3.5*a*b + 4.5*b*c + 5.5*a*c + 6.5*a*a + 7.5*b*b"
     " + 8.5*c*c + 9.5*a*b*c + 10.5*sin(a) + 11.5*cos(b) + 12.5*exp(-c*c)"
     " + 13.5*log(1.25 + a*a) + 14.5", None),
]

# Powers: integer, negative, half-integer and arbitrary exponents.
POWERS = [
    ("pow2", "a**2"), ("pow3", "a**3"), ("pow5", "a**5"), ("pow-1", "a**-1"),
    ("pow0.5", "a**0.5"), ("pow-0.5", "a**-0.5"), ("pow1.5", "a**1.5"),
    ("pow2.5+pow0.3", "a**2.5 + b**0.3"), ("pow_ab", "a**b"),
]
POWER_DOMAIN = {"a": (0.1, 2), "b": (-2, 2)}

# 1 to 8 inputs, 12 and 16.
INPUT_COUNTS = [
    ("in1", "2*a + 1"), ("in2", "a*b + a"), ("in3", "a*b + c"), ("in4", "a*b + c*d"),
    ("in5", "a*b + c*d - e"), ("in6", "a*b + c*d - e*f"), ("in7", "a*b + c*d - e*f + g"),
    ("in8", "a*b + c*d - e*f + g*h"),
    # Past the 8 general registers the machine code keeps pointers in.
    ("in12", "a*b + c*d - e*f + g*h + j*k - l*m"),
    ("in16", "a*b + c*d - e*f + g*h + j*k - l*m + n*o - r*s"),
]

WHERE_CHAINS = [
    ("where_chain", "where(a > b, a*b, where(a < 0.2, a - b, a + b))",
     "a*b if a > b else (a - b if a < 0.2 else a + b)"),
    ("where_chain4", "where(a < 0.35, a, where(a < 0.6, b, where(a < 0.85, c, d)))",
     "a if a < 0.35 else (b if a < 0.6 else (c if a < 0.85 else d))"),
]

# Boolean results and logic; p and q are boolean inputs.
BOOLEAN = [
    ("bool:cmp_const", "a < 0.5", "f8", None, None),
    ("bool:range", "(a > 0.2) & (a < 0.8)", "f8", None, "a > 0.2 and a < 0.8"),
    ("bool:logic", "(a < 0.5) & (b > 0.3) | ~(a > b)", "f8", None, "(a < 0.5 and b > 0.3) or not (a > b)"),
    ("bool:logic.f4", "(a < 0.5) & (b > 0.3) | ~(a > b)", "f4", None, "(a < 0.5 and b > 0.3) or not (a > b)"),
    ("bool:and", "p & q", "f8", None, "p and q"),
    ("bool:or", "p | q", "f8", None, "p or q"),
    ("bool:xor", "p ^ q", "f8", None, "p != q"),
    ("bool:not", "~p", "f8", None, "not p"),
    ("bool:mixed", "(a > b) & p | ~q", "f8", None, "(a > b and p) or not q"),
]

# Integer arithmetic, at int32 and int64: name, text, Numba body, domain.
INTEGER = [
    ("mul_add", "a*b + c", None, None),
    ("floordiv", "a // b", None, {"a": (-1000, 1000), "b": (-50, 50)}),
    ("mod", "a % b", None, {"a": (-1000, 1000), "b": (-50, 50)}),
    ("div", "a / b", None, None),
    ("pow2", "a**2", None, None),
    ("lshift", "a << b", None, {"a": (-1000, 1000), "b": (0, 8)}),
    ("rshift", "a >> b", None, {"a": (-1000, 1000), "b": (0, 8)}),
    ("and", "a & b", None, None),
    ("or", "a | b", None, None),
    ("xor", "a ^ b", None, None),
    ("invert", "~a", None, None),
    ("neg", "-a", None, None),
    ("abs", "abs(a)", None, None),
    ("lt", "a < b", None, None),
    ("where", "where(a > b, a, b)", "a if a > b else b", None),
]

# Mixed float32 / float64 (and one int32 / float64).
MIXED = [
    ("mix:add", "a + b", "a=f4 b=f8", None, None),
    ("mix:mul_add", "a*b + c", "a=f4 b=f8 c=f4", None, None),
    ("mix:sin", "sin(a) + b", "a=f4 b=f8", None, None),
    ("mix:where", "where(a > b, a, b)", "a=f4 b=f8", "a if a > b else b", None),
    ("mix:const", "2.5*a + b", "f4", None, None),
    # float32 products and a float32 comparison beside float64 literals.
    ("mix:f4_where", "where(a*b > 0.5, 1.5*a**3, b - 2.5*a)", "f4",
     "1.5*a**3 if a*b > 0.5 else b - 2.5*a", None),
    ("mix:int_float", "a * b", "a=i4 b=f8", None, {"a": (-1000, 1000), "b": (0.1, 1.1)}),
]


def table_functions() -> set[str]:
    """The float functions of vexpr's function table, read from the reference
    generated from it (``docs/functions.md``): every row with a float64
    overload (``..._dd``, ``..._ddd``), less the operators and the fused forms
    the optimizer makes (the OPERATORS and COMBINATIONS cases reach those)."""
    names = set()
    for line in (REPO / "docs" / "functions.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`"):
            continue
        name, operator, _arity, description, overloads = cells
        if operator or "fused by the optimizer" in description:
            continue
        if any(o.endswith(("_dd", "_ddd", "_bd", "_cd")) for o in overloads.split()):
            names.add(name.strip("`"))
    return names


def build_cases() -> list[Case]:
    """The case table, expanded: every float case at float64 and float32.
    Fails if the function table has a float function no case times."""
    covered = {name for name, *_ in UNARY} | {name for name, _ in BINARY} | {name for name, *_ in OPERATORS}
    missing = table_functions() - covered
    if missing:
        sys.exit(f"benches/broad.py: no case for {', '.join(sorted(missing))} of docs/functions.md: add them to UNARY or BINARY")
    cases = []
    for dt in FLOATS:
        for name, domain, *body in UNARY:
            cases.append(Case(f"{dt}:{name}", f"{name}(a)", dt, numba=body[0] if body else None, domain=domain))
        for name, domain in BINARY:
            cases.append(Case(f"{dt}:{name}", f"{name}(a, b)", dt, domain=domain))
        for name, text, numpy, numba, domain in OPERATORS:
            cases.append(Case(f"{dt}:{name}", text, dt, numpy, numba, domain))
        for name, text, numba in COMBINATIONS:
            cases.append(Case(f"{dt}:{name}", text, dt, numba=numba))
        for name, text in POWERS:
            cases.append(Case(f"{dt}:{name}", text, dt, domain=POWER_DOMAIN))
        for name, text, numba in WHERE_CHAINS:
            cases.append(Case(f"{dt}:{name}", text, dt, numba=numba))
    cases += [Case(f"f8:{name}", text, "f8") for name, text in INPUT_COUNTS]
    cases.append(Case("f4:in8", INPUT_COUNTS[-1][1], "f4"))
    cases += [Case(cid, text, dt, numpy, numba) for cid, text, dt, numpy, numba in BOOLEAN]
    for dt in ("i4", "i8"):
        cases += [Case(f"{dt}:{name}", text, dt, numba=numba, domain=domain) for name, text, numba, domain in INTEGER]
    cases += [Case(cid, text, dt, numba=numba, domain=domain) for cid, text, dt, numba, domain in MIXED]
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    return cases


CASES = build_cases()

# Agreement with NumPy: np.allclose(result, numpy_result, rtol, atol) by the
# lowest float precision among the inputs and the results (a float32 result
# may be computed in float64 by one engine and in float32 by another);
# integers and booleans exactly.
RTOL = {"f8": 1e-9, "f4": 1e-5}
ATOL = {"f8": 1e-12, "f4": 1e-6}

# ---------------------------------------------------------------------------
# Inputs and engines
# ---------------------------------------------------------------------------

ENGINES = ("vexpr", "numexpr", "numpy", "numba")
LABELS = {"vexpr": "vexpr", "numexpr": "numexpr", "numpy": "NumPy", "numba": "Numba"}


def set_thread_environment(max_threads: int) -> dict:
    """Before NumPy, numexpr and Numba load: no BLAS pool competing with the
    measured threads, numexpr's and Numba's pools no larger than the most
    threads measured, none of the OpenBLAS overrides that slow a current
    NumPy (as python_bench.py and compare.py's worker_env do).  Returns what
    was set and removed."""
    wanted = {
        "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMEXPR_MAX_THREADS": str(max_threads), "NUMBA_NUM_THREADS": str(max_threads),
    }
    os.environ.update(wanted)
    removed = {name: os.environ.pop(name) for name in OPENBLAS_OVERRIDES if name in os.environ}
    return {"set": wanted, "removed": removed}


def dtype_of(case: Case, name: str) -> str:
    """The dtype code of one input ("b1" for p and q)."""
    if name in "pq":
        return "b1"
    if "=" not in case.dtypes:
        return case.dtypes
    return dict(part.split("=") for part in case.dtypes.split())[name]


def domain_of(case: Case, name: str, dtype: str) -> tuple:
    domain = case.domain
    if isinstance(domain, dict):
        domain = domain.get(name)
    if domain is None:
        domain = (-1000, 1000) if dtype[0] == "i" else (0.1, 1.1)
    return tuple(domain)


class Inputs:
    """The input arrays of one length N, drawn once and shared by the cases
    that use the same name, dtype and domain (the 8 inputs of in8 at 10M are
    640 MB: only one N is kept at a time)."""

    def __init__(self, np):
        self.np = np
        self.n = None
        self.arrays: dict = {}

    def get(self, case: Case, n: int) -> dict:
        if n != self.n:
            self.arrays.clear()
            self.n = n
        out = {}
        for name in case.inputs:
            dtype = dtype_of(case, name)
            domain = domain_of(case, name, dtype) if dtype != "b1" else ()
            key = (name, dtype, domain)
            if key not in self.arrays:
                self.arrays[key] = self.draw(name, dtype, domain, n)
            out[name] = self.arrays[key]
        return out

    def draw(self, name: str, dtype: str, domain: tuple, n: int):
        np = self.np
        rng = np.random.default_rng([SEED, zlib.crc32(repr((name, dtype, domain)).encode())])
        if dtype == "b1":
            return rng.random(n) < 0.5
        low, high = domain[:2]
        if dtype[0] == "i":
            x = rng.integers(low, high, n).astype(dtype)
            x[x == 0] = 1
            return x
        x = rng.uniform(low, high, n)
        if (low, high) == (0, 8):  # the grid of eq/ne
            x = np.floor(x)
        if len(domain) > 2:
            special = rng.random(n) < domain[2]
            x[special] = rng.choice([np.nan, np.inf, -np.inf], special.sum())
        return x.astype(dtype)


def numba_body(case: Case) -> str:
    """The Numba loop body: the table's, or the text with np. before each call."""
    if case.numba is not None:
        return case.numba
    return re.sub(r"\b([a-z_][a-z0-9_]*)\s*\(", lambda m: f"np.{m.group(1)}(", case.text)


def numba_kernel(numba, np, case: Case):
    """The case's ``@njit(parallel=True)`` prange loop writing into ``out``."""
    params = ", ".join(f"{name}_in" for name in case.inputs)
    bind = "".join(f"        {name} = {name}_in[i]\n" for name in case.inputs)
    source = (
        f"def kernel(out, {params}):\n"
        "    for i in numba.prange(out.shape[0]):\n"
        f"{bind}"
        f"        out[i] = {numba_body(case)}\n"
    )
    scope = {"numba": numba, "np": np, "math": math}
    exec(compile(source, f"<numba {case.id}>", "exec"), scope)
    return numba.njit(parallel=True)(scope["kernel"])


class Engines:
    """The four engines' calls for one case and N, and their results."""

    def __init__(self, modules: dict, case: Case, inputs: dict, kernel, kernel_error, numpy_function):
        self.m, self.case, self.inputs = modules, case, inputs
        self.kernel, self.kernel_error = kernel, kernel_error
        try:
            self.numpy_call = numpy_function(case.numpy or case.text, inputs)
        except Exception as exc:  # noqa: BLE001 - e.g. a function NumPy does not have
            def fails(exc=exc):
                raise exc
            self.numpy_call = fails  # first_results reports it
        self.outs: dict = {}

    def first_results(self) -> dict:
        """Each engine's result (or the exception it raised), allocating; the
        outputs of the timed calls are made from them."""
        np, case = self.m["np"], self.case
        results = {}
        for engine in ("numpy", "vexpr", "numexpr"):
            try:
                if engine == "numpy":
                    results[engine] = np.asarray(self.numpy_call())
                else:
                    results[engine] = self.m[engine].evaluate(case.text, local_dict=self.inputs)
            except Exception as exc:  # noqa: BLE001 - an engine that cannot run the case is n/a
                results[engine] = exc
        # Numba writes into an array of vexpr's result type (NumPy's if vexpr failed).
        like = results["vexpr"] if not isinstance(results["vexpr"], Exception) else results["numpy"]
        if self.kernel is None or isinstance(like, Exception):
            results["numba"] = self.kernel_error or RuntimeError("no result type to write into")
        else:
            try:
                out = np.empty_like(like)
                self.kernel(out, *self.inputs.values())
                results["numba"] = out
            except Exception as exc:  # noqa: BLE001
                results["numba"] = exc
        for engine, result in results.items():
            if not isinstance(result, Exception):
                self.outs[engine] = np.empty_like(result)
        return results

    def call(self, engine: str):
        """The timed call of one engine (``None`` if it cannot run the case)."""
        text, inputs = self.case.text, self.inputs
        if engine not in self.outs:
            return None
        if engine == "numpy":
            return self.numpy_call  # allocating its result, as users write it
        out = self.outs[engine]
        if engine == "numba":
            kernel, args = self.kernel, tuple(inputs.values())
            return lambda: kernel(out, *args)
        evaluate = self.m[engine].evaluate
        return lambda: evaluate(text, local_dict=inputs, out=out)


def precision(case: Case, results: dict) -> str:
    """'f4' if float32 is among the inputs or the results, else 'f8'."""
    dtypes = {dtype_of(case, name) for name in case.inputs}
    dtypes |= {r.dtype.str[1:] for r in results.values() if not isinstance(r, Exception)}
    return "f4" if "f4" in dtypes or "c8" in dtypes else "f8"


def agreement(np, case: Case, results: dict) -> dict:
    """Each engine's result against NumPy's: 'ok', or what differs."""
    reference = results["numpy"]
    if isinstance(reference, Exception):
        # Nothing to check against: reported with the disagreements.
        detail = f"not checked, NumPy failed: {type(reference).__name__}: {reference}"
        return {e: {"ok": False, "detail": detail} for e in ("vexpr", "numexpr", "numba")}
    level = precision(case, results)
    report = {}
    for engine in ("vexpr", "numexpr", "numba"):
        result = results[engine]
        if isinstance(result, Exception):
            report[engine] = {"ok": None, "error": f"{type(result).__name__}: {str(result).splitlines()[0][:200]}"}
            continue
        entry = {"ok": True, "dtype": str(result.dtype), "numpy_dtype": str(reference.dtype)}
        if result.shape != reference.shape:
            entry.update(ok=False, detail=f"shape {result.shape} vs NumPy's {reference.shape}")
        elif reference.dtype.kind in "biu" and result.dtype.kind in "biu":
            bad = result != reference
            if bad.any():
                i = int(np.argmax(bad))
                entry.update(ok=False, mismatches=int(bad.sum()),
                             detail=f"{int(bad.sum())} differ, first at {i}: {result[i]!r} vs NumPy's {reference[i]!r}")
        else:
            r = result.astype(np.complex128 if "c" in (result.dtype.kind, reference.dtype.kind) else np.float64)
            ref = reference.astype(r.dtype)
            close = np.isclose(r, ref, rtol=RTOL[level], atol=ATOL[level], equal_nan=True)
            finite = np.isfinite(ref) & np.isfinite(r)
            rel = np.abs(r - ref)[finite] / np.maximum(np.abs(ref[finite]), ATOL[level])
            entry["max_relative_difference"] = float(rel.max()) if rel.size else 0.0
            if not close.all():
                i = int(np.argmin(close))
                entry.update(ok=False, mismatches=int((~close).sum()),
                             detail=f"{int((~close).sum())} differ beyond rtol {RTOL[level]:g}, first at {i}: "
                                    f"{result[i]!r} vs NumPy's {reference[i]!r}")
        report[engine] = entry
    return report


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


def measure(args, cases: list[Case], modules: dict, numpy_function, set_threads) -> tuple[list[dict], dict, dict]:
    """Checks and times every case; returns the rows, the copy times per N
    and the agreement reports per case and N."""
    np, numba = modules["np"], modules["numba"]
    inputs = Inputs(np)
    kernels: dict = {}
    kernel_errors: dict = {}
    copies: dict = {}
    rows, checks = [], {}
    seconds = args.seconds
    done, total = 0, len(cases) * len(args.lengths)
    started = time.monotonic()
    # N-major: one set of inputs alive at a time.
    for n in args.lengths:
        copy_src, copy_dst = np.ones(n), np.empty(n)
        copies[n] = []

        def time_copy():
            copies[n].append(time_calls(lambda: np.copyto(copy_dst, copy_src), n, seconds, 3, 100_000))

        time_copy()
        for k, case in enumerate(cases):
            if k and k % 25 == 0:
                time_copy()  # the bandwidth again now and then: the machine's load drifts
            data = inputs.get(case, n)
            if case.id not in kernels and case.id not in kernel_errors:
                try:
                    kernels[case.id] = numba_kernel(numba, np, case)
                except Exception as exc:  # noqa: BLE001
                    kernel_errors[case.id] = exc
            engines = Engines(modules, case, data, kernels.get(case.id), kernel_errors.get(case.id), numpy_function)
            set_threads(max(args.threads))
            t0 = time.perf_counter()
            results = engines.first_results()  # compiles Numba's loop on its first N
            first_seconds = time.perf_counter() - t0
            check = agreement(np, case, results)
            if isinstance(results["numba"], Exception):  # not compiled again at the next N
                kernel_errors[case.id] = results["numba"]
                kernels.pop(case.id, None)
            checks[case.id, n] = check
            out_bytes = results["vexpr"].dtype.itemsize if not isinstance(results["vexpr"], Exception) else None
            in_bytes = sum(data[name].dtype.itemsize for name in case.inputs)
            del results
            for threads in args.threads:
                set_threads(threads)
                calls = {engine: engines.call(engine) for engine in ("vexpr", "numexpr", "numpy", "numba")}
                times = dict.fromkeys(calls) | time_interleaved(
                    {engine: call for engine, call in calls.items() if call}, n, seconds)
                rows.append({
                    "id": case.id, "expr": case.text, "dtypes": case.dtypes, "n": n, "threads": threads,
                    "bytes_per_elem": None if out_bytes is None else in_bytes + out_bytes,
                    "raw": times,
                    **{e: (t["median_ns_per_elem"] if t else None) for e, t in times.items()},
                })
            done += 1
            bad = [e for e, c in check.items() if c.get("ok") is False]
            na = [e for e, c in check.items() if c.get("ok") is None]
            eta = (time.monotonic() - started) / done * (total - done)
            print(
                f"[{done}/{total}, ~{eta / 60:.0f} min left] {case.id} N={n_label(n)}: "
                + "; ".join(f"T={r['threads']} " + ", ".join(f"{e} {fmt(r[e])}" for e in ENGINES)
                            for r in rows[-len(args.threads):])
                + (f"; n/a: {', '.join(na)}" if na else "")
                + (f"; DISAGREE: {', '.join(bad)}" if bad else "")
                + (f" (first call {first_seconds:.1f} s)" if first_seconds > 1 else ""),
                file=sys.stderr,
            )
        # This N's verdicts (its copies are all taken), and its misses
        # measured again while its inputs are at hand.
        copy_best = min(c["median_ns_per_elem"] for c in copies[n])
        for row in rows:
            if row["n"] == n:
                assess(row, copy_best)
        if args.recheck:
            recheck_misses(args, [r for r in rows if r["n"] == n and not r["met"]], cases, modules,
                           inputs, kernels, kernel_errors, numpy_function, set_threads)
    return rows, copies, checks


def recheck_misses(args, misses: list[dict], cases: list[Case], modules: dict, inputs, kernels: dict,
                   kernel_errors: dict, numpy_function, set_threads) -> None:
    """Measures each missed cell of one N again, at once: the four engines
    and the copy that sets the floor side by side in alternating turns
    (``time_interleaved``), so that the floor is the bandwidth of the same
    seconds.  The result goes to the row's ``recheck``; the row's verdict
    stays the first measurement's.

    A cell that meets the bar when measured again missed by the host's
    weather (a slow spell of seconds falls on one engine's turns more than
    on another's, or on the engines and not on the copy taken minutes
    before); one that misses twice is likely a miss of the code, whose
    cause the documentation must give (or show to be the host's)."""
    np = modules["np"]
    by_id = {c.id: c for c in cases}
    for row in misses:
        case, n = by_id[row["id"]], row["n"]
        data = inputs.get(case, n)
        engines = Engines(modules, case, data, kernels.get(case.id), kernel_errors.get(case.id), numpy_function)
        set_threads(row["threads"])
        engines.first_results()  # the outputs of the timed calls
        calls = {engine: engines.call(engine) for engine in ENGINES}
        copy_src, copy_dst = np.ones(n), np.empty(n)
        calls["copy"] = lambda: np.copyto(copy_dst, copy_src)
        times = time_interleaved({e: c for e, c in calls.items() if c}, n, args.seconds)
        again = {e: (times[e]["median_ns_per_elem"] if e in times else None) for e in calls}
        recheck = row["recheck"] = {"bytes_per_elem": row["bytes_per_elem"], "raw": times, **again}
        assess(recheck, again["copy"])
        print(f"recheck {row['id']} N={n_label(n)} T={row['threads']}: "
              + ", ".join(f"{e} {fmt(again[e])}" for e in (*ENGINES, "copy"))
              + f" -> {recheck['verdict']}", file=sys.stderr)


def assess(row: dict, copy_ns: float) -> None:
    """The floor, the best other engine and the verdict of one cell.

    Met: vexpr faster than the fastest of the others, or within FLOOR_SLACK
    of the floor (the copy's lowest median at this N: the strictest floor).
    """
    row["copy"] = copy_ns
    row["floor"] = None if row["bytes_per_elem"] is None else memory_floor(copy_ns, 0, row["bytes_per_elem"])
    others = {e: row[e] for e in ("numexpr", "numpy", "numba") if row[e] is not None}
    row["best_other"] = min(others, key=others.get) if others else None
    best = others.get(row["best_other"])
    vexpr = row["vexpr"]
    row["vexpr_over_best"] = vexpr / best if (vexpr and best) else None
    row["vexpr_over_floor"] = vexpr / row["floor"] if (vexpr and row["floor"]) else None
    if vexpr is None:
        row["verdict"], row["met"] = "vexpr failed", False
    elif best is not None and vexpr < best:
        row["verdict"], row["met"] = "yes", True
    elif row["floor"] is not None and vexpr <= FLOOR_SLACK * row["floor"]:
        row["verdict"], row["met"] = "yes (floor)", True
    else:
        row["verdict"], row["met"] = "no", False
    # How far a miss is from the bar: vexpr over the easier of the two targets.
    targets = [t for t in (best, FLOOR_SLACK * row["floor"] if row["floor"] else None) if t]
    row["miss"] = vexpr / max(targets) if (vexpr and targets) else None


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def cell(x: float | None) -> str:
    return "n/a" if x is None else fmt(x)


def ratio(x: float | None) -> str:
    """A ratio of times to two decimals; "–" when an engine failed."""
    return "–" if x is None else f"{x:.2f}"


def results_table(rows: list[dict]) -> str:
    lines = [
        "| case | N | T | vexpr | numexpr | NumPy | Numba | floor | best other | vexpr / best | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|:---|",
    ]
    order = {c.id: k for k, c in enumerate(CASES)}
    for r in sorted(rows, key=lambda r: (order[r["id"]], r["n"], r["threads"])):
        lines.append(
            f"| {r['id']} | {n_label(r['n'])} | {r['threads']} | {cell(r['vexpr'])} | {cell(r['numexpr'])} "
            f"| {cell(r['numpy'])} | {cell(r['numba'])} | {cell(r['floor'])} "
            f"| {LABELS.get(r['best_other'], '–')} | {ratio(r['vexpr_over_best'])} | {r['verdict']} |"
        )
    return "\n".join(lines)


def legend(cases: list[Case]) -> str:
    lines = ["| case | expression | inputs |", "|---|---|---|"]
    for c in cases:
        kinds = ", ".join(f"{name} {dtype_of(c, name)}" for name in c.inputs)
        lines.append(f"| {c.id} | `{c.text.replace('|', chr(92) + '|')}` | {kinds} |")
    return "\n".join(lines)


def summary(rows: list[dict], checks: dict) -> str:
    met = sum(r["met"] for r in rows)
    lines = [f"**{met} of {len(rows)} cells meet the bar** "
             f"(vexpr faster than the fastest other engine, or within {round((FLOOR_SLACK - 1) * 100)}% "
             "of the memory floor)."]
    by_group: dict = {}
    for r in rows:
        group = r["id"].split(":")[0]
        by_group.setdefault(group, [0, 0])
        by_group[group][0] += r["met"]
        by_group[group][1] += 1
    lines.append("By group: " + ", ".join(f"{g} {m}/{t}" for g, (m, t) in by_group.items()) + ".")
    misses = sorted((r for r in rows if not r["met"]), key=lambda r: -(r["miss"] or math.inf))
    if misses:
        lines += ["", "Worst cells (vexpr's time over the easier of the two targets):", "",
                  "| case | N | T | vexpr | best other | floor | vexpr / target |", "|---|---:|---:|---:|---|---:|---:|"]
        for r in misses[:WORST_LISTED]:
            best = r[r["best_other"]] if r["best_other"] else None
            lines.append(f"| {r['id']} | {n_label(r['n'])} | {r['threads']} | {cell(r['vexpr'])} "
                         f"| {LABELS[r['best_other']] + ' ' + cell(best) if best else '–'} | {cell(r['floor'])} | {ratio(r['miss'])} |")
    lines += rechecked(misses, checks)
    disagreements = [(cid, n, e, c["detail"]) for (cid, n), check in checks.items()
                     for e, c in check.items() if c.get("ok") is False]
    na = sorted({(cid, e) for (cid, n), check in checks.items() for e, c in check.items() if c.get("ok") is None})
    lines.append("")
    if disagreements:
        lines.append(f"**Disagreements with NumPy ({len(disagreements)}):**")
        lines += [f"- {cid} N={n_label(n)} {LABELS[e]}: {detail}" for cid, n, e, detail in disagreements]
    else:
        lines.append("Every engine's result agreed with NumPy's in every case that it runs.")
    if na:
        lines.append("")
        lines.append("n/a (the engine cannot run the case): " + ", ".join(f"{cid} {LABELS[e]}" for cid, e in na)
                     + ". The errors are in the results file.")
    # vexpr follows numexpr's result types, which are not always NumPy's
    # (float32 hypot, trunc... give float64): then the engines write
    # different amounts.  The floor counts vexpr's.
    widened = {}
    for (cid, _), check in checks.items():
        c = check["vexpr"]
        if c.get("dtype") and c["dtype"] != c["numpy_dtype"]:
            widened[cid] = f"{cid} ({c['dtype']} vs {c['numpy_dtype']})"
    if widened:
        lines.append("")
        lines.append("Result type not NumPy's (vexpr and numexpr follow numexpr's rules; the floor counts vexpr's "
                     "output): " + ", ".join(widened.values()) + ".")
    return "\n".join(lines)


def rechecked(misses: list[dict], checks: dict) -> list[str]:
    """The misses measured again (``recheck_misses``): how many met the bar
    then, and each that missed twice with its cause."""
    again = [r for r in misses if "recheck" in r]
    if not again:
        return []
    twice = [r for r in again if not r["recheck"]["met"]]
    lines = ["", f"**Each miss measured again** (the four engines and the copy side by side once more, after "
             f"the cells of its N): {len(again) - len(twice)} of the {len(again)} met the bar then."]
    if twice:
        lines += ["The cells that missed twice, with their cause:", "",
                  "| case | N | T | first: vexpr / target | again: vexpr | best other | floor "
                  "| vexpr / target | cause |",
                  "|---|---:|---:|---:|---:|---|---:|---:|---|"]
        for r in sorted(twice, key=lambda r: -(r["recheck"]["miss"] or math.inf)):
            a = r["recheck"]
            best = f"{LABELS[a['best_other']]} {cell(a[a['best_other']])}" if a["best_other"] else "–"
            lines.append(f"| {r['id']} | {n_label(r['n'])} | {r['threads']} | {ratio(r['miss'])} | {cell(a['vexpr'])} "
                         f"| {best} | {cell(a['floor'])} | {ratio(a['miss'])} | {miss_cause(r, checks)} |")
    return lines


def miss_cause(row: dict, checks: dict) -> str:
    """Why a cell misses twice: its result type when numexpr's rules give
    one wider than NumPy's, a cause measured and written in ``CAUSES``, or
    "not known" (for the text of performance.md to answer)."""
    causes = []
    check = checks.get((row["id"], row["n"]), {}).get("vexpr", {})
    if check.get("dtype") and check["dtype"] != check["numpy_dtype"]:
        cause = f"writes {check['dtype']} (numexpr's type), NumPy {check['numpy_dtype']}"
        numba = row["recheck"].get("numba")
        if numba is not None:  # Numba's loop writes into an array of vexpr's type
            cause += f"; Numba writing {check['dtype']} too: {fmt(numba)}"
        causes.append(cause)
    if row["id"] in CAUSES:
        causes.append(CAUSES[row["id"]])
    return "; ".join(causes) or "not known"


def markdown(results: dict, rows: list[dict], checks: dict, cases: list[Case]) -> str:
    m, v = results["machine"], results["versions"]
    return "\n".join([
        f"`{results['command']}` on {m['cpu']} ({m['cores']} cores), {results['started'][:10]}; "
        f"vexpr {m['git_commit'][:10]}{'+dirty' if m['git_dirty'] else ''}, numexpr {v['numexpr']}, "
        f"NumPy {v['numpy']}, Numba {v['numba']}; {results['seconds_per_measurement']:g} s per measurement; "
        f"load average {results['load_average_before'][0]:.1f} before, {results['load_average_after'][0]:.1f} after; "
        f"other processes used {results['load']['other_processes_cores']:.2f} cores on average meanwhile.",
        "",
        "Times in ns per element (medians; the engines' samples taken in alternating turns). "
        "NumPy is single-threaded: it is timed again beside the others at each T. "
        "floor: the bytes the case moves per element over the bandwidth of `np.copyto` of one float64 "
        "array of N, measured in the same run. Verdict: \"yes\" vexpr is faster than the best other engine, "
        f"\"yes (floor)\" it is within {round((FLOOR_SLACK - 1) * 100)}% of the floor, \"no\" neither.",
        "",
        summary(rows, checks),
        "",
        "<details><summary>Every cell</summary>",
        "",
        results_table(rows),
        "",
        "</details>",
        "",
        "<details><summary>The cases</summary>",
        "",
        legend(cases),
        "",
        "</details>",
    ])


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"N = 1M, 1 thread, {QUICK_SECONDS:g} s per measurement (unless given)")
    parser.add_argument("--cases", help="comma-separated case ids or parts of ids, e.g. 'f8:sin,f4:,pow' "
                        "(an exact id selects that case alone; default: all)")
    parser.add_argument("--threads", help=f"comma-separated thread counts (default {','.join(map(str, THREAD_COUNTS))})")
    parser.add_argument("--lengths", help="comma-separated N, e.g. 10000,1000000 (default 10k, 1M, 10M)")
    parser.add_argument("--seconds", type=float,
                        help=f"target time of one measurement (default {DEFAULT_SECONDS:g}, {QUICK_SECONDS:g} with --quick)")
    parser.add_argument("--out", type=Path, help="results file (default benches/results/broad-<date>[-quick][-k].json)")
    parser.add_argument("--no-recheck", dest="recheck", action="store_false",
                        help="do not measure the cells that miss the bar again")
    parser.add_argument("--list", action="store_true", help="print the cases and exit")
    parser.add_argument("--no-build", action="store_true", help="keep the vexpr installed in .venv (no pip install ./python)")
    parser.add_argument("--no-venv", action="store_true",
                        help="run with this interpreter and the packages it has (no .venv, no install)")
    args = parser.parse_args(argv)
    ints = lambda s: [int(float(x)) for x in s.split(",") if x.strip()]  # noqa: E731 - 1e6 is accepted
    args.threads = ints(args.threads) if args.threads else ([1] if args.quick else list(THREAD_COUNTS))
    args.lengths = ints(args.lengths) if args.lengths else list(QUICK_LENGTHS if args.quick else FULL_LENGTHS)
    if args.seconds is None:
        args.seconds = QUICK_SECONDS if args.quick else DEFAULT_SECONDS
    patterns = [p.strip() for p in (args.cases or "").split(",") if p.strip()]
    ids = {c.id for c in CASES}
    # An exact id selects that case alone (f8:sin, not f8:sinh); anything
    # else, every case whose id contains it.
    args.selected = [c for c in CASES if not patterns
                     or any(c.id == p if p in ids else p in c.id for p in patterns)]
    if not args.selected:
        parser.error(f"no case id contains any of {patterns}; see --list")
    # The documented table is replaced only by a full run of every case.
    args.full = (not args.quick and not patterns and args.threads == list(THREAD_COUNTS)
                 and args.lengths == list(FULL_LENGTHS))
    return args


def install_vexpr() -> None:
    """``pip install ./python`` into the running interpreter (.venv), as
    scripts/test-python does: maturin builds the extension from this tree."""
    print("pip install ./python (builds the extension)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--force-reinstall", "--no-deps", str(REPO / "python")], check=True)


def main() -> None:
    args = parse_args(sys.argv[1:])
    if args.list:
        print(legend(args.selected))
        print(f"\n{len(args.selected)} cases", file=sys.stderr)
        return
    if not args.no_venv:
        ensure_venv(Path(__file__).resolve())  # re-executes this script under .venv's Python
        if not args.no_build:
            install_vexpr()
    environment = set_thread_environment(max(args.threads))

    import numba
    import numexpr
    import numpy as np
    import vexpr
    # benches/python_bench.py (imported only now: it imports the engines)
    from python_bench import LoadMeter, numpy_function, set_threads

    modules = {"np": np, "numba": numba, "numexpr": numexpr, "vexpr": vexpr}
    started = _dt.datetime.now()
    load_before = os.getloadavg()
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"warning: 1-minute load average is {load_before[0]:.1f} on {os.cpu_count()} cores; "
              "the numbers will be noisy", file=sys.stderr)
    print(f"{len(args.selected)} cases x N {', '.join(map(n_label, args.lengths))} x T "
          f"{', '.join(map(str, args.threads))}; vexpr from {Path(vexpr.__file__).parent}", file=sys.stderr)
    meter = LoadMeter()
    meter.start()
    rows, copies, checks = measure(args, args.selected, modules, numpy_function, set_threads)
    results = {
        "command": " ".join(["python3", "benches/broad.py", *sys.argv[1:]]),
        "started": started.isoformat(timespec="seconds"),
        "finished": _dt.datetime.now().isoformat(timespec="seconds"),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "load": meter.stop(),
        "machine": describe_machine(),
        "versions": {
            "python": sys.version.split()[0], "vexpr": vexpr.__version__, "vexpr_path": str(Path(vexpr.__file__).parent),
            "numexpr": numexpr.__version__, "numpy": np.__version__, "numba": numba.__version__,
            "numba_threading_layer": numba.threading_layer(),
        },
        "environment": environment,
        "seconds_per_measurement": args.seconds,
        "lengths": args.lengths,
        "threads": args.threads,
        "bar": {"floor_slack": FLOOR_SLACK, "rule": "vexpr < min(numexpr, NumPy, Numba) or vexpr <= floor_slack * floor"},
        "units": "ns per element; rows[].raw: compare.time_interleaved's statistics per engine",
        "copy_ns_per_elem": {str(n): cs for n, cs in copies.items()},
        "cases": [{"id": c.id, "text": c.text, "dtypes": c.dtypes, "numpy": c.numpy or c.text,
                   "numba": numba_body(c), "domain": c.domain} for c in args.selected],
        "agreement": [{"id": cid, "n": n, **check} for (cid, n), check in checks.items()],
        "rows": rows,
    }
    out = args.out or numbered_results_path(f"broad-{started.date().isoformat()}" + ("-quick" if args.quick else ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"raw numbers: {out}", file=sys.stderr)
    section = markdown(results, rows, checks, args.selected)
    print(section)
    if args.full:
        write_marked_section(DOCS, "\n".join([BEGIN, section, END]), BEGIN, END, NEW_FILE_HEADING)
        print(f"written between the broad markers of {DOCS}", file=sys.stderr)


if __name__ == "__main__":
    main()
