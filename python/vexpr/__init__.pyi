"""Type stubs of vexpr's public API (numexpr 2.14's)."""

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import dask as dask
from . import expressions as expressions
from . import necompiler as necompiler
from . import utils as utils
from ._errors import UnsupportedDTypeError as UnsupportedDTypeError
from ._vexpr import NumExpr as _CompiledExpr
from .expressions import E as E
from .expressions import ExpressionNode
from .utils import MAX_THREADS as MAX_THREADS
from .utils import detect_number_of_cores as detect_number_of_cores
from .utils import detect_number_of_threads as detect_number_of_threads
from .utils import get_num_threads as get_num_threads
from .utils import get_vml_version as get_vml_version
from .utils import set_num_threads as set_num_threads
from .utils import set_vml_accuracy_mode as set_vml_accuracy_mode
from .utils import set_vml_num_threads as set_vml_num_threads

__version__: str
use_vml: bool
ncores: int
nthreads: int

def release_memory() -> int:
    """Frees the large result buffers kept for reuse; the bytes given back."""

def evaluate(
    ex: str,
    local_dict: Mapping[str, Any] | None = None,
    global_dict: Mapping[str, Any] | None = None,
    out: np.ndarray | None = None,
    order: str = "K",
    casting: str = "same_kind",
    sanitize: bool | None = None,
    _frame_depth: int = 3,
    disable_cache: bool = False,
    **kwargs: Any,
) -> np.ndarray: ...
def validate(
    ex: str,
    local_dict: Mapping[str, Any] | None = None,
    global_dict: Mapping[str, Any] | None = None,
    out: np.ndarray | None = None,
    order: str = "K",
    casting: str = "safe",
    _frame_depth: int = 2,
    sanitize: bool | None = None,
    **kwargs: Any,
) -> Exception | None: ...
def re_evaluate(
    local_dict: Mapping[str, Any] | None = None,
    global_dict: Mapping[str, Any] | None = None,
    _frame_depth: int = 2,
) -> np.ndarray: ...
def NumExpr(ex: str | ExpressionNode, signature: Any = (), sanitize: bool = True, **kwargs: Any) -> _CompiledExpr: ...
def disassemble(nex: _CompiledExpr) -> list[tuple[bytes, ...]]: ...
def print_versions() -> None: ...
