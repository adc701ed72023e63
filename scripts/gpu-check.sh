#!/usr/bin/env bash
# gpu-check.sh — one command for a machine with an NVIDIA GPU (written for an H200, 16 cores,
# CUDA toolkit + CMake + ninja, no package registry): unpacks .offline/*.deb (made by
# scripts/pack-offline-deps.sh) into .offline/root, builds the cuda preset for sm_90, prints the
# device properties (never changes clocks or any setting), runs the gpu-labelled tests,
# fcnlab-bench, fcnlab-paper-table (FCN forward times, hand kernels and cuDNN, beside the paper's
# K40c and the device floor; an FCN-8s training step), bench/pytorch_reference.py when python3's
# torch sees the GPU (the H200 host's image has PyTorch; elsewhere it says so and skips), the
# kernel ladders (conv2d, conv_transpose2d, softmax/Dice), and compute-sanitizer (memcheck,
# racecheck, synccheck) on a few kernel test cases (last, so the time budget trims it first). A copy of the
# results goes to $OUT/results/DATE-DEVICE/ (README.md with date, device, driver, clocks as
# found; CSV/JSON/Markdown) — commit that folder under bench/results/. Logs and summary.md go to $OUT (default ./gpu-results); the summary
# table is printed last. Every step has a timeout, a failing step is recorded and the script goes
# on; the whole run stays under 8 minutes. Exit status: 0 when every step that ran passed.
# Knobs: GPU_CHECK_BUDGET_S (470), CUDA_ARCH (90), JOBS (nproc), BENCH_BATCHES (1),
#        PAPER_TRIALS (20), PAPER_TRAIN (1: also the FCN-8s 512x512 batch-8 training step),
#        BENCH_FILTER (all), SANITIZE_TC (doctest -tc list), GPU_CHECK_FORCE_BUILD=1 (build
#        even without a GPU: checks the offline configure/compile path), GPU_CHECK_BUILD_DIR.
# Rehearsal (no GPU needed; CI runs it): GPU_CHECK_REHEARSAL=1 GPU_CHECK_BUILD_DIR=build/simt
#   runs every step after the build against an existing simt build at smoke sizes (the paper
#   table and PyTorch on the CPU, so the two can be compared; three quick kernel tests through
#   the same ctest call) and writes the summary and a results folder marked REHEARSAL: the
#   script's own plumbing is checked before a GPU run depends on it. Its numbers mean nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
OUT=${OUT:-$REPO/gpu-results}
mkdir -p "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
BUDGET=${GPU_CHECK_BUDGET_S:-470}
ARCH=${CUDA_ARCH:-90}
JOBS=${JOBS:-$(nproc)}
BENCH_BATCHES=${BENCH_BATCHES:-1}
BENCH_FILTER=${BENCH_FILTER:-.}
PAPER_TRIALS=${PAPER_TRIALS:-20}
PAPER_TRAIN=${PAPER_TRAIN:-1}
SANITIZE_TC=${SANITIZE_TC:-'*elementwise ops*,*reductions*,*gemm is bit-exact*,*conv2d forward and both gradients*,*direct kernel and the implicit GEMM*,*Winograd*bit-exact*,*softmax*,*max_pool*'}
BUILD=${GPU_CHECK_BUILD_DIR:-$REPO/build/cuda}
ROOT=$REPO/.offline/root
START=$(date +%s)
SUMMARY_ROWS=()
FAILED=0
REHEARSAL=${GPU_CHECK_REHEARSAL:-0}
# What the steps run. A rehearsal shrinks each to a smoke size and moves the paper table and
# PyTorch to the CPU; everything else (paths, files, tables, the summary) is the real run's.
TEST_ARGS=(--test-dir "$BUILD" -L gpu)
BENCH_ARGS=()
PT_ARGS=(--device cuda --kernels hand,cudnn)
PY_ARGS=(--device cuda)
ladder_args() { :; }
if [ "$REHEARSAL" = 1 ]; then
  if ! grep -qs '^FCNLAB_GPU:STRING=simt$' "$BUILD/CMakeCache.txt"; then
    echo "gpu-check: GPU_CHECK_REHEARSAL=1 needs GPU_CHECK_BUILD_DIR set to a built simt tree" \
         "(cmake --preset simt && cmake --build --preset simt); $BUILD is not one" >&2
    exit 2
  fi
  # three quick kernel tests, run from tests/ so that ctest's own logs stay out of the way of a
  # ctest that may be running this rehearsal
  TEST_ARGS=(--test-dir "$BUILD/tests" -L simt -R '^kernels-simt:(cuda tensors round-trip|cuda concat_channels|ladder: softmax)')
  BENCH_ARGS=(--smoke --iters=1)
  PT_ARGS=(--device cpu --threads 1 --size 48 --width 0.0625 --warmup 0
           --train-size 48 --train-batch 1 --train-trials 1)
  PY_ARGS=(--device cpu --smoke --variants eager --threads 1)
  PAPER_TRIALS=1
  ladder_args() {
    case $1 in
      *softmax-dice*) echo --size 12 --reps 2;;
      *) echo --smoke --reps 1;;
    esac
  }
