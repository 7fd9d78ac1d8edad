// The pacer at work on a steady workload: a fixed live set and constant
// churn, as a user tuning GOGC and GOMEMLIMIT sees it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>

#include "gc_test_util.hpp"

using namespace tricolor;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

struct Blob : Object {  // a 64-byte cell: one Member, 56 bytes (no header: a typed span)
  Member<Blob> next;
  char bytes[56] = {};
  void trace(Visitor& v) const { v(next); }
};
static_assert(gc::kHeaderSize<Blob> + sizeof(Blob) == 64);

struct TreeNode : Object {
  Member<TreeNode> left, right;
  void trace(Visitor& v) const {
    v(left);
    v(right);
  }
};

// A complete tree of the given depth, built bottom-up.
TreeNode* tree(Heap& heap, int depth) {
  Root<TreeNode> n = heap.make<TreeNode>();
  if (depth > 0) {
    n->left = tree(heap, depth - 1);
    n->right = tree(heap, depth - 1);
  }
  return n;
}

struct Outcome {
  std::uint64_t live = 0;        // heap after the first full collection
  std::uint64_t first_goal = 0;  // the goal it set
  std::uint32_t cycles = 0;      // cycles during the churn
  double peak_over_goal = 0;     // max heap in use / the goal in force
  // The pacer's own measure (Go's): the largest heap at mark termination
  // over the cycle's goal, among the cycles the heap started.
  double end_over_goal = 0;
  // Cycles the goal formula predicts: each MiB allocated is 1/(goal - live)
  // of a cycle, with live = goal / (1 + GOGC/100) for the goal in force.
  double predicted = 0;
  std::uint64_t start_sys = 0;   // pages held after the first full collection
  std::uint64_t peak_sys = 0;    // max pages held
  std::uint64_t limiter_engaged = 0;
};

