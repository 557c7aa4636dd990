"""vexpr expressions over Dask arrays: the same text, evaluated chunk by chunk.

``vexpr.dask.evaluate`` takes the arguments of :func:`vexpr.evaluate`, with
any of the variables a ``dask.array.Array``, and returns a lazy Dask array;
``vexpr.evaluate`` itself calls it when it meets a Dask array, so code need
not change. Dask schedules the work (its threaded scheduler, or a
``dask.distributed`` cluster); vexpr evaluates each chunk::

    >>> import dask.array as da, numpy as np, vexpr
    >>> a = da.linspace(1, 2, 1_000, chunks=250)
    >>> r = vexpr.dask.evaluate("2*a**3 - 4*a**5 + 6*log(a)")
    >>> r.shape, r.dtype, r.chunks
    ((1000,), dtype('float64'), ((250, 250, 250, 250),))
    >>> bool(np.allclose(r.compute(), vexpr.evaluate("2*a**3 - 4*a**5 + 6*log(a)", local_dict={"a": a.compute()})))
    True

How it is built (``docs/distributed.md``):

- The expression is compiled at once for the inputs' dtypes, so that a bad
  expression raises vexpr's error here, not on the workers, and the result's
  dtype is known without evaluating anything.
- Element-wise parts are one ``dask.array.blockwise`` layer: one vexpr call per
  output chunk, on the inputs' chunks (rechunked to a common chunking and
  broadcast as Dask does; NumPy arrays and scalars may be mixed in).
- Each reduction (``sum``, ``prod``, ``min``, ``max``, over everything or one
  axis, anywhere in the expression) is a ``blockwise`` layer in which vexpr
  computes each chunk's partial reduction of its operand, followed by Dask's
  tree reduction (``dask.array.reduction``) whose combining steps are vexpr
  calls too; the text around it then reads the reduction as a variable.
- A task carries only the expression text and its signature; each process
  compiles a text once per signature and keeps it (:func:`compilations`).
- Each chunk is evaluated with one vexpr thread (``threads=``), so a worker
  runs as many vexpr threads as it has Dask threads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

try:
    import dask.array as da
    from dask.base import tokenize
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("vexpr.dask needs Dask: pip install 'vexpr[dask]' (dask[array] and distributed)") from e

import vexpr

from . import _vexpr

__all__ = ["clear_compiled", "compilations", "compiled", "evaluate"]

#: A signature: ``(name, vexpr dtype name)`` pairs in argument order.
Signature = tuple[tuple[str, str], ...]

#: How many (text, signature) forms a process keeps compiled for chunks.
CACHE_SIZE = 256

_compiled: dict[tuple[str, Signature], _vexpr.NumExpr] = {}
_compiled_lock = threading.Lock()
_compilations = 0


def compiled(text: str, signature: Signature) -> _vexpr.NumExpr:
    """The ``NumExpr`` of ``text`` for ``signature``, compiled once per
    process (up to :data:`CACHE_SIZE` forms, the oldest dropped first): what
    every chunk task calls, on whichever worker it runs.

    >>> import vexpr.dask
    >>> f = vexpr.dask.compiled("2*a", (("a", "float64"),))
    >>> f is vexpr.dask.compiled("2*a", (("a", "float64"),))
    True
    """
    key = (text, signature)
    nex = _compiled.get(key)
    if nex is not None:
        return nex
    with _compiled_lock:
        nex = _compiled.get(key)
        if nex is None:
            nex = _vexpr.NumExpr(text, list(signature))
            if len(_compiled) >= CACHE_SIZE:
                del _compiled[next(iter(_compiled))]
            _compiled[key] = nex
            global _compilations
            _compilations += 1
        return nex


def compilations() -> int:
    """How many times this process compiled a text for :func:`compiled`
    (once per text and signature while it stays cached): run it on the
    workers (``client.run(vexpr.dask.compilations)``) to see that chunks do
    not recompile.

    >>> import vexpr.dask
    >>> before = vexpr.dask.compilations()
    >>> _ = vexpr.dask.compiled("a - 7", (("a", "int64"),))
    >>> _ = vexpr.dask.compiled("a - 7", (("a", "int64"),))
    >>> vexpr.dask.compilations() - before
    1
    """
    return _compilations


def clear_compiled() -> None:
    """Empties this process's cache of compiled chunk expressions (the count
    of :func:`compilations` goes on).

    >>> import vexpr.dask
    >>> vexpr.dask.clear_compiled()
    """
    with _compiled_lock:
        _compiled.clear()


def _call(text: str, signature: Signature, threads: int | None, order: str, *args: Any) -> Any:
    """Evaluates ``text`` on ``args`` (in signature order) with ``threads``
    vexpr threads on the calling thread (``None``: the process-wide count)."""
    nex = compiled(text, signature)
    previous = None if threads is None else _vexpr._set_thread_local_num_threads(threads)
    try:
        return nex(*args, order=order)
    finally:
        if previous is not None:
            _vexpr._set_thread_local_num_threads(previous)


def _partial_chunk(
    text: str, signature: Signature, threads: int | None, ndim: int, axis: int | None, *blocks: Any
) -> Any:
    """One chunk's partial reduction (``text`` is the reduction call), kept
    ``ndim``-dimensional with length 1 along the reduced axes, as
    ``dask.array.reduction``'s tree expects."""
    partial = np.asarray(_call(text, signature, threads, "K", *blocks))
    if axis is None:
        return partial.reshape((1,) * ndim)
    return np.expand_dims(partial, axis)


