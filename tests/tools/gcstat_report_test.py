#!/usr/bin/env python3
"""tools/gcstat's HTML report, opened in headless Chromium: the page's
script must draw every chart with the expected number of data points and
raise no error. Also takes a screenshot, kept in GCSTAT_ARTIFACT_DIR (the
build tree under ctest) as gcstat_report.png beside gcstat_report.html.

Chromium is Debian's `chromium` package (tools/setup installs it); without
it this test fails, it does not skip."""

import os
import pathlib
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser

from gcstat_testlib import FIXTURES, MIB, EventLog, run_gcstat

CHROMIUM_TIMEOUT_S = 120
WINDOW = (1400, 1300)


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Dom(HTMLParser):
    """The attributes of <body> and of each <figure data-chart>."""

    def __init__(self):
        super().__init__()
        self.body = None
        self.charts = {}  # (run, chart) -> attrs
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "figure" and "data-chart" in a:
            self.charts[(a.get("data-run"), a["data-chart"])] = a

    def handle_data(self, data):
        self.text.append(data)


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chromium = find_chromium()
        cls.tmp = tempfile.TemporaryDirectory(prefix="gcstat_report_")
        cls.artifacts = os.environ.get("GCSTAT_ARTIFACT_DIR") or cls.tmp.name
        os.makedirs(cls.artifacts, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        if not self.chromium:
            self.fail("chromium is not installed (no `chromium` on PATH); run tools/setup, which installs "
                      "Debian's chromium package, then run this test again")

    def chromium_run(self, *args):
        """Runs headless Chromium with a fresh profile; returns stdout.
        Kills the whole process group (its own) if it does not finish."""
        with tempfile.TemporaryDirectory(prefix="gcstat_chromium_") as profile:
            env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
            cmd = [self.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
                   "--user-data-dir=" + profile] + list(args)
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                 start_new_session=True)
            try:
                out, err = p.communicate(timeout=CHROMIUM_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
                self.fail("chromium did not finish in %d s: %s" % (CHROMIUM_TIMEOUT_S, " ".join(cmd)))
            finally:
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # helpers left behind, if any
                except ProcessLookupError:
                    pass
            self.assertEqual(p.returncode, 0, "chromium failed: %s\n%s" % (" ".join(cmd), err[-3000:]))
            return out

    def dom(self, html_path, fragment=""):
        out = self.chromium_run("--dump-dom", pathlib.Path(html_path).resolve().as_uri() + fragment)
        d = Dom()
        d.feed(out)
        self.assertIsNotNone(d.body, "chromium printed no <body>:\n" + out[:2000])
        return d

    def report(self, name, *logs):
        path = os.path.join(self.artifacts, name)
        status, out, err = run_gcstat("--html", path, *logs)
        self.assertEqual(status, 0, err)
        return path

    def assertDrawn(self, d, expected, run="0"):
        self.assertNotIn("data-errors", d.body, "script errors: %s" % d.body.get("data-errors"))
        self.assertEqual(d.body.get("data-ready"), "1", "the page did not finish drawing")
        for chart, n in expected.items():
            self.assertIn((run, chart), d.charts)
            self.assertEqual(d.charts[(run, chart)].get("data-points"), str(n), chart)

    def crafted_log(self):
        # 6 cycles with 2, 2, 4 (mark termination restarted twice), 2, 2, 2
        # pauses, one of them 0 ns long, and a 7th cycle still marking when
        # the log ends (1 pause, no cycle event): 15 pauses.
        log = EventLog()
        log.cycle(pauses=[40_000, 120_000], heap_start=4 * MIB, heap_end=5 * MIB, heap_live=3 * MIB,
                  heap_goal=4 * MIB, gc_cpu_fraction=0.10)
        log.cycle(pauses=[30_000, 90_000], heap_start=7 * MIB, heap_end=8 * MIB, heap_live=4 * MIB,
                  heap_goal=8 * MIB, gc_cpu_fraction=0.08, assist_cpu_ns=300_000)
        log.cycle(pauses=[25_000, 400_000, 60_000, 2_000_000], heap_start=9 * MIB, heap_end=11 * MIB,
                  heap_live=6 * MIB, heap_goal=9 * MIB, gc_cpu_fraction=0.09, reason="forced")
        log.cycle(pauses=[0, 75_000], safepoints=[0, 10_000], heap_start=11 * MIB, heap_end=12 * MIB,
                  heap_live=6 * MIB, heap_goal=12 * MIB, gc_cpu_fraction=0.07)
        log.cycle(pauses=[35_000, 80_000], heap_start=10 * MIB, heap_end=12 * MIB, heap_live=5 * MIB,
                  heap_goal=12 * MIB, gc_cpu_fraction=0.065)
        log.cycle(pauses=[45_000, 150_000], heap_start=9 * MIB, heap_end=10 * MIB, heap_live=5 * MIB,
                  heap_goal=10 * MIB, gc_cpu_fraction=0.06, reason="periodic")
        log.cycle(pauses=[50_000], write_cycle=False)
        log.end()
        return log.write(os.path.join(self.tmp.name, "crafted.jsonl"))

    def test_crafted_log_draws_every_point(self):
        page = self.report("gcstat_report.html", self.crafted_log())
        d = self.dom(page)
        # heap: 4 per cycle; pauses and histogram: 1 per pause; cpu: 2 per cycle.
        self.assertDrawn(d, {"heap": 24, "pauses": 15, "histogram": 15, "cpu": 12})
        self.assertEqual(d.charts[("0", "pauses")].get("data-scale"), "linear")
        text = " ".join(d.text)
        self.assertIn("6 (1 forced)", text)
        # The pause timeline in log scale (REPORT.html#log) draws the same pauses.
        d = self.dom(page, "#log")
        self.assertDrawn(d, {"heap": 24, "pauses": 15, "histogram": 15, "cpu": 12})
        self.assertEqual(d.charts[("0", "pauses")].get("data-scale"), "log")
        # The screenshot, kept as an artifact.
        png = os.path.join(self.artifacts, "gcstat_report.png")
        if os.path.exists(png):
            os.remove(png)
        self.chromium_run("--screenshot=" + png, "--window-size=%d,%d" % WINDOW,
                          pathlib.Path(page).resolve().as_uri())
        self.assertTrue(os.path.exists(png), "chromium wrote no screenshot")
        with open(png, "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", head[16:24]), WINDOW)
        # A blank page of this size compresses to a few KB; four charts and
        # their text do not.
        self.assertGreater(os.path.getsize(png), 40_000)
        sys.stderr.write("screenshot: %s\n" % png)

    def test_go_trace_draws_every_point(self):
        trace = os.path.join(FIXTURES, "go1.19_binary_trees.gctrace")
        with open(trace) as f:
            cycles = sum(1 for ln in f if ln.startswith("gc ") and " @" in ln)
        page = self.report("gcstat_report_go1.19.html", trace)
        self.assertDrawn(self.dom(page), {"heap": 4 * cycles, "pauses": 2 * cycles, "histogram": 2 * cycles,
                                          "cpu": 2 * cycles})

    def test_two_logs_two_sets_of_charts(self):
        log = EventLog()
        log.cycle()
        log.end()
        one = log.write(os.path.join(self.tmp.name, "one.jsonl"))
        page = self.report("gcstat_report_two.html", self.crafted_log(), one)
        d = self.dom(page)
        self.assertDrawn(d, {"heap": 24, "pauses": 15, "histogram": 15, "cpu": 12}, run="0")
        self.assertDrawn(d, {"heap": 4, "pauses": 2, "histogram": 2, "cpu": 2}, run="1")

    def test_a_script_error_is_caught(self):
        # The harness itself: a page whose script fails must show up as
        # data-errors and no data-ready, or the checks above prove nothing.
        page = self.report("gcstat_report_broken.html", self.crafted_log())
        with open(page) as f:
            text = f.read()
        self.assertIn("data.runs.forEach", text)
        broken = os.path.join(self.tmp.name, "broken.html")
        with open(broken, "w") as f:
            f.write(text.replace("data.runs.forEach", "data.runz.forEach"))
        os.remove(page)
        d = self.dom(broken)
        self.assertIn("data-errors", d.body)
        self.assertNotEqual(d.body.get("data-ready"), "1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
