#!/usr/bin/python3
"""PyTorch CPU reference for bench/cpu/bench_conv.cpp: the VGG16 3x3/pad-1 conv layers at batch 1
(64@224, 128@112, 256@56, 512@28), forward with bias, 2 threads, median time of --runs runs.

Runs under Debian's /usr/bin/python3 with python3-torch (scripts/install-deps.sh --bench), never
a pyenv/venv python. Prints one line per shape: "C HW median_ms GFLOP/s" (GFLOP/s = 2*MACs/time).
"""
import argparse
import statistics
import sys
import time

import torch

SHAPES = [(64, 224), (128, 112), (256, 56), (512, 28)]


def bench(c: int, hw: int, runs: int, warmup: int) -> float:
    """Median seconds of one conv2d forward."""
    g = torch.Generator().manual_seed(1)
    x = torch.rand(1, c, hw, hw, generator=g) * 2 - 1
    w = (torch.rand(c, c, 3, 3, generator=g) * 2 - 1) * 0.1
    b = (torch.rand(c, generator=g) * 2 - 1) * 0.1
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            y = torch.nn.functional.conv2d(x, w, b, stride=1, padding=1)
            t1 = time.perf_counter()
            if i >= warmup:
                times.append(t1 - t0)
    assert y.shape == (1, c, hw, hw)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="timed runs per shape (median reported)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"median of {args.runs} runs", file=sys.stderr)
    for c, hw in SHAPES:
        t = bench(c, hw, args.runs, args.warmup)
        flops = 2.0 * c * c * 9 * hw * hw
        print(f"{c} {hw} {t * 1e3:.3f} {flops / t * 1e-9:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
