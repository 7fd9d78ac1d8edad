#!/usr/bin/env python3
"""tools/gcstat on a real Go 1.19 gctrace log (fixtures/, recorded once with
`GODEBUG=gctrace=1 ./binary_trees 18` built by go1.19.8 from
perf/go/binary_trees.go as it was at commit 941c65a, on 2 CPUs; it is the
program's stderr, so it also holds a line of program output). It is a
recording: later changes to that program do not call for a new one. Every
expected number is worked out here from the text with this file's own
regular expressions, not with gcstat's parser."""

import os
import re
import unittest
from fractions import Fraction

from gcstat_testlib import FIXTURES, MIB, run_gcstat, summary_json

TRACE = os.path.join(FIXTURES, "go1.19_binary_trees.gctrace")


def nearest_rank(values, permille):
    """x[ceil(permille/1000 * n)], in integers."""
    v = sorted(values)
    rank = -(-permille * len(v) // 1000)
    return v[rank - 1]


class GoTrace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(TRACE) as f:
            cls.text = f.read()
        cls.gc_lines = re.findall(r"^gc \d+ @.*$", cls.text, re.M)
        # The first and third "clock" figures are the two pauses.
        clock = re.findall(r"^gc \d+ @[\d.]+s \d+%: ([\d.]+)\+[\d.]+\+([\d.]+) ms clock", cls.text, re.M)
        cls.pauses = [Fraction(x) for pair in clock for x in pair]
        cls.heap = [tuple(int(x) for x in m) for m in re.findall(r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal", cls.text)]
        cls.assists = [Fraction(x) for x in re.findall(r"ms clock, [\d.]+\+([\d.]+)/", cls.text)]
        cls.percents = [int(x) for x in re.findall(r"^gc \d+ @[\d.]+s (\d+)%", cls.text, re.M)]
        cls.s = summary_json(TRACE)

    def test_the_fixture_is_what_it_says(self):
        # Tens of cycles, every gc line complete, and noise to skip.
        self.assertGreaterEqual(len(self.gc_lines), 20)
        self.assertEqual(len(self.pauses), 2 * len(self.gc_lines))
        self.assertEqual(len(self.heap), len(self.gc_lines))
        self.assertTrue(any(not ln.startswith("gc ") for ln in self.text.splitlines()))

    def test_cycles_and_pauses(self):
        self.assertEqual(self.s["format"], "gctrace")
        self.assertEqual(self.s["cycles"], len(self.gc_lines))
        self.assertEqual(self.s["forced_cycles"], self.text.count("(forced)"))
        self.assertEqual(self.s["pauses"], len(self.pauses))
        self.assertEqual(self.s["procs"], int(re.search(r"(\d+) P$", self.gc_lines[-1]).group(1)))

    def test_pause_figures(self):
        p = self.s["pause_ms"]
        self.assertAlmostEqual(p["max"], float(max(self.pauses)), places=9)
        self.assertAlmostEqual(p["total"], float(sum(self.pauses)), places=6)
        for key, permille in (("p50", 500), ("p90", 900), ("p99", 990), ("p99.9", 999)):
            self.assertAlmostEqual(p[key], float(nearest_rank(self.pauses, permille)), places=9, msg=key)
        self.assertIsNone(self.s["safepoint_ms"])

    def test_heap_and_cpu(self):
        peak = max(h[1] for h in self.heap)
        first = next(h for h in self.heap if h[1] == peak)
        self.assertEqual(self.s["peak_heap_bytes"], peak * MIB)
        self.assertEqual(self.s["peak_heap_goal_bytes"], first[3] * MIB)
        self.assertAlmostEqual(self.s["peak_heap_over_goal"], peak / first[3], places=12)
        self.assertAlmostEqual(self.s["max_heap_over_goal"], max(h[1] / h[3] for h in self.heap), places=12)
        self.assertEqual(self.s["gc_cpu_percent"], float(self.percents[-1]))
        self.assertAlmostEqual(self.s["assist_cpu_ms"], float(sum(self.assists)), places=6)

    def test_run_length(self):
        last = re.match(r"gc \d+ @([\d.]+)s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock", self.gc_lines[-1])
        end_s = Fraction(last.group(1)) + sum(Fraction(x) for x in last.groups()[1:]) / 1000
        self.assertAlmostEqual(self.s["run_s"], float(end_s), places=6)

    def test_text_summary(self):
        status, out, err = run_gcstat(TRACE)
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"cycles\s+%d \(%d forced\)" % (len(self.gc_lines), self.text.count("(forced)")))
        self.assertRegex(out, r"to safepoint \(ms\)\s+n/a")


if __name__ == "__main__":
    unittest.main(verbosity=2)
