#!/usr/bin/env bash
# paper-smoke.sh — CI-sized cross-check of fcnlab-paper-table against bench/pytorch_reference.py:
# both run their nets at the same tiny size and width (48x48, width 1/16, 1 trial, 1 thread,
# plus an FCN-8s training step), and scripts/paper-compare.py fails unless every net has the
# same learned parameters and the same FLOPs on both sides. Exit 77 (ctest: skipped) when
# Debian's /usr/bin/python3 cannot import torch.
# Usage: scripts/paper-smoke.sh PATH/TO/fcnlab-paper-table
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: scripts/paper-smoke.sh PATH/TO/fcnlab-paper-table}
py=/usr/bin/python3
if ! [ -x "$py" ] || ! "$py" -c 'import torch' 2>/dev/null; then
  echo "paper-smoke: skipped: $py cannot import torch (scripts/install-deps.sh --bench installs python3-torch)"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" --device cpu --size 48 --width 0.0625 --trials 1 --warmup 0 --threads 1 \
  --train-step --train-size 48 --train-batch 1 --train-trials 1 --csv "$out/fcnlab.csv" >"$out/fcnlab.log" 2>&1 \
  || { cat "$out/fcnlab.log"; exit 1; }
"$py" bench/pytorch_reference.py --smoke --train-step --variants eager --threads 1 --csv "$out/torch.csv" \
  >"$out/torch.log" 2>&1 || { rc=$?; cat "$out/torch.log"; exit $rc; }
"$py" scripts/paper-compare.py "$out/fcnlab.csv" "$out/torch.csv"
