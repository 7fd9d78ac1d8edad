// Pool<T> (Go's sync.Pool: per-thread, trimmed by the collector through a
// victim generation) and Interner<T, Key> (Go's unique.Make: one canonical
// object per value while anyone holds it, and a table that shrinks).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

TEST_CASE("pool: get returns what this thread put, most recent first, and make() when empty") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Pool<Counted> pool{heap};
  CHECK(pool.get() == nullptr);
  Root<Counted> a = heap.make<Counted>(1);
  Root<Counted> b = heap.make<Counted>(2);
  pool.put(a);
  pool.put(b);
  CHECK(pool.get() == b.get());
  CHECK(pool.get() == a.get());
  CHECK(pool.get() == nullptr);
  Counted* made = pool.get([&] { return heap.make<Counted>(3); });
  CHECK(made->value == 3);
  pool.put(nullptr);  // ignored
  CHECK(pool.get() == nullptr);
}

TEST_CASE("pool: an object survives one cycle in the pool as a victim, and is dropped after the second") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Pool<Counted> pool{heap};
  WeakRoot<Counted> weak;
  const long destroyed_before = Counted::destroyed;
  {
    Root<Counted> x = heap.make<Counted>(7);
    weak = x.get();
    pool.put(x);
  }
  heap.collect();  // the pool is x's only holder: x is a victim now
  REQUIRE(weak.get() != nullptr);
  Counted* got = pool.get();  // a victim may still be taken back
  REQUIRE(got == weak.get());
  pool.put(got);
  heap.collect();  // put again since the last cycle: a victim again, alive
  CHECK(weak.get() != nullptr);
  heap.collect();  // two cycles unused: dropped, and freed
  CHECK(weak.get() == nullptr);
  CHECK(pool.get() == nullptr);
  CHECK(Counted::destroyed - destroyed_before == 1);
}

TEST_CASE("pool: a burst of puts is freed after two cycles") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Pool<Counted> pool{heap};
  for (int i = 0; i < 100000; ++i) pool.put(heap.make<Counted>(i));
  heap.collect();
  const std::uint64_t pinned = heap.mem_stats().heap_objects;
  CHECK(pinned >= 100000);
  heap.collect();
  CHECK(heap.mem_stats().heap_objects < 100);
}

TEST_CASE("pool: each thread has its own part, and a destroyed pool lets go of its objects") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  WeakRoot<Counted> weak;
  {
    Pool<Counted> pool{heap};
    Root<Counted> mine = heap.make<Counted>(1);
    pool.put(mine);
    test::run_on_thread(heap, [&] {
      ThreadScope t{heap};
      CHECK(pool.get() == nullptr);  // not this thread's
      Root<Counted> theirs = heap.make<Counted>(2);
      weak = theirs.get();
      pool.put(theirs);
      CHECK(pool.get() == theirs.get());
      pool.put(theirs);
    });  // the thread's part goes with it
    CHECK(pool.get() == mine.get());
    pool.put(mine);
  }
  heap.collect();
  CHECK(weak.get() == nullptr);
  // A new pool, perhaps with the old one's id, starts empty.
  Pool<Counted> fresh{heap};
  CHECK(fresh.get() == nullptr);
}

namespace {

struct Symbol : Object {
  std::string name;
  explicit Symbol(std::string n) : name(std::move(n)) {}
};

}  // namespace

TEST_CASE("intern: equal keys share one object while it is held, and the table shrinks after") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Interner<Symbol, std::string> symbols{heap};
  int made = 0;
  auto make = [&](const std::string& s) {
    return [&, s] {
      ++made;
      return heap.make<Symbol>(s);
    };
  };
  Root<Symbol> x1 = symbols.intern("x", make("x"));
  Root<Symbol> x2 = symbols.intern("x", make("x"));
  Root<Symbol> y = symbols.intern("y", make("y"));
  CHECK(x1.get() == x2.get());
  CHECK(x1.get() != y.get());
  CHECK(made == 2);
  CHECK(symbols.size() == 2);
  heap.collect();
  CHECK(symbols.intern("x", make("x")).get() == x1.get());  // still canonical after a cycle
  CHECK(symbols.lookup("y").get() == y.get());

  WeakRoot<Symbol> old_x = x1.get();
  x1 = nullptr;
  x2 = nullptr;
  heap.collect();
  heap.run_finalizers();  // the cleanup that removes x's entry
  CHECK(old_x.get() == nullptr);
  CHECK(symbols.size() == 1);
  CHECK(!symbols.lookup("x"));
  Root<Symbol> x3 = symbols.intern("x", make("x"));
  CHECK(made == 3);
  CHECK(x3->name == "x");
  y = nullptr;
  x3 = nullptr;
  heap.collect();
  heap.run_finalizers();
  CHECK(symbols.size() == 0);
}

TEST_CASE("intern: threads interning the same keys at once agree on one object per key") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Interner<Symbol, std::string> symbols{heap};
  constexpr int kThreads = 4;
  constexpr int kKeys = 50;
  const int rounds = test::kSanitized ? 20 : 100;
  std::vector<std::vector<GlobalRoot<Symbol>>> seen(kThreads);
  std::atomic<bool> wrong{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadScope scope{heap};
      std::vector<Root<Symbol>> held;
      for (int r = 0; r < rounds; ++r) {
        held.clear();  // let go: the next round may find new objects
        for (int k = 0; k < kKeys; ++k) {
          const std::string key = "k" + std::to_string((k * 7 + t) % kKeys);
          Root<Symbol> s = symbols.intern(key, [&] { return heap.make<Symbol>(key); });
          if (s->name != key) wrong = true;
          held.push_back(s);
          for (int g = 0; g < 10; ++g) heap.make<Counted>(g);  // garbage: cycles run
        }
      }
      for (Root<Symbol>& s : held) seen[static_cast<std::size_t>(t)].emplace_back(s.get());
    });
  }
  test::join_all(heap, threads);
  CHECK(!wrong);
  // Every thread still holds its last round's objects: one per key.
  for (int t = 0; t < kThreads; ++t) {
    for (const GlobalRoot<Symbol>& s : seen[static_cast<std::size_t>(t)]) {
      Root<Symbol> canonical = symbols.lookup(s->name);
      CHECK(canonical.get() == s.get());
    }
  }
  CHECK(symbols.size() == kKeys);
}
