#include "tricolor/alloc/thread_cache.hpp"

#include <algorithm>

namespace tricolor::alloc {

ThreadCache::ThreadCache(SpanHeap& heap) : heap_(heap) { grow_slots(kNumSpanClasses - 1); }

ThreadCache::~ThreadCache() { release_all(); }

void ThreadCache::grow_slots(std::size_t index) {
  const std::size_t n = std::max(index + 1, 2 * nslots_);
  auto slots = std::make_unique<Span*[]>(n);
  std::copy_n(slots_.get(), nslots_, slots.get());
  std::fill(slots.get() + nslots_, slots.get() + n, &empty_span());
  slots_ = std::move(slots);
  nslots_ = n;
}

void ThreadCache::release_all() noexcept {
  for (std::size_t i = 0; i < nslots_; ++i) {
    Span*& s = slots_[i];
    if (s != &empty_span()) {
      heap_.uncache_span(s);
      s = &empty_span();
    }
  }
}

void ThreadCache::add_cached_mallocs(AllocStats& stats) const noexcept {
  for (std::size_t i = 0; i < nslots_; ++i) {
    const Span* s = slots_[i];
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
  if (sc.index() >= nslots_) grow_slots(sc.index());
  Span*& slot = slots_[sc.index()];
  if (slot != &empty_span()) {
    // The cached word ran dry; later words of the span may still have room.
    if (void* p = slot->alloc_slow()) {
      unpoison(p, slot->elem_size);
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
  unpoison(p, span->elem_size);
  return p;
}

}  // namespace tricolor::alloc
