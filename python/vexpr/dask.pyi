"""Type stubs of ``vexpr.dask``: vexpr expressions over Dask arrays."""

from collections.abc import Mapping
from typing import Any

import dask.array as da

from ._vexpr import NumExpr

Signature = tuple[tuple[str, str], ...]
CACHE_SIZE: int

def compiled(text: str, signature: Signature) -> NumExpr: ...
def compilations() -> int: ...
def clear_compiled() -> None: ...
def evaluate(
    ex: str,
    local_dict: Mapping[str, Any] | None = None,
    global_dict: Mapping[str, Any] | None = None,
    out: Any = None,
    order: str = "K",
    casting: str = "same_kind",
    sanitize: bool | None = None,
    _frame_depth: int = 1,
    *,
    threads: int | None = 1,
    split_every: int | dict[int, int] | None = None,
    **kwargs: Any,
) -> da.Array: ...
