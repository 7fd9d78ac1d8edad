// Managed types.
//
// A managed type derives from tricolor::Object and is allocated only with
// Heap::make (plain new does not compile). If it holds managed pointers it
// declares them as Member<T> fields and lists them in
//
//     void trace(tricolor::Visitor& v) const { v(left); v(right); }
//
// A type without trace() is "noscan": the collector never looks inside it.
// A type with a non-trivial destructor has it run after the object dies, on
// whichever thread sweeps it, in no particular order; such a destructor must
// not touch other managed objects (they may be dead too) and must not
// allocate from the heap.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace tricolor {

class Visitor;

class Object {
 public:
  static void* operator new(std::size_t) = delete;
  static void* operator new[](std::size_t) = delete;
  // Declared so that virtual destructors link; the collector frees managed
  // objects, and deleting one is a bug.
  static void operator delete(void*) noexcept {
    std::fputs("tricolor: delete called on a managed object; the collector frees managed objects\n", stderr);
    std::abort();
  }

 protected:
  Object() = default;
};

}  // namespace tricolor
