// A span class names what kind of objects a span holds: a size class plus two
// properties the collector needs per object without looking at it.
//
//   noscan     the objects hold no managed pointers: the marker never scans
//              them (Go's noscan spans).
//   finalize   the objects have a destructor that must run when they die:
//              the sweeper reports each dead object of such a span. A span
//              without it is swept by swapping bitmaps, touching no object.
//
// Encoding: size_class << 2 | finalize << 1 | noscan.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tricolor/alloc/size_classes.hpp"

namespace tricolor::alloc {

class SpanClass {
 public:
  constexpr SpanClass() = default;
  constexpr SpanClass(std::uint8_t size_class, bool noscan, bool finalize) noexcept
      : value_(static_cast<std::uint16_t>(size_class << 2 | (finalize ? 2 : 0) | (noscan ? 1 : 0))) {}
  static constexpr SpanClass from_index(std::size_t index) noexcept {
    SpanClass c;
    c.value_ = static_cast<std::uint16_t>(index);
    return c;
  }

  constexpr std::size_t index() const noexcept { return value_; }
  constexpr std::uint8_t size_class() const noexcept { return static_cast<std::uint8_t>(value_ >> 2); }
  constexpr bool noscan() const noexcept { return (value_ & 1) != 0; }
  constexpr bool finalize() const noexcept { return (value_ & 2) != 0; }
  constexpr bool large() const noexcept { return size_class() == 0; }

  friend constexpr bool operator==(SpanClass, SpanClass) = default;

 private:
  std::uint16_t value_ = 0;
};

inline constexpr std::size_t kNumSpanClasses = kNumSizeClasses << 2;

}  // namespace tricolor::alloc
