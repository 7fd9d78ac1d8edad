#!/usr/bin/env python3
"""The peer comparison of issue 7, run by perf/run once everything is built.

Runs each workload on tricolor and on every peer that was built, RUNS times
(default 3), the peers interleaved within each repetition (in an order that
rotates, so that no peer always follows the same one), and prints one
markdown table per workload:

  wall      the program's own time for the workload (after its runtime is
            set up; JVM start-up is not in it): median, and min-max
  CPU       user + sys of the whole process (/usr/bin/time), median
  peak RSS  the process's maximum resident set (/usr/bin/time), median
  cycles    collections, as the runtime reports them (median): tricolor
            and Boehm from their APIs, Go from GODEBUG=gctrace=1, the JVM
            from -Xlog:gc; cppgc's API reports none
  pauses    every stop-the-world pause of a run (tricolor: both pauses of a
            cycle; Boehm: stop to restart of the world; Go: gctrace's two
            STW clock figures; JVM: each "Pause" of -Xlog:gc,gc+phases);
            the table gives the largest of all runs and the median of the
            runs' p99.9
  ratio     peer median wall / tricolor median wall (> 1: tricolor faster)

Every program prints "checksum N"; a checksum that differs from tricolor's,
or a run that fails, is printed in the table, repeated after all tables,
and makes the suite exit 1.

Environment: RUNS (default 3), QUICK=1 (small sizes for a quick look).
Peers that perf/run could not build are listed in build/release/perf/skipped
(one "peer<TAB>reason" a line) and named under each table.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = "build/release/perf"
RUNS = int(os.environ.get("RUNS", "3"))
QUICK = os.environ.get("QUICK") == "1"
DEPTH, MT_DEPTH, MT_THREADS, GCBENCH_DEPTH = (16, 16, 2, 12) if QUICK else (21, 20, 2, 16)
PAUSE_MIB, PAUSE_SECONDS = (64, 3) if QUICK else (256, 10)
TIMEOUT_S = 900

# ---- peers

JAVA = ["java", "-Xlog:gc,gc+phases:stderr", "-cp", f"{BUILD}/java"]
CPP_PEERS = {  # name -> the program of bench.hpp's workloads that has it
    "tricolor": "bench_tricolor",
    "mimalloc": "bench_mimalloc",
    "malloc": "bench_libc",
    "shared_ptr": "bench_libc",
    "boehm": "bench_boehm",
    "boehm-incremental": "bench_boehm",
    "cppgc": "bench_cppgc",
}
PAUSE_PEERS = ["tricolor", "boehm", "boehm-incremental", "go", "java-g1", "java-zgc"]  # those with a pause program


def peer_command(peer, workload, args):
    """The command line of one run, its extra environment, and its log format."""
    if peer == "tricolor" and workload == "pause":
        return [f"{BUILD}/pause", *args], {}, "pause"
    if peer.startswith("boehm") and workload == "pause":
        return [f"{BUILD}/pause_boehm", peer, *args], {}, "pause"
    if peer in CPP_PEERS:
        return [f"{BUILD}/{CPP_PEERS[peer]}", peer, workload, *args], {}, "program"
    if peer == "go":
        return [f"{BUILD}/go/{workload.replace('-', '_')}", *args], {"GODEBUG": "gctrace=1"}, "gctrace"
    gc = {"java-g1": "-XX:+UseG1GC", "java-zgc": "-XX:+UseZGC"}[peer]
    main = {"binary-trees": "BinaryTrees", "gcbench": "GCBench", "pause": "Pause"}[workload]
    return [JAVA[0], gc, *JAVA[1:], main, *args], {}, "xlog"


def built(peer):
    cmd = peer_command(peer, "binary-trees", [])[0]
    return os.path.exists(cmd[0] if cmd[0] != "java" else f"{BUILD}/java/BinaryTrees.class")


# ---- one run


def run(cmd, env):
    """Runs cmd under /usr/bin/time; returns (stdout, stderr, exit status, CPU ms, peak RSS MiB).

    Through /usr/bin/time rather than wait4() from here: Linux carries a
    process's peak RSS across exec, so a child forked from this Python
    would report at least Python's own RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("w+") as usage:
        proc = subprocess.Popen(["/usr/bin/time", "-o", usage.name, "-f", "%U %S %M", *cmd], stdout=out, stderr=err,
                                env={**os.environ, **env}, start_new_session=True)
        try:
            rc = proc.wait(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            rc = proc.wait()
        out.seek(0)
        err.seek(0)
        u = usage.read().split()[-3:]  # after "Command exited with non-zero status N", if any
        cpu_ms, rss_mib = (float(u[0]) + float(u[1])) * 1e3, float(u[2]) / 1024
        return out.read(), err.read(), rc, cpu_ms, rss_mib


def fields(text):
    """'key value...' lines of a program's output -> {key: [values...]}."""
    d = {}
    for line in text.splitlines():
        parts = line.split()
        if parts:
            d.setdefault(parts[0], []).append(parts[1:])
    return d


GCTRACE = re.compile(r"^gc \d+ @([\d.]+)s [\d.]+%: ([\d.]+)\+[\d.]+\+([\d.]+) ms clock", re.M)
XLOG_PAUSE = re.compile(r"^\[([\d.]+)s\].*GC\(\d+\) Pause .* ([\d.]+)ms$", re.M)
XLOG_CYCLE = re.compile(r"^\[([\d.]+)s\].*GC\((\d+)\)", re.M)


def gc_figures(fmt, out, err, since_s=0.0):
    """(cycles or None, [pauses in µs] or None) from a run's output."""
    if fmt == "gctrace":  # Go: cycles that started at or after since_s
        cycles = [m for m in GCTRACE.finditer(err) if float(m.group(1)) >= since_s]
        return len(cycles), [float(m.group(i)) * 1e3 for m in cycles for i in (2, 3)]
    if fmt == "xlog":  # the JVM: uptime >= since_s
        cycles = {m.group(2) for m in XLOG_CYCLE.finditer(err) if float(m.group(1)) >= since_s}
        return len(cycles), [float(m.group(2)) * 1e3 for m in XLOG_PAUSE.finditer(err) if float(m.group(1)) >= since_s]
    f = fields(out)
    cycles = int(f["gc_cycles"][0][0]) if "gc_cycles" in f else None
    pauses = [float(x) for x in f["pauses_us"][0]] if "pauses_us" in f else None
    return cycles, pauses


def quantile(values, q):
    """The element at index q*n of the sorted values, as perf/pause.cpp computes it."""
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0.0


# ---- tables

PROBLEMS = []


def fmt_ms(x):
    return f"{x:,.0f} ms".replace(",", " ") if x >= 100 else f"{x:.1f} ms"


def fmt_us(x):
    return f"{x / 1e3:.1f} ms" if x >= 10_000 else f"{x:.1f} µs"


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def summary(results):
    """Per-peer figures over its runs: results[peer] = list of run dicts."""
    s = {}
    for peer, runs in results.items():
        ok = [r for r in runs if r["ok"]]
        if not ok:
            continue
        walls = [r["wall_ms"] for r in ok]
        pauses = [r["pauses"] for r in ok if r["pauses"] is not None]
        s[peer] = {
            "wall": statistics.median(walls),
            "min": min(walls),
            "max": max(walls),
            "cpu": statistics.median(r["cpu_ms"] for r in ok),
            "rss": statistics.median(r["rss_mib"] for r in ok),
            "cycles": statistics.median(r["cycles"] for r in ok) if ok[0]["cycles"] is not None else None,
            "pause_max": max((max(p) for p in pauses if p), default=0.0) if pauses else None,
            "pause_p999": statistics.median(quantile(p, 0.999) for p in pauses) if pauses else None,
            "no_pauses": bool(pauses) and not any(pauses),
            "failed": len(runs) - len(ok),
        }
    return s


def print_throughput(title, results, checksum, notes):
    s = summary(results)
    base = s.get("tricolor", {}).get("wall")
    rows = []
    for peer, runs in results.items():
        if peer not in s:
            rows.append([peer, f"**all {len(runs)} runs failed**"] + [""] * 7)
            continue
        x = s[peer]
        sums = {r["checksum"] for r in runs if r["ok"]}
        check = f"{checksum}" if sums == {checksum} else f"**MISMATCH: {' '.join(map(str, sorted(sums)))}**"
        failed = f" (**{x['failed']} failed**)" if x["failed"] else ""
        rows.append([
            peer,
            f"{fmt_ms(x['wall'])} ({x['min']:.0f}–{x['max']:.0f}){failed}",
            fmt_ms(x["cpu"]),
            f"{x['rss']:.0f} MiB",
            "–" if x["cycles"] is None else f"{x['cycles']:.0f}",
            *(["–", "–"] if x["pause_max"] is None else ["none", "none"] if x["no_pauses"]
              else [fmt_us(x["pause_max"]), fmt_us(x["pause_p999"])]),
            f"{x['wall'] / base:.2f}" if base else "–",
            check,
        ])
    print(f"### {title}\n")
    table(["peer", "wall median (min–max ms)", "CPU user+sys", "peak RSS", "GC cycles", "max pause",
           "p99.9 pause", "peer / tricolor", "checksum"], rows)
    print_notes(notes)


def print_notes(notes):
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    print(flush=True)


# ---- workloads


def skipped():
    path = f"{BUILD}/skipped"
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return dict(line.rstrip("\n").split("\t", 1) for line in f if "\t" in line)


def interleaved(peers):
    """(repetition, peer) in run order: each peer once a repetition, the order rotated by one each time."""
    for rep in range(RUNS):
        for i in range(len(peers)):
            yield rep, peers[(i + rep) % len(peers)]


def one_run(title, rep, peer, workload, args, needed):
    """One run; None (and a PROBLEMS entry) if it failed or did not print every key in needed."""
    cmd, env, fmt = peer_command(peer, workload, args)
    t0 = time.monotonic()
    out, err, rc, cpu_ms, rss_mib = run(cmd, env)
    f = fields(out)
    ok = rc == 0 and all(k in f for k in needed)
    print(f"  [{rep + 1}/{RUNS}] {title} {peer}: {'ok' if ok else 'FAILED'} ({time.monotonic() - t0:.1f} s)",
          file=sys.stderr, flush=True)
    if not ok:
        PROBLEMS.append(f"{title} {peer}: exit status {rc}: {' '.join(cmd)}\n{err[-2000:]}")
        return None
    return {"fields": f, "out": out, "err": err, "fmt": fmt, "cpu_ms": cpu_ms, "rss_mib": rss_mib}


def throughput(title, workload, args, peers, skip_notes, extra_notes):
    print(f"{title}:", file=sys.stderr)
    results = {p: [] for p in peers}
    for rep, peer in interleaved(peers):
        r = one_run(title, rep, peer, workload, args, ["checksum", "time_ms"])
        if r is None:
            results[peer].append({"ok": False})
            continue
        f = r["fields"]
        cycles, pauses = gc_figures(r["fmt"], r["out"], r["err"])
        results[peer].append({"ok": True, "checksum": int(f["checksum"][0][0]), "wall_ms": float(f["time_ms"][0][0]),
                              "cpu_ms": r["cpu_ms"], "rss_mib": r["rss_mib"], "cycles": cycles, "pauses": pauses,
                              "notes": [" ".join(n) for n in f.get("note", [])]})
    expected = next((r["checksum"] for r in results.get("tricolor", []) if r["ok"]), None)
    for peer, runs in results.items():
        for r in runs:
            if r["ok"] and r["checksum"] != expected:
                PROBLEMS.append(f"{title}: {peer} checksum {r['checksum']} != tricolor's {expected}")
    notes = sorted({n for runs in results.values() for r in runs if r["ok"] for n in r["notes"]})
    print_throughput(title, results, expected, notes + extra_notes + skip_notes)


def pause_probe(peers, skip_notes):
    """perf/pause and its ports (pause_boehm, perf/go/pause.go, perf/java/Pause.java): STW pauses and probe lateness."""
    title = f"pause probe: {PAUSE_MIB} MiB live, {PAUSE_SECONDS} s, 2 mutators, probe every 100 µs"
    print(f"{title}:", file=sys.stderr)
    peers = [p for p in peers if p in PAUSE_PEERS]
    runs = {p: [] for p in peers}
    for rep, peer in interleaved(peers):
        r = one_run(title, rep, peer, "pause", [str(PAUSE_MIB), str(PAUSE_SECONDS)], ["mode", "probe"])
        if r is None:
            continue
        f = r["fields"]
        mode, probe = f["mode"][0], f["probe"][0]
        if r["fmt"] == "pause":  # the program's own figures, which leave out the heap's build
            p = f["pauses"][0]
            cycles, pmax, p999 = int(mode[mode.index("cycles") + 1]), float(p[2]), float(p[4])
        else:  # from the log, from the steady phase's start on
            key = "steady_s" if "steady_s" in mode else "build_s"
            cycles, pauses = gc_figures(r["fmt"], r["out"], r["err"], float(mode[mode.index(key) + 1]))
            pmax, p999 = max(pauses, default=0.0), quantile(pauses, 0.999)
        runs[peer].append({"cycles": cycles, "pmax": pmax, "p999": p999, "late50": float(probe[2]),
                           "late999": float(probe[4]), "latemax": float(probe[6]), "cpu_ms": r["cpu_ms"],
                           "rss": r["rss_mib"]})
    rows = []
    for peer, rs in runs.items():
        if not rs:
            rows.append([peer, "**failed**"] + [""] * 7)
            continue
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        rows.append([peer, f"{med('cycles'):.0f}", fmt_us(max(r["pmax"] for r in rs)), fmt_us(med("p999")),
                     fmt_us(med("late50")), fmt_us(med("late999")), fmt_us(max(r["latemax"] for r in rs)),
                     fmt_ms(med("cpu_ms")), f"{med('rss'):.0f} MiB"])
    print(f"### {title}\n")
    table(["runtime", "cycles", "STW max", "STW p99.9", "probe late p50", "probe late p99.9", "probe late max",
           "CPU user+sys", "peak RSS"], rows)
    print_notes(["STW max and probe late max: the largest of all runs; the other columns: medians of the runs' "
                 "figures. Only the steady phase counts, not the heap's build. Go: gctrace's two STW clock times "
                 "per cycle; JVM: its Pause lines; Boehm: stop to restart of the world. Probe lateness includes "
                 "each runtime's timer wake-up (the C++ probes ask for no timer slack; Go and the JVM sleep with "
                 "their own timers)."] + skip_notes)


def main():
    skips = skipped()
    order = ["tricolor", "mimalloc", "malloc", "shared_ptr", "boehm", "boehm-incremental", "cppgc", "go",
             "java-g1", "java-zgc"]
    peers = [p for p in order if p not in skips and built(p)]
    skip_notes = [f"skipped {p}: {reason}" for p, reason in skips.items()]
    skip_notes += [f"skipped {p}: not built" for p in order if p not in skips and not built(p)]
    runtime_notes = [f"GOGC={os.environ.get('GOGC', 'unset (100)')}, GOMEMLIMIT="
                     f"{os.environ.get('GOMEMLIMIT', 'unset')}, for tricolor and Go alike.",
                     "JVM: default heap sizing (-Xmx = 1/4 of RAM), -Xlog:gc,gc+phases for cycles and pauses; "
                     "CPU and RSS include the JVM's start-up.",
                     "mimalloc, malloc, shared_ptr: no collector; the program frees each tree when it becomes "
                     "garbage (shared_ptr: when its count drops to 0)."]
    print(f"Machine: {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M %Z')}; RUNS={RUNS}"
          f"{' QUICK=1' if QUICK else ''}\n", flush=True)
    throughput(f"binary-trees, depth {DEPTH}, 1 mutator", "binary-trees", [str(DEPTH)], peers, skip_notes,
               runtime_notes)
    throughput(f"binary-trees, depth {MT_DEPTH}, {MT_THREADS} mutator threads", "binary-trees",
               [str(MT_DEPTH), str(MT_THREADS)], peers, skip_notes,
               runtime_notes + ["cppgc: one heap per thread (a cppgc heap belongs to one thread)."])
    throughput(f"GCBench, depth 4..{GCBENCH_DEPTH}, stretch {GCBENCH_DEPTH + 2}, 500 000 doubles", "gcbench",
               [str(GCBENCH_DEPTH)], peers, skip_notes, runtime_notes)
    pause_probe(peers, [n for n in skip_notes if n.split()[1].rstrip(":") in PAUSE_PEERS])
    if PROBLEMS:
        print("## PROBLEMS\n")
        for p in PROBLEMS:
            print(f"- **{p}**")
        print("\n!!! perf/suite.py: checksum mismatch or failed run (see PROBLEMS above)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
