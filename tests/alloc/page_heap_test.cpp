// The page heap on its own: splitting, coalescing, huge segments,
// scavenging, failure handling, and its figures against what the page
// source actually handed over.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/page_heap.hpp"
#include "tricolor/alloc/segment.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

constexpr std::size_t kSegmentUsableBytes = kSegmentUsablePages * kPageSize;

bool consistent(const PageHeapStats& s) { return s.inuse_bytes + s.idle_bytes == s.sys_bytes; }

// Every page of an in-use span maps to it, it lies in its segment's usable
// pages, and no two spans overlap.
void check_spans(std::vector<Span*> spans) {
  std::sort(spans.begin(), spans.end(), [](Span* a, Span* b) { return a->base < b->base; });
  for (std::size_t i = 0; i < spans.size(); ++i) {
    Span* s = spans[i];
    REQUIRE(s->state == Span::State::kInUse);
    REQUIRE(Segment::page_of(s->base) >= kSegmentHeaderPages);
    REQUIRE(Segment::of(s->limit() - 1) == Segment::of(s->base));
    for (std::size_t p = 0; p < s->npages; ++p) REQUIRE(Segment::span_of(s->base + p * kPageSize) == s);
    if (i > 0) REQUIRE(spans[i - 1]->limit() <= s->base);
  }
}

}  // namespace

TEST_CASE("page heap: spans freed in any order coalesce into whole free segments") {
  t::TestPageSource source;
  PageHeap pages(source, SIZE_MAX);
  std::mt19937_64 rng(99);
  const std::size_t rounds = t::scaled(40, 15);
  for (std::size_t round = 0; round < rounds; ++round) {
    INFO("round " << round);
    // Fill 1-3 segments with spans of random lengths (mostly short, a few
    // up to a whole segment), free them all in random order.
    const std::size_t target_segments = 1 + round % 3;
    std::vector<Span*> spans;
    REQUIRE(pages.stats().segments == 0);
    while (true) {
      const std::size_t n = rng() % 8 == 0 ? 1 + rng() % kSegmentUsablePages : 1 + rng() % 16;
      Span* s = pages.alloc_span(n);
      REQUIRE(s->npages == n);
      if (pages.stats().segments > target_segments) {
        pages.free_span(s);  // leaves one wholly free segment besides the others
        break;
      }
      spans.push_back(s);
    }
    check_spans(spans);
    const PageHeapStats full = pages.stats();
    REQUIRE(consistent(full));
    std::uint64_t span_bytes = 0;
    for (Span* s : spans) span_bytes += s->bytes();
    REQUIRE(full.inuse_bytes == span_bytes);
    REQUIRE(full.segments >= 1);
    std::shuffle(spans.begin(), spans.end(), rng);
    for (std::size_t i = 0; i < spans.size(); ++i) {
      pages.free_span(spans[i]);
      if (i % 7 == 0) REQUIRE(consistent(pages.stats()));
    }
    const PageHeapStats st = pages.stats();
    REQUIRE(st.inuse_bytes == 0);
    REQUIRE(st.idle_bytes == st.sys_bytes);
    REQUIRE(st.sys_bytes == st.segments * kSegmentUsableBytes);
    // Only fully coalesced segments can each serve a whole-segment run
    // without growing the heap.
    std::vector<Span*> wholes;
    for (std::uint64_t k = 0; k < st.segments; ++k) {
      Span* whole = pages.alloc_span(kSegmentUsablePages);
      REQUIRE(whole->base == Segment::of(whole->base)->page_address(kSegmentHeaderPages));
      wholes.push_back(whole);
    }
    REQUIRE(pages.stats().segments == st.segments);
    REQUIRE(pages.stats().idle_bytes == 0);
    check_spans(wholes);
    for (Span* w : wholes) pages.free_span(w);
    REQUIRE(pages.stats().idle_bytes == pages.stats().sys_bytes);
    REQUIRE(pages.scavenge(0) == st.segments * kSegmentUsableBytes);
    REQUIRE(pages.stats().segments == 0);
    REQUIRE(pages.stats().sys_bytes == 0);
  }
  // The figures agree with what the source handed over.
  const PageHeapStats st = pages.stats();
  CHECK(source.acquired_blocks - source.released_blocks == st.segments);
  CHECK(source.acquired_bytes - source.released_bytes == st.segments * kSegmentSize);
  CHECK(source.last_request_alignment == kSegmentSize);
}

