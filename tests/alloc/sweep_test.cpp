// Sweeping against a model: random mark bits decide exactly which objects
// die, survivors keep their bytes, freed cells are reused (zeroed) before
// any fresh span, and finalize classes report each dead object once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../gc/child_process.hpp"
#include "test_util.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

struct Obj {
  char* p;
  SpanClass spanclass;
  std::uint64_t tag;
};

std::size_t cell_size(const Obj& o) { return kSizeClasses[o.spanclass.size_class()].size; }

// A request size that maps to class c: anywhere between the previous
// class's size (exclusive) and c's.
std::size_t request_for(std::uint8_t c, std::mt19937_64& rng) {
  const std::size_t lo = kSizeClasses[c - 1].size + 1;
  const std::size_t hi = kSizeClasses[c].size;
  return lo + rng() % (hi - lo + 1);
}

// The free cells of every span that holds a survivor, per span class:
// all cells of the span minus the survivors. After a full sweep these are
// exactly the cells a cache must hand out before it takes a fresh span.
std::map<std::size_t, std::set<char*>> reusable_cells(const std::vector<Obj>& survivors) {
  std::map<std::size_t, std::set<char*>> spans;  // span bases per class index
  std::map<std::size_t, std::uint8_t> size_class;
  std::set<char*> live;
  for (const Obj& o : survivors) {
    live.insert(o.p);
    Span* s = Segment::span_of(o.p);
    spans[o.spanclass.index()].insert(s->base);
    size_class[o.spanclass.index()] = o.spanclass.size_class();
  }
  std::map<std::size_t, std::set<char*>> free;
  for (auto& [sc, bases] : spans) {
    const SizeClass& info = kSizeClasses[size_class[sc]];
    for (char* base : bases) {
      for (std::size_t i = 0; i < info.objects; ++i) {
        char* cell = base + i * info.size;
        if (live.count(cell) == 0) free[sc].insert(cell);
      }
    }
  }
  return free;
}

}  // namespace

