#!/usr/bin/env bash
# Builds the release preset and runs perf/api_micro: 7 repetitions,
# interleaved at random so that the machine's drift hits every peer alike,
# then prints the medians in ns per operation with tricolor's ratio to each
# peer: make per size class (objects with pointers, zeroed, and without)
# against mimalloc, Member stores, Root handles and BlockingScope against
# their counterparts without a collector.
# Extra arguments go to api_micro, e.g. --benchmark_min_time=0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup
cmake --preset release >/dev/null
cmake --build --preset release --target api_micro >/dev/null
out=$(mktemp)
build/release/perf/api_micro --benchmark_repetitions=7 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_format=json --benchmark_out="$out" \
  --benchmark_out_format=json "$@" >/dev/null
python3 - "$out" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
med = {r["run_name"]: r for r in runs if r.get("aggregate_name") == "median"}

def ns(name):
    """Median ns per operation: per object where the benchmark counts items."""
    r = med.get(name)
    if r is None:
        return None
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[r["time_unit"]]
    if "items_per_second" in r:
        return 1e9 / r["items_per_second"]
    return r["real_time"] * scale

def cell(x):
    return f"{x:.1f}" if x is not None else "-"

peers = ["BM_mi_malloc", "BM_mi_zalloc", "BM_mi_zalloc_fifo"]
print("| size | make | make, no pointers | mi_malloc | mi_zalloc | mi_zalloc, freed 4 MiB later "
      "| make / mi_malloc | make / mi_zalloc | make / mi_zalloc later | no pointers / mi_malloc |")
print("|---|---|---|---|---|---|---|---|---|---|")
for size in (16, 32, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 32768):
    t = ns(f"BM_make/{size}")
    if t is None:
        continue
    plain = ns(f"BM_make_plain/{size}")
    times = [ns(f"{p}/{size}") for p in peers]
    print(f"| {size} B | {t:.1f} | {cell(plain)} | " + " | ".join(cell(x) for x in times) + " | " +
          " | ".join(f"{t / x:.2f}" if x else "-" for x in times) + " | " +
          (f"{plain / times[0]:.2f}" if plain and times[0] else "-") + " |")
print()
print("| operation | tricolor | without a collector | ratio |")
print("|---|---|---|---|")
for ours, label, theirs, their_label in (
        ("BM_member_store/0", "Member store, barrier off", "BM_raw_store", "raw pointer store"),
        ("BM_member_store/1", "Member store, barrier on", "BM_raw_store", "raw pointer store"),
        ("BM_member_store/0", "Member store, barrier off", "BM_shared_ptr_store", "shared_ptr assignment"),
        ("BM_root", "Root made and destroyed", "BM_shared_ptr_copy", "shared_ptr copied and destroyed"),
        ("BM_blocking_scope", "BlockingScope entered and left", None, "")):
    t, x = ns(ours), ns(theirs) if theirs else None
    if t is None:
        continue
    print(f"| {label} | {t:.2f} ns | " + (f"{their_label}: {x:.2f} ns | {t / x:.2f} |" if x else "– | – |"))
PY
rm -f "$out"
