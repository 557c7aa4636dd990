#!/usr/bin/env python3
"""Generate vexpr's conformance data from numexpr and NumPy.

Run from anywhere, with a Python that has numexpr, NumPy and mpmath:

    python tests/conformance/gen.py           # (re)write the data files
    python tests/conformance/gen.py --check   # regenerate in memory, fail if a file differs

Expected versions: numexpr 2.14.x, NumPy 2.x (made with numexpr 2.14.2, NumPy 2.4.6,
mpmath 1.4.1 on x86-64 Linux with glibc). Other versions print a warning; the versions
actually used are recorded in every output file under "generator".

What it writes (all deterministic: fixed seeds, no set iteration, no addresses):

  tests/conformance/cases/{operators,functions,special_values,literals,
                           broadcasting,reductions,strings,dtypes}.json
  tests/conformance/DIFFERENCES.md   where vexpr deliberately follows NumPy, and where
                                     numexpr's behaviour is kept although NumPy differs
  docs/types.md                      the observed type-promotion tables

Every case is evaluated twice: by numexpr.evaluate and by NumPy (the same expression
text evaluated with NumPy functions and Python literals).  numexpr's outcome is the
reference unless the case exercises one of the numexpr defects listed in DEFECTS and
the two outcomes differ; then NumPy's outcome is the reference ("reference": "numpy")
and the note says what numexpr does instead.

File format (the Rust runner reads exactly this):

  {"generator": {"numexpr": "...", "numpy": "...", "mpmath": "...", "python": "...",
                 "script": "tests/conformance/gen.py"},
   "cases": [{"name", "expr", "inputs", "expected" | "error", "reference",
              "ulps" (value cases only), "note" (optional)}]}

  inputs / expected: {"dtype": "bool" | "int8" .. "uint64" | "float16" | "float32" |
                      "float64" | "complex128" | "S<n>", "shape": [...],
                      "data": flattened C-order list}
  bool -> true/false; integers -> JSON integers; floats -> JSON numbers (shortest repr
  that round-trips the float64 value; float32/float16 values are widened exactly) or
  the strings "nan", "inf", "-inf"; complex -> [re, im]; S<n> -> strings decoded from
  bytes as latin-1 (trailing NUL padding omitted, pad back to n bytes).
  error: "<Python exception class>: <message>" (or "crash: SIGFPE" where numexpr kills
  the process); runners should only require that an error is raised.

Float comparison ("ulps"): an element matches if both are NaN (any payload), or the
bit patterns are identical, or ulps > 0 and |ord(x) - ord(y)| <= ulps, where ord maps
the float's bits to a monotonic integer (sign-magnitude, with -0.0 and +0.0 both 0),
computed in the expected dtype.  Complex values compare real and imaginary parts
separately; with ulps > 0 a part also matches if |x - y| <= ulps * spacing(m), where
m = max(|re|, |im|) of the expected value (error relative to |z|: a tiny part next to
a large one carries the large one's rounding error).  Non-float data must be equal.  Where measured (transcendental functions,
powers, float reductions) a case's ulps is raised to numexpr's own error against an
mpmath evaluation plus one, so both "same algorithm as numexpr" and "correctly
rounded" implementations pass; the note then says so.
"""

import argparse
import ast
import builtins
import json
import math
import os
import pickle
import platform
import re
import signal
import sys
import warnings
import zlib
from dataclasses import dataclass, field

import mpmath
import numexpr
import numpy as np

EXPECTED_NUMEXPR = "2.14."
EXPECTED_NUMPY = "2."
SEED = 20240611

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CASES_DIR = os.path.join(HERE, "cases")
TYPES_MD = os.path.join(REPO, "docs", "types.md")
DIFFERENCES_MD = os.path.join(HERE, "DIFFERENCES.md")

# The six value types numexpr computes in, in numexpr's kind order.
TYPES = ("bool", "int32", "int64", "float32", "float64", "complex128")
FLOAT_TYPES = ("float32", "float64", "complex128")

mpmath.mp.prec = 320  # enough for exact sums of doubles and cancellation in functions

# A numexpr error this large (in ulps) against the exact value means numexpr is wrong,
# not just differently rounded; NumPy becomes the reference if it is within the limit.
ACCURACY_LIMIT_ULPS = 64


# ---------------------------------------------------------------------------
# Known numexpr 2.14 defects.  A case tagged with one of these keys takes NumPy's
# outcome as the reference when numexpr's outcome differs from NumPy's.
# ---------------------------------------------------------------------------

DEFECTS = {
    "abs_complex": "numexpr's abs() of a complex array returns complex128 (the modulus with "
                   "a zero imaginary part), computed as sqrt(re**2 + im**2), which overflows "
                   "and gives NaN for abs(inf+nanj); NumPy returns the float64 modulus (C99 "
                   "hypot).",
    "abs_int": "numexpr's abs() of an integer array returns float64 (its int special case "
               "is keyed on 'abs' but the function is named 'absolute'); NumPy keeps the "
               "integer type and wraps abs(MIN) to MIN.",
    "pow_int_float_exponent": "numexpr rewrites int ** <half-integral float constant> into "
                              "integer multiplications (a**2.0 stays integer and overflows, "
                              "a**-2.0 is 1/(a*a) in wrapping integers); a float exponent "
                              "must give float64 as in NumPy.",
    "pow_complex_literal": "numexpr raises TypeError for a ** <complex constant> (its power "
                           "optimisation calls int() on the exponent); the reference is "
                           "NumPy's complex128 power.",
    "pow_int_negative": "numexpr computes int ** negative-int element-wise as 1/base (e.g. "
                        "(-1)**-2 = -1); NumPy refuses integer arrays to negative integer "
                        "powers.",
    "pow_int_overflow": "numexpr computes int ** int through C pow() in floating point and "
                        "converts out-of-range results to the minimum integer (undefined "
                        "behaviour in C); NumPy wraps modulo 2**bits like repeated "
                        "multiplication.",
    "int_mod_overflow": "numexpr computes int a % b as ((a % b) + b) % b, which overflows "
                        "for b near MIN (e.g. -1 % MIN gives MAX instead of -1); NumPy gives "
                        "the floored remainder.",
    "int_division_overflow": "numexpr crashes the process (SIGFPE) on MIN // -1 and "
                             "MIN % -1; NumPy gives MIN and 0.",
    "float_mod": "numexpr computes float a % b as a - floor(a/b)*b, which is NaN for "
                 "b = +-inf, loses the result's sign of zero and is inexact when a/b is "
                 "large; NumPy gives Python's exact remainder with the sign of b.",
    "float_floordiv": "numexpr computes float a // b as floor(a/b), which differs from the "
                      "exact floor division (e.g. -1 // inf is -0.0 instead of -1.0, "
                      "1 // 0.1 is 10 instead of 9); NumPy follows Python.",
    "div_by_zero_literal": "numexpr raises ZeroDivisionError for x / 0.0 (its compile pass "
                           "rewrites x / c as x * (1/c) with the operand typed as float64 "
                           "whatever its real type); division by zero gives inf/nan as for "
                           "arrays.",
    "reflected_operators": "numexpr raises TypeError for & | ^ // with a constant on the "
                           "left (its nodes lack __rand__, __ror__, __rxor__ and "
                           "__rfloordiv__); the reference is NumPy's value computed in the "
                           "type numexpr gives the mirrored expression (a OP constant).",
    "complex_int_args": "numexpr refuses complex(int, int) (it looks for complex_dii); NumPy "
                        "semantics: complex128 with the ints as real and imaginary parts.",
    "sum_prod_accumulator": "numexpr's sum/prod accumulate in the input type (int32 "
                            "overflows) and refuse bool; NumPy accumulates bool, int32 and "
                            "int64 in int64.",
    "minmax_int32": "numexpr's min/max of int32 raise SystemError; NumPy returns int32.",
    "minmax_int64": "numexpr's min/max of int64 go through C fmin/fmax in double, so "
                    "values beyond 2**53 are rounded and 2**63-1 becomes the minimum "
                    "int64; NumPy compares the integers exactly.",
    "minmax_bool": "numexpr's min/max refuse bool (no opcode); NumPy returns bool "
                   "(vexpr accepts bool in sum/prod, so it accepts it here too).",
    "minmax_float": "numexpr's min/max use C fmin/fmax: they skip NaN and pick either zero "
                    "for -0.0 vs 0.0; NumPy propagates NaN and orders the zeros as its "
                    "minimum/maximum do.",
    "reduce_empty": "numexpr's reductions of empty inputs return an empty array of the "
                    "input's shape; NumPy gives sum 0, prod 1 and refuses min/max of an "
                    "empty axis.",
    "reduce_in_expression": "numexpr refuses a reduction that is not the outermost "
                            "operation ('reduction operations must occur last'); vexpr "
                            "evaluates it with NumPy's meaning (e.g. a / sum(a) is "
                            "a / a.sum()).",
    "inaccurate": "numexpr's function loses accuracy here (more than "
                  f"{ACCURACY_LIMIT_ULPS} ulps from the exact value); NumPy's value is accurate.",
    "complex_inaccurate": "numexpr's complex function loses accuracy here (more than "
                          f"{ACCURACY_LIMIT_ULPS} ulps from the exact value, e.g. arcsin, "
                          "arccos, arctan, arcsinh, arccosh, arctanh for small |z|, log "
                          "near |z| = 1); NumPy's value is accurate.",
    "empty_broadcast": "numexpr accepts a length-0 dimension against any length and keeps "
                       "the first operand's shape ((0,) + (2,) gives shape (0,), (1, 0) + "
                       "(3, 1) gives (1, 0)); NumPy broadcasts 0 only against 1 and refuses "
                       "the rest.",
    "complex_division": "numexpr divides complex numbers by the textbook formula, which "
                        "overflows or underflows for large or tiny divisors (1e300+1e300j "
                        "over itself is NaN) and gives NaN for a zero divisor; NumPy scales "
                        "the division.",
    "complex_special_values": "numexpr's complex functions apply their finite-value formulas "
                              "to infinities and NaNs (exp(inf+0j) is inf+nanj, arcsin(inf) is "
                              "nan+nanj); NumPy follows C99 Annex G.",
    "complex_pow": "numexpr's complex power has its own formula: 0**b is 0 for every b (NumPy "
                   "gives nan+nanj when b.real <= 0), and integer powers overflow differently; "
                   "its expansion of x**-n divides naively (1/0 is nan+nanj). NumPy's value is "
                   "the reference, in numexpr's result type.",
    "string_signed_char": "numexpr compares bytes as signed char, so bytes >= 0x80 sort "
                          "before ASCII; NumPy compares unsigned bytes.",
}


# Choices made where "numexpr is wrong" was not clear-cut; listed in DIFFERENCES.md so
# that they can be revisited in one place.
JUDGEMENT_CALLS = (
    "min/max of bool follow NumPy (numexpr refuses them) because sum/prod of bool are "
    "accepted with NumPy's meaning.",
    "abs of integers and of complex numbers follows NumPy (integers keep their type, complex "
    "gives the float64 modulus); abs(bool) stays float32, as numexpr types it.",
    "Complex functions and complex ** at infinities and NaNs follow NumPy (C99 Annex G); "
    "complex * keeps numexpr's textbook formula at overflow and infinities (NumPy's "
    "result there is not Annex G either).",
    "numexpr's typing by kind is kept everywhere, even where it loses precision: "
    "int32/int64 with float32 compute in float32, float32 with a float literal in float64, "
    "maximum/minimum/hypot/copysign/nextafter/sign/round/trunc of float32 in float64, "
    "integers in most functions (and fmod) in float64.",
    "where(True, a, b) with a constant condition returns a unchanged (its dtype and shape, "
    "no broadcasting), as numexpr does.",
    "uint64 inputs are reinterpreted as int64 (same bits) and uint32 widened to int64, as "
    "numexpr does; values >= 2**63 become negative.",
    "Constant-only expressions are folded with Python semantics, as numexpr does "
    "(True + True is int32 2, ~True is -2, 1 / 0 raises ZeroDivisionError).",
    "x / c with a float constant c of x's kind is computed by numexpr as x * (1/c); those "
    "cases allow 1 ulp so that true division passes too.",
    "Unary minus on bool is an error in both (messages differ), so it is a plain "
    "numexpr-referenced error case.",
    "Complex log1p of tiny |z|: numexpr and NumPy are both inaccurate (10**8 ulps), so no "
    "case pins it down.",
)


