// A thread cache holds one span per span class for one thread of one heap
// (Go's mcache). Allocation from it takes no lock and no atomic: the fast
// path is a count-trailing-zeros on the span's cached free-bit word. Only
// the owning thread may call alloc(); release_all() may be called by
// another thread only while the owner is stopped.
#pragma once

#include <cstddef>
#include <memory>

#include "tricolor/alloc/poison.hpp"
#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/alloc/span_class.hpp"
#include "tricolor/alloc/span_heap.hpp"

namespace tricolor::alloc {

class ThreadCache {
 public:
  explicit ThreadCache(SpanHeap& heap);
  ~ThreadCache();
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  // An object of span class `sc` (a small class), zeroed if sc.zeroed().
  // Throws OutOfMemory.
  void* alloc(SpanClass sc) {
    Span* const span = this->span(sc);
    if (span->alloc_cache == 0) [[unlikely]] return refill(sc);
    return take(span);
  }

  // An object of `size` bytes, small or large, zeroed unless it is small
  // and noscan. Throws OutOfMemory.
  void* alloc(std::size_t size, bool noscan, bool finalize) {
    if (size > kMaxSmallSize) [[unlikely]] return heap_.alloc_large(size, noscan, finalize);
    // An untyped class: its slot always exists, and is its low bits.
    const std::uint32_t low = SpanClass::low_bits(size_to_class(size), noscan, finalize);
    Span* const span = slots_[low];
    if (span->alloc_cache == 0) [[unlikely]] return refill(SpanClass::untyped(low));
    return take(span);
  }

  // The fast path's end, for a span of this cache whose cached word has a
  // free object (alloc_cache != 0): that object, which alloc_slow zeroed
  // (if the class is zeroed) when it loaded the word.
  static void* take(Span* span) noexcept {
    void* p = span->alloc_cached();
    unpoison(p, span->elem_size);
    return p;
  }

  // The span the cache allocates class `sc` from (the empty span if none).
  Span* span(SpanClass sc) const noexcept { return sc.index() < nslots_ ? slots_[sc.index()] : &empty_span(); }

  // While on, what this cache hands out is live at the next sweep without a
  // mark bit (Span::live_from): the collector's allocate-black. Changed only
  // by the owner, while it does not allocate.
  void set_allocate_live(bool on) noexcept {
    allocate_live_ = on;
    if (on) {
      for (std::size_t i = 0; i < nslots_; ++i) {
        if (slots_[i] != &empty_span()) slots_[i]->allocate_live();
      }
    }
  }

  // Gives every cached span back to the heap (Go's mcache.releaseAll). Must
  // run after a sweep cycle starts and before this cache allocates again.
  void release_all() noexcept;
  // Adds to `stats` the objects allocated from the cached spans, which the
  // heap counts only when they go back. The owner must be stopped.
  void add_cached_mallocs(AllocStats& stats) const noexcept;

  SpanHeap& heap() const noexcept { return heap_; }

 private:
  void* refill(SpanClass sc);
  // Makes room for the slot of a typed class first seen by this cache.
  void grow_slots(std::size_t index);

  SpanHeap& heap_;
  // One slot per span class, indexed by SpanClass::index(): the untyped
  // classes, then the typed ones this cache has allocated from. The empty
  // span where none is cached.
  std::unique_ptr<Span*[]> slots_;
  std::size_t nslots_ = 0;
  bool allocate_live_ = false;
};

}  // namespace tricolor::alloc
