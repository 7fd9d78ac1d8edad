#!/usr/bin/env bash
# Builds the release preset and runs perf/alloc_micro: 7 repetitions,
# interleaved at random so that the machine's drift hits every peer alike, then
# prints each workload's median time and its ratio to the peers' medians, by
# wall-clock time and by CPU time (steadier when other jobs share the cores).
# tricolor has two rows per workload: noscan objects, and "ptrs", objects
# with pointers, which it zeroes.
# Extra arguments go to alloc_micro, e.g. --benchmark_filter='/65536/'.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup
cmake --preset release >/dev/null
cmake --build --preset release --target alloc_micro >/dev/null
out=$(mktemp)
build/release/perf/alloc_micro --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out" --benchmark_out_format=json "$@" >/dev/null
python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
peers = [("mimalloc", "BM_mimalloc"), ("glibc", "BM_glibc"), ("mi_zalloc", "BM_mi_zalloc"), ("calloc", "BM_glibc_calloc")]
for clock in ("real_time", "cpu_time"):
    med = {r["run_name"]: r[clock] for r in runs if r.get("aggregate_name") == "median"}
    print(f"median {clock} in ms; ratio = tricolor / peer (below 1: tricolor is faster)")
    print(f"{'workload':<26} {'tricolor':>9} " + " ".join(f"{p:>9}" for p, _ in peers) + "   " +
          " ".join(f"{'/' + p:>10}" for p, _ in peers))
    rows = [(mix, mix_name, variant, n, noscan, kind) for mix, mix_name in ((0, "mixed"), (1, "small"))
            for variant in ("", "_half") for n in (1 << 16, 1 << 20) for noscan, kind in ((1, ""), (0, " ptrs"))]
    for mix, mix_name, variant, n, noscan, kind in rows:
        t = med.get(f"BM_tricolor{variant}/{n}/{mix}/{noscan}")
        if t is None:  # filtered out
            continue
        times = [med.get(f"{b}{variant}/{n}/{mix}") for _, b in peers]
        name = f"{mix_name}{variant}{kind} N={n}"
        print(f"{name:<26} {t:>9.3f} " + " ".join(f"{x:>9.3f}" if x else f"{'-':>9}" for x in times) + "   " +
              " ".join(f"{t / x:>10.2f}" if x else f"{'-':>10}" for x in times))
    print()
PY
rm -f "$out"