TEST_CASE("page heap: partial frees coalesce with both neighbours") {
  PageHeap pages(os_page_source(), SIZE_MAX);
  // Three adjacent spans, A B C, then the rest of the segment as D.
  Span* a = pages.alloc_span(10);
  Span* b = pages.alloc_span(20);
  Span* c = pages.alloc_span(30);
  Span* d = pages.alloc_span(kSegmentUsablePages - 60);
  REQUIRE(b->base == a->limit());
  REQUIRE(c->base == b->limit());
  REQUIRE(d->base == c->limit());
  char* const a_base = a->base;
  pages.free_span(a);
  pages.free_span(c);
  // B's neighbours are free runs of 10 and 30 pages: freeing B must merge
  // all three into one run of 60 pages at A's address.
  pages.free_span(b);
  Span* merged = pages.alloc_span(60);
  CHECK(merged->base == a_base);
  CHECK(pages.stats().segments == 1);
  CHECK(pages.stats().idle_bytes == 0);
  pages.free_span(merged);
  pages.free_span(d);
  Span* whole = pages.alloc_span(kSegmentUsablePages);
  CHECK(whole->base == a_base);
  CHECK(pages.stats().segments == 1);
  pages.free_span(whole);
}

TEST_CASE("page heap: a run that does not fit a segment gets a huge segment, released when freed") {
  t::TestPageSource source;
  PageHeap pages(source, SIZE_MAX);
  const std::size_t n = kSegmentUsablePages + 100;
  Span* huge = pages.alloc_span(n);
  CHECK(huge->npages == n);
  CHECK(Segment::of(huge->base)->huge);
  CHECK(source.last_request_bytes == (kSegmentHeaderPages + n) * kPageSize);
  CHECK(source.last_request_alignment == kSegmentSize);
  PageHeapStats s = pages.stats();
  CHECK(s.segments == 1);
  CHECK(s.inuse_bytes == n * kPageSize);
  CHECK(s.idle_bytes == 0);
  CHECK(s.sys_bytes == n * kPageSize);
  // The page map covers the segment's first 4 MiB.
  CHECK(Segment::span_of(huge->base) == huge);
  CHECK(Segment::span_of(huge->base + kSegmentSize / 2) == huge);
  CHECK(Segment::span_of(reinterpret_cast<char*>(Segment::of(huge->base)) + kSegmentSize - 1) == huge);
  // A normal span never lands in a huge segment.
  Span* small = pages.alloc_span(3);
  CHECK_FALSE(Segment::of(small->base)->huge);
  CHECK(pages.stats().segments == 2);
  pages.free_span(huge);
  s = pages.stats();
  CHECK(s.segments == 1);
  CHECK(s.sys_bytes == kSegmentUsableBytes);
  CHECK(s.released_bytes == n * kPageSize);
  CHECK(source.released_blocks == 1);
  CHECK(source.released_bytes == (kSegmentHeaderPages + n) * kPageSize);
  pages.free_span(small);
}

TEST_CASE("page heap: scavenge releases wholly free segments until the retained amount is left") {
  t::TestPageSource source;
  PageHeap pages(source, SIZE_MAX);
  std::vector<Span*> spans;
  for (int i = 0; i < 6; ++i) spans.push_back(pages.alloc_span(kSegmentUsablePages));
  REQUIRE(pages.stats().segments == 6);
  // Three segments become wholly free, a fourth only partly.
  pages.free_span(spans[0]);
  pages.free_span(spans[1]);
  pages.free_span(spans[2]);
  Span* part = pages.alloc_span(1);  // reuses one of the free segments: two stay wholly free
  REQUIRE(pages.stats().segments == 6);
  CHECK(pages.scavenge(SIZE_MAX) == 0);
  // Idle: two wholly free segments and 510 pages of the third. Retaining
  // two segments' worth releases one (leaving 1021 idle pages <= 1022).
  CHECK(pages.scavenge(2 * kSegmentUsableBytes) == kSegmentUsableBytes);
  PageHeapStats s = pages.stats();
  CHECK(s.segments == 5);
  CHECK(s.released_bytes == kSegmentUsableBytes);
  CHECK(source.released_blocks == 1);
  CHECK(source.released_bytes == kSegmentSize);
  // Nothing retained: the other wholly free one goes; the partly used one
  // stays whatever its idle pages.
  CHECK(pages.scavenge(0) == kSegmentUsableBytes);
  s = pages.stats();
  CHECK(s.segments == 4);
  CHECK(s.idle_bytes == kSegmentUsableBytes - kPageSize);
  CHECK(pages.scavenge(0) == 0);
  CHECK(consistent(s));
  pages.free_span(part);
  for (int i = 3; i < 6; ++i) pages.free_span(spans[i]);
  CHECK(pages.scavenge(0) == 4 * kSegmentUsableBytes);
  s = pages.stats();
  CHECK(s.sys_bytes == 0);
  CHECK(s.segments == 0);
  CHECK(s.released_bytes == 6 * kSegmentUsableBytes);
  CHECK(source.acquired_blocks == source.released_blocks);
}

