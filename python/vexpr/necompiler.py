"""numexpr's ``necompiler`` names that user code imports."""

from __future__ import annotations

from typing import Any

import numpy

from . import NumExpr, _vexpr, disassemble, evaluate, re_evaluate, validate

__all__ = ["NumExpr", "disassemble", "evaluate", "getExprNames", "getType", "re_evaluate", "validate"]


def getExprNames(text: str, context: Any = None, sanitize: bool = True) -> tuple[list[str], bool]:
    """The variables of ``text`` (sorted) and whether VML is used (never)."""
    return _vexpr.expression_names(text, sanitize), False


def getType(a: Any) -> type:
    """numexpr's type for an array: what vexpr computes it in."""
    kind, size = a.dtype.kind, a.dtype.itemsize
    if kind == "b":
        return bool
    if kind in "iu":
        return numpy.int64 if size > 4 or (kind == "u" and size == 4) else numpy.int32
    if kind == "f":
        return numpy.float64 if size > 4 else float
    if kind == "c":
        return complex
    if kind == "S":
        return bytes
    raise ValueError(f"unknown type {a.dtype.name}")
