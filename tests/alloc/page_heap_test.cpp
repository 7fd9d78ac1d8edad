#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "tricolor/alloc/page_heap.hpp"
#include "tricolor/alloc/segment.hpp"

using namespace tricolor::alloc;

TEST_CASE("page heap: runs freed in any order coalesce back into one whole segment") {
  PageHeap pages(mimalloc_page_source(), SIZE_MAX);
  std::mt19937 rng(99);
  for (int round = 0; round < 20; ++round) {
    std::vector<Span*> spans;
    std::size_t used = 0;
    while (true) {
      const std::size_t n = 1 + rng() % 12;
      if (used + n > kSegmentUsablePages) break;
      Span* s = pages.alloc_span(n);
      REQUIRE(s->npages == n);
      REQUIRE(s->state == Span::State::kInUse);
      for (std::size_t p = 0; p < n; ++p) REQUIRE(Segment::span_of(s->base + p * kPageSize) == s);
      spans.push_back(s);
      used += n;
    }
    REQUIRE(pages.stats().segments == 1);
    // Spans never overlap.
    std::vector<Span*> sorted = spans;
    std::sort(sorted.begin(), sorted.end(), [](Span* a, Span* b) { return a->base < b->base; });
    for (std::size_t i = 1; i < sorted.size(); ++i) REQUIRE(sorted[i - 1]->limit() <= sorted[i]->base);
    std::shuffle(spans.begin(), spans.end(), rng);
    for (Span* s : spans) pages.free_span(s);
    const PageHeapStats st = pages.stats();
    REQUIRE(st.inuse_bytes == 0);
    REQUIRE(st.idle_bytes == st.sys_bytes);
    // Only a fully coalesced segment can serve a whole-segment run without growing.
    Span* whole = pages.alloc_span(kSegmentUsablePages);
    REQUIRE(pages.stats().segments == 1);
    pages.free_span(whole);
  }
}

TEST_CASE("page heap: huge runs get a segment of their own, released when freed") {
  PageHeap pages(mimalloc_page_source(), SIZE_MAX);
  Span* huge = pages.alloc_span(kSegmentUsablePages + 100);
  CHECK(pages.stats().segments == 1);
  CHECK(pages.stats().inuse_bytes == (kSegmentUsablePages + 100) * kPageSize);
  CHECK(Segment::span_of(huge->base + kSegmentSize / 2) == huge);
  pages.free_span(huge);
  CHECK(pages.stats().segments == 0);
  CHECK(pages.stats().sys_bytes == 0);
}

TEST_CASE("page heap: scavenge releases wholly free segments beyond the retained amount") {
  PageHeap pages(mimalloc_page_source(), SIZE_MAX);
  std::vector<Span*> spans;
  for (int i = 0; i < 6; ++i) spans.push_back(pages.alloc_span(kSegmentUsablePages));
  REQUIRE(pages.stats().segments == 6);
  pages.free_span(spans[0]);
  pages.free_span(spans[1]);
  pages.free_span(spans[2]);
  const std::size_t segment_bytes = kSegmentUsablePages * kPageSize;
  // Keep one idle segment's worth.
  CHECK(pages.scavenge(segment_bytes) == 2 * segment_bytes);
  CHECK(pages.stats().segments == 4);
  CHECK(pages.stats().released_bytes == 2 * segment_bytes);
  CHECK(pages.scavenge(0) == segment_bytes);
  CHECK(pages.stats().idle_bytes == 0);
  for (int i = 3; i < 6; ++i) pages.free_span(spans[i]);
}
