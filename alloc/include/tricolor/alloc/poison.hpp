// Manual poisoning for AddressSanitizer builds: memory the heap holds but no
// live object owns (free cells, free pages) is poisoned, so a stale raw
// pointer to a dead object faults at its first use instead of reading a
// reused cell. Compiles to nothing otherwise.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define TRICOLOR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRICOLOR_ASAN 1
#endif
#endif

#if defined(TRICOLOR_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace tricolor::alloc {

#if defined(TRICOLOR_ASAN)
inline constexpr bool kPoisonFreeMemory = true;
inline void poison(const void* p, std::size_t n) noexcept { ASAN_POISON_MEMORY_REGION(p, n); }
inline void unpoison(const void* p, std::size_t n) noexcept { ASAN_UNPOISON_MEMORY_REGION(p, n); }
#else
inline constexpr bool kPoisonFreeMemory = false;
inline void poison(const void*, std::size_t) noexcept {}
inline void unpoison(const void*, std::size_t) noexcept {}
#endif

}  // namespace tricolor::alloc
