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

void ThreadCache::add_cached_mallocs(AllocStats& stats) const noexcept {
  for (const Span* s : spans_) {
    const std::uint64_t n = s->alloc_count - s->alloc_count_at_cache;
    const std::uint64_t bytes = n * s->elem_size;
    stats.by_size[s->spanclass.size_class()].mallocs += n;
    stats.mallocs += n;
    stats.heap_objects += n;
    stats.total_alloc_bytes += bytes;
    stats.heap_alloc_bytes += bytes;
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
  if (allocate_live_) span->allocate_live();
  slot = span;
  void* p = span->alloc_slow();  // cache_span hands out spans with a free object
  prepare(span, p);
  return p;
}

}  // namespace tricolor::alloc