def _keep(x: Any, axis: Any = None, keepdims: bool = True) -> Any:
    """The tree's first step on partials already reduced per chunk."""
    return x


def _signature_type(value: Any) -> str:
    """vexpr's dtype name for an input, as ``vexpr.evaluate`` would type it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    dtype = value.dtype if isinstance(value, (da.Array, np.ndarray)) else np.asarray(value).dtype
    if dtype.kind in "SU":
        raise TypeError(f"vexpr.dask does not take string inputs (dtype {dtype}); use vexpr.evaluate in memory")
    return vexpr._type_name(dtype)


def _as_input(value: Any) -> Any:
    """Dask arrays, NumPy arrays and Python scalars as they are; anything
    else as ``numpy.asarray`` makes it (as ``vexpr.evaluate`` does)."""
    if isinstance(value, (da.Array, np.ndarray, bool, int, float, complex)):
        return value
    return np.asarray(value)


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(getattr(value, "shape", ()))


def _is_array(value: Any) -> bool:
    """Whether a value takes part in blockwise's indexing: Dask arrays (0-d
    ones too) and NumPy arrays of at least one dimension, not scalars."""
    return isinstance(value, da.Array) or (isinstance(value, np.ndarray) and value.ndim > 0)


class _Graph:
    """Builds the Dask arrays of one expression: its variables' values and
    types, and fresh names for the reductions' results."""

    def __init__(self, source: str, values: dict[str, Any], threads: int | None, order: str, split_every: Any) -> None:
        self.source = source
        self.inputs = dict(values)
        self.values = values
        self.types = {name: _signature_type(v) for name, v in values.items()}
        self.threads = threads
        self.order = order
        self.split_every = split_every
        self.fresh = 0

    def signature(self, names: Sequence[str]) -> Signature:
        return tuple((n, self.types[n]) for n in names)

    def new_name(self) -> str:
        while True:
            name = f"_vx{self.fresh}"
            self.fresh += 1
            if name not in self.values:
                return name

    def build(self, text: str) -> Any:
        """``text`` as a Dask array (or an in-memory value when it reads no
        Dask array): its reductions first, innermost first, each replaced in
        the text by a variable holding its result."""
        while True:
            names = _vexpr.expression_names(text, sanitize=False)
            stages = compiled(text, self.signature(names)).stages
            if not stages:
                return self.elementwise(text, names)
            op, axis, start, end = stages[0]
            raw = text.encode()
            call = raw[start:end].decode()
            name = self.new_name()
            self.values[name] = self.reduction(call, op, axis)
            self.types[name] = _signature_type(self.values[name])
            text = (raw[:start] + name.encode() + raw[end:]).decode()

    def check_shapes(self, text: str, names: Sequence[str], nex: _vexpr.NumExpr) -> tuple[int, ...]:
        """The broadcast shape of ``names``' values; vexpr's own error when
        they do not broadcast (raised by vexpr on stand-ins of the inputs'
        shapes that hold no memory)."""
        shapes = [_shape(self.values[n]) for n in names]
        if any(s != s for shape in shapes for s in shape):
            raise ValueError("vexpr.dask needs known chunk sizes: call compute_chunk_sizes() on the Dask arrays first")
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            standins = [
                np.broadcast_to(np.ones((), np.dtype(t)), s) if isinstance(self.values[n], (da.Array, np.ndarray)) else self.values[n]
                for (n, t), s in zip(nex.signature, shapes)
            ]
            nex(*standins)
            raise

    def shape_error(self, call: str, names: Sequence[str]) -> None:
        """Raises vexpr's error for a reduction that its operand's shape
        refuses (an axis out of range, ``min``/``max`` of nothing): the
        whole expression evaluated on stand-ins of a few elements with the
        inputs' dimensions raises it as ``vexpr.evaluate`` would; else the
        call alone, on stand-ins of its own inputs."""
        for text, values in ((self.source, self.inputs), (call, {n: self.values[n] for n in names})):
            try:
                _vexpr.evaluate(text, {n: _standin(v) for n, v in values.items()}, {}, disable_cache=True)
            except ValueError as e:
                # Not an error of the stand-ins' values (ones).
                if "axis" in str(e) or "zero-size" in str(e):
                    raise
        raise ValueError(f"vexpr cannot evaluate {call!r} on these shapes")

    def blockwise(
        self, function: Any, text: str, names: Sequence[str], extra: tuple[Any, ...], dtype: np.dtype, ndim: int, reduced: Sequence[int]
    ) -> da.Array:
        """One blockwise layer calling ``function(text, signature, threads,
        *extra, *blocks)`` per output chunk; the ``reduced`` axes come out
        with one element per chunk."""
        args: list[Any] = []
        for n in names:
            v = self.values[n]
            args += [v, tuple(range(ndim - v.ndim, ndim)) if _is_array(v) else None]
        return da.blockwise(
            function,
            tuple(range(ndim)),
            text,
            None,
            self.signature(names),
            None,
            self.threads,
            None,
            *[x for e in extra for x in (e, None)],
            *args,
            token="vexpr",
            dtype=dtype,
            meta=np.empty((0,) * ndim, dtype),
            adjust_chunks={k: 1 for k in reduced} or None,
        )

    def elementwise(self, text: str, names: Sequence[str]) -> Any:
        """An expression without reductions: one vexpr call per chunk."""
        # A reduction's result alone (already of vexpr's type).
        if len(names) == 1 and text.strip() == names[0] and names[0] not in self.inputs:
            return self.values[names[0]]
        nex = compiled(text, self.signature(names))
        if not any(isinstance(self.values[n], da.Array) for n in names):
            return _call(text, self.signature(names), self.threads, self.order, *(self.values[n] for n in names))
        ndim = len(self.check_shapes(text, names, nex))
        dtype = np.dtype(nex.result_dtype)
        return self.blockwise(_call, text, names, (self.order,), dtype, ndim, ())

    def reduction(self, call: str, op: str, axis: int | None) -> Any:
        """A reduction call whose operand has no reductions left: partials
        per chunk, then Dask's tree reduction with vexpr combining them."""
        names = _vexpr.expression_names(call, sanitize=False)
        signature = self.signature(names)
        nex = compiled(call, signature)
        if not any(isinstance(self.values[n], da.Array) for n in names):
            return _call(call, signature, self.threads, "K", *(self.values[n] for n in names))
        shape = self.check_shapes(call, names, nex)
        ndim = len(shape)
        dtype = np.dtype(nex.result_dtype)
        if (axis is not None and axis >= ndim) or (op in ("min", "max") and 0 in (shape if axis is None else shape[axis:axis + 1])):
            self.shape_error(call, names)
        if ndim == 0:
            return self.blockwise(_call, call, names, ("K",), dtype, 0, ())
        # Chunks of no elements along a reduced axis of a non-empty array
        # would need an identity that min and max do not have.
        axes = tuple(range(ndim)) if axis is None else (axis,)
        for n in names:
            v = self.values[n]
            if isinstance(v, da.Array) and v.ndim:
                offset = ndim - v.ndim
                drop = {
                    k - offset: tuple(c for c in v.chunks[k - offset] if c)
                    for k in axes
                    if k >= offset and v.shape[k - offset] and 0 in v.chunks[k - offset]
                }
                if drop:
                    self.values[n] = v.rechunk(drop)
        partials = self.blockwise(_partial_chunk, call, names, (ndim, axis), dtype, ndim, axes)
        return da.reduction(
            partials,
            chunk=_keep,
            combine=_Combine(op, self.threads),
            aggregate=_Combine(op, self.threads),
            axis=axes,
            keepdims=False,
            dtype=dtype,
            split_every=self.split_every,
            concatenate=True,
            meta=np.empty((0,) * (ndim - len(axes)), dtype),
            name=f"vexpr-{op}-{tokenize(partials.name, axes, self.split_every)}",
        )


