#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

Counted* build_tree(Heap& heap, int depth) {
  Root<Counted> node = heap.make<Counted>(depth);
  if (depth > 0) {
    node->left = build_tree(heap, depth - 1);
    node->right = build_tree(heap, depth - 1);
  }
  return node;
}

long count_tree(const Counted* n) { return n == nullptr ? 0 : 1 + count_tree(n->left) + count_tree(n->right); }

struct Leaf : Object {  // noscan, trivially destructible: no header, never scanned
  long payload[3] = {1, 2, 3};
};

struct Holder : Object {
  Member<Leaf> leaf;
  Member<Array<Member<Counted>>> items;
  void trace(Visitor& v) const {
    v(leaf);
    v(items);
  }
};

}  // namespace

TEST_CASE("collector: a rooted tree survives whole, an unrooted one dies whole") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long before = Counted::live;
  Root<Counted> kept = build_tree(heap, 12);
  build_tree(heap, 12);  // garbage
  heap.collect();
  CHECK(count_tree(kept) == (1 << 13) - 1);
  CHECK(Counted::live - before == (1 << 13) - 1);
  CHECK(heap.mem_stats().heap_objects == static_cast<std::uint64_t>((1 << 13) - 1));
  kept = nullptr;
  heap.collect();
  CHECK(Counted::live == before);
  CHECK(heap.mem_stats().heap_objects == 0);
}

TEST_CASE("collector: DAGs, cycles and self-references are kept while reachable and freed after") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long before = Counted::live;
  const long destroyed_before = Counted::destroyed;
  {
    Root<Counted> a = heap.make<Counted>(1);
    Counted* shared = heap.make<Counted>(2);
    a->left = shared;
    a->right = heap.make<Counted>(3);
    a->right->left = shared;  // DAG: two paths to one node
    shared->left = a;         // cycle back to the root
    shared->right = shared;   // self-reference
    heap.collect();
    CHECK(Counted::live - before == 3);
    CHECK(a->left->right.get() == a->left.get());
    CHECK(a->right->left->left.get() == a.get());
  }
  heap.collect();
  CHECK(Counted::live == before);
  CHECK(Counted::destroyed - destroyed_before == 3);
}

TEST_CASE("collector: a 10-million-node list marks without recursion") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long n = test::kSanitized ? 1000000 : 10000000;
  Root<Counted> head = heap.make<Counted>(0);
  Counted* tail = head;
  for (long i = 1; i < n; ++i) {
    Counted* next = heap.make<Counted>(i);
    tail->left = next;
    tail = next;
  }
  heap.collect();
  long count = 0, sum = 0;
  for (const Counted* c = head; c != nullptr; c = c->left) {
    ++count;
    sum += c->value;
  }
  CHECK(count == n);
  CHECK(sum == n * (n - 1) / 2);
  head = nullptr;
  heap.collect();
  CHECK(heap.mem_stats().heap_objects == 0);
}

TEST_CASE("collector: a wide array keeps every element, chunked scanning misses none") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  // 300k Members = 2.4 MB: many 128 KiB chunks.
  const std::size_t n = 300000;
  Root<Array<Member<Counted>>> array = heap.make_array<Member<Counted>>(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 3 != 0) (*array)[i] = heap.make<Counted>(static_cast<long>(i));
  }
  heap.collect();
  std::size_t present = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 3 == 0) {
      REQUIRE((*array)[i].get() == nullptr);
    } else {
      REQUIRE((*array)[i]->value == static_cast<long>(i));
      ++present;
    }
  }
  CHECK(present == n - (n + 2) / 3);
  CHECK(heap.mem_stats().heap_objects == present + 1);
  for (std::size_t i = 0; i < n; i += 2) (*array)[i] = nullptr;
  heap.collect();
  CHECK(heap.mem_stats().heap_objects == 1 + (n / 2 - n / 6));
}

TEST_CASE("collector: noscan objects and arrays of plain data are kept through a traced parent") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Holder> holder = heap.make<Holder>();
  holder->leaf = heap.make<Leaf>();
  holder->items = heap.make_array<Member<Counted>>(4);
  (*holder->items)[2] = heap.make<Counted>(7);
  Root<Array<double>> numbers = heap.make_array<double>(100000);
  for (std::size_t i = 0; i < numbers->size(); ++i) CHECK((*numbers)[i] == 0.0);
  (*numbers)[99999] = 2.5;
  heap.make_array<char>(1 << 20);  // garbage, large
  heap.collect();
  CHECK(holder->leaf->payload[2] == 3);
  CHECK((*holder->items)[2]->value == 7);
  CHECK((*numbers)[99999] == 2.5);
  CHECK(heap.mem_stats().heap_objects == 5);
}

