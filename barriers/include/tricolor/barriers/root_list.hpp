// Root lists: where the collector finds the pointers that keep objects
// alive from outside the heap.
//
// Each thread has one list of its Root<T> handles, shared by every heap the
// thread is attached to (a heap skips objects that are not its own).
// Registering is linking a node into a doubly linked list: a few stores, no
// lock, any order of destruction. The list is read by the collector only
// while its thread is stopped at a safepoint or blocking, which orders the
// thread's earlier link/unlink stores before the read.
//
// GlobalRoot<T> handles live on one process-wide list behind a mutex, so
// any thread may create, assign and destroy them.
#pragma once

#include <cstddef>
#include <mutex>

namespace tricolor::barriers {

class RootList;

// The list has no sentinel: a node links to the next one and to the pointer
// that points at it (the list's head or its predecessor's next_), so that
// an empty list is all zeroes. That makes a thread's list constant-
// initialised, and reaching it a plain TLS access, with no initialisation
// check on the path of every Root.
class RootNode {
 public:
  RootNode(const RootNode&) = delete;
  RootNode& operator=(const RootNode&) = delete;

  const void* object() const noexcept { return object_; }

 protected:
  RootNode() noexcept = default;
  ~RootNode() = default;

  const void* object_ = nullptr;

 private:
  friend class RootList;
  RootNode* next_ = nullptr;
  RootNode** link_to_me_ = nullptr;
};

class RootList {
 public:
  constexpr RootList() noexcept = default;
  RootList(const RootList&) = delete;
  RootList& operator=(const RootList&) = delete;

  void link(RootNode* node) noexcept {
    node->next_ = first_;
    node->link_to_me_ = &first_;
    if (first_ != nullptr) first_->link_to_me_ = &node->next_;
    first_ = node;
  }
  static void unlink(RootNode* node) noexcept {
    *node->link_to_me_ = node->next_;
    if (node->next_ != nullptr) node->next_->link_to_me_ = node->link_to_me_;
  }
  template <class F>
  void for_each(F&& f) const {
    for (const RootNode* n = first_; n != nullptr; n = n->next_) f(*n);
  }

 private:
  RootNode* first_ = nullptr;
};

// This thread's root list, and the heaps this thread is attached to, by
// the token their segments name as owner (alloc::Segment::owner): a Root
// to an object of any other heap would be seen by no collector.
struct ThreadRoots {
  static constexpr std::size_t kMaxHeaps = 16;
  RootList list;
  std::size_t attached_heaps = 0;
  const void* heaps[kMaxHeaps] = {};

  // Inline for a thread's first heap (the one most threads have): a load
  // and a compare on the way to every Root. (A segment's owner is never
  // null, and a slot past attached_heaps always is.)
  bool attached_to(const void* owner) const noexcept {
    return heaps[0] == owner || attached_to_another(owner);
  }
  bool attached_to_another(const void* owner) const noexcept;
  // Throw UsageError beyond kMaxHeaps heaps.
  void attach(const void* owner);
  void detach(const void* owner) noexcept;
};
inline constinit thread_local ThreadRoots t_thread_roots;
inline ThreadRoots& thread_roots() noexcept { return t_thread_roots; }

struct GlobalRoots {
  std::mutex mu;
  RootList list;
};
GlobalRoots& global_roots() noexcept;

// Root<T>'s error for an object whose heap the thread is not attached to.
[[noreturn]] void throw_root_not_attached(bool attached_to_any);

}  // namespace tricolor::barriers
