#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/barriers/root_list.hpp"
#include "tricolor/member.hpp"
#include "tricolor/root.hpp"

using namespace tricolor;

namespace {

struct Thing {
  int value = 0;
};

// Things in a span heap's memory, and this thread attached to that heap
// as a ThreadScope attaches it: a Root is accepted only for an object of a
// heap its thread is attached to.
struct Attached {
  static constexpr std::size_t kThings = 256;
  alloc::SpanHeap heap;
  Thing* things = ::new (heap.alloc_large(kThings * sizeof(Thing), true, false)) Thing[kThings];
  Attached() { barriers::thread_roots().attach(heap.owner_token()); }
  ~Attached() { barriers::thread_roots().detach(heap.owner_token()); }
};

std::multiset<const void*> thread_root_objects() {
  std::multiset<const void*> out;
  barriers::thread_roots().list.for_each([&](const barriers::RootNode& n) {
    if (n.object() != nullptr) out.insert(n.object());
  });
  return out;
}

std::multiset<const void*> global_root_objects() {
  std::multiset<const void*> out;
  barriers::GlobalRoots& g = barriers::global_roots();
  std::lock_guard<std::mutex> guard(g.mu);
  g.list.for_each([&](const barriers::RootNode& n) {
    if (n.object() != nullptr) out.insert(n.object());
  });
  return out;
}

}  // namespace

TEST_CASE("roots: the thread's root list holds exactly the live Root handles, whatever the destruction order") {
  Attached attached;
  std::mt19937 rng(3);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::unique_ptr<Root<Thing>>> roots;
    std::multiset<const void*> expected;
    for (int i = 0; i < 100; ++i) {
      Thing* t = &attached.things[rng() % Attached::kThings];
      roots.push_back(std::make_unique<Root<Thing>>(t));
      expected.insert(t);
    }
    REQUIRE(thread_root_objects() == expected);
    std::shuffle(roots.begin(), roots.end(), rng);
    while (!roots.empty()) {
      expected.erase(expected.find(roots.back()->get()));
      roots.pop_back();
      REQUIRE(thread_root_objects() == expected);
    }
  }
}

TEST_CASE("roots: Root copies, moves and reassignments keep the list exact") {
  Attached attached;
  Thing& a = attached.things[0];
  Thing& b = attached.things[1];
  Root<Thing> r1(&a);
  Root<Thing> r2 = r1;
  CHECK(thread_root_objects() == std::multiset<const void*>{&a, &a});
  Root<Thing> r3 = std::move(r1);
  CHECK(r1.get() == nullptr);
  CHECK(thread_root_objects() == std::multiset<const void*>{&a, &a});
  r2 = &b;
  CHECK(thread_root_objects() == std::multiset<const void*>{&a, &b});
  std::vector<Root<Thing>> vec;
  for (int i = 0; i < 50; ++i) vec.emplace_back(&b);  // reallocation moves roots
  CHECK(thread_root_objects().count(&b) == 51);
  vec.clear();
  r3 = nullptr;
  CHECK(thread_root_objects() == std::multiset<const void*>{&b});
}

TEST_CASE("roots: a Root on a thread attached to no heap is refused") {
  alloc::SpanHeap heap;
  Thing* t = ::new (heap.alloc_large(sizeof(Thing), true, false)) Thing;
  REQUIRE(barriers::thread_roots().attached_heaps == 0);
  CHECK_THROWS_WITH(Root<Thing>(t), Catch::Contains("not attached to any heap"));
  Root<Thing> empty;  // holding nothing is harmless
  CHECK_THROWS_AS(empty = t, UsageError);
  CHECK(thread_root_objects().empty());
}

TEST_CASE("roots: a Root to an object of a heap the thread is not attached to is refused") {
  Attached attached;  // to one heap
  alloc::SpanHeap other;
  Thing* t = ::new (other.alloc_large(sizeof(Thing), true, false)) Thing;
  CHECK_THROWS_WITH(Root<Thing>(t), Catch::Contains("a heap this thread is not attached to"));
  Root<Thing> r(&attached.things[0]);  // its own heap's objects are fine
  CHECK_THROWS_AS(r = t, UsageError);
  CHECK(r.get() == &attached.things[0]);
  CHECK(thread_root_objects() == std::multiset<const void*>{&attached.things[0]});
}

TEST_CASE("roots: GlobalRoot handles register from any thread and unregister from another") {
  std::vector<Thing> things(64);
  const auto before = global_root_objects();
  std::vector<std::unique_ptr<GlobalRoot<Thing>>> made(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 64; i += 4) made[i] = std::make_unique<GlobalRoot<Thing>>(&things[i]);
    });
  }
  for (auto& th : threads) th.join();
  std::multiset<const void*> expected = before;
  for (auto& t : things) expected.insert(&t);
  CHECK(global_root_objects() == expected);
  // Destroy them on other threads than the ones that made them.
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = (t + 1) % 4; i < 64; i += 4) made[i].reset();
    });
  }
  for (auto& th : threads) th.join();
  CHECK(global_root_objects() == before);
}

TEST_CASE("roots: an orphaned GlobalRoot reports use after its heap died") {
  Thing t;
  GlobalRoot<Thing> g(&t);
  CHECK(g.get() == &t);
  static_cast<barriers::GlobalRootNode&>(reinterpret_cast<barriers::GlobalRootNode&>(g)).orphan();
  CHECK_THROWS_WITH(g.get(), Catch::Contains("after the heap that owned its object was destroyed"));
  g = &t;  // reassigning revives it
  CHECK(g.get() == &t);
}

TEST_CASE("members: stores and loads through the barrier entry point") {
  Thing a, b;
  Member<Thing> m;
  CHECK(m.get() == nullptr);
  CHECK_FALSE(m);
  m = &a;
  CHECK(m.get() == &a);
  CHECK(m->value == 0);
  Member<Thing> n = m;
  CHECK(n.get() == &a);
  n = &b;
  m = n;
  CHECK(m.get() == &b);
  m = nullptr;
  CHECK(m.get() == nullptr);
}
