// The pause workload of pause.hpp on the Boehm GC: 32-byte GC_MALLOC nodes
// (next + 24 bytes of payload; Boehm has no object header) in chains of 4
// hanging from one GC_MALLOC'd array of pointers, every thread registered
// with the collector. Time to safepoint is not known: 0.
//
//   pause_boehm boehm|boehm-incremental [live MiB = 1024] [seconds = 20] [threads = 2] [replacements/s per thread = 2000000]
#include <cmath>
#include <cstring>
#include <new>

#include "boehm.hpp"
#include "pause.hpp"

namespace {

struct Node {
  Node* next = nullptr;
  std::uint64_t payload[3] = {1, 2, 3};
};

struct Boehm {
  struct Attach : boehm::ThreadRegistration {
    explicit Attach(Boehm&) {}
  };
  struct Idle {  // a sleeping thread is stopped by a signal like any other
    explicit Idle(Boehm&) {}
  };

  const bool incremental;
  Node** slots = nullptr;
  std::size_t cycles_before = 0, pauses_before = 0;

  explicit Boehm(bool inc) : incremental(inc) {
    boehm::init(incremental);
  }
  Node* node() { return new (GC_MALLOC(sizeof(Node))) Node(); }
  Node* chain() {
    Node* head = node();
    for (int i = 1; i < pause_workload::kChain; ++i) {
      Node* n = node();
      n->next = head;
      head = n;
    }
    return head;
  }
  void make_slots(std::size_t n) { slots = static_cast<Node**>(GC_MALLOC(n * sizeof(Node*))); }
  void set(std::size_t i, Node* n) { slots[i] = n; }
  void collect() { GC_gcollect(); }
  void steady() {
    cycles_before = GC_get_gc_no();
    pauses_before = boehm::g_pauses.size();
  }

  const char* mode() { return incremental ? "boehm-incremental" : "boehm"; }
  std::uint32_t cycles() { return static_cast<std::uint32_t>(GC_get_gc_no() - cycles_before); }
  double gc_cpu_pct() { return std::nan(""); }  // libgc does not report it
  std::vector<pause_workload::Pause> pauses() {
    std::vector<pause_workload::Pause> out;
    for (std::size_t i = pauses_before; i < boehm::g_pauses.size(); ++i) out.push_back({boehm::g_pauses[i], 0});
    return out;
  }
  std::vector<std::uint64_t> mark_phases() { return {}; }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (std::strcmp(argv[1], "boehm") != 0 && std::strcmp(argv[1], "boehm-incremental") != 0)) {
    std::fprintf(stderr, "usage: pause_boehm boehm|boehm-incremental [live MiB] [seconds] [threads] [rate]\n");
    return 2;
  }
  Boehm peer(std::strcmp(argv[1], "boehm-incremental") == 0);
  return pause_workload::run(peer, argc - 2, argv + 2);
}
