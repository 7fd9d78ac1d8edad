// The marker: greys roots and blackens grey objects until none is left.
//
// Colours (Go's): white = mark bit clear; grey = mark bit set and the cell
// queued on a MarkStack; black = mark bit set and scanned. An object of a
// noscan span goes straight to black. The mark bit is set with an atomic
// OR before the object is queued, so an object is queued at most once
// however many markers reach it.
//
// Large arrays are scanned in chunks of kChunkBytes of elements, each
// queued as its own entry, so that no single object holds a marker for
// long and chunks of one array can be scanned by different markers (Go's
// oblets).
#pragma once

#include <cstddef>
#include <cstdint>

#include "object_info.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/visitor.hpp"
#include "work_pool.hpp"

namespace tricolor::gc {

class Marker final : public Visitor {
 public:
  static constexpr std::size_t kChunkBytes = 128 << 10;

  Marker(alloc::SpanHeap& spans, WorkPool& pool) : spans_(spans), work_(pool) {}

  // Greys a root. Roots are per thread or global and may point into other
  // heaps; those objects are not ours to mark.
  void mark_root(const void* object) {
    if (object != nullptr && spans_.owns(object)) shade(object);
  }
  // Scans grey objects until none is left.
  void drain();

  std::uint64_t scanned_objects() const noexcept { return scanned_; }

 private:
  void visit(const void* object) override;
  void shade(const void* object);
  void scan(std::uintptr_t entry);

  alloc::SpanHeap& spans_;
  MarkStack work_;
  const char* parent_ = nullptr;  // the cell being scanned, for error messages
  std::uint64_t scanned_ = 0;
};

}  // namespace tricolor::gc
