// Shared helpers for the allocator tests (tests/alloc only).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <unistd.h>

#include "tricolor/alloc/page_source.hpp"
#include "tricolor/alloc/poison.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/alloc/span_heap.hpp"

#if defined(__SANITIZE_THREAD__)
#define TRICOLOR_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TRICOLOR_TEST_TSAN 1
#endif
#endif

namespace tricolor::alloc::test {

#if defined(TRICOLOR_ASAN) || defined(TRICOLOR_TEST_TSAN)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// Sanitizers slow memory-heavy loops down 3-20x; loop counts are scaled so
// that every build stays within its time budget. Expectations never depend
// on the count: they are computed from whatever was done.
constexpr std::size_t scaled(std::size_t release_count, std::size_t sanitized_count) {
  return kSanitized ? sanitized_count : release_count;
}

inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// SplitMix64: a fixed, portable mixing function for tags and seeds.
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Writes `tag` repeated over n bytes (the last partial word takes its low
// bytes). A tag with no zero byte makes the pattern distinguishable from
// zeroed memory everywhere.
inline std::uint64_t nonzero_tag(std::uint64_t id) {
  std::uint64_t t = mix(id);
  for (int b = 0; b < 8; ++b) {
    if (((t >> (8 * b)) & 0xFF) == 0) t |= std::uint64_t{0x5A} << (8 * b);
  }
  return t;
}
inline void fill(void* p, std::size_t n, std::uint64_t tag) {
  auto* c = static_cast<unsigned char*>(p);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) std::memcpy(c + i, &tag, 8);
  if (i < n) std::memcpy(c + i, &tag, n - i);
}
inline bool holds(const void* p, std::size_t n, std::uint64_t tag) {
  auto* c = static_cast<const unsigned char*>(p);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (std::memcmp(c + i, &tag, 8) != 0) return false;
  }
  return i == n || std::memcmp(c + i, &tag, n - i) == 0;
}
inline bool all_zero(const void* p, std::size_t n) { return holds(p, n, 0); }

// Marks the object containing p, as a marker would.
inline bool mark(const void* p) {
  Span* span = Segment::span_of(p);
  return span->try_mark(span->object_index(p));
}

// A whole sweep cycle with nothing else running.
inline void sweep_all(SpanHeap& heap) {
  heap.start_sweep_cycle();
  heap.finish_sweep();
}

// The smallest class that holds `size` bytes, by a linear search of the
// table: an oracle for size_to_class independent of its lookup tables.
inline std::uint8_t class_by_search(std::size_t size) {
  for (std::size_t c = 1; c < kNumSizeClasses; ++c) {
    if (kSizeClasses[c].size >= size) return static_cast<std::uint8_t>(c);
  }
  return 0;
}

// The alignment every object of a class has (Go's "min align" column):
// objects start at page-aligned base + i * size, so it is the largest power
// of two dividing the size, capped at the page size.
constexpr std::size_t min_align(std::size_t size) {
  const std::size_t low = size & (~size + 1);
  return low < kPageSize ? low : kPageSize;
}

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// A page source that forwards to the OS source and can be told to fail, to
// hand out blocks full of 0xEE that it does not claim are zero (dirty), or
// to hand out such blocks and claim they are zero (marked_zero: the bytes
// the heap never writes keep 0xEE, so a test sees which ones it wrote). It
// counts what passes through it so that tests can check the page heap's
// figures against what it actually acquired and released.
class TestPageSource final : public PageSource {
 public:
  std::atomic<bool> fail{false};
  bool dirty = false;        // set before the heap first acquires
  bool marked_zero = false;  // likewise
  std::atomic<std::uint64_t> acquired_blocks{0}, released_blocks{0};
  std::atomic<std::uint64_t> acquired_bytes{0}, released_bytes{0};
  std::atomic<std::uint64_t> failed_requests{0};
  std::atomic<std::size_t> last_request_bytes{0}, last_request_alignment{0};

  void* acquire(std::size_t bytes, std::size_t alignment) noexcept override {
    last_request_bytes = bytes;
    last_request_alignment = alignment;
    if (fail) {
      ++failed_requests;
      return nullptr;
    }
    void* p = os_page_source().acquire(bytes, alignment);
    if (p != nullptr) {
      ++acquired_blocks;
      acquired_bytes += bytes;
      if (dirty || marked_zero) std::memset(p, 0xEE, bytes);
    }
    return p;
  }
  void release(void* block, std::size_t bytes) noexcept override {
    ++released_blocks;
    released_bytes += bytes;
    os_page_source().release(block, bytes);
  }
  bool acquires_zeroed() const noexcept override { return !dirty && os_page_source().acquires_zeroed(); }
};

}  // namespace tricolor::alloc::test
