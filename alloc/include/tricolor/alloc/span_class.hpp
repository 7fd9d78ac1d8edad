// A span class names what kind of objects a span holds: a size class plus two
// properties the collector needs per object without looking at it.
//
//   noscan     the objects hold no managed pointers: the marker never scans
//              them (Go's noscan spans). Nothing but their owner ever reads
//              them, so a small one is handed out as it was left, not
//              zeroed: its constructor writes what it holds (Boehm's
//              GC_MALLOC_ATOMIC).
//   finalize   the objects have a destructor that must run when they die:
//              the sweeper reports each dead object of such a span. A span
//              without it is swept by swapping bitmaps, touching no object.
//
// A class may also be typed: its spans hold objects of one type only, named
// by a kind, a number from 1 the layer above assigns to the type. Objects of
// a typed span need no header to say what they are: the span says it for
// all of them. There is one typed class per kind, so each kind has its own
// central list and thread-cache slot, like any other class.
//
// Encoding: slot << 9 | size_class << 2 | finalize << 1 | noscan, where slot
// is the class's index in the thread caches and central lists: the value of
// the low 9 bits for the untyped classes, kNumSpanClasses + kind - 1 for a
// typed one. Indexing is one shift, on the allocation fast path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tricolor/alloc/size_classes.hpp"

namespace tricolor::alloc {

inline constexpr std::size_t kNumSpanClasses = kNumSizeClasses << 2;  // untyped
// Kinds fit in 15 bits: the collector carries one in a mark-stack entry.
inline constexpr std::uint32_t kMaxKinds = (std::uint32_t{1} << 15) - 1;

class SpanClass {
 public:
  constexpr SpanClass() = default;
  constexpr SpanClass(std::uint8_t size_class, bool noscan, bool finalize) noexcept
      : SpanClass(untyped(low_bits(size_class, noscan, finalize))) {}
  // The untyped class whose low bits (and slot) are `low`.
  static constexpr SpanClass untyped(std::uint32_t low) noexcept {
    SpanClass c;
    c.value_ = low << kSlotShift | low;
    return c;
  }
  static constexpr std::uint32_t low_bits(std::uint8_t size_class, bool noscan, bool finalize) noexcept {
    return static_cast<std::uint32_t>(size_class) << 2 | (finalize ? 2u : 0u) | (noscan ? 1u : 0u);
  }
  // The typed class of `kind` (1..kMaxKinds): objects with pointers and
  // without destructors, all of one type.
  static constexpr SpanClass typed(std::uint8_t size_class, std::uint32_t kind) noexcept {
    SpanClass c;
    c.value_ = static_cast<std::uint32_t>(kNumSpanClasses + kind - 1) << kSlotShift | low_bits(size_class, false, false);
    return c;
  }

  // The class's slot in thread caches and central lists.
  constexpr std::size_t index() const noexcept { return value_ >> kSlotShift; }
  constexpr std::uint8_t size_class() const noexcept { return static_cast<std::uint8_t>((value_ >> 2) & 0x7f); }
  constexpr bool noscan() const noexcept { return (value_ & 1) != 0; }
  constexpr bool finalize() const noexcept { return (value_ & 2) != 0; }
  constexpr bool large() const noexcept { return size_class() == 0; }
  // Whether the allocator hands out the class's objects zeroed. A marker
  // may read an object with pointers before its constructor has written
  // them (it is a root while under construction), so those are zeroed; so
  // is a large object, which usually sits on pages that are zero already
  // and then costs nothing. Small noscan objects are not.
  constexpr bool zeroed() const noexcept { return large() || !noscan(); }
  // 0 for an untyped class.
  constexpr std::uint32_t kind() const noexcept {
    return index() < kNumSpanClasses ? 0 : static_cast<std::uint32_t>(index() - kNumSpanClasses + 1);
  }

  friend constexpr bool operator==(SpanClass, SpanClass) = default;

 private:
  static constexpr unsigned kSlotShift = 9;
  std::uint32_t value_ = 0;
};

static_assert(kNumSizeClasses <= 128 && kNumSpanClasses <= 512, "the low 9 bits of a SpanClass hold an untyped class");
static_assert(SpanClass::typed(5, kMaxKinds).kind() == kMaxKinds && SpanClass::typed(5, 1).size_class() == 5);

}  // namespace tricolor::alloc