# Defects in values only: numexpr's result type stands, and NumPy is asked for the
# values with the inputs already converted to that type (e.g. int32 // float32 is
# float32 in numexpr; the reference is NumPy's float32 floor division).
VALUE_DEFECTS = {"pow_int_overflow", "int_mod_overflow", "float_mod", "float_floordiv",
                 "complex_division", "complex_special_values", "complex_pow", "minmax_float",
                 "minmax_int64", "string_signed_char", "empty_broadcast"}


# ---------------------------------------------------------------------------
# Encoding to JSON
# ---------------------------------------------------------------------------

def dtype_name(dt):
    dt = np.dtype(dt)
    return f"S{dt.itemsize}" if dt.kind == "S" else dt.name


def encode_float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x  # json writes repr(x): exact round trip, -0.0 stays -0.0


def encode_element(v, kind):
    if kind == "b":
        return bool(v)
    if kind in "iu":
        return int(v)
    if kind == "f":
        return encode_float(v)
    if kind == "c":
        return [encode_float(v.real), encode_float(v.imag)]
    if kind == "S":
        return bytes(v).decode("latin-1")
    raise ValueError(f"cannot encode dtype kind {kind!r}")


def encode_array(arr):
    arr = np.asarray(arr)
    kind = arr.dtype.kind
    return {"dtype": dtype_name(arr.dtype), "shape": list(arr.shape),
            "data": [encode_element(v, kind) for v in arr.ravel(order="C")]}


# ---------------------------------------------------------------------------
# Evaluation: numexpr, NumPy, and exact (mpmath)
# ---------------------------------------------------------------------------

@dataclass
class Outcome:
    array: object = None   # np.ndarray on success
    error: str = None      # "Class: message" on failure


def format_error(exc):
    # numexpr's SystemError text contains an object address; scrub it for determinism.
    msg = re.sub(r" at 0x[0-9a-fA-F]+", "", str(exc))
    return f"{type(exc).__name__}: {msg}"


def run_numexpr(expr, inputs):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # global_dict={} so a name missing from inputs is an error, not a module global
            out = numexpr.evaluate(expr, local_dict=dict(inputs), global_dict={})
        return Outcome(array=np.asarray(out))
    except Exception as exc:  # every refusal is data here
        return Outcome(error=format_error(exc))


def run_numexpr_isolated(expr, inputs):
    """Run numexpr in a forked child: some inputs (MIN // -1) kill the process."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        try:
            payload = pickle.dumps(run_numexpr(expr, inputs))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return Outcome(error=f"crash: {signal.Signals(os.WTERMSIG(status)).name}")
    return pickle.loads(payload)


class _BytesLiterals(ast.NodeTransformer):
    """numexpr treats 'abc' in an expression as bytes; NumPy needs bytes to compare S arrays."""

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(node.value.encode("latin-1")), node)
        return node


def _compile_for_eval(expr):
    tree = ast.fix_missing_locations(_BytesLiterals().visit(ast.parse(expr, mode="eval")))
    return compile(tree, "<expr>", "eval")


def _np_complex(re_part, im_part):
    re_part, im_part = np.broadcast_arrays(np.asarray(re_part, np.float64),
                                           np.asarray(im_part, np.float64))
    out = np.empty(re_part.shape, np.complex128)
    out.real, out.imag = re_part, im_part
    return out


def _np_contains(haystack, needle):
    return np.strings.find(np.asarray(haystack), np.asarray(needle)) >= 0


# numexpr's function names mapped to the NumPy function with the same meaning.
NUMPY_NAMESPACE = {
    "where": np.where, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "arctan2": np.arctan2, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "arcsinh": np.arcsinh, "arccosh": np.arccosh, "arctanh": np.arctanh,
    "log": np.log, "log1p": np.log1p, "log10": np.log10, "log2": np.log2,
    "exp": np.exp, "expm1": np.expm1, "abs": np.absolute, "ceil": np.ceil,
    "floor": np.floor, "round": np.round, "trunc": np.trunc, "sign": np.sign,
    "fmod": np.fmod, "hypot": np.hypot, "nextafter": np.nextafter,
    "copysign": np.copysign, "maximum": np.maximum, "minimum": np.minimum,
    "isnan": np.isnan, "isfinite": np.isfinite, "isinf": np.isinf,
    "signbit": np.signbit, "real": np.real, "imag": np.imag, "complex": _np_complex,
    "conj": np.conj, "contains": _np_contains, "copy": np.copy,
    "ones_like": np.ones_like, "sum": np.sum, "prod": np.prod, "min": np.min,
    "max": np.max,
    "asarray": np.asarray,  # only in numpy_expr overrides
}


def run_numpy(expr, inputs):
    try:
        code = _compile_for_eval(expr)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = eval(code, {"__builtins__": builtins}, {**NUMPY_NAMESPACE, **inputs})
        if not isinstance(out, (np.ndarray, np.generic)):
            return Outcome(error=f"TypeError: result is a {type(out).__name__}, not an array")
        return Outcome(array=np.asarray(out))
    except Exception as exc:
        return Outcome(error=format_error(exc))


def _mp_ufunc(fn, nargs=1):
    return np.frompyfunc(fn, nargs, 1)


def _mp_object_reduction(reduce):
    def run(a, axis=None):
        return np.asarray(reduce(np.asarray(a, dtype=object), axis=axis), dtype=object)
    return run


# The same functions evaluated exactly (on object arrays of mpf/mpc) to measure error.
MPMATH_NAMESPACE = {
    "sqrt": _mp_ufunc(mpmath.sqrt), "sin": _mp_ufunc(mpmath.sin),
    "cos": _mp_ufunc(mpmath.cos), "tan": _mp_ufunc(mpmath.tan),
    "arcsin": _mp_ufunc(mpmath.asin), "arccos": _mp_ufunc(mpmath.acos),
    "arctan": _mp_ufunc(mpmath.atan), "arctan2": _mp_ufunc(mpmath.atan2, 2),
    "sinh": _mp_ufunc(mpmath.sinh), "cosh": _mp_ufunc(mpmath.cosh),
    "tanh": _mp_ufunc(mpmath.tanh), "arcsinh": _mp_ufunc(mpmath.asinh),
    "arccosh": _mp_ufunc(mpmath.acosh), "arctanh": _mp_ufunc(mpmath.atanh),
    "log": _mp_ufunc(mpmath.log), "log1p": _mp_ufunc(mpmath.log1p),
    "log10": _mp_ufunc(mpmath.log10), "log2": _mp_ufunc(lambda x: mpmath.log(x, 2)),
    "exp": _mp_ufunc(mpmath.exp), "expm1": _mp_ufunc(mpmath.expm1),
    "hypot": _mp_ufunc(mpmath.hypot, 2), "fmod": _mp_ufunc(mpmath.fmod, 2),
    "sum": _mp_object_reduction(np.sum), "prod": _mp_object_reduction(np.prod),
}


def _to_mp(v):
    if isinstance(v, (complex, np.complexfloating)):
        return mpmath.mpc(float(v.real), float(v.imag))
    if isinstance(v, (bool, np.bool_)):
        return mpmath.mpf(int(v))
    if isinstance(v, (int, np.integer)):
        return mpmath.mpf(int(v))
    return mpmath.mpf(float(v))


def run_exact(expr, inputs):
    """Evaluate with mpmath numbers; None where mpmath cannot (e.g. non-finite input)."""
    mp_inputs = {}
    for name, values in inputs.items():
        if values.dtype.kind in "fc" and not np.all(np.isfinite(values)):
            return None
        mp_inputs[name] = np.asarray(np.frompyfunc(_to_mp, 1, 1)(values), dtype=object)
    code = _compile_for_eval(expr)

    def evaluate(values):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(code, {"__builtins__": builtins}, {**MPMATH_NAMESPACE, **values})

    try:
        return np.asarray(evaluate(mp_inputs), dtype=object)
    except Exception:
        pass
    if any(f"{r}(" in expr for r in REDUCTIONS):
        return None
    # One element failed (e.g. 0 ** -1.5): evaluate element by element, None where mpmath fails.
    shape = np.broadcast_shapes(*(v.shape for v in mp_inputs.values()))
    spread = {k: np.broadcast_to(v, shape) for k, v in mp_inputs.items()}
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        try:
            out[idx] = evaluate({k: v[idx] for k, v in spread.items()})
        except Exception:
            out[idx] = None
    return out


# ---------------------------------------------------------------------------
# Comparing outcomes
# ---------------------------------------------------------------------------

_INT_OF_FLOAT = {2: np.int16, 4: np.int32, 8: np.int64}


def float_ordinals(arr):
    """Map floats to integers that are monotonic in value (-0.0 and 0.0 -> 0)."""
    bits = np.ascontiguousarray(arr).view(_INT_OF_FLOAT[arr.dtype.itemsize]).astype(object)
    sign_mask = (1 << (8 * arr.dtype.itemsize - 1)) - 1
    return np.array([b if b >= 0 else -(b & sign_mask) for b in bits.ravel()], dtype=object)


def ulp_distances(x, y):
    """Element-wise distance in ulps of two same-dtype real float arrays (NaN==NaN)."""
    x, y = np.ravel(x), np.ravel(y)
    dist = np.abs(float_ordinals(x) - float_ordinals(y))
    xn, yn = np.isnan(x), np.isnan(y)
    dist[xn & yn] = 0
    dist[xn ^ yn] = 1 << 80
    return dist


def float_parts(arr):
    """Real-valued views of a float or complex array (complex: real and imag)."""
    return (arr.real, arr.imag) if arr.dtype.kind == "c" else (arr,)


def complex_spacing(z):
    """ulp of the larger component of each complex value: a component may be off by
    ulps of these (error relative to |z|), since a tiny component next to a large one
    carries the large one's rounding error."""
    mag = np.maximum(np.abs(z.real), np.abs(z.imag))
    return np.spacing(np.where(np.isfinite(mag), mag, 0).astype(z.real.dtype))


def arrays_match(expected, actual, ulps):
    if expected.dtype != actual.dtype or expected.shape != actual.shape:
        return False
    if expected.dtype.kind not in "fc":
        return bool(np.array_equal(expected, actual))
    slack = complex_spacing(expected) if expected.dtype.kind == "c" else None
    for e, a in zip(float_parts(expected), float_parts(actual)):
        ok = (e.view(_INT_OF_FLOAT[e.dtype.itemsize]) ==
              a.view(_INT_OF_FLOAT[a.dtype.itemsize])) | (np.isnan(e) & np.isnan(a))
        if ulps > 0:
            ok |= (ulp_distances(e, a) <= ulps).reshape(e.shape)
            if slack is not None:
                with np.errstate(all="ignore"):
                    ok |= np.isfinite(e) & np.isfinite(a) & (np.abs(a - e) <= ulps * slack)
        if not np.all(ok):
            return False
    return True


def outcomes_agree(a, b, ulps):
    if a.error is not None or b.error is not None:
        return a.error is not None and b.error is not None
    return arrays_match(a.array, b.array, ulps)


