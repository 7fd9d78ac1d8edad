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
//
// With Config::specials, the threads also make and read weak handles (and
// store what a read returns into the graph, which needs the read's shading
// while marking), set and read ephemerons, and give new nodes finalizers
// and cleanups. Each epoch's end then checks the model with those rules:
// ephemeron values are reachable only through live keys, an unreachable
// node with a pending finalizer keeps what it reaches (and, through a
// cycle, itself), a weak handle reads its target exactly while it lives,
// and every finalizer and cleanup of a dead node ran, once.
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
#include <unordered_map>
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
  bool specials = false;  // weak handles, ephemerons, finalizers, cleanups
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

struct Node;

struct Registry {
  static constexpr std::size_t kMaxNodes = std::size_t{1} << 22;
  std::unique_ptr<std::atomic<std::uint8_t>[]> alive{new std::atomic<std::uint8_t>[kMaxNodes]()};
  // With Config::specials: each node, while alive, and whether it still
  // has a finalizer or a cleanup that has not run.
  std::unique_ptr<std::atomic<Node*>[]> nodes{new std::atomic<Node*>[kMaxNodes]()};
  std::unique_ptr<std::atomic<std::uint8_t>[]> finalizer_pending{new std::atomic<std::uint8_t>[kMaxNodes]()};
  std::unique_ptr<std::atomic<std::uint8_t>[]> cleanup_pending{new std::atomic<std::uint8_t>[kMaxNodes]()};
  std::atomic<std::uint64_t> next_id{0};
  std::atomic<long> live{0};
  std::atomic<bool> heap_dying{false};  // pending finalizers die with the heap
};

inline constexpr std::uint64_t kNoNode = ~std::uint64_t{0};

struct Node : Object {
  Member<Node> edges[3];
  WeakMember<Node> weak;
  std::atomic<std::uint64_t> weak_id{kNoNode};  // the node `weak` was set to
  Ephemeron<Node, Node> eph;
  Registry& registry;
  std::atomic<std::uint64_t> id;  // atomic: read by threads the node was handed to without a fence

