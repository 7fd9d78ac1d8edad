#!/usr/bin/env bash
# The trade-off a user tunes GOGC on: binary-trees and the pause workload at
# GOGC 25 ... 800, with wall time, GC CPU, peak RSS and cycles, and beside
# each the same workload on Go's own runtime when `go` is installed
# (Debian's golang-go; the Go programs are in perf/go/).
#
#   perf/run_gogc_sweep.sh [binary-trees depth = 19] [pause live MiB = 256] [pause seconds = 10]
set -euo pipefail
cd "$(dirname "$0")/.."
depth=${1:-19}
live=${2:-256}
seconds=${3:-10}
cmake --preset release >/dev/null
cmake --build --preset release --target bench_tricolor pause >/dev/null
go_dir=build/release/perf/go
have_go=0
if command -v go >/dev/null; then
  mkdir -p "$go_dir"
  export GOCACHE="$PWD/$go_dir/cache" GOFLAGS=-mod=mod GO111MODULE=off
  go build -o "$go_dir/binary_trees" perf/go/binary_trees.go
  go build -o "$go_dir/pause" perf/go/pause.go
  have_go=1
fi

# run <GOGC> <runtime> <workload> <args...>: the workload's stdout and
# stderr on tricolor or Go, then "rss_kb N".
run() {
  local gogc=$1 rt=$2 exe=$3
  shift 3
  local cmd=(build/release/perf/$exe)
  [[ $exe == binary_trees ]] && cmd=(build/release/perf/bench_tricolor tricolor binary-trees)
  [[ $rt == go ]] && cmd=("$go_dir/$exe")
  { GOGC=$gogc /usr/bin/time -f "rss_kb %M" "${cmd[@]}" "$@"; } 2>&1
}
runtimes=tricolor
((have_go)) && runtimes="tricolor go"

# table <workload> <awk program printing one row> <workload args...>: one
# row per GOGC and runtime.
table() {
  local exe=$1 row=$2
  shift 2
  for gogc in 25 50 100 200 400 800; do
    for rt in $runtimes; do
      awk -v gogc="$gogc" -v rt="$rt" "$row" <<<"$(run "$gogc" "$rt" "$exe" "$@")"
    done
  done
}

echo "### binary-trees, depth $depth"
echo
echo "| GOGC | runtime | wall | GC CPU | peak RSS | cycles |"
echo "|---|---|---|---|---|---|"
table binary_trees '
  /^time_ms/ { t = $2 }
  /^gc_cycles/ { cycles = $2 }
  /^gc_cpu_pct/ { cpu = $2 "%" }
  /^rss_kb/ { rss = $2 / 1024 }
  END { printf "| %s | %s | %.0f ms | %s | %.0f MiB | %s |\n", gogc, rt, t, cpu, rss, cycles }' "$depth"

echo
echo "### pause workload, $live MiB live, $seconds s"
echo
echo "| GOGC | runtime | cycles | GC CPU | peak RSS | STW max | probe late p99.9 | probe late max |"
echo "|---|---|---|---|---|---|---|---|"
table pause '
  /^mode/ { for (i = 1; i < NF; i++) { if ($i == "cycles") cycles = $(i + 1); if ($i == "gc_cpu_pct") cpu = $(i + 1) } }
  /^pauses/ { max = $4 }
  /^probe/ { late999 = $6; latemax = $8 }
  /^rss_kb/ { rss = $2 / 1024 }
  END { printf "| %s | %s | %s | %s%% | %.0f MiB | %s µs | %s µs | %s µs |\n", gogc, rt, cycles, cpu, rss, max, late999, latemax }' \
  "$live" "$seconds"
if [[ $have_go == 0 ]]; then
  echo
  echo "Go is not installed: apt-get install golang-go adds Go's runtime beside tricolor."
fi
