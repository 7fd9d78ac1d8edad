// Objects of more than 32 KiB: a span each, a segment of their own when
// they do not fit one (more than kSegmentUsablePages pages).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "test_util.hpp"
#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

constexpr std::size_t kSegmentUsableBytes = kSegmentUsablePages * kPageSize;

bool is_huge(std::size_t bytes) { return t::round_up(bytes, kPageSize) / kPageSize > kSegmentUsablePages; }

}  // namespace

TEST_CASE("large objects: own span, zeroed, found from interior bytes, counted, freed unless marked") {
  // Just over the small limit, odd sizes, the largest that fits a normal
  // segment, and three that need a huge segment (exactly 4 MiB is one page
  // too many: page 0 of every segment is its header).
  const std::size_t sizes[] = {kMaxSmallSize + 1, 40000,           100000,          (1 << 20) + 3,
                               kSegmentUsableBytes, kSegmentSize, (5 << 20) + 123, 9 << 20};
  const bool keep[] = {false, true, false, true, false, true, false, true};
  SpanHeap heap;
  ThreadCache cache(heap);
  std::vector<char*> objs;
  std::uint64_t expected_bytes = 0;
  std::size_t huge = 0;
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    const std::size_t size = sizes[i];
    INFO("size " << size);
    const bool noscan = i % 2 == 0, finalize = i % 3 == 0;
    auto* p = static_cast<char*>(cache.alloc(size, noscan, finalize));
    REQUIRE(p != nullptr);
    CHECK(t::all_zero(p, size));
    CHECK(reinterpret_cast<std::uintptr_t>(p) % kPageSize == 0);
    Span* span = Segment::span_of(p);
    REQUIRE(span != nullptr);
    CHECK(span->state == Span::State::kInUse);
    CHECK(span->spanclass == SpanClass(0, noscan, finalize));
    CHECK(span->spanclass.large());
    CHECK(span->base == p);
    CHECK(span->npages == t::round_up(size, kPageSize) / kPageSize);
    CHECK(span->nelems == 1);
    CHECK(span->object_index(p) == 0);
    CHECK(span->object_at(0) == p);
    CHECK(span->is_allocated(0));
    CHECK(heap.owns(p));
    // Interior bytes: the last byte, or for a huge object the last byte of
    // its segment's first 4 MiB (the part the page map covers).
    Segment* seg = Segment::of(p);
    CHECK(seg->huge == is_huge(size));
    const std::size_t reach = is_huge(size) ? kSegmentSize - kPageSize : size;
    for (std::size_t off : {std::size_t{1}, reach / 2, reach - 1}) {
      CHECK(Segment::span_of(p + off) == span);
      CHECK(span->object_index(p + off) == 0);
    }
    if (is_huge(size)) {
      CHECK(p == reinterpret_cast<char*>(seg) + kSegmentHeaderPages * kPageSize);
      ++huge;
    }
    t::fill(p, size, t::nonzero_tag(i));
    objs.push_back(p);
    expected_bytes += t::round_up(size, kPageSize);
  }
  AllocStats s = heap.stats();
  CHECK(s.by_size[0].mallocs == std::size(sizes));
  CHECK(s.by_size[0].size == 0);
  CHECK(s.mallocs == std::size(sizes));
  CHECK(s.total_alloc_bytes == expected_bytes);
  CHECK(s.heap_alloc_bytes == expected_bytes);
  CHECK(s.pages.inuse_bytes == expected_bytes);
  CHECK(s.pages.inuse_bytes + s.pages.idle_bytes == s.pages.sys_bytes);
  const std::uint64_t segments_before = s.pages.segments;

  std::size_t kept = 0, dead_huge = 0;
  std::uint64_t kept_bytes = 0;
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    if (keep[i]) {
      REQUIRE(t::mark(objs[i] + sizes[i] / 2 % (kSegmentSize - kPageSize)));  // an interior pointer marks it too
      ++kept;
      kept_bytes += t::round_up(sizes[i], kPageSize);
    } else if (is_huge(sizes[i])) {
      ++dead_huge;
    }
  }
  cache.release_all();
  t::sweep_all(heap);
  s = heap.stats();
  CHECK(s.by_size[0].frees == std::size(sizes) - kept);
  CHECK(s.heap_objects == kept);
  CHECK(s.heap_alloc_bytes == kept_bytes);
  CHECK(s.pages.inuse_bytes == kept_bytes);
  CHECK(s.zombies == 0);
  // A dead huge object's segment goes straight back to the page source.
  CHECK(s.pages.segments == segments_before - dead_huge);
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    if (keep[i]) {
      INFO("survivor of size " << sizes[i]);
      CHECK(t::holds(objs[i], sizes[i], t::nonzero_tag(i)));
    }
  }
  // Nothing marked now: the rest dies, and every page is free again.
  t::sweep_all(heap);
  s = heap.stats();
  CHECK(s.by_size[0].frees == std::size(sizes));
  CHECK(s.heap_objects == 0);
  CHECK(s.heap_alloc_bytes == 0);
  CHECK(s.pages.inuse_bytes == 0);
  CHECK(s.pages.segments == segments_before - huge);
}

