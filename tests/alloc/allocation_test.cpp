// Small-object allocation through a ThreadCache: every span class, object
// placement and lookup, zeroing of reused cells, and the order in which a
// swept span hands out its free objects.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <unordered_set>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

// Checks one freshly allocated object of class `sc`; returns an empty
// string or what is wrong with it.
std::string check_object(char* p, SpanClass sc) {
  const SizeClass& info = kSizeClasses[sc.size_class()];
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  if (addr % 8 != 0) return "not 8-byte aligned";
  if (info.size % 16 == 0 && addr % 16 != 0) return "size is a multiple of 16 but object is not 16-byte aligned";
  if (addr % t::min_align(info.size) != 0) return "not aligned to the class's min align";
  Span* span = Segment::span_of(p);
  if (span == nullptr) return "span_of is null";
  if (span->state != Span::State::kInUse) return "span not in use";
  if (!(span->spanclass == sc)) return "span class differs";
  if (span->elem_size != info.size || span->nelems != info.objects || span->npages != info.npages)
    return "span geometry differs from the class table";
  if (p < span->base || p + info.size > span->limit()) return "object outside its span";
  if ((p - span->base) % info.size != 0) return "object not on a cell boundary";
  const std::uint32_t index = span->object_index(p);
  if (index >= span->nelems) return "object index out of range";
  if (span->object_at(index) != p) return "object_at(object_index(p)) != p";
  if (!span->is_allocated(index)) return "object not allocated in its span";
  for (std::size_t off : {std::size_t{1}, std::size_t{info.size / 2}, std::size_t{info.size - 1}}) {
    if (Segment::span_of(p + off) != span) return "interior byte maps to another span";
    if (span->object_index(p + off) != index) return "interior byte maps to another object";
  }
  if (sc.zeroed() && !t::all_zero(p, info.size)) return "memory not zeroed";
  return {};
}

}  // namespace

constexpr std::uint64_t kDirty = 0xA5A5A5A5A5A5A5A5ull;

TEST_CASE("allocation: every small span class, over several spans: distinct, placed, aligned, found, zeroed unless noscan") {
  for (std::size_t c = 1; c < kNumSizeClasses; ++c) {
    for (int variant = 0; variant < 4; ++variant) {
      const SpanClass sc(static_cast<std::uint8_t>(c), (variant & 1) != 0, (variant & 2) != 0);
      const SizeClass& info = kSizeClasses[c];
      const std::size_t n = 3 * std::size_t{info.objects} + 7;
      INFO("class " << c << " size " << info.size << " noscan " << sc.noscan() << " finalize " << sc.finalize());
      // A heap of its own, so that what it reuses below can only be what
      // this class left behind.
      SpanHeap heap;
      ThreadCache cache(heap);
      std::vector<char*> first;
      for (int round = 0; round < 2; ++round) {
        std::vector<char*> objs;
        std::unordered_set<char*> seen;
        std::set<Span*> spans;
        for (std::size_t i = 0; i < n; ++i) {
          auto* p = static_cast<char*>(cache.alloc(sc));
          const std::string problem = check_object(p, sc);
          if (!problem.empty()) FAIL("round " << round << " object " << i << ": " << problem);
          // Only the object's owner reads a noscan object: the allocator
          // hands it out as the last round left it, without writing it.
          if (round == 1 && sc.noscan() && !t::holds(p, info.size, kDirty)) {
            FAIL("round 1 object " << i << " of a noscan class was written by the allocator");
          }
          if (!seen.insert(p).second) FAIL("round " << round << " object " << i << " handed out twice");
          spans.insert(Segment::span_of(p));
          objs.push_back(p);
        }
        // A cache moves to a new span only when its span is full.
        CHECK(spans.size() == (n + info.objects - 1) / info.objects);
        // Dirty every cell: the next round gets the same cells back and
        // must find them zeroed, or for a noscan class as they were.
        for (char* p : objs) t::fill(p, info.size, kDirty);
        cache.release_all();
        const AllocStats before = heap.stats();
        CHECK(before.mallocs == (round + 1) * n);
        CHECK(before.by_size[c].mallocs == (round + 1) * n);
        t::sweep_all(heap);  // nothing is marked: everything dies
        const AllocStats after = heap.stats();
        CHECK(after.frees - before.frees == n);
        CHECK(after.heap_objects == 0);
        CHECK(after.pages.inuse_bytes == 0);
        CHECK(after.pages.segments == 1);
        if (round == 0) {
          first = objs;
        } else {
          // All spans went back to the page heap and coalesced into one free
          // run; the page heap cuts new spans from the head of a run, so the
          // second round was served from exactly the first round's cells.
          std::sort(first.begin(), first.end());
          std::sort(objs.begin(), objs.end());
          CHECK(objs == first);
        }
      }
    }
  }
}

