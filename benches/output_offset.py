"""How an output's offset within a 4 KiB page, relative to its inputs, changes
vexpr's speed: `out=` arrays cut from one buffer at chosen offsets from NumPy
inputs, N = 10M, the fastest of 5 calls per round, 8 rounds (the numbers in
docs/python.md and crates/vexpr-py/src/kept.rs come from this script).

    python benches/output_offset.py "2*a**3 - 4*a**5 + 6*log(a)" 2
    python benches/output_offset.py "arctan2(a, b) + tanh(a*b)" 1
"""
import time, numpy as np, vexpr, sys
n = 10_000_000; text = sys.argv[1]; vexpr.set_num_threads(int(sys.argv[2]))
rng = np.random.default_rng(1); a = rng.uniform(0.1, 1.0, n); b = rng.uniform(0.1, 1.0, n)
d = {"a": a, "b": b}
raw = np.empty(n + 1024)
base = raw.ctypes.data
ina = a.ctypes.data % 4096
print("inputs at", a.ctypes.data % 4096, b.ctypes.data % 4096, "raw at", base % 4096)
outs = {}
for rel in (0, 64, 2048, 4032, 1024):
    want = (ina + rel) % 4096
    k = ((want - base % 4096) % 4096) // 8
    outs[rel] = raw[k:k + n]
res = {r: [] for r in outs}
for rep in range(8):
    for rel, o in outs.items():
        vexpr.evaluate(text, local_dict=d, out=o)
        ts = []
        for _ in range(5):
            t = time.perf_counter(); vexpr.evaluate(text, local_dict=d, out=o); ts.append(time.perf_counter() - t)
        res[rel].append(min(ts) / n * 1e9)
for rel, v in res.items():  # "min" is the figure quoted
    print(f"out at input+{rel} mod 4096: min {min(v):.3f} median {sorted(v)[len(v)//2]:.3f}")