TEST_CASE("sweep: exactly the unmarked objects die, survivors keep their bytes, freed cells are reused zeroed unless noscan") {
  // Untyped classes, and typed ones: two kinds share each of some size
  // classes, and the last kind's central lives in a chunk of its own. Each
  // kind must get back only its own cells.
  for (bool release_after_start : {false, true}) {
    INFO("caches released " << (release_after_start ? "after" : "before") << " the sweep cycle starts");
    SpanHeap heap;
    ThreadCache cache(heap);
    std::mt19937_64 rng(release_after_start ? 31337 : 4242);
    std::uint64_t next_id = 1;
    std::uint64_t total_allocated = 0;
    std::vector<Obj> live;
    auto allocate = [&](SpanClass sc) -> Obj {
      const std::uint8_t c = sc.size_class();
      auto* p = static_cast<char*>(sc.kind() != 0 ? cache.alloc(sc)
                                                  : cache.alloc(request_for(c, rng), sc.noscan(), sc.finalize()));
      if (sc.zeroed() && !t::all_zero(p, kSizeClasses[c].size)) FAIL("class " << int{c} << ": allocated cell not zeroed");
      if (!(Segment::span_of(p)->spanclass == sc)) FAIL("class " << int{c} << ": wrong span class");
      ++total_allocated;
      Obj o{p, sc, t::nonzero_tag(next_id++)};
      t::fill(p, kSizeClasses[c].size, o.tag);
      return o;
    };
    // Cycle 0 fills whole spans (1-4 per class), so its free cells after the
    // sweep are exactly its dead objects; later cycles also leave partly
    // used spans behind, whose never-used tail counts as free as well.
    std::vector<SpanClass> classes;
    for (std::uint8_t c = 1; c < kNumSizeClasses; ++c) classes.emplace_back(c, (c % 3) != 0, false);
    std::uint32_t kind = 1;
    for (std::uint8_t c = 2; c < kNumSizeClasses; c += 5) {
      classes.push_back(SpanClass::typed(c, kind++));
      classes.push_back(SpanClass::typed(c, kind++));
    }
    classes.push_back(SpanClass::typed(3, kMaxKinds));
    const int cycles = 3;
    for (int cycle = 0; cycle < cycles; ++cycle) {
      INFO("cycle " << cycle);
      if (cycle == 0) {
        for (SpanClass sc : classes) {
          const std::size_t n = (1 + rng() % 4) * kSizeClasses[sc.size_class()].objects;
          for (std::size_t i = 0; i < n; ++i) live.push_back(allocate(sc));
        }
      } else {
        auto free = reusable_cells(live);
        std::unordered_set<char*> survivors;
        for (const Obj& o : live) survivors.insert(o.p);
        for (SpanClass sc : classes) {
          const std::set<char*>& expected = free[sc.index()];
          std::set<char*> got;
          for (std::size_t i = 0; i < expected.size(); ++i) {
            Obj o = allocate(sc);
            got.insert(o.p);
            live.push_back(o);
          }
          // As long as the freed cells suffice, new objects come from them
          // and nowhere else.
          if (got != expected) FAIL("class " << int{sc.size_class()} << ": reused cells differ from the freed ones");
          // Beyond them: fresh spans, never a survivor's cell.
          const std::size_t extra = rng() % (2 * kSizeClasses[sc.size_class()].objects);
          for (std::size_t i = 0; i < extra; ++i) {
            Obj o = allocate(sc);
            if (survivors.count(o.p) != 0 || expected.count(o.p) != 0) FAIL("a fresh object reused a live cell");
            live.push_back(o);
          }
        }
      }
      // Reuse and zeroing did not disturb any other object.
      for (const Obj& o : live) {
        if (!t::holds(o.p, cell_size(o), o.tag)) FAIL("object overwritten before the sweep");
      }
      cache.release_all();
      const AllocStats before = heap.stats();
      REQUIRE(before.heap_objects == live.size());
      // Mark a random subset; the density varies by class.
      std::vector<Obj> survivors;
      std::uint64_t survivor_bytes = 0;
      std::map<std::size_t, unsigned> density;
      for (SpanClass sc : classes) density[sc.index()] = rng() % 11;  // 0..10 tenths
      for (const Obj& o : live) {
        if (rng() % 10 < density[o.spanclass.index()]) {
          REQUIRE(t::mark(o.p));
          survivors.push_back(o);
          survivor_bytes += cell_size(o);
        }
      }
      if (release_after_start) {
        // Cache one span per class again so that the cycle starts with
        // spans cached (sweepgen h+1) and giving them back sweeps them.
        std::vector<Obj> extra;
        for (SpanClass sc : classes) {
          Obj o = allocate(sc);
          REQUIRE(t::mark(o.p));
          extra.push_back(o);
          survivor_bytes += cell_size(o);
        }
        live.insert(live.end(), extra.begin(), extra.end());
        survivors.insert(survivors.end(), extra.begin(), extra.end());
        heap.start_sweep_cycle();
        cache.release_all();
        heap.finish_sweep();
      } else {
        t::sweep_all(heap);
      }
      const AllocStats after = heap.stats();
      CHECK(after.mallocs == total_allocated);
      CHECK(after.frees == total_allocated - survivors.size());
      CHECK(after.frees - before.frees == live.size() - survivors.size());
      CHECK(after.heap_objects == survivors.size());
      CHECK(after.heap_alloc_bytes == survivor_bytes);
      CHECK(after.zombies == 0);
      for (const Obj& o : survivors) {
        if (!t::holds(o.p, cell_size(o), o.tag)) FAIL("survivor's bytes changed by the sweep");
        Span* s = Segment::span_of(o.p);
        if (!s->is_allocated(s->object_index(o.p))) FAIL("survivor not allocated after the sweep");
      }
      live = std::move(survivors);
    }
  }
}