def max_error_ulps(result, exact):
    """numexpr/NumPy error against the exact value, in ulps of the result dtype."""
    if exact is None or result.dtype.kind not in "fc" or exact.shape != result.shape:
        return None
    worst = 0
    for r, x in zip(result.ravel(), exact.ravel()):
        if x is None:
            continue  # mpmath could not evaluate this element
        if result.dtype.kind == "c":
            x = complex(x)
        else:
            if isinstance(x, mpmath.mpc):
                if x.imag != 0:
                    continue  # exact value is not real (domain error): nothing to measure
                x = x.real
            x = float(x)
        with np.errstate(all="ignore"):
            rounded = np.asarray(x, dtype=result.dtype)
        worst = max(worst, element_error_ulps(np.asarray(r), rounded))
    return worst


def element_error_ulps(r, x):
    """Smallest ulps for which arrays_match would accept r against exact x."""
    slack = complex_spacing(x) if x.dtype.kind == "c" else None
    worst = 0
    for rp, xp in zip(float_parts(r), float_parts(x)):
        if not (np.isfinite(rp) and np.isfinite(xp)):
            continue
        err = int(ulp_distances(rp, xp)[0])
        if slack is not None and slack > 0:
            err = min(err, math.ceil(abs(float(rp) - float(xp)) / float(slack)))
        worst = max(worst, err)
    return worst


def describe(outcome):
    if outcome.error is not None:
        return f"raises {outcome.error}"
    arr = outcome.array
    text = f"{dtype_name(arr.dtype)} shape {list(arr.shape)}"
    if arr.size <= 8:
        text += " " + json.dumps(encode_array(arr)["data"])
    return text


# ---------------------------------------------------------------------------
# Case specs and their resolution into JSON cases
# ---------------------------------------------------------------------------

@dataclass
class Spec:
    name: str
    expr: str
    inputs: dict
    ulps: int = 0
    group: str = ""            # for the difference report, e.g. "operator %"
    defect: str = None         # DEFECTS key this case exercises
    note: str = None
    measure: bool = False      # measure float error against mpmath
    may_crash: bool = False    # run numexpr in a child process
    compare_numpy: bool = True  # False where the NumPy reading is not meaningful
    numpy_inputs: dict = None   # inputs for NumPy if not the same (e.g. widened as numexpr does)
    numpy_expr: str = None      # expression for NumPy if not the same


@dataclass
class Report:
    defect_hits: dict = field(default_factory=dict)   # key -> [(file, case name)]
    kept: dict = field(default_factory=dict)          # (group, kind) -> [(file, name, detail)]


REPORT = Report()


def difference_kind(ne_out, np_out):
    if ne_out.error is not None:
        return "numexpr refuses, NumPy evaluates", np_out.error or describe(np_out)
    if np_out.error is not None:
        return "NumPy refuses, numexpr evaluates", np_out.error
    a, b = ne_out.array, np_out.array
    if a.dtype != b.dtype:
        return "result dtype", f"numexpr {dtype_name(a.dtype)}, NumPy {dtype_name(b.dtype)}"
    if a.shape != b.shape:
        return "result shape", f"numexpr {list(a.shape)}, NumPy {list(b.shape)}"
    return "values", "values differ beyond the case's ulps"


def cast_numeric(inputs, dtype):
    if dtype.kind not in "iufc":
        return inputs
    # only widen (never complex -> real: real(z) keeps its complex input)
    return {k: v.astype(dtype) if v.dtype.kind in "biufc" and np.can_cast(v.dtype, dtype, "same_kind")
            else v for k, v in inputs.items()}


def numpy_outcome(spec, ne_out):
    if not spec.compare_numpy:
        return ne_out
    inputs = spec.numpy_inputs if spec.numpy_inputs is not None else spec.inputs
    if spec.defect in VALUE_DEFECTS and ne_out.error is None:
        inputs = cast_numeric(inputs, ne_out.array.dtype)
    return run_numpy(spec.numpy_expr or spec.expr, inputs)


def measured_tolerance(spec, ne_out, np_out, ulps, defect, notes):
    """Raise ulps to numexpr's measured error; past ACCURACY_LIMIT_ULPS (with NumPy
    accurate) numexpr is wrong and the case becomes an accuracy defect."""
    exact = run_exact(spec.expr, spec.inputs)
    ne_err = max_error_ulps(ne_out.array, exact)
    np_err = max_error_ulps(np_out.array, exact) if np_out.error is None else None
    if ne_err is None:
        return ulps, defect
    if ne_err > ACCURACY_LIMIT_ULPS and np_err is not None and np_err <= ACCURACY_LIMIT_ULPS \
            and np_out.array.dtype == ne_out.array.dtype:
        if defect is None:
            defect = "complex_inaccurate" if ne_out.array.dtype.kind == "c" else "inaccurate"
        notes.append(f"numexpr's error is {ne_err} ulps, NumPy's {np_err}.")
        return max(ulps, np_err + 1), defect
    if ne_err > 0 and ne_err + 1 > ulps:
        notes.append(f"ulps raised: numexpr's own error is {ne_err} ulps.")
        return ne_err + 1, defect
    return ulps, defect


def resolve(spec, file_name):
    """Evaluate a spec both ways, pick the reference and encode the JSON case."""
    ne_out = (run_numexpr_isolated if spec.may_crash else run_numexpr)(spec.expr, spec.inputs)
    np_out = numpy_outcome(spec, ne_out)
    ulps, defect, notes = spec.ulps, spec.defect, [spec.note] if spec.note else []
    if spec.measure and ne_out.error is None:
        ulps, defect = measured_tolerance(spec, ne_out, np_out, ulps, defect, notes)

    agree = outcomes_agree(ne_out, np_out, ulps)
    follow_numpy = defect is not None and not agree
    if follow_numpy:
        REPORT.defect_hits.setdefault(defect, []).append((file_name, spec.name))
        notes.insert(0, DEFECTS[defect] + f" numexpr 2.14 {describe(ne_out)}.")
    elif not agree:
        kind, detail = difference_kind(ne_out, np_out)
        REPORT.kept.setdefault((spec.group, kind), []).append((file_name, spec.name, detail))
        notes.append(f"NumPy {np.__version__} differs: {detail}.")
    return encode_case(spec, np_out if follow_numpy else ne_out, follow_numpy, ulps, notes)


def encode_case(spec, chosen, follow_numpy, ulps, notes):
    case = {"name": spec.name, "expr": spec.expr,
            "inputs": {k: encode_array(v) for k, v in spec.inputs.items()}}
    if chosen.error is not None:
        case["error"] = chosen.error
    else:
        case["expected"] = encode_array(chosen.array)
    case["reference"] = "numpy" if follow_numpy else "numexpr"
    if chosen.error is None:
        case["ulps"] = ulps if chosen.array.dtype.kind in "fc" else 0
    if notes:
        case["note"] = " ".join(notes)
    return case


# ---------------------------------------------------------------------------
# Input values
# ---------------------------------------------------------------------------

