// Member<T>: a traced pointer field of a managed object.
//
// Every store goes through the write barrier (barriers::store_pointer), so
// the collector can keep its invariants while the program mutates the graph.
// The pointer is a std::atomic: a marker reads the field while mutators
// write it. Stores release and loads acquire, so a Member publishes the
// object it points to: a thread that reads the pointer sees the object as
// its constructor left it (and so does a marker, see write_barrier.hpp).
// On x86 both are plain moves.
#pragma once

#include <atomic>
#include <cstddef>
#include <type_traits>

#include "tricolor/barriers/write_barrier.hpp"

namespace tricolor {

template <class T>
class Member {
 public:
  constexpr Member() noexcept = default;
  constexpr Member(std::nullptr_t) noexcept {}
  Member(T* p) noexcept { barriers::store_pointer(slot(), p); }  // NOLINT: implicit like a raw pointer
  Member(const Member& other) noexcept { barriers::store_pointer(slot(), other.get()); }
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Member(const Member<U>& other) noexcept {  // NOLINT
    barriers::store_pointer(slot(), static_cast<T*>(other.get()));
  }

  Member& operator=(T* p) noexcept {
    barriers::store_pointer(slot(), p);
    return *this;
  }
  Member& operator=(const Member& other) noexcept { return *this = other.get(); }
  template <class U, class = std::enable_if_t<std::is_convertible_v<U*, T*>>>
  Member& operator=(const Member<U>& other) noexcept {
    return *this = static_cast<T*>(other.get());
  }
  Member& operator=(std::nullptr_t) noexcept { return *this = static_cast<T*>(nullptr); }

  T* get() const noexcept { return ptr_.load(std::memory_order_acquire); }
  T* operator->() const noexcept { return get(); }
  T& operator*() const noexcept { return *get(); }
  explicit operator bool() const noexcept { return get() != nullptr; }
  operator T*() const noexcept { return get(); }  // NOLINT: reads like a raw pointer

 private:
  std::atomic<T*>& slot() noexcept { return ptr_; }
  std::atomic<T*> ptr_{nullptr};
};

}  // namespace tricolor
