// What a heap reports about itself: Heap::mem_stats() (Go's
// runtime.MemStats) and Heap::gc_stats() (Go's debug.GCStats and
// runtime/metrics' pause histogram, plus per-cycle figures Go does not give:
// each pause split into time to safepoint and work, assist time, why the
// cycle started).
//
// Times named *_ns without "unix" are std::chrono::steady_clock readings in
// nanoseconds; *_unix_ns are nanoseconds since the Unix epoch, as Go's
// LastGC and PauseEnd.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tricolor/alloc/size_classes.hpp"

namespace tricolor {

// Allocations of one size class (Go's MemStats.BySize entry).
struct SizeClassStats {
  std::uint32_t size = 0;  // object size; 0 for the entry that counts large objects
  std::uint64_t mallocs = 0;
  std::uint64_t frees = 0;
};

// Go's runtime.MemStats, the fields that apply. Every field comes from one
// moment: Heap::mem_stats() stops the world for as long as it takes to add
// the counters up (microseconds; no cache is flushed).
struct MemStats {
  std::uint64_t heap_alloc = 0;     // bytes of allocated objects, live or not yet swept
  std::uint64_t total_alloc = 0;    // cumulative bytes allocated
  std::uint64_t heap_sys = 0;       // bytes of pages held from the page source
  std::uint64_t heap_inuse = 0;     // bytes in spans that hold objects
  std::uint64_t heap_idle = 0;      // bytes in free pages
  std::uint64_t heap_released = 0;  // cumulative bytes handed back to the page source
  std::uint64_t heap_objects = 0;
  std::uint64_t mallocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t next_gc = 0;        // the heap goal of the cycle to come (UINT64_MAX: none)
  std::uint64_t last_gc_unix_ns = 0;  // when the last cycle's mark termination ended; 0: none yet
  std::uint32_t num_gc = 0;
  std::uint32_t num_forced_gc = 0;  // cycles started by collect()
  std::uint64_t pause_total_ns = 0;
  // Per cycle, the sum of its stop-the-world pauses and when its last one
  // ended; the newest at [(num_gc + 255) % 256], as in Go.
  std::array<std::uint64_t, 256> pause_ns{};
  std::array<std::uint64_t, 256> pause_end_unix_ns{};
  // The fraction of the CPU available since the heap was made (all CPUs)
  // that the collector used: mark workers, assists and stop-the-world marking.
  double gc_cpu_fraction = 0;
  // [0] counts objects larger than the largest size class.
  std::array<SizeClassStats, alloc::kNumSizeClasses> by_size{};
};

// One stop-the-world pause of the collector.
struct Pause {
  enum class Kind : std::uint8_t { kSweepTermination, kMarkTermination, kOther };
  Kind kind = Kind::kOther;
  std::uint32_t cycle = 0;            // the cycle (1 for the first) it belongs to
  std::uint64_t end_ns = 0;           // when the world restarted
  std::uint64_t total_ns = 0;         // from the stop request to the restart
  std::uint64_t to_safepoint_ns = 0;  // of which: until every thread had stopped
};
const char* to_string(Pause::Kind kind) noexcept;

// Why a cycle started.
enum class GcReason : std::uint8_t {
  kHeap,         // the heap reached the trigger the GOGC goal sets
  kLimit,        // ... the trigger the memory limit sets (below the GOGC goal)
  kForced,       // Heap::collect()
  kPeriodic,     // no cycle for Options::forced_gc_period_ns
  kStress,       // TRICOLOR_GCSTRESS
  kOutOfMemory,  // an allocation found no memory
};
const char* to_string(GcReason reason) noexcept;

// One cycle. A stop-the-world cycle (GODEBUG=gcstoptheworld) has no sweep
// termination pause: its whole mark is the mark-termination pause.
struct CycleStats {
  struct Stop {
    std::uint64_t total_ns = 0;
    std::uint64_t to_safepoint_ns = 0;
    std::uint64_t work_ns() const noexcept { return total_ns - to_safepoint_ns; }
  };
  std::uint32_t number = 0;  // 1 for the heap's first cycle
  GcReason reason = GcReason::kHeap;
  std::uint64_t start_ns = 0;             // sweep termination asked the world to stop
  std::uint64_t mark_ns = 0;              // the world restarted: concurrent mark began
  std::uint64_t mark_termination_ns = 0;  // the final mark termination asked the world to stop
  std::uint64_t end_ns = 0;               // the world restarted: marking is over
  std::uint64_t sweep_end_ns = 0;         // the background sweep finished (0 while it runs)
  Stop sweep_termination;
  Stop mark_termination;  // the final one
  // Mark termination stops the cycle took: more than one when a stop found
  // grey objects (from barrier buffers flushed on the way) and restarted.
  std::uint32_t mark_termination_stops = 0;
  std::uint64_t pause_ns = 0;    // all the cycle's pauses
  std::uint64_t assist_cpu_ns = 0;  // threads marking in proportion to their allocation
  std::uint64_t worker_cpu_ns = 0;  // mark workers, including idle_cpu_ns
  std::uint64_t idle_cpu_ns = 0;    // of which: a worker past its share, on a CPU that had nothing else to run
  std::uint64_t heap_start = 0;  // heap in use (bytes) when the cycle began
  std::uint64_t heap_end = 0;    // ... when marking ended
  std::uint64_t heap_live = 0;   // marked, including objects allocated during marking
  std::uint64_t heap_goal = 0;   // this cycle's goal
  std::uint64_t trigger = 0;     // the heap size at which it was to start
  std::uint64_t next_goal = 0;   // the goal it set for the next cycle
  std::uint64_t thread_roots_bytes = 0;  // Root handles and objects under construction
  std::uint64_t global_roots_bytes = 0;  // GlobalRoot handles
  double gc_cpu_fraction = 0;     // MemStats::gc_cpu_fraction as of mark termination
};

// Every pause the heap made, counted in buckets (runtime/metrics'
// /gc/pauses:seconds): bucket i holds pauses of [bounds_ns[i],
// bounds_ns[i+1]) ns. Buckets are 16 per power of two, so a bucket's width
// is at most 1/16 of its lower bound.
struct PauseHistogram {
  std::vector<std::uint64_t> bounds_ns;  // counts.size() + 1 ascending bounds
  std::vector<std::uint64_t> counts;
  std::uint64_t total() const noexcept;
};

// Go's debug.GCStats, and more.
struct GcStats {
  std::uint32_t num_gc = 0;
  std::uint32_t num_forced_gc = 0;
  std::uint64_t heap_created_ns = 0;
  std::uint64_t last_gc_ns = 0;  // end of the last cycle's mark termination; 0: none yet
  std::uint64_t pause_total_ns = 0;
  // How often the GC CPU limiter found the collector over half of the CPU
  // and stopped making threads assist (0: never).
  std::uint64_t limiter_engaged = 0;
  std::vector<Pause> pauses;        // newest first, the last 4096
  std::vector<CycleStats> cycles;   // newest first, the last 1024
  PauseHistogram pause_histogram;   // every pause since the heap was made

  // Go's PauseQuantiles over `pauses` (total_ns): n values, the minimum,
  // n-2 evenly spaced quantiles, and the maximum; with n = 5: min, 25 %,
  // 50 %, 75 %, max. Quantile i is the sorted pauses' element size*i/(n-1).
  // Empty if n is 0 or there was no pause.
  std::vector<std::uint64_t> pause_quantiles(std::size_t n) const;
};

}  // namespace tricolor
