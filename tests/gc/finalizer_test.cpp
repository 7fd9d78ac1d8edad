// Finalizers and cleanups, with Go's semantics: a finalizer runs once, after
// its object is unreachable, with the object and what it reaches intact, and
// may bring it back; a cleanup runs once its object is freed, several per
// object, cycles included.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

// Collects and waits for what that collection queued.
void collect_and_finalize(Heap& heap) {
  heap.collect();
  heap.run_finalizers();
}

}  // namespace

TEST_CASE("finalizer: runs once, after the object is unreachable, with what it reaches intact") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  std::atomic<int> runs{0};
  std::atomic<long> seen{0};
  const long destroyed_before = Counted::destroyed;
  Root<Counted> obj = heap.make<Counted>(1);
  obj->left = heap.make<Counted>(2);
  obj->left->left = heap.make<Counted>(3);
  heap.set_finalizer(obj.get(), [&](Counted* c) {
    runs.fetch_add(1);
    // Its subgraph is alive and unchanged, and the finalizer may allocate.
    c->right = heap.make<Counted>(4);
    seen = c->value * 1000 + c->left->value * 100 + c->left->left->value * 10 + c->right->value;
  });
  collect_and_finalize(heap);
  CHECK(runs == 0);  // reachable: not run
  obj = nullptr;
  collect_and_finalize(heap);
  CHECK(runs == 1);
  CHECK(seen == 1234);
  CHECK(Counted::destroyed == destroyed_before);  // kept for the finalizer
  for (int i = 0; i < 3; ++i) collect_and_finalize(heap);
  CHECK(runs == 1);  // once
  CHECK(Counted::destroyed - destroyed_before == 4);  // then freed, with its subgraph
}

TEST_CASE("finalizer: an object brought back lives on, without a finalizer, and dies later") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  GlobalRoot<Counted> saved;
  std::atomic<int> runs{0};
  const long destroyed_before = Counted::destroyed;
  WeakRoot<Counted> weak;
  {
    Root<Counted> obj = heap.make<Counted>(5);
    obj->left = heap.make<Counted>(6);
    weak = obj.get();
    heap.set_finalizer(obj.get(), [&](Counted* c) {
      runs.fetch_add(1);
      saved = c;  // resurrection
    });
  }
  collect_and_finalize(heap);
  REQUIRE(runs == 1);
  REQUIRE(saved);
  // Go's rule: weak handles read null from the moment the finalizer is
  // queued, even though the object came back.
  CHECK(weak.get() == nullptr);
  for (int i = 0; i < 2; ++i) collect_and_finalize(heap);
  CHECK(saved->value == 5);
  CHECK(saved->left->value == 6);  // the reachable subgraph is intact
  CHECK(Counted::destroyed == destroyed_before);
  WeakRoot<Counted> again = saved.get();  // a new handle, to the object brought back
  CHECK(!(again == weak));
  CHECK(again.get() == saved.get());
  saved = nullptr;
  collect_and_finalize(heap);
  CHECK(runs == 1);  // no second run: the finalizer went when it was queued
  CHECK(Counted::destroyed - destroyed_before == 2);
  CHECK(again.get() == nullptr);
}

TEST_CASE("finalizer: one per object, and a cleared one never runs") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  std::atomic<int> runs{0};
  {
    Root<Counted> obj = heap.make<Counted>(1);
    heap.set_finalizer(obj.get(), [&](Counted*) { runs.fetch_add(1); });
    CHECK_THROWS_AS(heap.set_finalizer(obj.get(), [&](Counted*) { runs.fetch_add(100); }), UsageError);
    CHECK(heap.clear_finalizer(obj.get()));
    CHECK(!heap.clear_finalizer(obj.get()));
    heap.set_finalizer(obj.get(), [&](Counted*) { runs.fetch_add(10); });
    CHECK(heap.clear_finalizer(obj.get()));
  }
  collect_and_finalize(heap);
  collect_and_finalize(heap);
  CHECK(runs == 0);
}

TEST_CASE("finalizer: an object in a cycle with itself is never finalized (Go's caveat)") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  std::atomic<int> runs{0};
  WeakRoot<Counted> weak;
  {
    Root<Counted> a = heap.make<Counted>(1);
    a->left = heap.make<Counted>(2);
    a->left->left = a;
    weak = a.get();
    heap.set_finalizer(a.get(), [&](Counted*) { runs.fetch_add(1); });
  }
  for (int i = 0; i < 3; ++i) collect_and_finalize(heap);
  CHECK(runs == 0);
  CHECK(weak.get() != nullptr);  // and never freed: what the finalizer keeps reaches it
}