def rng_for(name):
    """A generator seeded from the case name, so adding cases never shifts others."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def arr(values, dtype="float64", shape=None):
    a = np.array(values, dtype=dtype)
    return a.reshape(shape) if shape is not None else a


# Operands for the type-promotion table: mixed signs, exactly representable in the
# types they are cast to, and chosen so that left/right pairs hit equal values
# (for ==) and all four bool combinations.
LEFT = {
    "bool": [True, True, False, False, True, False],
    "int32": [7, -7, 0, 12, -100, 3],
    "int64": [7, -7, 0, 12, -100, 5_000_000_000],
    "float32": [1.5, -2.25, 0.0, 12.0, -0.1, 3.0e5],
    "float64": [1.5, -2.25, 0.0, 12.0, -0.1, 1.0e10],
    "complex128": [1.5 + 2j, -2.25 + 0j, 0j, 12 - 1j, -0.1 + 0.5j, 1e3 - 1e-3j],
}

# Right operands by the role the operator gives them: divisors avoid zero (zero
# divisors are in the integer and special-value sections), exponents stay small so
# integer powers do not overflow, shift counts stay below the width.
RIGHT = {
    "any": {
        "bool": [True, False, True, False, True, True],
        "int32": [7, -3, 5, 12, -100, 1],
        "int64": [7, -3, 5, 12, -100, 3_000_000_000],
        "float32": [7.0, -3.5, 0.5, 12.0, -100.0, 1e-3],
        "float64": [7.0, -3.5, 0.5, 12.0, -100.0, 1e-3],
        "complex128": [7 + 0j, -3.5 + 1j, 0.5 - 0.5j, 12 + 0j, -100 + 2j, 1e-3j],
    },
    "exponent": {
        "bool": [True, False, True, False, True, True],
        "int32": [2, 3, 0, 1, 2, 3],
        "int64": [2, 3, 0, 1, 2, 3],
        "float32": [2.0, 0.5, -1.5, 3.0, 1.25, 0.0],
        "float64": [2.0, 0.5, -1.5, 3.0, 1.25, 0.0],
        "complex128": [2 + 0j, 0.5j, -1 + 1j, 1 + 0j, 0.5 + 0.5j, 0j],
    },
    "shift": {
        "bool": [True, False, True, False, True, True],
        "int32": [1, 2, 0, 3, 4, 5],
        "int64": [1, 2, 0, 3, 4, 40],
        "float32": [1.0, 2.0, 0.0, 3.0, 4.0, 5.0],
        "float64": [1.0, 2.0, 0.0, 3.0, 4.0, 5.0],
        "complex128": [1 + 0j, 2 + 0j, 0j, 3 + 0j, 4 + 0j, 5 + 0j],
    },
}

# (case-name prefix, symbol, role of the right operand: selects its values in RIGHT)
BINARY_OPS = (
    ("add", "+", "any"), ("sub", "-", "any"), ("mul", "*", "any"),
    ("truediv", "/", "any"), ("mod", "%", "any"), ("pow", "**", "exponent"),
    ("floordiv", "//", "any"), ("lt", "<", "any"), ("le", "<=", "any"),
    ("eq", "==", "any"), ("ne", "!=", "any"), ("ge", ">=", "any"), ("gt", ">", "any"),
    ("and", "&", "any"), ("or", "|", "any"), ("xor", "^", "any"),
    ("lshift", "<<", "shift"), ("rshift", ">>", "shift"),
)
UNARY_OPS = (("neg", "-"), ("invert", "~"), ("pos", "+"))

OP_FAMILIES = (
    ("Arithmetic", ("+", "-", "*")),
    ("True division", ("/",)),
    ("Floor division and modulo", ("//", "%")),
    ("Power", ("**",)),
    ("Comparisons", ("<", "<=", "==", "!=", ">=", ">")),
    ("Bitwise and logical", ("&", "|", "^")),
    ("Shifts", ("<<", ">>")),
)


def is_int(t):
    return t in ("int32", "int64")


def op_ulps(symbol, result_types):
    """Default tolerance: IEEE-exact operations 0, pow 4, complex division 4."""
    if symbol == "**" and "complex128" in result_types:
        # exp(b log a) loses digits in proportion to |b log a|: NumPy's own
        # (1000-0.001j) ** 3.7 is 13 ulps from the exact value (mpmath).
        return 64
    if symbol == "**":
        return 4
    if symbol == "/" and "complex128" in result_types:
        return 4  # numexpr divides naively; a scaled (Smith) division may differ
    return 0


def op_defect(symbol, left_t, right_t, right_is_float_literal=False):
    """Which known numexpr defect (if any) an operator case may exercise."""
    floats = ("float32", "float64")
    if symbol == "/" and "complex128" in (left_t, right_t):
        return "complex_division"
    if symbol == "**" and "complex128" in (left_t, right_t):
        return "complex_pow"
    if symbol == "%" and is_int(left_t) and is_int(right_t):
        return "int_mod_overflow"
    if symbol == "%" and (left_t in floats or right_t in floats):
        return "float_mod"
    if symbol == "//" and (left_t in floats or right_t in floats):
        return "float_floordiv"
    if symbol == "**" and (is_int(left_t) or left_t == "bool") and right_is_float_literal:
        return "pow_int_float_exponent"
    if symbol == "**" and is_int(left_t) and is_int(right_t):
        return "pow_int_overflow"
    return None


# ---------------------------------------------------------------------------
# operators.json
# ---------------------------------------------------------------------------

def operand(values, dtype, zero_d, pick=1):
    """An array operand, or a 0-d one holding element `pick` of the same values."""
    return arr(values[pick], dtype) if zero_d else arr(values, dtype)


def shape_label(t, zero_d):
    return f"{t}[]" if zero_d else f"{t}[6]"


SHAPE_COMBOS = ((False, False), (False, True), (True, False), (True, True))


def binary_type_table_specs():
    specs = []
    for name, symbol, role in BINARY_OPS:
        for lt in TYPES:
            for rt in TYPES:
                for lz, rz in SHAPE_COMBOS:
                    a = operand(LEFT[lt], lt, lz, pick=1)
                    b = operand(RIGHT[role][rt], rt, rz, pick=2)
                    specs.append(Spec(
                        name=f"{name} {shape_label(lt, lz)} {shape_label(rt, rz)}",
                        expr=f"a {symbol} b", inputs={"a": a, "b": b},
                        ulps=op_ulps(symbol, (lt, rt)), group=f"operator {symbol}",
                        defect=op_defect(symbol, lt, rt),
                        measure=symbol == "**" and (lt in FLOAT_TYPES or rt in FLOAT_TYPES)))
    return specs


def unary_specs():
    specs = []
    for name, symbol in UNARY_OPS:
        for t in TYPES:
            for zero_d in (False, True):
                specs.append(Spec(
                    name=f"{name} {shape_label(t, zero_d)}", expr=f"{symbol}a",
                    inputs={"a": operand(LEFT[t], t, zero_d)}, group=f"operator unary {symbol}"))
    return specs


INT_LIMITS = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}


def integer_semantics_specs():
    """% // / ** << >> and wraparound on edge values of int32 and int64."""
    specs = []
    for t in ("int32", "int64"):
        lo, hi = INT_LIMITS[t]
        bits = 32 if t == "int32" else 64
        signs_a = arr([7, -7, 7, -7, 6, -6, 0, 3, -3, 1], t)
        signs_b = arr([3, 3, -3, -3, 3, -3, 5, -5, 7, -7], t)
        for sym, nm in (("%", "mod"), ("//", "floordiv"), ("/", "truediv")):
            specs.append(Spec(f"{nm} {t} operand signs", f"a {sym} b",
                              {"a": signs_a, "b": signs_b}, group=f"integer {sym}",
                              defect=op_defect(sym, t, t)))
            specs.append(Spec(f"{nm} {t} by zero", f"a {sym} b",
                              {"a": arr([7, -7, 0, hi, lo], t), "b": arr([0] * 5, t)},
                              group=f"integer {sym}", defect=op_defect(sym, t, t)))
        for sym, nm in (("%", "mod"), ("//", "floordiv")):
            specs.append(Spec(f"{nm} {t} MIN by -1", f"a {sym} b",
                              {"a": arr([lo], t), "b": arr([-1], t)}, group=f"integer {sym}",
                              defect="int_division_overflow", may_crash=True))
            specs.append(Spec(f"{nm} {t} extremes", f"a {sym} b",
                              {"a": arr([lo, lo, hi, hi, lo + 1, -1], t),
                               "b": arr([hi, 2, lo, -2, lo, lo], t)}, group=f"integer {sym}",
                              defect=op_defect(sym, t, t)))
        # wraparound of + - * and unary minus
        specs += [
            Spec(f"add {t} overflow wraps", "a + b",
                 {"a": arr([hi, lo, hi], t), "b": arr([1, -1, hi], t)}, group="integer wrap"),
            Spec(f"sub {t} overflow wraps", "a - b",
                 {"a": arr([lo, hi], t), "b": arr([1, -1], t)}, group="integer wrap"),
            Spec(f"mul {t} overflow wraps", "a * b",
                 {"a": arr([hi, lo, 65536, -65536], t), "b": arr([2, -1, 65536, 65537], t)},
                 group="integer wrap"),
            Spec(f"neg {t} MIN wraps", "-a", {"a": arr([lo, hi, 0], t)}, group="integer wrap"),
            Spec(f"invert {t} edges", "~a", {"a": arr([lo, hi, 0, -1], t)}, group="integer wrap"),
            Spec(f"abs {t} MIN wraps", "abs(a)", {"a": arr([lo, -1, 0, hi], t)},
                 group="integer wrap", defect="abs_int"),
        ]
        # integer powers: array exponents use numexpr's pow opcode
        specs += [
            Spec(f"pow {t} small", "a ** b",
                 {"a": arr([2, -2, 3, 0, 1, -1, 10, 0], t), "b": arr([0, 1, 2, 3, 5, 7, 9, 0], t)},
                 group="integer **", defect="pow_int_overflow"),
            Spec(f"pow {t} overflow", "a ** b",
                 {"a": arr([2, 3, -3, 7], t), "b": arr([bits, 40, 41, 100], t)},
                 group="integer **", defect="pow_int_overflow"),
            Spec(f"pow {t} negative exponent", "a ** b",
                 {"a": arr([1, -1, 2, -2, 5], t), "b": arr([-1, -2, -1, -3, -2], t)},
                 group="integer **", defect="pow_int_negative"),
            Spec(f"pow {t} zero to negative exponent", "a ** b",
                 {"a": arr([0], t), "b": arr([-1], t)},
                 group="integer **", defect="pow_int_negative", may_crash=True),
            Spec(f"pow {t} literal 60 (not expanded)", "a ** 60",
                 {"a": arr([2, 3, -1, 1, 0], t)}, group="integer **", defect="pow_int_overflow"),
            Spec(f"pow {t} literal 31 (expanded to multiplications)", "a ** 31",
                 {"a": arr([2, 3, -1, 1, 0], t)}, group="integer **", defect="pow_int_overflow"),
        ]
        # shifts: counts at and beyond the width, negative counts, negative operands
        counts = [0, 1, bits - 1, bits, bits + 1, 2 * bits, -1]
        for sym, nm in (("<<", "lshift"), (">>", "rshift")):
            for base in (5, -5):
                specs.append(Spec(f"{nm} {t} {'negative' if base < 0 else 'positive'} "
                                  f"by edge counts", f"a {sym} b",
                                  {"a": arr([base] * len(counts), t), "b": arr(counts, t)},
                                  group=f"integer {sym}"))
            specs.append(Spec(f"{nm} {t} extremes", f"a {sym} b",
                              {"a": arr([lo, hi, -1, 1], t), "b": arr([1, 1, bits - 1, bits - 1], t)},
                              group=f"integer {sym}"))
        specs.append(Spec(f"bitwise {t} negatives", "(a & b) + (a | b) * 3 + (a ^ b) * 7",
                          {"a": arr([-1, -8, 5, lo], t), "b": arr([3, -3, -6, hi], t)},
                          group="integer bitwise"))
    # bool arithmetic: + is or, * is and, - and unary - are refused
    tf = {"a": arr([True, True, False, False], bool), "b": arr([True, False, True, False], bool)}
    for sym, nm in (("+", "add"), ("*", "mul"), ("-", "sub"), ("/", "truediv"),
                    ("//", "floordiv"), ("%", "mod"), ("**", "pow")):
        specs.append(Spec(f"{nm} bool truth table", f"a {sym} b", dict(tf), group="bool arithmetic"))
    return specs


def precedence_specs():
    """Python operator precedence and associativity, as numexpr inherits them."""
    x = arr([1.5, -2.0, 3.0, 0.5], "float64")
    y = arr([2.0, 3.0, -1.0, 4.0], "float64")
    z = arr([-1.0, 0.5, 2.0, 3.0], "float64")
    i = arr([1, 2, 3, 4], "int32")
    j = arr([3, 1, 2, 0], "int32")
    bb = arr([True, False, True, False], bool)
    cc = arr([True, True, False, False], bool)
    items = [
        ("mul before add", "a + b * c", {"a": x, "b": y, "c": z}),
        ("parentheses", "(a + b) * c", {"a": x, "b": y, "c": z}),
        ("sub left-assoc", "a - b - c", {"a": x, "b": y, "c": z}),
        ("div left-assoc", "a / b / c", {"a": x, "b": y, "c": z}),
        ("pow right-assoc", "a ** b ** c", {"a": arr([2.0, 1.5, 3.0, 0.5]), "b": arr([2.0, 2.0, 0.5, 3.0]), "c": arr([2.0, 1.0, 2.0, 0.5])}),
        ("unary minus after pow", "-a ** 2", {"a": x}),
        ("pow of negated", "(-a) ** 2", {"a": x}),
        ("pow binds unary right", "a ** -b", {"a": arr([2.0, 4.0, 0.5, 3.0]), "b": y}),
        ("shift below add", "a << b + 1", {"a": i, "b": j}),
        ("and before xor before or", "a | b & c ^ d", {"a": i, "b": j, "c": arr([7, 6, 5, 4], "int32"), "d": arr([1, 1, 2, 2], "int32")}),
        ("comparison below arithmetic", "a + 1 < b * 2", {"a": x, "b": y}),
        ("logical combination", "(a > 0) & (b < 2) | ~c", {"a": x, "b": y, "c": bb}),
        ("invert binds tight", "~a & b", {"a": bb, "b": cc}),
        ("chained comparison refused", "a < b < c", {"a": x, "b": y, "c": z}),
        ("python and refused", "a and b", {"a": bb, "b": cc}),
        ("python or refused", "a or b", {"a": bb, "b": cc}),
        ("python not refused", "not a", {"a": bb}),
        ("conditional expression refused", "a if c else b", {"a": x, "b": y, "c": bb}),
        ("floordiv and mod same level", "a // b % c", {"a": arr([17, -17, 9, 100], "int32"), "b": arr([3, 3, -2, 7], "int32"), "c": arr([4, 4, 3, 5], "int32")}),
        ("unary plus", "+a - -b", {"a": x, "b": y}),
        ("double negation", "--a", {"a": i}),
        ("common subexpression", "(a + b) * (a + b) - (a + b)", {"a": x, "b": y}),
        ("variable named like a function argument", "where(a > b, a, b) + sin(a)", {"a": x, "b": y}),
    ]
    return [Spec(f"expression {n}", e, ins, ulps=4 if "sin" in e or "**" in e else 0,
                 group="expressions", measure="**" in e) for n, e, ins in items]


def gen_operators():
    return binary_type_table_specs() + unary_specs() + integer_semantics_specs() + precedence_specs()


# ---------------------------------------------------------------------------
# literals.json
# ---------------------------------------------------------------------------

GENERIC_LITERALS = ("True", "3", "2147483648", "2.5", "1j")
EXTRA_LITERALS = {
    "/": ("0", "0.0", "4.0", "3.0"),
    "//": ("0", "-2", "0.0"),
    "%": ("0", "-2", "0.0"),
    "**": ("2", "0", "-1", "-2", "2.0", "-2.0", "0.5", "-0.5", "2.5", "3.7", "60", "31"),
    "<<": ("1", "31", "32", "-1"),
    ">>": ("1", "31", "32", "-1"),
}
LEFT_EXTRA_LITERALS = {"**": ("2", "0", "0.5"), "/": ("1",), "-": ("0",)}


