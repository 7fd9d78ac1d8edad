// Running out of memory: a page source that fails, and the heap's byte
// limit. Both raise tricolor::OutOfMemory (a std::bad_alloc) with a message
// that names the size or the limit, and leave the heap usable.
#include <catch2/catch.hpp>

#include <new>
#include <string>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

constexpr std::size_t kSegmentUsableBytes = kSegmentUsablePages * kPageSize;

std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

bool same_pages(const PageHeapStats& a, const PageHeapStats& b) {
  return a.sys_bytes == b.sys_bytes && a.inuse_bytes == b.inuse_bytes && a.idle_bytes == b.idle_bytes &&
         a.released_bytes == b.released_bytes && a.segments == b.segments;
}

}  // namespace

TEST_CASE("out of memory: a failing page source raises OutOfMemory, and the same cache works once it recovers") {
  t::TestPageSource source;
  SpanHeapOptions options;
  options.page_source = &source;
  SpanHeap heap(options);
  ThreadCache cache(heap);

  // Nothing held yet: the first allocation needs a segment.
  source.fail = true;
  try {
    cache.alloc(64, true, false);
    FAIL("no exception");
  } catch (const tricolor::OutOfMemory& e) {
    // The message names the amount that could not be had: one segment.
    CHECK_THAT(e.what(), Catch::Contains(mib(kSegmentSize)));
  }
  CHECK_THROWS_AS(cache.alloc(64, true, false), std::bad_alloc);
  CHECK(source.failed_requests == 2);
  AllocStats s = heap.stats();
  CHECK(s.pages.sys_bytes == 0);
  CHECK(s.pages.segments == 0);

  // With the source back, the same cache allocates.
  source.fail = false;
  const SpanClass sc(size_to_class(27000), true, false);  // 10-page spans of 3 objects
  const SizeClass& info = kSizeClasses[sc.size_class()];
  REQUIRE(info.npages > 1);
  std::vector<void*> objs;
  objs.push_back(cache.alloc(sc));
  CHECK(t::all_zero(objs.back(), info.size));
  CHECK(heap.stats().pages.segments == 1);

  // Fail again with one segment held: the cache fills exactly as many
  // spans as fit the segment, then throws.
  source.fail = true;
  const std::size_t fits = kSegmentUsablePages / info.npages * info.objects;
  std::string message;
  try {
    while (true) objs.push_back(cache.alloc(sc));
  } catch (const tricolor::OutOfMemory& e) {
    message = e.what();
  }
  CHECK(objs.size() == fits);
  CHECK_THAT(message, Catch::Contains(mib(kSegmentSize)));
  const AllocStats at_failure = heap.stats();
  // A large object needs pages the segment no longer has: the message
  // names its own segment's size.
  const std::size_t big = 10 << 20;
  try {
    cache.alloc(big, true, false);
    FAIL("no exception");
  } catch (const std::bad_alloc& e) {
    CHECK_THAT(e.what(), Catch::Contains(mib((kSegmentHeaderPages + big / kPageSize) * kPageSize)));
  }
  CHECK(same_pages(heap.stats().pages, at_failure.pages));

  // Recovery: the same cache goes on; the figures add up.
  source.fail = false;
  for (int i = 0; i < 10; ++i) {
    objs.push_back(cache.alloc(sc));
    CHECK(t::all_zero(objs.back(), info.size));
  }
  void* large = cache.alloc(big, true, false);
  CHECK(t::all_zero(large, big));
  cache.release_all();
  s = heap.stats();
  CHECK(s.by_size[sc.size_class()].mallocs == objs.size());
  CHECK(s.by_size[0].mallocs == 1);
  CHECK(s.mallocs == objs.size() + 1);
  CHECK(s.total_alloc_bytes == objs.size() * info.size + big);
  CHECK(s.pages.inuse_bytes + s.pages.idle_bytes == s.pages.sys_bytes);
  CHECK(s.pages.segments == 3);  // the first, one more for the small spans, the huge one
  CHECK(source.acquired_blocks == 3);
  for (void* p : objs) REQUIRE(t::mark(p));
  t::sweep_all(heap);
  s = heap.stats();
  CHECK(s.heap_objects == objs.size());
  CHECK(s.frees == 1);
  CHECK(s.zombies == 0);
}

TEST_CASE("out of memory: max_heap_bytes caps the heap, names the limit, and the heap recovers after a sweep") {
  SpanHeapOptions options;
  options.max_heap_bytes = std::size_t{16} << 20;
  SpanHeap heap(options);
  ThreadCache cache(heap);
  // 1000-byte requests: the 1024-byte class, 8 objects in a 1-page span.
  const SpanClass sc(size_to_class(1000), true, false);
  const SizeClass& info = kSizeClasses[sc.size_class()];
  REQUIRE(info.size == 1024);
  // Whole segments only: as many as fit under the limit.
  const std::size_t segments = options.max_heap_bytes / kSegmentUsableBytes;
  const std::size_t fits = segments * (kSegmentUsablePages / info.npages) * info.objects;
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    std::size_t count = 0;
    std::string message;
    try {
      while (true) {
        cache.alloc(1000, true, false);
        ++count;
      }
    } catch (const tricolor::OutOfMemory& e) {
      message = e.what();
    }
    CHECK(count == fits);
    CHECK_THAT(message, Catch::Contains("limit is 16 MiB"));
    AllocStats s = heap.stats();
    CHECK(s.pages.sys_bytes <= options.max_heap_bytes);
    CHECK(s.pages.segments == segments);
    // A large object over the limit is refused the same way.
    CHECK_THROWS_WITH(cache.alloc(std::size_t{20} << 20, true, false), Catch::Contains("limit is 16 MiB"));
    // Everything dies; the same heap and cache serve again from the same
    // segments (checked by the next round's count).
    cache.release_all();
    s = heap.stats();
    CHECK(s.heap_objects == fits);
    t::sweep_all(heap);
    s = heap.stats();
    CHECK(s.heap_objects == 0);
    CHECK(s.pages.inuse_bytes == 0);
    CHECK(s.pages.segments == segments);
  }
  void* p = cache.alloc(1000, true, false);
  CHECK(t::all_zero(p, 1000));
}
