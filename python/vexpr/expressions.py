"""Building expressions with Python operators: numexpr's ``E``.

``E.a`` is the variable ``a``; operators and the functions below combine
nodes into larger expressions, and ``str(node)`` is the expression text that
vexpr compiles (``NumExpr(2*E.a + 1)`` compiles ``"((2 * a) + 1)"``). Nodes
only build text: types are decided when the text is compiled.

>>> from vexpr import E, NumExpr
>>> str(2 * E.a + E.b ** 2)
'((2 * a) + (b ** 2))'
"""

from __future__ import annotations

import math
from typing import Any

import numpy

__all__ = ["E", "ExpressionNode", "VariableNode", "ConstantNode", "func"]


def _kind(value: Any) -> str:
    """numexpr's kind of a constant: bool, int, long, float, double, complex, bytes."""
    if isinstance(value, (bool, numpy.bool_)):
        return "bool"
    if isinstance(value, numpy.float32):
        return "float"
    if isinstance(value, (int, numpy.integer)):
        return "int" if -(2**31) <= int(value) < 2**31 else "long"
    if isinstance(value, (float, numpy.floating)):
        return "double"
    if isinstance(value, (complex, numpy.complexfloating)):
        return "complex"
    if isinstance(value, bytes):
        return "bytes"
    raise TypeError(f"unsupported constant {value!r}")


def _literal(value: Any) -> str:
    """The expression text of a constant."""
    if isinstance(value, (bool, numpy.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, numpy.integer)):
        return str(int(value))
    if isinstance(value, (float, numpy.floating)):
        v = float(value)
        if math.isnan(v):
            return "(1e999 - 1e999)"
        if math.isinf(v):
            return "1e999" if v > 0 else "(-1e999)"
        return repr(v)
    if isinstance(value, (complex, numpy.complexfloating)):
        c = complex(value)
        return f"complex({_literal(c.real)}, {_literal(c.imag)})"
    if isinstance(value, bytes):
        return repr(value)
    raise TypeError(f"unsupported constant {value!r}")


def _node(value: Any) -> ExpressionNode:
    return value if isinstance(value, ExpressionNode) else ConstantNode(value)


class ExpressionNode:
    """A node of an expression being built; ``str()`` gives its text."""

    astType = "op"

    def __init__(self, text: str, astKind: str = "double") -> None:
        self._text = text
        self.astKind = astKind

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._text!r})"

    def __bool__(self) -> bool:
        raise TypeError(
            "You can't use Python's standard boolean operators in vexpr (numexpr) "
            "expressions. You should use their bitwise counterparts instead: "
            "'&' instead of 'and', '|' instead of 'or', and '~' instead of 'not'."
        )

    def _binary(self, op: str, other: Any, reflected: bool = False) -> ExpressionNode:
        left, right = (_node(other), self) if reflected else (self, _node(other))
        return ExpressionNode(f"({left} {op} {right})")

    def __add__(self, o: Any) -> ExpressionNode: return self._binary("+", o)
    def __radd__(self, o: Any) -> ExpressionNode: return self._binary("+", o, True)
    def __sub__(self, o: Any) -> ExpressionNode: return self._binary("-", o)
    def __rsub__(self, o: Any) -> ExpressionNode: return self._binary("-", o, True)
    def __mul__(self, o: Any) -> ExpressionNode: return self._binary("*", o)
    def __rmul__(self, o: Any) -> ExpressionNode: return self._binary("*", o, True)
    def __truediv__(self, o: Any) -> ExpressionNode: return self._binary("/", o)
    def __rtruediv__(self, o: Any) -> ExpressionNode: return self._binary("/", o, True)
    def __floordiv__(self, o: Any) -> ExpressionNode: return self._binary("//", o)
    def __rfloordiv__(self, o: Any) -> ExpressionNode: return self._binary("//", o, True)
    def __mod__(self, o: Any) -> ExpressionNode: return self._binary("%", o)
    def __rmod__(self, o: Any) -> ExpressionNode: return self._binary("%", o, True)
    def __pow__(self, o: Any) -> ExpressionNode: return self._binary("**", o)
    def __rpow__(self, o: Any) -> ExpressionNode: return self._binary("**", o, True)
    def __lshift__(self, o: Any) -> ExpressionNode: return self._binary("<<", o)
    def __rlshift__(self, o: Any) -> ExpressionNode: return self._binary("<<", o, True)
    def __rshift__(self, o: Any) -> ExpressionNode: return self._binary(">>", o)
    def __rrshift__(self, o: Any) -> ExpressionNode: return self._binary(">>", o, True)
    def __and__(self, o: Any) -> ExpressionNode: return self._binary("&", o)
    def __rand__(self, o: Any) -> ExpressionNode: return self._binary("&", o, True)
    def __or__(self, o: Any) -> ExpressionNode: return self._binary("|", o)
    def __ror__(self, o: Any) -> ExpressionNode: return self._binary("|", o, True)
    def __xor__(self, o: Any) -> ExpressionNode: return self._binary("^", o)
    def __rxor__(self, o: Any) -> ExpressionNode: return self._binary("^", o, True)
    def __lt__(self, o: Any) -> ExpressionNode: return self._binary("<", o)
    def __le__(self, o: Any) -> ExpressionNode: return self._binary("<=", o)
    def __gt__(self, o: Any) -> ExpressionNode: return self._binary(">", o)
    def __ge__(self, o: Any) -> ExpressionNode: return self._binary(">=", o)
    def __eq__(self, o: Any) -> ExpressionNode: return self._binary("==", o)  # type: ignore[override]
    def __ne__(self, o: Any) -> ExpressionNode: return self._binary("!=", o)  # type: ignore[override]
    def __neg__(self) -> ExpressionNode: return ExpressionNode(f"(-{self})")
    def __pos__(self) -> ExpressionNode: return self
    def __invert__(self) -> ExpressionNode: return ExpressionNode(f"(~{self})")
    def __abs__(self) -> ExpressionNode: return ExpressionNode(f"abs({self})")

    __hash__ = object.__hash__

    @property
    def real(self) -> ExpressionNode:
        return ExpressionNode(f"{self}.real")

    @property
    def imag(self) -> ExpressionNode:
        return ExpressionNode(f"{self}.imag")


class VariableNode(ExpressionNode):
    """A variable: ``E.name``."""

    astType = "variable"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.value = name


class ConstantNode(ExpressionNode):
    """A constant, with numexpr's kind (``astKind``)."""

    astType = "constant"

    def __init__(self, value: Any) -> None:
        kind = _kind(value)
        super().__init__(_literal(value), kind)
        self.value = value


def func(name: str):
    """A builder for the function ``name``: ``func("where")(E.a > 0, E.a, 0)``."""

    def build(*args: Any, **keywords: Any) -> ExpressionNode:
        parts = [str(_node(a)) for a in args]
        parts += [f"{k}={v!r}" for k, v in keywords.items()]
        return ExpressionNode(f"{name}({', '.join(parts)})")

    build.__name__ = name
    return build


class _Variables:
    """``E``: ``E.a`` is the variable ``a``."""

    def __getattr__(self, name: str) -> VariableNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return VariableNode(name)


E = _Variables()
