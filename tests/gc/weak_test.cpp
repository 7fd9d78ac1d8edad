// Weak handles: cleared exactly when their target becomes unreachable, equal
// by object, readable from any attached thread, and never handing out an
// object that marking found dead, even before its span is swept.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

// A node that points at its parent weakly, as a DOM or an IR does.
struct TreeNode : Object {
  Member<TreeNode> left, right;
  WeakMember<TreeNode> parent;
  int id = 0;
  explicit TreeNode(int i) : id(i) {}
  void trace(Visitor& v) const {
    v(left);
    v(right);
    v(parent);
  }
};

TreeNode* build(Heap& heap, int depth, int& next_id, TreeNode* parent, std::vector<WeakRoot<TreeNode>>& all) {
  Root<TreeNode> node = heap.make<TreeNode>(next_id++);
  node->parent = parent;
  all.emplace_back(node.get());
  if (depth > 0) {
    node->left = build(heap, depth - 1, next_id, node, all);
    node->right = build(heap, depth - 1, next_id, node, all);
  }
  return node;
}

void collect_ids(const TreeNode* n, std::vector<bool>& reachable) {
  if (n == nullptr) return;
  reachable[static_cast<std::size_t>(n->id)] = true;
  collect_ids(n->left, reachable);
  collect_ids(n->right, reachable);
}

}  // namespace

TEST_CASE("weak: handles to a tree read null exactly for the nodes no longer reachable") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  std::vector<WeakRoot<TreeNode>> all;
  int next_id = 0;
  Root<TreeNode> root = build(heap, 9, next_id, nullptr, all);
  REQUIRE(all.size() == (1u << 10) - 1);
  heap.collect();
  for (const WeakRoot<TreeNode>& w : all) CHECK(w.get() != nullptr);

  // Cut the tree at a few places, keeping one subtree by a Root of its own.
  Root<TreeNode> kept = root->left->right.get();
  root->left = nullptr;
  root->right->right->left = nullptr;
  heap.collect();
  std::vector<bool> reachable(all.size(), false);
  collect_ids(root, reachable);
  collect_ids(kept, reachable);
  std::size_t live = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const TreeNode* target = all[i].get();
    CHECK((target != nullptr) == reachable[i]);
    if (target != nullptr) {
      CHECK(target->id == static_cast<int>(i));
      ++live;
    }
  }
  // 1023 nodes, less the left half (511) but for its kept subtree (255),
  // less a subtree of 127 on the right.
  CHECK(live == 1023 - 511 + 255 - 127);
  // The kept subtree's root lost its parent: its weak parent reads null.
  CHECK(kept->parent.get() == nullptr);
  CHECK(!kept->parent.empty());
  CHECK(kept->left->parent.get() == kept.get());

  root = nullptr;
  kept = nullptr;
  heap.collect();
  for (const WeakRoot<TreeNode>& w : all) CHECK(w.get() == nullptr);
}

TEST_CASE("weak: a weak handle does not keep its target alive, and cycles die whole") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long before = Counted::live;
  WeakRoot<Counted> a_weak, b_weak;
  {
    Root<Counted> a = heap.make<Counted>(1);
    Root<Counted> b = heap.make<Counted>(2);
    a->left = b;
    b->left = a;
    a_weak = a.get();
    b_weak = b.get();
    heap.collect();
    CHECK(a_weak.get() == a.get());
    CHECK(b_weak.lock()->value == 2);
  }
  heap.collect();
  CHECK(a_weak.get() == nullptr);
  CHECK(b_weak.get() == nullptr);
  CHECK(!b_weak.lock());
  CHECK(Counted::live == before);
}

TEST_CASE("weak: handles to one object are equal, also after it died, and to two objects not") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Counted> a = heap.make<Counted>(1);
  Root<Counted> b = heap.make<Counted>(2);
  WeakRoot<Counted> a1 = a.get();
  WeakRoot<Counted> a2 = a.get();
  WeakRoot<Counted> b1 = b.get();
  Root<TreeNode> holder = heap.make<TreeNode>(0);
  Root<TreeNode> other = heap.make<TreeNode>(1);
  holder->parent = other.get();
  WeakRoot<TreeNode> from_member(holder->parent);
  WeakRoot<TreeNode> made = other.get();
  CHECK(a1 == a2);
  CHECK(!(a1 == b1));
  CHECK(made == holder->parent);
  CHECK(made == from_member);
  a = nullptr;
  heap.collect();
  CHECK(a1.get() == nullptr);
  CHECK(a1 == a2);
  CHECK(!(a1 == b1));
  CHECK(b1.get() == b.get());
  // A handle made after the object died is not one of them: null is null.
  WeakRoot<Counted> none;
  CHECK(none.empty());
  CHECK(none.get() == nullptr);
  CHECK(!(none == a1));
}

TEST_CASE("weak: a weak handle handed to another thread reads the target until it dies") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Counted> target = heap.make<Counted>(42);
  WeakRoot<Counted> weak = target.get();
  std::atomic<int> step{0};
  long seen_alive = 0;
  bool seen_dead = false;
  std::thread reader([&] {
    ThreadScope t{heap};
    {
      Root<Counted> strong = weak.lock();
      seen_alive = strong ? strong->value : -1;
    }
    step.store(1);
    {
      BlockingScope idle{heap};
      while (step.load() != 2) std::this_thread::yield();
    }
    seen_dead = weak.get() == nullptr;
  });
  while (step.load() != 1) std::this_thread::yield();
  target = nullptr;
  heap.collect();
  step.store(2);
  {
    BlockingScope blocked{heap};
    reader.join();
  }
  CHECK(seen_alive == 42);
  CHECK(seen_dead);
}

