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
struct ThreadMutators;

// A Pool (pool.hpp) as the heap knows it: an id, and the generation that
// tells it from an earlier pool that had the same id.
struct PoolHandle {
  std::uint32_t id;
  std::uint64_t generation;
};

// One thread's part of one Pool. Only its thread gets and puts; the
// thread's root scan ages it (HeapState::age_pools), run by the thread
// itself or by the collector while the thread cannot run, so no lock is
// needed on either side.
class PoolLocal {
 public:
  const void* get() noexcept {
    std::vector<const void*>& from = !recent_.empty() ? recent_ : victims_;
    if (from.empty()) return nullptr;
    const void* p = from.back();
    from.pop_back();
    return p;
  }
  void put(const void* object) { recent_.push_back(object); }

 private:
  friend class HeapState;
  friend class Mutator;
  std::uint64_t generation_ = 0;  // the pool's; 0: unused
  std::vector<const void*> recent_;   // put since the last root scan
  std::vector<const void*> victims_;  // put before it: dropped at the next one
};

class Mutator {
 public:
  // Changed under the heap's lock, but for a BlockingScope's way in and out
  // (kRunning -> kBlocking -> kRunning), which takes no lock unless the
  // collector wants something (Go's entersyscall and exitsyscall); see
  // HeapState::enter_blocking. A stop-the-world waits until no attached
  // mutator but the collecting one is kRunning.
  enum class State : std::uint8_t {
    kRunning,   // may touch the heap
    kParked,    // stopped at a safepoint until the world restarts
    kWaiting,   // waiting for a collection or another thread's stop
    kBlocking,  // inside a BlockingScope: promised not to touch the heap
    // kBlocking, and the collector is using the thread's roots or cache or
    // has stopped the world: the thread cannot leave the scope until the
    // collector hands it back as kBlocking (Go's _Gscan bit on _Gsyscall).
    kBlockingHeld,
  };
  // What the collector asks of this thread at its next safepoint. Set by
  // the collector under the heap's lock; read here with a relaxed load,
  // which only sends the thread to the slow path, where it takes the lock
  // (and read seq_cst on the way into a BlockingScope, which takes none).
  enum Attention : std::uint32_t {
    kStop = 1,       // park until the world restarts
    kScanRoots = 2,  // grey this thread's roots (once per mark phase)
    kFlush = 4,      // hand the write-barrier buffer to the marker, and ack
    // Another heap this thread is attached to asks something of it: set
    // by that heap's collector (under this thread's ThreadMutators lock,
    // not this heap's), so that a thread that only ever uses one of its
    // heaps still answers the others (Mutator::respond).
    kSibling = 8,
  };
  // Whose turn it is to grey this thread's roots in the current mark phase.
  enum class RootScan : std::uint8_t { kDone, kPending, kScanning };

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

  // A cell of `bytes` bytes of span class `sc`, zeroed if sc.zeroed(). A
  // safepoint.
  void* allocate(std::size_t bytes, alloc::SpanClass sc) {
    safepoint();
    // The heap grows by the cell, not the request: the pacer must see the
    // size-class rounding.
    const std::size_t cell = bytes <= alloc::kMaxSmallSize ? alloc::kSizeClasses[sc.size_class()].size
                                                           : (bytes + alloc::kPageSize - 1) & ~(alloc::kPageSize - 1);
    budget_ -= static_cast<std::ptrdiff_t>(cell);
    if (budget_ < 0) [[unlikely]] budget_exhausted();
    void* p;
    try {
      p = bytes <= alloc::kMaxSmallSize ? cache_.alloc(sc)
                                        : cache_.heap().alloc_large(bytes, sc.noscan(), sc.finalize());
    } catch (const OutOfMemory&) {
      p = allocate_after_collecting(bytes, sc);
    }
    // During marking, new objects are black: the marker never scans them,
    // and the write barrier covers what their constructors store. A small
    // one needs nothing here: the cache allocates live while marking
    // (Span::live_from), so the sweep keeps it and a marker that reaches it
    // leaves it alone. A large one gets its mark bit.
    if (bytes > alloc::kMaxSmallSize && allocate_black_) [[unlikely]] mark_new(p);
    return p;
  }

  void safepoint() {
    if (attention_.load(std::memory_order_relaxed) != 0) [[unlikely]] respond();
  }

  // allocate() for a small object whose cell size, `cell` (its class's), is
  // known at compile time (Heap::make). Inline: the checks allocate() makes
  // and the cached word; out of line: everything else (a request from the
  // collector, the budget spent, the word used up).
  void* allocate_small(std::size_t cell, alloc::SpanClass sc) {
    alloc::Span* const span = cache_.span(sc);
    if (attention_.load(std::memory_order_relaxed) == 0 && budget_ >= static_cast<std::ptrdiff_t>(cell) &&
        span->alloc_cache != 0) [[likely]] {
      budget_ -= static_cast<std::ptrdiff_t>(cell);
      return alloc::ThreadCache::take(span);
    }
    return allocate_out_of_line(cell, sc);
  }

