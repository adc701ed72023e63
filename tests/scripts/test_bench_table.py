#!/usr/bin/env python3
"""scripts/bench-table.py on a small Google Benchmark JSON shaped like fcnlab-bench's output: the
hand and cuDNN rows of one shape side by side, the forced-kernel rows (/hand-gemm, /hand-direct)
on their own lines beside the same cuDNN time (Winograd's too), a skipped row, a memory-bound row with % of copy
bandwidth. Exit status 0 when every expected line is printed."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "bench-table.py")


def row(name, **counters):
    b = {"name": name + "/iterations:20/manual_time", "real_time": counters.pop("real_time", 1.0), "time_unit": "ms"}
    b.update(counters)
    return b


bench = {
    "context": {"device": "NVIDIA H200 (132 SMs, cc 9.0)", "library": "cuDNN 9.1.0", "precision": "fp32",
                "d2d_copy_GBps": "3900", "timing": "CUDA events"},
    "benchmarks": [
        row("conv2d_fwd/conv1_1/N1/cudnn", median_ms=0.200, **{"TFLOP/s": 8.4}),
        row("conv2d_fwd/conv1_1/N1/hand", median_ms=0.250, pct_of_cudnn=80.0, rel_err_vs_cudnn=1.5e-7, **{"TFLOP/s": 6.7}),
        row("conv2d_fwd/conv1_1/N1/hand-gemm", median_ms=0.400, pct_of_cudnn=50.0, **{"TFLOP/s": 4.2}),
        row("conv2d_fwd/conv1_1/N1/hand-direct", median_ms=0.250, pct_of_cudnn=80.0, **{"TFLOP/s": 6.7}),
        row("conv2d_fwd/conv3_2/N1/hand-winograd", median_ms=0.500, pct_of_cudnn=90.0, **{"TFLOP/s": 30.1}),
        row("conv2d_fwd/score_fr/N1/hand-direct", error_occurred=True, error_message="conv2d forward: the direct kernel cannot stage | x"),
        row("dice/21x500x500/N1/hand", median_ms=0.010, pct_of_copy=72.0, **{"GB/s": 2808.0}),
    ],
}

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "bench.json")
    json.dump(bench, open(path, "w"))
    out = subprocess.run([sys.executable, SCRIPT, path], capture_output=True, text=True)

expected = [
    "device: NVIDIA H200 (132 SMs, cc 9.0); cuDNN 9.1.0; fp32",
    "| conv2d_fwd/conv1_1/N1 | 0.250 ms | 6.7 TFLOP/s | 0.200 ms | 8.4 TFLOP/s | 80% | - | 1.5e-07 |",
    "| conv2d_fwd/conv1_1/N1 (gemm forced) | 0.400 ms | 4.2 TFLOP/s | 0.200 ms | 8.4 TFLOP/s | 50% | - | - |",
    "| conv2d_fwd/conv1_1/N1 (direct forced) | 0.250 ms | 6.7 TFLOP/s | 0.200 ms | 8.4 TFLOP/s | 80% | - | - |",
    "| conv2d_fwd/conv3_2/N1 (winograd forced) | 0.500 ms | 30.1 TFLOP/s | - | - | 90% | - | - |",
    "| conv2d_fwd/score_fr/N1 (direct forced) | skipped: conv2d forward: the direct kernel cannot stage / x | - | - | - | - | - | - |",
    "| dice/21x500x500/N1 | 0.010 ms | 2808 GB/s | - | - | - | 72% | - |",
]
lines = out.stdout.splitlines()
missing = [e for e in expected if e not in lines]
if out.returncode != 0 or missing:
    print(out.stdout + out.stderr)
    for m in missing:
        print("MISSING:", m)
    sys.exit(1)
# a shape with only forced rows prints no empty unforced line
if any(l.startswith("| conv2d_fwd/score_fr/N1 |") for l in lines):
    print(out.stdout)
    print("UNEXPECTED: an unforced score_fr row")
    sys.exit(1)
print("bench-table.py: %d expected lines printed" % len(expected))