TEST_CASE("sweep: finalize classes report each dead object once, before reuse, and other classes nothing") {
  struct Report {
    void* object;
    std::uint64_t first_word;  // what the object held when reported
  };
  std::vector<Report> reports;
  SpanHeapOptions options;
  options.on_dead = [](void* context, void* object) noexcept {
    std::uint64_t w;
    std::memcpy(&w, object, sizeof w);
    static_cast<std::vector<Report>*>(context)->push_back({object, w});
  };
  options.on_dead_context = &reports;
  // Three ways a span gets swept: by the sweeper after the caches were
  // released; when a cache gives back a span it held as the cycle started;
  // lazily, by a cache looking for space before the sweeper got there.
  enum Mode { kSweeper, kAtUncache, kLazy };
  for (Mode mode : {kSweeper, kAtUncache, kLazy}) {
    INFO("mode " << mode);
    reports.clear();
    SpanHeap heap(options);
    ThreadCache cache(heap);
    std::mt19937_64 rng(99 + mode);
    struct Rec {
      char* p;
      bool finalize;
      bool marked;
      std::uint64_t tag;
    };
    std::vector<Rec> objs;
    std::vector<void*> lazy;  // finalize objects allocated while the sweep is under way
    std::uint64_t id = 0;
    const std::size_t n = t::scaled(20000, 8000);
    for (std::size_t i = 0; i < n; ++i) {
      const bool large = rng() % 400 == 0;
      const std::size_t size = large ? kMaxSmallSize + 1 + rng() % 200000 : 1 + rng() % kMaxSmallSize / (1 + rng() % 16);
      const bool finalize = rng() % 2 == 0;
      auto* p = static_cast<char*>(cache.alloc(size, rng() % 2 == 0, finalize));
      const std::uint64_t tag = t::nonzero_tag(++id);
      std::memcpy(p, &tag, sizeof tag);
      objs.push_back({p, finalize, rng() % 3 == 0, tag});
    }
    std::size_t dead_finalize = 0;
    std::map<void*, std::uint64_t> expected;  // dead finalize objects and their tags
    for (Rec& r : objs) {
      if (r.marked) {
        REQUIRE(t::mark(r.p));
      } else if (r.finalize) {
        expected[r.p] = r.tag;
        ++dead_finalize;
      }
    }
    REQUIRE(expected.size() == dead_finalize);  // addresses are distinct
    if (mode == kSweeper) {
      cache.release_all();
      t::sweep_all(heap);
    } else if (mode == kAtUncache) {
      heap.start_sweep_cycle();
      cache.release_all();
      heap.finish_sweep();
    } else {
      cache.release_all();
      heap.start_sweep_cycle();
      // Allocation before the sweeper runs sweeps spans of the classes it
      // needs, reporting their dead objects. Those new objects are marked
      // by nobody, but they were allocated in this cycle: not reported.
      for (std::size_t i = 0; i < n / 4; ++i) lazy.push_back(cache.alloc(1 + rng() % 4096, rng() % 2 == 0, true));
      CHECK_FALSE(reports.empty());
      heap.finish_sweep();
      cache.release_all();
    }
    std::map<void*, int> count;
    for (const Report& r : reports) {
      ++count[r.object];
      auto it = expected.find(r.object);
      if (it == expected.end()) FAIL("reported an object that is not a dead finalize object");
      if (r.first_word != it->second) FAIL("object's bytes were gone when it was reported");
    }
    CHECK(reports.size() == dead_finalize);
    CHECK(count.size() == dead_finalize);
    for (auto& [p, k] : count) {
      if (k != 1) FAIL("object reported " << k << " times");
    }
    // Next cycle: only the non-finalize survivors are marked again, so the
    // finalize survivors die now (and, in the lazy mode, the finalize
    // objects allocated during the sweep): exactly those are reported.
    reports.clear();
    std::set<void*> expected_next(lazy.begin(), lazy.end());
    for (Rec& r : objs) {
      if (r.marked && !r.finalize) REQUIRE(t::mark(r.p));
      if (r.marked && r.finalize) expected_next.insert(r.p);
    }
    cache.release_all();
    t::sweep_all(heap);
    std::multiset<void*> reported_next;
    for (const Report& r : reports) reported_next.insert(r.object);
    CHECK(reported_next.size() == expected_next.size());
    CHECK(std::set<void*>(reported_next.begin(), reported_next.end()) == expected_next);
  }
}

