// The workloads of bench.hpp on the Boehm-Demers-Weiser collector (Debian's
// libgc): GC_MALLOC nodes, found conservatively from the stack and from other
// nodes, never freed by hand; GC_MALLOC_ATOMIC for the array of doubles.
//
//   boehm              stop-the-world collections (with parallel marking
//                      when the library has it; see the "note" lines)
//   boehm-incremental  the same after GC_enable_incremental(): marking in
//                      small steps interleaved with allocation, dirty pages
//                      found through mprotect/soft-dirty bits
//
//   bench_boehm boehm|boehm-incremental binary-trees [depth] [threads] | gcbench [depth]
#include <cstring>
#include <new>

#include "bench.hpp"
#include "boehm.hpp"

namespace {

template <class Data>
struct Boehm {
  static constexpr const char* kName = "boehm";
  using Node = bench::RawNode<Data>;
  using Local = Node*;
  using Global = Node*;
  struct Doubles {
    double* data;
  };
  struct Attach : boehm::ThreadRegistration {
    explicit Attach(Boehm&) {}
  };

  Boehm() {
    boehm::init(/*incremental=*/false);
  }
  Node* node() { return new (GC_MALLOC(sizeof(Node))) Node(); }
  Doubles doubles(std::size_t n) {
    auto* d = static_cast<double*>(GC_MALLOC_ATOMIC(n * sizeof(double)));
    std::memset(d, 0, n * sizeof(double));
    return {d};
  }
  template <class T>
  void drop(T&) {}
  void report() {
    std::printf("gc_cycles %lu\n", static_cast<unsigned long>(GC_get_gc_no()));
    bench::print_pauses(boehm::g_pauses);
    const unsigned v = GC_get_version();
    std::printf("note libgc %u.%u.%u: GC_get_parallel() = %d (%s), incremental %d\n", v >> 16, (v >> 8) & 0xff, v & 0xff,
                GC_get_parallel(), GC_get_parallel() > 0 ? "parallel marking on" : "parallel marking off",
                GC_is_incremental_mode());
  }
};

template <class Data>
struct BoehmIncremental : Boehm<Data> {
  static constexpr const char* kName = "boehm-incremental";
  BoehmIncremental() { GC_enable_incremental(); }
};

}  // namespace

int main(int argc, char** argv) { return bench::main<Boehm, BoehmIncremental>(argc, argv); }
