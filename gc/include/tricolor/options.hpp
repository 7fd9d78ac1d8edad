// Heap configuration. Options::from_environment() reads what Go programs
// read (GODEBUG) plus tricolor's own TRICOLOR_GCSTRESS; a malformed value
// is a UsageError naming the variable and the accepted forms.
#pragma once

#include <cstddef>
#include <limits>

namespace tricolor {

struct Options {
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
