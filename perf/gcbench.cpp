// GCBench (Ellis, Kovac and Boehm's classic collector benchmark): trees of
// depth 4..16 built top-down and bottom-up beside a long-lived tree of depth
// 16 and a 500,000-element array of doubles that stay live throughout.
//
//   gcbench tricolor   managed nodes; the heap's trigger (GOGC=100) collects
//   gcbench mimalloc   the same with new/delete on mimalloc; each temporary
//                      tree is freed by a walk when it would become garbage
//
// Prints the wall time in ms.
#include <mimalloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include <tricolor/tricolor.hpp>

namespace {

constexpr int kStretchTreeDepth = 18;
constexpr int kLongLivedTreeDepth = 16;
constexpr int kArraySize = 500000;
constexpr int kMinTreeDepth = 4;
constexpr int kMaxTreeDepth = 16;

int tree_size(int depth) { return (1 << (depth + 1)) - 1; }
int iterations(int depth) { return 2 * tree_size(kStretchTreeDepth) / tree_size(depth); }

// ---- tricolor

struct GcNode : tricolor::Object {
  tricolor::Member<GcNode> left, right;
  int i = 0, j = 0;
  void trace(tricolor::Visitor& v) const {
    v(left);
    v(right);
  }
};

void populate(tricolor::Heap& heap, int depth, GcNode* node) {  // top-down; node is reachable
  if (depth <= 0) return;
  node->left = heap.make<GcNode>();
  node->right = heap.make<GcNode>();
  populate(heap, depth - 1, node->left);
  populate(heap, depth - 1, node->right);
}

GcNode* make_tree(tricolor::Heap& heap, int depth) {  // bottom-up
  tricolor::Root<GcNode> node = heap.make<GcNode>();
  if (depth > 0) {
    node->left = make_tree(heap, depth - 1);
    node->right = make_tree(heap, depth - 1);
  }
  return node;
}

void run_tricolor() {
  tricolor::Heap heap;
  tricolor::ThreadScope attach{heap};
  make_tree(heap, kStretchTreeDepth);  // stretch: garbage at once
  tricolor::Root<GcNode> long_lived = heap.make<GcNode>();
  populate(heap, kLongLivedTreeDepth, long_lived);
  tricolor::Root<tricolor::Array<double>> array = heap.make_array<double>(kArraySize);
  for (int i = 0; i < kArraySize / 2; ++i) (*array)[i] = 1.0 / i;
  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) {
    for (int n = iterations(depth); n > 0; --n) {
      tricolor::Root<GcNode> top_down = heap.make<GcNode>();
      populate(heap, depth, top_down);
    }
    for (int n = iterations(depth); n > 0; --n) make_tree(heap, depth);
  }
  if (long_lived == nullptr || (*array)[1000] != 1.0 / 1000) std::puts("gcbench: lost live data");
  const tricolor::MemStats s = heap.mem_stats();
  std::fprintf(stderr, "tricolor: %u collections, %.1f ms paused in total\n", s.num_gc, s.pause_total_ns / 1e6);
}

// ---- mimalloc new/delete

struct MiNode {
  MiNode* left = nullptr;
  MiNode* right = nullptr;
  int i = 0, j = 0;
};

MiNode* mi_node() { return new (mi_new(sizeof(MiNode))) MiNode(); }

void mi_populate(int depth, MiNode* node) {
  if (depth <= 0) return;
  node->left = mi_node();
  node->right = mi_node();
  mi_populate(depth - 1, node->left);
  mi_populate(depth - 1, node->right);
}

MiNode* mi_make_tree(int depth) {
  MiNode* node = mi_node();
  if (depth > 0) {
    node->left = mi_make_tree(depth - 1);
    node->right = mi_make_tree(depth - 1);
  }
  return node;
}

void mi_delete(MiNode* n) {
  if (n == nullptr) return;
  mi_delete(n->left);
  mi_delete(n->right);
  mi_free(n);
}

void run_mimalloc() {
  mi_delete(mi_make_tree(kStretchTreeDepth));
  MiNode* long_lived = mi_node();
  mi_populate(kLongLivedTreeDepth, long_lived);
  auto* array = static_cast<double*>(mi_zalloc(sizeof(double) * kArraySize));
  for (int i = 0; i < kArraySize / 2; ++i) array[i] = 1.0 / i;
  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) {
    for (int n = iterations(depth); n > 0; --n) {
      MiNode* top_down = mi_node();
      mi_populate(depth, top_down);
      mi_delete(top_down);
    }
    for (int n = iterations(depth); n > 0; --n) mi_delete(mi_make_tree(depth));
  }
  if (long_lived == nullptr || array[1000] != 1.0 / 1000) std::puts("gcbench: lost live data");
  mi_delete(long_lived);
  mi_free(array);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (std::strcmp(argv[1], "tricolor") != 0 && std::strcmp(argv[1], "mimalloc") != 0)) {
    std::fprintf(stderr, "usage: gcbench tricolor|mimalloc\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  if (std::strcmp(argv[1], "tricolor") == 0) {
    run_tricolor();
  } else {
    run_mimalloc();
  }
  std::printf("time_ms %.1f\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
}
