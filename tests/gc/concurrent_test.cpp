#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

struct Watched : Object {
  static inline std::atomic<bool> destroyed{false};
  Member<Watched> next;
  ~Watched() { destroyed = true; }
  void trace(Visitor& v) const { v(next); }
};

Options concurrent_options() {
  Options o = test::test_options();
  o.gc_stop_the_world = 0;
  return o;
}

}  // namespace

TEST_CASE("concurrent: a cycle stops the world twice, and each pause records its time to safepoint") {
  Heap heap(concurrent_options());
  ThreadScope attach{heap};
  Root<Counted> kept = heap.make<Counted>(1);
  heap.collect();
  heap.collect();
  const GcStats stats = heap.gc_stats();
  CHECK(stats.num_gc == 2);
  REQUIRE(stats.pauses.size() == 4);
  // Newest first: mark termination, then the sweep termination before it.
  CHECK(stats.pauses[0].kind == Pause::Kind::kMarkTermination);
  CHECK(stats.pauses[1].kind == Pause::Kind::kSweepTermination);
  CHECK(stats.pauses[2].kind == Pause::Kind::kMarkTermination);
  CHECK(stats.pauses[3].kind == Pause::Kind::kSweepTermination);
  for (std::size_t i = 0; i < stats.pauses.size(); ++i) {
    CHECK(stats.pauses[i].to_safepoint_ns <= stats.pauses[i].total_ns);
    if (i + 1 < stats.pauses.size()) CHECK(stats.pauses[i].end_ns >= stats.pauses[i + 1].end_ns);
  }
  CHECK(heap.mem_stats().pause_total_ns >= stats.pauses[0].total_ns + stats.pauses[1].total_ns);
  CHECK(kept->value == 1);
}

TEST_CASE("concurrent: with gcstoptheworld=1 a cycle is one pause") {
  Options o = test::test_options();
  o.gc_stop_the_world = 1;
  Heap heap(o);
  ThreadScope attach{heap};
  Root<Counted> kept = heap.make<Counted>(1);
  for (int i = 0; i < 1000; ++i) heap.make<Counted>(i);
  heap.collect();
  const GcStats stats = heap.gc_stats();
  REQUIRE(stats.num_gc == 1);
  REQUIRE(stats.pauses.size() == 1);
  CHECK(stats.pauses[0].kind == Pause::Kind::kMarkTermination);
  CHECK(heap.mem_stats().heap_objects == 1);
}

TEST_CASE("concurrent: an object allocated while marking is black, even held only by a Root made after the thread's roots were scanned") {
  Heap heap(concurrent_options());
  ThreadScope attach{heap};
  Watched::destroyed = false;
  // A long chain, so that marking is still going on when this thread
  // resumes from the cycle's first pause.
  Root<Counted> chain = heap.make<Counted>(0);
  Counted* tail = chain;
  for (int i = 1; i < 200000; ++i) {
    Counted* c = heap.make<Counted>(i);
    tail->left = c;
    tail = c;
  }
  heap.collect();  // the heap is far from its goal: no allocation below waits for one
  std::thread collector([&] { heap.collect(); });
  // Allocate until marking has begun: this thread parks at the cycle's first
  // pause inside one of these allocations and resumes with the barrier on.
  while (!barriers::barrier_enabled()) heap.make<Counted>(-1);
  // The next allocation is this thread's first safepoint of the mark phase:
  // it greys its roots there. Marking cannot end before this thread reaches
  // another safepoint (the flush handshake), and that is the allocation
  // below: the object is allocated during marking, after the root scan.
  heap.make<Counted>(-1);
  Root<Watched> late = heap.make<Watched>();
  {
    BlockingScope blocked{heap};
    collector.join();
  }
  CHECK_FALSE(Watched::destroyed);
  heap.collect();
  CHECK_FALSE(Watched::destroyed);
  late = nullptr;
  heap.collect();
  CHECK(Watched::destroyed);
}
