// The throughput workloads every C++ peer runs, written once over a "peer":
// a small policy class that says how a node is allocated, held and freed.
//
//   binary-trees <depth> [threads]  the Computer Language Benchmarks Game shape:
//       a stretch tree of depth+1, a long-lived tree of depth, and for
//       d = 4, 6, ..., depth: 2^(depth-d+4) trees of depth d built bottom-up,
//       counted and dropped. With threads > 1 the trees of each depth are
//       shared out among that many threads (thread t builds trees t, t+T, ...).
//   gcbench [depth = 16]  Ellis, Kovac and Boehm's GCBench: a stretch tree of
//       depth+2, a long-lived tree of depth (top-down) and an array of 500 000
//       doubles that stay live, then for d = 4, 6, ..., depth as many trees
//       of depth d as make 2x the stretch tree's nodes, top-down, then as
//       many bottom-up.
//
// Each program prints "checksum N" (nodes counted: the same for every peer),
// "time_ms T" (wall time of the workload, after the peer is set up), and
// what the peer knows of its collector: "gc_cycles N", "pauses_us a b ...",
// "note ...". perf/suite.py takes CPU time and peak RSS from wait4().
//
// A peer P<Data> provides: Node (with left/right members and Data's fields),
// node() -> a new node, Local (what holds a node while its children are
// allocated), Global (what holds the long-lived tree), drop(x) (free what x
// owns: a no-op for collected peers), Doubles doubles(n) with a .data
// pointer; optionally Attach (RAII, per worker thread), Blocking (RAII,
// around the main thread's join), report() (prints the collector's lines).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

struct TreeData {};  // binary-trees nodes: two pointers
struct GcBenchData {  // GCBench nodes: two pointers and two ints
  int i = 0, j = 0;
};

// A node of the peers that allocate and free by hand (or conservatively).
template <class Data>
struct RawNode : Data {
  RawNode* left = nullptr;
  RawNode* right = nullptr;
};

// Frees a tree of RawNodes with `release`, children first.
template <class Data, class Release>
void free_tree(RawNode<Data>* n, Release release) {
  if (n == nullptr) return;
  free_tree(n->left, release);
  free_tree(n->right, release);
  release(n);
}

// Node count; works on every peer's pointer type.
template <class Ptr>
long check(const Ptr& n) {
  return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

template <class P>
typename P::Local bottom_up(P& p, int depth) {
  typename P::Local n = p.node();
  if (depth > 0) {
    n->left = bottom_up(p, depth - 1);
    n->right = bottom_up(p, depth - 1);
  }
  return n;
}

template <class P, class Ptr>
void top_down(P& p, int depth, const Ptr& n) {  // n is reachable
  if (depth <= 0) return;
  n->left = p.node();
  n->right = p.node();
  top_down(p, depth - 1, n->left);
  top_down(p, depth - 1, n->right);
}

template <class P>
long binary_trees(P& p, int max_depth, int threads) {
  constexpr int kMinDepth = 4;
  long sum = 0;
  {
    typename P::Local stretch = bottom_up(p, max_depth + 1);
    sum += check(stretch);
    p.drop(stretch);
  }
  typename P::Global long_lived = bottom_up(p, max_depth);
  std::vector<long> sums(static_cast<std::size_t>(threads));
  auto work = [&](int t) {
    for (int depth = kMinDepth; depth <= max_depth; depth += 2) {
      const long iterations = 1L << (max_depth - depth + kMinDepth);
      for (long i = t; i < iterations; i += threads) {
        typename P::Local tree = bottom_up(p, depth);
        sums[static_cast<std::size_t>(t)] += check(tree);
        p.drop(tree);
      }
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        if constexpr (requires { typename P::Attach; }) {
          typename P::Attach attach(p);
          work(t);
        } else {
          work(t);
        }
      });
    }
    auto join = [&] {
      for (std::thread& w : workers) w.join();
    };
    if constexpr (requires { typename P::Blocking; }) {
      typename P::Blocking blocking(p);
      join();
    } else {
      join();
    }
  }
  for (long s : sums) sum += s;
  sum += check(long_lived);
  p.drop(long_lived);
  return sum;
}

