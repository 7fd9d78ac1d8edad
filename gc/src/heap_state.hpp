// Everything a Heap is, behind the public facade: the span heap, the
// attached mutators and the stop-the-world protocol, the collector, the
// trigger and the statistics.
//
// Stop-the-world (sweep termination and mark termination will both use it):
//   the collector sets stop_requested and waits, under mu_, until every
//   other attached mutator is kParked or kBlocking. A running mutator sees
//   the flag at its next safepoint (every allocation polls it) and parks
//   under mu_. A blocking mutator is already out of the way; leaving
//   kBlocking takes mu_ and waits while a stop is requested, so it cannot
//   slip back in halfway through. Because every transition and the
//   collector's check happen under mu_, whatever a mutator did before it
//   parked (its roots, its cache) happens-before the collector reads it,
//   and whatever the collector did happens-before the mutator resumes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/gc/mutator.hpp"
#include "tricolor/heap.hpp"
#include "tricolor/options.hpp"

namespace tricolor::gc {

class HeapState {
 public:
  HeapState(const Heap& heap, const Options& options);
  ~HeapState();

  const Heap& heap() const noexcept { return heap_; }
  alloc::SpanHeap& spans() noexcept { return spans_; }
  const std::atomic<bool>& stop_requested() const noexcept { return stop_requested_; }
  const Options& options() const noexcept { return options_; }

  void attach(Mutator& m);
  void detach(Mutator& m);
  void park(Mutator& m);
  void enter_blocking(Mutator& m);
  void leave_blocking(Mutator& m);

  enum class Reason { kForced, kTrigger, kOutOfMemory };
  // A full cycle. `self` is the calling thread's mutator, or nullptr.
  void collect(Mutator* self, Reason reason);
  // The calling mutator allocated `bytes` since it last reported; starts a
  // cycle if the heap reached its trigger.
  void report_allocation(Mutator& m, std::size_t bytes);
  MemStats mem_stats(Mutator* self);
  // Heap destruction: every object dies and its destructor runs.
  void destroy_all();

 private:
  // With mu_ held: stops every other mutator. Returns holding mu_.
  void stop_the_world(std::unique_lock<std::mutex>& lock, Mutator* self);
  void start_the_world(std::unique_lock<std::mutex>& lock);
  template <class F>
  void for_each_root(F&& f);
  void mark();
  void verify_marking();
  static void destroy_dead(void* context, void* cell) noexcept;

  const Heap& heap_;
  const Options options_;
  alloc::SpanHeap spans_;
  std::atomic<bool> stop_requested_{false};

  std::mutex mu_;
  std::condition_variable changed_;  // any mutator state, stop or cycle change
  std::vector<Mutator*> mutators_;
  bool cycle_running_ = false;

  // Trigger (until the pacer): collect when the bytes allocated since the
  // last cycle reach the live heap it left, i.e. at twice the live heap,
  // but not before 4 MiB (GOGC=100 and Go's heapMinimum).
  std::atomic<std::uint64_t> allocated_since_cycle_{0};
  std::atomic<std::uint64_t> trigger_bytes_{4 << 20};
  std::atomic<std::uint64_t> stress_count_{0};

  // Statistics, under mu_.
  std::uint32_t num_gc_ = 0;
  std::uint32_t num_forced_gc_ = 0;
  std::uint64_t pause_total_ns_ = 0;
  std::uint64_t next_gc_ = 4 << 20;
};

// Every root of this heap: each attached thread's Root handles and
// objects under construction, and the global roots. Called with the world
// stopped, so no thread is changing its list.
template <class F>
void HeapState::for_each_root(F&& f) {
  for (Mutator* m : mutators_) {
    m->roots_.list.for_each([&](const barriers::RootNode& node) { f(node.object()); });
    for (const void* object : m->constructing_) f(object);
  }
  barriers::GlobalRoots& globals = barriers::global_roots();
  std::lock_guard<std::mutex> guard(globals.mu);
  globals.list.for_each([&](const barriers::RootNode& node) { f(node.object()); });
}

}  // namespace tricolor::gc
