// A thread cache holds one span per span class for one thread of one heap
// (Go's mcache). Allocation from it takes no lock and no atomic: the fast
// path is a count-trailing-zeros on the span's cached free-bit word. Only
// the owning thread may call alloc(); release_all() may be called by
// another thread only while the owner is stopped.
#pragma once

#include <cstddef>
#include <cstring>

#include "tricolor/alloc/poison.hpp"
#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/alloc/span_class.hpp"
#include "tricolor/alloc/span_heap.hpp"

namespace tricolor::alloc {

class ThreadCache {
 public:
  explicit ThreadCache(SpanHeap& heap) noexcept;
  ~ThreadCache();
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  // A zeroed object of span class `sc` (a small class). Throws OutOfMemory.
  void* alloc(SpanClass sc) {
    Span* span = spans_[sc.index()];
    void* p = span->try_alloc_fast();
    if (p == nullptr) [[unlikely]] return refill(sc);
    prepare(span, p);
    return p;
  }

  // A zeroed object of `size` bytes, small or large. Throws OutOfMemory.
  void* alloc(std::size_t size, bool noscan, bool finalize) {
    if (size <= kMaxSmallSize) return alloc(SpanClass(size_to_class(size), noscan, finalize));
    return heap_.alloc_large(size, noscan, finalize);
  }

  // The span the cache allocates class `sc` from (the empty span if none).
  Span* span(SpanClass sc) const noexcept { return spans_[sc.index()]; }

  // Gives every cached span back to the heap (Go's mcache.releaseAll). Must
  // run after a sweep cycle starts and before this cache allocates again.
  void release_all() noexcept;

  SpanHeap& heap() const noexcept { return heap_; }

 private:
  // Memory we hand out is zero: the cell may hold a dead object's bytes,
  // or whatever the page source left there.
  static void prepare(Span* span, void* p) noexcept {
    unpoison(p, span->elem_size);
    std::memset(p, 0, span->elem_size);
  }
  void* refill(SpanClass sc);

  SpanHeap& heap_;
  Span* spans_[kNumSpanClasses];
};

}  // namespace tricolor::alloc
