// The visitor a managed type's trace() reports its pointers to. Only the
// collector creates visitors; user code only calls them.
//
// trace() runs on a mark worker while the program runs: it may read only
// Member fields (atomics) and data that never changes after the
// constructor returns (an array's length, a fixed tag), as in cppgc's
// concurrent marking.
#pragma once

#include <concepts>

#include "tricolor/member.hpp"

namespace tricolor {

class Visitor;
namespace gc {
struct WeakCell;
}

// A type that reports its managed pointers: it has `void trace(Visitor&) const`.
template <class T>
concept Traceable = requires(const T& t, Visitor& v) {
  { t.trace(v) } -> std::same_as<void>;
};

class Visitor {
 public:
  template <class T>
  void operator()(const Member<T>& member) {
    if (const T* p = member.get()) visit(static_cast<const void*>(p));
  }
  // A struct held by value inside an object, with a trace() of its own.
  template <Traceable T>
  void operator()(const T& part) {
    part.trace(*this);
  }

  // An ephemeron (see ephemeron.hpp): `value` is traced only if the object
  // `key` names is alive. Ephemeron<K, V>::trace calls this.
  void ephemeron(const gc::WeakCell* key, const void* value) { visit_ephemeron(key, value); }

  Visitor(const Visitor&) = delete;
  Visitor& operator=(const Visitor&) = delete;

 protected:
  Visitor() = default;
  ~Visitor() = default;
  // `object` points at a managed object (the T* a Member holds).
  virtual void visit(const void* object) = 0;
  virtual void visit_ephemeron(const gc::WeakCell* key, const void* value) = 0;
};

}  // namespace tricolor