def unique(items):
    return tuple(dict.fromkeys(items))


def literal_kind(text):
    value = ast.literal_eval(text)
    return "float" if isinstance(value, float) else type(value).__name__


def literal_op_specs():
    specs = []
    for name, symbol, role in BINARY_OPS:
        for t in TYPES:
            a = arr(LEFT[t], t)           # the array as left operand
            b = arr(RIGHT[role][t], t)    # the array as right operand (exponent, count, ...)
            for lit in unique(GENERIC_LITERALS + EXTRA_LITERALS.get(symbol, ())):
                if symbol == "**" and t == "complex128" and lit == "2147483648":
                    # Both libraries overflow in intermediate products here (NumPy gives
                    # (-2.25)**2**31 = inf-infj, numexpr likewise): no reference to trust.
                    # vexpr's value, inf+0j (the power is real), is checked in crates/vexpr/tests/api.rs.
                    continue
                float_lit = literal_kind(lit) == "float"
                spec = Spec(
                    f"{name} {t}[6] literal {lit}", f"a {symbol} {lit}", {"a": a},
                    ulps=_literal_ulps(symbol, t, lit), group=f"literal {symbol}",
                    defect=_literal_defect(op_defect(symbol, t, _literal_type(lit), float_lit),
                                           t, lit),
                    measure=symbol == "**")
                if symbol == "**" and literal_kind(lit) == "complex":
                    spec.defect = "pow_complex_literal"
                    spec.numpy_inputs = {"a": a.astype(np.complex128)}  # numexpr's typing
                if spec.defect == "div_by_zero_literal":
                    zero_division_reference(spec, symbol, lit)
                specs.append(spec)
            for lit in unique(GENERIC_LITERALS + LEFT_EXTRA_LITERALS.get(symbol, ())):
                spec = Spec(
                    f"{name} literal {lit} {t}[6]", f"{lit} {symbol} a", {"a": b},
                    ulps=_literal_ulps(symbol, t, lit), group=f"literal {symbol}",
                    defect=_literal_defect(op_defect(symbol, _literal_type(lit), t), t, lit),
                    measure=symbol == "**")
                if symbol in MISSING_REFLECTIONS:
                    reflected_reference(spec, symbol, lit)
                specs.append(spec)
    return specs


def zero_division_reference(spec, symbol, lit):
    """`a / 0.0` fails in numexpr only because it folds 1/0.0 at compile time: type it as
    numexpr types `a / 1.0` and take NumPy's value (inf or nan) in that type."""
    probe = run_numexpr(f"a {symbol} 1.0", spec.inputs)
    if probe.error is not None:
        return
    dtype = probe.array.dtype.name
    spec.numpy_expr = f"a {symbol} asarray({lit}, '{dtype}')"
    spec.numpy_inputs = cast_numeric(spec.inputs, probe.array.dtype)


# Operators whose reflected form numexpr's expression nodes do not define.
MISSING_REFLECTIONS = ("&", "|", "^", "//")


def reflected_reference(spec, symbol, lit):
    """`lit OP a` fails in numexpr only for want of a reflected method: type it as numexpr
    types `a OP lit` and take NumPy's value in that type."""
    mirrored = run_numexpr(f"a {symbol} {lit}", spec.inputs)
    if mirrored.error is not None:
        spec.defect = None  # numexpr refuses the types anyway: keep its error
        return
    dtype = mirrored.array.dtype.name
    spec.defect = "reflected_operators"
    spec.numpy_expr = f"asarray({lit}, '{dtype}') {symbol} a"
    spec.numpy_inputs = cast_numeric(spec.inputs, mirrored.array.dtype)


def _literal_type(lit):
    """numexpr's type for a literal: ints by value (int32 if it fits), floats double."""
    value = ast.literal_eval(lit)
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int32" if -2**31 <= value < 2**31 else "int64"
    if isinstance(value, float):
        return "float64"
    return "complex128"


def _literal_ulps(symbol, t, lit):
    if symbol == "/" and _literal_type(lit) == t and t in ("float64", "complex128"):
        return 1  # numexpr rewrites x / c as x * (1/c) when x and c have the same kind
    return op_ulps(symbol, (t, _literal_type(lit)))


def _literal_defect(defect, t, lit):
    """Which defect a literal case exercises. (A pow overflow with an int literal wider
    than the array stays a value defect: NumPy is asked with the inputs already in
    numexpr's wider result type, so it wraps instead of refusing.)"""
    if lit == "0.0" and defect is None:
        return "div_by_zero_literal"  # only '/' reacts; for others numexpr and NumPy agree
    return defect


CONSTANT_EXPRESSIONS = (
    # numexpr folds all-constant expressions with Python's own arithmetic
    "1 + 2", "7 // 2", "-7 % 3", "7 / 2", "2 ** -1", "2 ** 10", "2147483647 + 1",
    "True + True", "True & False", "~True", "~5", "1 / 0", "2 ** 100", "1.5 * 2",
    "3 < 4", "(1 + 2j) * 2", "sqrt(4)", "sin(0.0)", "where(True, 1, 2)", "sum(3)",
    "-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808", "1e400",
    "'abc' == 'abc'",
)

LITERAL_FORMS = (
    ("hex", "0x1F + a"), ("octal", "0o17 + a"), ("binary", "0b101 + a"),
    ("underscore", "1_000 + a"), ("exponent", "1e3 + a"), ("negative exponent", "1E-3 * a"),
    ("leading dot", ".5 * a"), ("trailing dot", "5. * a"), ("overflowing float", "1e400 * a"),
    ("subnormal float", "1e-320 + a"), ("imaginary float", "2.5j * a"), ("capital J", "1J + a"),
    ("int64 max", "a + 9223372036854775807"), ("beyond int64", "a + 9223372036854775808"),
    ("int32 min by negation", "a + -2147483648"), ("below int32", "a + -2147483649"),
    ("False", "a * False"), ("None refused", "a + None"), ("octal-looking refused", "a + 07"),
)

SYNTAX_ERRORS = (
    ("subscript", "a[0]"), ("semicolon", "a; a"), ("dunder", "__import__('os')"),
    ("attribute", "a.T"), ("method call", "a.conj()"), ("lambda", "lambda: a"),
    ("assignment", "a = 1"), ("empty", ""), ("dangling operator", "a +"),
    ("unbalanced paren", "(a + 1"), ("unknown function", "foo(a)"),
    ("missing input", "a + c"), ("keyword argument to sin", "sin(x=a)"),
)


def literal_form_specs():
    specs = []
    for t in ("int32", "int64", "float32", "float64"):
        a = arr(LEFT[t][:4], t)
        for label, expr in LITERAL_FORMS:
            specs.append(Spec(f"literal form {label} {t}", expr, {"a": a},
                              ulps=0, group="literal forms"))
    return specs


def constant_specs():
    # NumPy has no reading of a constant-only expression (Python computes it), so only
    # numexpr's outcome is recorded.
    return [Spec(f"constant {e}", e, {}, group="constant folding", compare_numpy=False)
            for e in CONSTANT_EXPRESSIONS]


def attribute_specs():
    specs = []
    for t in TYPES:
        for attr in ("real", "imag"):
            specs.append(Spec(f"attribute .{attr} {t}", f"a.{attr}", {"a": arr(LEFT[t], t)},
                              group="attributes"))
    specs.append(Spec("attribute .real of expression", "(a * b).real",
                      {"a": arr(LEFT["complex128"], "complex128"),
                       "b": arr(RIGHT["any"]["complex128"], "complex128")}, group="attributes"))
    return specs


def syntax_specs():
    a = arr([1.0, 2.0], "float64")
    return [Spec(f"refused {label}", expr, {"a": a}, group="syntax") for label, expr in SYNTAX_ERRORS]


def gen_literals():
    return literal_op_specs() + constant_specs() + literal_form_specs() + attribute_specs() + syntax_specs()


# ---------------------------------------------------------------------------
# functions.json
# ---------------------------------------------------------------------------

# Real domains the random inputs are drawn from (out-of-domain inputs are in
# special_values.json).  Integers are drawn from the same interval.
DOMAINS = {
    "sqrt": (0, 100), "sin": (-10, 10), "cos": (-10, 10), "tan": (-1.5, 1.5),
    "arcsin": (-1, 1), "arccos": (-1, 1), "arctan": (-20, 20), "sinh": (-5, 5),
    "cosh": (-5, 5), "tanh": (-5, 5), "arcsinh": (-20, 20), "arccosh": (1, 20),
    "arctanh": (-0.99, 0.99), "log": (0.01, 100), "log1p": (-0.99, 20),
    "log10": (0.01, 100), "log2": (0.01, 100), "exp": (-20, 20), "expm1": (-3, 3),
    "abs": (-10, 10), "ceil": (-10, 10), "floor": (-10, 10), "round": (-10, 10),
    "trunc": (-10, 10), "sign": (-10, 10), "isnan": (-10, 10), "isfinite": (-10, 10),
    "isinf": (-10, 10), "signbit": (-10, 10), "real": (-10, 10), "imag": (-10, 10),
    "conj": (-10, 10), "copy": (-10, 10), "ones_like": (-10, 10),
    "arctan2": (-10, 10), "fmod": (-10, 10), "hypot": (-10, 10), "nextafter": (-10, 10),
    "copysign": (-10, 10), "maximum": (-10, 10), "minimum": (-10, 10), "complex": (-10, 10),
}
TRANSCENDENTAL = {"sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
                  "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "log", "log1p", "log10",
                  "log2", "exp", "expm1", "arctan2", "hypot"}
UNARY_FUNCS = ("sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
               "tanh", "arcsinh", "arccosh", "arctanh", "log", "log1p", "log10", "log2",
               "exp", "expm1", "abs", "ceil", "floor", "round", "trunc", "sign", "isnan",
               "isfinite", "isinf", "signbit", "real", "imag", "conj", "copy", "ones_like")
BINARY_FUNCS = ("arctan2", "fmod", "hypot", "nextafter", "copysign", "maximum",
                "minimum", "complex")
# Rounding functions get quarter steps so that ties (x.5) are exercised.
ROUNDING = {"ceil", "floor", "round", "trunc", "sign"}


def func_ulps(fn, types):
    """IEEE-exact functions 0; libm-backed ones 4; real sqrt is exactly rounded."""
    if fn == "sqrt" and "complex128" not in types:
        return 0
    if fn in TRANSCENDENTAL or (fn == "abs" and "complex128" in types):
        return 4
    if fn == "sign" and "complex128" in types:
        return 4
    return 0


def sample(fn, t, rng, n=8, positive_only=False):
    lo, hi = DOMAINS[fn]
    if positive_only:
        lo = max(lo, 0.5)
    if t == "bool":
        return arr([True, False, True, True, False, False, True, False][:n], bool)
    if is_int(t):
        ilo, ihi = math.ceil(lo), math.floor(hi)
        return arr(rng.integers(ilo, ihi + 1, size=n), t)
    if fn in ROUNDING:
        vals = rng.integers(int(lo * 4), int(hi * 4) + 1, size=n) / 4.0
        vals[:4] = [0.5, -0.5, 2.5, -1.5]
        return arr(vals, t)
    if t == "complex128":
        span = 3.0 if fn not in ("exp", "expm1", "sinh", "cosh", "tanh") else 2.0
        return arr(rng.uniform(-span, span, n) + 1j * rng.uniform(-span, span, n), t)
    return arr(rng.uniform(lo, hi, n), t)


def function_defect(fn, types):
    if fn == "abs" and any(is_int(t) for t in types):
        return "abs_int"
    if fn == "abs" and "complex128" in types:
        return "abs_complex"
    # numexpr refuses complex() when its arguments' common kind is int or long
    if fn == "complex" and all(t in ("bool", "int32", "int64") for t in types) \
            and any(is_int(t) for t in types):
        return "complex_int_args"
    return None