TEST_CASE("allocation: size requests map to their class and never share cells") {
  SpanHeap heap;
  ThreadCache cache(heap);
  std::mt19937_64 rng(20240611);
  std::unordered_set<char*> seen;
  std::vector<std::pair<char*, std::size_t>> objs;
  const std::size_t n = t::scaled(40000, 15000);
  for (std::size_t i = 0; i < n; ++i) {
    // Sizes 0..32768, biased towards small ones as in a collected heap.
    const std::size_t size = (rng() % 4 == 0) ? rng() % (kMaxSmallSize + 1) : rng() % 257;
    const bool noscan = (rng() & 1) != 0;
    const bool finalize = (rng() & 2) != 0;
    auto* p = static_cast<char*>(cache.alloc(size, noscan, finalize));
    const SpanClass expected(t::class_by_search(std::max<std::size_t>(size, 1)), noscan, finalize);
    const std::string problem = check_object(p, expected);
    if (!problem.empty()) FAIL("request " << size << ": " << problem);
    if (!seen.insert(p).second) FAIL("request " << size << ": cell handed out twice");
    t::fill(p, kSizeClasses[expected.size_class()].size, t::nonzero_tag(i));
    objs.emplace_back(p, kSizeClasses[expected.size_class()].size);
  }
  // Nothing overlaps: every cell still holds its own pattern.
  for (std::size_t i = 0; i < objs.size(); ++i) {
    if (!t::holds(objs[i].first, objs[i].second, t::nonzero_tag(i))) FAIL("object " << i << " was overwritten");
  }
}

