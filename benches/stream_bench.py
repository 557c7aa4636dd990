#!/usr/bin/env python3
"""Streaming files through `vexpr eval`: throughput against the disk, and peak memory.

For each size (1, 4 and 16 GB by default) this script

1. checks that the disk has room for two inputs and an output of that size
   (and skips the size, saying so, if not);
2. makes two float64 `.npy` inputs of that size with `vexpr eval` itself, from
   two small files that broadcast into a (size / 512 KiB, 65536) matrix, so
   that it needs nothing but Python's standard library and the CLI;
3. measures the file system's bandwidth in the same run with `dd`: reading an
   input (cold: the page cache is dropped first, when the script may), and
   writing as many bytes from /dev/zero with `conv=fdatasync`;
4. runs E1 `2*a + 3*b` and E3 `2*a**3 - 4*a**5 + 6*log(a)` from those files
   into a third, each from a cold cache, under `/usr/bin/time -v`, with the
   output synced to disk inside the timed command (as `dd` syncs its own);
5. reports throughput (bytes read and written a second) beside what `dd`'s
   bandwidth allows for the same bytes (the time to read the inputs and write
   the output at `dd`'s speeds), and the peak resident memory;
6. removes its files.

    python3 benches/stream_bench.py                  # 1, 4 and 16 GB (~6 min + build)
    python3 benches/stream_bench.py --sizes 1        # one size
    python3 benches/stream_bench.py --dir /mnt/big   # somewhere else with room

Results go to `benches/results/stream-<date>.json` and, for a full run, into
the table between the `stream:begin`/`stream:end` markers of
`docs/performance.md`. Dropping the page cache needs root; without it the
"cold" runs may read from memory, which the report then says.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benches" / "results"
DOC = REPO / "docs" / "performance.md"
EXPRESSIONS = {
    "E1": ("2*a + 3*b", ["a", "b"]),
    "E3": ("2*a**3 - 4*a**5 + 6*log(a)", ["a"]),
}
COLUMNS = 65536
GB = 10**9


def npy(path: Path, values: list[float], shape: tuple[int, ...]) -> None:
    """A little-endian float64 `.npy` file, written by hand (the inputs of
    the generator are a few hundred KB)."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}"
    header = header.ljust((len(header) + 11) // 64 * 64 + 64 - 11) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack(f"<{len(values)}d", *values))


def build() -> Path:
    subprocess.run(["cargo", "build", "--release", "-p", "vexpr-cli"], cwd=REPO, check=True)
    return REPO / "target" / "release" / "vexpr"


def drop_caches() -> bool:
    """Writes dirty pages out and empties the page cache; False if not allowed."""
    subprocess.run(["sync"], check=True)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def generate(vexpr: Path, folder: Path, size: int) -> tuple[Path, Path, int]:
    """Two inputs of `size` bytes (rounded down to whole rows), values in [0.6, 1.4]."""
    rows = max(1, size // (8 * COLUMNS))
    npy(folder / "rows.npy", [float(i) for i in range(rows)], (rows, 1))
    npy(folder / "cols.npy", [float(j) for j in range(COLUMNS)], (COLUMNS,))
    paths = []
    for name, formula in (("a", "sin(i*0.37 + j*1e-3)*0.4 + 1"), ("b", "cos(i*0.11 - j*7e-4)*0.4 + 1")):
        path = folder / f"{name}.npy"
        subprocess.run(
            [str(vexpr), "eval", formula, f"i={folder / 'rows.npy'}", f"j={folder / 'cols.npy'}", "-o", str(path), "--quiet"],
            check=True,
        )
        paths.append(path)
    return paths[0], paths[1], rows * COLUMNS * 8


def dd_seconds(args: list[str]) -> float:
    """Runs dd and returns the seconds it reports."""
    out = subprocess.run(["dd", *args], capture_output=True, text=True, check=True).stderr
    match = re.search(r"copied, ([0-9.]+) s", out)
    if not match:
        raise RuntimeError(f"cannot read dd's output: {out}")
    return float(match.group(1))


def bandwidth(folder: Path, source: Path, nbytes: int) -> dict:
    """Read and write bandwidth in bytes a second, measured with dd."""
    cold = drop_caches()
    read = dd_seconds([f"if={source}", "of=/dev/null", "bs=8M"])
    target = folder / "dd.bin"
    drop_caches()
    count = max(1, nbytes // (8 << 20))
    write = dd_seconds(["if=/dev/zero", f"of={target}", "bs=8M", f"count={count}", "conv=fdatasync"])
    target.unlink()
    return {"read": source.stat().st_size / read, "write": count * (8 << 20) / write, "cold": cold}


def run_expression(vexpr: Path, folder: Path, text: str, names: list[str]) -> dict:
    """Times `vexpr eval` (output synced) from a cold cache; seconds and peak RSS."""
    out = folder / "c.npy"
    if out.exists():
        out.unlink()
    drop_caches()
    bindings = " ".join(f"{n}={folder / (n + '.npy')}" for n in names)
    command = f"{vexpr} eval '{text}' {bindings} -o {out} --quiet && sync {out}"
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", "sh", "-c", command], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return {"seconds": seconds, "peak_rss_mib": peak_kib / 1024, "out_bytes": out.stat().st_size}


def machine() -> dict:
    def first(pattern: str, text: str) -> str:
        match = re.search(pattern, text, re.M)
        return match.group(1).strip() if match else "?"

    cpu = Path("/proc/cpuinfo").read_text()
    mem = Path("/proc/meminfo").read_text()
    return {
        "cpu": first(r"^model name\s*:\s*(.*)$", cpu),
        "cores": os.cpu_count(),
        "memory_gib": round(int(first(r"^MemTotal:\s*(\d+)", mem)) / 2**20, 1),
        "free_memory_gib": round(int(first(r"^MemAvailable:\s*(\d+)", mem)) / 2**20, 1),
    }


def measure(vexpr: Path, folder: Path, sizes: list[float]) -> list[dict]:
    rows = []
    for gb in sizes:
        size = int(gb * GB)
        free = shutil.disk_usage(folder).free
        if free < 3 * size + GB:
            print(f"{gb} GB: skipped, {free / GB:.1f} GB free on {folder} (needs {3 * gb + 1:.0f})", file=sys.stderr)
            rows.append({"size_gb": gb, "skipped": f"{free / GB:.1f} GB free"})
            continue
        print(f"{gb} GB: generating inputs", file=sys.stderr)
        a, b, nbytes = generate(vexpr, folder, size)
        bw = bandwidth(folder, a, nbytes)
        memory = machine()["free_memory_gib"]
        for eid, (text, names) in EXPRESSIONS.items():
            print(f"{gb} GB: {eid}", file=sys.stderr)
            run = run_expression(vexpr, folder, text, names)
            read_bytes = nbytes * len(names)
            written = run["out_bytes"]
            floor = read_bytes / bw["read"] + written / bw["write"]
            rows.append({
                "size_gb": gb,
                "expr": eid,
                "text": text,
                "input_bytes": read_bytes,
                "output_bytes": written,
                "free_memory_gib": memory,
                "dd_read_gbps": bw["read"] / GB,
                "dd_write_gbps": bw["write"] / GB,
                "cold_cache": bw["cold"],
                "seconds": run["seconds"],
                "throughput_gbps": (read_bytes + written) / run["seconds"] / GB,
                "dd_seconds": floor,
                "of_bandwidth": floor / run["seconds"],
                "peak_rss_mib": run["peak_rss_mib"],
            })
        for path in folder.iterdir():
            path.unlink()
    return rows


def table(rows: list[dict], info: dict) -> str:
    lines = [
        f"`python3 benches/stream_bench.py` on {info['machine']['cpu']} ({info['machine']['cores']} cores, "
        f"{info['machine']['memory_gib']} GiB memory), {info['date']}; default chunk (1Mi elements).",
        "",
        "| size | expr | read + written | free memory | dd read / write | vexpr time | throughput | dd's time for the same bytes | of bandwidth | peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['size_gb']} GB | skipped ({r['skipped']}) | | | | | | | | |")
            continue
        lines.append(
            f"| {r['size_gb']} GB | {r['expr']} | {(r['input_bytes'] + r['output_bytes']) / GB:.1f} GB | "
            f"{r['free_memory_gib']:.1f} GiB | {r['dd_read_gbps']:.2f} / {r['dd_write_gbps']:.2f} GB/s | "
            f"{r['seconds']:.1f} s | {r['throughput_gbps']:.2f} GB/s | {r['dd_seconds']:.1f} s | "
            f"{100 * r['of_bandwidth']:.0f}% | {r['peak_rss_mib']:.0f} MiB |"
        )
    if not all(r.get("cold_cache", True) for r in rows if "skipped" not in r):
        lines += ["", "The page cache could not be dropped (not root): reads may have come from memory."]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text()
    begin, end = "<!-- stream:begin -->", "<!-- stream:end -->"
    if begin not in text:
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(f"{head}{begin}\n{section}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,4,16", help="input sizes in GB, comma-separated")
    parser.add_argument("--dir", type=Path, default=REPO / "target" / "stream-bench", help="where the files go")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    vexpr = build()
    args.dir.mkdir(parents=True, exist_ok=True)
    try:
        rows = measure(vexpr, args.dir, sizes)
    finally:
        shutil.rmtree(args.dir, ignore_errors=True)
    date = datetime.date.today().isoformat()
    info = {"date": date, "machine": machine(), "sizes": sizes, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"stream-{date}.json"
    out.write_text(json.dumps(info, indent=1) + "\n")
    section = table(rows, info)
    print(section)
    if sizes == [1.0, 4.0, 16.0]:
        write_doc(section)
    print(f"\nwritten {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