TEST_CASE("large objects: a reused span is zeroed up to the requested size") {
  for (std::size_t size : {std::size_t{kMaxSmallSize + 8}, std::size_t{300000}, kSegmentUsableBytes}) {
    INFO("size " << size);
    SpanHeap heap;
    ThreadCache cache(heap);
    auto* p = static_cast<char*>(cache.alloc(size, true, false));
    std::memset(p, 0xEE, size);
    t::sweep_all(heap);  // unmarked: dies; its pages coalesce back into one free run
    REQUIRE(heap.stats().pages.inuse_bytes == 0);
    // The page heap cuts a run from its head: the same pages come back.
    auto* q = static_cast<char*>(cache.alloc(size, true, false));
    REQUIRE(q == p);
    CHECK(t::all_zero(q, size));
  }
  // A huge object's segment goes back to the source when it dies; the one
  // the next takes is zero.
  SpanHeap heap;
  ThreadCache cache(heap);
  const std::size_t size = (6 << 20) + 5;
  auto* p = static_cast<char*>(cache.alloc(size, false, false));
  std::memset(p, 0xEE, size);
  t::sweep_all(heap);
  auto* q = static_cast<char*>(cache.alloc(size, false, false));
  CHECK(t::all_zero(q, size));
}

TEST_CASE("large objects: zeroed when the page source hands out dirty memory") {
  t::TestPageSource source;
  source.dirty = true;
  SpanHeapOptions options;
  options.page_source = &source;
  SpanHeap heap(options);
  ThreadCache cache(heap);
  for (std::size_t size : {std::size_t{kMaxSmallSize + 8}, std::size_t{300000}, kSegmentUsableBytes,
                           std::size_t{(6 << 20) + 5}}) {
    INFO("size " << size);
    CHECK(t::all_zero(cache.alloc(size, false, false), size));
  }
}

TEST_CASE("large objects: on fresh pages, the pages the program never writes are never made resident") {
  // A big array of which the program writes only the start (GCBench's
  // array of doubles): clearing it would make every page resident.
  SpanHeap heap;
  ThreadCache cache(heap);
  for (std::size_t size : {kSegmentUsableBytes, std::size_t{64} << 20}) {
    INFO("size " << size);
    auto* p = static_cast<char*>(cache.alloc(size, false, false));
    p[0] = 1;
    const std::size_t os_page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t first = t::round_up(reinterpret_cast<std::uintptr_t>(p), os_page) + os_page;
    const std::size_t n = (reinterpret_cast<std::uintptr_t>(p) + size - first) / os_page;
    std::vector<unsigned char> resident(n);
    REQUIRE(mincore(reinterpret_cast<void*>(first), n * os_page, resident.data()) == 0);
    const auto touched = std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return (r & 1) != 0; });
    // Clearing would touch all of them; with transparent huge pages on, the
    // kernel may back the written page's 2 MiB region at once.
    CHECK(static_cast<std::size_t>(touched) * os_page <= size / 2);
    CHECK(t::all_zero(p + 1, size - 1));
  }
}

TEST_CASE("large objects: an impossible size is refused with a message that says so") {
  SpanHeap heap;
  ThreadCache cache(heap);
  CHECK_THROWS_AS(cache.alloc(SIZE_MAX / 2, true, false), tricolor::OutOfMemory);
  CHECK_THROWS_WITH(cache.alloc(SIZE_MAX - 100, true, false), Catch::Contains(std::to_string(SIZE_MAX - 100)));
  const AllocStats s = heap.stats();
  CHECK(s.pages.sys_bytes == 0);
  CHECK(s.mallocs == 0);
}
