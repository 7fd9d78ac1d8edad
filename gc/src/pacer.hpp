// The pacer (Go's mgcpacer.go and mgclimit.go, proposals 44167 and 48409),
// as pure functions of their inputs so that each can be tested with the
// numbers worked out by hand. HeapState feeds them what it measures and
// applies what they return.
//
// Quantities are bytes of heap unless said otherwise. "Live" is what the
// last mark phase marked (Go's heapMarked); "scan work" is the marker's
// work in bytes (objects marked plus pointer slots visited, Go's scan work).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace tricolor::gc::pacer {

inline constexpr std::uint64_t kDefaultHeapMinimum = 4 << 20;  // Go's defaultHeapMinimum at GOGC=100
inline constexpr std::uint64_t kNoLimit = std::numeric_limits<std::int64_t>::max();
inline constexpr int kGcOff = -1;
inline constexpr double kGoalUtilization = 0.25;            // gcGoalUtilization
inline constexpr std::uint64_t kMinRunway = 64 << 10;       // minRunway
inline constexpr std::uint64_t kLimitMinHeadroom = 1 << 20; // memoryLimitMinHeapGoalHeadroom

// heapMinimum: 4 MiB scaled by GOGC/100 (0 when GOGC=0: collect constantly).
constexpr std::uint64_t heap_minimum(int gc_percent) {
  return gc_percent < 0 ? 0 : kDefaultHeapMinimum * static_cast<std::uint64_t>(gc_percent) / 100;
}

// The GOGC goal: live + (live + roots) * GOGC/100, at least heapMinimum;
// no goal at all with GOGC=off.
constexpr std::uint64_t gc_percent_goal(std::uint64_t live, std::uint64_t roots, int gc_percent) {
  if (gc_percent < 0) return std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t goal = live + (live + roots) * static_cast<std::uint64_t>(gc_percent) / 100;
  return std::max(goal, heap_minimum(gc_percent));
}

// The memory limit's goal (Go's memoryLimitHeapGoal): what the heap may hold
// so that all of the collector's memory (`mapped`: pages and metadata
// held) stays under the limit, less a headroom of 3 % (at least 1 MiB).
// `free` is free pages the scavenger can return, `in_use` pages in spans.
constexpr std::uint64_t memory_limit_goal(std::uint64_t limit, std::uint64_t mapped, std::uint64_t free,
                                          std::uint64_t in_use, std::uint64_t live) {
  if (limit >= kNoLimit) return std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t non_heap = mapped > free + in_use ? mapped - free - in_use : 0;
  const std::uint64_t overage = mapped > limit ? mapped - limit : 0;
  if (non_heap + overage >= limit) return live;
  std::uint64_t goal = limit - (non_heap + overage);
  const std::uint64_t headroom = std::max(goal / 100 * 3, kLimitMinHeadroom);
  goal = goal > headroom ? goal - headroom : headroom;
  return std::max(goal, live);
}

// The limit goal is in pages, the heap goal in object bytes: the pages in
// use hold fewer bytes of objects (size-class rounding, partly filled
// spans), so the limit's goal is scaled by the heap's current ratio of
// object bytes to in-use pages (Go counts whole spans as allocated instead).
constexpr std::uint64_t objects_for_pages(std::uint64_t pages_goal, std::uint64_t in_use_pages,
                                          std::uint64_t object_bytes) {
  if (pages_goal == std::numeric_limits<std::uint64_t>::max() || in_use_pages <= object_bytes) return pages_goal;
  return static_cast<std::uint64_t>(static_cast<double>(pages_goal) * static_cast<double>(object_bytes) /
                                    static_cast<double>(in_use_pages));
}

// The heap goal: the lower of the two.
constexpr std::uint64_t heap_goal(std::uint64_t percent_goal, std::uint64_t limit_goal) {
  return std::min(percent_goal, limit_goal);
}

// The runway: how much the program allocates while the next mark does its
// expected scan work, if it takes 25 % of the CPU and the program
// allocates `cons_mark` bytes per byte of scan work. 3 x consMark x work.
constexpr std::uint64_t runway(double cons_mark, std::uint64_t scan_work) {
  return static_cast<std::uint64_t>(cons_mark * (1 - kGoalUtilization) / kGoalUtilization *
                                    static_cast<double>(scan_work));
}

// The trigger: the goal less the runway, but no earlier than 45/64 (~0.70)
// and no later than 61/64 (~0.95) of the way from live to goal (or, for a
// big heap, 4 MiB short of the goal if that is later).
constexpr std::uint64_t trigger(std::uint64_t goal, std::uint64_t live, std::uint64_t run) {
  if (goal <= live) return live;
  const std::uint64_t span = goal - live;
  const std::uint64_t min_trigger = live + span / 64 * 45;
  std::uint64_t max_trigger = live + span / 64 * 61;
  if (span > (4 << 20) && goal - (4 << 20) > max_trigger) max_trigger = goal - (4 << 20);
  const std::uint64_t wanted = goal > run ? goal - run : 0;
  return std::clamp(wanted, min_trigger, max_trigger);
}

