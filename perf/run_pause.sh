#!/usr/bin/env bash
# Builds the release preset and runs perf/pause at several live-heap sizes,
# concurrent and with GODEBUG=gcstoptheworld=1, and prints one markdown row
# per run: STW pauses (max, p99.9, p99, worst time to safepoint), the
# probe's lateness and service time, cycles and mark-phase length.
#
#   perf/run_pause.sh [seconds = 20] [sizes in MiB = "256 1024 4096"]
#
# Each run lasts `seconds`, and longer for heaps over 2 GiB (10 s per GiB),
# so that even the largest heap goes through several cycles.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
sizes=${2:-"256 1024 4096"}
cmake --preset release >/dev/null
cmake --build --preset release --target pause >/dev/null
echo "| live heap | mode | cycles | mark phase median | STW max | STW p99.9 | STW p99 | max time to safepoint | probe late p99.9 | probe late max | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for size in $sizes; do
  for mode in concurrent gcstoptheworld=1; do
    godebug=""
    [[ $mode == concurrent ]] || godebug=$mode
    run=$(( size / 1024 * 10 > seconds ? size / 1024 * 10 : seconds ))
    out=$( { GODEBUG=$godebug /usr/bin/time -f "rss_kb %M" build/release/perf/pause "$size" "$run"; } 2>&1 )
    awk -v size="$size" -v mode="$mode" '
      /^mode/ { for (i = 1; i < NF; i++) if ($i == "cycles") cycles = $(i + 1) }
      /^mark phases/ { mark = $5 }
      /^pauses/ { max = $4; p999 = $6; p99 = $8; ttsp = $12 }
      /^probe/ { late999 = $6; latemax = $8 }
      /^rss_kb/ { rss = $2 / 1024 }
      END { printf "| %d MiB | %s | %s | %s ms | %s µs | %s µs | %s µs | %s µs | %s µs | %s µs | %.0f MiB |\n",
            size, mode, cycles, mark, max, p999, p99, ttsp, late999, latemax, rss }' <<<"$out"
  done
done
