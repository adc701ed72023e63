#!/usr/bin/env bash
# Installs what is missing, builds and runs every test; ctest's summary line comes last.
#   1. the simt build (FCNLAB_GPU=simt): the CPU engine plus the hand-written CUDA kernels run
#      on the CPU by kernels/simt; runs all tests (labels cpu and simt);
#   2. the cuda build (FCNLAB_GPU=cuda) is configured and compiled with nvcc, not run, so an nvcc
#      error fails here too: the library, the kernel tests, and the benchmark, paper-table and
#      ladder programs that scripts/gpu-check.sh runs (skipped with a warning when no CUDA
#      toolkit is installed).
# FCNLAB_JOBS=N sets parallel build/test jobs (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs="${FCNLAB_JOBS:-$(nproc)}"

if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
if command -v nvcc >/dev/null || [ -n "${CUDACXX:-}" ]; then
  echo "== configure + compile (cuda, nvcc; compile only)"
  cmake --preset cuda -DFCNLAB_BUILD_TESTS=ON >/dev/null
  # the library, the kernel tests and every program scripts/gpu-check.sh builds and runs on a GPU
  cmake --build --preset cuda -j "$jobs" --target fcnlab fcnlab_tests_kernels fcnlab-bench \
    fcnlab-paper-table fcnlab-conv-ladder fcnlab-convt-ladder fcnlab-softmax-dice-ladder
else
  echo "== WARNING: no nvcc found: the cuda build was not compiled"
fi

echo "== configure + build (simt)"
cmake --preset simt >/dev/null
cmake --build --preset simt -j "$jobs"

echo "== test (simt build: labels cpu and simt)"
ctest --preset simt -j "$jobs"
