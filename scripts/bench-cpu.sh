#!/usr/bin/env bash
# CPU conv2d benchmark: fcnlab vs PyTorch on the VGG16 3x3/pad-1 layers (batch 1, 2 threads).
# Installs what is missing, builds fcnlab-bench-cpu (Release) in build/bench-cpu, runs both sides
# in this one run, and prints: shape, fcnlab GFLOP/s, PyTorch GFLOP/s, ratio (medians).
#   scripts/bench-cpu.sh                 default: 10 repetitions per side
#   FCNLAB_BENCH_REPS=N                  repetitions (median reported)
#   FCNLAB_BENCH_THREADS=N               threads on both sides (default 2)
# Other processes on the machine skew both sides: the load average is printed with the table.
set -euo pipefail
cd "$(dirname "$0")/.."

reps="${FCNLAB_BENCH_REPS:-10}"
threads="${FCNLAB_BENCH_THREADS:-2}"
py=/usr/bin/python3  # Debian's python3 with python3-torch; not a pyenv/venv python on PATH

scripts/install-deps.sh --bench
echo "== build fcnlab-bench-cpu (Release)"
cmake -S . -B build/bench-cpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DFCNLAB_BUILD_TESTS=OFF >/dev/null
cmake --build build/bench-cpu -j "${FCNLAB_JOBS:-2}" --target fcnlab-bench-cpu >/dev/null

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== load before: $(uptime | sed 's/.*load average/load average/')"
echo "== fcnlab ($threads threads, median of $reps)"
OMP_NUM_THREADS="$threads" \
  build/bench-cpu/bench/fcnlab-bench-cpu --benchmark_filter='BM_conv2d_vgg' \
  --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out/fcnlab.json" >/dev/null
echo "== pytorch ($threads threads, median of $reps)"
"$py" bench/pytorch_cpu_conv.py --runs "$reps" --threads "$threads" >"$out/torch.txt"
echo "== load after: $(uptime | sed 's/.*load average/load average/')"

"$py" - "$out/fcnlab.json" "$out/torch.txt" <<'PY'
import json, re, sys
fc = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    m = re.search(r"C:(\d+)/HW:(\d+)", b["name"])
    fc[(int(m.group(1)), int(m.group(2)))] = b["GFLOP/s"]
rows = []
for line in open(sys.argv[2]):
    c, hw, ms, gf = line.split()
    rows.append((int(c), int(hw), float(gf)))
print(f"{'shape (Cin->Cout @ HxW, 3x3 pad 1)':<36}{'fcnlab GFLOP/s':>16}{'PyTorch GFLOP/s':>17}{'ratio':>8}")
worst = None
for c, hw, tg in rows:
    f = fc.get((c, hw), float("nan"))
    r = f / tg
    worst = r if worst is None else min(worst, r)
    print(f"{f'{c}->{c} @ {hw}x{hw}':<36}{f:>16.1f}{tg:>17.1f}{r:>8.2f}")
print(f"lowest ratio: {worst:.2f} (target >= 0.80)")
PY
