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
#include <functional>
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
  // constructor runs, so the constructor may allocate. Initialisation is
  // C++'s, as with `new T(args...)`: make<T>() value-initialises, and a
  // field a user-provided constructor leaves unset is zero if T is traced
  // (the heap zeroes such cells) and indeterminate otherwise.
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

  // Finalizers (Go's runtime.SetFinalizer): once `object` is unreachable,
  // `f(object)` runs once, on the heap's finalizer thread, which is attached
  // to the heap (f may allocate and use managed objects). The object and
  // everything it reaches stay alive until f has run; if f makes the object
  // reachable again it lives on, without a finalizer, and is freed the next
  // time it is found unreachable. One finalizer per object (a second one
  // is a UsageError). As in Go, an object reachable from itself through a
  // cycle that includes its finalizer's object is never finalized nor
  // freed: give cycles cleanups instead. `f` must not hold the object or
  // other managed pointers (hold a GlobalRoot if it must, knowing that it
  // keeps that object alive). Finalizers still queued when the heap is
  // destroyed do not run.
  template <class T, class F>
  void set_finalizer(T* object, F f);
  // Removes the object's finalizer; returns whether it had one.
  template <class T>
  bool clear_finalizer(T* object);
  // Cleanups (Go 1.24's runtime.AddCleanup): once `object` is unreachable
  // and freed, `fn(arg)` runs on the finalizer thread. The object is not
  // brought back; an object may have several cleanups, which run in no
  // particular order, and cycles of objects with cleanups are collected.
  // If `arg` is a pointer to a managed object, that object is kept alive
  // until the cleanup has run; it may not be `object` itself (a
  // UsageError), and if it reaches `object`, the object never dies.
  template <class T, class F, class A>
  void add_cleanup(T* object, F fn, A arg);
  // Waits until every finalizer and cleanup queued so far has run (after
  // collect(), those of every object that collection found unreachable).
  // The calling thread counts as blocking meanwhile.
  void run_finalizers();

 private:
  friend class ThreadScope;
  friend class gc::HeapState;
  template <class T, class... Args>
  T* construct(gc::Mutator& m, void* cell, Args&&... args);
  void set_finalizer_erased(const void* object, std::function<void(void*)> f);
  bool clear_finalizer_erased(const void* object);
  void add_cleanup_erased(const void* object, std::function<void()> fn, const void* keep);

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
alloc::SpanClass span_class_for(std::size_t bytes) {
  if constexpr (kTypedSpans<T>) {
    // Registered on first use; after that, a guard check and a load.
    static const alloc::SpanClass typed =
        alloc::SpanClass::typed(alloc::size_to_class(sizeof(T)), register_kind(&kTypeInfo<T>));
    return typed;
  } else {
    const std::uint8_t size_class = bytes <= alloc::kMaxSmallSize ? alloc::size_to_class(bytes) : 0;
    return alloc::SpanClass(size_class, !Traceable<T>, !std::is_trivially_destructible_v<T>);
  }
}
}  // namespace gc

template <class T, class... Args>
T* Heap::make(Args&&... args) {
  static_assert(std::is_base_of_v<Object, T>, "tricolor: managed types derive from tricolor::Object");
  static_assert(alignof(T) <= 16, "tricolor: managed types may be aligned to at most 16 bytes");
  gc::Mutator& m = gc::Mutator::current(*this);
  constexpr std::size_t bytes = gc::kHeaderSize<T> + sizeof(T);
  void* cell;
  if constexpr (bytes <= alloc::kMaxSmallSize) {
    cell = m.allocate_small(alloc::kSizeClasses[alloc::size_to_class(bytes)].size, gc::span_class_for<T>(bytes));
  } else {
    cell = m.allocate(bytes, gc::span_class_for<T>(bytes));
  }
  return construct<T>(m, cell, std::forward<Args>(args)...);
}

template <class T>
Array<T>* Heap::make_array(std::size_t n) {
  gc::Mutator& m = gc::Mutator::current(*this);
  constexpr std::size_t kMaxElements = (std::size_t{1} << 46) / sizeof(T);
  if (n > kMaxElements) gc::Mutator::throw_array_too_large(n, sizeof(T));
  const std::size_t bytes = gc::kHeaderSize<Array<T>> + Array<T>::bytes_for(n);
  const alloc::SpanClass sc = gc::span_class_for<Array<T>>(bytes);
  return construct<Array<T>>(m, m.allocate(bytes, sc), n, sc.zeroed());
}

template <class T, class... Args>
T* Heap::construct(gc::Mutator& m, void* at, Args&&... args) {
  constexpr std::size_t header = gc::kHeaderSize<T>;
  char* cell = static_cast<char*>(at);
  char* object = cell + header;
  if constexpr (header != 0) {
    *reinterpret_cast<std::uintptr_t*>(cell) = reinterpret_cast<std::uintptr_t>(&gc::kTypeInfo<T>);
  }
  // Rooted until the constructor returns: it may allocate, and so reach a
  // safepoint, before anything else points at the object. If it throws,
  // the object is left unconstructed: the collector frees it without
  // running ~T.
  T* result;
  {
    gc::Mutator::ConstructionRoot rooted(m, object);
    result = ::new (object) T(std::forward<Args>(args)...);
  }
  if constexpr (header != 0) gc::set_constructed(cell, &gc::kTypeInfo<T>);
  return result;
}

template <class T, class F>
void Heap::set_finalizer(T* object, F f) {
  static_assert(std::is_invocable_v<F&, T*>, "tricolor: a finalizer is called as f(object)");
  set_finalizer_erased(object, [f = std::move(f)](void* o) mutable { f(static_cast<T*>(o)); });
}

template <class T>
bool Heap::clear_finalizer(T* object) {
  return clear_finalizer_erased(object);
}

template <class T, class F, class A>
void Heap::add_cleanup(T* object, F fn, A arg) {
  static_assert(std::is_invocable_v<F&, A&>, "tricolor: a cleanup is called as fn(arg)");
  const void* keep = nullptr;
  if constexpr (std::is_pointer_v<A>) {
    if constexpr (std::is_base_of_v<Object, std::remove_cv_t<std::remove_pointer_t<A>>>) keep = arg;
  }
  add_cleanup_erased(object, [fn = std::move(fn), arg = std::move(arg)]() mutable { fn(arg); }, keep);
}

}  // namespace tricolor
