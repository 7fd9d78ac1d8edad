#include "tricolor/alloc/thread_cache.hpp"

namespace tricolor::alloc {

ThreadCache::ThreadCache(SpanHeap& heap) noexcept : heap_(heap) {
  for (Span*& s : spans_) s = &empty_span();
}

ThreadCache::~ThreadCache() { release_all(); }

void ThreadCache::release_all() noexcept {
  for (Span*& s : spans_) {
    if (s != &empty_span()) {
      heap_.uncache_span(s);
      s = &empty_span();
    }
  }
}

void* ThreadCache::refill(SpanClass sc) {
  Span*& slot = spans_[sc.index()];
  if (slot != &empty_span()) {
    // The cached word ran dry; later words of the span may still have room.
    if (void* p = slot->alloc_slow()) {
      prepare(slot, p);
      return p;
    }
    Span* full = slot;
    slot = &empty_span();
    heap_.uncache_span(full);
  }
  // If this throws, the slot stays empty and the cache consistent.
  Span* span = heap_.cache_span(sc);
  slot = span;
  void* p = span->alloc_slow();  // cache_span hands out spans with a free object
  prepare(span, p);
  return p;
}

}  // namespace tricolor::alloc
