// Size classes, generated at compile time by the rule of Go's
// runtime/mksizeclasses.go, with longer spans from 128 B on.
//
// A small allocation (at most kMaxSmallSize bytes) is rounded up to one of
// kNumSizeClasses - 1 object sizes; class 0 stands for "large" (a span of its
// own). The rule that produces the classes:
//
//   * sizes advance by an alignment step that grows with the size: 8 bytes,
//     16 from 32 B, size/8 from 128 B, 256 from 2 KiB. Because the step is at
//     most 1/8 of the size from 128 B on, rounding a request up to its class
//     wastes at most 12.5 % of the object there.
//   * each class's span is the smallest number of pages whose tail (the bytes
//     left over after the last whole object) is at most 1/8 of the span,
//     counting from one page below 128 B and from kMinMidSpanPages (32 KiB)
//     from 128 B on. Go starts at one page everywhere; then a 2 KiB class's
//     span holds 4 objects, and a thread refills its cache, gives a span
//     back and has it swept (each under a lock the background sweeper also
//     takes) every 4 allocations; with 32 KiB it is every 16 (mimalloc's
//     pages are 64 KiB). Below 128 B one page already holds 64 or more.
//   * a size that would give the same span length and the same object count
//     as the previous class is merged into it (it would only waste memory).
//   * finally each class grows to the largest 128-byte multiple that still
//     fits the same number of objects in its span.
//
// The table is a constexpr value: nothing is computed at run time, and the
// size-to-class lookup is two small byte tables, as in Go.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tricolor::alloc {

inline constexpr std::size_t kPageShift = 13;
inline constexpr std::size_t kPageSize = std::size_t{1} << kPageShift;  // 8 KiB
inline constexpr std::size_t kMaxSmallSize = 32 << 10;
inline constexpr std::size_t kNumSizeClasses = 72;  // including class 0 (large)
// The smallest span of a class of kMinMidSpanSize bytes or more.
inline constexpr std::size_t kMinMidSpanSize = 128;
inline constexpr std::size_t kMinMidSpanPages = 4;

// Lookup granularity: 8-byte steps up to kSmallSizeMax - 8, 128-byte steps above.
inline constexpr std::size_t kSmallSizeDiv = 8;
inline constexpr std::size_t kSmallSizeMax = 1024;
inline constexpr std::size_t kLargeSizeDiv = 128;

struct SizeClass {
  std::uint32_t size = 0;      // bytes per object
  std::uint32_t npages = 0;    // pages per span
  std::uint32_t objects = 0;   // objects per span
  std::uint32_t divmagic = 0;  // (offset * divmagic) >> 32 == offset / size
};

namespace detail {

constexpr bool is_power_of_two(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }

constexpr std::array<SizeClass, kNumSizeClasses> make_size_classes() {
  std::array<SizeClass, kNumSizeClasses> classes{};
  std::size_t n = 1;  // class 0 is the large-object placeholder
  std::size_t align = 8;
  for (std::size_t size = align; size <= kMaxSmallSize; size += align) {
    if (is_power_of_two(size)) {
      if (size >= 2048) {
        align = 256;
      } else if (size >= 128) {
        align = size / 8;
      } else if (size >= 32) {
        align = 16;
      }
    }
    std::size_t allocsize = (size >= kMinMidSpanSize ? kMinMidSpanPages : 1) * kPageSize;
    while (allocsize % size > allocsize / 8) allocsize += kPageSize;
    const std::size_t npages = allocsize / kPageSize;
    if (n > 1 && npages == classes[n - 1].npages &&
        allocsize / size == allocsize / classes[n - 1].size) {
      classes[n - 1].size = static_cast<std::uint32_t>(size);
      continue;
    }
    if (n == kNumSizeClasses) throw "size class rule produced more classes than kNumSizeClasses";
    classes[n++] = SizeClass{static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(npages), 0, 0};
  }
  if (n != kNumSizeClasses) throw "size class rule produced fewer classes than kNumSizeClasses";
  for (std::size_t i = 1; i < n; ++i) {
    SizeClass& c = classes[i];
    const std::size_t span = std::size_t{c.npages} * kPageSize;
    const std::size_t grown = (span / (span / c.size)) & ~(kLargeSizeDiv - 1);
    if (grown > c.size) c.size = static_cast<std::uint32_t>(grown);
    c.objects = static_cast<std::uint32_t>(span / c.size);
    c.divmagic = static_cast<std::uint32_t>(~std::uint32_t{0} / c.size + 1);
  }
  return classes;
}

constexpr std::array<std::uint8_t, kSmallSizeMax / kSmallSizeDiv + 1> make_size_to_class8(
    const std::array<SizeClass, kNumSizeClasses>& classes) {
  std::array<std::uint8_t, kSmallSizeMax / kSmallSizeDiv + 1> t{};
  std::size_t c = 1;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::size_t size = i * kSmallSizeDiv;
    while (classes[c].size < size) ++c;
    t[i] = static_cast<std::uint8_t>(c);
  }
  return t;
}

constexpr std::array<std::uint8_t, (kMaxSmallSize - kSmallSizeMax) / kLargeSizeDiv + 1> make_size_to_class128(
    const std::array<SizeClass, kNumSizeClasses>& classes) {
  std::array<std::uint8_t, (kMaxSmallSize - kSmallSizeMax) / kLargeSizeDiv + 1> t{};
  std::size_t c = 1;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::size_t size = kSmallSizeMax + i * kLargeSizeDiv;
    while (classes[c].size < size) ++c;
    t[i] = static_cast<std::uint8_t>(c);
  }
  return t;
}

}  // namespace detail

inline constexpr std::array<SizeClass, kNumSizeClasses> kSizeClasses = detail::make_size_classes();
inline constexpr auto kSizeToClass8 = detail::make_size_to_class8(kSizeClasses);
inline constexpr auto kSizeToClass128 = detail::make_size_to_class128(kSizeClasses);

// The largest span any size class uses, in pages.
inline constexpr std::size_t kMaxSmallSpanPages = [] {
  std::size_t m = 0;
  for (const SizeClass& c : kSizeClasses) m = c.npages > m ? c.npages : m;
  return m;
}();

// The most objects any span holds (class 1: 8-byte objects in one page).
inline constexpr std::size_t kMaxObjectsPerSpan = kPageSize / 8;

// Size class for a small request: size <= kMaxSmallSize. A zero-byte request
// gets the smallest class (entry 0 of the table) so that every allocation
// has its own address.
constexpr std::uint8_t size_to_class(std::size_t size) noexcept {
  if (size <= kSmallSizeMax - 8) return kSizeToClass8[(size + kSmallSizeDiv - 1) / kSmallSizeDiv];
  return kSizeToClass128[(size - kSmallSizeMax + kLargeSizeDiv - 1) / kLargeSizeDiv];
}
static_assert(size_to_class(0) == 1);

static_assert(kSizeClasses[1].size == 8 && kSizeClasses[kNumSizeClasses - 1].size == kMaxSmallSize);
static_assert(kMaxObjectsPerSpan == kSizeClasses[1].objects);

}  // namespace tricolor::alloc
