// The workloads of bench.hpp on the C++ runtime's own allocator, glibc's
// malloc (this program links neither mimalloc nor a collector, so malloc and
// operator new are glibc's):
//
//   malloc      malloc per node, free of every node by a walk when its tree
//               becomes garbage
//   shared_ptr  std::make_shared nodes holding std::shared_ptr children:
//               reference counting (atomic, as std::shared_ptr always is in
//               a program linked with pthreads); a tree is freed when its
//               last reference goes, by the recursive destructor chain
//
//   bench_libc malloc|shared_ptr binary-trees [depth] [threads] | gcbench [depth]
#include <cstdlib>
#include <memory>
#include <new>

#include "bench.hpp"

namespace {

template <class Data>
struct Malloc {
  static constexpr const char* kName = "malloc";
  using Node = bench::RawNode<Data>;
  using Local = Node*;
  using Global = Node*;
  struct Doubles {
    double* data;
  };

  Node* node() { return new (std::malloc(sizeof(Node))) Node(); }
  Doubles doubles(std::size_t n) { return {static_cast<double*>(std::calloc(n, sizeof(double)))}; }
  void drop(Node* n) { bench::free_tree(n, [](Node* x) { std::free(x); }); }
  void drop(Doubles d) { std::free(d.data); }
};

template <class Data>
struct SharedPtr {
  static constexpr const char* kName = "shared_ptr";
  struct Node : Data {
    std::shared_ptr<Node> left, right;
  };
  using Local = std::shared_ptr<Node>;
  using Global = std::shared_ptr<Node>;
  struct Doubles {
    std::shared_ptr<double[]> array;
    double* data;
  };

  Local node() { return std::make_shared<Node>(); }
  Doubles doubles(std::size_t n) {
    auto a = std::make_shared<double[]>(n);
    return {a, a.get()};
  }
  template <class T>
  void drop(T& x) {
    x = {};
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::main<Malloc, SharedPtr>(argc, argv); }
