#!/usr/bin/env bash
# scripts/gpu-check.sh rehearsed on the CPU (CI, simt build): every step after the build — the
# kernel tests through ctest, fcnlab-bench and its table, fcnlab-paper-table, PyTorch and
# paper-compare, the three ladders, the results folder, the summary — runs at smoke size, so a
# broken path, flag or table in the script shows here and not in the first (short) GPU session.
# Usage: test_gpu_check_rehearsal.sh SIMT_BUILD_DIR
set -uo pipefail
build=$(cd "${1:?usage: test_gpu_check_rehearsal.sh SIMT_BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
problems=()
fail() { problems+=("$*"); }

py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
torch=0
[ -n "$py" ] && "$py" -c 'import torch' >/dev/null 2>&1 && torch=1

OUT=$out/run GPU_CHECK_REHEARSAL=1 GPU_CHECK_BUILD_DIR=$build GPU_CHECK_PYTHON=$py \
  GPU_CHECK_BUDGET_S=280 "$repo/scripts/gpu-check.sh" > "$out/stdout" 2>&1
rc=$?
s=$out/run/summary.md
[ $rc -eq 0 ] || fail "gpu-check.sh rehearsal exited with $rc (expected 0)"
if [ ! -s "$s" ]; then
  fail "no summary.md"
else
  # the summary is the last thing printed
  [ "$(tail -5 "$out/stdout")" = "$(tail -5 "$s")" ] || fail "stdout does not end with summary.md"
  grep -q '^| gpu | rehearsal |' "$s" || fail "no 'gpu | rehearsal' row"
  for step in tests-gpu bench paper-table ladder-conv-ladder ladder-convt-ladder ladder-softmax-dice-ladder; do
    grep -q "^| $step | pass |" "$s" || fail "step $step did not pass: $(grep "^| $step |" "$s" || echo 'no row')"
  done
  if [ $torch = 1 ]; then
    grep -q '^| pytorch | pass |' "$s" || fail "pytorch did not pass: $(grep '^| pytorch |' "$s" || echo 'no row')"
  else
    grep -q '^| pytorch | skipped |' "$s" || fail "torch is missing, yet the pytorch row is not 'skipped'"
  fi
  grep -q 'FAIL' "$s" && fail "a FAIL in the summary: $(grep -m1 FAIL "$s")"
  grep -q '^| softmax_channels/21x500x500/N1 |' "$s" || fail "the summary lacks the bench table"
  grep -q '^| FCN-8s | train step |' "$s" || fail "the summary lacks the paper table"
fi
grep -q '3 tests\|out of 3' "$out/run/logs/tests-gpu.log" 2>/dev/null || fail "tests-gpu did not run the 3 chosen tests"
[ "$(grep -o '<testcase ' "$out/run/ctest-gpu.xml" 2>/dev/null | wc -l)" = 3 ] || fail "ctest-gpu.xml does not hold 3 test cases"

dirs=("$out"/run/results/*-REHEARSAL-simt)
d=${dirs[0]}
if [ ! -d "$d" ]; then
  fail "no results folder DATE-REHEARSAL-simt"
else
  grep -q 'REHEARSAL' "$d/README.md" 2>/dev/null || fail "results README.md does not say REHEARSAL"
  for f in bench.json bench-table.md paper-table.csv paper-table.md \
           ladder-conv-ladder.txt ladder-convt-ladder.txt ladder-softmax-dice-ladder.txt; do
    [ -s "$d/$f" ] || fail "results folder lacks $f"
  done
  if [ $torch = 1 ]; then
    [ -s "$d/pytorch.csv" ] || fail "results folder lacks pytorch.csv"
    [ "$(grep -c '| eager |' "$d/paper-compare.md" 2>/dev/null)" = 4 ] ||
      fail "paper-compare.md does not compare all four rows (3 nets + the training step)"
  fi
fi

# a rehearsal against something that is not a simt build is refused, naming the folder
OUT=$out/bad GPU_CHECK_REHEARSAL=1 GPU_CHECK_BUILD_DIR=$out "$repo/scripts/gpu-check.sh" > "$out/bad.txt" 2>&1
bad=$?
[ $bad -eq 2 ] || fail "a rehearsal without a simt build exited with $bad (expected 2)"
grep -q "is not one" "$out/bad.txt" || fail "the refusal does not say what is wrong: $(head -2 "$out/bad.txt")"

if (( ${#problems[@]} )); then
  echo "--- gpu-check.sh output (last 60 lines):"; tail -60 "$out/stdout"
  printf 'FAIL: %s\n' "${problems[@]}"
  exit 1
fi
echo "gpu-check.sh rehearsal: every step passed, summary last, results folder complete (torch: $torch)"
