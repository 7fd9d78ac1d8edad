// Allocation statistics against counts computed independently from the
// class table (by search, not by size_to_class).
#include <catch2/catch.hpp>

#include <array>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

TEST_CASE("accounting: mallocs, frees and bytes per size class are exact once caches are released") {
  SpanHeap heap;
  std::mt19937_64 rng(4);
  std::array<std::uint64_t, kNumSizeClasses> mallocs{}, frees{};
  std::uint64_t total_bytes = 0, live_bytes = 0;
  struct Obj {
    void* p;
    std::uint8_t cls;
    std::uint64_t bytes;
  };
  std::vector<Obj> objs;
  {
    // Two caches on one heap, used alternately.
    ThreadCache a(heap), b(heap);
    const std::size_t n = t::scaled(60000, 20000);
    for (std::size_t i = 0; i < n; ++i) {
      ThreadCache& cache = (i % 3 == 0) ? b : a;
      std::size_t size;
      switch (rng() % 8) {
        case 0: size = rng() % (kMaxSmallSize + 1); break;
        case 1: size = kMaxSmallSize + 1 + rng() % 100000; break;  // large
        default: size = rng() % 512; break;
      }
      if (size > kMaxSmallSize && rng() % 16 != 0) size = rng() % 512;  // keep large ones rare
      void* p = cache.alloc(size, rng() % 2 == 0, rng() % 2 == 0);
      if (size > kMaxSmallSize) {
        ++mallocs[0];
        objs.push_back({p, 0, t::round_up(size, kPageSize)});
      } else {
        const std::uint8_t c = t::class_by_search(size == 0 ? 1 : size);
        ++mallocs[c];
        objs.push_back({p, c, kSizeClasses[c].size});
      }
      total_bytes += objs.back().bytes;
    }
  }  // both caches released
  AllocStats s = heap.stats();
  std::uint64_t total_mallocs = 0;
  for (std::size_t c = 0; c < kNumSizeClasses; ++c) {
    INFO("class " << c);
    CHECK(s.by_size[c].size == kSizeClasses[c].size);
    CHECK(s.by_size[c].mallocs == mallocs[c]);
    CHECK(s.by_size[c].frees == 0);
    total_mallocs += mallocs[c];
  }
  CHECK(s.mallocs == total_mallocs);
  CHECK(s.frees == 0);
  CHECK(s.heap_objects == total_mallocs);
  CHECK(s.total_alloc_bytes == total_bytes);
  CHECK(s.heap_alloc_bytes == total_bytes);
  CHECK(s.pages.inuse_bytes >= s.heap_alloc_bytes);
  CHECK(s.pages.inuse_bytes + s.pages.idle_bytes == s.pages.sys_bytes);

  // Keep every third object; the rest are freed, class by class.
  for (std::size_t i = 0; i < objs.size(); ++i) {
    if (i % 3 == 0) {
      REQUIRE(t::mark(objs[i].p));
      live_bytes += objs[i].bytes;
    } else {
      ++frees[objs[i].cls];
    }
  }
  t::sweep_all(heap);
  s = heap.stats();
  std::uint64_t total_frees = 0;
  for (std::size_t c = 0; c < kNumSizeClasses; ++c) {
    INFO("class " << c);
    CHECK(s.by_size[c].mallocs == mallocs[c]);
    CHECK(s.by_size[c].frees == frees[c]);
    total_frees += frees[c];
  }
  CHECK(s.frees == total_frees);
  CHECK(s.heap_objects == total_mallocs - total_frees);
  CHECK(s.total_alloc_bytes == total_bytes);
  CHECK(s.heap_alloc_bytes == live_bytes);
  CHECK(s.zombies == 0);
}

TEST_CASE("accounting: a cached span's allocations are counted when the cache gives it back") {
  SpanHeap heap;
  ThreadCache cache(heap);
  const SpanClass sc(size_to_class(48), false, false);
  for (int i = 0; i < 5; ++i) cache.alloc(sc);
  // The span is still cached: nothing is counted yet (as Go's MemStats
  // before the flush).
  CHECK(heap.stats().by_size[sc.size_class()].mallocs == 0);
  cache.release_all();
  CHECK(heap.stats().by_size[sc.size_class()].mallocs == 5);
  // Caching the same span again counts only the new objects.
  for (int i = 0; i < 7; ++i) cache.alloc(sc);
  cache.release_all();
  const AllocStats s = heap.stats();
  CHECK(s.by_size[sc.size_class()].mallocs == 12);
  CHECK(s.total_alloc_bytes == 12 * kSizeClasses[sc.size_class()].size);
}
