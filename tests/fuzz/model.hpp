// The shadow model: the object graph the fuzzed program built, as the
// library's documented semantics say it must behave (heap.hpp, weak.hpp,
// ephemeron.hpp).
//
// Exactness. While a heap has no automatic cycles (its percent is off, the
// fuzzer's Options turn off the periodic and stress cycles), the only
// cycles are the program's collect()s, each followed by run_finalizers(),
// and cycle() simulates each one: after it, every object's weak state and
// memory, every finalizer and cleanup count, must match exactly. Once
// automatic cycles may have run, the real heap may be ahead of the model
// (it may have found an unreachable object dead that the model has not),
// so a weak read of an object that the program can no longer reach may read
// either way, and the next check first collects until the model reaches its
// fixed point, where both must agree again. Concurrent programs are always
// in the second case: another thread may collect at any time.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "program.hpp"

namespace tricolor::fuzz {

inline constexpr int kNone = -1;

struct ModelCleanup {
  int id;
  int keep;  // the managed argument, or kNone
};

struct ModelObject {
  int heap = 0;
  bool has_destructor = false;
  int field[2] = {kNone, kNone};  // Member<Node> a, b
  int weak = kNone;               // WeakMember<Node>
  int key = kNone;                // Ephemeron<Node, Node>
  int value = kNone;
  int finalizer = kNone;          // its finalizer's id, until it is queued
  std::vector<ModelCleanup> cleanups;  // until they run
  bool cleared = false;           // its weak handles read null
  bool freed = false;             // its memory went back (destructor ran)
};

// What a weak read of an object must return.
enum class WeakExpect { kAlive, kDead, kEither };

class Model {
 public:
  Model();

  int make(int heap, bool has_destructor);
  ModelObject& object(int id) { return objects_[id]; }
  const std::vector<ModelObject>& objects() const { return objects_; }

  int& local(int thread, int heap, int slot) { return local_[thread][heap][slot]; }
  int& global(int heap, int slot) { return global_[heap][slot]; }
  int& weak_root(int heap, int slot) { return weak_root_[heap][slot]; }
  // The object in a handle slot of an operation (see program.hpp).
  int& handle(int thread, int heap, int slot) {
    return is_global(slot) ? global(heap, slot - kLocalSlots) : local(thread, heap, slot);
  }

  // EphemeronMap of each heap: absent until the program first uses one.
  bool map_exists[kHeaps] = {};
  bool map_has_table[kHeaps] = {};  // it allocated its slot array
  std::map<int, int> map[kHeaps];   // key -> value

  int add_finalizer(int id);
  int add_cleanup(int id, int keep);
  // Runs each finalizer and cleanup must have had so far.
  const std::vector<int>& finalizer_runs() const { return finalizer_runs_; }
  const std::vector<int>& cleanup_runs() const { return cleanup_runs_; }
  int finalizer_heap(int fid) const { return finalizer_heap_[fid]; }
  int cleanup_heap(int cid) const { return cleanup_heap_[cid]; }

  // Whether the heap may have run cycles the model did not simulate.
  bool automatic[kHeaps] = {};

  WeakExpect expect_weak(int id) const;
  // A weak read of `id` returned null where kEither was allowed.
  void read_dead(int id) { objects_[id].cleared = true; }

  // Simulates one collect() + run_finalizers() of `heap`; returns whether
  // anything changed.
  bool cycle(int heap);

  // The heap's objects that the collector must keep, if `specials` as a
  // cycle marks them (children of objects with finalizers, the arguments
  // of pending cleanups), else only what the program reaches from its
  // handles, which is alive whatever cycles ran since.
  std::vector<char> reachable(int heap, bool specials) const;

 private:
  std::vector<ModelObject> objects_;
  int local_[kMaxThreads][kHeaps][kLocalSlots];
  int global_[kHeaps][kGlobalSlots];
  int weak_root_[kHeaps][kWeakSlots];
  std::vector<int> finalizer_runs_, cleanup_runs_;
  std::vector<int> finalizer_heap_, cleanup_heap_;
};

}  // namespace tricolor::fuzz
