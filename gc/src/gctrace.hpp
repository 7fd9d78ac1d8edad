// GODEBUG=gctrace=1: one line per cycle, in Go's format to the character,
// so that tools which read Go's gctrace read ours:
//
//   gc 7 @2.104s 4%: 0.020+31+0.041 ms clock, 0.040+2.1/28/9.6+0.082 ms cpu,
//   96->101->48 MB, 100 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
//
// (one line). The figures, in Go's terms (mgc.go, gcMarkTermination):
// seconds since the heap was made; GC CPU since then, percent; wall time of
// sweep termination + concurrent mark + mark termination; CPU of sweep
// termination (wall x CPUs) + assists / workers / idle workers + mark
// termination (wall x CPUs); heap at the start -> at mark termination ->
// marked live; the cycle's goal; root handles ("stacks") and global roots
// ("globals"); CPUs.
#pragma once

#include <cstdint>
#include <string>

#include "tricolor/stats.hpp"

namespace tricolor::gc {

std::string gctrace_line(const CycleStats& cycle, std::uint64_t heap_created_ns, unsigned procs);

}  // namespace tricolor::gc
