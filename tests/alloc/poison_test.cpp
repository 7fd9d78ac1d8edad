// AddressSanitizer builds: memory the heap holds but no live object owns is
// poisoned (free cells, free pages, a large object's tail past its size),
// live and freshly allocated objects are not, and memory handed back to the
// page source is unpoisoned. Compiled only when poison.hpp enables
// poisoning.
#include <catch2/catch.hpp>

#include "test_util.hpp"

#if defined(TRICOLOR_ASAN)

#include <sanitizer/asan_interface.h>

#include <random>
#include <vector>

#include "tricolor/alloc/page_heap.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

bool wholly_poisoned(const void* p, std::size_t n) {
  auto* c = static_cast<const char*>(p);
  for (std::size_t i = 0; i < n; i += 8) {
    if (!__asan_address_is_poisoned(c + i)) return false;
  }
  return __asan_address_is_poisoned(c + n - 1) != 0;
}
bool addressable(const void* p, std::size_t n) { return __asan_region_is_poisoned(const_cast<void*>(p), n) == nullptr; }

}  // namespace

TEST_CASE("poison: swept cells are poisoned, survivors and fresh objects are addressable") {
  SpanHeap heap;
  ThreadCache cache(heap);
  std::mt19937_64 rng(11);
  struct Obj {
    void* p;
    std::size_t bytes;
    bool marked;
  };
  std::vector<Obj> objs;
  for (int i = 0; i < 3000; ++i) {
    const bool large = i % 300 == 0;
    const std::size_t size = large ? kMaxSmallSize + 1 + rng() % 100000 : 1 + rng() % 3000;
    void* p = cache.alloc(size, rng() % 2 == 0, rng() % 2 == 0);
    const std::size_t bytes = large ? size : kSizeClasses[size_to_class(size)].size;
    if (!addressable(p, bytes)) FAIL("a fresh object is poisoned");
    objs.push_back({p, bytes, rng() % 2 == 0});
  }
  // A span's cells not handed out yet are poisoned.
  // (No earlier request maps to the 20 KiB class: a fresh span.)
  const std::size_t cell = kSizeClasses[size_to_class(20000)].size;
  REQUIRE(kSizeClasses[size_to_class(20000)].objects >= 2);
  auto* first = static_cast<char*>(cache.alloc(SpanClass(size_to_class(20000), true, false)));
  CHECK(wholly_poisoned(first + cell, cell));
  objs.push_back({first, cell, true});
  // A large object's pages past its size are poisoned.
  auto* big = static_cast<char*>(cache.alloc(kMaxSmallSize + 100, true, false));
  CHECK(addressable(big, kMaxSmallSize + 100));
  CHECK(wholly_poisoned(big + t::round_up(kMaxSmallSize + 100, 8), 8));
  CHECK(__asan_address_is_poisoned(big + t::round_up(kMaxSmallSize + 100, kPageSize) - 1));
  objs.push_back({big, kMaxSmallSize + 100, true});

  for (const Obj& o : objs) {
    if (o.marked) REQUIRE(t::mark(o.p));
  }
  cache.release_all();
  t::sweep_all(heap);
  std::size_t dead = 0;
  for (const Obj& o : objs) {
    if (o.marked) {
      if (!addressable(o.p, o.bytes)) FAIL("a survivor is poisoned");
    } else {
      ++dead;
      if (!wholly_poisoned(o.p, o.bytes)) FAIL("a dead object is not poisoned");
    }
  }
  REQUIRE(dead > 0);
  // Reallocation unpoisons exactly the cells handed out.
  for (int i = 0; i < 3000; ++i) {
    const std::size_t size = 1 + rng() % 3000;
    void* p = cache.alloc(size, true, false);
    if (!addressable(p, kSizeClasses[size_to_class(size)].size)) FAIL("a reused cell is still poisoned");
  }
}

TEST_CASE("poison: free pages are poisoned, released segments are not") {
  PageHeap pages(os_page_source(), SIZE_MAX);
  Span* a = pages.alloc_span(4);
  Span* b = pages.alloc_span(4);
  char* const a_base = a->base;
  char* const segment = reinterpret_cast<char*>(Segment::of(a_base));
  // Fresh spans are poisoned until objects are placed in them (the span
  // heap unpoisons cells as it hands them out).
  CHECK(wholly_poisoned(b->base, b->bytes()));
  // Free pages: poisoned.
  pages.free_span(a);
  CHECK(wholly_poisoned(a_base, 4 * kPageSize));
  pages.free_span(b);
  // Handed back to the source, which may map it again: nothing may stay
  // poisoned.
  REQUIRE(pages.scavenge(0) == kSegmentUsablePages * kPageSize);
  CHECK(addressable(segment, kSegmentSize));
}

#endif  // TRICOLOR_ASAN
