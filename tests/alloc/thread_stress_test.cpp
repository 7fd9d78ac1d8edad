#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;

// Four threads allocate from one heap, each through its own cache, while the
// central lists and the page heap serve them all. Between rounds the main
// thread (the "collector") marks a random subset and sweeps.
TEST_CASE("threads: concurrent allocation from one heap, sweeps between rounds") {
  SpanHeap heap;
  constexpr int kThreads = 4;
  const std::size_t per_thread = 5000 * tricolor::alloc::test::kScale;
  struct Obj {
    unsigned char* p;
    std::size_t size;
    unsigned char fill;
  };
  std::vector<Obj> live;
  std::mt19937 rng(2024);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<Obj>> made(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ThreadCache cache(heap);
        std::mt19937 local(static_cast<unsigned>(round * 100 + t));
        for (std::size_t i = 0; i < per_thread; ++i) {
          const std::size_t size = i % 500 == 0 ? 40000 : 1 + local() % 1500;
          auto* p = static_cast<unsigned char*>(cache.alloc(size, local() % 2 == 0, false));
          for (std::size_t k = 0; k < size; ++k) {
            if (p[k] != 0) FAIL_CHECK("allocated memory not zero");
          }
          const auto fill = static_cast<unsigned char>(1 + (t * 37 + i) % 250);
          std::memset(p, fill, size);
          made[t].push_back({p, size, fill});
        }
        // The cache is destroyed here: its spans go back to the heap.
      });
    }
    for (std::thread& th : threads) th.join();
    for (auto& v : made) live.insert(live.end(), v.begin(), v.end());
    // Every object written by any thread still holds its own pattern: no
    // two threads were ever handed the same cell.
    for (const Obj& o : live) {
      for (std::size_t k = 0; k < o.size; ++k) REQUIRE(o.p[k] == o.fill);
    }
    std::vector<Obj> survivors;
    for (const Obj& o : live) {
      if (rng() % 2 == 0) {
        tricolor::alloc::test::mark(o.p);
        survivors.push_back(o);
      }
    }
    const AllocStats before = heap.stats();
    REQUIRE(before.heap_objects == live.size());
    heap.start_sweep_cycle();
    // Two threads sweep at once, as the background sweeper and an allocating
    // thread will.
    std::thread helper([&] { heap.finish_sweep(); });
    heap.finish_sweep();
    helper.join();
    const AllocStats after = heap.stats();
    REQUIRE(after.heap_objects == survivors.size());
    REQUIRE(after.frees - before.frees == live.size() - survivors.size());
    REQUIRE(after.zombies == 0);
    live = std::move(survivors);
  }
  for (const Obj& o : live) {
    for (std::size_t k = 0; k < o.size; ++k) REQUIRE(o.p[k] == o.fill);
  }
}
