// Shared helpers for the allocator tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <unistd.h>

#include "tricolor/alloc/poison.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span.hpp"

namespace tricolor::alloc::test {

#if defined(TRICOLOR_ASAN) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// Sanitizers slow everything down 5-20x; scale loop counts so that every
// build finishes in CI time while release builds still push hard.
inline constexpr std::size_t kScale = kSanitized ? 1 : 4;

inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Marks the object at p in its span's mark bitmap.
inline void mark(void* p) {
  Span* span = Segment::span_of(p);
  span->try_mark(span->object_index(p));
}

}  // namespace tricolor::alloc::test