// A span's free objects are handed out in address order (Go's freeindex
// scan): after a sweep, allocating from the span yields exactly its unmarked
// objects, lowest index first, and only then does the cache take a new span.
// Classes are chosen for their object counts: several bitmap words, counts
// that are not multiples of 64, exactly 64, and 1.
TEST_CASE("allocation: a swept span hands out exactly its free objects, in index order") {
  const std::uint8_t classes[] = {1, 2, 3, 5, 9, 10, 11, 30, 51, 67};
  std::mt19937_64 rng(777);
  for (std::uint8_t c : classes) {
    for (int pattern = 0; pattern < 6; ++pattern) {
      for (bool release_after_start : {false, true}) {
        const SpanClass sc(c, true, false);
        const SizeClass& info = kSizeClasses[c];
        INFO("class " << int{c} << " objects " << info.objects << " pattern " << pattern << " release after start "
                      << release_after_start);
        SpanHeap heap;
        ThreadCache cache(heap);
        std::vector<char*> objs;
        for (std::size_t i = 0; i < info.objects; ++i) objs.push_back(static_cast<char*>(cache.alloc(sc)));
        Span* span = Segment::span_of(objs[0]);
        for (std::size_t i = 0; i < info.objects; ++i) REQUIRE(objs[i] == span->base + i * info.size);
        // Which objects survive: random with several densities, whole
        // 64-object words kept or dropped, and the last object only.
        std::vector<bool> keep(info.objects);
        for (std::size_t i = 0; i < info.objects; ++i) {
          switch (pattern) {
            case 0: keep[i] = rng() % 10 == 0; break;
            case 1: keep[i] = rng() % 2 == 0; break;
            case 2: keep[i] = rng() % 10 != 0; break;
            case 3: keep[i] = (i / 64) % 2 == 0; break;
            case 4: keep[i] = i % 64 != 63; break;
            default: keep[i] = i + 1 == info.objects; break;
          }
        }
        keep[info.objects - 1] = keep[info.objects - 1] || std::none_of(keep.begin(), keep.end(), [](bool k) { return k; });
        std::size_t survivors = 0;
        for (std::size_t i = 0; i < info.objects; ++i) {
          if (keep[i]) {
            REQUIRE(t::mark(objs[i]));
            REQUIRE_FALSE(t::mark(objs[i]));  // a second mark reports "already marked"
            ++survivors;
          }
        }
        if (release_after_start) {
          // The span is still cached when the cycle starts (sweepgen h+1):
          // giving it back sweeps it.
          heap.start_sweep_cycle();
          cache.release_all();
          heap.finish_sweep();
        } else {
          cache.release_all();
          t::sweep_all(heap);
        }
        const AllocStats s = heap.stats();
        CHECK(s.heap_objects == survivors);
        CHECK(s.frees == info.objects - survivors);
        for (std::size_t i = 0; i < info.objects; ++i) {
          if (span->is_allocated(static_cast<std::uint32_t>(i)) != keep[i]) FAIL("is_allocated wrong at " << i);
          if (span->is_marked(static_cast<std::uint32_t>(i))) FAIL("mark bit not cleared at " << i);
        }
        std::vector<char*> expected, got;
        for (std::size_t i = 0; i < info.objects; ++i) {
          if (!keep[i]) expected.push_back(objs[i]);
        }
        for (std::size_t i = 0; i < expected.size(); ++i) got.push_back(static_cast<char*>(cache.alloc(sc)));
        CHECK(got == expected);
        // The span is full now: the next object comes from another span.
        char* next = static_cast<char*>(cache.alloc(sc));
        CHECK(Segment::span_of(next) != span);
      }
    }
  }
}

TEST_CASE("allocation: objects on fresh pages are not written, and free objects a sweep leaves are zeroed before reuse unless noscan") {
  const std::uint64_t fresh = 0xEEEEEEEEEEEEEEEEull;
  for (const std::uint8_t c : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{5}, std::uint8_t{30}, std::uint8_t{67}}) {
    for (const bool noscan : {false, true}) {
      // The source claims its pages are zero and fills them with 0xEE, so
      // every byte the heap writes shows.
      t::TestPageSource source;
      source.marked_zero = true;
      SpanHeapOptions options;
      options.page_source = &source;
      SpanHeap heap(options);
      ThreadCache cache(heap);
      const SpanClass sc(c, noscan, false);
      const std::size_t size = kSizeClasses[c].size;
      const std::size_t n = std::min<std::size_t>(kSizeClasses[c].objects, 100);
      INFO("class " << int{c} << " size " << size << " objects " << n << " noscan " << noscan);
      std::vector<char*> objs;
      for (std::size_t i = 0; i < n; ++i) objs.push_back(static_cast<char*>(cache.alloc(sc)));
      Span* span = Segment::span_of(objs[0]);
      for (char* p : objs) REQUIRE(Segment::span_of(p) == span);
      for (char* p : objs) CHECK(t::holds(p, size, fresh));
      // A sweep that frees nothing leaves the free objects as the source gave them.
      for (char* p : objs) t::mark(p);
      cache.release_all();
      t::sweep_all(heap);
      if (n < kSizeClasses[c].objects) CHECK(t::holds(cache.alloc(sc), size, fresh));
      // Now every other object dies, with its bytes still there.
      for (std::size_t i = 0; i < n; ++i) t::fill(objs[i], size, t::nonzero_tag(i));
      for (std::size_t i = 0; i < n; i += 2) t::mark(objs[i]);
      cache.release_all();
      t::sweep_all(heap);
      for (std::size_t i = 0; i < n; i += 2) CHECK(t::holds(objs[i], size, t::nonzero_tag(i)));
      // A dead object with pointers comes back zeroed; a noscan one as it
      // was left (only its owner reads it, once its constructor has run).
      for (std::size_t i = 1; i < n; i += 2) {
        char* p = static_cast<char*>(cache.alloc(sc));
        REQUIRE(p == objs[i]);
        if (noscan) {
          CHECK(t::holds(p, size, t::nonzero_tag(i)));
        } else {
          CHECK(t::all_zero(p, size));
        }
      }
    }
  }
}

