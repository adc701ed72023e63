#!/usr/bin/env python3
"""paper-compare.py — fcnlab-paper-table's CSV and bench/pytorch_reference.py's CSV side by side:
one Markdown row per (net, task, input, fcnlab kernels, PyTorch variant) of the same device, size,
batch and width, with fcnlab's and PyTorch's mean times and the ratio fcnlab / PyTorch (below 1:
fcnlab is faster). Rows pair only at the same precision (TF32 with TF32, fp32 with fp32).

It also checks that the two sides ran the same nets: learned parameters and GFLOP (2 x MACs from
the layer shapes) must agree for every matched pair; a mismatch is reported and the exit status
is 1. Exit 2 on a missing or malformed file.
Usage: scripts/paper-compare.py FCNLAB.csv PYTORCH.csv [--out FILE.md]"""
import argparse
import csv
import os
import sys

NEEDED = ["framework", "variant", "tf32", "device", "model", "task", "size", "batch", "width",
          "mean_ms", "median_ms", "gflop", "params"]
LABEL = {"fcn-alexnet": "FCN-AlexNet", "fcn32s": "FCN-VGG16 (FCN-32s)", "fcn-googlenet": "FCN-GoogLeNet",
         "fcn8s": "FCN-8s"}


def load(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(print(f"paper-compare: cannot read {path}: {e.strerror}", file=sys.stderr) or 2)
    if not rows:
        sys.exit(print(f"paper-compare: {path}: no rows (expected a header and at least one row)",
                       file=sys.stderr) or 2)
    missing = [c for c in NEEDED if c not in rows[0]]
    if missing:
        sys.exit(print(f"paper-compare: {path}: missing column(s) {', '.join(missing)}", file=sys.stderr) or 2)
    for i, r in enumerate(rows, 2):
        try:
            for c in ("mean_ms", "median_ms", "gflop", "width"):
                float(r[c])
            for c in ("size", "batch", "params", "tf32"):
                int(r[c])
        except (TypeError, ValueError):
            sys.exit(print(f"paper-compare: {path} line {i}: a number was expected in {c}, got {r[c]!r}",
                           file=sys.stderr) or 2)
    return rows


def key(r):
    return (r["device"], r["model"], r["task"], int(r["size"]), int(r["batch"]), float(r["width"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fcnlab_csv")
    ap.add_argument("pytorch_csv")
    ap.add_argument("--out", help="also write the table here")
    a = ap.parse_args()
    fc, pt = load(a.fcnlab_csv), load(a.pytorch_csv)
    lines = ["| net | task | input | device | fcnlab kernels | fcnlab ms | PyTorch variant | PyTorch ms | "
             "fcnlab / PyTorch |", "|---|---|---|---|---|---|---|---|---|"]
    problems = []
    pairs = 0
    for f in fc:
        for p in pt:
            if key(f) != key(p) or int(f["tf32"]) != int(p["tf32"]):
                continue
            pairs += 1
            if int(f["params"]) != int(p["params"]):
                problems.append(f"{f['model']} {f['task']}: params fcnlab {int(f['params']):,} vs PyTorch {int(p['params']):,}")
            gf, gp = float(f["gflop"]), float(p["gflop"])
            if abs(gf - gp) > 1e-3 * max(gf, gp) + 1e-4:
                problems.append(f"{f['model']} {f['task']}: GFLOP fcnlab {gf} vs PyTorch {gp}")
            ratio = float(f["mean_ms"]) / float(p["mean_ms"])
            lines.append(f"| {LABEL.get(f['model'], f['model'])} | {f['task']} | {f['size']}x{f['size']} x{f['batch']}"
                         f"{'' if float(f['width']) == 1 else ' w' + f['width']} | {f['device']} | {f['variant']} | "
                         f"{float(f['mean_ms']):.2f} | {p['variant']} | {float(p['mean_ms']):.2f} | {ratio:.2f} |")
    if pairs == 0:
        problems.append("no row of one file matches a row of the other (device, net, task, size, batch, width, tf32)")
    problems = sorted(set(problems))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if a.out:
        tmp = f"{a.out}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, a.out)
    for m in problems:
        print(f"paper-compare: MISMATCH: {m}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
