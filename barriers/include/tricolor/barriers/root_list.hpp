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
  RootNode* prev_ = nullptr;
  RootNode* next_ = nullptr;
};

class RootList {
 public:
  RootList() noexcept { head_.prev_ = head_.next_ = &head_; }
  RootList(const RootList&) = delete;
  RootList& operator=(const RootList&) = delete;

  void link(RootNode* node) noexcept {
    node->prev_ = &head_;
    node->next_ = head_.next_;
    head_.next_->prev_ = node;
    head_.next_ = node;
  }
  static void unlink(RootNode* node) noexcept {
    node->prev_->next_ = node->next_;
    node->next_->prev_ = node->prev_;
  }
  template <class F>
  void for_each(F&& f) const {
    for (const RootNode* n = head_.next_; n != &head_; n = n->next_) f(*n);
  }

 private:
  struct Head : RootNode {};
  Head head_;
};

// This thread's root list, and how many heaps this thread is attached to
// (a Root made on a thread attached to none would be seen by no collector).
struct ThreadRoots {
  RootList list;
  std::size_t attached_heaps = 0;
};
ThreadRoots& thread_roots() noexcept;

struct GlobalRoots {
  std::mutex mu;
  RootList list;
};
GlobalRoots& global_roots() noexcept;

}  // namespace tricolor::barriers
