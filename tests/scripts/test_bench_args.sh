#!/usr/bin/env bash
# The benchmark programs refuse what they cannot use (bench/cuda/bench_args.h): a non-numeric,
# out-of-range or missing value and an unknown flag each exit 2 with a message naming it, never a
# silent default (atoi("abc") once ran one rep; "--batches=x" once ended in an uncaught
# std::invalid_argument; a mistyped flag once ran the whole benchmark).
# Usage: test_bench_args.sh FCNLAB_BENCH LADDER...
set -u
fail=0
expect() {  # expect EXE 'MESSAGE' ARGS...
  local exe=$1 want=$2; shift 2
  local out rc
  out=$(timeout 60 "$exe" "$@" 2>&1); rc=$?
  if [ "$rc" != 2 ] || ! grep -qF -- "$want" <<<"$out"; then
    echo "FAILED: $(basename "$exe") $* -> exit $rc: ${out:0:300} (expected exit 2 and: $want)"; fail=1
  fi
}
bench=$1; shift
expect "$bench" "fcnlab-bench: error: --batches expects a whole number in [1, 64], got 'x'" --batches=1,x
expect "$bench" "fcnlab-bench: error: --batches expects a whole number in [1, 64], got ''" --batches=
expect "$bench" "fcnlab-bench: error: --batches expects a whole number in [1, 64], got ''" --batches=1,,8
expect "$bench" "fcnlab-bench: error: --iters expects a whole number in [1, 100000], got '0'" --iters=0
expect "$bench" "unrecognized command-line flag: --bogus" --bogus
for exe in "$@"; do
  expect "$exe" "error: --reps expects a whole number in [1, 100000], got 'abc'" --reps abc
  expect "$exe" "error: --reps expects a whole number in [1, 100000], got '0'" --reps 0
  expect "$exe" "error: a value is missing after '--reps'" --reps
  expect "$exe" "error: unknown argument '--bogus'" --bogus
done
[ $fail = 0 ] && echo "bench flags: fcnlab-bench and $# ladders refuse bad values, missing values and unknown flags"
exit $fail
