#!/usr/bin/env bash
# Installs what is missing, configures, builds and runs every test (ctest's summary line last).
#   scripts/test.sh            all tests of the CPU build
#   FCNLAB_JOBS=N              parallel build/test jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs="${FCNLAB_JOBS:-$(nproc)}"

echo "== configure + build (cpu)"
cmake --preset cpu >/dev/null
cmake --build --preset cpu -j "$jobs"

echo "== test (cpu)"
ctest --preset cpu -j "$jobs"