def unary_function_specs():
    specs = []
    for fn in UNARY_FUNCS:
        for t in TYPES:
            name = f"{fn} {t}"
            a = sample(fn, t, rng_for(name))
            specs.append(Spec(name, f"{fn}(a)", {"a": a}, ulps=func_ulps(fn, (t,)),
                              group=f"function {fn}", defect=function_defect(fn, (t,)),
                              measure=fn in TRANSCENDENTAL and t != "bool"))
        # a 0-d and a 2-D input keep shape handling honest
        specs.append(Spec(f"{fn} float64 0-d", f"{fn}(a)",
                          {"a": arr(sample(fn, "float64", rng_for(fn + "0d"))[0], "float64")},
                          ulps=func_ulps(fn, ("float64",)), group=f"function {fn}",
                          measure=fn in TRANSCENDENTAL))
        specs.append(Spec(f"{fn} float32 2-D", f"{fn}(a)",
                          {"a": sample(fn, "float32", rng_for(fn + "2d"), n=6).reshape(2, 3)},
                          ulps=func_ulps(fn, ("float32",)), group=f"function {fn}",
                          measure=fn in TRANSCENDENTAL))
    return specs


def binary_function_specs():
    specs = []
    for fn in BINARY_FUNCS:
        for lt in TYPES:
            for rt in TYPES:
                name = f"{fn} {lt} {rt}"
                rng = rng_for(name)
                a = sample(fn, lt, rng)
                b = sample(fn, rt, rng, positive_only=fn == "fmod")
                specs.append(Spec(name, f"{fn}(a, b)", {"a": a, "b": b},
                                  ulps=func_ulps(fn, (lt, rt)), group=f"function {fn}",
                                  defect=function_defect(fn, (lt, rt)),
                                  measure=fn in TRANSCENDENTAL))
    return specs


def where_specs():
    specs = []
    for ct in TYPES:
        for bt in TYPES:
            for et in TYPES:
                if ct != "bool" and (bt, et) != ("float64", "float64"):
                    continue  # non-bool conditions: one case each is enough to see the refusal
                name = f"where {ct} {bt} {et}"
                rng = rng_for(name)
                specs.append(Spec(name, "where(c, a, b)",
                                  {"c": arr(LEFT[ct], ct), "a": arr(LEFT[bt], bt),
                                   "b": sample("copy", et, rng, n=6)}, group="function where"))
    specs += [
        Spec("where constant true condition", "where(True, a, b)",
             {"a": arr([1, 2, 3], "int32"), "b": arr([0.5, 1.5, 2.5], "float32")}, group="function where"),
        Spec("where constant false condition", "where(False, a, b)",
             {"a": arr([1, 2, 3], "int32"), "b": arr([0.5, 1.5, 2.5], "float32")}, group="function where"),
        Spec("where literal branches", "where(c, 1, 2.5)",
             {"c": arr([True, False, True], bool)}, group="function where"),
        Spec("where comparison condition", "where(a > b, a - b, b - a)",
             {"a": arr([1.0, 5.0, -2.0], "float64"), "b": arr([2.0, 3.0, -2.0], "float64")},
             group="function where"),
        Spec("where two arguments refused", "where(c, a)",
             {"c": arr([True, False], bool), "a": arr([1.0, 2.0], "float64")}, group="function where"),
    ]
    return specs


def function_misc_specs():
    x = arr([0.5, 1.5], "float64")
    return [
        Spec("sin two arguments refused", "sin(a, a)", {"a": x}, group="function arity",
             compare_numpy=False),  # NumPy reads the second argument as out=
        Spec("arctan2 one argument refused", "arctan2(a)", {"a": x}, group="function arity"),
        Spec("nested functions", "sqrt(abs(sin(a)) + cos(a) ** 2)", {"a": arr([0.5, 1.5, -2.0, 3.0])},
             ulps=4, group="function nesting", measure=True),
        Spec("contains on numbers refused", "contains(a, a)", {"a": x}, group="function contains"),
    ]


def gen_functions():
    return unary_function_specs() + binary_function_specs() + where_specs() + function_misc_specs()


# ---------------------------------------------------------------------------
# special_values.json
# ---------------------------------------------------------------------------

F64_MIN_NORMAL = 2.2250738585072014e-308
F32_MIN_NORMAL = float(np.finfo(np.float32).tiny)
F32_MAX = float(np.finfo(np.float32).max)
F32_SUBNORMAL = float(np.float32(1e-45))

SPECIAL_UNARY = {
    "float64": [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, -5e-324, F64_MIN_NORMAL,
                -F64_MIN_NORMAL, 1.7976931348623157e308, -1.7976931348623157e308, 1e-300,
                1.0, -1.0, 0.5, 710.0],
    "float32": [math.nan, math.inf, -math.inf, 0.0, -0.0, F32_SUBNORMAL, -F32_SUBNORMAL,
                F32_MIN_NORMAL, -F32_MIN_NORMAL, F32_MAX, -F32_MAX, 1e-30, 1.0, -1.0, 0.5, 89.0],
}
SPECIAL_BINARY = {
    "float64": [math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, 1.7976931348623157e308, 1.0, -2.5],
    "float32": [math.nan, math.inf, -math.inf, 0.0, -0.0, F32_SUBNORMAL, F32_MAX, 1.0, -2.5],
}
COMPLEX_PARTS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1.5]
SPECIAL_COMPLEX_BINARY = [complex(math.inf, 0), complex(-math.inf, 0), complex(0, math.inf),
                          complex(math.nan, 0), complex(0, math.nan), 0j, complex(-0.0, -0.0),
                          complex(1e300, 1e300), complex(1.5, -2.0)]
CHUNK = 16


def chunks(items, size=CHUNK):
    return [items[i:i + size] for i in range(0, len(items), size)]


def special_function_defect(fn, t):
    if t == "complex128" and fn == "abs":
        return "abs_complex"
    if t == "complex128":
        return "complex_special_values"
    return function_defect(fn, (t,))


def special_unary_values(t):
    if t == "complex128":
        return [complex(r, i) for r in COMPLEX_PARTS for i in COMPLEX_PARTS]
    return SPECIAL_UNARY[t]


def special_function_specs(t):
    specs = []
    for fn in (f for f in UNARY_FUNCS if f not in ("copy", "ones_like")):
        for k, part in enumerate(chunks(special_unary_values(t), 12 if t == "complex128" else 16)):
            specs.append(Spec(f"{fn} {t} specials {k}", f"{fn}(a)", {"a": arr(part, t)},
                              ulps=func_ulps(fn, (t,)), group=f"special function {fn}",
                              defect=special_function_defect(fn, t)))
    specs.append(Spec(f"neg {t} specials", "-a", {"a": arr(special_unary_values(t)[:16], t)},
                      group="special unary"))
    return specs


def special_pair_specs(t):
    """Every operator and two-argument function over all pairs of special values."""
    specs = []
    pool = SPECIAL_COMPLEX_BINARY if t == "complex128" else SPECIAL_BINARY[t]
    pairs = [(x, y) for x in pool for y in pool]
    ops = [(n, s) for n, s, _ in BINARY_OPS if s not in ("&", "|", "^", "<<", ">>")]
    funcs = [f for f in BINARY_FUNCS if f != "complex"] if t != "complex128" else []
    for k, part in enumerate(chunks(pairs)):
        ab = {"a": arr([p[0] for p in part], t), "b": arr([p[1] for p in part], t)}
        for name, symbol in ops:
            defect = op_defect(symbol, t, t)
            if t == "complex128" and symbol == "**":
                defect = "complex_pow"
            specs.append(Spec(f"{name} {t} specials {k}", f"a {symbol} b", dict(ab),
                              ulps=op_ulps(symbol, (t,)), group=f"special operator {symbol}",
                              defect=defect))
        for fn in funcs:
            specs.append(Spec(f"{fn} {t} specials {k}", f"{fn}(a, b)", dict(ab),
                              ulps=func_ulps(fn, (t,)), group=f"special function {fn}"))
    return specs


def special_edge_specs():
    """Precision edges of numexpr's casts and of its float % // and complex / formulas."""
    big = arr([2**24 + 1, 2**53 + 1, -(2**31), 2**62], "int64")
    return [
        Spec("int64 to float32 cast rounding", "a + b",
             {"a": big, "b": arr([0.0] * 4, "float32")}, group="special casts"),
        Spec("int64 vs float32 comparison", "a == b",
             {"a": big, "b": arr([2**24, 2**53, -(2**31), 2**62], "float32")}, group="special casts"),
        Spec("int64 to float64 cast rounding", "a + b",
             {"a": big, "b": arr([0.0] * 4, "float64")}, group="special casts"),
        Spec("float mod large quotient", "a % b",
             {"a": arr([1e17, -1e17, 1e300, 5.0], "float64"), "b": arr([3.0, 3.0, 7.0, 1e-300], "float64")},
             group="special operator %", defect="float_mod"),
        Spec("float floordiv inexact quotient", "a // b",
             {"a": arr([1.0, -1.0, 0.3, 7.0], "float64"), "b": arr([0.1, 0.1, 0.1, 0.7], "float64")},
             group="special operator //", defect="float_floordiv"),
        Spec("complex division overflow", "a / b",
             {"a": arr([1e300 + 1e300j, 1 + 1j, 1e-300 + 1e-300j], "complex128"),
              "b": arr([1e300 + 1e300j, 1e-200 + 1e-200j, 1e-300 + 1e-300j], "complex128")},
             ulps=4, group="special operator /", defect="complex_division"),
    ]


def complex_accuracy_specs():
    """Inputs where numexpr's complex formulas lose accuracy (measured against mpmath)."""
    small = arr([3e-9 + 4e-13j, -2e-12 - 1.3e-9j, 1e-5 + 1e-5j, 0.5 + 0.5j], "complex128")
    near_one = arr([0.6 + 0.8j, -0.96 - 0.28j, 0.8 - 0.6000000001j, 1 + 1e-8j], "complex128")
    specs = []
    # (log1p is left out: NumPy's complex log1p is as inaccurate as numexpr's there)
    for fn in ("arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
               "expm1", "sin", "tan", "tanh", "sqrt", "exp"):
        specs.append(Spec(f"{fn} complex128 small |z|", f"{fn}(a)", {"a": small}, ulps=4,
                          group=f"accuracy {fn}", measure=True))
    for fn in ("log", "log10", "log2", "sqrt"):
        specs.append(Spec(f"{fn} complex128 near |z|=1", f"{fn}(a)", {"a": near_one}, ulps=4,
                          group=f"accuracy {fn}", measure=True))
    return specs


def gen_special_values():
    specs = []
    for t in FLOAT_TYPES:
        specs += special_function_specs(t) + special_pair_specs(t)
    return specs + special_edge_specs() + complex_accuracy_specs()


# ---------------------------------------------------------------------------
# broadcasting.json
# ---------------------------------------------------------------------------

def counting(shape, dtype="float64", start=1):
    n = int(np.prod(shape)) if shape else 1
    return (np.arange(start, start + n) * (1.5 if dtype != "int32" else 1)).astype(dtype).reshape(shape)


BROADCAST_PAIRS = (
    ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((3, 1), (4,)), ((2, 3, 2), (3, 1)),
    ((2, 1, 2), (1, 3, 1)), ((1,), (5,)), ((5,), ()), ((), (2, 3)), ((), ()),
    ((0,), (0,)), ((0,), ()), ((0, 3), (3,)), ((0, 3), (1, 3)), ((2, 0), (2, 1)),
    ((1, 0), (3, 1)),
    ((3,), (4,)), ((2, 3), (3, 2)), ((0,), (2,)), ((2, 3), (2,)),
)