TEST_CASE("allocation: each kind of a typed class has its own spans, slot and central, and untyped classes keep theirs") {
  SpanHeap heap;
  ThreadCache cache(heap);
  // Kinds 1 and 2 of one size class, the same size untyped, and a kind
  // whose slot and central lie far beyond the others.
  const std::uint8_t c = size_to_class(24);
  const SpanClass untyped(c, false, false);
  const SpanClass kinds[] = {SpanClass::typed(c, 1), SpanClass::typed(c, 2), SpanClass::typed(c, kMaxKinds)};
  CHECK(untyped.kind() == 0);
  for (const SpanClass& sc : kinds) {
    CHECK(sc.size_class() == c);
    CHECK(!sc.noscan());
    CHECK(!sc.finalize());
    CHECK(sc.index() >= kNumSpanClasses);
  }
  CHECK(kinds[0].kind() == 1);
  CHECK(kinds[1].kind() == 2);
  CHECK(kinds[2].kind() == kMaxKinds);
  CHECK(kinds[0].index() != kinds[1].index());
  // Untyped classes are indexed as they always were.
  CHECK(untyped.index() == (std::size_t{c} << 2));
  CHECK(SpanClass(c, true, true).index() == (std::size_t{c} << 2 | 3));

  // Interleaved allocation: every object lands in a span of its own class,
  // and no two classes ever share a span.
  const std::size_t per_class = 3 * kSizeClasses[c].objects + 5;
  std::map<Span*, std::size_t> span_class_of;
  std::vector<std::pair<char*, SpanClass>> objects;
  for (std::size_t i = 0; i < per_class; ++i) {
    for (const SpanClass& sc : {untyped, kinds[0], kinds[1], kinds[2]}) {
      auto* p = static_cast<char*>(cache.alloc(sc));
      const std::string problem = check_object(p, sc);
      if (!problem.empty()) FAIL("kind " << sc.kind() << ": " << problem);
      const auto [it, added] = span_class_of.emplace(Segment::span_of(p), sc.index());
      if (!added && it->second != sc.index()) FAIL("two classes share a span");
      CHECK(cache.span(sc) == Segment::span_of(p));
      objects.emplace_back(p, sc);
    }
  }
  // Every kind was counted under its size class; giving the caches back and
  // sweeping with nothing marked frees every object and every span.
  cache.release_all();
  CHECK(heap.stats().by_size[c].mallocs == 4 * per_class);
  t::sweep_all(heap);
  const AllocStats after = heap.stats();
  CHECK(after.heap_objects == 0);
  CHECK(after.pages.inuse_bytes == 0);
}

TEST_CASE("allocation: what the fast path and the marker read of a span fits its first cache line") {
  Span span;
  const auto offset = [&](const void* field) {
    return static_cast<std::size_t>(static_cast<const char*>(field) - reinterpret_cast<const char*>(&span));
  };
  CHECK(offset(&span.base) + sizeof(span.base) <= 64);
  CHECK(offset(&span.spanclass) + sizeof(span.spanclass) <= 64);
  CHECK(offset(&span.freeindex) + sizeof(span.freeindex) <= 64);
  CHECK(offset(&span.live_from) + sizeof(span.live_from) <= 64);
  CHECK(offset(&span.alloc_cache) + sizeof(span.alloc_cache) <= 64);
  CHECK(reinterpret_cast<std::uintptr_t>(&span) % 128 == 0);
}
