#!/usr/bin/env python3
"""bench-table.py — Google Benchmark JSON (fcnlab-bench --benchmark_out) -> a Markdown table:
one row per op and shape, hand and cuDNN side by side, with TFLOP/s or GB/s and hand as a
percentage of cuDNN (or of the device-to-device copy bandwidth for memory-bound ops). Where
fcnlab-bench also timed a forced kernel (rows ending /hand-gemm, /hand-direct, /hand-winograd:
conv2d's forward kernels), each gets its own line under the shape's, beside the same cuDNN time.
Usage: scripts/bench-table.py bench.json"""
import json
import sys

SOURCES = ("hand", "cudnn", "hand-gemm", "hand-direct", "hand-winograd")
FORCED = (("hand-gemm", "gemm"), ("hand-direct", "direct"), ("hand-winograd", "winograd"))


def split_name(name):
    """'conv2d_fwd/conv1_1/N1/hand-direct/iterations:20/manual_time' -> ('conv2d_fwd/conv1_1/N1', 'hand-direct')"""
    parts = name.split("/iterations:")[0].split("/")
    if parts[-1] in SOURCES:
        return "/".join(parts[:-1]), parts[-1]
    return "/".join(parts), "hand"


def cell(b):
    if b is None:
        return "-", "-"
    if b.get("error_occurred"):
        return "skipped: " + b.get("error_message", "")[:60].replace("|", "/"), "-"
    if "median_ms" in b:
        ms = b["median_ms"]
    else:
        ms = b["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    rate = "%.1f TFLOP/s" % b["TFLOP/s"] if "TFLOP/s" in b else ("%.0f GB/s" % b["GB/s"] if "GB/s" in b else "")
    return "%.3f ms" % ms, rate


def main(path):
    data = json.load(open(path))
    ctx = data.get("context", {})
    rows, order = {}, []
    for b in data.get("benchmarks", []):
        key, src = split_name(b["name"])
        if key not in rows:
            rows[key] = {}
            order.append(key)
        rows[key][src] = b

    print("device: %s; %s; %s" % (ctx.get("device", "?"), ctx.get("library", "?"), ctx.get("precision", "?")))
    print("d2d copy: %s GB/s; timing: %s" % (ctx.get("d2d_copy_GBps", "?"), ctx.get("timing", "?")))
    print()
    print("times: median per call; rows marked (gemm forced) / (direct forced) / (winograd forced) time one")
    print("of conv2d's kernels for that pass (forward, data or weight gradient), the unmarked hand row is the")
    print("one the engine picks; conv rates count the direct convolution's FLOPs (Winograd's is an effective rate)")
    print()
    print("| op / shape | hand | hand rate | cuDNN | cuDNN rate | hand % of cuDNN | hand % of copy BW | hand vs cuDNN rel. err |")
    print("|---|---|---|---|---|---|---|---|")
    for key in order:
        c = rows[key].get("cudnn")
        ct, cr = cell(c)
        for src, label in [("hand", key)] + [(f, "%s (%s forced)" % (key, n)) for f, n in FORCED]:
            if src not in rows[key] and (src != "hand" or c is None):
                continue
            h = rows[key].get(src)
            ht, hr = cell(h)
            pc = "%.0f%%" % h["pct_of_cudnn"] if h and "pct_of_cudnn" in h else "-"
            pb = "%.0f%%" % h["pct_of_copy"] if h and "pct_of_copy" in h else "-"
            re_ = "%.1e" % h["rel_err_vs_cudnn"] if h and "rel_err_vs_cudnn" in h else "-"
            print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (label, ht, hr, ct, cr, pc, pb, re_))


if __name__ == "__main__":
    main(sys.argv[1])
