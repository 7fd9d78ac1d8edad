// A seeded random program builds and rewires a graph through handles and
// collects at random points. A shadow copy of the graph, kept outside the
// heap by node id, says after every collection exactly which nodes are
// reachable; the test checks that exactly those are alive (constructed and
// not destroyed) and that every edge still points where the shadow says.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;

namespace {

constexpr int kEdges = 3;

std::set<long>& alive_ids() {
  static std::set<long> ids;
  return ids;
}

struct RNode : Object {
  std::array<Member<RNode>, kEdges> edges;
  long id;
  explicit RNode(long i) : id(i) { alive_ids().insert(id); }
  ~RNode() { alive_ids().erase(id); }
  void trace(Visitor& v) const {
    for (const auto& e : edges) v(e);
  }
};

struct Shadow {
  std::map<long, std::array<long, kEdges>> edges;  // id -> target ids (-1: none)
  std::vector<long> roots;

  std::set<long> reachable() const {
    std::set<long> seen;
    std::vector<long> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      const long id = stack.back();
      stack.pop_back();
      if (!seen.insert(id).second) continue;
      for (long t : edges.at(id)) {
        if (t >= 0) stack.push_back(t);
      }
    }
    return seen;
  }
};

// Runs one random program; returns how many live nodes its verifications
// checked against the shadow (0 would mean it verified nothing).
std::size_t run_program(unsigned seed, int operations, std::size_t stress) {
  Options options = test::test_options();
  options.stress_interval = stress;
  Heap heap(options);
  ThreadScope attach{heap};
  std::mt19937 rng(seed);
  Shadow shadow;
  std::vector<Root<RNode>> roots;  // parallel to shadow.roots
  long next_id = static_cast<long>(seed) << 20;

  // A node reached by a random walk from a random root: always reachable,
  // so always safe to touch whatever collections happened meanwhile.
  auto walk = [&]() -> RNode* {
    if (roots.empty()) return nullptr;
    RNode* n = roots[rng() % roots.size()];
    for (int steps = static_cast<int>(rng() % 6); steps > 0; --steps) {
      RNode* next = n->edges[rng() % kEdges];
      if (next == nullptr) break;
      n = next;
    }
    return n;
  };
  std::size_t checked = 0;
  auto verify = [&] {
    heap.collect();
    const std::set<long> reachable = shadow.reachable();
    REQUIRE(alive_ids() == reachable);
    for (std::size_t r = 0; r < roots.size(); ++r) REQUIRE(roots[r]->id == shadow.roots[r]);
    // Every reachable node's edges, in the heap, match the shadow.
    std::set<const RNode*> seen;
    std::vector<const RNode*> stack;
    for (const auto& r : roots) stack.push_back(r);
    while (!stack.empty()) {
      const RNode* n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second) continue;
      const auto& expected = shadow.edges.at(n->id);
      for (int k = 0; k < kEdges; ++k) {
        const RNode* t = n->edges[k];
        REQUIRE((t == nullptr ? -1 : t->id) == expected[k]);
        if (t != nullptr) stack.push_back(t);
      }
    }
    REQUIRE(seen.size() == reachable.size());
    checked += seen.size();
    // The dead are gone for good: forget them.
    for (auto it = shadow.edges.begin(); it != shadow.edges.end();) {
      it = reachable.count(it->first) ? std::next(it) : shadow.edges.erase(it);
    }
  };

  for (int op = 0; op < operations; ++op) {
    const unsigned choice = rng() % 100;
    if (roots.empty() || choice < 10) {  // new root
      RNode* n = heap.make<RNode>(next_id);
      shadow.edges[next_id] = {-1, -1, -1};
      roots.emplace_back(n);
      shadow.roots.push_back(next_id++);
    } else if (choice < 45) {  // new node hung from a reachable one
      RNode* parent = walk();
      const int k = static_cast<int>(rng() % kEdges);
      RNode* child = heap.make<RNode>(next_id);  // a safepoint: parent stays reachable
      shadow.edges[next_id] = {-1, -1, -1};
      parent->edges[k] = child;
      shadow.edges[parent->id][k] = next_id++;
    } else if (choice < 70) {  // rewire an edge to another reachable node
      RNode* from = walk();
      RNode* to = walk();
      const int k = static_cast<int>(rng() % kEdges);
      from->edges[k] = to;
      shadow.edges[from->id][k] = to->id;
    } else if (choice < 85) {  // cut an edge
      RNode* from = walk();
      const int k = static_cast<int>(rng() % kEdges);
      from->edges[k] = nullptr;
      shadow.edges[from->id][k] = -1;
    } else if (choice < 95) {  // drop a root
      const std::size_t r = rng() % roots.size();
      roots.erase(roots.begin() + static_cast<std::ptrdiff_t>(r));
      shadow.roots.erase(shadow.roots.begin() + static_cast<std::ptrdiff_t>(r));
    } else {
      verify();
    }
  }
  roots.clear();
  shadow.roots.clear();
  verify();
  REQUIRE(alive_ids().empty());
  return checked;
}

}  // namespace

TEST_CASE("random graphs: exactly the reachable set survives every collection, over many seeds") {
  const unsigned seeds = test::kSanitized ? 300 : 2000;
  for (unsigned seed = 1; seed <= seeds; ++seed) {
    INFO("seed " << seed);
    REQUIRE(run_program(seed, 400, 0) > 0);
  }
}

TEST_CASE("random graphs: the same with a collection at every few allocations (stress mode)") {
  const unsigned seeds = test::kSanitized ? 30 : 200;
  for (unsigned seed = 1; seed <= seeds; ++seed) {
    INFO("seed " << seed);
    REQUIRE(run_program(seed + 100000, 300, 1 + seed % 5) > 0);
  }
}
