"""`import numexpr` resolving to vexpr: how numexpr's own test suite (and any
program written for numexpr) runs against vexpr unchanged.

Put the folder holding this package first on ``sys.path`` (or
``PYTHONPATH``); importing ``numexpr`` then gives the ``vexpr`` module, and
``numexpr.expressions``, ``numexpr.utils`` and ``numexpr.necompiler`` its
submodules.
"""

import sys

import vexpr
import vexpr.expressions
import vexpr.necompiler
import vexpr.utils

for _name in ("expressions", "necompiler", "utils"):
    sys.modules[f"{__name__}.{_name}"] = getattr(vexpr, _name)
sys.modules[__name__] = vexpr
