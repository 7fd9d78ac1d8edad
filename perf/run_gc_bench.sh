#!/usr/bin/env bash
# Builds the release preset and runs binary-trees (depth 21) and GCBench on
# tricolor (concurrent), on tricolor with GODEBUG=gcstoptheworld=1, and on
# mimalloc new/delete, in turn, RUNS times each (default 3); prints each
# one's median wall time and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
tools/setup
cmake --preset release >/dev/null
cmake --build --preset release --target binary_trees gcbench >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "| workload | tricolor concurrent | tricolor gcstoptheworld=1 | mimalloc new/delete | concurrent / stw | concurrent / mimalloc |"
echo "|---|---|---|---|---|---|"
for bench in "binary_trees 21" "gcbench"; do
  read -r exe arg <<<"$bench"
  declare -A times=()
  for ((i = 0; i < runs; i++)); do
    for variant in concurrent stw mimalloc; do
      case $variant in
        concurrent) t=$(GODEBUG= build/release/perf/$exe tricolor $arg 2>/dev/null | awk '/^time_ms/ {print $2}') ;;
        stw) t=$(GODEBUG=gcstoptheworld=1 build/release/perf/$exe tricolor $arg 2>/dev/null | awk '/^time_ms/ {print $2}') ;;
        mimalloc) t=$(build/release/perf/$exe mimalloc $arg 2>/dev/null | awk '/^time_ms/ {print $2}') ;;
      esac
      times[$variant]+="$t "
    done
  done
  c=$(tr ' ' '\n' <<<"${times[concurrent]}" | grep . | median)
  s=$(tr ' ' '\n' <<<"${times[stw]}" | grep . | median)
  m=$(tr ' ' '\n' <<<"${times[mimalloc]}" | grep . | median)
  awk -v name="$exe $arg" -v c="$c" -v s="$s" -v m="$m" 'BEGIN {
    printf "| %s | %.0f ms | %.0f ms | %.0f ms | %.2f | %.2f |\n", name, c, s, m, c / s, c / m }'
  unset times
done
echo "(median of $runs runs each, interleaved)"
