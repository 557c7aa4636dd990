#!/usr/bin/env python3
"""Time vexpr over Dask arrays against Dask's own NumPy expressions and numexpr
mapped over blocks, on a ``dask.distributed.LocalCluster``.

Usage (with an interpreter that has vexpr, Dask, distributed and numexpr)::

    python benches/dask_bench.py            # 1, 4 and 16 GiB inputs, ~10-15 min
    python benches/dask_bench.py --quick    # 1 GiB, 2 repetitions, ~1 min

What it does, in one run:

1. Starts a LocalCluster of 2 worker processes with 1 thread each (this
   machine's 2 cores; host 127.0.0.1, ports chosen by the OS), and sets
   numexpr to 1 thread on the workers (vexpr.dask uses 1 vexpr thread per
   Dask thread by default): each contestant uses one thread per worker
   thread.
2. For E3 ``2*a**3 - 4*a**5 + 6*log(a)`` and E1 ``2*a + 3*b`` and inputs of
   1, 4 and 16 GiB each (float64; 1-D, chunks of ``--chunk-mib`` MiB,
   default 64: half Dask's default ``array.chunk-size``),
   generated lazily by Dask on the workers (each chunk a ramp from
   ``numpy.arange``, values in [0.1, 1.1): one cheap pass, never on disk),
   computes the expression's result chunk by chunk into a null target
   (``dask.array.store`` to an object that drops what it is given: the
   result of 16 GiB is made, but nowhere kept) with:
   - ``vexpr``: ``vexpr.dask.evaluate(text, {"a": a, "b": b})``;
   - ``Dask NumPy``: Dask's own expression, ``2*a**3 - 4*a**5 + 6*da.log(a)``;
   - ``numexpr blocks``: ``da.map_blocks(numexpr.evaluate(text, ...), a, b)``;
   - ``inputs only``: the inputs made and handed to one task per chunk,
     which keeps one element of them: what making them and Dask's scheduling
     cost, which every contestant pays.
   The contestants are interleaved (each repetition runs each once, in an
   order that rotates; 3 repetitions, 2 at 16 GiB); the table gives medians. Before timing, each
   contestant's sum of the result is checked against vexpr's
   (``assert_allclose``).
3. For each run: wall time, throughput per worker thread (elements of the
   result per second, divided by the 2 worker threads), the peak resident
   memory of the busier worker process (``VmHWM``, reset before the run
   through ``/proc/self/clear_refs``), and the size of the task graph (tasks
   after Dask's optimization, as submitted).
4. Single machine, without Dask, at 4 GiB, per core: the same work as the
   Dask tasks (each chunk's inputs made by the same function, then
   ``vexpr.evaluate`` with 1 thread) in 2 processes at once, each taking
   every other chunk, as the workers do, and chunk after chunk in one
   process alone; and ``vexpr.evaluate`` over the whole inputs already in
   memory, 2 threads. "Dask's cost" is the first over vexpr on Dask, per
   core.
5. Writes the Markdown between ``<!-- bench:begin -->`` and
   ``<!-- bench:end -->`` of docs/distributed.md, and every number in
   benches/results/dask-<date>[-quick][-k].json. ``--quick`` writes the
   Markdown only when ``--out`` is given (it prints it in any case), so that a
   check of the script does not replace the documented full run.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import REPO, describe_machine, numbered_results_path, write_marked_section  # noqa: E402  (benches/compare.py)

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import distributed  # noqa: E402
from dask.base import collections_to_expr  # noqa: E402
import numexpr  # noqa: E402
import numpy as np  # noqa: E402

import vexpr  # noqa: E402
import vexpr.dask  # noqa: E402

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
DOC = REPO / "docs" / "distributed.md"
NEW_FILE_HEADING = "# vexpr on Dask"

GIB = 1 << 30
WORKERS = 2
THREADS_PER_WORKER = 1

EXPRESSIONS = {
    "E3": ("2*a**3 - 4*a**5 + 6*log(a)", "2*a**3 - 4*a**5 + 6*da.log(a)"),
    "E1": ("2*a + 3*b", "2*a + 3*b"),
}
CONTESTANTS = ("vexpr", "Dask NumPy", "numexpr blocks", "inputs only")
TARGETS = {"E3": 3.0, "E1": 1.5}


def ramp(block: np.ndarray, offset: float, block_info: Any = None) -> np.ndarray:
    """One chunk of an input: a ramp in [0.1, 1.1) that differs from chunk
    to chunk (``block`` is a placeholder that gives the chunk's size)."""
    size = block.shape[0]
    start = 0.1 + (offset + 0.618 * block_info[0]["chunk-location"][0]) % 1 * 0.5
    step = 0.5 / size
    values = np.arange(start, start + step * (size - 0.5), step)
    assert values.shape == (size,)
    return values


def lazy_input(n: int, chunk: int, offset: float) -> da.Array:
    """A lazy float64 input of ``n`` elements, made chunk by chunk on the
    workers (from an empty placeholder that costs nothing)."""
    shape = da.empty(n, chunks=chunk, dtype=np.float64)
    return shape.map_blocks(ramp, offset, dtype=np.float64, meta=np.empty((0,), np.float64))


class NullTarget:
    """A ``dask.array.store`` target that drops every chunk."""

    shape: tuple[int, ...] = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def numexpr_chunk(text: str, a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """One chunk through numexpr (1 thread on each worker)."""
    return numexpr.evaluate(text, local_dict={"a": a} if b is None else {"a": a, "b": b})


def first_element(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """What "inputs only" keeps of a chunk: its first element."""
    return a[:1].copy()


def contestant(name: str, eid: str, a: da.Array, b: da.Array) -> list[da.Array]:
    """The arrays one contestant makes (lazy): its result, or for "inputs
    only" the inputs the expression reads."""
    text, numpy_text = EXPRESSIONS[eid][:2]
    uses_b = "b" in text
    if name == "vexpr":
        return [vexpr.dask.evaluate(text, {"a": a, "b": b} if uses_b else {"a": a})]
    if name == "Dask NumPy":
        return [eval(numpy_text, {"da": da, "a": a, "b": b})]  # noqa: S307 - our own expression text
    if name == "numexpr blocks":
        args = (a, b) if uses_b else (a,)
        return [da.map_blocks(numexpr_chunk, text, *args, dtype=np.float64)]
    # inputs only: made and handed to a task per chunk, as the others are;
    # that task keeps one element.
    args = (a, b) if uses_b else (a,)
    return [da.map_blocks(first_element, *args, chunks=((1,) * a.numblocks[0],), dtype=np.float64)]


def reset_peak() -> None:
    """Resets this process's peak resident memory (Linux: VmHWM)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mib() -> float:
    """This process's peak resident memory since the last reset, in MiB."""
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def graph_tasks(x: Any) -> int:
    """Tasks of ``x``'s graph after Dask's optimization (what is submitted)."""
    collections = list(x) if isinstance(x, (tuple, list)) else [x]
    return len(collections_to_expr(collections, optimize_graph=True).optimize().__dask_graph__())


def run_once(client: distributed.Client, name: str, eid: str, n: int, chunk: int) -> dict:
    """One computation into the null target: seconds, peak worker memory."""
    a, b = lazy_input(n, chunk, 0.0), lazy_input(n, chunk, 0.37)
    arrays = contestant(name, eid, a, b)
    stored = da.store(arrays, [NullTarget() for _ in arrays], lock=False, compute=False)
    client.run(reset_peak)
    start = time.perf_counter()
    client.compute(stored, sync=True)
    seconds = time.perf_counter() - start
    peaks = client.run(peak_mib)
    return {"seconds": seconds, "peak_worker_mib": max(peaks.values()), "tasks": graph_tasks(stored)}


def check_sums(client: distributed.Client, eid: str, n: int, chunk: int) -> dict:
    """Each contestant's sum of the result, against vexpr's."""
    a, b = lazy_input(n, chunk, 0.0), lazy_input(n, chunk, 0.37)
    sums = {name: float(client.compute(contestant(name, eid, a, b)[0].sum(), sync=True)) for name in CONTESTANTS[:3]}
    for name, value in sums.items():
        np.testing.assert_allclose(value, sums["vexpr"], rtol=1e-9, err_msg=name)
    return sums


def pipeline_share(eid: str, n: int, chunk: int, part: int, parts: int) -> None:
    """The work of the Dask tasks without Dask, for chunks ``part``,
    ``part + parts``, ...: each chunk's inputs made by :func:`ramp`,
    evaluated by ``vexpr.evaluate`` with 1 thread, the result dropped."""
    text = EXPRESSIONS[eid][0]
    uses_b = "b" in text
    placeholder = np.empty(chunk)
    previous = vexpr.set_num_threads(1)
    try:
        for k in range(part, n // chunk, parts):
            location = [{"chunk-location": (k,)}]
            env = {"a": ramp(placeholder, 0.0, location)}
            if uses_b:
                env["b"] = ramp(placeholder, 0.37, location)
            vexpr.evaluate(text, env)
    finally:
        vexpr.set_num_threads(previous)


def single_machine(eid: str, n: int, chunk: int, reps: int) -> dict:
    """vexpr without Dask, on the same values, three ways (median seconds of
    ``reps`` runs each):

    - ``pipeline``: the work of the Dask tasks (:func:`pipeline_share`) on
      all the cluster's cores at once, one process per worker of the cluster
      each taking every other chunk (a ``multiprocessing`` pool, started and
      warmed before timing): the same work and parallelism, without Dask;
    - ``pipeline_one_core``: the same work chunk after chunk in this process,
      alone on the machine (its cores do not share the memory bandwidth);
    - ``in_memory``: ``vexpr.evaluate`` over the whole inputs already in
      memory, 2 threads, into a preallocated ``out=`` (the engine alone).
    """
    text = EXPRESSIONS[eid][0]
    uses_b = "b" in text
    placeholder = np.empty(chunk)

    def chunk_of(k: int, offset: float) -> np.ndarray:
        return ramp(placeholder, offset, [{"chunk-location": (k,)}])

    def pipeline() -> None:
        pipeline_share(eid, n, chunk, 0, 1)

    def filled(offset: float) -> np.ndarray:
        values = np.empty(n)
        for k in range(n // chunk):
            values[k * chunk:(k + 1) * chunk] = chunk_of(k, offset)
        return values

    def timed(run: Any) -> list[float]:
        run()
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return times

    shares = [(eid, n, chunk, part, WORKERS) for part in range(WORKERS)]
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        pool.starmap(pipeline_share, [(eid, WORKERS * chunk, chunk, part, WORKERS) for part in range(WORKERS)])
        all_cores_times = timed(lambda: pool.starmap(pipeline_share, shares))
    previous = vexpr.set_num_threads(1)
    try:
        pipeline_times = timed(pipeline)
        env = {"a": filled(0.0), "b": filled(0.37)} if uses_b else {"a": filled(0.0)}
        out = np.empty(n)
        vexpr.set_num_threads(2)
        memory_times = timed(lambda: vexpr.evaluate(text, env, out=out))
    finally:
        vexpr.set_num_threads(previous)
    return {
        "pipeline": {"seconds": statistics.median(all_cores_times), "samples": all_cores_times, "threads": WORKERS},
        "pipeline_one_core": {"seconds": statistics.median(pipeline_times), "samples": pipeline_times, "threads": 1},
        "in_memory": {"seconds": statistics.median(memory_times), "samples": memory_times, "threads": 2},
    }


def measure(sizes: list[float], reps: int, chunk_mib: int, fixed_reps: bool = False) -> dict:
    chunk = chunk_mib * (1 << 20) // 8
    cluster = distributed.LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=THREADS_PER_WORKER,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        silence_logs=40,
    )
    client = distributed.Client(cluster)
    client.run(numexpr.set_num_threads, 1)
    cells: list[dict] = []
    checks: dict = {}
    try:
        for eid in EXPRESSIONS:
            checks[eid] = check_sums(client, eid, 1 << 24, chunk)
            for size in sizes:
                n = int(size * GIB) // 8 // chunk * chunk
                # One untimed run of each: imports, compilation, worker heaps.
                for name in CONTESTANTS:
                    run_once(client, name, eid, min(n, 4 * chunk * WORKERS), chunk)
                runs: dict[str, list[dict]] = {name: [] for name in CONTESTANTS}
                for rep in range(reps if size < 16 or fixed_reps else min(reps, 2)):
                    order = CONTESTANTS[rep % len(CONTESTANTS):] + CONTESTANTS[: rep % len(CONTESTANTS)]
                    for name in order:
                        runs[name].append(run_once(client, name, eid, n, chunk))
                        print(f"{eid} {size:g} GiB {name}: {runs[name][-1]['seconds']:.2f} s", file=sys.stderr)
                cells.append({"expr": eid, "gib": size, "n": n, "runs": runs})
    finally:
        client.close()
        cluster.close()
    single_size = 4.0 if 4.0 in sizes else sizes[-1]
    single = {}
    for eid in EXPRESSIONS:
        n = int(single_size * GIB) // 8 // chunk * chunk
        single[eid] = {"gib": single_size, "n": n, **single_machine(eid, n, chunk, reps)}
    return {"cells": cells, "single_machine": single, "sum_checks": checks, "chunk_mib": chunk_mib}


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def fmt(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


def markdown(results: dict) -> str:
    info = results["machine"]
    v = results["versions"]
    cores = WORKERS * THREADS_PER_WORKER
    lines = [
        BEGIN,
        "<!-- Written by benches/dask_bench.py; edit the script, not this section. -->",
        "",
        f"`{results['command']}`, {results['started']} to {results['finished']}; raw numbers in "
        f"`{results['json']}`.",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | `{info['cpu']}` (lscpu){', ' + info['hypervisor'] + ' guest' if info['hypervisor'] else ''}, {info['cores']} cores |",
        f"| caches (lscpu) | {', '.join(f'{k} {val}' for k, val in info['caches'].items())} |",
        f"| memory | {info['memory_gib']} GiB |",
        f"| software | Python {v['python']}, NumPy {v['numpy']}, Dask {v['dask']}, distributed {v['distributed']}, numexpr {v['numexpr']}, vexpr {v['vexpr']} (commit `{info['git_commit'][:10]}`{' + uncommitted changes' if info['git_dirty'] else ''}) |",
        f"| cluster | `LocalCluster`: {WORKERS} worker processes × {THREADS_PER_WORKER} thread, default memory limit; chunks of {results['chunk_mib']} MiB ({results['chunk_mib'] * (1 << 20) // 8:,} float64) |",
        "",
        "Each cell is the median of the repetitions (contestants interleaved). Time: wall seconds of "
        "`client.compute` of the result stored into a target that drops it (inputs made on the workers, "
        "chunk by chunk; nothing on disk). Per thread: result elements per second per worker thread "
        f"(÷ {cores}). Peak: the busier worker process's peak resident memory during the run (`VmHWM`). "
        "Tasks: the graph's tasks after Dask's optimization. \"inputs only\" makes the inputs and "
        "hands each chunk to a task that keeps one element (no expression): what every contestant pays "
        "for the inputs and the scheduling.",
        "",
        "| expr | input size | contestant | time (s) | per thread (M elem/s) | peak worker (MiB) | tasks | vexpr faster by |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for cell in results["cells"]:
        runs = cell["runs"]
        t_vexpr = median_of(runs["vexpr"], "seconds")
        for name in CONTESTANTS:
            t = median_of(runs[name], "seconds")
            per_thread = cell["n"] / t / cores / 1e6
            ratio = "" if name in ("vexpr", "inputs only") else f"{t / t_vexpr:.2f}x"
            lines.append(
                f"| {cell['expr']} | {cell['gib']:g} GiB | {name} | {fmt(t)} | {fmt(per_thread)} | "
                f"{median_of(runs[name], 'peak_worker_mib'):.0f} | {runs[name][0]['tasks']} | {ratio} |"
            )
        t_numpy = median_of(runs["Dask NumPy"], "seconds")
        m_vexpr = median_of(runs["vexpr"], "peak_worker_mib")
        m_numpy = median_of(runs["Dask NumPy"], "peak_worker_mib")
        target = TARGETS[cell["expr"]]
        verdicts.append(
            f"| {cell['expr']} | {cell['gib']:g} GiB | {t_numpy / t_vexpr:.2f}x | ≥ {target}x | "
            f"{'yes' if t_numpy / t_vexpr >= target else 'no'} | {m_vexpr:.0f} vs {m_numpy:.0f} MiB | "
            f"{'yes' if m_vexpr < m_numpy else 'no'} |"
        )
    lines += [
        "",
        "Targets: vexpr on Dask against Dask's NumPy expression.",
        "",
        "| expr | input size | speed-up | target | met | peak worker memory (vexpr vs NumPy) | lower |",
        "|---|---:|---:|---:|:---:|---:|:---:|",
        *verdicts,
    ]
    single_rows = []
    for eid, s in results["single_machine"].items():
        cell = next(c for c in results["cells"] if c["expr"] == eid and c["gib"] == s["gib"])
        per_core = {
            "pipeline": s["n"] / s["pipeline"]["seconds"] / s["pipeline"]["threads"] / 1e6,
            "one_core": s["n"] / s["pipeline_one_core"]["seconds"] / 1e6,
            "in_memory": s["n"] / s["in_memory"]["seconds"] / s["in_memory"]["threads"] / 1e6,
            "dask": cell["n"] / median_of(cell["runs"]["vexpr"], "seconds") / cores / 1e6,
        }
        cost = per_core["pipeline"] / per_core["dask"]
        single_rows.append(
            f"| {eid} | {s['gib']:g} GiB | {fmt(per_core['in_memory'])} | {fmt(per_core['one_core'])} | "
            f"{fmt(per_core['pipeline'])} | {fmt(per_core['dask'])} | {cost:.2f}x | {'yes' if cost <= 1.2 else 'no'} |"
        )
    lines += [
        "",
        "Single machine, per core (M result elements per second per core): \"in memory\" is "
        "`vexpr.evaluate` over the whole inputs already in memory, 2 threads, into a preallocated "
        "`out=` (the engine alone); \"same work\" is what the Dask tasks do, without Dask (each chunk's "
        "inputs made by the same function, evaluated with 1 thread, the result dropped), \"one core\" "
        f"chunk after chunk in one process alone on the machine, \"all cores\" in {WORKERS} processes at "
        "once each taking every other chunk, as the cluster's workers do (they then share the memory "
        "bandwidth). \"Dask's cost\" is same work on all cores over vexpr on Dask, per core: what Dask's "
        "scheduling and workers cost. Target: within 20% (≤ 1.2x).",
        "",
        "| expr | input size | in memory | same work, one core | same work, all cores | vexpr on Dask | Dask's cost | within 20% |",
        "|---|---:|---:|---:|---:|---:|---:|:---:|",
        *single_rows,
        "",
        END,
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Puts ``section`` between the markers of ``path`` (see
    ``compare.write_marked_section``)."""
    write_marked_section(path, section, BEGIN, END, NEW_FILE_HEADING)


def results_path(date: str, quick: bool) -> Path:
    """benches/results/dask-<date>[-quick].json, numbered -2, -3... so that
    no run overwrites another."""
    return numbered_results_path(f"dask-{date}" + ("-quick" if quick else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 GiB inputs, 2 repetitions")
    parser.add_argument("--out", type=Path, default=None, help="the Markdown file (default docs/distributed.md; --quick: printed only)")
    parser.add_argument("--chunk-mib", type=int, default=64, help="chunk size of the inputs, MiB (default 64)")
    parser.add_argument("--sizes", type=float, nargs="*", default=None, help="input sizes in GiB (default 1 4 16)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 3, and 2 at 16 GiB or more; --quick 2)")
    args = parser.parse_args()
    sizes = args.sizes or ([1.0] if args.quick else [1.0, 4.0, 16.0])
    reps = args.reps or (2 if args.quick else 3)
    started = _dt.datetime.now()
    measured = measure(sizes, reps, args.chunk_mib, args.reps is not None)
    finished = _dt.datetime.now()
    path = results_path(started.strftime("%Y-%m-%d"), args.quick)
    results = {
        "command": " ".join(["/tmp/pyenv/bin/python" if sys.executable.startswith("/tmp/pyenv") else "python", "benches/dask_bench.py", *sys.argv[1:]]),
        "started": started.strftime("%Y-%m-%d %H:%M:%S"),
        "finished": finished.strftime("%H:%M:%S"),
        "json": str(path.relative_to(REPO)),
        "machine": describe_machine(),
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "dask": dask.__version__,
            "distributed": distributed.__version__,
            "numexpr": numexpr.__version__,
            "vexpr": vexpr.__version__,
        },
        **measured,
    }
    path.write_text(json.dumps(results, indent=1) + "\n")
    section = markdown(results)
    print(section)
    if args.out or not args.quick:
        write_section(args.out or DOC, section)


if __name__ == "__main__":
    main()
