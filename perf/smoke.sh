#!/usr/bin/env bash
# The benchmarks of perf/, run small by the test command (ctest, release
# build) so that they cannot rot between runs of perf/run: every program
# still builds, runs and computes what its workload must.
#
#   perf/smoke.sh <dir of the perf binaries> checksums|pause|micro
#
#   checksums  binary-trees (one and two threads) and GCBench on every C++
#              peer that was built: binary-trees' checksum must equal the
#              node count worked out below, GCBench's must equal that of
#              the manual mimalloc peer. tricolor runs with GOGC=25 and
#              GODEBUG=gccheckmark=1, so that it collects often and every
#              cycle's marking is checked.
#   pause      the pause workload, 16 MiB live for 1 s: tricolor under
#              gccheckmark and the Boehm peer; each must serve the probe and
#              collect.
#   micro      alloc_micro (which checks the heap's counts after every run)
#              and api_micro, one short run of each benchmark, and mark_rate.
set -euo pipefail
dir=$1
what=$2
failed=0
fail() {
  echo "FAIL: $*" >&2
  failed=1
}
value() {  # value <key> <output>: the number after "<key> " on its line
  sed -n "s/^$1 \([-0-9.]*\).*/\1/p" <<<"$2" | head -1
}

# The C++ peers perf/run compares: <program> <peer name>.
peers=(
  "bench_tricolor tricolor" "bench_mimalloc mimalloc" "bench_libc malloc" "bench_libc shared_ptr"
  "bench_boehm boehm" "bench_boehm boehm-incremental" "bench_cppgc cppgc"
)
run_peer() {  # run_peer <program> <peer> <workload args...>
  local prog=$1
  shift
  if [[ $prog == bench_tricolor ]]; then
    GOGC=25 GODEBUG=gccheckmark=1 "$dir/$prog" "$@"
  else
    "$dir/$prog" "$@"
  fi
}

case $what in
  checksums)
    # binary-trees at depth D counts every node it checks: the stretch tree
    # (depth D+1), 2^(D-d+4) trees of each depth d = 4, 6, ..., D, and the
    # long-lived tree (depth D); a tree of depth d has 2^(d+1) - 1 nodes.
    depth=14
    expected=$(((1 << (depth + 2)) - 1 + (1 << (depth + 1)) - 1))
    for ((d = 4; d <= depth; d += 2)); do expected=$((expected + (1 << (depth - d + 4)) * ((1 << (d + 1)) - 1))); done
    gcbench_expected=$(value checksum "$("$dir/bench_mimalloc" mimalloc gcbench 10)")
    [[ -n $gcbench_expected ]] || fail "bench_mimalloc printed no GCBench checksum"
    ran=0
    for p in "${peers[@]}"; do
      read -r prog peer <<<"$p"
      [[ -x $dir/$prog ]] || continue
      ran=$((ran + 1))
      for threads in 1 2; do
        out=$(run_peer "$prog" "$peer" binary-trees "$depth" "$threads") ||
          fail "$peer binary-trees $depth $threads exited with an error"
        got=$(value checksum "$out")
        [[ $got == "$expected" ]] || fail "$peer binary-trees $depth $threads: checksum '$got', expected $expected"
      done
      out=$(run_peer "$prog" "$peer" gcbench 10) || fail "$peer gcbench 10 exited with an error"
      got=$(value checksum "$out")
      [[ $got == "$gcbench_expected" ]] || fail "$peer gcbench 10: checksum '$got', mimalloc's is $gcbench_expected"
    done
    echo "checksums: $ran peers, binary-trees $depth = $expected, gcbench 10 = $gcbench_expected"
    ;;
  pause)
    check_pause() {  # check_pause <peer> <command...>
      local peer=$1 out
      shift
      out=$("$@") || fail "$peer's pause run exited with an error"
      echo "$out"
      [[ $(value probe "$out") -gt 0 ]] || fail "$peer's probe never ran"
      [[ $(sed -n 's/.* cycles \([0-9]*\) .*/\1/p' <<<"$out") -gt 0 ]] || fail "$peer never collected"
    }
    check_pause tricolor env GODEBUG=gccheckmark=1 "$dir/pause" 16 1
    [[ -x $dir/pause_boehm ]] && check_pause Boehm "$dir/pause_boehm" boehm 16 1
    ;;
  micro)
    "$dir/alloc_micro" --benchmark_min_time=0.001 >/dev/null || fail "alloc_micro failed"
    "$dir/api_micro" --benchmark_min_time=0.001 >/dev/null || fail "api_micro failed"
    out=$("$dir/mark_rate" dfs 14 1) || fail "mark_rate failed"
    [[ $(value live_mib "$out") != "" ]] || fail "mark_rate printed no live_mib"
    ;;
  *)
    echo "perf/smoke.sh: unknown part '$what' (expected checksums, pause or micro)" >&2
    exit 2
    ;;
esac
exit $failed
