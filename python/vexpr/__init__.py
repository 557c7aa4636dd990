"""vexpr: fast array expressions for NumPy, with numexpr's API.

``import vexpr as ne`` and code written for numexpr 2.14 runs unchanged::

    >>> import numpy as np, vexpr as ne
    >>> a = np.linspace(1, 2, 5)
    >>> ne.evaluate("2*a**3 - 4*a**5 + 6*log(a)").round(3)
    array([ -2.   ,  -4.427,  -9.283, -18.211, -33.841])

An expression is compiled once (per expression text and input types, then
cached) into typed register bytecode, and machine code on AVX-512 CPUs, and
evaluated over cache-sized blocks on all cores, straight into one NumPy array:
no temporaries. Inputs of every layout are read in place. The expression text
is parsed by vexpr's own grammar and never passed to Python's ``eval``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from . import _vexpr
from ._errors import UnsupportedDTypeError
from .expressions import E, ExpressionNode
from .utils import (
    MAX_THREADS,
    _init_num_threads,
    detect_number_of_cores,
    detect_number_of_threads,
    get_num_threads,
    get_vml_version,
    set_num_threads,
    set_vml_accuracy_mode,
    set_vml_num_threads,
)

__all__ = [
    "E",
    "MAX_THREADS",
    "NumExpr",
    "UnsupportedDTypeError",
    "detect_number_of_cores",
    "disassemble",
    "evaluate",
    "get_num_threads",
    "ncores",
    "nthreads",
    "re_evaluate",
    "release_memory",
    "set_num_threads",
    "use_vml",
    "validate",
]

__version__: str = _vexpr.__version__

#: Frees the large result buffers vexpr keeps for reuse (see docs/python.md,
#: "Memory"); returns the bytes given back. Not part of numexpr's API.
release_memory = _vexpr.release_memory

#: vexpr has its own vectorized math; Intel's VML is never used.
use_vml = False

_CONTEXT_CHOICES = {
    "optimization": ("none", "moderate", "aggressive"),
    "truediv": (False, True, "auto"),
}


def _check_context(kwargs: dict[str, Any]) -> None:
    """numexpr's ``optimization=`` and ``truediv=`` keywords are accepted and
    checked; they change nothing (vexpr always optimizes, and ``/`` is always
    true division, as in Python 3 and numexpr's default)."""
    for name, value in kwargs.items():
        allowed = _CONTEXT_CHOICES.get(name)
        if allowed is None:
            raise ValueError(f"Unknown keyword argument '{name}'")
        if value not in allowed:
            raise ValueError(f"'{name}' must be one of {allowed}")


def _namespaces(
    local_dict: Mapping[str, Any] | None, global_dict: Mapping[str, Any] | None, depth: int
) -> tuple[Any, Any, bool]:
    """The dictionaries to look names up in: the given ones, else the locals
    and globals of the frame `depth` levels above the caller of this
    function; and whether the locals are a snapshot to clear afterwards (so
    that it keeps no arrays alive, as numexpr does; not at module level,
    where the locals are the globals)."""
    if local_dict is not None and global_dict is not None:
        return local_dict, global_dict, False
    frame = sys._getframe(depth + 1)
    clear = False
    if global_dict is None:
        global_dict = frame.f_globals
    if local_dict is None:
        local_dict = frame.f_locals
        clear = local_dict is not frame.f_globals
    return local_dict, global_dict, clear


#: numexpr's ``evaluate(ex, local_dict=None, global_dict=None, out=None,
#: order='K', casting='same_kind', sanitize=None, _frame_depth=3,
#: disable_cache=False, **kwargs)``, wholly in the extension: the caller's
#: frame, the cache lookup and the run take no Python code per call.
evaluate = _vexpr.evaluate


def validate(
    ex: str,
    local_dict: Mapping[str, Any] | None = None,
    global_dict: Mapping[str, Any] | None = None,
    out: Any = None,
    order: str = "K",
    casting: str = "safe",
    _frame_depth: int = 2,
    sanitize: bool | None = None,
    **kwargs: Any,
) -> Exception | None:
    """Checks ``ex`` and its variables without evaluating, and makes it the
    expression :func:`re_evaluate` runs. Returns ``None``, or the exception
    :func:`evaluate` would raise (it does not raise it).

    >>> import vexpr as ne
    >>> isinstance(ne.validate("2 +"), SyntaxError)
    True
    """
    try:
        if not isinstance(ex, str):
            raise ValueError("must specify expression as a string")
        if kwargs:
            _check_context(kwargs)
        local_dict, global_dict, clear = _namespaces(local_dict, global_dict, _frame_depth - 1)
        try:
            _vexpr.validate(ex, local_dict, global_dict, out, order, casting, sanitize)
        finally:
            if clear:
                local_dict.clear()  # type: ignore[union-attr]
    except Exception as e:  # noqa: BLE001 - numexpr returns the exception
        return e
    return None


def re_evaluate(
    local_dict: Mapping[str, Any] | None = None,
    global_dict: Mapping[str, Any] | None = None,
    _frame_depth: int = 2,
) -> Any:
    """Evaluates again the last expression this thread evaluated or
    validated, on the current values of its variables.

    >>> import numpy as np, vexpr as ne
    >>> a = np.arange(3.0)
    >>> _ = ne.evaluate("a + 1")
    >>> a = np.arange(3.0, 6.0)
    >>> ne.re_evaluate()
    array([4., 5., 6.])
    """
    local_dict, global_dict, clear = _namespaces(local_dict, global_dict, _frame_depth - 1)
    try:
        return _vexpr.re_evaluate(local_dict, global_dict)
    finally:
        if clear:
            local_dict.clear()  # type: ignore[union-attr]


# numexpr's signature types (its `float` is float32) and anything NumPy
# takes as a dtype.
_SIGNATURE_TYPES: dict[Any, str] = {
    bool: "bool",
    float: "float32",
    complex: "complex128",
    bytes: "bytes",
    str: "bytes",
}


def _type_name(t: Any) -> str:
    import numpy

    if t in _SIGNATURE_TYPES:
        return _SIGNATURE_TYPES[t]
    if isinstance(t, str) and t in ("bool", "int", "long", "float", "double", "complex", "bytes", "str"):
        return {"int": "int32", "long": "int64", "float": "float32", "double": "float64", "complex": "complex128", "str": "bytes"}.get(t, t)
    dtype = numpy.dtype(t)
    if dtype.kind == "S":
        return "bytes"
    widened = _vexpr_widen(dtype)
    return widened


def _vexpr_widen(dtype: Any) -> str:
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return "bool"
    if kind in "iu":
        return "int64" if size > 4 or (kind == "u" and size == 4) else "int32"
    if kind == "f" and size <= 8:
        return "float64" if size > 4 else "float32"
    if kind == "c" and size <= 16:
        return "complex128"
    raise UnsupportedDTypeError(f"vexpr does not compute with dtype {dtype}")


def NumExpr(
    ex: str | ExpressionNode,
    signature: Any = (),
    sanitize: bool = True,
    **kwargs: Any,
) -> _vexpr.NumExpr:
    """Compiles ``ex`` (a string, or an expression built from ``E``) into a
    callable object taking its variables as positional arguments.

    ``signature`` lists ``(name, type)`` pairs in argument order; without
    one, the variables are taken in alphabetical order as float64 (numexpr's
    default). The object is reusable, picklable, and may be called from many
    threads at once.

    >>> import numpy as np, vexpr as ne
    >>> f = ne.NumExpr("2*a + b", [("a", np.float64), ("b", np.float64)])
    >>> f(np.arange(3.0), np.ones(3))
    array([1., 3., 5.])
    """
    if kwargs:
        _check_context(kwargs)
    text = str(ex)
    if sanitize and isinstance(ex, str):
        from . import _sanitize

        _sanitize.check(text)
    names = _vexpr.expression_names(text, sanitize=False)
    if signature:
        pairs = [(str(n), _type_name(t)) for n, t in signature]
        declared = [n for n, _ in pairs]
        if set(declared) != set(names):
            raise ValueError(
                f"input names {declared} don't match the variables of the expression {names}"
            )
    else:
        pairs = [(n, "float64") for n in names]
    return _vexpr.NumExpr(text, pairs)


def disassemble(nex: _vexpr.NumExpr) -> list[tuple[bytes, ...]]:
    """The program of a ``NumExpr`` object, one ``(opcode, destination,
    arguments...)`` tuple of bytes per instruction (vexpr's opcodes:
    ``print(nex.disassemble())`` shows the full listing with registers).
    """
    return [tuple(part.encode() for part in row) for row in nex.instructions()]


def print_versions() -> None:
    """Prints the versions of vexpr, NumPy and Python, and the threads."""
    import platform

    import numpy

    print(f"vexpr version:     {__version__}")
    print(f"NumPy version:     {numpy.__version__}")
    print(f"Python version:    {sys.version}")
    print(f"Platform:          {platform.platform()}-{platform.machine()}")
    print(f"Threads in use:    {get_num_threads()} (out of {ncores} detected cores)")
    print(f"Maximum threads:   {MAX_THREADS}")


def __getattr__(name: str) -> Any:
    """``vexpr.dask`` (Dask arrays, ``docs/distributed.md``), imported on first
    use, so that ``import vexpr`` never imports Dask."""
    if name == "dask":
        import importlib

        return importlib.import_module(".dask", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


ncores: int = detect_number_of_cores()
nthreads: int = _init_num_threads()

from . import necompiler, utils  # noqa: E402  (they import this module)
