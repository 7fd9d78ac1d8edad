#include "tricolor/alloc/span_heap.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/poison.hpp"

namespace tricolor::alloc {
namespace {

// How many unswept spans cache_span sweeps looking for space before it
// takes fresh pages instead (Go's spanBudget): bounds the latency of one
// refill while keeping the space overhead of skipping small.
constexpr int kSpanBudget = 100;

// Larger requests cannot be page-rounded without overflow; no machine has them.
constexpr std::size_t kMaxLargeBytes = std::size_t{1} << 46;

// A span was popped from an unswept list, which only ever holds spans of
// sweepgen h-2, and its sweep could not be claimed. Nothing else sweeps a
// span without popping it first, so this is a broken invariant: going on
// would drop the span from every list (its objects leaked, or freed behind
// a thread that allocates from it). Stop, naming it, in every build.
[[noreturn]] void unswept_span_not_claimable(const Span* span, std::uint32_t found, std::uint32_t sg) {
  std::fprintf(stderr,
               "tricolor: fatal error: invariant broken: a span on an unswept list must have sweepgen h-2, "
               "but span %p (class %u) had %u with the heap's sweepgen h = %u (a collector bug)\n",
               static_cast<const void*>(span->base), static_cast<unsigned>(span->spanclass.size_class()), found, sg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace

SpanHeap::SpanHeap(const SpanHeapOptions& options)
    : pages_(options.page_source != nullptr ? *options.page_source : os_page_source(), options.max_heap_bytes),
      on_dead_(options.on_dead),
      on_dead_context_(options.on_dead_context),
      on_specials_(options.on_specials),
      on_specials_context_(options.on_specials_context) {
  // Start at sweepgen 2 so that h-2 never wraps below zero.
  sweepgen_.store(2, std::memory_order_relaxed);
}

SpanHeap::~SpanHeap() {
  // The page heap frees every span and segment.
  for (std::atomic<Central*>& chunk : typed_centrals_) delete[] chunk.load(std::memory_order_relaxed);
}

SpanHeap::Central& SpanHeap::add_typed_centrals(std::size_t index) {
  std::lock_guard<std::mutex> guard(typed_mu_);
  // Another thread may have made the chunk since the caller looked.
  if (Central* c = find_central(index)) return *c;
  const std::size_t chunk = (index - kNumSpanClasses) / kTypedChunk;
  typed_centrals_[chunk].store(new Central[kTypedChunk], std::memory_order_release);
  const std::size_t end = kNumSpanClasses + (chunk + 1) * kTypedChunk;
  if (num_centrals_.load(std::memory_order_relaxed) < end) num_centrals_.store(end, std::memory_order_release);
  return *find_central(index);
}

Span* SpanHeap::pop(Span*& list) noexcept {
  Span* span = list;
  if (span != nullptr) {
    list = span->next;
    span->next = nullptr;
  }
  return span;
}

void SpanHeap::push(Span*& list, Span* span) noexcept {
  span->next = list;
  list = span;
}

Span* SpanHeap::grow(SpanClass sc) {
  Span* span = pages_.alloc_span(kSizeClasses[sc.size_class()].npages);
  if (!span->init_for_objects(sc, 0)) {
    pages_.free_span(span);
    throw OutOfMemory("tricolor: out of memory for span bitmaps (mimalloc returned null)");
  }
  return span;
}

Span* SpanHeap::cache_span(SpanClass sc) {
  Central* found = find_central(sc.index());
  Central& c = found != nullptr ? *found : add_typed_centrals(sc.index());
  // sweepgen cannot advance during this call: start_sweep_cycle requires
  // that no thread is inside cache_span.
  const std::uint32_t sg = sweepgen();
  Span* span = nullptr;
  {
    std::lock_guard<std::mutex> guard(c.mu);
    span = pop(c.partial[swept_index(sg)]);
  }
  for (int budget = kSpanBudget; span == nullptr && budget > 0; --budget) {
    Span* candidate;
    {
      std::lock_guard<std::mutex> guard(c.mu);
      candidate = pop(c.partial[unswept_index(sg)]);
      if (candidate == nullptr) {
        candidate = pop(c.full[unswept_index(sg)]);
      }
    }
    if (candidate == nullptr) break;
    std::uint32_t expected = sg - 2;
    // Popping gave us the span, but the CAS is what makes us its sweeper
    // (h-2 -> h-1), the one ownership rule every sweeper obeys. Sequentially
    // consistent: see sweep_span.
    if (!candidate->sweepgen.compare_exchange_strong(expected, sg - 1, std::memory_order_seq_cst)) {
      unswept_span_not_claimable(candidate, expected, sg);
    }
    sweep_span(candidate, /*preserve=*/true);
    if (candidate->alloc_count < candidate->nelems) {
      span = candidate;
    } else {
      place_swept(candidate, sg);
    }
  }
  if (span == nullptr) span = grow(sc);
  span->alloc_count_at_cache = span->alloc_count;
  // Release: a thread that later finds the span by its sweepgen sees the
  // allocation state written above.
  span->sweepgen.store(sg + 3, std::memory_order_release);
  return span;
}

void SpanHeap::place_swept(Span* span, std::uint32_t sg) noexcept {
  Central& c = central(span->spanclass.index());
  // sweepgen is stored before the span becomes visible on a list: a thread
  // that pops it and caches it (storing h+3) must not be overwritten.
  span->sweepgen.store(sg, std::memory_order_release);
  std::lock_guard<std::mutex> guard(c.mu);
  if (span->alloc_count == span->nelems) {
    push(c.full[swept_index(sg)], span);
  } else {
    push(c.partial[swept_index(sg)], span);
  }
}

void SpanHeap::uncache_span(Span* span) noexcept {
  const std::uint32_t sg = sweepgen();
  mallocs_[span->spanclass.size_class()].fetch_add(span->alloc_count - span->alloc_count_at_cache,
                                                    std::memory_order_relaxed);
  if (span->sweepgen.load(std::memory_order_relaxed) == sg + 1) {
    // Cached before this sweep cycle began: only its holder can sweep it,
    // and that is us, now. Sequentially consistent: see sweep_span.
    span->sweepgen.store(sg - 1, std::memory_order_seq_cst);
    sweep_span(span, /*preserve=*/false);
    return;
  }
  place_swept(span, sg);
}

void SpanHeap::sweep_span(Span* span, bool preserve) noexcept {
  const std::uint32_t sg = sweepgen();
  pages_swept_.fetch_add(span->npages, std::memory_order_relaxed);
  // A thread attaching the span's first special stores `specials` and then
  // loads sweepgen; we stored sweepgen (h-1, claiming the sweep) and now load
  // `specials`, all four sequentially consistent. So either we see the
  // special, or that thread sees the sweep under way and knows that it
  // will not be reported (Dekker's handshake; the collector's specials.cpp).
  if (span->specials.load(std::memory_order_seq_cst) != nullptr && on_specials_ != nullptr) {
    on_specials_(on_specials_context_, span);
  }
  const Span::SweepResult r = span->sweep(on_dead_, on_dead_context_);
  const std::uint8_t size_class = span->spanclass.size_class();
  frees_[size_class].fetch_add(r.freed, std::memory_order_relaxed);
  if (span->spanclass.large() && r.freed != 0) large_free_bytes_.fetch_add(span->bytes(), std::memory_order_relaxed);
  if (r.zombies != 0) [[unlikely]] {
    zombies_.fetch_add(r.zombies, std::memory_order_relaxed);
    // Relaxed: the collector reads it once every span is swept, and its
    // wait for the sweeps (finish_sweep) orders this store before that.
    const void* none = nullptr;
    first_zombie_.compare_exchange_strong(none, span->object_at(r.first_zombie), std::memory_order_relaxed);
  }
  if (preserve) {
    span->sweepgen.store(sg, std::memory_order_release);
  } else if (r.survivors == 0) {
    pages_.free_span(span);
  } else {
    place_swept(span, sg);
  }
}

void* SpanHeap::alloc_large(std::size_t bytes, bool noscan, bool finalize) {
  if (bytes > kMaxLargeBytes) {
    throw OutOfMemory("tricolor: a single object of " + std::to_string(bytes) +
                      " bytes was requested; the largest possible is " + std::to_string(kMaxLargeBytes) +
                      " bytes. Check the size computation of this allocation.");
  }
  const SpanClass sc(0, noscan, finalize);
  Span* span = pages_.alloc_span((bytes + kPageSize - 1) >> kPageShift);
  if (!span->init_for_objects(sc, bytes)) {
    pages_.free_span(span);
    throw OutOfMemory("tricolor: out of memory for span bitmaps (mimalloc returned null)");
  }
  void* p = span->alloc_slow();
  unpoison(p, bytes);
  mallocs_[0].fetch_add(1, std::memory_order_relaxed);
  large_alloc_bytes_.fetch_add(span->bytes(), std::memory_order_relaxed);
  // Large spans live on the full list of their class so that the sweeper
  // finds them like any other span (as Go's allocLarge does).
  place_swept(span, sweepgen());
  return p;
}

void SpanHeap::start_sweep_cycle() noexcept {
  // Release pairs with the acquire in sweepgen(): a thread that sees the new
  // generation sees the mark bits the collector set before advancing it.
  sweepgen_.fetch_add(2, std::memory_order_acq_rel);
  sweep_cursor_.store(0, std::memory_order_relaxed);
}

bool SpanHeap::sweep_one() noexcept {
  const std::uint32_t sg = sweepgen();
  const std::size_t centrals = num_centrals_.load(std::memory_order_acquire);
  for (std::size_t i = sweep_cursor_.load(std::memory_order_relaxed); i < centrals;) {
    Central* c = find_central(i);
    if (c == nullptr) {
      // No kind of this chunk is used here: nothing to sweep up to its end.
      const std::size_t next = i + kTypedChunk - (i - kNumSpanClasses) % kTypedChunk;
      sweep_cursor_.compare_exchange_strong(i, next, std::memory_order_relaxed);
      i = sweep_cursor_.load(std::memory_order_relaxed);
      continue;
    }
    Span* span;
    {
      std::lock_guard<std::mutex> guard(c->mu);
      span = pop(c->partial[unswept_index(sg)]);
      if (span == nullptr) span = pop(c->full[unswept_index(sg)]);
    }
    if (span == nullptr) {
      // Nothing is ever pushed onto an unswept set during a cycle: this
      // central is done for good, and so may the cursor be.
      sweep_cursor_.compare_exchange_strong(i, i + 1, std::memory_order_relaxed);
      i = sweep_cursor_.load(std::memory_order_relaxed);
      continue;
    }
    std::uint32_t expected = sg - 2;
    if (!span->sweepgen.compare_exchange_strong(expected, sg - 1, std::memory_order_seq_cst)) {
      unswept_span_not_claimable(span, expected, sg);
    }
    sweep_span(span, /*preserve=*/false);
    return true;
  }
  return false;
}

void SpanHeap::finish_sweep() noexcept {
  while (sweep_one()) {
  }
}

AllocStats SpanHeap::stats() const noexcept {
  AllocStats s;
  s.pages = pages_.stats();
  std::uint64_t freed_bytes = 0;
  for (std::size_t c = 0; c < kNumSizeClasses; ++c) {
    SizeClassCount& count = s.by_size[c];
    count.size = kSizeClasses[c].size;
    count.mallocs = mallocs_[c].load(std::memory_order_relaxed);
    count.frees = frees_[c].load(std::memory_order_relaxed);
    s.mallocs += count.mallocs;
    s.frees += count.frees;
    s.total_alloc_bytes += count.mallocs * count.size;
    freed_bytes += count.frees * count.size;
  }
  s.total_alloc_bytes += large_alloc_bytes_.load(std::memory_order_relaxed);
  freed_bytes += large_free_bytes_.load(std::memory_order_relaxed);
  s.heap_alloc_bytes = s.total_alloc_bytes - freed_bytes;
  s.heap_objects = s.mallocs - s.frees;
  s.zombies = zombies_.load(std::memory_order_relaxed);
  s.first_zombie = first_zombie_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace tricolor::alloc
