#!/usr/bin/env python3
"""fcnlab-bench --smoke under simt (CI): every row of the GPU benchmark runs at a tiny size, none may
end in an error row, the JSON carries the counters gpu-check.sh's table reads, and
scripts/bench-table.py renders it with the forced-kernel lines. Times mean nothing here.
Usage: test_bench_smoke.py path/to/fcnlab-bench"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "..", "..", "scripts", "bench-table.py")

exe = sys.argv[1]
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "bench.json")
    run = subprocess.run([exe, "--smoke", "--batches=1", "--iters=1", "--benchmark_out=" + out,
                          "--benchmark_out_format=json"], capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout[-3000:] + run.stderr[-3000:])
        sys.exit("fcnlab-bench --smoke exited with %d" % run.returncode)
    data = json.load(open(out))
    table = subprocess.run([sys.executable, TABLE, out], capture_output=True, text=True)

problems = []
rows = data.get("benchmarks", [])
names = [b["name"].split("/iterations:")[0] for b in rows]
for b in rows:
    if b.get("error_occurred"):
        problems.append("error row %s: %s" % (b["name"], b.get("error_message", "")))
    elif "median_ms" not in b:
        problems.append("no median_ms in %s" % b["name"])
expected_rows = [
    "conv2d_fwd/conv1_2/N1/hand", "conv2d_fwd/conv1_2/N1/hand-winograd", "conv2d_fwd/conv1_1/N1/hand-direct",
    "conv2d_bwd_data/conv3_2/N1/hand-winograd", "conv2d_bwd_filter/conv5_x/N1/hand-gemm",
    "conv_transpose2d/upscore32_64x64_s32/N1/hand", "softmax_channels/21x500x500/N8/hand", "dice/21x500x500/N1/hand",
]
for e in expected_rows:
    if e not in names:
        problems.append("missing row " + e)
if data.get("context", {}).get("mode", "").find("smoke") < 0:
    problems.append("context has no smoke mode note")
if table.returncode != 0:
    problems.append("bench-table.py failed: " + table.stderr[-500:])
lines = table.stdout.splitlines()
for prefix in ["| conv2d_fwd/conv1_2/N1 (winograd forced) |", "| conv2d_bwd_filter/conv1_2/N1 (gemm forced) |",
               "| dice/21x500x500/N8 |"]:
    if not any(l.startswith(prefix) for l in lines):
        problems.append("table has no line " + prefix)
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("fcnlab-bench --smoke: %d rows, no errors; table of %d lines" % (len(rows), len(lines)))
