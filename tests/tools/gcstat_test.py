#!/usr/bin/env python3
"""tools/gcstat on crafted event logs and gctrace text with known numbers:
nearest-rank percentiles, counts, heap/goal ratios, the JSON keys, and the
errors for bad input (exit status 2, a message naming the line)."""

import json
import os
import random
import re
import stat
import subprocess
import tempfile
import unittest

from gcstat_testlib import GCSTAT, MIB, EventLog, run_gcstat, summary_json

SUMMARY_KEYS = [
    "file", "format", "cycles", "forced_cycles", "reasons", "run_s", "complete", "pauses", "pause_ms",
    "safepoint_ms", "mark_termination_restarts", "gc_cpu_percent", "assist_cpu_ms", "peak_heap_bytes",
    "peak_heap_cycle", "peak_heap_goal_bytes", "peak_heap_over_goal", "max_heap_over_goal",
    "max_heap_over_goal_cycle", "procs", "ncpu", "gogc", "memory_limit_bytes", "start_unix_ns"]


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="gcstat_test_")
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def assertBadInput(self, path, *needles):
        """gcstat exits 2 with a one-line message containing each needle
        (and no Python traceback)."""
        status, out, err = run_gcstat(path)
        self.assertEqual(status, 2, "stdout: %s\nstderr: %s" % (out, err))
        self.assertNotIn("Traceback", err)
        self.assertTrue(err.startswith("gcstat: "), err)
        for n in needles:
            self.assertIn(n, err)
        return err


def log_with_pauses(durations, safepoints=None):
    """Two pauses per cycle, in the order given."""
    assert len(durations) % 2 == 0
    log = EventLog()
    for i in range(0, len(durations), 2):
        sp = None if safepoints is None else safepoints[i:i + 2]
        log.cycle(pauses=durations[i:i + 2], safepoints=sp)
    log.end()
    return log


class Percentiles(Case):
    # Nearest rank: the p-th percentile of n sorted values is the value of
    # rank ceil(p/100 * n), 1-based.

    def test_twenty_pauses(self):
        # 1..20 us in a scrambled order. Ranks: p50 ceil(10) = 10, p90
        # ceil(18) = 18, p99 ceil(19.8) = 20, p99.9 ceil(19.98) = 20.
        # (Linear interpolation would give p50 = 10.5 us.)
        us = list(range(1, 21))
        random.Random(7).shuffle(us)
        s = summary_json(log_with_pauses([u * 1000 for u in us]).write(self.path("log")))
        self.assertEqual(s["pauses"], 20)
        self.assertEqual(s["pause_ms"], {"p50": 0.010, "p90": 0.018, "p99": 0.020, "p99.9": 0.020,
                                         "max": 0.020, "total": 0.210})

    def test_a_thousand_pauses(self):
        # 1..1000 us. Ranks: p50 500, p90 900, p99 990, p99.9 ceil(999) =
        # 999 exactly (computed in floating point, 99.9/100*1000 is
        # 999.0000000000001, which would round up to rank 1000).
        us = list(range(1, 1001))
        random.Random(11).shuffle(us)
        s = summary_json(log_with_pauses([u * 1000 for u in us]).write(self.path("log")))
        self.assertEqual(s["pauses"], 1000)
        p = s["pause_ms"]
        self.assertEqual((p["p50"], p["p90"], p["p99"], p["p99.9"], p["max"]), (0.5, 0.9, 0.99, 0.999, 1.0))
        self.assertAlmostEqual(p["total"], 1000 * 1001 / 2 / 1000, places=6)

    def test_odd_count_and_duplicates(self):
        # 7 pauses (one cycle restarts its mark termination twice):
        # 5 5 5 9 40 40 100 us. p50 rank ceil(3.5) = 4 -> 9; p90 ceil(6.3) = 7 -> 100;
        # p99, p99.9 -> 100.
        log = EventLog()
        log.cycle(pauses=[40_000, 5_000])
        log.cycle(pauses=[5_000, 100_000, 9_000, 40_000])  # 3 mark terminations
        log.cycle(pauses=[5_000], write_cycle=False)  # still marking when the log ends
        log.end()
        s = summary_json(log.write(self.path("log")))
        self.assertEqual(s["pauses"], 7)
        self.assertEqual(s["pause_ms"]["p50"], 0.009)
        self.assertEqual(s["pause_ms"]["p90"], 0.1)
        self.assertEqual(s["pause_ms"]["p99.9"], 0.1)
        self.assertEqual(s["mark_termination_restarts"], 2)

    def test_one_pause_and_none(self):
        log = EventLog()
        log.cycle(pauses=[7_000], write_cycle=False)
        log.end()
        s = summary_json(log.write(self.path("one")))
        self.assertEqual(s["pause_ms"], {"p50": 0.007, "p90": 0.007, "p99": 0.007, "p99.9": 0.007, "max": 0.007,
                                         "total": 0.007})
        self.assertEqual(s["cycles"], 0)  # a pause of a cycle that never finished still counts
        empty = EventLog()
        empty.end(t_ns=5_000_000_000)
        s = summary_json(empty.write(self.path("none")))
        self.assertEqual((s["cycles"], s["pauses"], s["run_s"]), (0, 0, 5.0))
        self.assertIsNone(s["pause_ms"]["p50"])
        self.assertIsNone(s["pause_ms"]["max"])
        self.assertIsNone(s["peak_heap_bytes"])
        self.assertIsNone(s["gc_cpu_percent"])

    def test_time_to_safepoint(self):
        # Safepoint times 1..10 us on pauses of 50 us: p50 rank 5, p99 rank 10.
        sp = list(range(1, 11))
        random.Random(3).shuffle(sp)
        s = summary_json(log_with_pauses([50_000] * 10, [x * 1000 for x in sp]).write(self.path("log")))
        self.assertEqual(s["safepoint_ms"], {"p50": 0.005, "p99": 0.010, "max": 0.010})


