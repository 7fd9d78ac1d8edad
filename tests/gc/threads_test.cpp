#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

Counted* build_chain(Heap& heap, long n, long base) {
  Root<Counted> head = heap.make<Counted>(base);
  Counted* tail = head;
  for (long i = 1; i < n; ++i) {
    Counted* c = heap.make<Counted>(base + i);
    tail->left = c;
    tail = c;
  }
  return head;
}

long chain_sum(const Counted* c) {
  long s = 0;
  for (; c != nullptr; c = c->left) s += c->value;
  return s;
}

}  // namespace

TEST_CASE("threads: a GlobalRoot made on one thread keeps its object alive for another") {
  Heap heap(test::test_options());
  GlobalRoot<Counted> handoff;
  std::thread producer([&] {
    ThreadScope attach{heap};
    handoff = build_chain(heap, 1000, 0);
  });
  producer.join();
  heap.collect();  // from a thread that is not attached
  std::thread consumer([&] {
    ThreadScope attach{heap};
    for (int i = 0; i < 50000; ++i) heap.make<Counted>(i);  // garbage and collections
    heap.collect();
    CHECK(chain_sum(handoff.get()) == 999L * 1000 / 2);
    handoff = nullptr;
    heap.collect();
    CHECK(heap.mem_stats().heap_objects == 0);
  });
  consumer.join();
}

TEST_CASE("threads: several mutators allocate and collect at once, each keeps exactly its roots") {
  Heap heap(test::test_options());
  constexpr int kThreads = 4;
  const int rounds = test::kSanitized ? 20 : 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadScope attach{heap};
      Root<Counted> mine;
      for (int r = 0; r < rounds; ++r) {
        mine = build_chain(heap, 200, t * 1000000L + r);
        for (int i = 0; i < 500; ++i) heap.make<Counted>(-1);
        if (r % 10 == t) heap.collect();
        const long base = t * 1000000L + r;
        if (chain_sum(mine) != 200 * base + 199 * 200 / 2) failures.fetch_add(1);
      }
      // A thread that waits without touching the heap does not hold
      // collections up.
      {
        BlockingScope blocking{heap};
        std::this_thread::yield();
      }
      heap.safepoint();
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  heap.collect();
  CHECK(heap.mem_stats().heap_objects == 0);
}

TEST_CASE("threads: a blocking thread's roots are still roots") {
  Heap heap(test::test_options());
  std::atomic<bool> ready{false}, done{false};
  long sum = 0;
  std::thread waiter([&] {
    ThreadScope attach{heap};
    Root<Counted> chain = build_chain(heap, 5000, 0);
    {
      BlockingScope blocking{heap};
      ready = true;
      while (!done) std::this_thread::yield();
    }
    sum = chain_sum(chain);
  });
  while (!ready) std::this_thread::yield();
  {
    ThreadScope attach{heap};
    for (int i = 0; i < 200000; ++i) heap.make<Counted>(i);
    heap.collect();
  }
  done = true;
  waiter.join();
  CHECK(sum == 4999L * 5000 / 2);
}

// A BlockingScope's way in and out takes no lock; it races the collector,
// which stops the world, greys the roots of blocked threads and sweeps their
// caches by taking them. A thread that left while held, or that missed a
// phase change made while it was blocked, would allocate white during
// marking or from an unswept cache: the checkmark, or the chain, says so.
TEST_CASE("threads: a thread in and out of BlockingScopes while cycles run back to back keeps what it allocates") {
  Options options = test::test_options();
  options.checkmark = true;
  Heap heap(options);
  std::atomic<bool> done{false};
  std::atomic<int> collections{0};
  std::thread driver([&] {  // attached to no heap
    while (!done.load(std::memory_order_relaxed)) {
      heap.collect();
      collections.fetch_add(1, std::memory_order_relaxed);
    }
  });
  // Chains of 1000, each checked once built and then dropped: the live
  // heap stays small and the cycles short.
  constexpr long kChain = 1000;
  long chains = 0, wrong = 0;
  {
    ThreadScope attach{heap};
    while (chains < 5 || collections.load(std::memory_order_relaxed) < 200) {
      Root<Counted> head = heap.make<Counted>(0);
      for (long i = 1; i < kChain; ++i) {
        { BlockingScope blocking{heap}; }
        Counted* c = heap.make<Counted>(i);
        c->left = head.get();
        head = c;
        heap.make<Counted>(-1);  // garbage: the cache's spans fill and are swept
      }
      if (chain_sum(head) != kChain * (kChain - 1) / 2) ++wrong;
      ++chains;
    }
    done = true;
    BlockingScope blocking{heap};
    driver.join();
  }
  CHECK(wrong == 0);
}

