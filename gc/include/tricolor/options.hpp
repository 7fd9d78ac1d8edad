// Heap configuration. Options::from_environment() reads what Go programs
// read (GOGC, GOMEMLIMIT, GODEBUG) plus tricolor's own TRICOLOR_GCSTRESS and
// TRICOLOR_MARKWORKERS; a malformed value is a UsageError naming the
// variable and the accepted forms.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

namespace tricolor {

struct Options {
  // GOGC: the heap may grow by this percent of the live heap (plus roots)
  // before the next cycle; negative (GOGC=off) collects only near the
  // memory limit or when asked. Heap::set_gc_percent changes it later.
  int gc_percent = 100;
  // GOMEMLIMIT: a soft limit on the memory the heap holds (pages and
  // metadata), in bytes. The collector runs as often as it must to stay
  // under it, up to about half of the CPU. Heap::set_memory_limit changes it.
  std::int64_t memory_limit = std::numeric_limits<std::int64_t>::max();
  // A cycle runs if none ran for this long (Go's forcegcperiod); 0: never.
  std::uint64_t forced_gc_period_ns = std::uint64_t{120} * 1'000'000'000;
  // GODEBUG=gcpacertrace=1: the pacer's inputs and decisions on stderr, per cycle.
  bool pacer_trace = false;
  // GODEBUG=gctrace=1: one line per cycle on stderr, in Go's format.
  bool gc_trace = false;
  // GODEBUG=gclog=FILE: every cycle and pause as JSON lines in FILE (read
  // by tools/gcstat; the format is in the README). Empty: none.
  std::string event_log;
  // The heap never holds more than this many bytes of pages; past it an
  // allocation that a collection cannot satisfy throws tricolor::OutOfMemory.
  std::size_t max_heap_bytes = std::numeric_limits<std::size_t>::max();
  // GODEBUG=gccheckmark=1: after every mark phase, mark again from scratch
  // with the world stopped and abort, naming the parent and child types, if
  // the first marking missed a reachable object.
  bool checkmark = false;
  // TRICOLOR_GCSTRESS=N: collect at every N-th allocation. Slow; it makes a
  // missing root in user code (an object reachable only from a raw pointer
  // across an allocation) fail at once instead of once in a blue moon.
  std::size_t stress_interval = 0;
  // GODEBUG=gcstoptheworld=1: every cycle marks with the world stopped (for
  // comparison and debugging); =2 sweeps with it stopped too.
  unsigned gc_stop_the_world = 0;
  // TRICOLOR_MARKWORKERS=N: N dedicated mark workers instead of Go's sizing
  // (25 % of the CPUs, with a fractional worker on small machines).
  std::size_t mark_workers = 0;

  static Options from_environment();
};

}  // namespace tricolor
