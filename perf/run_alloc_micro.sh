#!/usr/bin/env bash
# Builds the release preset and runs perf/alloc_micro: 7 repetitions,
# interleaved at random so that the machine's drift hits every peer alike, then
# prints each workload's median time and its ratio to the peers' medians.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup
cmake --preset release >/dev/null
cmake --build --preset release --target alloc_micro >/dev/null
out=$(mktemp)
build/release/perf/alloc_micro --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$out" --benchmark_out_format=json >/dev/null
python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
med = {r["run_name"]: r["real_time"] for r in runs if r.get("aggregate_name") == "median"}
peers = [("mimalloc", "BM_mimalloc"), ("glibc", "BM_glibc"), ("mi_zalloc", "BM_mi_zalloc"), ("calloc", "BM_glibc_calloc")]
print(f"{'workload':<26} {'tricolor ms':>11} " + " ".join(f"{p:>10}" for p, _ in peers) + "   ratios tricolor/peer")
for mix, mix_name in ((0, "mixed"), (1, "small")):
    for variant in ("", "_half"):
        for n in (1 << 16, 1 << 20):
            t = med[f"BM_tricolor{variant}/{n}/{mix}"]
            times = [med[f"{b}{variant}/{n}/{mix}"] for _, b in peers]
            ratios = " ".join(f"{p}={t / x:.2f}" for (p, _), x in zip(peers, times))
            name = f"{mix_name}{variant} N={n}"
            print(f"{name:<26} {t:>11.3f} " + " ".join(f"{x:>10.3f}" for x in times) + "   " + ratios)
PY
rm -f "$out"