TEST_CASE("weak: a strong reference taken from a weak handle keeps the target") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  WeakRoot<Counted> weak;
  {
    Root<Counted> target = heap.make<Counted>(7);
    weak = target.get();
  }
  Root<Counted> strong = weak.lock();
  REQUIRE(strong);
  heap.collect();
  heap.collect();
  CHECK(weak.get() == strong.get());
  CHECK(strong->value == 7);
}

namespace {

// Blocks the thread that sweeps it until the test says go: a sweep stopped
// half-way, with the spans after it still unswept.
struct SweepGate : Object {
  static inline std::atomic<int> state{0};  // 1: sweeping began; 2: go on
  ~SweepGate() {
    state.store(1);
    while (state.load() != 2) std::this_thread::yield();
  }
};

struct Big : Object {  // a size class far above SweepGate's: swept after it
  long payload[60] = {};
};

}  // namespace

TEST_CASE("weak: between mark termination and the sweep of its span, a dead target reads null") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  SweepGate::state.store(0);
  // The gate's span must be on the central lists, where the collector's
  // background sweep finds it: made by a thread whose cache has gone back.
  test::run_on_thread(heap, [&] {
    ThreadScope t{heap};
    heap.make<SweepGate>();
  });
  Root<Big> alive = heap.make<Big>();
  WeakRoot<Big> alive_weak = alive.get();
  WeakRoot<Big> dead_weak = heap.make<Big>();
  bool dead_read_null = false;
  Big* alive_read = nullptr;
  std::thread reader([&] {
    ThreadScope t{heap};
    {
      BlockingScope idle{heap};
      while (SweepGate::state.load() != 1) std::this_thread::yield();
    }
    // Marking is over and the sweep is stuck before the Bigs' span, which is
    // still in the main thread's cache: its mark bits decide.
    dead_read_null = dead_weak.get() == nullptr;
    alive_read = alive_weak.get();
    SweepGate::state.store(2);
  });
  heap.collect();
  {
    BlockingScope blocked{heap};
    reader.join();
  }
  CHECK(dead_read_null);
  CHECK(alive_read == alive.get());
  CHECK(dead_weak.get() == nullptr);
  CHECK(alive_weak.get() == alive.get());
}

TEST_CASE("weak: many threads read and make weak handles while cycles run back to back") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  constexpr int kThreads = 3;
  const int rounds = test::kSanitized ? 100 : 1000;
  constexpr int kCycles = 20;
  std::atomic<bool> failed{false};
  std::atomic<int> done{0};
  std::atomic<int> collections{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ThreadScope scope{heap};
      // At least `rounds`, and on until the main thread has run kCycles
      // collections: the reads must overlap many cycles, however fast.
      for (long r = 0; r < rounds || collections.load() < kCycles; ++r) {
        const long id = (long{t} << 40) | (r << 8);
        // Half of the objects stay reachable through `keep`; the weak handles
        // of the others must read null once a cycle has found them dead.
        Root<Array<Member<Counted>>> keep = heap.make_array<Member<Counted>>(64);
        std::vector<WeakRoot<Counted>> weak;
        for (int i = 0; i < 128; ++i) {
          Root<Counted> c = heap.make<Counted>(id + i);
          if (i % 2 == 0) (*keep)[static_cast<std::size_t>(i / 2)] = c.get();
          weak.emplace_back(c.get());
        }
        for (int pass = 0; pass < 8; ++pass) {
          for (int i = 0; i < 128; ++i) {
            Counted* c = weak[static_cast<std::size_t>(i)].get();
            // A read returns the object it was made for or nothing, never a
            // freed one (ASan's poison) nor a cell reused for another.
            if (c != nullptr && c->value != id + i) failed = true;
            if (i % 2 == 0 && c == nullptr) failed = true;  // reachable: must read
          }
          heap.make<Counted>(0);  // a safepoint, and some garbage
        }
      }
      done.fetch_add(1);
    });
  }
  while (done.load() != kThreads) {
    heap.collect();
    collections.fetch_add(1);
  }
  test::join_all(heap, threads);
  CHECK(!failed);
  CHECK(heap.gc_stats().num_gc >= kCycles);
}

TEST_CASE("weak: misuse is a UsageError") {
  Heap heap(test::test_options());
  {
    ThreadScope attach{heap};
    Root<TreeNode> n = heap.make<TreeNode>(1);
    WeakRoot<TreeNode> w = n.get();
    // A pointer into the middle of an object.
    CHECK_THROWS_AS(WeakRoot<Member<TreeNode>>(&n->right), UsageError);
    test::run_on_thread(heap, [&] {
      // Not attached: neither reading nor making is allowed.
      CHECK_THROWS_AS(w.get(), UsageError);
      CHECK_THROWS_AS(WeakRoot<TreeNode>(n.get()), UsageError);
    });
  }
}
