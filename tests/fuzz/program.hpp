// The fuzzer's input decoded into a program: which threads attach to which
// heap, then a list of operations, each run by one thread on one heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tricolor::fuzz {

inline constexpr int kHeaps = 2;
inline constexpr int kMaxThreads = 3;
inline constexpr int kLocalSlots = 6;    // Roots per thread and heap
inline constexpr int kGlobalSlots = 6;   // GlobalRoots per heap
inline constexpr int kWeakSlots = 6;     // WeakRoots per heap
inline constexpr std::size_t kMaxOps = 300;

// A handle slot named by an operation: below kLocalSlots a Root of the
// running thread, else a GlobalRoot; both of the operation's heap.
inline constexpr int kHandleSlots = kLocalSlots + kGlobalSlots;
inline bool is_global(int slot) { return slot >= kLocalSlots; }

enum class OpCode : std::uint8_t {
  kMake,            // a: handle, b: kind (with or without a destructor)
  kStore,           // a->field(c) = b: a Member store
  kLoad,            // a = b->field(c)
  kCopy,            // a = b (copy construction or assignment)
  kMove,            // a = std::move(b)
  kDrop,            // a destroyed (c odd) or set to null
  kWeakStore,       // a->weak = b
  kWeakLoad,        // a = b->weak.get()
  kWeakRootSet,     // weak root c = a
  kWeakRootLock,    // a = weak root c .lock()
  kEphemeronSet,    // a->pair.set(b, c)
  kEphemeronRead,   // a = b->pair.key() or value()
  kMapSet,          // map.set(a, b); b null erases
  kMapGet,          // a = map.get(b)
  kMapReplace,      // a new, empty EphemeronMap; the old one is garbage
  kSetFinalizer,    // on a
  kClearFinalizer,  // on a
  kAddCleanup,      // on a, with argument b (managed if c odd) or an int
  kCollect,         // collect, run finalizers, compare with the model (in a
                    // concurrent program only if c is odd, else collect)
  kSetGcPercent,    // a picks the percent: off or small enough to collect
  kGarbage,         // a picks how many unreachable objects to allocate
  kBlocking,        // enter or leave a BlockingScope the program controls
  kSafepoint,
  kCount,
  // Appended by decode, not drawn from the input:
  kUnblock,         // leave the thread's BlockingScopes
};

struct Op {
  OpCode code;
  std::uint8_t thread;
  std::uint8_t heap;
  std::uint8_t a, b, c;
};

struct Program {
  int threads = 2;
  // In order, one operation at a time, or each thread its own operations
  // at once between checks.
  bool concurrent = false;
  std::uint8_t attach[kMaxThreads] = {};  // bit h: attached to heap h
  std::vector<Op> ops;                    // ends with a check of each heap
};

Program decode(const std::uint8_t* data, std::size_t size);

}  // namespace tricolor::fuzz
