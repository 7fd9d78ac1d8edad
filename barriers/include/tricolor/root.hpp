// Handles that keep managed objects alive from outside the heap.
//
//   Root<T>        a root owned by one thread, for locals and members of
//                  ordinary C++ objects on that thread. Cheap: registering
//                  and unregistering are a few stores, and no write barrier
//                  (the thread greys its own roots once per cycle, see
//                  write_barrier.hpp). Create, use and
//                  destroy it on one thread, which must be attached to the
//                  heap of the object it holds (a ThreadScope).
//   GlobalRoot<T>  a root any thread may hold, assign and destroy (it takes
//                  a process-wide lock to do so). For caches, registries,
//                  and objects handed between threads.
//
// Both are movable and copyable, and may be destroyed in any order.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <utility>

#include "tricolor/alloc/segment.hpp"
#include "tricolor/barriers/root_list.hpp"
#include "tricolor/barriers/write_barrier.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor {

template <class T>
class Root : private barriers::RootNode {
 public:
  Root() noexcept { link(); }
  Root(std::nullptr_t) noexcept { link(); }  // NOLINT
  Root(T* p) {                               // NOLINT: converts like a raw pointer
    check_attached(p);
    object_ = p;
    link();
  }
  Root(const Root& other) noexcept {
    object_ = other.object_;
    link();
  }
  Root(Root&& other) noexcept {
    object_ = std::exchange(other.object_, nullptr);
    link();
  }
  ~Root() { barriers::RootList::unlink(this); }

  Root& operator=(T* p) {
    check_attached(p);
    object_ = p;
    return *this;
  }
  Root& operator=(const Root& other) noexcept {
    object_ = other.object_;
    return *this;
  }
  Root& operator=(Root&& other) noexcept {
    object_ = std::exchange(other.object_, nullptr);
    return *this;
  }

  T* get() const noexcept { return static_cast<T*>(const_cast<void*>(object_)); }
  T* operator->() const noexcept { return get(); }
  T& operator*() const noexcept { return *get(); }
  explicit operator bool() const noexcept { return object_ != nullptr; }
  operator T*() const noexcept { return get(); }  // NOLINT

 private:
  void link() noexcept { barriers::thread_roots().list.link(this); }
  // A heap scans a thread's Roots only while the thread is attached to it:
  // a Root to any other heap's object would keep nothing alive.
  static void check_attached(const void* p) {
    if (p == nullptr) return;
    const barriers::ThreadRoots& roots = barriers::thread_roots();
    if (!roots.attached_to(alloc::Segment::of(p)->owner)) [[unlikely]] {
      barriers::throw_root_not_attached(roots.attached_heaps != 0);
    }
  }
};

namespace barriers {
// The part of GlobalRoot that does not depend on T; the heap marks the
// handles into it orphaned when it is destroyed.
class GlobalRootNode : public RootNode {
 public:
  // With the global roots' lock held (Heap::~Heap). The pointer goes too:
  // every other heap's global-root scan reads each handle's object to see
  // whose it is, and a dead heap's segment may be unmapped by then, or
  // reused by another heap, where the stale pointer would keep a stranger
  // alive.
  void orphan() noexcept {
    object_ = nullptr;
    orphaned_.store(true, std::memory_order_relaxed);
  }
  bool orphaned() const noexcept { return orphaned_.load(std::memory_order_relaxed); }

 protected:
  GlobalRootNode() noexcept = default;
  ~GlobalRootNode() = default;
  // A global slot takes the full write barrier, as Go's globals do: a
  // mark worker scans all of them at once, under this lock, at some moment
  // of the mark phase, and a store before or after that moment must not
  // hide an object from it.
  void set(const void* p) noexcept {
    GlobalRoots& g = global_roots();
    std::lock_guard<std::mutex> guard(g.mu);
    if (barrier_enabled()) [[unlikely]] shade_pair(object_, p);
    object_ = p;
    orphaned_.store(false, std::memory_order_relaxed);
  }
  void link() noexcept {
    GlobalRoots& g = global_roots();
    std::lock_guard<std::mutex> guard(g.mu);
    g.list.link(this);
  }
  void unlink() noexcept {
    GlobalRoots& g = global_roots();
    std::lock_guard<std::mutex> guard(g.mu);
    if (barrier_enabled()) [[unlikely]] shade_pair(object_, nullptr);  // a deletion, too
    RootList::unlink(this);
  }
  // One relaxed load: cheap enough to keep in every build.
  void check_alive() const {
    if (orphaned()) {
      throw UsageError(
          "tricolor: a GlobalRoot<T> was used after the heap that owned its object was destroyed. "
          "Reset or destroy global handles before destroying their heap.");
    }
  }

 private:
  std::atomic<bool> orphaned_{false};
};
}  // namespace barriers

template <class T>
class GlobalRoot : private barriers::GlobalRootNode {
 public:
  GlobalRoot() noexcept { link(); }
  GlobalRoot(std::nullptr_t) noexcept { link(); }  // NOLINT
  GlobalRoot(T* p) noexcept {                      // NOLINT
    set(p);
    link();
  }
  GlobalRoot(const GlobalRoot& other) : GlobalRoot(other.get()) {}
  GlobalRoot(GlobalRoot&& other) : GlobalRoot(other.get()) { other.set(nullptr); }
  ~GlobalRoot() { unlink(); }

  GlobalRoot& operator=(T* p) noexcept {
    set(p);
    return *this;
  }
  GlobalRoot& operator=(const GlobalRoot& other) { return *this = other.get(); }
  GlobalRoot& operator=(GlobalRoot&& other) {
    T* p = other.get();
    other.set(nullptr);
    return *this = p;
  }

  T* get() const {
    check_alive();
    return static_cast<T*>(const_cast<void*>(object_));
  }
  T* operator->() const { return get(); }
  T& operator*() const { return *get(); }
  explicit operator bool() const { return get() != nullptr; }
};

}  // namespace tricolor