fi

elapsed() { echo $(( $(date +%s) - START )); }
# run_step NAME TIMEOUT_S CMD... : runs CMD with a timeout cut to the remaining budget, logs to
# $OUT/logs/NAME.log, records one summary row. Returns CMD's status.
run_step() {
  local name=$1 limit=$2; shift 2
  local left=$(( BUDGET - $(elapsed) - 10 ))
  if (( left < 5 )); then
    SUMMARY_ROWS+=("| $name | skipped | 0 | out of time budget |"); return 99
  fi
  (( limit > left )) && limit=$left
  local log="$OUT/logs/$name.log" t0 rc note
  t0=$(date +%s)
  echo "== $name (timeout ${limit}s) -> $log"
  timeout --kill-after=5 "$limit" "$@" > "$log" 2>&1
  rc=$?
  local dt=$(( $(date +%s) - t0 ))
  case $rc in
    0) note="ok";;
    124|137) note="TIMED OUT after ${limit}s";;
    *) note="exit $rc: $( (grep -m1 -iE 'error|fail' "$log" || tail -1 "$log") | cut -c1-100 | tr '|' '/')";;
  esac
  [ $rc -eq 0 ] && SUMMARY_ROWS+=("| $name | pass | $dt | $note |") \
                || { SUMMARY_ROWS+=("| $name | FAIL | $dt | $note |"); FAILED=1; }
  tail -3 "$log" | sed 's/^/   /'
  return $rc
}
skip_step() { SUMMARY_ROWS+=("| $1 | skipped | 0 | $2 |"); }

write_summary() {
  {
    echo "# gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ)$([ "$REHEARSAL" = 1 ] && echo ' (REHEARSAL: no GPU, smoke sizes, times mean nothing)')"
    echo
    echo "host: $(hostname), commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), total $(elapsed)s of ${BUDGET}s"
    echo "device: ${DEVICE_LINE:-none}"
    echo
    echo "| step | status | seconds | note |"
    echo "|---|---|---|---|"
    printf '%s\n' "${SUMMARY_ROWS[@]}"
    for l in "$OUT"/logs/ladder*.log; do
      [ -s "$l" ] && { echo; echo "$(basename "$l" .log):"; echo '```'; tail -40 "$l"; echo '```'; }
    done
    if [ -s "$OUT/bench-table.md" ]; then echo; cat "$OUT/bench-table.md"; fi
    if [ -s "$OUT/paper-table.md" ]; then echo; echo "FCN forward times (fcnlab-paper-table):"; echo; cat "$OUT/paper-table.md"; fi
    if [ -s "$OUT/paper-compare.md" ]; then echo; echo "fcnlab / PyTorch, same GPU, same run:"; echo; cat "$OUT/paper-compare.md"; fi
  } > "$OUT/summary.md"
}

# ---- 1. the GPU
DEVICE_LINE=""
HAVE_GPU=0
if [ "$REHEARSAL" = 1 ]; then
  HAVE_GPU=1
  DEVICE_LINE="REHEARSAL: no GPU; the simt build in $BUILD runs the kernels on the CPU"
  SUMMARY_ROWS+=("| gpu | rehearsal | 0 | no GPU used: every step after the build runs at smoke size on the CPU |")
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L > "$OUT/logs/nvidia-smi-L.log" 2>&1 \
   && grep -q '^GPU ' "$OUT/logs/nvidia-smi-L.log"; then
  HAVE_GPU=1
  DEVICE_LINE=$(head -1 "$OUT/logs/nvidia-smi-L.log")
  SUMMARY_ROWS+=("| gpu | pass | 0 | $DEVICE_LINE |")
else
  echo "gpu-check: NO NVIDIA GPU on this machine (nvidia-smi missing or lists no GPU);"
  echo "           the GPU steps are skipped and recorded as such in the summary."
  SUMMARY_ROWS+=("| gpu | FAIL | 0 | no NVIDIA GPU found (nvidia-smi missing or lists none) |")
  FAILED=1
