// The concurrent stress workload: several mutator threads allocate, rewire
// and drop a shared graph (every store through Member) while another thread
// runs collections back to back. Every cycle is verified by gccheckmark;
// at the end of every epoch the threads stop, and a full collection must
// leave alive exactly the objects reachable from the roots.
//
// Two operations are chosen to need one half each of the hybrid barrier:
//   detach  a thread moves an edge's target into a Root and clears the
//           edge. Its roots may already be scanned, so only the deletion
//           half keeps the target.
//   adopt   a thread allocates a node (possibly the allocation that parks
//           for the cycle's start, so that the node is black and the
//           thread's roots still unscanned), stores into it a node it
//           holds only in a Root, and drops the Root. Only the insertion
//           half keeps the adopted node.
// Built with either half disabled (TRICOLOR_TEST_BARRIER_HALF), the workload
// loses live objects; barrier_ablation_test.cpp shows that it does.
#pragma once

#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <tricolor/tricolor.hpp>

namespace tricolor::test::stress {

struct Config {
  std::uint64_t seed = 1;
  int threads = 4;
  int epochs = 4;
  int ops_per_epoch = 20000;
  // The graph the threads start from: large enough that marking it takes a
  // while, which gives the mutators room to race the marker, and with one
  // path to most nodes, so that a detached subgraph is often reachable from
  // nowhere but the detaching thread's Root.
  int initial_nodes = 100000;
};

struct Result {
  std::uint64_t cycles = 0;
  std::uint64_t nodes = 0;
  int epochs_verified = 0;
  std::size_t reachable = 0;  // nodes reachable at the last epoch's end
};

// A freed live object is reported at once, with an abort: after it, the
// heap is not to be trusted, and the ablation tests watch for the abort.
[[noreturn]] inline void lost(const char* what) {
  std::fprintf(stderr, "stress: %s\n", what);
  std::abort();
}

struct Registry {
  static constexpr std::size_t kMaxNodes = std::size_t{1} << 22;
  std::unique_ptr<std::atomic<std::uint8_t>[]> alive{new std::atomic<std::uint8_t>[kMaxNodes]()};
  std::atomic<std::uint64_t> next_id{0};
  std::atomic<long> live{0};
};

struct Node : Object {
  Member<Node> edges[3];
  Registry& registry;
  std::atomic<std::uint64_t> id;  // atomic: read by threads the node was handed to without a fence

  explicit Node(Registry& r) : registry(r), id(r.next_id.fetch_add(1, std::memory_order_relaxed)) {
    if (id.load(std::memory_order_relaxed) >= Registry::kMaxNodes) lost("too many nodes for the registry");
    registry.alive[id.load(std::memory_order_relaxed)].store(1, std::memory_order_relaxed);
    registry.live.fetch_add(1, std::memory_order_relaxed);
  }
  ~Node() {
    if (registry.alive[id.load(std::memory_order_relaxed)].exchange(0, std::memory_order_relaxed) != 1) {
      lost("a node was destroyed twice");
    }
    registry.live.fetch_sub(1, std::memory_order_relaxed);
  }
  void trace(Visitor& v) const {
    for (const Member<Node>& e : edges) v(e);
  }
  // Every node a thread reaches must still be alive.
  void check() const {
    const std::uint64_t i = id.load(std::memory_order_relaxed);
    if (i >= Registry::kMaxNodes || registry.alive[i].load(std::memory_order_relaxed) != 1) {
      lost("a thread reached a node the collector had freed");
    }
  }
};

using Table = Array<Member<Node>>;

// A node some random way down from a random root slot.
inline Node* walk(Table& table, std::mt19937_64& rng) {
  Node* n = table[rng() % table.size()].get();
  for (int steps = static_cast<int>(rng() % 64); n != nullptr && steps > 0; --steps) {
    n->check();
    const std::size_t first = rng() % 3;
    Node* next = nullptr;
    for (std::size_t k = 0; k < 3 && next == nullptr; ++k) next = n->edges[(first + k) % 3].get();
    if (next == nullptr) break;
    n = next;
  }
  if (n != nullptr) n->check();
  return n;
}

// Takes a random node out of `held` (which must not be empty).
inline Node* take(std::vector<Root<Node>>& held, std::mt19937_64& rng) {
  const std::size_t i = rng() % held.size();
  Node* n = held[i].get();
  held[i] = std::move(held.back());
  held.pop_back();
  return n;
}

inline void mutate(Heap& heap, Registry& registry, Table& table, std::mt19937_64& rng, int ops) {
  // Nodes this thread alone holds, in Roots. At least kReserve of them,
  // taken at random, so that a detached node often stays held to the end
  // of a mark phase.
  constexpr std::size_t kReserve = 64;
  std::vector<Root<Node>> held;
  for (int op = 0; op < ops; ++op) {
    const unsigned r = static_cast<unsigned>(rng() % 100);
    if (r < 25) {  // adopt
      Root<Node> n = heap.make<Node>(registry);
      if (held.size() > kReserve) n->edges[0] = take(held, rng);
      if (Node* a = walk(table, rng)) a->edges[1 + rng() % 2] = n.get();
    } else if (r < 50) {  // detach
      if (Node* a = walk(table, rng)) {
        Member<Node>& edge = a->edges[rng() % 3];
        if (Node* x = edge.get()) {
          held.emplace_back(x);
          edge = nullptr;
        }
      }
    } else if (r < 65) {  // re-attach a held node
      if (held.size() > kReserve) {
        if (Node* a = walk(table, rng)) a->edges[rng() % 3] = take(held, rng);
      }
    } else if (r < 85) {  // rewire
      if (Node* a = walk(table, rng)) a->edges[1 + rng() % 2] = rng() % 4 == 0 ? nullptr : walk(table, rng);
    } else if (r < 90) {  // replace a root slot
      if (Node* a = walk(table, rng)) table[rng() % table.size()] = a;
    } else {  // a private node
      held.emplace_back(heap.make<Node>(registry));
    }
    if (held.size() > 256) take(held, rng);  // dropped: garbage unless reachable elsewhere
  }
}

// Counts the nodes reachable from the table, checking each.
inline std::size_t reachable(Table& table) {
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (const Node* n = table[i].get()) stack.push_back(n);
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    n->check();
    for (const Member<Node>& e : n->edges) {
      if (const Node* next = e.get()) stack.push_back(next);
    }
  }
  return seen.size();
}

