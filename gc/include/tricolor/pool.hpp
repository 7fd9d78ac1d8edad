// Pool<T>: a free list of managed objects that the collector trims (Go's
// sync.Pool). A thread puts objects it is done with and gets them back
// instead of allocating; the collector drops what sat in a pool, unused,
// through two cycles, so a pool never pins the memory of a burst.
//
//   Pool<Buffer> buffers{heap};
//   Buffer* b = buffers.get([&] { return heap.make<Buffer>(); });
//   ...
//   buffers.put(b);
//
// Each thread has its own part of each pool: get and put take no lock and
// touch no shared memory, and a thread gets back only what it put. An
// object in a pool is alive; one that get returns is alive until the
// thread's next safepoint, like any raw pointer (keep it in a Root to hold
// it longer). How it ages: when a cycle greys the thread's roots, the
// objects put since the previous cycle become the pool's victims, and the
// victims of the previous cycle are dropped (Go's victim cache); get takes
// from the recent ones first.
#pragma once

#include <cstdint>

#include "tricolor/gc/mutator.hpp"
#include "tricolor/heap.hpp"
#include "tricolor/object.hpp"

namespace tricolor {

template <class T>
class Pool {
 public:
  explicit Pool(Heap& heap) : heap_(heap), handle_(gc::Mutator::current(heap).register_pool()) {}
  ~Pool() { gc::Mutator::unregister_pool(heap_, handle_); }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An object from this thread's part of the pool, or nullptr.
  T* get() {
    return static_cast<T*>(const_cast<void*>(gc::Mutator::current(heap_).pool_local(handle_).get()));
  }
  // get(), or make() when the pool is empty (Go's Pool.New).
  template <class Make>
  T* get(Make&& make) {
    if (T* p = get()) return p;
    return make();
  }
  void put(T* object) {
    static_assert(std::is_base_of_v<Object, T>, "tricolor: a Pool holds managed objects");
    if (object != nullptr) gc::Mutator::current(heap_).pool_local(handle_).put(object);
  }

 private:
  Heap& heap_;
  const gc::PoolHandle handle_;
};

}  // namespace tricolor
