// tricolor::Heap: a managed heap and its collector.
//
//   tricolor::Heap heap;                       // options from the environment
//   tricolor::ThreadScope attach{heap};        // this thread may now use it
//   tricolor::Root<Node> tree = heap.make<Node>();
//   tree->left = heap.make<Node>();
//   heap.collect();
//
// Every allocation is a safepoint: the collector may run there, and an
// object reachable only from a raw pointer may be freed. Keep objects you
// need in a Root, a GlobalRoot, or a Member of a reachable object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span_class.hpp"
#include "tricolor/array.hpp"
#include "tricolor/gc/mutator.hpp"
#include "tricolor/gc/type_info.hpp"
#include "tricolor/object.hpp"
#include "tricolor/options.hpp"
#include "tricolor/stats.hpp"

namespace tricolor {

class Heap {
 public:
  explicit Heap(const Options& options = Options::from_environment());
  // Runs the destructor of every object still in the heap and returns its
  // memory. Every ThreadScope of the heap must be gone first.
  ~Heap();
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  // A new T constructed from args. The object is rooted while its
  // constructor runs, so the constructor may allocate.
  template <class T, class... Args>
  T* make(Args&&... args);

  // A new Array<T> of n value-initialised elements.
  template <class T>
  Array<T>* make_array(std::size_t n);

  // Runs a full collection now and returns when it has swept (runtime.GC).
  void collect();
  // A safepoint: lets a pending collection run. Call it in long loops that
  // do not allocate.
  void safepoint();

  // Memory statistics as of now (stops the world briefly, as Go's
  // ReadMemStats does; see MemStats).
  MemStats mem_stats();
  // Pauses and cycles so far; does not stop the world.
  GcStats gc_stats();

  // GOGC at run time (debug.SetGCPercent): returns the previous percent; a
  // negative one turns the percent goal off. Thread-safe; applies to the
  // cycle in progress.
  int set_gc_percent(int percent);
  // GOMEMLIMIT at run time (debug.SetMemoryLimit), in bytes: returns the
  // previous limit; a negative argument only reads it.
  std::int64_t set_memory_limit(std::int64_t limit);

 private:
  friend class ThreadScope;
  template <class T, class... Args>
  T* construct(gc::Mutator& m, std::size_t bytes, Args&&... args);

  std::unique_ptr<gc::HeapState> state_;
};

// Attaches the calling thread to a heap for the scope's lifetime. A thread
// must be attached to a heap to allocate from it or to hold Roots into it.
class ThreadScope {
 public:
  explicit ThreadScope(Heap& heap);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  std::unique_ptr<gc::Mutator> mutator_;
};

// Marks the calling thread, attached to `heap`, as one that will not touch
// the heap (no allocation, no handle created, copied or destroyed, no
// managed object read) until the scope ends: while it waits on I/O or a
// lock, the collector runs without waiting for it (Go's entersyscall).
class BlockingScope {
 public:
  explicit BlockingScope(Heap& heap);
  ~BlockingScope();
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  gc::Mutator& mutator_;
};

// ---- Implementation of the templates.

namespace gc {
template <class T>
constexpr alloc::SpanClass span_class_for(std::size_t bytes) {
  const std::uint8_t size_class = bytes <= alloc::kMaxSmallSize ? alloc::size_to_class(bytes) : 0;
  return alloc::SpanClass(size_class, !Traceable<T>, !std::is_trivially_destructible_v<T>);
}
}  // namespace gc

template <class T, class... Args>
T* Heap::make(Args&&... args) {
  static_assert(std::is_base_of_v<Object, T>, "tricolor: managed types derive from tricolor::Object");
  static_assert(alignof(T) <= 16, "tricolor: managed types may be aligned to at most 16 bytes");
  gc::Mutator& m = gc::Mutator::current(*this);
  return construct<T>(m, gc::kHeaderSize<T> + sizeof(T), std::forward<Args>(args)...);
}

template <class T>
Array<T>* Heap::make_array(std::size_t n) {
  gc::Mutator& m = gc::Mutator::current(*this);
  constexpr std::size_t kMaxElements = (std::size_t{1} << 46) / sizeof(T);
  if (n > kMaxElements) gc::Mutator::throw_array_too_large(n, sizeof(T));
  return construct<Array<T>>(m, gc::kHeaderSize<Array<T>> + Array<T>::bytes_for(n), n);
}

template <class T, class... Args>
T* Heap::construct(gc::Mutator& m, std::size_t bytes, Args&&... args) {
  constexpr std::size_t header = gc::kHeaderSize<T>;
  char* cell = static_cast<char*>(m.allocate(bytes, gc::span_class_for<T>(bytes)));
  char* object = cell + header;
  if constexpr (header != 0) {
    *reinterpret_cast<std::uintptr_t*>(cell) = reinterpret_cast<std::uintptr_t>(&gc::kTypeInfo<T>);
  }
  // Rooted until the constructor returns: it may allocate, and so reach a
  // safepoint, before anything else points at the object.
  m.begin_construction(object);
  T* result;
  try {
    result = ::new (object) T(std::forward<Args>(args)...);
  } catch (...) {
    // Left unconstructed: the collector frees it without running ~T.
    m.end_construction();
    throw;
  }
  m.end_construction();
  if constexpr (header != 0) gc::set_constructed(cell);
  return result;
}

}  // namespace tricolor