class _Combine:
    """``dask.array.reduction``'s combine and aggregate steps: the
    reduction ``op`` of concatenated partials, by vexpr (a small picklable
    object rather than a closure)."""

    def __init__(self, op: str, threads: int | None) -> None:
        self.op = op
        self.threads = threads

    def __call__(self, x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        op, threads = self.op, self.threads
        x = np.asarray(x)
        signature: Signature = (("x", vexpr._type_name(x.dtype)),)
        if len(axis) == 1 and x.ndim > 1:
            (k,) = axis
            result = np.asarray(_call(f"{op}(x, axis={k})", signature, threads, "K", x))
            return np.expand_dims(result, k) if keepdims else result
        result = np.asarray(_call(f"{op}(x)", signature, threads, "K", x))
        return result.reshape((1,) * x.ndim) if keepdims else result

    def __dask_tokenize__(self) -> tuple[str, str, int | None]:
        return ("vexpr.dask._Combine", self.op, self.threads)


def _standin(value: Any) -> Any:
    """A tiny in-memory array with ``value``'s dtype and dimensions, each of
    length 0 or 1 as ``value``'s is 0 or not (scalars as they are)."""
    if isinstance(value, (da.Array, np.ndarray)):
        return np.ones(tuple(min(s, 1) for s in value.shape), value.dtype)
    return value


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
) -> da.Array:
    """Evaluates ``ex`` lazily over Dask arrays: :func:`vexpr.evaluate`'s
    arguments (variables from ``local_dict``, ``global_dict``, or the
    caller's frame; Dask arrays, NumPy arrays and scalars mixed), a
    ``dask.array.Array`` of vexpr's result dtype returned. Nothing is
    computed until ``.compute()`` (or ``dask.compute``, ``da.store``...).

    ``threads``: vexpr threads per chunk evaluation (default 1: one per Dask
    thread, so that a worker with *n* threads runs *n*; ``None``: the count
    of :func:`vexpr.set_num_threads`). ``split_every``: the fan-in of the
    reductions' trees (``dask.array.reduction``'s). ``out=`` is refused:
    store the result with ``dask.array.store`` instead.

    Errors vexpr finds without data (syntax, names, types, axes, shapes) are
    raised here, as ``vexpr.evaluate`` raises them.

    >>> import dask.array as da, vexpr.dask
    >>> a = da.arange(10.0, chunks=4)
    >>> vexpr.dask.evaluate("a / sum(a)", {"a": a}).compute().round(3)
    array([0.   , 0.022, 0.044, 0.067, 0.089, 0.111, 0.133, 0.156, 0.178,
           0.2  ])
    """
    if not isinstance(ex, str):
        raise ValueError("must specify expression as a string")
    if kwargs:
        vexpr._check_context(kwargs)
    if out is not None:
        raise ValueError(
            "out= cannot receive a result computed from Dask arrays: store the lazy result with dask.array.store(result, out)"
        )
    _vexpr._check_order_casting(order, casting)  # vexpr.evaluate's own check and messages
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1 or None, not {threads}")
    local_dict, global_dict, clear = vexpr._namespaces(local_dict, global_dict, _frame_depth)
    try:
        names = _vexpr.expression_names(ex, sanitize=sanitize)
        values: dict[str, Any] = {}
        for name in names:
            if local_dict is not None and name in local_dict:
                values[name] = _as_input(local_dict[name])
            elif global_dict is not None and name in global_dict:
                values[name] = _as_input(global_dict[name])
            else:
                raise KeyError(name)
    finally:
        if clear:
            local_dict.clear()  # type: ignore[union-attr]
    graph = _Graph(ex, values, threads, order, split_every)
    # Compiling for the inputs' types raises vexpr's errors of the text.
    compiled(ex, graph.signature(names))
    result = graph.build(ex)
    return result if isinstance(result, da.Array) else da.asarray(result)
