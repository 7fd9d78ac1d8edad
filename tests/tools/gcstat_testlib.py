"""Shared by the gcstat tests: where gcstat is, how to run it, and a builder
for event logs (version 1) with numbers the tests choose."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GCSTAT = os.environ.get("GCSTAT") or os.path.join(HERE, "..", "..", "tools", "gcstat")
FIXTURES = os.path.join(HERE, "fixtures")
MIB = 1 << 20
NO_LIMIT = 9223372036854775807


def run_gcstat(*args, stdin=None):
    """Runs gcstat with this interpreter; returns (status, stdout, stderr)."""
    p = subprocess.run([sys.executable, GCSTAT] + list(args), input=stdin, capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def summary_json(*args, stdin=None):
    status, out, err = run_gcstat("--json", *args, stdin=stdin)
    if status != 0:
        raise AssertionError("gcstat exited %d: %s" % (status, err))
    lines = out.splitlines()
    if len(lines) != 1:
        raise AssertionError("expected one JSON line, got %r" % out)
    return json.loads(lines[0])


class EventLog:
    """Builds an event log. Cycles are laid out one after another on a
    10 ms grid unless given times; every number can be overridden."""

    def __init__(self, ncpu=2, gogc=100, memory_limit=NO_LIMIT, unix_ns=1700000000000000000):
        self.events = [{"event": "start", "version": 1, "unix_ns": unix_ns, "ncpu": ncpu, "gogc": gogc,
                        "memory_limit": memory_limit}]
        self.next_cycle = 1
        self.t = 1_000_000  # ns; the first cycle starts 1 ms after the heap was made

    def cycle(self, pauses=(10_000, 20_000), safepoints=None, reason="heap", heap_start=8 * MIB,
              heap_end=10 * MIB, heap_live=5 * MIB, heap_goal=10 * MIB, assist_cpu_ns=0,
              worker_cpu_ns=1_000_000, idle_cpu_ns=0, gc_cpu_fraction=0.05, procs=2, mark_ns=2_000_000,
              write_cycle=True, **extra):
        """One cycle: pauses[0] is sweep termination, the rest mark
        terminations (more than one: a restart). Returns the cycle event."""
        n = self.next_cycle
        self.next_cycle += 1
        if safepoints is None:
            safepoints = [d // 4 for d in pauses]
        start = self.t
        t = start
        pause_events = []
        for i, (d, sp) in enumerate(zip(pauses, safepoints)):
            if i == 1:
                t += mark_ns  # concurrent mark between the first and second pause
            elif i > 1:
                t += 100_000  # mark again after a restarted mark termination
            stop_requested = t
            t += d
            pause_events.append({"event": "pause", "cycle": n,
                                 "kind": "sweep_termination" if i == 0 else "mark_termination",
                                 "t_ns": t, "total_ns": d, "to_safepoint_ns": sp})
            if i == 0:
                mark = t
            final_stop = stop_requested
        end = t
        c = {"event": "cycle", "cycle": n, "reason": reason, "start_ns": start, "mark_ns": mark,
             "mark_termination_ns": final_stop, "end_ns": end, "sweep_end_ns": end + 500_000,
             "sweep_termination_ns": pauses[0], "sweep_termination_safepoint_ns": safepoints[0],
             "mark_termination_stw_ns": pauses[-1], "mark_termination_safepoint_ns": safepoints[-1],
             "mark_termination_stops": len(pauses) - 1, "assist_cpu_ns": assist_cpu_ns,
             "worker_cpu_ns": worker_cpu_ns, "idle_cpu_ns": idle_cpu_ns, "heap_start": heap_start,
             "heap_end": heap_end, "heap_live": heap_live, "heap_goal": heap_goal,
             "trigger": heap_start, "next_goal": 2 * heap_live, "gc_cpu_fraction": gc_cpu_fraction,
             "procs": procs}
        c.update(extra)
        self.events.extend(pause_events)
        if write_cycle:
            self.events.append(c)
        self.t = end + 10_000_000
        return c

    def end(self, t_ns=None):
        self.events.append({"event": "end", "t_ns": self.t if t_ns is None else t_ns})

    def text(self):
        return "".join(json.dumps(e) + "\n" for e in self.events)

    def write(self, path):
        with open(path, "w") as f:
            f.write(self.text())
        return path