TEST_CASE("sweep: a marked object that was never allocated is counted as a zombie") {
  SpanHeap heap;
  ThreadCache cache(heap);
  const SpanClass sc(size_to_class(64), true, false);
  auto* p = static_cast<char*>(cache.alloc(sc));
  Span* span = Segment::span_of(p);
  REQUIRE(span->object_index(p) == 0);
  // Object 5 of the span was never handed out: marking it is a collector bug
  // the sweep reports instead of silently resurrecting memory.
  REQUIRE(span->try_mark(5));
  REQUIRE(t::mark(p));
  cache.release_all();
  t::sweep_all(heap);
  CHECK(heap.stats().zombies == 1);
}

TEST_CASE("sweep: what a cache allocates live survives the next sweep unmarked, older objects need their marks") {
  SpanHeap heap;
  ThreadCache cache(heap);
  const SpanClass sc(size_to_class(32), true, false);
  // A span with survivors and holes: 40 objects, every other one kept.
  std::vector<char*> first;
  for (int i = 0; i < 40; ++i) first.push_back(static_cast<char*>(cache.alloc(sc)));
  for (int i = 0; i < 40; i += 2) REQUIRE(t::mark(first[static_cast<std::size_t>(i)]));
  cache.release_all();
  t::sweep_all(heap);
  Span* span = Segment::span_of(first[0]);
  // The holes are handed out first: objects 1, 3, ..., 9 before allocating
  // live, then 11, ..., 39 and 40 on while allocating live.
  std::vector<char*> before, during;
  for (int i = 0; i < 5; ++i) before.push_back(static_cast<char*>(cache.alloc(sc)));
  cache.set_allocate_live(true);
  for (int i = 0; i < 30; ++i) during.push_back(static_cast<char*>(cache.alloc(sc)));
  cache.set_allocate_live(false);
  REQUIRE(Segment::span_of(during.back()) == span);
  CHECK(span->live_from.load() == 10);
  for (char* p : during) CHECK(span->allocated_live(span->object_index(p)));
  for (char* p : before) CHECK(!span->allocated_live(span->object_index(p)));
  // Old survivors past live_from were left allocated by the last sweep: not new.
  CHECK(!span->allocated_live(span->object_index(first[12])));
  // Marks only for two old objects past live_from.
  REQUIRE(t::mark(first[10]));
  REQUIRE(t::mark(first[30]));
  cache.release_all();
  t::sweep_all(heap);
  for (char* p : during) CHECK(span->is_allocated(span->object_index(p)));
  for (char* p : before) CHECK(!span->is_allocated(span->object_index(p)));
  // (The odd cells of `first` were reused by `before` and `during`.)
  for (std::size_t i = 0; i < first.size(); i += 2) {
    CHECK(span->is_allocated(span->object_index(first[i])) == (i == 10 || i == 30));
  }
  CHECK(span->live_from.load() == Span::kNoneLive);  // the sweep ends it
  CHECK(heap.stats().heap_objects == during.size() + 2);
}

TEST_CASE("sweep: an unswept span whose sweep cannot be claimed stops the program naming the invariant") {
  // Every span on an unswept list has sweepgen h-2; a sweeper pops one and
  // claims it with a CAS to h-1. A span found there with another sweepgen
  // means the protocol broke: dropping it (as the sweeper once did) would
  // lose the span, so it must be loud in every build.
  bool died = false;
  const std::string err = tricolor::test::run_child(
      [] {
        SpanHeap heap;
        ThreadCache cache(heap);
        Span* span = Segment::span_of(cache.alloc(SpanClass(size_to_class(64), true, false)));
        cache.release_all();  // swept, on the swept list: sweepgen h
        span->sweepgen.store(heap.sweepgen() + 1, std::memory_order_relaxed);  // as if still cached
        heap.start_sweep_cycle();  // the list becomes the unswept one
        heap.finish_sweep();
      },
      died);
  CHECK(died);
  CHECK(err.find("invariant broken: a span on an unswept list must have sweepgen h-2") != std::string::npos);
}
