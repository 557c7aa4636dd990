"""numexpr's ``utils``: threads and cores (and its VML functions, which do
nothing: vexpr has its own vectorized math)."""

from __future__ import annotations

import os

from . import _vexpr

__all__ = [
    "MAX_THREADS",
    "detect_number_of_cores",
    "detect_number_of_threads",
    "get_num_threads",
    "get_vml_num_threads",
    "get_vml_version",
    "set_num_threads",
    "set_vml_accuracy_mode",
    "set_vml_num_threads",
]


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value != "" else None


#: The most threads an evaluation may use: ``NUMEXPR_MAX_THREADS`` when set
#: (read once, at import), else 64, as in numexpr.
MAX_THREADS: int = _env_int("NUMEXPR_MAX_THREADS") or 64


def detect_number_of_cores() -> int:
    """The number of cores this process may run on."""
    return _vexpr.detect_number_of_cores()


def detect_number_of_threads() -> int:
    """Deprecated in numexpr: the number of threads in use."""
    return get_num_threads()


def set_num_threads(nthreads: int) -> int:
    """Sets the number of threads evaluations use; returns the previous one."""
    if nthreads > MAX_THREADS:
        raise ValueError(f"number of threads {nthreads} is larger than MAX_THREADS ({MAX_THREADS})")
    return _vexpr.set_num_threads(nthreads)


def get_num_threads() -> int:
    """The number of threads evaluations use."""
    return _vexpr.get_num_threads()


def _init_num_threads() -> int:
    """Sets the initial thread count from the environment, as numexpr does:
    ``VEXPR_NUM_THREADS``, else ``NUMEXPR_NUM_THREADS``, else
    ``OMP_NUM_THREADS``, else the cores (at most 16 unless
    ``NUMEXPR_MAX_THREADS`` or ``OMP_NUM_THREADS`` is set, then
    ``MAX_THREADS``). Returns the count."""
    configured = _env_int("NUMEXPR_MAX_THREADS") is not None or _env_int("OMP_NUM_THREADS") is not None
    cores = MAX_THREADS if configured else min(detect_number_of_cores(), 16)
    for name in ("VEXPR_NUM_THREADS", "NUMEXPR_NUM_THREADS", "OMP_NUM_THREADS"):
        requested = _env_int(name)
        if requested is not None:
            break
    else:
        requested = cores
    set_num_threads(requested)
    return requested


def set_vml_num_threads(nthreads: int) -> None:
    """No effect: vexpr does not use VML."""
    return None


def get_vml_num_threads() -> None:
    """Always ``None``: vexpr does not use VML."""
    return None


def get_vml_version() -> None:
    """Always ``None``: vexpr does not use VML."""
    return None


def set_vml_accuracy_mode(mode: str | None) -> None:
    """No effect: vexpr does not use VML."""
    return None
