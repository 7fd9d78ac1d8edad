// Several threads allocate from one heap, each through its own cache, while
// the central lists and the page heap serve them all; between rounds the
// main thread plays the collector: it marks a random subset and sweeps,
// partly while the threads already allocate again (lazy sweeping in
// cache_span racing the sweeper). Runs under ThreadSanitizer too.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

namespace {

struct Obj {
  char* p;
  std::size_t size;
  std::uint64_t tag;  // thread- and object-specific
};

std::size_t cell_bytes(std::size_t size) {
  return size > kMaxSmallSize ? size : kSizeClasses[size_to_class(size)].size;
}

}  // namespace

TEST_CASE("threads: four caches on one heap, marking and sweeping between rounds, exact counts") {
  constexpr int kThreads = 4;
  constexpr int kRounds = 3;
  const std::size_t per_thread = t::scaled(30000, 6000);
  SpanHeap heap;
  std::vector<Obj> live;  // survivors so far, owned by the main thread between rounds
  std::mt19937_64 rng(2024);
  std::uint64_t dead_expected = 0, total_allocated = 0;
  AllocStats before_sweep{};
  bool sweep_pending = false;

  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    std::vector<std::vector<Obj>> made(kThreads);
    std::atomic<std::size_t> bad_zero{0}, bad_pattern{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
      threads.emplace_back([&, th] {
        ThreadCache cache(heap);
        std::mt19937_64 local(static_cast<std::uint64_t>(round) * 1000 + static_cast<std::uint64_t>(th));
        std::vector<Obj>& mine = made[th];
        mine.reserve(per_thread);
        for (std::size_t i = 0; i < per_thread; ++i) {
          std::size_t size;
          const auto pick = local() % 1000;
          if (pick == 0) {
            size = kMaxSmallSize + 1 + local() % 200000;  // large
          } else if (pick < 50) {
            size = 1 + local() % kMaxSmallSize;
          } else {
            size = local() % 600;
          }
          const bool finalize = local() % 4 == 0;
          const bool noscan = local() % 2 == 0;
          auto* p = static_cast<char*>(cache.alloc(size, noscan, finalize));
          const bool zeroed = !noscan || size > kMaxSmallSize;  // SpanClass::zeroed()
          if (zeroed && !t::all_zero(p, cell_bytes(size))) ++bad_zero;
          const std::uint64_t tag = t::nonzero_tag((static_cast<std::uint64_t>(round * kThreads + th) << 40) | i);
          t::fill(p, cell_bytes(size), tag);
          mine.push_back({p, size, tag});
          if (i == per_thread / 2) {
            // Give every span back mid-way and go on: uncache and re-cache
            // partly used spans while the other threads do the same.
            cache.release_all();
          }
        }
        for (const Obj& o : mine) {
          if (!t::holds(o.p, cell_bytes(o.size), o.tag)) ++bad_pattern;
        }
      });
    }
    if (sweep_pending) {
      // The previous round's sweep runs while the threads allocate again.
      heap.finish_sweep();
    }
    for (std::thread& th : threads) th.join();
    if (sweep_pending) {
      heap.finish_sweep();  // whatever a thread had popped is done by now too
      const AllocStats after = heap.stats();
      CHECK(after.frees - before_sweep.frees == dead_expected);
      CHECK(after.zombies == 0);
    }
    CHECK(bad_zero == 0);
    CHECK(bad_pattern == 0);
    std::size_t made_now = 0;
    for (auto& v : made) {
      made_now += v.size();
      live.insert(live.end(), v.begin(), v.end());
    }
    total_allocated += made_now;
    // Every object, old and new, still holds its own pattern: no cell was
    // handed to two threads, and no survivor's cell was reused.
    std::unordered_set<char*> addresses;
    std::size_t broken = 0, duplicate = 0;
    for (const Obj& o : live) {
      if (!t::holds(o.p, cell_bytes(o.size), o.tag)) ++broken;
      if (!addresses.insert(o.p).second) ++duplicate;
    }
    CHECK(broken == 0);
    CHECK(duplicate == 0);
    AllocStats s = heap.stats();
    CHECK(s.mallocs == total_allocated);
    CHECK(s.heap_objects == live.size());

    // The collector: mark a random half (a different density each round),
    // then start the sweep cycle. The next round's threads allocate while
    // it is swept; the last round sweeps with two sweepers at once.
    std::vector<Obj> survivors;
    const unsigned keep_percent = 30 + 20 * static_cast<unsigned>(round);
    for (const Obj& o : live) {
      if (rng() % 100 < keep_percent) {
        REQUIRE(t::mark(o.p));
        survivors.push_back(o);
      }
    }
    dead_expected = live.size() - survivors.size();
    before_sweep = heap.stats();
    heap.start_sweep_cycle();
    live = std::move(survivors);
    sweep_pending = true;
  }
  std::thread helper([&] { heap.finish_sweep(); });
  heap.finish_sweep();
  helper.join();
  const AllocStats after = heap.stats();
  CHECK(after.frees - before_sweep.frees == dead_expected);
  CHECK(after.heap_objects == live.size());
  CHECK(after.mallocs == total_allocated);
  CHECK(after.zombies == 0);
  std::size_t broken = 0;
  for (const Obj& o : live) {
    if (!t::holds(o.p, cell_bytes(o.size), o.tag)) ++broken;
  }
  CHECK(broken == 0);
  CHECK(after.pages.inuse_bytes + after.pages.idle_bytes == after.pages.sys_bytes);
}