// What a cycle taught about the program (Go's endCycle): bytes allocated
// per byte of scan work, scaled to the 25 % utilisation goal.
//   allocated   bytes allocated during the mark phase
//   scan_work   the mark phase's scan work
//   assist_ns, worker_ns, duration_ns, procs: CPU spent marking, the
//   phase's wall time, and the CPUs.
constexpr double cons_mark(std::uint64_t allocated, std::uint64_t scan_work, std::uint64_t assist_ns,
                           std::uint64_t worker_ns, std::uint64_t duration_ns, unsigned procs) {
  if (scan_work == 0 || duration_ns == 0 || procs == 0) return 0;
  const double capacity = static_cast<double>(duration_ns) * procs;
  const double u = kGoalUtilization + static_cast<double>(assist_ns) / capacity;
  // Worker time beyond the goal's 25 % is Go's idle marking.
  const double u_idle = std::max(0.0, static_cast<double>(worker_ns) / capacity - kGoalUtilization);
  return static_cast<double>(allocated) * (u + u_idle) / (static_cast<double>(scan_work) * (1 - kGoalUtilization));
}

// Go biases the estimate toward fewer assists: the maximum of the last
// four cycles' figures.
class ConsMarkHistory {
 public:
  double add(double value) noexcept {
    history_[next_++ % history_.size()] = value;
    return estimate();
  }
  double estimate() const noexcept { return *std::max_element(history_.begin(), history_.end()); }

 private:
  std::array<double, 4> history_{};
  std::size_t next_ = 0;
};

// Assist ratio (Go's revise): scan work still expected over the heap growth
// still allowed before the goal. If the work done already passed the
// expectation, the goal is extrapolated from it, up to (1 + GOGC/100) x
// goal, and the work still expected is bounded by the most the heap can
// hold (each byte marked, each word a pointer slot: 2 x heap_live). If the
// heap passed even that goal, 10 % more is allowed (Go's maxOvershoot).
constexpr double assist_work_per_byte(std::uint64_t expected_work, std::uint64_t work_done,
                                      std::uint64_t heap_live, std::uint64_t goal, std::uint64_t triggered,
                                      int gc_percent) {
  const double gogc = gc_percent < 0 ? 100000.0 : gc_percent;
  const double max_work = 2.0 * static_cast<double>(heap_live);
  double g = static_cast<double>(goal);
  double remaining_work = static_cast<double>(expected_work) - static_cast<double>(work_done);
  if (work_done > expected_work) {
    if (goal > triggered && expected_work != 0) {
      const double extended =
          static_cast<double>(goal - triggered) / static_cast<double>(expected_work) * static_cast<double>(work_done) +
          static_cast<double>(triggered);
      g = std::min(extended, (1 + gogc / 100) * static_cast<double>(goal));
    }
    remaining_work = max_work - static_cast<double>(work_done);
  }
  if (static_cast<double>(heap_live) > g) {
    g *= 1.1;
    remaining_work = max_work - static_cast<double>(work_done);
  }
  remaining_work = std::max(remaining_work, 1000.0);
  const double remaining_heap = std::max(g - static_cast<double>(heap_live), 1.0);
  return remaining_work / remaining_heap;
}

// The GC CPU limiter (Go's gcCPULimiterState): a leaky bucket that GC CPU
// time fills and the program's CPU time drains, holding 1 CPU-second per
// CPU. While it is full, the collector stops making mutators assist (and
// wait at the goal): a heap whose live data exceeds the memory limit runs
// at most about half of the time collecting instead of forever (Go #58106).
class CpuLimiter {
 public:
  explicit CpuLimiter(unsigned procs) : capacity_ns_(std::uint64_t{1'000'000'000} * procs) {}
  // Since the last update the collector (workers and assists) used `gc_ns`
  // of CPU and the program `mutator_ns`. CPU nobody used counts for neither:
  // a program that waits on the collector must not drain the bucket.
  void update(std::uint64_t gc_ns, std::uint64_t mutator_ns) noexcept {
    fill_ns_ = fill_ns_ + gc_ns > mutator_ns ? std::min(fill_ns_ + gc_ns - mutator_ns, capacity_ns_) : 0;
    if (fill_ns_ == capacity_ns_) ++times_full_;
  }
  bool limiting() const noexcept { return fill_ns_ == capacity_ns_; }
  std::uint64_t fill_ns() const noexcept { return fill_ns_; }
  std::uint64_t capacity_ns() const noexcept { return capacity_ns_; }
  // How many updates found the bucket full.
  std::uint64_t times_full() const noexcept { return times_full_; }

 private:
  std::uint64_t capacity_ns_;
  std::uint64_t fill_ns_ = 0;
  std::uint64_t times_full_ = 0;
};

}  // namespace tricolor::gc::pacer