  explicit Node(Registry& r) : registry(r), id(r.next_id.fetch_add(1, std::memory_order_relaxed)) {
    if (id.load(std::memory_order_relaxed) >= Registry::kMaxNodes) lost("too many nodes for the registry");
    registry.alive[id.load(std::memory_order_relaxed)].store(1, std::memory_order_relaxed);
    registry.nodes[id.load(std::memory_order_relaxed)].store(this, std::memory_order_relaxed);
    registry.live.fetch_add(1, std::memory_order_relaxed);
  }
  ~Node() {
    if (registry.alive[id.load(std::memory_order_relaxed)].exchange(0, std::memory_order_relaxed) != 1) {
      lost("a node was destroyed twice");
    }
    registry.nodes[id.load(std::memory_order_relaxed)].store(nullptr, std::memory_order_relaxed);
    if (registry.finalizer_pending[id.load(std::memory_order_relaxed)].load(std::memory_order_relaxed) != 0 &&
        !registry.heap_dying.load(std::memory_order_relaxed)) {
      lost("a node with a finalizer was freed before its finalizer ran");
    }
    registry.live.fetch_sub(1, std::memory_order_relaxed);
  }
  void trace(Visitor& v) const {
    for (const Member<Node>& e : edges) v(e);
    v(weak);
    v(eph);
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

// A node a thread holds in a Root, and the id it had when taken: a node
// freed while held and its cell reused would show another id.
struct Held {
  Root<Node> node;
  std::uint64_t id;
};

inline void hold(std::vector<Held>& held, Node* n) { held.push_back({Root<Node>(n), n->id.load(std::memory_order_relaxed)}); }

// Takes a random node out of `held` (which must not be empty).
inline Node* take(std::vector<Held>& held, std::mt19937_64& rng) {
  const std::size_t i = rng() % held.size();
  Node* n = held[i].node.get();
  n->check();
  if (n->id.load(std::memory_order_relaxed) != held[i].id) lost("a node held in a Root was freed and its cell reused");
  held[i] = std::move(held.back());
  held.pop_back();
  return n;
}

// One of the operations on weak handles, ephemerons, finalizers, cleanups.
inline void mutate_special(Heap& heap, Registry& registry, Table& table, std::mt19937_64& rng,
                           std::vector<Held>& held) {
  switch (rng() % 6) {
    case 0:  // point a weak handle somewhere
      // Rooted: making b's weak cell allocates, and so is a safepoint.
      if (Root<Node> a = walk(table, rng)) {
        Node* b = walk(table, rng);
        a->weak = b;
        a->weak_id.store(b != nullptr ? b->id.load(std::memory_order_relaxed) : kNoNode, std::memory_order_relaxed);
      }
      break;
    case 1:  // read one, and sometimes keep what it returns
      if (Node* a = walk(table, rng)) {
        if (Node* w = a->weak.get()) {
          w->check();
          if (w->id.load(std::memory_order_relaxed) != a->weak_id.load(std::memory_order_relaxed)) {
            lost("a weak handle read another node than it was made for");
          }
          // Into a Root, after this thread's roots were greyed, perhaps: only
          // the read's shading keeps a node that was garbage when marking began.
          if (rng() % 2 == 0) hold(held, w);
        }
      }
      break;
    case 2: {  // set an ephemeron, to a new value or to a node of the graph
      Root<Node> value = rng() % 2 == 0 ? heap.make<Node>(registry) : walk(table, rng);
      Root<Node> key = walk(table, rng);
      if (value && rng() % 2 == 0) value->edges[0] = key.get();  // a value that reaches its key
      if (Root<Node> a = walk(table, rng)) a->eph.set(key, value);  // a safepoint: rooted
      break;
    }
    case 3:  // read an ephemeron's value, and sometimes hold on to it
      if (Node* a = walk(table, rng)) {
        if (Node* v = a->eph.value()) {
          v->check();
          if (rng() % 2 == 0) a->edges[rng() % 3] = v;
        }
      }
      break;
    case 4: {  // a node with a finalizer, hung from the graph or dropped
      Root<Node> n = heap.make<Node>(registry);
      n->edges[0] = walk(table, rng);
      const std::uint64_t id = n->id.load(std::memory_order_relaxed);
      registry.finalizer_pending[id].store(1, std::memory_order_relaxed);
      heap.set_finalizer(n.get(), [&registry](Node* f) {
        f->check();
        for (const Member<Node>& e : f->edges) {
          if (const Node* c = e.get()) c->check();  // what it reaches is intact
        }
        if (registry.finalizer_pending[f->id.load(std::memory_order_relaxed)].exchange(0) != 1) {
          lost("a finalizer ran twice");
        }
      });
      if (rng() % 2 == 0) {
        if (Node* a = walk(table, rng)) a->edges[1 + rng() % 2] = n.get();
      }
      break;
    }
    default: {  // a node with a cleanup
      Root<Node> n = heap.make<Node>(registry);
      const std::uint64_t id = n->id.load(std::memory_order_relaxed);
      registry.cleanup_pending[id].store(1, std::memory_order_relaxed);
      heap.add_cleanup(
          n.get(),
          [&registry](std::uint64_t dead) {
            if (registry.cleanup_pending[dead].exchange(0) != 1) lost("a cleanup ran twice");
          },
          id);
      if (Node* a = walk(table, rng)) a->edges[rng() % 3] = n.get();
      break;
    }
  }
}

inline void mutate(Heap& heap, Registry& registry, Table& table, std::mt19937_64& rng, int ops, bool specials) {
  // Nodes this thread alone holds, in Roots. At least kReserve of them,
  // taken at random, so that a detached node often stays held to the end
  // of a mark phase.
  constexpr std::size_t kReserve = 64;
  std::vector<Held> held;
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
          hold(held, x);
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
    } else if (specials && r < 95) {
      mutate_special(heap, registry, table, rng, held);
    } else {  // a private node, after a moment in a BlockingScope now and then
      if (r == 99) BlockingScope blocked(heap);
      hold(held, heap.make<Node>(registry));
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

// With specials: what the collector must keep once the graph is still and
// every finalizer that could run has run. Returns a failure, or empty.
inline std::string check_specials(Table& table, Registry& registry, std::size_t& kept) {
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  // Values of ephemerons whose key is not (yet) seen, by key.
  std::unordered_map<const Node*, std::vector<const Node*>> waiting;
  // What a node keeps: its edges, and its ephemeron's value while the key lives.
  auto children = [&](const Node* n) {
    for (const Member<Node>& e : n->edges) {
      if (const Node* c = e.get()) stack.push_back(c);
    }
    const Node* key = n->eph.key();
    const Node* value = n->eph.value();
    if (key == nullptr || value == nullptr) return;
    if (seen.count(key) != 0) {
      stack.push_back(value);
    } else {
      waiting[key].push_back(value);
    }
  };
  auto drain = [&] {
    while (!stack.empty()) {
      const Node* n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second) continue;
      n->check();
      children(n);
      if (auto it = waiting.find(n); it != waiting.end()) {
        for (const Node* v : it->second) stack.push_back(v);
        waiting.erase(it);
      }
    }
  };
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (const Node* n = table[i].get()) stack.push_back(n);
  }
  drain();
  // A node whose finalizer has not run keeps what it reaches (not itself).
  std::vector<const Node*> finalizable;
  const std::uint64_t ids = registry.next_id.load(std::memory_order_relaxed);
  for (std::uint64_t id = 0; id < ids; ++id) {
    if (registry.finalizer_pending[id].load(std::memory_order_relaxed) == 0) continue;
    const Node* n = registry.nodes[id].load(std::memory_order_relaxed);
    if (n == nullptr) return "node " + std::to_string(id) + " died with its finalizer pending";
    finalizable.push_back(n);
    children(n);
    drain();
  }
  std::size_t expected = seen.size();
  for (const Node* f : finalizable) expected += seen.count(f) == 0;
  const long live = registry.live.load(std::memory_order_relaxed);
  if (static_cast<long>(expected) != live) {
    return std::to_string(live) + " nodes alive, but the model keeps " + std::to_string(expected);
  }
  for (const Node* n : seen) {
    const std::uint64_t wid = n->weak_id.load(std::memory_order_relaxed);
    if (wid == kNoNode) continue;
    const Node* target = n->weak.get();
    const bool target_alive = registry.alive[wid].load(std::memory_order_relaxed) == 1;
    if ((target != nullptr) != target_alive) {
      return std::string("a weak handle reads ") + (target != nullptr ? "a node" : "null") + " but its target is " +
             (target_alive ? "alive" : "dead");
    }
    if (target != nullptr && target->id.load(std::memory_order_relaxed) != wid) {
      return "a weak handle reads another node than its own";
    }
  }
  for (std::uint64_t id = 0; id < ids; ++id) {
    if (registry.alive[id].load(std::memory_order_relaxed) == 0 &&
        registry.cleanup_pending[id].load(std::memory_order_relaxed) != 0) {
      return "node " + std::to_string(id) + " is dead but its cleanup has not run";
    }
  }
  kept = expected;
  return {};
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
        mutate(heap, registry, *table, rng, config.ops_per_epoch, config.specials);
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
    if (config.specials) {
      // Finalizers run, then their nodes die in a later cycle, whose sweep
      // may queue the finalizers of nodes only they kept: until it settles.
      heap.run_finalizers();
      for (long before = -1; before != registry.live.load(std::memory_order_relaxed);) {
        before = registry.live.load(std::memory_order_relaxed);
        heap.collect();
        heap.run_finalizers();
      }
      std::size_t kept = 0;
      const std::string wrong = check_specials(*table, registry, kept);
      if (failure.empty() && !wrong.empty()) failure = "epoch " + std::to_string(e) + ": " + wrong;
      if (failure.empty()) ++result.epochs_verified;
      result.reachable = kept;
      BlockingScope blocked(heap);
      epoch_end.arrive_and_wait();
      continue;
    }
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
  registry.heap_dying.store(true, std::memory_order_relaxed);
  return failure;
}

}  // namespace tricolor::test::stress