  // Roots an object over code that may reach a safepoint before anything
  // else points at it (its constructor, an allocation made for it): a frame
  // on this thread's stack, linked to the one it nests in, so that rooting
  // costs no call and no allocation. Frames end in the reverse order they
  // began, as C++ scopes do, exceptions included.
  //
  // trace() may run only once the constructor has returned. A root scan
  // that finds the frame of an object made before the mark began marks the
  // object without queueing it for scanning (HeapState::scan_roots_of);
  // the frame's end then has it scanned, or, if marking is to end first,
  // the final stop scans its memory conservatively (cppgc does the same
  // with objects in construction).
  class ConstructionRoot {
   public:
    ConstructionRoot(Mutator& m, const void* object) noexcept : m_(m), object_(object), outer_(m.constructing_) {
      m.constructing_ = this;
    }
    ~ConstructionRoot() {
      m_.constructing_ = outer_;
      if (scan_deferred_) [[unlikely]] m_.scan_constructed(object_);
    }
    ConstructionRoot(const ConstructionRoot&) = delete;
    ConstructionRoot& operator=(const ConstructionRoot&) = delete;

   private:
    friend class HeapState;
    Mutator& m_;
    const void* const object_;
    const ConstructionRoot* const outer_;
    // Set by a root scan, cleared by the stop that ends marking; read here
    // after this thread resumed from either (no data race: see above).
    mutable bool scan_deferred_ = false;
  };

  // BlockingScope: while blocking, no collector waits for this thread. A
  // thread blocks in every heap it is attached to at once: its Root list
  // is shared by all of them, so it cannot be blocking in one heap and
  // touching handles for another.
  void enter_blocking();
  void leave_blocking();

  // This thread's mutator for the heap that holds `object`; throws
  // UsageError if the thread is attached to none that does.
  static Mutator& of_object(const void* object);
  HeapState& heap_state() const noexcept { return state_; }

  // Pools: this thread's part of the pool `h`.
  PoolLocal& pool_local(PoolHandle h) {
    if (h.id < pool_locals_.size() && pool_locals_[h.id].generation_ == h.generation) [[likely]] {
      return pool_locals_[h.id];
    }
    return pool_local_slow(h);
  }
  PoolHandle register_pool();
  // Any thread, attached or not.
  static void unregister_pool(const Heap& heap, PoolHandle h);

  // This thread's mutator for `heap`, or nullptr if it is not attached.
  static Mutator* lookup(const Heap& heap) noexcept {
    for (Mutator* m = t_current_; m != nullptr; m = m->outer_) {
      if (m->heap_ == &heap) return m;
    }
    return nullptr;
  }

  [[noreturn]] static void throw_array_too_large(std::size_t n, std::size_t element_size);

  State state() const noexcept { return state_value_.load(std::memory_order_seq_cst); }
  RootScan root_scan() const noexcept { return root_scan_; }  // under the heap's lock

 private:
  friend class HeapState;
  static Mutator& find(const Heap& heap);
  // Does what attention_ asks, in the order scan, flush, stop; first, what
  // this thread's other heaps ask of it (kSibling).
  void respond();
  // While this thread waits in one heap (for a stop, a collection, the
  // goal, assist credit), it counts as blocking in every other heap it is
  // attached to: there it holds nothing up, and another thread's stop of
  // such a heap, or the collection it waits for, cannot wait for it in
  // turn. Both run on this thread, with no heap lock held.
  bool has_siblings() const noexcept;
  // Whether this thread is inside a BlockingScope (of any of its heaps).
  bool thread_blocking() const noexcept;
  void block_siblings();
  void unblock_siblings();
  // Sets kSibling on this thread's other mutators (any thread, with this
  // mutator's heap's lock held).
  void poke_siblings();
  void budget_exhausted();
  void* allocate_out_of_line(std::size_t bytes, alloc::SpanClass sc);
  void* allocate_after_collecting(std::size_t bytes, alloc::SpanClass sc);
  void mark_new(void* cell) noexcept;
  // A ConstructionRoot's object, whose scan a root scan deferred, is
  // constructed: it may be traced now.
  void scan_constructed(const void* object);
  PoolLocal& pool_local_slow(PoolHandle h);

  // Inline and constant-initialised: accessed directly, without a TLS wrapper call.
  static inline thread_local Mutator* t_current_ = nullptr;

  const Heap* const heap_;
  HeapState& state_;
  std::atomic<std::uint32_t> attention_{0};
  alloc::ThreadCache cache_;
  // Bytes this thread may still allocate before it reports to the heap's
  // trigger; negative in stress mode, so that every allocation reports.
  std::ptrdiff_t budget_ = 0;
  // This thread's copy of "the heap is marking", changed only by this
  // thread when it resumes from a safepoint or leaves a BlockingScope (the
  // phase changes only while the world is stopped, so it is never stale
  // while the thread runs).
  bool allocate_black_ = false;
  barriers::ThreadRoots& roots_;
  ThreadMutators& thread_;
  const ConstructionRoot* constructing_ = nullptr;  // the innermost
  std::vector<PoolLocal> pool_locals_;  // by pool id

  // seq_cst: the lock-free transitions pair with the collector's requests
  // in attention_ (HeapState::enter_blocking).
  std::atomic<State> state_value_{State::kRunning};
  // Guarded by the heap's lock.
  RootScan root_scan_ = RootScan::kDone;
  std::uint64_t flush_acked_ = 0;  // the last flush handshake this thread answered
  // The sweep generation this thread's cache was last emptied in; a cache
  // from an older one holds spans that must be swept before reuse.
  std::uint32_t cache_sweepgen_ = 0;

  Mutator* const outer_;  // this thread's previous current mutator (nested scopes)
};

}  // namespace tricolor::gc