fi

# ---- 2. offline dependencies -> .offline/root
unpack_deps() {
  shopt -s nullglob
  local debs=("$REPO"/.offline/*.deb)
  if (( ${#debs[@]} == 0 )); then
    echo "no .offline/*.deb: run scripts/pack-offline-deps.sh on a connected machine (or have the packages installed)"
    return 1
  fi
  rm -rf "$ROOT"; mkdir -p "$ROOT"
  for d in "${debs[@]}"; do
    if command -v dpkg >/dev/null; then dpkg -x "$d" "$ROOT" || return 1
    else  # no dpkg: a .deb is an ar archive holding data.tar.{xz,zst,gz}
      local m z; m=$(ar t "$d" | grep '^data.tar') || return 1
      case $m in *.xz) z=-J;; *.zst) z=--zstd;; *.gz) z=-z;; *) z=;; esac
      ar p "$d" "$m" | tar -x $z -f - -C "$ROOT" || return 1
    fi
    echo "unpacked $(basename "$d")"
  done
  [ -f "$REPO/.offline/MANIFEST.tsv" ] && cp "$REPO/.offline/MANIFEST.tsv" "$OUT/offline-manifest.tsv"
}
CMAKE_DEPS=()
export -f unpack_deps; export REPO ROOT OUT
if [ "$REHEARSAL" = 1 ]; then
  skip_step deps "rehearsal: the simt build is already configured"
elif run_step deps 30 bash -c unpack_deps; then
  CMAKE_DEPS=(-DCMAKE_PREFIX_PATH="$ROOT/usr" -DCMAKE_CXX_FLAGS="-isystem $ROOT/usr/include")
else
  echo "   (continuing with whatever the system has installed)"
fi

# ---- 3. configure + build (cuda preset, sm_$ARCH)
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
export PATH="$PATH:/usr/local/cuda/bin"
BUILT=0
if [ "$REHEARSAL" = 1 ]; then
  skip_step configure "rehearsal: uses $BUILD as built"
  skip_step build "rehearsal"
  BUILT=1
elif (( HAVE_GPU )) || [ "${GPU_CHECK_FORCE_BUILD:-0}" = 1 ]; then
  if run_step configure 90 cmake --preset cuda -B "$BUILD" -DCMAKE_CUDA_ARCHITECTURES="$ARCH" "${CMAKE_DEPS[@]}"; then
    grep -E "fcnlab: GPU backend" "$OUT/logs/configure.log" | sed 's/^/   /'
    grep -q "fcnlab: GPU backend.*no cuDNN baseline" "$OUT/logs/configure.log" &&
      SUMMARY_ROWS+=("| cudnn | FAIL | 0 | no cuDNN/cuBLAS found: every % of cuDNN is missing (configure.log; set CUDNN_ROOT) |") && FAILED=1
    # cuDNN 9 loads its sub-libraries (libcudnn_cnn.so.9, ...) with dlopen, which a RUNPATH does
    # not reach: where the library came from a Python wheel, put its folder on the search path.
    for v in FCNLAB_CUDNN_LIBRARY FCNLAB_CUBLAS_LIBRARY; do
      lib=$(sed -n "s/^$v:FILEPATH=//p" "$BUILD/CMakeCache.txt")
      [ -f "$lib" ] && export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    done
    # Only what this check runs: the kernel tests, the benchmark, the ladder if it exists.
    targets=(fcnlab fcnlab_tests_kernels)
    help=$(cmake --build "$BUILD" --target help 2>/dev/null)
    grep -q "^fcnlab-bench: " <<<"$help" && targets+=(fcnlab-bench)
    grep -q "^fcnlab-paper-table: " <<<"$help" && targets+=(fcnlab-paper-table)
    targets+=($(grep -oE '^[A-Za-z0-9_.-]*ladder[A-Za-z0-9_.-]*: ' <<<"$help" | tr -d ': '))
    run_step build 330 cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" && BUILT=1
  else
    skip_step build "configure failed"
  fi
else
  skip_step configure "no GPU (GPU_CHECK_FORCE_BUILD=1 builds anyway)"
  skip_step build "no GPU"
fi

# ---- 4. device properties (read only: nvidia-smi queries and the CUDA API)
device_props() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,power.limit,temperature.gpu,persistence_mode,compute_mode --format=csv
  echo; nvidia-smi -q -d CLOCK
  local tmp; tmp=$(mktemp -d)
  cat > "$tmp/props.cu" <<'CU'
#include <cstdio>
#include <cuda_runtime.h>
int main() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) { std::printf("CUDA API: no device\n"); return 1; }
  int drv = 0, rt = 0; cudaDriverGetVersion(&drv); cudaRuntimeGetVersion(&rt);
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{}; cudaGetDeviceProperties(&p, d);
    auto attr = [&](cudaDeviceAttr a) { int v = 0; cudaDeviceGetAttribute(&v, a, d); return v; };
    std::printf("device %d: %s, cc %d.%d, %d SMs, L2 %.1f MiB, memory %.1f GiB, bus %d-bit,\n"
                "  SM clock %.0f MHz, memory clock %.0f MHz, smem/block opt-in %d KiB, regs/SM %d,\n"
                "  driver %d, runtime %d\n",
                d, p.name, p.major, p.minor, p.multiProcessorCount, p.l2CacheSize / 1048576.0,
                p.totalGlobalMem / 1073741824.0, attr(cudaDevAttrGlobalMemoryBusWidth),
                attr(cudaDevAttrClockRate) / 1000.0, attr(cudaDevAttrMemoryClockRate) / 1000.0,
                attr(cudaDevAttrMaxSharedMemoryPerBlockOptin) / 1024, attr(cudaDevAttrMaxRegistersPerMultiprocessor),
                drv, rt);
  }
  return 0;
}
CU
  ${CUDACXX:-nvcc} -O1 -o "$tmp/props" "$tmp/props.cu" && "$tmp/props"
  local rc=$?; rm -rf "$tmp"; return $rc
}
if [ "$REHEARSAL" = 1 ]; then
  skip_step device "rehearsal"
elif (( HAVE_GPU )); then
  export -f device_props; export CUDACXX
  run_step device 60 bash -c device_props && DEVICE_LINE=$(grep -m1 '^device 0:' "$OUT/logs/device.log")
  cp "$OUT/logs/device.log" "$OUT/device.txt" 2>/dev/null
else
  skip_step device "no GPU"
fi

# ---- 5. gpu tests, 6. benchmarks (fcnlab-bench, paper table, PyTorch side by side), 7. ladders,
# 8. compute-sanitizer: in order of what the issues ask for, so the budget trims the last first
KT=$BUILD/tests/fcnlab_tests_kernels
if (( HAVE_GPU && BUILT )); then
  # --no-tests=error: a build whose kernel tests were not discovered must not pass by running none.
  run_step tests-gpu 150 ctest "${TEST_ARGS[@]}" --no-tests=error -j 4 --timeout 60 \
    --output-on-failure --output-junit "$OUT/ctest-gpu.xml"
  grep -E "tests passed|tests failed|Total Tests" "$OUT/logs/tests-gpu.log" | tail -1 | sed 's/^/   /'
  # A gpu test that found no usable GPU reports skipped (exit 77), which ctest counts as a pass:
  # on this machine that means the kernels were not checked, so it is a failure here.
  skipped=$(grep -c '\*\*\*Skipped' "$OUT/logs/tests-gpu.log")
  if (( skipped > 0 )); then
    SUMMARY_ROWS+=("| tests-gpu-skipped | FAIL | 0 | $skipped gpu test(s) skipped: they found no usable GPU (tests-gpu.log) |")
    FAILED=1
  fi
  if [ -x "$BUILD/bench/fcnlab-bench" ]; then
    run_step bench 170 "$BUILD/bench/fcnlab-bench" "${BENCH_ARGS[@]}" --batches="$BENCH_BATCHES" --benchmark_filter="$BENCH_FILTER" \
      --benchmark_context=git=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) --benchmark_counters_tabular=true \
      --benchmark_out="$OUT/bench.json" --benchmark_out_format=json
    [ -s "$OUT/bench.json" ] && python3 "$REPO/scripts/bench-table.py" "$OUT/bench.json" > "$OUT/bench-table.md" 2>>"$OUT/logs/bench.log"
  else
    skip_step bench "fcnlab-bench was not built"
  fi
  PT=$BUILD/fcnlab-paper-table
  if [ -x "$PT" ]; then
    train=(); [ "$PAPER_TRAIN" = 1 ] && train=(--train-step)
    run_step paper-table 150 "$PT" "${PT_ARGS[@]}" --trials "$PAPER_TRIALS" "${train[@]}" \
      --csv "$OUT/paper-table.csv"
    sed -n '/^| net |/,$p' "$OUT/logs/paper-table.log" > "$OUT/paper-table.md"
  else
    skip_step paper-table "fcnlab-paper-table was not built"
  fi
  # PyTorch side by side, same GPU, same run: only where torch with CUDA is importable
  # (a rehearsal needs torch only). GPU_CHECK_PYTHON picks the interpreter (default: python3).
  PY=${GPU_CHECK_PYTHON:-$(command -v python3 || true)}
  probe='import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'
  [ "$REHEARSAL" = 1 ] && probe='import torch'
  if [ -n "$PY" ] && "$PY" -c "$probe" >/dev/null 2>&1; then
    ptrain=(); [ "$PAPER_TRAIN" = 1 ] && ptrain=(--train-step)
    run_step pytorch 150 "$PY" "$REPO/bench/pytorch_reference.py" "${PY_ARGS[@]}" --trials "$PAPER_TRIALS" "${ptrain[@]}" \
      --csv "$OUT/pytorch.csv"
    [ -s "$OUT/paper-table.csv" ] && [ -s "$OUT/pytorch.csv" ] && \
      "$PY" "$REPO/scripts/paper-compare.py" "$OUT/paper-table.csv" "$OUT/pytorch.csv" --out "$OUT/paper-compare.md" \
      >> "$OUT/logs/pytorch.log" 2>&1
  else
    echo "gpu-check: python3 has no torch that sees the GPU here: PyTorch side skipped"
    skip_step pytorch "torch $([ "$REHEARSAL" = 1 ] || echo "with CUDA ")not importable on this machine (python3: ${PY:-none})"
  fi
  ladders=$(find "$BUILD" -maxdepth 3 -type f -executable -name '*ladder*' | sort)
  [ -z "$ladders" ] && skip_step ladder "no ladder program built"
  for ladder in $ladders; do
    run_step "ladder-$(basename "$ladder" | sed 's/^fcnlab-//')" 90 "$ladder" $(ladder_args "$ladder")
  done
  if [ "$REHEARSAL" = 1 ]; then
    skip_step sanitize "rehearsal: compute-sanitizer needs a GPU"
  elif command -v compute-sanitizer >/dev/null || [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
    CS=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    for tool in memcheck racecheck synccheck; do
      run_step "sanitize-$tool" 45 "$CS" --tool "$tool" --error-exitcode 1 "$KT" -tc="$SANITIZE_TC"
    done
  else
    skip_step sanitize "compute-sanitizer not found"
  fi
else
  why=$([ $HAVE_GPU = 1 ] && echo "build failed" || echo "no GPU")
  for s in tests-gpu sanitize bench paper-table ladder pytorch; do skip_step "$s" "$why"; done
fi

# ---- 9. a results folder to commit under bench/results/ (GPU runs only)
collect_results() {
  local slug dir
  slug=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/-$//')
  [ "$REHEARSAL" = 1 ] && slug=REHEARSAL-simt
  dir="$OUT/results/$(date -u +%Y-%m-%d)-${slug:-gpu}"
  mkdir -p "$dir"
  for f in bench.json bench-table.md paper-table.csv paper-table.md pytorch.csv paper-compare.md device.txt; do
    [ -s "$OUT/$f" ] && cp "$OUT/$f" "$dir/"
  done
  for l in "$OUT"/logs/ladder*.log; do [ -s "$l" ] && cp "$l" "$dir/$(basename "$l" .log).txt"; done
  {
    echo "# gpu-check run $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    [ "$REHEARSAL" = 1 ] && echo "**REHEARSAL on the CPU (simt build, smoke sizes): not GPU results; do not commit.**" && echo
    echo "- commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- device: ${DEVICE_LINE:-?}"
    echo "- driver, clocks and limits as found (nvidia-smi; nothing was changed):"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm,clocks.max.mem,power.limit,temperature.gpu,persistence_mode --format=csv 2>/dev/null
    echo '```'
    echo
    echo "Files: bench.json (fcnlab-bench, Google Benchmark JSON) and bench-table.md; paper-table.csv/.md"
    echo "(fcnlab-paper-table); pytorch.csv and paper-compare.md (when torch with CUDA was importable);"
    echo "ladder-*.txt (kernel ladders); device.txt. Protocol: README.md \"Benchmarks\"."
  } > "$dir/README.md"
  echo "results for bench/results/: $dir"
}
(( HAVE_GPU && BUILT )) && collect_results

write_summary
echo
echo "== logs in $OUT/logs, summary in $OUT/summary.md"
echo
cat "$OUT/summary.md"
exit $FAILED