template <class P>
long gcbench(P& p, int max_depth) {
  constexpr int kMinDepth = 4;
  constexpr std::size_t kArraySize = 500000;
  const int stretch_depth = max_depth + 2;
  auto tree_size = [](int depth) { return (1L << (depth + 1)) - 1; };
  long sum = 0;
  {
    typename P::Local stretch = bottom_up(p, stretch_depth);
    sum += check(stretch);
    p.drop(stretch);
  }
  typename P::Global long_lived = p.node();
  top_down(p, max_depth, long_lived);
  auto array = p.doubles(kArraySize);
  for (std::size_t i = 0; i < kArraySize / 2; ++i) array.data[i] = 1.0 / static_cast<double>(i);
  for (int depth = kMinDepth; depth <= max_depth; depth += 2) {
    const long iterations = 2 * tree_size(stretch_depth) / tree_size(depth);
    // The last tree of each kind is counted: evidence that it was built whole.
    for (long n = iterations; n > 0; --n) {
      typename P::Local tree = p.node();
      top_down(p, depth, tree);
      if (n == 1) sum += check(tree);
      p.drop(tree);
    }
    for (long n = iterations; n > 0; --n) {
      typename P::Local tree = bottom_up(p, depth);
      if (n == 1) sum += check(tree);
      p.drop(tree);
    }
  }
  sum += check(long_lived);
  if (array.data[1000] != 1.0 / 1000) sum = -1;  // the live array was lost
  p.drop(long_lived);
  p.drop(array);
  return sum;
}

template <template <class> class P, class Data, class Workload>
int run_peer(Workload workload) {
  P<Data> peer;
  const auto start = std::chrono::steady_clock::now();
  const long sum = workload(peer);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("checksum %ld\ntime_ms %.1f\n", sum, ms);
  if constexpr (requires { peer.report(); }) peer.report();
  return 0;
}

template <template <class> class P>
int run_named(std::string_view workload, int argc, char** argv) {
  auto arg = [&](int i, int fallback) { return argc > i ? std::atoi(argv[i]) : fallback; };
  if (workload == "binary-trees") {
    const int depth = arg(3, 21), threads = std::max(1, arg(4, 1));
    return run_peer<P, TreeData>([&](auto& p) { return binary_trees(p, depth, threads); });
  }
  if (workload == "gcbench") {
    const int depth = arg(3, 16);
    return run_peer<P, GcBenchData>([&](auto& p) { return gcbench(p, depth); });
  }
  std::fprintf(stderr, "unknown workload %.*s\n", static_cast<int>(workload.size()), workload.data());
  return 2;
}

// main() of a peer program: <program> <peer> binary-trees [depth = 21] [threads = 1]
//                           <program> <peer> gcbench [depth = 16]
template <template <class> class... Peers>
int main(int argc, char** argv) {
  if (argc >= 3) {
    const std::string_view name = argv[1], workload = argv[2];
    int rc = -1;
    ((rc < 0 && name == Peers<TreeData>::kName ? rc = run_named<Peers>(workload, argc, argv) : 0), ...);
    if (rc >= 0) return rc;
  }
  std::fprintf(stderr, "usage: %s {", argv[0]);
  ((std::fprintf(stderr, " %s", Peers<TreeData>::kName)), ...);
  std::fprintf(stderr, " } {binary-trees [depth] [threads] | gcbench [depth]}\n");
  return 2;
}

// Prints "pauses_us ..." for a list of pause lengths in nanoseconds.
inline void print_pauses(const std::vector<std::uint64_t>& ns) {
  std::printf("pauses_us");
  for (std::uint64_t p : ns) std::printf(" %.1f", static_cast<double>(p) / 1e3);
  std::printf("\n");
}

}  // namespace bench
