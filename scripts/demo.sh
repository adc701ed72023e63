#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, trains, shows the results.
# For now the job is the first end-to-end run — the tiny FCN-shaped ToyFcn learning the toy disc
# segmentation task on the CPU (fcnlab-toy-train); it becomes FCN-8s on synthetic chest phantoms
# once fcnlab-train lands.
#   scripts/demo.sh [extra fcnlab-toy-train flags, e.g. --steps 500]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs="${FCNLAB_JOBS:-$(nproc)}"

echo "== build (cpu)"
cmake --preset cpu -DFCNLAB_BUILD_TESTS=OFF -DFCNLAB_BUILD_BENCH=OFF >/dev/null
cmake --build --preset cpu -j "$jobs" --target fcnlab-toy-train

out="demo-out/toy"
echo "== train (fcnlab-toy-train --out $out $*)"
build/cpu/fcnlab-toy-train --out "$out" "$@"

echo
echo "Results:"
echo "  $out/panel.png          held-out images: input | truth | prediction"
echo "  $out/loss.csv           training loss per step"
echo "  $out/model.safetensors  checkpoint (model, optimizer state, metadata)"
