// The workloads of bench.hpp with manual memory management on mimalloc:
// mi_malloc per node, mi_free of every node by a walk when its tree becomes
// garbage. The lower bound: no collector at all.
//
//   bench_mimalloc mimalloc binary-trees [depth] [threads] | gcbench [depth]
#include <mimalloc.h>

#include <new>

#include "bench.hpp"

namespace {

template <class Data>
struct Mimalloc {
  static constexpr const char* kName = "mimalloc";
  using Node = bench::RawNode<Data>;
  using Local = Node*;
  using Global = Node*;
  struct Doubles {
    double* data;
  };

  Node* node() { return new (mi_malloc(sizeof(Node))) Node(); }
  Doubles doubles(std::size_t n) { return {static_cast<double*>(mi_zalloc(n * sizeof(double)))}; }
  void drop(Node* n) { bench::free_tree(n, [](Node* x) { mi_free(x); }); }
  void drop(Doubles d) { mi_free(d.data); }
};

}  // namespace

int main(int argc, char** argv) { return bench::main<Mimalloc>(argc, argv); }
