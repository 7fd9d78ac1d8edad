// The span heap owns every span of one managed heap: the page heap, one
// central list per span class (Go's mcentral), the sweep generation, and the
// allocation counters. Thread caches take spans from it and give them back;
// the collector drives its sweep.
//
// Central lists: each span class keeps partial and full spans in two sets,
// swept and unswept. Which of the two arrays is "swept" flips with the
// parity of sweepgen/2, so advancing sweepgen by 2 turns every swept span
// into an unswept one at once, with no list to walk (Go's mcentral).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

#include "tricolor/alloc/page_heap.hpp"
#include "tricolor/alloc/page_source.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/alloc/span_class.hpp"

namespace tricolor::alloc {

struct SpanHeapOptions {
  PageSource* page_source = nullptr;  // nullptr: os_page_source()
  std::size_t max_heap_bytes = std::numeric_limits<std::size_t>::max();
  // Called for every dead object of a finalize span class as it is swept.
  Span::DeadObjectFn on_dead = nullptr;
  void* on_dead_context = nullptr;
  // Called, with the sweep owned and before the bitmap swap, for every
  // span whose `specials` is set. It may set mark bits (an object it keeps
  // survives the sweep) and must leave `specials` null if no marked object
  // keeps one. Must not throw.
  using SpecialsFn = void (*)(void* context, Span* span) noexcept;
  SpecialsFn on_specials = nullptr;
  void* on_specials_context = nullptr;
};

struct SizeClassCount {
  std::uint32_t size = 0;  // 0 for large objects
  std::uint64_t mallocs = 0;
  std::uint64_t frees = 0;
};

// Exact when no thread cache holds a span (Mallocs of a cached span are
// counted when it is given back), as Go's MemStats are after its flush.
struct AllocStats {
  PageHeapStats pages;
  std::uint64_t total_alloc_bytes = 0;  // cumulative bytes allocated
  std::uint64_t heap_alloc_bytes = 0;   // bytes of objects allocated and not yet swept free
  std::uint64_t mallocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t heap_objects = 0;
  std::uint64_t zombies = 0;  // marked objects found unallocated by sweep: a collector bug
  // One of them, for the error message. The sweep's bitmap swap made it
  // allocated: it stays so, and its span in use, until its span's next sweep.
  const void* first_zombie = nullptr;
  std::array<SizeClassCount, kNumSizeClasses> by_size{};  // [0]: large objects
};

class SpanHeap {
 public:
  explicit SpanHeap(const SpanHeapOptions& options = {});
  ~SpanHeap();
  SpanHeap(const SpanHeap&) = delete;
  SpanHeap& operator=(const SpanHeap&) = delete;

  // ---- Thread caches (Go's mcentral.cacheSpan / uncacheSpan).
  // A swept span of class `sc` with at least one free object, marked as
  // cached (sweepgen h+3). Sweeps unswept spans of the class on the way.
  // Throws OutOfMemory when a new span is needed and none can be had.
  Span* cache_span(SpanClass sc);
  // Gives back a span that cache_span handed out; sweeps it first if a sweep
  // cycle started while it was cached.
  void uncache_span(Span* span) noexcept;
  // An object of more than kMaxSmallSize bytes in a span of its own, zeroed.
  void* alloc_large(std::size_t bytes, bool noscan, bool finalize);

  // ---- Sweeping (driven by the collector).
  std::uint32_t sweepgen() const noexcept { return sweepgen_.load(std::memory_order_acquire); }
  // Go's gcSweep: every in-use span becomes unswept. Requires that the
  // previous cycle's sweep is finished and that no thread is inside
  // cache_span/uncache_span (the world is stopped).
  void start_sweep_cycle() noexcept;
  // Sweeps one unswept span from the central lists; false when none is left.
  bool sweep_one() noexcept;
  // Sweeps until no unswept span is left in the central lists.
  void finish_sweep() noexcept;
  // Pages swept since the heap was made, by anyone (for proportional sweep).
  std::uint64_t pages_swept() const noexcept { return pages_swept_.load(std::memory_order_relaxed); }

