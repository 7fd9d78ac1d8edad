#!/usr/bin/env bash
# Builds the release preset and runs binary-trees (depth 21) and GCBench on
# tricolor and on mimalloc new/delete, alternating the two, RUNS times each
# (default 3); prints each one's median wall time and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
tools/setup
cmake --preset release >/dev/null
cmake --build --preset release --target binary_trees gcbench >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for bench in "binary_trees 21" "gcbench"; do
  read -r exe arg <<<"$bench"
  declare -A times=()
  for ((i = 0; i < runs; i++)); do
    for variant in tricolor mimalloc; do
      t=$(build/release/perf/$exe $variant $arg 2>/dev/null | awk '/^time_ms/ {print $2}')
      times[$variant]+="$t "
    done
  done
  tri=$(tr ' ' '\n' <<<"${times[tricolor]}" | grep . | median)
  mi=$(tr ' ' '\n' <<<"${times[mimalloc]}" | grep . | median)
  awk -v name="$exe $arg" -v t="$tri" -v m="$mi" -v n="$runs" 'BEGIN {
    printf "%-16s tricolor %9.1f ms   mimalloc new/delete %9.1f ms   ratio %.2f   (median of %d)\n", name, t, m, t / m, n }' 
  unset times
done