// Runs the workload; returns what it verified. Fails through the returned
// message (empty on success) or, for a lost object, by aborting.
inline std::string run(const Config& config, Result& result) {
  Registry registry;  // outlives the heap, whose destruction destroys the nodes
  Options options;
  options.checkmark = true;
  Heap heap(options);
  ThreadScope main_scope(heap);
  GlobalRoot<Table> table = heap.make_array<Member<Node>>(1024);
  {
    // 1024 chains hanging from the table: a marker walks each one node
    // after the other, so for most of a mark phase most chains are white.
    std::vector<Root<Node>> tails;
    tails.reserve(table->size());
    for (int i = 0; i < config.initial_nodes; ++i) {
      Node* n = heap.make<Node>(registry);
      const std::size_t chain = static_cast<std::size_t>(i) % table->size();
      if (tails.size() <= chain) {
        (*table)[chain] = n;
        tails.emplace_back(n);
      } else {
        tails[chain]->edges[0] = n;
        tails[chain] = n;
      }
    }
  }

  std::atomic<bool> done{false};
  // Back-to-back cycles, from a thread attached to no heap.
  std::thread driver([&] {
    while (!done.load(std::memory_order_relaxed)) {
      heap.collect();
    }
  });

  std::barrier epoch_end(config.threads + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      ThreadScope scope(heap);
      std::mt19937_64 rng(config.seed * 7919 + static_cast<std::uint64_t>(t));
      for (int e = 0; e < config.epochs; ++e) {
        mutate(heap, registry, *table, rng, config.ops_per_epoch);
        BlockingScope blocked(heap);
        epoch_end.arrive_and_wait();  // the main thread verifies
        epoch_end.arrive_and_wait();
      }
    });
  }

  std::string failure;
  for (int e = 0; e < config.epochs; ++e) {
    {
      BlockingScope blocked(heap);
      epoch_end.arrive_and_wait();
    }
    // The graph is still now. A cycle that starts after this call frees
    // exactly what is unreachable; mem_stats empties the threads' caches,
    // which sweeps the spans they held from before the cycle.
    heap.collect();
    const MemStats ms = heap.mem_stats();
    const std::size_t reach = reachable(*table);
    const long live = registry.live.load(std::memory_order_relaxed);
    if (failure.empty() && static_cast<long>(reach) != live) {
      failure = "epoch " + std::to_string(e) + ": " + std::to_string(live) + " nodes alive but " +
                std::to_string(reach) + " reachable";
    }
    if (failure.empty() && ms.heap_objects != reach + 1) {
      failure = "epoch " + std::to_string(e) + ": HeapObjects " + std::to_string(ms.heap_objects) + " but " +
                std::to_string(reach) + " nodes and the table reachable";
    }
    if (failure.empty()) ++result.epochs_verified;
    result.reachable = reach;
    BlockingScope blocked(heap);
    epoch_end.arrive_and_wait();
  }
  done.store(true, std::memory_order_relaxed);
  {
    BlockingScope blocked(heap);
    for (std::thread& t : threads) t.join();
    driver.join();
  }
  result.cycles = heap.gc_stats().num_gc;
  result.nodes = registry.next_id.load(std::memory_order_relaxed);
  table = nullptr;
  return failure;
}

}  // namespace tricolor::test::stress
