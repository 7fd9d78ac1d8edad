#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
using tricolor::alloc::test::mark;

TEST_CASE("span: every class allocates zeroed, aligned, distinct objects across several spans") {
  SpanHeap heap;
  ThreadCache cache(heap);
  for (std::size_t c = 1; c < kNumSizeClasses; ++c) {
    for (int variant = 0; variant < 4; ++variant) {
      const SpanClass sc(static_cast<std::uint8_t>(c), variant & 1, variant & 2);
      const SizeClass& info = kSizeClasses[c];
      const std::size_t n = 3 * info.objects + 7;
      std::set<char*> seen;
      std::set<Span*> spans;
      for (std::size_t i = 0; i < n; ++i) {
        auto* p = static_cast<char*>(cache.alloc(sc));
        INFO("class " << c << " variant " << variant << " object " << i);
        REQUIRE(seen.insert(p).second);
        // Alignment: the largest power of two dividing the size, up to 8 KiB (Go's "min align").
        const std::size_t align = std::min<std::size_t>(kPageSize, std::size_t{1} << __builtin_ctz(info.size));
        REQUIRE(reinterpret_cast<std::uintptr_t>(p) % align == 0);
        REQUIRE(std::all_of(p, p + info.size, [](char b) { return b == 0; }));
        Span* span = Segment::span_of(p);
        REQUIRE(span->spanclass == sc);
        REQUIRE(span->state == Span::State::kInUse);
        REQUIRE(p >= span->base);
        REQUIRE(p + info.size <= span->limit());
        const std::uint32_t index = span->object_index(p);
        REQUIRE(span->object_at(index) == p);
        REQUIRE(span->object_index(p + info.size - 1) == index);
        REQUIRE(Segment::span_of(p + info.size - 1) == span);
        spans.insert(span);
        std::memset(p, 0xA5, info.size);  // dirty it: a later reuse must come back zeroed
      }
      CHECK(spans.size() == (n + info.objects - 1) / info.objects);
    }
  }
}

TEST_CASE("span: sweep frees exactly the unmarked objects, keeps marked contents, and reuses freed cells") {
  SpanHeap heap;
  ThreadCache cache(heap);
  std::mt19937 rng(12345);
  struct Obj {
    char* p;
    std::size_t size;
    bool marked;
  };
  std::vector<Obj> objs;
  const std::size_t n = 20000 * tricolor::alloc::test::kScale;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t size = 1 + rng() % 700;
    auto* p = static_cast<char*>(cache.alloc(size, true, false));
    std::memset(p, static_cast<int>(i % 251) + 1, size);
    objs.push_back({p, size, rng() % 3 == 0});
  }
  cache.release_all();
  const AllocStats before = heap.stats();
  REQUIRE(before.heap_objects == n);
  std::size_t marked = 0;
  std::set<char*> freed;
  for (const Obj& o : objs) {
    if (o.marked) {
      mark(o.p);
      ++marked;
    } else {
      freed.insert(o.p);
    }
  }
  heap.start_sweep_cycle();
  heap.finish_sweep();
  const AllocStats after = heap.stats();
  CHECK(after.frees - before.frees == n - marked);
  CHECK(after.heap_objects == marked);
  CHECK(after.zombies == 0);
  for (std::size_t i = 0; i < objs.size(); ++i) {
    if (!objs[i].marked) continue;
    const char expected = static_cast<char>(i % 251 + 1);
    REQUIRE(std::all_of(objs[i].p, objs[i].p + objs[i].size, [&](char b) { return b == expected; }));
  }
  // Reallocate: same size classes as the freed objects, fewer of them than
  // were freed in each class. Every cell handed out lies in a freed slot or
  // in a span the sweep emptied (returned to the page heap and reused).
  std::set<char*> live;
  for (const Obj& o : objs) {
    if (o.marked) live.insert(o.p);
  }
  std::size_t reused = 0;
  for (const Obj& o : objs) {
    if (o.marked) continue;
    auto* p = static_cast<char*>(cache.alloc(o.size, true, false));
    REQUIRE(std::all_of(p, p + o.size, [](char b) { return b == 0; }));
    REQUIRE(live.count(p) == 0);  // a survivor's cell is never handed out again
    if (freed.count(p) != 0) ++reused;
  }
  // Freed cells in spans that kept survivors are reused before fresh pages.
  CHECK(reused * 2 > n - marked);
}