TEST_CASE("threads: BlockingScopes nest, and the thread blocks until the outermost one ends") {
  Heap heap(test::test_options());
  std::atomic<int> step{0};
  long sum = 0;
  std::thread nested([&] {
    ThreadScope attach{heap};
    Root<Counted> chain = build_chain(heap, 1000, 0);
    {
      BlockingScope outer{heap};
      { BlockingScope inner{heap}; }
      step = 1;
      // Still blocking: the collections below do not wait for this thread
      // (were it running, they would wait for its next safepoint, forever).
      while (step.load() != 2) std::this_thread::yield();
    }
    for (int i = 0; i < 10000; ++i) heap.make<Counted>(-1);
    heap.collect();
    sum = chain_sum(chain);
  });
  while (step.load() != 1) std::this_thread::yield();
  heap.collect();
  heap.collect();
  step = 2;
  nested.join();
  CHECK(sum == 999L * 1000 / 2);
}

// A heap destroyed while its collector is in a cycle: the collector finishes
// the cycle, and every mark round waits for every worker, so no worker may
// leave before the collector has (one that did left the round waiting for it
// forever).
TEST_CASE("threads: heaps destroyed while a cycle with several mark workers runs shut down") {
  Options options = test::test_options();
  options.mark_workers = 3;
  int cycles_cut = 0;
  for (int i = 0; i < (test::kSanitized ? 50 : 300); ++i) {
    Heap heap(options);
    {
      ThreadScope attach{heap};
      Root<Counted> live = build_chain(heap, 2000, 0);
      // Garbage until the heap's own trigger starts a cycle: the allocation
      // that starts one returns after its sweep termination (whose pause
      // is then on record), when the collector is about to begin marking.
      for (int j = 0; j < 1000000 && heap.gc_stats().pauses.empty(); ++j) {
        for (int k = 0; k < 64; ++k) heap.make<Counted>(k);
      }
      if (!heap.gc_stats().pauses.empty()) ++cycles_cut;
    }
  }  // destroyed in the middle of that cycle
  CHECK(cycles_cut > 0);
}

TEST_CASE("threads: several threads each attached to several heaps, allocating on different ones, finish") {
  // Each thread waits in one heap (a stop, collect(), the goal, an assist)
  // while attached to the others, and each heap stops threads that only
  // ever use another: with a hole in either, this hangs.
  constexpr int kHeaps = 3;
  constexpr int kThreads = 4;
  Options o = test::paced_options();
  o.gc_percent = 25;  // many cycles, in every heap, from allocation alone
  std::vector<std::unique_ptr<Heap>> heaps;
  for (int h = 0; h < kHeaps; ++h) heaps.push_back(std::make_unique<Heap>(o));
  const long rounds = test::kSanitized ? 40 : 200;
  std::atomic<long> checked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<ThreadScope>> scopes;
      for (auto& h : heaps) scopes.push_back(std::make_unique<ThreadScope>(*h));
      for (long r = 0; r < rounds; ++r) {
        // Thread t uses heap (t + r / 10) % kHeaps: the threads change
        // heaps at different times, and two of them share one at a time.
        Heap& heap = *heaps[(t + r / 10) % kHeaps];
        Root<Counted> chain = build_chain(heap, 200, r);
        if (r % 25 == t) heap.collect();
        if (chain_sum(chain) == 200 * r + 199 * 100) checked.fetch_add(1, std::memory_order_relaxed);
      }
      while (!scopes.empty()) scopes.pop_back();  // in the reverse order of their creation
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(checked == kThreads * rounds);
  for (auto& h : heaps) CHECK(h->gc_stats().num_gc > 0);
}
