// The pause workload of pause.hpp on tricolor: 48-byte managed nodes (chains
// of 4 hanging from one Array of Members, held by a GlobalRoot), threads
// attached with ThreadScope and sleeping in a BlockingScope. Reports the
// heap's pauses with their time to safepoint, and its mark phases.
//
//   pause [live MiB = 1024] [seconds = 20] [threads = 2] [replacements/s per thread = 2000000]
//
// Run it with GODEBUG=gcstoptheworld=1 for the stop-the-world baseline.
#include <tricolor/tricolor.hpp>

#include "pause.hpp"

namespace {

struct Node : tricolor::Object {
  tricolor::Member<Node> next;
  std::uint64_t payload[3] = {1, 2, 3};
  void trace(tricolor::Visitor& v) const { v(next); }
};
using Slots = tricolor::Array<tricolor::Member<Node>>;

struct Tricolor {
  struct Attach : tricolor::ThreadScope {
    explicit Attach(Tricolor& p) : ThreadScope(p.heap) {}
  };
  struct Idle : tricolor::BlockingScope {
    explicit Idle(Tricolor& p) : BlockingScope(p.heap) {}
  };

  tricolor::Heap heap;
  tricolor::ThreadScope main_scope{heap};
  tricolor::GlobalRoot<Slots> slots;
  std::uint32_t cycles_before = 0;
  std::size_t pauses_before = 0;

  Node* node() { return heap.make<Node>(); }
  Node* chain() {
    tricolor::Root<Node> head = heap.make<Node>();
    for (int i = 1; i < pause_workload::kChain; ++i) {
      Node* n = heap.make<Node>();
      n->next = head.get();
      head = n;
    }
    return head.get();
  }
  void make_slots(std::size_t n) { slots = heap.make_array<tricolor::Member<Node>>(n); }
  void set(std::size_t i, Node* n) { (*slots)[i] = n; }
  void collect() { heap.collect(); }
  void steady() {
    const tricolor::GcStats s = heap.gc_stats();
    cycles_before = s.num_gc;
    pauses_before = s.pauses.size();
  }

  const char* mode() {
    const char* godebug = std::getenv("GODEBUG");
    return godebug != nullptr && *godebug != 0 ? godebug : "concurrent";
  }
  std::uint32_t cycles() { return heap.gc_stats().num_gc - cycles_before; }
  double gc_cpu_pct() { return 100 * heap.mem_stats().gc_cpu_fraction; }
  // The steady phase's pauses, newest first.
  std::vector<tricolor::Pause> steady_pauses() {
    std::vector<tricolor::Pause> p = heap.gc_stats().pauses;
    p.resize(p.size() - std::min(p.size(), pauses_before));
    return p;
  }
  std::vector<pause_workload::Pause> pauses() {
    std::vector<pause_workload::Pause> out;
    for (const tricolor::Pause& p : steady_pauses()) out.push_back({p.total_ns, p.to_safepoint_ns});
    return out;
  }
  // A mark phase: from a sweep termination's end to the next mark termination's start.
  std::vector<std::uint64_t> mark_phases() {
    const std::vector<tricolor::Pause> p = steady_pauses();
    std::vector<std::uint64_t> marks;
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
      if (p[i].kind == tricolor::Pause::Kind::kMarkTermination &&
          p[i + 1].kind == tricolor::Pause::Kind::kSweepTermination) {
        marks.push_back(p[i].end_ns - p[i].total_ns - p[i + 1].end_ns);
      }
    }
    return marks;
  }
};

}  // namespace

int main(int argc, char** argv) {
  Tricolor peer;
  return pause_workload::run(peer, argc - 1, argv + 1);
}