// Keeps `live_bytes` of Blobs alive and allocates `churn_bytes` of garbage,
// sampling the heap every MiB.
Outcome steady(Options options, std::uint64_t live_bytes, std::uint64_t churn_bytes) {
  options.forced_gc_period_ns = 0;
  // The default collector, whatever rerun of the suite this is: hundreds of
  // cycles under checkmark would re-mark each with a hash set for nothing
  // this test is about, and the pacer's promises are those of concurrent
  // marking by Go's worker sizing.
  options.checkmark = false;
  options.gc_stop_the_world = 0;
  options.mark_workers = 0;
  Heap heap(options);
  ThreadScope attach{heap};
  const std::size_t n = live_bytes / 64;
  Root<Array<Member<Blob>>> live = heap.make_array<Member<Blob>>(n);
  for (std::size_t i = 0; i < n; ++i) (*live)[i] = heap.make<Blob>();
  heap.collect();
  const MemStats start = heap.mem_stats();
  Outcome out;
  out.live = start.heap_alloc;
  out.first_goal = start.next_gc;
  out.start_sys = start.heap_sys;
  std::uint32_t cycles_seen = start.num_gc;
  std::uint64_t last_goal = start.next_gc;  // the goal of the cycle before the last
  std::uint64_t goal = start.next_gc;
  for (std::uint64_t allocated = 0; allocated < churn_bytes; allocated += 64) {
    heap.make<Blob>();
    if (allocated % MiB == 0) {
      const MemStats ms = heap.mem_stats();
      if (ms.num_gc != cycles_seen) {
        cycles_seen = ms.num_gc;
        last_goal = goal;
      }
      goal = ms.next_gc;
      if (ms.next_gc != 0 && ms.next_gc != UINT64_MAX) {
        // Until the sweep has freed it, the heap still holds the garbage the
        // last cycle's goal allowed (HeapAlloc counts objects until they are
        // swept, as Go's does), and a cycle whose marking was short may set a
        // lower goal than the one before: measure against the larger of the
        // goals of this cycle and the last.
        const std::uint64_t in_force = std::max(ms.next_gc, last_goal);
        out.peak_over_goal = std::max(out.peak_over_goal, static_cast<double>(ms.heap_alloc) / in_force);
        if (options.gc_percent > 0) {
          const double growth = options.gc_percent / 100.0;
          out.predicted += static_cast<double>(MiB) * (1 + growth) / (static_cast<double>(ms.next_gc) * growth);
        }
      }
      out.peak_sys = std::max(out.peak_sys, ms.heap_sys);
    }
  }
  out.cycles = heap.mem_stats().num_gc - start.num_gc;
  const GcStats gs = heap.gc_stats();
  out.limiter_engaged = gs.limiter_engaged;
  for (const CycleStats& c : gs.cycles) {
    if (c.number > start.num_gc && c.reason == GcReason::kHeap) {
      out.end_over_goal = std::max(out.end_over_goal, static_cast<double>(c.heap_end) / c.heap_goal);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("pacing: for GOGC 50 to 400 the heap stays near its goal and cycles come as the goal predicts") {
  // Large enough that one span, one 64 KiB report or one unswept cycle's
  // stragglers are small against the smallest runway (GOGC=50: 16 MiB).
  const std::uint64_t live = 32 * MiB;
  const std::uint64_t churn = test::kSanitized ? 512 * MiB : 1024 * MiB;
  for (int gogc : {50, 100, 200, 400}) {
    Options o = test::test_options();
    o.gc_percent = gogc;
    const Outcome out = steady(o, live, churn);
    // Each cycle lets the heap grow by goal - live, for the goal the pacer
    // set from the live heap it measured (which includes what was allocated,
    // black, while it marked).
    const double predicted = out.predicted;
    INFO("GOGC=" << gogc << ": live " << out.live << " B, goal " << out.first_goal << " B, " << out.cycles
                 << " cycles (predicted " << predicted << "), peak/goal " << out.peak_over_goal
                 << ", at mark termination " << out.end_over_goal);
    CHECK(out.first_goal == Approx(out.live * (1 + gogc / 100.0)).epsilon(0.02));
    // Issue 5's bounds: peak heap in use within 1.10 x the goal, both where
    // the pacer aims (at mark termination) and sampled every MiB; cycles
    // within 25 % of the prediction.
    CHECK(out.end_over_goal <= 1.10);
    CHECK(out.peak_over_goal <= 1.10);
    CHECK(out.cycles >= 0.75 * predicted);
    CHECK(out.cycles <= 1.25 * predicted);
  }
}

TEST_CASE("pacing: every cycle the heap starts begins at its trigger, never at once after the last") {
  // One thread that outruns the collector, as binary-trees does: it reaches
  // the goal during marking and its count races with mark termination. A
  // request counted against the last cycle, or made while the next one was
  // starting, used to start a cycle with next to nothing allocated, and the
  // thread waited through all of its marking.
  Options o = test::paced_options();
  o.checkmark = false;  // as steady(): the pacer's promises are for concurrent marking
  o.gc_stop_the_world = 0;
  o.mark_workers = 0;
  Heap heap(o);
  ThreadScope attach{heap};
  Root<TreeNode> live = tree(heap, test::kSanitized ? 15 : 18);
  const std::uint32_t cycles = test::kSanitized ? 30 : 80;
  while (heap.gc_stats().num_gc < cycles) {
    for (int i = 0; i < 64; ++i) tree(heap, 12);
  }
  const GcStats s = heap.gc_stats();
  int checked = 0;
  for (const CycleStats& c : s.cycles) {
    if (c.reason != GcReason::kHeap || c.number < 3) continue;
    INFO("cycle " << c.number << ": began at " << c.heap_start << " B, trigger " << c.trigger << " B");
    CHECK(c.heap_start >= c.trigger);
    ++checked;
  }
  CHECK(checked >= static_cast<int>(cycles) / 2);
}

TEST_CASE("pacing: GOGC=off runs no cycle, however much is allocated") {
  Options o = test::test_options();
  o.gc_percent = -1;
  const Outcome out = steady(o, 1 * MiB, 64 * MiB);
  CHECK(out.cycles == 0);
}

TEST_CASE("pacing: set_gc_percent takes effect at once and returns the previous value") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Array<Member<Blob>>> live = heap.make_array<Member<Blob>>(100000);
  for (std::size_t i = 0; i < live->size(); ++i) (*live)[i] = heap.make<Blob>();
  heap.collect();
  const std::uint64_t at_100 = heap.mem_stats().next_gc;
  CHECK(heap.set_gc_percent(300) == 100);
  const std::uint64_t at_300 = heap.mem_stats().next_gc;
  CHECK(heap.set_gc_percent(-1) == 300);
  CHECK(heap.mem_stats().next_gc == UINT64_MAX);
  CHECK(heap.set_gc_percent(100) == -1);
  const MemStats back = heap.mem_stats();
  const double live_bytes = static_cast<double>(at_100) / 2;  // GOGC=100: the goal is twice live
  CHECK(static_cast<double>(at_300) == Approx(4 * live_bytes).epsilon(0.01));
  CHECK(back.next_gc == at_100);
}

TEST_CASE("pacing: under a memory limit below the GOGC goal, memory stays within 5 % of the limit") {
  Options o = test::test_options();
  o.gc_percent = 400;               // a goal of 5 x 16 MiB = 80 MiB ...
  o.memory_limit = 48 * MiB;        // ... but only 48 MiB allowed
  const Outcome out = steady(o, 16 * MiB, 256 * MiB);
  INFO("pages held " << out.start_sys << " B at the start, " << out.peak_sys << " B at the peak; goal "
                      << out.first_goal << " B; " << out.cycles << " cycles");
  CHECK(out.first_goal < 48 * MiB);
  CHECK(out.peak_sys <= 48 * MiB * 105 / 100);
  CHECK(out.cycles > 0);
}

TEST_CASE("pacing: with more live data than the limit, the program still runs: the CPU limiter engages") {
  Options o = test::test_options();
  o.memory_limit = 8 * MiB;  // live is 16 MiB: every goal is hopeless
  const Outcome out = steady(o, 16 * MiB, 128 * MiB);
  INFO(out.cycles << " cycles, limiter engaged " << out.limiter_engaged << " times");
  CHECK(out.cycles > 0);
  CHECK(out.limiter_engaged > 0);
}