def gen_broadcasting():
    specs = []
    for sa, sb in BROADCAST_PAIRS:
        label = f"{list(sa)} with {list(sb)}"
        a, b = counting(sa), counting(sb, start=7)
        defect = "empty_broadcast" if 0 in sa + sb else None
        specs.append(Spec(f"add {label}", "a + b", {"a": a, "b": b}, group="broadcasting",
                          defect=defect))
        specs.append(Spec(f"mixed types {label}", "a * b - 1",
                          {"a": counting(sa, "int32"), "b": counting(sb, "float32", 3)},
                          group="broadcasting", defect=defect))
    specs += [
        Spec("three operands", "a * b + c",
             {"a": counting((2, 1, 3)), "b": counting((2, 1)), "c": counting((3,))}, group="broadcasting"),
        Spec("where broadcast", "where(c, a, b)",
             {"c": arr([[True], [False]], bool), "a": counting((3,)), "b": counting(())}, group="broadcasting"),
        Spec("arctan2 broadcast", "arctan2(a, b)",
             {"a": counting((2, 1)), "b": counting((1, 3), start=-1)}, ulps=4, group="broadcasting"),
        Spec("0-d with literal", "a + 1", {"a": counting(())}, group="broadcasting"),
        Spec("3-D same shape", "a - b", {"a": counting((2, 2, 3)), "b": counting((2, 2, 3), start=5)},
             group="broadcasting"),
        Spec("empty 3-D", "a * 2", {"a": counting((2, 0, 3))}, group="broadcasting"),
        Spec("empty comparison", "a < b", {"a": counting((0,)), "b": counting(())}, group="broadcasting"),
        Spec("empty strings", "a == b", {"a": np.zeros((0,), "S3"), "b": arr(b"ab", "S2")},
             group="broadcasting"),
    ]
    return specs


# ---------------------------------------------------------------------------
# reductions.json
# ---------------------------------------------------------------------------

REDUCTIONS = ("sum", "prod", "min", "max")


def reduction_values(t, shape, rng):
    n = int(np.prod(shape))
    if t == "bool":
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    if is_int(t):
        return arr(rng.integers(-9, 10, n), t, shape)
    if t == "complex128":
        return arr(np.round(rng.uniform(-3, 3, n), 3) + 1j * np.round(rng.uniform(-3, 3, n), 3), t, shape)
    return arr(rng.uniform(-3, 3, n), t, shape)


def reduction_defect(fn, t, shape):
    if 0 in shape and fn in ("min", "max") and t == "complex128":
        return None  # numexpr has no complex min/max at all: its refusal stands
    if 0 in shape:
        return "reduce_empty"
    if fn in ("sum", "prod") and t in ("bool", "int32"):
        return "sum_prod_accumulator"
    if fn in ("min", "max") and t == "int32":
        return "minmax_int32"
    if fn in ("min", "max") and t == "int64":
        return "minmax_int64"
    if fn in ("min", "max") and t == "bool":
        return "minmax_bool"
    return None


def reduction_call(fn, axis):
    return f"{fn}(a)" if axis is None else f"{fn}(a, axis={axis})"


def gen_reductions():
    specs = []
    layouts = (((7,), (None, 0)), ((3, 4), (None, 0, 1)), ((2, 3, 2), (None, 0, 1, 2)))
    for fn in REDUCTIONS:
        for t in TYPES:
            for shape, axes in layouts:
                for axis in axes:
                    name = f"{fn} {t} {list(shape)} axis {axis}"
                    a = reduction_values(t, shape, rng_for(name))
                    float_sum = fn in ("sum", "prod") and t in FLOAT_TYPES
                    specs.append(Spec(name, reduction_call(fn, axis), {"a": a},
                                      ulps=4 if float_sum else 0, group=f"reduction {fn}",
                                      defect=reduction_defect(fn, t, shape), measure=float_sum))
            for shape, axis in (((0,), None), ((0, 3), None), ((0, 3), 0), ((0, 3), 1)):
                specs.append(Spec(f"{fn} {t} empty {list(shape)} axis {axis}",
                                  reduction_call(fn, axis), {"a": np.zeros(shape, t)},
                                  group=f"reduction {fn}", defect=reduction_defect(fn, t, shape)))
            specs.append(Spec(f"{fn} {t} 0-d", f"{fn}(a)", {"a": reduction_values(t, (), rng_for(fn + t))},
                              group=f"reduction {fn}", defect=reduction_defect(fn, t, ())))
        for t in ("float32", "float64"):
            nan_in = arr([1.0, math.nan, -3.0, 2.0], t)
            specs.append(Spec(f"{fn} {t} with nan", f"{fn}(a)", {"a": nan_in}, group=f"reduction {fn}",
                              defect="minmax_float" if fn in ("min", "max") else None))
            specs.append(Spec(f"{fn} {t} all nan", f"{fn}(a)", {"a": arr([math.nan] * 3, t)},
                              group=f"reduction {fn}", defect="minmax_float" if fn in ("min", "max") else None))
            specs.append(Spec(f"{fn} {t} signed zeros", f"{fn}(a)", {"a": arr([0.0, -0.0, -0.0], t)},
                              group=f"reduction {fn}",
                              defect="minmax_float" if fn in ("min", "max") else None))
    big32 = arr([2**30, 2**30, 2**30, 7], "int32")
    specs += [
        Spec("sum int32 overflow", "sum(a)", {"a": big32}, group="reduction sum", defect="sum_prod_accumulator"),
        Spec("prod int32 overflow", "prod(a)", {"a": big32}, group="reduction prod", defect="sum_prod_accumulator"),
        Spec("max int64 beyond 2**53", "max(a)", {"a": arr([5, 2**53 + 1, -2**60 - 1], "int64")},
             group="reduction max", defect="minmax_int64"),
        Spec("min int64 beyond 2**53", "min(a)", {"a": arr([2**60 + 1, 2**53 + 1], "int64")},
             group="reduction min", defect="minmax_int64"),
        Spec("max int64 extremes", "max(a, axis=0)",
             {"a": arr([[2**63 - 1, -2**63], [0, -2**63 + 1]], "int64")},
             group="reduction max", defect="minmax_int64"),
        Spec("sum int64 wraps", "sum(a)", {"a": arr([2**62, 2**62, 2**62], "int64")}, group="reduction sum"),
        Spec("sum of expression", "sum(a * 2 + b)",
             {"a": counting((3, 4)), "b": counting((4,))}, ulps=4, group="reduction sum", measure=True),
        Spec("sum of expression axis 1", "sum(a ** 2, axis=1)", {"a": counting((3, 4))},
             ulps=4, group="reduction sum", measure=True),
        Spec("sum positional axis", "sum(a, 1)", {"a": counting((2, 3))}, group="reduction sum"),
        Spec("max of comparison refused", "max(a > 1)", {"a": counting((4,))}, group="reduction max",
             defect="minmax_bool"),
        Spec("sum negative axis refused", "sum(a, axis=-1)", {"a": counting((2, 3))}, group="reduction sum"),
        Spec("sum axis out of range", "sum(a, axis=2)", {"a": counting((2, 3))}, group="reduction sum"),
        Spec("sum of literal refused", "sum(3)", {}, group="reduction sum"),
        Spec("sum float32 accumulates in float32", "sum(a)",
             {"a": arr([1.0, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8, 1e-8], "float32")},
             ulps=4, group="reduction sum", measure=True),
    ]
    # reductions that are not the last operation: numexpr refuses them
    x = arr([1.0, 2.0, 3.0, 4.0], "float64")
    m = counting((2, 3))
    for label, expr, inputs in (
        ("normalise", "a / sum(a)", {"a": x}),
        ("plus literal", "sum(a) + 1", {"a": x}),
        ("product of reductions", "sum(a) * max(a)", {"a": x}),
        ("norm", "sqrt(sum(a ** 2))", {"a": x}),
        ("centre", "a - min(a)", {"a": x}),
        ("axis reduction broadcast", "a - max(a, axis=0)", {"a": m}),
        ("int32 mean", "sum(a) / 4", {"a": arr([1, 2, 3, 5], "int32")}),
    ):
        specs.append(Spec(f"reduction inside expression {label}", expr, inputs, ulps=4,
                          group="reduction in expression", defect="reduce_in_expression"))
    return specs


# ---------------------------------------------------------------------------
# strings.json
# ---------------------------------------------------------------------------

STR_A = [b"abc", b"ab", b"b", b"", b"abd", b"aBc"]
STR_B = [b"abc", b"abc\x00", b"a", b"", b"abcde", b"abc"]
STRING_CMP = (("lt", "<"), ("le", "<="), ("eq", "=="), ("ne", "!="), ("ge", ">="), ("gt", ">"))


def gen_strings():
    specs = []
    a3 = arr(STR_A, "S3")
    b5 = arr(STR_B, "S5")
    for name, sym in STRING_CMP:
        specs += [
            Spec(f"{name} S3 S5", f"a {sym} b", {"a": a3, "b": b5}, group="strings compare"),
            Spec(f"{name} S5 S3", f"b {sym} a", {"a": a3, "b": b5}, group="strings compare"),
            Spec(f"{name} S3 0-d S2", f"a {sym} b", {"a": a3, "b": arr(b"ab", "S2")}, group="strings compare"),
            Spec(f"{name} S3 literal", f"a {sym} 'ab'", {"a": a3}, group="strings compare"),
            Spec(f"{name} literal S3", f"'abc' {sym} a", {"a": a3}, group="strings compare"),
            Spec(f"{name} high bytes", f"a {sym} b",
                 {"a": arr([b"\xff", b"a\xe9", b"\x80", b"z"], "S2"),
                  "b": arr([b"a", b"ab", b"\x7f", b"\xff"], "S2")},
                 group="strings compare", defect="string_signed_char"),
        ]
    specs += [
        Spec("eq embedded nul", "a == b", {"a": arr([b"a\x00b", b"a", b"a\x00"], "S3"),
                                           "b": arr([b"a", b"a\x00b", b"a"], "S3")}, group="strings compare"),
        Spec("contains array needle", "contains(a, b)",
             {"a": arr([b"abcde", b"xyz", b"", b"aaa", b"abc"], "S5"),
              "b": arr([b"cd", b"a", b"", b"aaaa", b"abc"], "S4")}, group="strings contains"),
        Spec("contains literal needle", "contains(a, 'b')", {"a": a3}, group="strings contains"),
        Spec("contains empty literal", "contains(a, '')", {"a": a3}, group="strings contains"),
        Spec("contains long literal", "contains(a, 'abcdef')", {"a": a3}, group="strings contains"),
        Spec("contains literal haystack", "contains('abcab', a)", {"a": a3}, group="strings contains"),
        Spec("contains 0-d needle", "contains(a, b)", {"a": a3, "b": arr(b"c", "S1")}, group="strings contains"),
        Spec("contains combined with comparison", "contains(a, 'b') & (a != 'b')", {"a": a3},
             group="strings contains"),
        Spec("copy of strings", "a", {"a": a3}, group="strings misc"),
        Spec("where on strings refused", "where(c, a, b)",
             {"c": arr([True, False, True, False, True, False], bool), "a": a3, "b": b5}, group="strings misc"),
    ]
    for label, expr, inputs in (
        ("add", "a + b", {"a": a3, "b": b5}), ("mul by int", "a * 2", {"a": a3}),
        ("compare with number", "a < 1", {"a": a3}), ("compare with float array", "a == b",
                                                      {"a": a3, "b": arr([1.0] * 6, "float64")}),
        ("negate", "-a", {"a": a3}), ("invert", "~a", {"a": a3}), ("sum", "sum(a)", {"a": a3}),
        ("function", "sqrt(a)", {"a": a3}), ("contains number", "contains(a, 1)", {"a": a3}),
        ("bitwise and", "a & b", {"a": a3, "b": b5}),
    ):
        specs.append(Spec(f"refused {label}", expr, inputs, group="strings refused"))
    return specs