TEST_CASE("collector: arrays of scalars and value-initialised plain objects are zero on fresh and reused cells, untouched pages stay out of RSS") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const std::size_t n = std::size_t{8} << 20;  // 64 MiB of doubles: a huge segment of its own
  const long os_page = sysconf(_SC_PAGESIZE);
  {
    Root<Array<double>> fresh = heap.make_array<double>(n);
    // The elements were not written: the pages past the header were never
    // made resident (with transparent huge pages, the header's 2 MiB may be).
    char* const first = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(fresh->data()) + os_page) & ~(os_page - 1));
    const std::size_t pages = (reinterpret_cast<char*>(fresh->data() + n) - first) / os_page;
    std::vector<unsigned char> resident(pages);
    REQUIRE(mincore(first, pages * os_page, resident.data()) == 0);
    const auto touched = std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return (r & 1) != 0; });
    CHECK(static_cast<std::size_t>(touched) * os_page <= (std::size_t{4} << 20));
    CHECK(std::all_of(fresh->begin(), fresh->end(), [](double d) { return d == 0.0; }));
  }
  // Large arrays on pages a dead array dirtied, in a normal segment.
  for (int round = 0; round < 3; ++round) {
    Root<Array<long>> a = heap.make_array<long>(300000);
    CHECK(std::all_of(a->begin(), a->end(), [](long x) { return x == 0; }));
    std::fill(a->begin(), a->end(), -1L);
    a = nullptr;
    heap.collect();
  }
  // Small arrays of scalars are noscan: the heap hands their cells out as
  // dead arrays left them, and the array clears itself. So does a noscan
  // object that make() value-initialises. Each round reuses the cells the
  // round before dirtied.
  struct Plain : Object {
    long words[12];
  };
  for (int round = 0; round < 3; ++round) {
    std::vector<Root<Array<long>>> arrays;
    std::vector<Root<Plain>> plains;
    for (int i = 0; i < 200; ++i) {
      arrays.push_back(heap.make_array<long>(100));
      plains.push_back(heap.make<Plain>());
    }
    for (auto& a : arrays) {
      CHECK(std::all_of(a->begin(), a->end(), [](long x) { return x == 0; }));
      std::fill(a->begin(), a->end(), -1L);
    }
    for (auto& p : plains) {
      CHECK(std::all_of(std::begin(p->words), std::end(p->words), [](long x) { return x == 0; }));
      std::fill(std::begin(p->words), std::end(p->words), -1L);
    }
    arrays.clear();
    plains.clear();
    heap.collect();
  }
  // A pointer to member's null is not all zero bits: it is constructed.
  struct S {
    int x;
  };
  Root<Array<int S::*>> members = heap.make_array<int S::*>(1000);
  CHECK(std::all_of(members->begin(), members->end(), [](int S::*m) { return m == nullptr; }));
}

TEST_CASE("collector: destructors run exactly once for each dead object, and at heap destruction") {
  const long destroyed_before = Counted::destroyed;
  {
    Heap heap(test::test_options());
    {
      ThreadScope attach{heap};
      std::vector<Root<Counted>> kept;
      for (int i = 0; i < 10000; ++i) {
        Counted* c = heap.make<Counted>(i);
        if (i % 4 == 0) kept.emplace_back(c);
      }
      heap.collect();
      CHECK(Counted::destroyed - destroyed_before == 7500);
      heap.collect();
      CHECK(Counted::destroyed - destroyed_before == 7500);
    }
    // The Roots are gone with the scope; the heap still holds 2500 objects.
  }
  CHECK(Counted::destroyed - destroyed_before == 10000);
}

TEST_CASE("collector: Roots destroyed in any order keep exactly their objects") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long before = Counted::live;
  std::vector<std::unique_ptr<Root<Counted>>> roots;
  for (int i = 0; i < 200; ++i) roots.push_back(std::make_unique<Root<Counted>>(heap.make<Counted>(i)));
  std::vector<int> order(200);
  for (int i = 0; i < 200; ++i) order[i] = (i * 73) % 200;  // a permutation
  long alive = 200;
  for (int k = 0; k < 200; ++k) {
    roots[order[k]].reset();
    --alive;
    if (k % 37 == 0) {
      heap.collect();
      CHECK(Counted::live - before == alive);
    }
  }
  heap.collect();
  CHECK(Counted::live == before);
}

namespace {
// A constructor that allocates: under stress the collector runs inside it.
struct Builder : Object {
  Member<Counted> first, second;
  Member<Builder> child;
  Builder(Heap& heap, int depth) {
    first = heap.make<Counted>(depth);
    for (int i = 0; i < 50; ++i) heap.make<Counted>(-1);  // garbage: provokes collections
    second = heap.make<Counted>(depth + 1000);
    if (depth > 0) child = heap.make<Builder>(heap, depth - 1);
  }
  void trace(Visitor& v) const {
    v(first);
    v(second);
    v(child);
  }
};
}  // namespace

TEST_CASE("collector: constructors may allocate, even with a collection at every allocation") {
  Options options = test::test_options();
  options.stress_interval = 7;  // collect at every 7th allocation
  Heap heap(options);
  ThreadScope attach{heap};
  Root<Builder> b = heap.make<Builder>(heap, 20);
  int depth = 20;
  for (const Builder* x = b; x != nullptr; x = x->child, --depth) {
    REQUIRE(x->first->value == depth);
    REQUIRE(x->second->value == depth + 1000);
  }
  CHECK(depth == -1);
  CHECK(heap.mem_stats().num_gc > 100);
}

TEST_CASE("collector: two heaps at once keep their objects apart") {
  Heap a(test::test_options());
  Heap b(test::test_options());
  ThreadScope attach_a{a};
  ThreadScope attach_b{b};
  Root<Counted> in_a = build_tree(a, 8);
  Root<Counted> in_b = build_tree(b, 9);
  build_tree(a, 8);
  build_tree(b, 8);
  a.collect();
  b.collect();
  CHECK(count_tree(in_a) == 511);
  CHECK(count_tree(in_b) == 1023);
  CHECK(a.mem_stats().heap_objects == 511);
  CHECK(b.mem_stats().heap_objects == 1023);
}

TEST_CASE("collector: the allocation trigger collects without being asked") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Counted> kept = build_tree(heap, 10);
  for (int i = 0; i < 400000; ++i) heap.make<Counted>(i);  // ~16 MB of garbage
  const MemStats s = heap.mem_stats();
  CHECK(s.num_gc >= 2);
  CHECK(s.num_forced_gc == 0);
  CHECK(s.heap_alloc < (std::uint64_t{12} << 20));
  CHECK(count_tree(kept) == 2047);
}
