// A mutator is one thread's attachment to one heap: its thread cache, its
// safepoint state, and the objects it is constructing. Heap::make reaches
// it through a thread-local pointer; everything else about it belongs to
// the collector (gc/src).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span_class.hpp"
#include "tricolor/alloc/thread_cache.hpp"
#include "tricolor/barriers/root_list.hpp"

namespace tricolor {
class Heap;
}

namespace tricolor::gc {

class HeapState;

class Mutator {
 public:
  // Guarded by the heap's lock. A stop-the-world waits until no attached
  // mutator but the collecting one is kRunning.
  enum class State : std::uint8_t {
    kRunning,   // may touch the heap
    kParked,    // stopped at a safepoint until the world restarts
    kBlocking,  // inside a BlockingScope: promised not to touch the heap
  };

  Mutator(const Heap& heap, HeapState& state);
  ~Mutator();
  Mutator(const Mutator&) = delete;
  Mutator& operator=(const Mutator&) = delete;

  // This thread's mutator for `heap`; throws UsageError if the thread is
  // not attached to it.
  static Mutator& current(const Heap& heap) {
    Mutator* m = t_current_;
    if (m != nullptr && m->heap_ == &heap) [[likely]] return *m;
    return find(heap);
  }

  // A zeroed cell of `bytes` bytes of span class `sc`. A safepoint.
  void* allocate(std::size_t bytes, alloc::SpanClass sc) {
    // Relaxed: the flag only sends us to the heap's lock, which is where
    // this thread and the collector synchronise.
    if (stop_requested_.load(std::memory_order_relaxed)) [[unlikely]] park();
    budget_ -= static_cast<std::ptrdiff_t>(bytes);
    if (budget_ < 0) [[unlikely]] budget_exhausted();
    try {
      return bytes <= alloc::kMaxSmallSize ? cache_.alloc(sc)
                                           : cache_.heap().alloc_large(bytes, sc.noscan(), sc.finalize());
    } catch (const OutOfMemory&) {
      return allocate_after_collecting(bytes, sc);
    }
  }

  // Objects under construction are roots until their constructor returns.
  void begin_construction(const void* object) { constructing_.push_back(object); }
  void end_construction() noexcept { constructing_.pop_back(); }

  // Stops here if a collection wants the world stopped.
  void park();
  // BlockingScope: while blocking, the collector does not wait for us.
  void enter_blocking();
  void leave_blocking();

  // This thread's mutator for `heap`, or nullptr if it is not attached.
  static Mutator* lookup(const Heap& heap) noexcept {
    for (Mutator* m = t_current_; m != nullptr; m = m->outer_) {
      if (m->heap_ == &heap) return m;
    }
    return nullptr;
  }

  [[noreturn]] static void throw_array_too_large(std::size_t n, std::size_t element_size);

 private:
  friend class HeapState;
  static Mutator& find(const Heap& heap);
  void budget_exhausted();
  void* allocate_after_collecting(std::size_t bytes, alloc::SpanClass sc);

  // Inline and constant-initialised: accessed directly, without a TLS wrapper call.
  static inline thread_local Mutator* t_current_ = nullptr;

  const Heap* const heap_;
  HeapState& state_;
  const std::atomic<bool>& stop_requested_;
  alloc::ThreadCache cache_;
  // Bytes this thread may still allocate before it reports to the heap's
  // trigger; negative in stress mode, so that every allocation reports.
  std::ptrdiff_t budget_ = 0;
  barriers::ThreadRoots& roots_;
  std::vector<const void*> constructing_;
  State state_value_ = State::kRunning;
  Mutator* const outer_;  // this thread's previous current mutator (nested scopes)
};

}  // namespace tricolor::gc
