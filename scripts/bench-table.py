#!/usr/bin/env python3
"""bench-table.py — Google Benchmark JSON (fcnlab-bench --benchmark_out) -> a Markdown table:
one row per op and shape, hand and cuDNN side by side, with TFLOP/s or GB/s and hand as a
percentage of cuDNN (or of the device-to-device copy bandwidth for memory-bound ops).
Usage: scripts/bench-table.py bench.json"""
import json
import sys


def main(path):
    data = json.load(open(path))
    ctx = data.get("context", {})
    rows = {}
    order = []
    for b in data.get("benchmarks", []):
        name = b["name"].split("/iterations:")[0]
        parts = name.split("/")
        src = parts[-1] if parts[-1] in ("hand", "cudnn") else "hand"
        key = "/".join(parts[:-1]) if parts[-1] in ("hand", "cudnn") else name
        if key not in rows:
            rows[key] = {}
            order.append(key)
        rows[key][src] = b

    def cell(b):
        if b is None:
            return "-", "-"
        if b.get("error_occurred"):
            return "skipped: " + b.get("error_message", "")[:60].replace("|", "/"), "-"
        ms = b["median_ms"] if "median_ms" in b else b["real_time"] if b.get("time_unit") == "ms" else b["real_time"] * {"ns": 1e-6, "us": 1e-3, "s": 1e3}[b["time_unit"]]
        rate = "%.1f TFLOP/s" % b["TFLOP/s"] if "TFLOP/s" in b else ("%.0f GB/s" % b["GB/s"] if "GB/s" in b else "")
        return "%.3f ms" % ms, rate

    print("device: %s; %s; %s" % (ctx.get("device", "?"), ctx.get("library", "?"), ctx.get("precision", "?")))
    print("d2d copy: %s GB/s; timing: %s" % (ctx.get("d2d_copy_GBps", "?"), ctx.get("timing", "?")))
    print()
    print("times: median per call")
    print()
    print("| op / shape | hand | hand rate | cuDNN | cuDNN rate | hand % of cuDNN | hand % of copy BW | hand vs cuDNN rel. err |")
    print("|---|---|---|---|---|---|---|---|")
    for key in order:
        h, c = rows[key].get("hand"), rows[key].get("cudnn")
        ht, hr = cell(h)
        ct, cr = cell(c)
        pc = "%.0f%%" % h["pct_of_cudnn"] if h and "pct_of_cudnn" in h else "-"
        pb = "%.0f%%" % h["pct_of_copy"] if h and "pct_of_copy" in h else "-"
        re_ = "%.1e" % h["rel_err_vs_cudnn"] if h and "rel_err_vs_cudnn" in h else "-"
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (key, ht, hr, ct, cr, pc, pb, re_))


if __name__ == "__main__":
    main(sys.argv[1])
