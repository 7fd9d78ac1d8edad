// binary-trees (the Computer Language Benchmarks Game workload), depth 21 by
// default: a stretch tree, a long-lived tree, and many short-lived trees of
// growing depth, each built, checked and dropped.
//
//   binary_trees tricolor [depth]   the trees are managed objects; the heap's
//                                   own trigger (GOGC=100) decides when to collect
//   binary_trees mimalloc [depth]   the same trees with new/delete on mimalloc
//                                   (mi_new/mi_free), freed by a recursive walk
//
// Prints the checksums (identical for both) and the wall time in ms.
#include <mimalloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <tricolor/tricolor.hpp>

namespace {

struct GcNode : tricolor::Object {
  tricolor::Member<GcNode> left, right;
  void trace(tricolor::Visitor& v) const {
    v(left);
    v(right);
  }
};

GcNode* gc_tree(tricolor::Heap& heap, int depth) {
  // The parent is rooted while its subtrees are built; each subtree is
  // stored into it as soon as it is returned, before anything else allocates.
  tricolor::Root<GcNode> node = heap.make<GcNode>();
  if (depth > 0) {
    node->left = gc_tree(heap, depth - 1);
    node->right = gc_tree(heap, depth - 1);
  }
  return node;
}

long gc_check(const GcNode* n) { return n->left ? 1 + gc_check(n->left) + gc_check(n->right) : 1; }

struct MiNode {
  MiNode* left = nullptr;
  MiNode* right = nullptr;
};

MiNode* mi_tree(int depth) {
  auto* node = new (mi_new(sizeof(MiNode))) MiNode();
  if (depth > 0) {
    node->left = mi_tree(depth - 1);
    node->right = mi_tree(depth - 1);
  }
  return node;
}

long mi_check(const MiNode* n) { return n->left ? 1 + mi_check(n->left) + mi_check(n->right) : 1; }

void mi_delete(MiNode* n) {
  if (n->left) {
    mi_delete(n->left);
    mi_delete(n->right);
  }
  mi_free(n);
}

template <class Make, class Check, class Drop>
void run(int max_depth, Make make, Check check, Drop drop) {
  const int min_depth = 4;
  {
    auto stretch = make(max_depth + 1);
    std::printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check(stretch));
    drop(stretch);
  }
  auto long_lived = make(max_depth);
  for (int depth = min_depth; depth <= max_depth; depth += 2) {
    const long iterations = 1L << (max_depth - depth + min_depth);
    long sum = 0;
    for (long i = 0; i < iterations; ++i) {
      auto t = make(depth);
      sum += check(t);
      drop(t);
    }
    std::printf("%ld\t trees of depth %d\t check: %ld\n", iterations, depth, sum);
  }
  std::printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
  drop(long_lived);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (std::strcmp(argv[1], "tricolor") != 0 && std::strcmp(argv[1], "mimalloc") != 0)) {
    std::fprintf(stderr, "usage: binary_trees tricolor|mimalloc [depth]\n");
    return 2;
  }
  const int depth = argc > 2 ? std::atoi(argv[2]) : 21;
  const auto start = std::chrono::steady_clock::now();
  if (std::strcmp(argv[1], "tricolor") == 0) {
    tricolor::Heap heap;
    tricolor::ThreadScope attach{heap};
    run(
        depth, [&](int d) { return tricolor::Root<GcNode>(gc_tree(heap, d)); },
        [](const tricolor::Root<GcNode>& t) { return gc_check(t); }, [](tricolor::Root<GcNode>& t) { t = nullptr; });
    const tricolor::MemStats s = heap.mem_stats();
    std::fprintf(stderr, "tricolor: %u collections, %.1f ms paused in total, gc cpu %.1f%%, last goal %.1f MiB\n",
                 s.num_gc, s.pause_total_ns / 1e6, 100 * s.gc_cpu_fraction, s.next_gc / 1048576.0);
  } else {
    run(depth, [](int d) { return mi_tree(d); }, [](const MiNode* t) { return mi_check(t); },
        [](MiNode* t) { mi_delete(t); });
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("time_ms %.1f\n", ms);
}
