// How fast the collector marks: a live binary tree of 2^depth - 1 nodes
// (32-byte cells), collected `runs` times with the whole mark stop-the-world
// (gcstoptheworld=1) and one marker, so that the pause is the mark. Prints
// the fastest run's pause and the live bytes it marked per second: the
// number that decides how far an allocating program outruns the collector.
// Two layouts: "dfs", the tree allocated in the order marking visits it (as
// binary-trees allocates), and "shuffled", its nodes linked in a random
// order, so that every pointer leads somewhere else in the heap.
//
//   build/release/perf/mark_rate [dfs|shuffled] [depth = 22] [runs = 7]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <tricolor/tricolor.hpp>

namespace {

struct Node : tricolor::Object {
  tricolor::Member<Node> left, right;
  long value = 0;
  void trace(tricolor::Visitor& v) const {
    v(left);
    v(right);
  }
};

Node* build(tricolor::Heap& heap, int depth) {
  tricolor::Root<Node> node = heap.make<Node>();
  if (depth > 0) {
    node->left = build(heap, depth - 1);
    node->right = build(heap, depth - 1);
  }
  return node;
}

// The same tree over nodes allocated first and linked in a random order.
Node* build_shuffled(tricolor::Heap& heap, int depth) {
  const std::size_t n = (std::size_t{1} << (depth + 1)) - 1;
  tricolor::Root<tricolor::Array<tricolor::Member<Node>>> nodes = heap.make_array<tricolor::Member<Node>>(n);
  for (std::size_t i = 0; i < n; ++i) (*nodes)[i] = heap.make<Node>();
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  // Heap order over the permutation: node k's children are nodes 2k+1, 2k+2.
  for (std::size_t k = 0; 2 * k + 2 < n; ++k) {
    (*nodes)[order[k]]->left = (*nodes)[order[2 * k + 1]];
    (*nodes)[order[k]]->right = (*nodes)[order[2 * k + 2]];
  }
  return (*nodes)[order[0]];
}

}  // namespace

int main(int argc, char** argv) {
  const bool shuffled = argc > 1 && std::strcmp(argv[1], "shuffled") == 0;
  if (argc > 1 && !shuffled && std::strcmp(argv[1], "dfs") != 0) {
    std::fprintf(stderr, "usage: %s [dfs|shuffled] [depth = 22] [runs = 7]\n", argv[0]);
    return 2;
  }
  const int depth = argc > 2 ? std::atoi(argv[2]) : 22;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 7;
  tricolor::Options options = tricolor::Options::from_environment();
  options.gc_stop_the_world = 1;
  options.mark_workers = 1;
  options.gc_percent = -1;
  tricolor::Heap heap(options);
  tricolor::ThreadScope attach{heap};
  tricolor::Root<Node> tree = shuffled ? build_shuffled(heap, depth - 1) : build(heap, depth - 1);
  std::uint64_t best = UINT64_MAX, live = 0;
  for (int i = 0; i < runs; ++i) {
    heap.collect();
    const tricolor::GcStats s = heap.gc_stats();
    best = std::min(best, s.cycles.front().pause_ns);
    live = s.cycles.front().heap_live;
  }
  std::printf("live_mib %.1f\nmark_ms %.2f\nmark_mib_per_s %.0f\n", live / 1048576.0, best / 1e6,
              live / 1048576.0 / (best / 1e9));
}
