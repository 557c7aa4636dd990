"""numexpr's sanitizer, for compatibility.

numexpr hands expressions to Python's ``eval`` and guards that call with a
blacklist; vexpr parses expressions with its own grammar and never evaluates
Python, so nothing here is needed for safety. It exists so that the same text
raises the same exception type as under numexpr: with ``sanitize`` on (the
default, unless ``NUMEXPR_SANITIZE=0``), text containing ``;``, ``:`` or
``[``, a dunder name, or an attribute other than ``.real``/``.imag`` is
refused with ``ValueError`` before it is parsed.
"""

import re

# Outside single-quoted strings and ignoring whitespace: the three
# characters, a `__name__` standing alone, or a `.` followed by a word that
# is not `real`, `imag` or the rest of a number (`2.e-5`, `1.5j`, `3.j`).
_FORBIDDEN = re.compile(
    r"[;\[:]"
    r"|(?<!\w)__\w+__(?!\w)"
    r"|\.(?=\w)(?!(?:real|imag|\d*[eE]?[+-]?\d+j?|\d*j)\b)"
)
_SPACES = re.compile(r"\s+")
_QUOTED = re.compile(r"'[^']*'")


def check(ex: str) -> None:
    """Raises ``ValueError`` if numexpr's sanitizer would refuse ``ex``."""
    text = _QUOTED.sub("", _SPACES.sub("", ex))
    if _FORBIDDEN.search(text):
        raise ValueError(f"Expression {ex} has forbidden control characters.")