TEST_CASE("span: finalize classes report exactly their dead objects, once each") {
  std::multiset<void*> reported;
  SpanHeapOptions options;
  options.on_dead = [](void* context, void* object) noexcept {
    static_cast<std::multiset<void*>*>(context)->insert(object);
  };
  options.on_dead_context = &reported;
  SpanHeap heap(options);
  ThreadCache cache(heap);
  std::mt19937 rng(7);
  std::set<void*> dead_finalize, all_plain;
  for (int i = 0; i < 5000; ++i) {
    const std::size_t size = 1 + rng() % 2000;
    void* fin = cache.alloc(size, rng() % 2 == 0, true);
    void* plain = cache.alloc(size, rng() % 2 == 0, false);
    all_plain.insert(plain);
    if (rng() % 2 == 0) {
      mark(fin);
    } else {
      dead_finalize.insert(fin);
    }
  }
  // Large finalize objects too.
  void* big_dead = cache.alloc(100000, true, true);
  void* big_live = cache.alloc(100000, false, true);
  mark(big_live);
  dead_finalize.insert(big_dead);
  cache.release_all();
  heap.start_sweep_cycle();
  heap.finish_sweep();
  CHECK(reported.size() == dead_finalize.size());
  CHECK(std::set<void*>(reported.begin(), reported.end()) == dead_finalize);
  for (void* p : all_plain) CHECK(reported.count(p) == 0);
}

TEST_CASE("span: large objects get their own span, zeroed, found from interior bytes, freed when unmarked") {
  SpanHeap heap;
  ThreadCache cache(heap);
  const std::size_t sizes[] = {kMaxSmallSize + 1, 100000, 1 << 20, (5 << 20) + 123};
  std::vector<char*> objs;
  for (std::size_t size : sizes) {
    auto* p = static_cast<char*>(cache.alloc(size, true, false));
    REQUIRE(std::all_of(p, p + size, [](char b) { return b == 0; }));
    Span* span = Segment::span_of(p);
    CHECK(span->spanclass.large());
    CHECK(span->base == p);
    CHECK(span->bytes() >= size);
    CHECK(span->object_index(p) == 0);
    CHECK(Segment::span_of(p + std::min(size, kSegmentSize - kPageSize) - 1) == span);
    std::memset(p, 1, size);
    objs.push_back(p);
  }
  AllocStats s = heap.stats();
  CHECK(s.by_size[0].mallocs == std::size(sizes));
  mark(objs[1]);
  mark(objs[3]);
  heap.start_sweep_cycle();
  heap.finish_sweep();
  s = heap.stats();
  CHECK(s.by_size[0].frees == 2);
  CHECK(s.heap_objects == 2);
  CHECK(objs[3][(5 << 20) + 122] == 1);
  heap.start_sweep_cycle();
  heap.finish_sweep();
  CHECK(heap.stats().heap_objects == 0);
  CHECK(heap.stats().pages.inuse_bytes == 0);
}

#if defined(TRICOLOR_ASAN)
TEST_CASE("span: AddressSanitizer sees swept cells as poisoned and live cells as addressable") {
  SpanHeap heap;
  ThreadCache cache(heap);
  void* live = cache.alloc(48, true, false);
  void* dead = cache.alloc(48, true, false);
  void* dead_large = cache.alloc(50000, true, false);
  cache.release_all();
  mark(live);
  heap.start_sweep_cycle();
  heap.finish_sweep();
  CHECK(__asan_address_is_poisoned(dead));
  CHECK(__asan_address_is_poisoned(dead_large));
  CHECK_FALSE(__asan_address_is_poisoned(live));
  void* fresh = cache.alloc(48, true, false);
  CHECK_FALSE(__asan_address_is_poisoned(fresh));
  CHECK(__asan_region_is_poisoned(fresh, 48) == nullptr);
}
#endif