TEST_CASE("cleanup: runs once per registration after the object is freed, in cycles too") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  std::atomic<int> a_runs{0}, b_runs{0};
  std::vector<int> seen_args;
  std::mutex seen_mu;
  const long destroyed_before = Counted::destroyed;
  WeakRoot<Counted> a_weak;
  {
    Root<Counted> a = heap.make<Counted>(1);
    Root<Counted> b = heap.make<Counted>(2);
    a->left = b;
    b->left = a;  // a cycle of objects with cleanups is collected
    a_weak = a.get();
    auto record = [&](int arg) {
      std::lock_guard<std::mutex> lock(seen_mu);
      seen_args.push_back(arg);
    };
    heap.add_cleanup(a.get(), [&, record](int arg) { a_runs.fetch_add(1); record(arg); }, 10);
    heap.add_cleanup(a.get(), [&, record](int arg) { a_runs.fetch_add(1); record(arg); }, 11);
    heap.add_cleanup(b.get(), [&, record](int arg) { b_runs.fetch_add(1); record(arg); }, 20);
    collect_and_finalize(heap);
    CHECK(a_runs == 0);
    CHECK(b_runs == 0);
  }
  collect_and_finalize(heap);
  CHECK(a_runs == 2);
  CHECK(b_runs == 1);
  CHECK(Counted::destroyed - destroyed_before == 2);  // no resurrection: freed at once
  CHECK(a_weak.get() == nullptr);
  std::sort(seen_args.begin(), seen_args.end());
  CHECK(seen_args == std::vector<int>{10, 11, 20});
  collect_and_finalize(heap);
  CHECK(a_runs == 2);
}

TEST_CASE("cleanup: a managed argument stays alive until the cleanup has run") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  std::atomic<long> seen{0};
  const long destroyed_before = Counted::destroyed;
  {
    Root<Counted> obj = heap.make<Counted>(1);
    Counted* arg = heap.make<Counted>(77);  // reachable only from the cleanup
    arg->left = heap.make<Counted>(78);
    heap.add_cleanup(obj.get(), [&](Counted* a) { seen = a->value * 100 + a->left->value; }, arg);
    collect_and_finalize(heap);  // arg survives a collection while obj lives
    CHECK(Counted::destroyed == destroyed_before);
  }
  collect_and_finalize(heap);
  CHECK(seen == 7778);
  collect_and_finalize(heap);
  CHECK(Counted::destroyed - destroyed_before == 3);
}

TEST_CASE("cleanup and finalizer misuse is a UsageError that changes nothing") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Counted> obj = heap.make<Counted>(1);
  CHECK_THROWS_AS(heap.add_cleanup(obj.get(), [](Counted*) {}, obj.get()), UsageError);
  CHECK_THROWS_AS(heap.set_finalizer(&obj->right, [](Member<Counted>*) {}), UsageError);
  test::run_on_thread(heap, [&] {
    CHECK_THROWS_AS(heap.set_finalizer(obj.get(), [](Counted*) {}), UsageError);  // not attached
  });
  // run_finalizers from a finalizer would wait for itself.
  std::atomic<bool> threw{false};
  {
    Root<Counted> doomed = heap.make<Counted>(2);
    heap.set_finalizer(doomed.get(), [&](Counted*) {
      try {
        heap.run_finalizers();
      } catch (const UsageError&) {
        threw = true;
      }
    });
  }
  collect_and_finalize(heap);
  CHECK(threw);
  CHECK(obj->value == 1);
}

TEST_CASE("finalizer: many objects finalized while several threads allocate") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  constexpr int kThreads = 2;
  const int per_thread = test::kSanitized ? 2000 : 20000;
  std::atomic<long> runs{0};
  std::atomic<long> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadScope scope{heap};
      for (int i = 0; i < per_thread; ++i) {
        Root<Counted> c = heap.make<Counted>(t * 1000000 + i);
        c->left = heap.make<Counted>(i);
        const long expect = t * 1000000 + i;
        if (i % 2 == 0) {
          heap.set_finalizer(c.get(), [&, expect](Counted* o) {
            if (o->value != expect || o->left->value != expect % 1000000) bad.fetch_add(1);
            runs.fetch_add(1);
          });
        } else {
          heap.add_cleanup(c.get(), [&](int) { runs.fetch_add(1); }, 0);
        }
      }
    });
  }
  test::join_all(heap, threads);
  collect_and_finalize(heap);
  collect_and_finalize(heap);
  CHECK(runs == kThreads * per_thread);
  CHECK(bad == 0);
}
