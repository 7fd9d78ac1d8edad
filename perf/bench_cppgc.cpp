// The workloads of bench.hpp on Oilpan (cppgc), V8's C++ collector, from
// Debian's libnode (built with -fno-rtti, linked with -lnode). Nodes are
// GarbageCollected with Member fields and Trace(); the long-lived tree and
// the array are held by Persistent handles; a node whose children are being
// built is held by a raw pointer on the stack, which cppgc finds by its
// conservative stack scan (HeapOptions::Default()). The heap collects on its
// own (incremental and concurrent marking and sweeping, the default);
// nothing forces a collection. cppgc::DefaultPlatform supplies the worker
// threads and, through v8::V8::InitializePlatform, V8's platform.
//
// A cppgc heap belongs to one thread: with threads > 1 each worker thread
// allocates from a heap of its own, as Blink's threads do.
//
//   bench_cppgc cppgc binary-trees [depth] [threads] | gcbench [depth]
//
// cppgc's public API reports neither its cycles nor its pauses.
#include <cppgc/allocation.h>
#include <cppgc/default-platform.h>
#include <cppgc/garbage-collected.h>
#include <cppgc/heap.h>
#include <cppgc/member.h>
#include <cppgc/persistent.h>
#include <cppgc/platform.h>
#include <cppgc/visitor.h>
#include <v8-initialization.h>

#include <cstring>
#include <memory>

#include "bench.hpp"

namespace {

thread_local cppgc::AllocationHandle* t_allocation = nullptr;  // this thread's heap

std::shared_ptr<cppgc::DefaultPlatform> process_platform() {
  static const std::shared_ptr<cppgc::DefaultPlatform> platform = [] {
    auto p = std::make_shared<cppgc::DefaultPlatform>();
    // libnode's cppgc is V8's, not the standalone build: its trace events
    // go through V8's platform, which must be set before the first cycle.
    v8::V8::InitializePlatform(p->GetV8Platform());
    cppgc::InitializeProcess(p->GetPageAllocator());
    return p;
  }();
  return platform;
}

class DoubleArray final : public cppgc::GarbageCollected<DoubleArray> {
 public:
  explicit DoubleArray(std::size_t n) : size(n) { std::memset(data(), 0, n * sizeof(double)); }
  double* data() { return reinterpret_cast<double*>(this + 1); }  // the AdditionalBytes
  void Trace(cppgc::Visitor*) const {}

  const std::size_t size;  // also puts data() on an 8-byte boundary
};

template <class Data>
struct Cppgc {
  static constexpr const char* kName = "cppgc";
  struct Node final : cppgc::GarbageCollected<Node>, Data {
    cppgc::Member<Node> left, right;
    void Trace(cppgc::Visitor* v) const {
      v->Trace(left);
      v->Trace(right);
    }
  };
  using Local = Node*;
  using Global = cppgc::Persistent<Node>;
  struct Doubles {
    cppgc::Persistent<DoubleArray> array;
    double* data;
  };
  struct Attach {
    std::unique_ptr<cppgc::Heap> heap = cppgc::Heap::Create(process_platform());
    explicit Attach(Cppgc&) { t_allocation = &heap->GetAllocationHandle(); }
  };

  std::unique_ptr<cppgc::Heap> heap = cppgc::Heap::Create(process_platform());

  Cppgc() { t_allocation = &heap->GetAllocationHandle(); }
  Node* node() { return cppgc::MakeGarbageCollected<Node>(*t_allocation); }
  Doubles doubles(std::size_t n) {
    auto* a = cppgc::MakeGarbageCollected<DoubleArray>(*t_allocation, cppgc::AdditionalBytes(n * sizeof(double)), n);
    return {a, a->data()};
  }
  template <class T>
  void drop(T&) {}
  void report() {
    std::printf("note cppgc (libnode): HeapOptions::Default(): conservative stack scan, incremental+concurrent "
                "marking and sweeping; DefaultPlatform worker threads; no public cycle or pause counts\n");
  }
};

}  // namespace

int main(int argc, char** argv) { return bench::main<Cppgc>(argc, argv); }