TEST_CASE("page heap: a failing source or the byte limit throws OutOfMemory and changes nothing") {
  t::TestPageSource source;
  PageHeap pages(source, 2 * kSegmentUsableBytes + kPageSize);
  Span* first = pages.alloc_span(kSegmentUsablePages - 1);
  const PageHeapStats before = pages.stats();
  source.fail = true;
  // The last free page of the segment is still there without the source.
  Span* last = pages.alloc_span(1);
  CHECK(Segment::of(last->base) == Segment::of(first->base));
  pages.free_span(last);
  CHECK(pages.stats().idle_bytes == before.idle_bytes);
  try {
    pages.alloc_span(2);
    FAIL("no exception");
  } catch (const tricolor::OutOfMemory& e) {
    CHECK_THAT(e.what(), Catch::Contains(std::to_string(kSegmentSize >> 20) + " MiB"));
  }
  CHECK_THROWS_AS(pages.alloc_span(kSegmentUsablePages + 1), std::bad_alloc);
  PageHeapStats after = pages.stats();
  CHECK(after.sys_bytes == before.sys_bytes);
  CHECK(after.inuse_bytes == before.inuse_bytes);
  CHECK(after.idle_bytes == before.idle_bytes);
  CHECK(after.segments == before.segments);
  source.fail = false;
  Span* second = pages.alloc_span(kSegmentUsablePages);  // a second segment, within the limit
  CHECK(pages.stats().segments == 2);
  // A third would pass the limit (two segments and a page): refused
  // before the source is asked.
  const std::uint64_t failed = source.failed_requests;
  const std::uint64_t acquired = source.acquired_blocks;
  CHECK_THROWS_WITH(pages.alloc_span(10), Catch::Contains("limit"));
  CHECK(source.failed_requests == failed);
  CHECK(source.acquired_blocks == acquired);
  after = pages.stats();
  CHECK(after.segments == 2);
  CHECK(consistent(after));
  pages.free_span(first);
  pages.free_span(second);
  // Freed space is usable again without growing.
  Span* again = pages.alloc_span(kSegmentUsablePages);
  CHECK(pages.stats().segments == 2);
  pages.free_span(again);
}

TEST_CASE("page heap: a span needs zeroing exactly when its pages were used before or the source dirties") {
  PageHeap pages(os_page_source(), SIZE_MAX);
  REQUIRE(os_page_source().acquires_zeroed());
  Span* a = pages.alloc_span(10);
  Span* b = pages.alloc_span(20);
  CHECK_FALSE(a->needzero);
  CHECK_FALSE(b->needzero);
  char* const a_base = a->base;
  pages.free_span(a);
  // The run is cut from the head of the lowest free run: A's pages again.
  Span* again = pages.alloc_span(10);
  REQUIRE(again->base == a_base);
  CHECK(again->needzero);
  // Partly over used pages (B's, once freed) and partly over fresh ones.
  pages.free_span(b);
  Span* wide = pages.alloc_span(40);
  REQUIRE(wide->base == again->limit());
  CHECK(wide->needzero);
  // Past every page used so far: fresh.
  Span* beyond = pages.alloc_span(5);
  CHECK_FALSE(beyond->needzero);
  // A huge segment is fresh from the source.
  Span* huge = pages.alloc_span(kSegmentUsablePages + 1);
  CHECK_FALSE(huge->needzero);
  for (Span* s : {again, wide, beyond, huge}) pages.free_span(s);

  t::TestPageSource dirty;
  dirty.dirty = true;
  PageHeap dirty_pages(dirty, SIZE_MAX);
  Span* d = dirty_pages.alloc_span(3);
  Span* h = dirty_pages.alloc_span(kSegmentUsablePages + 1);
  CHECK(d->needzero);
  CHECK(h->needzero);
  dirty_pages.free_span(d);
  dirty_pages.free_span(h);
}