class Summary(Case):
    def crafted(self):
        log = EventLog(ncpu=4, gogc=200, memory_limit=512 * MIB)
        # cycle: heap_end, heap_goal (MiB), reason, assist us, gc_cpu_fraction
        log.cycle(heap_end=90 * MIB, heap_goal=100 * MIB, reason="heap", assist_cpu_ns=1_000_000,
                  gc_cpu_fraction=0.02)
        log.cycle(heap_end=150 * MIB, heap_goal=100 * MIB, reason="forced", assist_cpu_ns=2_500_000,
                  gc_cpu_fraction=0.03)  # the worst overrun: 1.5
        log.cycle(heap_end=300 * MIB, heap_goal=250 * MIB, reason="heap", assist_cpu_ns=0,
                  gc_cpu_fraction=0.04)  # the peak: 1.2 x its goal
        log.cycle(heap_end=200 * MIB, heap_goal=400 * MIB, reason="periodic", gc_cpu_fraction=0.035)
        log.cycle(heap_end=10 * MIB, heap_goal=20 * MIB, reason="forced", gc_cpu_fraction=0.0525,
                  assist_cpu_ns=250_000)
        log.cycle(heap_end=10 * MIB, heap_goal=20 * MIB, reason="limit", gc_cpu_fraction=0.0625)
        log.end(t_ns=2_500_000_000)
        return log

    def test_counts_ratios_and_cpu(self):
        s = summary_json(self.crafted().write(self.path("log")))
        self.assertEqual(s["format"], "events")
        self.assertEqual(s["cycles"], 6)
        self.assertEqual(s["forced_cycles"], 2)
        self.assertEqual(s["reasons"], {"forced": 2, "heap": 2, "limit": 1, "periodic": 1})
        self.assertEqual(s["pauses"], 12)
        self.assertEqual(s["peak_heap_bytes"], 300 * MIB)
        self.assertEqual(s["peak_heap_cycle"], 3)
        self.assertEqual(s["peak_heap_goal_bytes"], 250 * MIB)
        self.assertAlmostEqual(s["peak_heap_over_goal"], 1.2, places=12)
        self.assertAlmostEqual(s["max_heap_over_goal"], 1.5, places=12)
        self.assertEqual(s["max_heap_over_goal_cycle"], 2)
        self.assertAlmostEqual(s["gc_cpu_percent"], 6.25, places=9)  # the last cycle's, not the largest
        self.assertAlmostEqual(s["assist_cpu_ms"], 3.75, places=9)
        self.assertEqual(s["run_s"], 2.5)
        self.assertIs(s["complete"], True)
        self.assertEqual((s["ncpu"], s["gogc"], s["memory_limit_bytes"], s["procs"]), (4, 200, 512 * MIB, 2))

    def test_json_keys_are_stable(self):
        s = summary_json(self.crafted().write(self.path("log")))
        self.assertEqual(list(s), SUMMARY_KEYS)
        self.assertEqual(list(s["pause_ms"]), ["p50", "p90", "p99", "p99.9", "max", "total"])
        self.assertEqual(list(s["safepoint_ms"]), ["p50", "p99", "max"])

    def test_gogc_off_and_no_limit(self):
        log = EventLog(gogc=-1)
        log.cycle()
        log.end()
        s = summary_json(log.write(self.path("log")))
        self.assertEqual(s["gogc"], -1)
        self.assertIsNone(s["memory_limit_bytes"])
        status, out, _ = run_gcstat(self.path("log"))
        self.assertEqual(status, 0)
        self.assertIn("GOGC=off", out)
        self.assertIn("memory limit none", out)

    def test_unknown_keys_and_events_are_ignored(self):
        plain = self.crafted()
        extended = self.crafted()
        for e in extended.events:
            e["some_future_key"] = {"nested": [1, 2.5, "x"]}
        extended.events.insert(3, {"event": "some_future_event", "t_ns": 5})
        a = summary_json(plain.write(self.path("plain")))
        b = summary_json(extended.write(self.path("extended")))
        del a["file"], b["file"]
        self.assertEqual(a, b)

    def test_no_end_event(self):
        log = EventLog()
        c = log.cycle()
        s = summary_json(log.write(self.path("log")))
        self.assertIs(s["complete"], False)
        self.assertEqual(s["run_s"], c["sweep_end_ns"] / 1e9)  # the last moment the log tells of
        status, out, _ = run_gcstat(self.path("log"))
        self.assertIn("no end event", out)

    def test_text_output(self):
        status, out, err = run_gcstat(self.crafted().write(self.path("log")))
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"cycles\s+6 \(2 forced\)")
        self.assertRegex(out, r"pauses\s+12,")
        self.assertRegex(out, r"p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  p99\.9 [0-9.]+  max [0-9.]+")
        self.assertRegex(out, r"peak heap\s+300\.0 MiB at the end of cycle 3's mark, 1\.200 x its goal \(250\.0 MiB\)")
        self.assertRegex(out, r"max heap/goal\s+1\.500 \(cycle 2\)")
        self.assertRegex(out, r"GC CPU\s+6\.2%|GC CPU\s+6\.3%")

    def test_stdin(self):
        s = summary_json("-", stdin=self.crafted().text())
        self.assertEqual(s["file"], "<stdin>")
        self.assertEqual(s["cycles"], 6)

    def test_several_logs_one_json_line_each(self):
        a = self.crafted().write(self.path("a"))
        log = EventLog()
        log.cycle()
        log.end()
        b = log.write(self.path("b"))
        status, out, err = run_gcstat("--json", a, b)
        self.assertEqual(status, 0, err)
        lines = [json.loads(x) for x in out.splitlines()]
        self.assertEqual([(x["file"], x["cycles"]) for x in lines], [(a, 6), (b, 1)])

    def test_help_documents_the_percentile_method(self):
        status, out, _ = run_gcstat("--help")
        self.assertEqual(status, 0)
        self.assertIn("nearest-rank", out)
        self.assertIn("ceil(p/100 * n)", out)

    def test_executable(self):
        mode = os.stat(GCSTAT).st_mode
        self.assertTrue(mode & stat.S_IXUSR, "tools/gcstat is not executable")
        with open(GCSTAT) as f:
            self.assertEqual(f.readline().strip(), "#!/usr/bin/env python3")
        p = subprocess.run([GCSTAT, "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)


class BadInput(Case):
    def good_lines(self):
        log = EventLog()
        log.cycle()
        log.cycle()
        log.end()
        return log.text().splitlines(keepends=True)

    def test_malformed_line(self):
        lines = self.good_lines()
        lines[4] = lines[4][: len(lines[4]) // 2] + "\n"  # line 5 cut in the middle
        path = self.write("cut.jsonl", "".join(lines))
        self.assertBadInput(path, path + ":5:", "not a valid JSON line")

    def test_not_an_object(self):
        lines = self.good_lines()
        lines[2] = "[1, 2, 3]\n"
        path = self.write("array.jsonl", "".join(lines))
        self.assertBadInput(path, path + ":3:")

    def test_unknown_version(self):
        lines = self.good_lines()
        lines[0] = lines[0].replace('"version": 1', '"version": 2')
        path = self.write("v2.jsonl", "".join(lines))
        self.assertBadInput(path, path + ":1:", "version 2", "version 1")

    def test_missing_version(self):
        lines = self.good_lines()
        lines[0] = lines[0].replace('"version": 1, ', "")
        path = self.write("noversion.jsonl", "".join(lines))
        self.assertBadInput(path, path + ":1:", "version")

    def test_missing_and_mistyped_fields(self):
        lines = self.good_lines()
        cycle_line = next(i for i, ln in enumerate(lines) if '"event": "cycle"' in ln)
        e = json.loads(lines[cycle_line])
        del e["heap_goal"]
        path = self.write("missing.jsonl", "".join(lines[:cycle_line] + [json.dumps(e) + "\n"] +
                                                   lines[cycle_line + 1:]))
        self.assertBadInput(path, "%s:%d:" % (path, cycle_line + 1), "heap_goal")
        e = json.loads(lines[cycle_line])
        e["end_ns"] = "soon"
        path = self.write("mistyped.jsonl", "".join(lines[:cycle_line] + [json.dumps(e) + "\n"] +
                                                    lines[cycle_line + 1:]))
        self.assertBadInput(path, "%s:%d:" % (path, cycle_line + 1), "end_ns")

    def test_nan_is_not_a_number(self):
        lines = self.good_lines()
        cycle_line = next(i for i, ln in enumerate(lines) if '"event": "cycle"' in ln)
        lines[cycle_line] = re.sub(r'"gc_cpu_fraction": [0-9.e-]+', '"gc_cpu_fraction": NaN', lines[cycle_line])
        path = self.write("nan.jsonl", "".join(lines))
        self.assertBadInput(path, "%s:%d:" % (path, cycle_line + 1))

    def test_first_event_not_start(self):
        lines = self.good_lines()
        path = self.write("nostart.jsonl", "".join(lines[1:]))
        self.assertBadInput(path, path + ":1:", "start")

    def test_joined_logs(self):
        lines = self.good_lines()
        path = self.write("joined.jsonl", "".join(lines + lines))
        self.assertBadInput(path, "%s:%d:" % (path, len(lines) + 1))

    def test_empty_and_missing_files(self):
        path = self.write("empty", "\n\n")
        self.assertBadInput(path, path, "empty")
        missing = self.path("no-such-file")
        self.assertBadInput(missing, missing, "cannot read")

    def test_text_without_gctrace(self):
        path = self.write("prose.txt", "hello\nworld\n")
        self.assertBadInput(path, path, "GODEBUG=gctrace=1")

    def test_broken_gctrace_line(self):
        path = self.write("trace.txt", "gc 1 @0.010s 0%: 0.013+15+0.072 ms clock, 0.027+0.20/0.058/15+0.14 ms cpu, "
                                       "3->5->4 MB, 4 MB goal, 2 P\ngc 2 @0.036s 6%: 0.012+19+\n")
        self.assertBadInput(path, path + ":2:")

    def test_bad_option(self):
        status, _, err = run_gcstat("--frobnicate", "x")
        self.assertEqual(status, 2)
        self.assertNotIn("Traceback", err)


GCTRACE = """\
starting the program
gc 1 @0.010s 0%: 0.013+15+0.072 ms clock, 0.027+0.20/0.058/15+0.14 ms cpu, 3->5->4 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P
scvg: 0 MB released
pacer: assist ratio=+1.0 (scan 0 MB in 3->4 MB) workers=1++0.000000
gc 2 @1.500s 3%: 1.5+120+12 ms clock, 3.0+4/55.5/10+24 ms cpu, 60->70->20 MB, 50 MB goal, 2 P (forced)
GC forced
gc 3 @2.25s 4%: 0+3+0.5 ms clock, 0+0/2/1+1.0 ms cpu, 30->31->22 MB, 40 MB goal, 1 MB stacks, 0 MB globals, 4 P
some output
"""


class Gctrace(Case):
    def test_both_formats_and_noise(self):
        path = self.write("trace.txt", GCTRACE)
        s = summary_json(path)
        self.assertEqual(s["format"], "gctrace")
        self.assertEqual(s["cycles"], 3)
        self.assertEqual(s["forced_cycles"], 1)
        self.assertEqual(s["pauses"], 6)
        # Pauses: 0.013 0.072 1.5 12 0 0.5 ms; sorted 0 0.013 0.072 0.5 1.5 12.
        # p50 rank 3 -> 0.072; p90 rank ceil(5.4) = 6 -> 12.
        self.assertEqual(s["pause_ms"]["p50"], 0.072)
        self.assertEqual(s["pause_ms"]["p90"], 12.0)
        self.assertEqual(s["pause_ms"]["max"], 12.0)
        self.assertAlmostEqual(s["pause_ms"]["total"], 14.085, places=9)
        self.assertIsNone(s["safepoint_ms"])
        self.assertAlmostEqual(s["assist_cpu_ms"], 4.2, places=9)
        self.assertEqual(s["gc_cpu_percent"], 4.0)
        self.assertEqual(s["peak_heap_bytes"], 70 * MIB)
        self.assertEqual(s["peak_heap_cycle"], 2)
        self.assertAlmostEqual(s["peak_heap_over_goal"], 1.4, places=12)
        self.assertAlmostEqual(s["max_heap_over_goal"], 1.4, places=12)
        self.assertEqual(s["procs"], 4)
        # The run ends with the last cycle: 2.25 s + 3.5 ms.
        self.assertAlmostEqual(s["run_s"], 2.2535, places=9)
        status, out, _ = run_gcstat(path)
        self.assertRegex(out, r"to safepoint \(ms\)\s+n/a")


class Report(Case):
    """The HTML file itself (headless Chromium checks it draws:
    gcstat_report_test.py)."""

    def test_self_contained(self):
        log = EventLog()
        for _ in range(5):
            log.cycle()
        log.end()
        out = self.path("r.html")
        status, _, err = run_gcstat("--html", out, log.write(self.path("log")))
        self.assertEqual(status, 0, err)
        with open(out) as f:
            page = f.read()
        self.assertNotRegex(page, r"<link\b|@import|url\(|<img\b|<iframe\b")
        self.assertNotRegex(page, r"\b(src|href)\s*=")
        # The only URL is the SVG namespace name, which is never fetched.
        self.assertEqual(set(re.findall(r"https?://[^\s'\"]+", page)), {"http://www.w3.org/2000/svg"})
        for chart in ("heap", "pauses", "histogram", "cpu"):
            self.assertIn('data-chart="%s"' % chart, page)

    def test_unwritable_report(self):
        log = EventLog()
        log.cycle()
        log.end()
        status, _, err = run_gcstat("--html", self.path("no/such/dir/r.html"), log.write(self.path("log")))
        self.assertEqual(status, 1)
        self.assertIn("cannot write the report", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
