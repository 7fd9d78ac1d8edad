// The workloads of bench.hpp on tricolor: managed nodes with Member fields,
// a Root on each node whose children are being built, the heap's own pacer
// (GOGC, GOMEMLIMIT and GODEBUG from the environment) deciding when to collect.
//
//   bench_tricolor tricolor binary-trees [depth] [threads] | gcbench [depth]
//
// Reports the heap's cycles, every stop-the-world pause it kept (the last
// 4096) and its GC CPU fraction.
#include <tricolor/tricolor.hpp>

#include "bench.hpp"

namespace {

template <class Data>
struct Tricolor {
  static constexpr const char* kName = "tricolor";
  struct Node : tricolor::Object, Data {
    tricolor::Member<Node> left, right;
    void trace(tricolor::Visitor& v) const {
      v(left);
      v(right);
    }
  };
  using Local = tricolor::Root<Node>;
  using Global = tricolor::Root<Node>;
  struct Doubles {
    tricolor::Root<tricolor::Array<double>> array;
    double* data;
  };
  struct Attach : tricolor::ThreadScope {
    explicit Attach(Tricolor& p) : ThreadScope(p.heap) {}
  };
  struct Blocking : tricolor::BlockingScope {
    explicit Blocking(Tricolor& p) : BlockingScope(p.heap) {}
  };

  tricolor::Heap heap;
  tricolor::ThreadScope attach{heap};

  Node* node() { return heap.make<Node>(); }
  Doubles doubles(std::size_t n) {
    tricolor::Root<tricolor::Array<double>> a = heap.make_array<double>(n);
    return {a, a->data()};
  }
  template <class T>
  void drop(T&) {}
  void report() {
    const tricolor::GcStats s = heap.gc_stats();
    std::vector<std::uint64_t> pauses;
    for (const tricolor::Pause& p : s.pauses) pauses.push_back(p.total_ns);
    std::printf("gc_cycles %u\ngc_cpu_pct %.1f\n", s.num_gc, 100 * heap.mem_stats().gc_cpu_fraction);
    bench::print_pauses(pauses);
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::main<Tricolor>(argc, argv); }