# ---------------------------------------------------------------------------
# dtypes.json
# ---------------------------------------------------------------------------

OTHER_DTYPES = {
    "int8": [-128, -1, 0, 1, 127],
    "uint8": [0, 1, 127, 128, 255],
    "int16": [-32768, -1, 0, 1, 32767],
    "uint16": [0, 1, 32767, 32768, 65535],
    "uint32": [0, 1, 2**31 - 1, 2**31, 2**32 - 1],
    "uint64": [0, 1, 2**63 - 1, 2**63, 2**64 - 1],
    "float16": [-65504.0, -1.5, 0.0, 6e-8, 65504.0],
}
DTYPE_EXPRESSIONS = (
    ("copy", "a"), ("add self", "a + a"), ("add int32", "a + i"), ("add float32", "a + f"),
    ("mul literal", "a * 2"), ("negate", "-a"), ("compare", "a < 100"), ("floordiv", "a // 3"),
    ("sqrt", "sqrt(a)"), ("sum", "sum(a)"), ("max", "max(a)"), ("bitwise and", "a & 6"),
)


# numexpr widens every input to one of its six types before computing (uint64 is
# reinterpreted as int64, bits unchanged); NumPy is compared on the widened input so
# that the reference differs from numexpr only by numexpr's defects.
WIDENED = {"int8": "int32", "uint8": "int32", "int16": "int32", "uint16": "int32",
           "uint32": "int64", "uint64": "int64", "float16": "float32"}


def widen(a):
    if a.dtype.name == "uint64":
        return a.view(np.int64)
    return a.astype(WIDENED[a.dtype.name])


def gen_dtypes():
    specs = []
    i = arr([1, -2, 3, -4, 5], "int32")
    f = arr([0.5, -1.5, 2.5, -3.5, 4.5], "float32")
    for dt, values in OTHER_DTYPES.items():
        a = arr(values, dt)
        for label, expr in DTYPE_EXPRESSIONS:
            inputs = {"a": a}
            if " i" in expr:
                inputs["i"] = i
            if " f" in expr:
                inputs["f"] = f
            fn = expr.split("(")[0]
            defect = reduction_defect(fn, WIDENED[dt], a.shape) if fn in REDUCTIONS else None
            specs.append(Spec(f"{dt} {label}", expr, inputs,
                              ulps=4 if "sqrt" in expr else 0, group=f"dtype {dt}",
                              defect=defect, numpy_inputs={**inputs, "a": widen(a)}))
    # complex64 (widened to complex128 by numexpr) has no encoding in the case format.
    return specs


# ---------------------------------------------------------------------------
# docs/types.md
# ---------------------------------------------------------------------------

def cell(case):
    if case is None:
        return "?"
    if "error" in case:
        return "error*" if case["reference"] == "numpy" else "error"
    dt = case["expected"]["dtype"]
    return f"{dt}*" if case["reference"] == "numpy" else dt


def types_markdown(operator_cases, literal_cases, function_cases):
    by_name = {c["name"]: c for c in operator_cases + literal_cases}
    by_function = {c["name"]: c for c in function_cases}
    out = [
        "# Result types of vexpr's operators",
        "",
        "Generated by `tests/conformance/gen.py` from numexpr "
        f"{numexpr.__version__} (NumPy {np.__version__}); do not edit by hand.",
        "",
        "numexpr types every operation by *kind*, ordered bool < int (int32) < long (int64) "
        "< float (float32) < double (float64) < complex (complex128): a binary operator "
        "converts both operands to the higher kind and computes there, so int32 + float32 "
        "is float32 and int64 + float32 is float32 too (NumPy would give float64). A literal "
        "is typed by its value alone: `True`/`False` are bool, an integer is int32 if it fits "
        "in 32 bits and int64 otherwise (`-2147483648` is int32, being the negation of a "
        "folded constant), a float literal is float64 (so float32 * 2.5 is float64) and an "
        "imaginary literal is complex128. `/` is always true division and gives float64 for "
        "bool and integer operands. `+` and `*` on two bools are logical or/and; `-`, `//`, "
        "`%` and `**` refuse bools. Comparisons give bool; complex supports only `==` and "
        "`!=`. Bitwise operators and shifts accept only bool (not shifts) and integers. "
        "Operations on constants alone are folded by Python before numexpr types them. "
        "Powers with a constant exponent that is a multiple of 0.5 in [-50, 50] are expanded "
        "into multiplications (and a sqrt): for a float32 base the result stays float32 "
        "(`a ** 2.5`) while other float exponents give float64 (`a ** 3.7`).",
        "",
        "Cells: result dtype of `a OP b` for 1-D arrays (0-d arrays type the same); "
        "`error` = refused. A `*` marks a cell where vexpr deliberately follows NumPy "
        "instead of numexpr (see `tests/conformance/DIFFERENCES.md`). Rows: type of the left "
        "operand; columns: type of the right operand.",
        "",
    ]
    op_by_symbol = {s: n for n, s, _ in BINARY_OPS}
    for family, symbols in OP_FAMILIES:
        out += [f"## {family}", ""]
        for sym in symbols:
            nm = op_by_symbol[sym]
            out += [f"### `a {sym} b`", "", "| left \\ right | " + " | ".join(TYPES) + " |",
                    "|---" * (len(TYPES) + 1) + "|"]
            for lt in TYPES:
                row = [cell(by_name.get(f"{nm} {lt}[6] {rt}[6]")) for rt in TYPES]
                out.append(f"| {lt} | " + " | ".join(row) + " |")
            out.append("")
    out += ["## Unary operators", "", "| operand | " + " | ".join(f"`{s}a`" for _, s in UNARY_OPS) + " |",
            "|---" * (len(UNARY_OPS) + 1) + "|"]
    for t in TYPES:
        out.append(f"| {t} | " + " | ".join(cell(by_name.get(f"{n} {t}[6]")) for n, _ in UNARY_OPS) + " |")
    out.append("")
    out += ["## Literals", "",
            "Result dtype of `a OP literal` for a 1-D array `a` (rows) and the literal (columns).", ""]
    for sym in ("+", "*", "/", "**", "&"):
        nm = op_by_symbol[sym]
        lits = unique(GENERIC_LITERALS + (EXTRA_LITERALS.get(sym, ()) if sym == "**" else ()))
        out += [f"### `a {sym} literal`", "", "| a \\ literal | " + " | ".join(f"`{x}`" for x in lits) + " |",
                "|---" * (len(lits) + 1) + "|"]
        for t in TYPES:
            out.append(f"| {t} | " + " | ".join(cell(by_name.get(f"{nm} {t}[6] literal {x}")) for x in lits) + " |")
        out.append("")
    out += ["## Functions", "",
            "Result dtype of `f(a)` (and of `f(a, b)` with both arguments of the type in the "
            "column). Integer arguments are computed in float64 except by `abs`, `round`, "
            "`sign`, `copy` and `ones_like`; the functions' minimum kinds raise bool to "
            "float32 (most) or float64.", "",
            "| function | " + " | ".join(TYPES) + " |", "|---" * (len(TYPES) + 1) + "|"]
    for fn in UNARY_FUNCS:
        out.append(f"| `{fn}` | " + " | ".join(cell(by_function.get(f"{fn} {t}")) for t in TYPES) + " |")
    for fn in BINARY_FUNCS:
        out.append(f"| `{fn}` | " + " | ".join(cell(by_function.get(f"{fn} {t} {t}")) for t in TYPES) + " |")
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# DIFFERENCES.md
# ---------------------------------------------------------------------------

def differences_markdown():
    out = [
        "# Where vexpr's conformance data differs from numexpr",
        "",
        "Generated by `tests/conformance/gen.py`; do not edit by hand.",
        "",
        f"vexpr behaves like numexpr {numexpr.__version__} except where numexpr is wrong. "
        "In those cases the conformance data takes NumPy's answer ("
        '`"reference": "numpy"`) and the case\'s note says what numexpr does instead.',
        "",
        "## Deliberate differences (vexpr follows NumPy)",
        "",
    ]
    for key, text in DEFECTS.items():
        hits = REPORT.defect_hits.get(key, [])
        if not hits:
            continue
        examples = ", ".join(f"`{f}: {n}`" for f, n in hits[:3])
        out += [f"### {key}", "", text, "", f"{len(hits)} case(s), e.g. {examples}.", ""]
    out += ["## Judgement calls", ""] + [f"- {text}" for text in JUDGEMENT_CALLS] + [""]
    out += [
        "## numexpr behaviour kept although NumPy differs",
        "",
        "These are numexpr's rules (typing by kind, literal typing, refusals), not defects: "
        "vexpr reproduces numexpr, and each case's note records NumPy's answer.",
        "",
        "| group | difference | cases | example |",
        "|---|---|---|---|",
    ]
    for (group, kind), hits in sorted(REPORT.kept.items()):
        f, n, detail = hits[0]
        out.append(f"| {group} | {kind} | {len(hits)} | `{f}: {n}` ({detail}) |")
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

FILES = (
    ("operators", gen_operators), ("functions", gen_functions),
    ("special_values", gen_special_values), ("literals", gen_literals),
    ("broadcasting", gen_broadcasting), ("reductions", gen_reductions),
    ("strings", gen_strings), ("dtypes", gen_dtypes),
)


def generator_info():
    return {"numexpr": numexpr.__version__, "numpy": np.__version__,
            "mpmath": mpmath.__version__, "python": platform.python_version(),
            "script": "tests/conformance/gen.py"}


def render(cases):
    # one case per line: small diffs when the data changes, still plain JSON
    lines = ",\n".join("  " + json.dumps(c, ensure_ascii=False, allow_nan=False) for c in cases)
    header = json.dumps(generator_info())
    return '{"generator": ' + header + ',\n "cases": [\n' + lines + "\n]}\n"


def check_versions():
    if not numexpr.__version__.startswith(EXPECTED_NUMEXPR):
        print(f"warning: numexpr {numexpr.__version__}, expected {EXPECTED_NUMEXPR}x", file=sys.stderr)
    if not np.__version__.startswith(EXPECTED_NUMPY):
        print(f"warning: NumPy {np.__version__}, expected {EXPECTED_NUMPY}x", file=sys.stderr)


def build_outputs():
    outputs, cases_by_file = {}, {}
    for file_name, generate in FILES:
        specs = generate()
        names = [s.name for s in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        assert not duplicates, f"{file_name}: duplicate case names {duplicates[:5]}"
        cases = [resolve(s, f"{file_name}.json") for s in specs]
        cases_by_file[file_name] = cases
        outputs[os.path.join(CASES_DIR, f"{file_name}.json")] = render(cases)
    outputs[TYPES_MD] = types_markdown(cases_by_file["operators"], cases_by_file["literals"],
                                       cases_by_file["functions"])
    outputs[DIFFERENCES_MD] = differences_markdown()
    return outputs, cases_by_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if regenerating would change any file")
    args = parser.parse_args()
    check_versions()
    numexpr.set_num_threads(1)
    outputs, cases_by_file = build_outputs()
    changed = []
    for path, text in outputs.items():
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            changed.append(os.path.relpath(path, REPO))
            if not args.check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
    for file_name, cases in cases_by_file.items():
        numpy_ref = sum(c["reference"] == "numpy" for c in cases)
        errors = sum("error" in c for c in cases)
        print(f"{file_name}.json: {len(cases)} cases ({errors} errors, {numpy_ref} NumPy-referenced)")
    if args.check and changed:
        print("out of date: " + ", ".join(changed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
