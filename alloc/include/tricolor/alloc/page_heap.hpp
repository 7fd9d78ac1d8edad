// The page heap hands out runs of pages for spans and takes them back
// (Go's mheap page allocator). Free runs are kept on lists segregated by
// length; an allocation takes a run from the shortest non-empty list that
// fits and returns the tail to the lists. A freed run is coalesced at once
// with free neighbours in its segment, found through the page map's
// boundary entries. A segment whose pages are all free stays cached until
// scavenge() hands it back to the page source.
//
// All state is under one mutex: the page heap is entered once per span
// (thousands of objects), never per object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "tricolor/alloc/page_source.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span.hpp"

namespace tricolor::alloc {

struct PageHeapStats {
  std::uint64_t sys_bytes = 0;       // span pages in segments held from the source
  std::uint64_t inuse_bytes = 0;     // pages in in-use spans
  std::uint64_t idle_bytes = 0;      // free pages in held segments
  std::uint64_t released_bytes = 0;  // cumulative bytes handed back to the source
  std::uint64_t metadata_bytes = 0;  // segment headers and span descriptors
  std::uint64_t segments = 0;
};

class PageHeap {
 public:
  PageHeap(PageSource& source, std::size_t max_bytes) noexcept;
  ~PageHeap();
  PageHeap(const PageHeap&) = delete;
  PageHeap& operator=(const PageHeap&) = delete;

  // A span descriptor for `npages` fresh pages, state kInUse, its page-map
  // entries set; the caller initialises it for objects. Throws OutOfMemory
  // (with the heap unchanged) when the source fails or max_bytes would be
  // exceeded.
  Span* alloc_span(std::size_t npages);
  // Returns an in-use span's pages; the descriptor is recycled.
  void free_span(Span* span) noexcept;

  // Hands wholly free segments back to the source until at most
  // `retain_bytes` of idle pages remain. Returns the bytes released.
  std::size_t scavenge(std::size_t retain_bytes) noexcept;

  PageHeapStats stats() const noexcept;

  // The segments held now, sorted by address: for a caller that must tell
  // whether an arbitrary word points into this heap without reading memory
  // it may not own (a conservative scan).
  std::vector<const Segment*> segments() const;

 private:
  Span* take_run(std::size_t npages) noexcept;
  Segment* grow(std::size_t npages);
  void insert_free_run(Span* run) noexcept;
  void remove_free_run(Span* run) noexcept;
  void set_pages(Span* span) noexcept;
  Span* new_descriptor();
  void recycle_descriptor(Span* span) noexcept;
  void release_segment(Segment* seg) noexcept;

  PageSource& source_;
  const std::size_t max_bytes_;
  mutable std::mutex mu_;
  Span* free_runs_[kPagesPerSegment] = {};  // index = run length in pages
  std::uint64_t nonempty_[kPagesPerSegment / 64] = {};
  Segment* segments_ = nullptr;
  Span* spare_descriptors_ = nullptr;
  PageHeapStats stats_;
};

}  // namespace tricolor::alloc
