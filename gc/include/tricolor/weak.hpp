// Weak handles: pointers that do not keep their target alive, and read null
// once it has died (cppgc's WeakMember and WeakPersistent, Go's weak.Pointer).
//
//   WeakMember<T>  a field of a managed object, listed in its trace() like a
//                  Member: `v(parent)`.
//   WeakRoot<T>    held anywhere, by any thread, like a GlobalRoot.
//
// Both read with get() (a raw T*, valid until the thread's next safepoint,
// as any raw pointer) or lock() (a Root<T>), on a thread attached to the
// target's heap. A target that a read returns is alive, and stays alive as
// long as the program keeps it reachable; reading during marking keeps it
// for this cycle.
//
// Handles to one object share its weak cell (one per object, made the first
// time a handle to it is made): two handles to the same object compare
// equal, and still do after it died. Making the first handle to an object
// allocates that cell, and so is a safepoint, like Heap::make. A handle is
// made from the pointer Heap::make returned, not from a pointer to a base
// class at another address or to a member.
//
// An object with a finalizer reads null from its weak handles from the
// moment the finalizer is queued, even though the finalizer brings it back
// (Go's rule). A handle made after that is a new one.
#pragma once

#include <atomic>
#include <cstddef>

#include "tricolor/member.hpp"
#include "tricolor/object.hpp"
#include "tricolor/root.hpp"
#include "tricolor/visitor.hpp"

namespace tricolor {

namespace gc {
class HeapState;

// An object's weak cell: a managed object that names its target without
// tracing it. The collector clears it when the target dies.
struct WeakCell final : Object {
  std::atomic<const void*> target{nullptr};
  HeapState* heap = nullptr;
};

// The weak cell of `object`, made if it has none. Throws UsageError if the
// calling thread is not attached to the object's heap, or if `object` is
// not the start of a managed object.
WeakCell* weak_cell(const void* object);
// The weak cell of `object` if it has one, else nullptr; never allocates.
const WeakCell* find_weak_cell(const void* object);
// The cell's target if it is alive, else nullptr. `cell` may be null.
// Throws UsageError if the calling thread is not attached to its heap.
const void* weak_target(const WeakCell* cell);
}  // namespace gc

template <class T>
class WeakMember {
 public:
  WeakMember() noexcept = default;
  WeakMember(std::nullptr_t) noexcept {}                           // NOLINT
  WeakMember(T* p) : cell_(p != nullptr ? gc::weak_cell(p) : nullptr) {}  // NOLINT: like a raw pointer
  WeakMember(const WeakMember& other) noexcept : cell_(other.cell_) {}

  WeakMember& operator=(T* p) {
    cell_ = p != nullptr ? gc::weak_cell(p) : nullptr;
    return *this;
  }
  WeakMember& operator=(const WeakMember& other) noexcept {
    cell_ = other.cell_;
    return *this;
  }
  WeakMember& operator=(std::nullptr_t) noexcept {
    cell_ = nullptr;
    return *this;
  }

  // The target, or nullptr if it died or none was set.
  T* get() const { return static_cast<T*>(const_cast<void*>(gc::weak_target(cell_.get()))); }
  Root<T> lock() const { return Root<T>(get()); }
  // Whether no target was ever set (or it was reset), as opposed to died.
  bool empty() const noexcept { return cell_.get() == nullptr; }

  void trace(Visitor& v) const { v(cell_); }

  friend bool operator==(const WeakMember& a, const WeakMember& b) noexcept { return a.cell_.get() == b.cell_.get(); }
  const gc::WeakCell* cell() const noexcept { return cell_.get(); }

 private:
  Member<gc::WeakCell> cell_;
};

template <class T>
class WeakRoot {
 public:
  WeakRoot() noexcept = default;
  WeakRoot(std::nullptr_t) noexcept {}                               // NOLINT
  WeakRoot(T* p) : cell_(p != nullptr ? gc::weak_cell(p) : nullptr) {}  // NOLINT
  explicit WeakRoot(const WeakMember<T>& m) : cell_(const_cast<gc::WeakCell*>(m.cell())) {}

  WeakRoot& operator=(T* p) {
    cell_ = p != nullptr ? gc::weak_cell(p) : nullptr;
    return *this;
  }
  WeakRoot& operator=(std::nullptr_t) {
    cell_ = nullptr;
    return *this;
  }

  T* get() const { return static_cast<T*>(const_cast<void*>(gc::weak_target(cell_.get()))); }
  Root<T> lock() const { return Root<T>(get()); }
  bool empty() const { return cell_.get() == nullptr; }

  friend bool operator==(const WeakRoot& a, const WeakRoot& b) { return a.cell_.get() == b.cell_.get(); }
  friend bool operator==(const WeakRoot& a, const WeakMember<T>& b) { return a.cell_.get() == b.cell(); }
  const gc::WeakCell* cell() const { return cell_.get(); }

 private:
  GlobalRoot<gc::WeakCell> cell_;
};

}  // namespace tricolor