  // Hands wholly free segments back to the page source while more than
  // `retain_bytes` of free pages remain. Returns the bytes released.
  std::size_t scavenge(std::size_t retain_bytes) noexcept { return pages_.scavenge(retain_bytes); }

  AllocStats stats() const noexcept;

  // Whether `p`, a pointer to an object of some heap, points into this one.
  bool owns(const void* p) const noexcept { return Segment::of(p)->owner == &pages_; }
  // What this heap's segments name as their owner (Segment::owner).
  const void* owner_token() const noexcept { return &pages_; }
  // This heap's segments, sorted (PageHeap::segments).
  std::vector<const Segment*> segments() const { return pages_.segments(); }

 private:
  struct alignas(64) Central {
    std::mutex mu;
    Span* partial[2] = {nullptr, nullptr};  // indexed by sweepgen parity
    Span* full[2] = {nullptr, nullptr};
  };
  static std::size_t swept_index(std::uint32_t sg) noexcept { return (sg >> 1) & 1; }
  static std::size_t unswept_index(std::uint32_t sg) noexcept { return 1 - swept_index(sg); }
  static Span* pop(Span*& list) noexcept;
  static void push(Span*& list, Span* span) noexcept;
  // The central of the class with this index. The untyped classes' are an
  // array; the typed classes' come in chunks made as kinds are first used
  // here, and are never moved or freed while the heap lives, since a
  // sweeper walks them while other threads add more. A chunk no kind in
  // use here falls in is missing, below the last one too: nullptr then.
  Central* find_central(std::size_t index) noexcept {
    if (index < kNumSpanClasses) return &central_[index];
    const std::size_t typed = index - kNumSpanClasses;
    Central* chunk = typed_centrals_[typed / kTypedChunk].load(std::memory_order_acquire);
    return chunk != nullptr ? chunk + typed % kTypedChunk : nullptr;
  }
  // The central of a class this heap has cached spans of.
  Central& central(std::size_t index) noexcept { return *find_central(index); }
  // Makes the chunk that holds the central of typed class `index`.
  Central& add_typed_centrals(std::size_t index);

  Span* grow(SpanClass sc);
  // Sweeps a span whose sweep this thread owns (sweepgen h-1). With
  // `preserve`, the caller keeps the span; otherwise it goes back to the
  // central lists or, if empty, to the page heap.
  void sweep_span(Span* span, bool preserve) noexcept;
  void place_swept(Span* span, std::uint32_t sg) noexcept;

  PageHeap pages_;
  const Span::DeadObjectFn on_dead_;
  void* const on_dead_context_;
  const SpanHeapOptions::SpecialsFn on_specials_;
  void* const on_specials_context_;
  std::atomic<std::uint32_t> sweepgen_{0};
  // The first central that may still hold unswept spans. Unswept sets only
  // shrink during a cycle, so the cursor only moves forward (Go's
  // sweep.centralIndex).
  std::atomic<std::size_t> sweep_cursor_{0};
  std::array<Central, kNumSpanClasses> central_;
  static constexpr std::size_t kTypedChunk = 256;
  std::mutex typed_mu_;  // serialises adding chunks
  std::array<std::atomic<Central*>, (kMaxKinds + kTypedChunk - 1) / kTypedChunk> typed_centrals_{};
  // Classes whose central exists: the sweep walks indices below it. Release
  // and acquire: a sweeper that sees the count sees the chunk's pointer.
  std::atomic<std::size_t> num_centrals_{kNumSpanClasses};

  // Counters. Relaxed: each is a statistic with no ordering role; readers
  // that need exact figures stop the allocating threads first.
  std::array<std::atomic<std::uint64_t>, kNumSizeClasses> mallocs_{};
  std::array<std::atomic<std::uint64_t>, kNumSizeClasses> frees_{};
  std::atomic<std::uint64_t> large_alloc_bytes_{0};
  std::atomic<std::uint64_t> large_free_bytes_{0};
  std::atomic<std::uint64_t> zombies_{0};
  std::atomic<const void*> first_zombie_{nullptr};
  std::atomic<std::uint64_t> pages_swept_{0};
};

}  // namespace tricolor::alloc
