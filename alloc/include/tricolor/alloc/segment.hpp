// A segment is an aligned block of kSegmentSize bytes from the page source,
// cut into 8 KiB pages. Page 0 holds this header; the rest hold spans. The
// alignment is what makes span lookup O(1) for any object pointer: mask the
// pointer down to its segment, index the page map by the page number.
//
// An object too large for a segment gets a huge segment of its own: still
// kSegmentSize-aligned, as long as it needs to be, with one span. Lookup
// works for addresses in its first kSegmentSize bytes, which holds every
// object's start (handles always point at or near an object's start).
//
// Page-map invariant, kept by the page heap under its lock: every page of an
// in-use span maps to that span; the first and last page of a free run map
// to the run's descriptor; other entries of a free run are stale and never
// read. Entries are atomics so that a marker may look up a page while the
// page heap rewrites an unrelated entry; relaxed suffices because a marker
// only looks up objects it reached through a pointer, and that pointer's
// hand-over orders the span's set-up before the lookup.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/alloc/span.hpp"

namespace tricolor::alloc {

inline constexpr std::size_t kSegmentShift = 22;
inline constexpr std::size_t kSegmentSize = std::size_t{1} << kSegmentShift;  // 4 MiB
inline constexpr std::size_t kPagesPerSegment = kSegmentSize / kPageSize;     // 512
inline constexpr std::size_t kSegmentHeaderPages = 1;
inline constexpr std::size_t kSegmentUsablePages = kPagesPerSegment - kSegmentHeaderPages;

class PageHeap;

struct Segment {
  PageHeap* owner = nullptr;
  std::size_t block_bytes = 0;     // what the page source gave us
  std::uint32_t usable_pages = 0;  // pages after the header
  std::uint32_t free_pages = 0;
  // Pages from here on have never been part of an in-use span: they are
  // as the page source gave them (Go's heapArena.zeroedBase). Only grows.
  std::uint32_t unused_from = kSegmentHeaderPages;
  bool huge = false;
  Segment* next = nullptr;
  Segment* prev = nullptr;
  std::atomic<Span*> pagemap[kPagesPerSegment];

  static Segment* of(const void* p) noexcept {
    return reinterpret_cast<Segment*>(reinterpret_cast<std::uintptr_t>(p) & ~(kSegmentSize - 1));
  }
  static std::size_t page_of(const void* p) noexcept {
    return (reinterpret_cast<std::uintptr_t>(p) & (kSegmentSize - 1)) >> kPageShift;
  }
  char* page_address(std::size_t page) noexcept { return reinterpret_cast<char*>(this) + (page << kPageShift); }

  // The span holding `p`, for any address inside an in-use span of this heap.
  static Span* span_of(const void* p) noexcept {
    return of(p)->pagemap[page_of(p)].load(std::memory_order_relaxed);
  }
};

static_assert(sizeof(Segment) <= kSegmentHeaderPages * kPageSize, "segment header must fit its header pages");

}  // namespace tricolor::alloc
