// The marker: greys objects and blackens grey ones. Every thread that marks
// has one: each mark worker, a mutator scanning its own roots, flushing its
// write-barrier buffer or assisting, and the collector itself.
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
//
// A mark-stack entry is a cell address (48 bits: user-space addresses on
// x86-64 and AArch64) with a 16-bit tag above it: for an object of a typed
// span, kTypedTag | its kind, so that scanning it needs no lookup of its
// span; otherwise the chunk index (0 for a whole object). Bit 0, free
// because cells are 8-byte aligned, says that the cell runs past the cache
// line it starts in, so that the marker prefetches both lines: a 24-byte
// cell does one time in four (perf/mark_rate, 24-byte cells: dfs 17 %,
// shuffled 5 % faster with it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "object_info.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/interleave.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/visitor.hpp"
#include "tricolor/weak.hpp"
#include "work_pool.hpp"

namespace tricolor::gc {

class Marker final : public Visitor {
 public:
  static constexpr std::size_t kChunkBytes = 128 << 10;

  Marker(alloc::SpanHeap& spans, WorkPool& pool) : spans_(spans), pool_(pool), work_(pool) {}
  ~Marker() { publish_ephemerons(); }
  Marker(const Marker&) = delete;
  Marker& operator=(const Marker&) = delete;

  // Greys a root. Roots are per thread or global and may point into other
  // heaps; those objects are not ours to mark.
  void mark_root(const void* object) {
    if (object != nullptr && spans_.owns(object)) shade(object);
  }
  // Greys an object known to be in this heap.
  void shade(const void* object) { shade_in(object, alloc::Segment::span_of(object)); }
  // Greys what the object in `cell` points to, but not the object itself
  // (an object with a finalizer, Go's markrootSpans).
  void scan_children(const void* cell, const alloc::Span* span) {
    if (span->spanclass.noscan()) return;
    scan(entry_of(cell, span));
    flush_visited();
  }
  // Marks an object of this heap black without scanning it (the caller
  // sees to its referents); returns whether it was white.
  bool mark_unscanned(const void* object) {
    alloc::Span* span = alloc::Segment::span_of(object);
    const std::uint32_t index = span->object_index(object);
    if (span->allocated_live(index) || !span->try_mark(index)) return false;
    marked_bytes_ += span->object_size();
    return true;
  }
  // Greys every allocated object that a word of [from, from + bytes) points
  // at or into: a conservative scan, for memory trace() may not read yet.
  // `segments` are the heap's, sorted (SpanHeap::segments): a word that
  // points into none of them is not read through.
  void scan_conservatively(const void* from, std::size_t bytes, const std::vector<const alloc::Segment*>& segments);
  // Scans grey objects until none is left here or in the pool.
  void drain() { drain_until(UINT64_MAX); }
  // Mark work is counted in bytes, as Go's scan work: the size of every
  // object marked plus the pointer slots visited.
  //
  // Scans grey objects until this marker has done `work` more or none is
  // left here or in the pool; returns whether it ran out of grey objects.
  bool drain_until(std::uint64_t work);
  // The same with this marker's own grey objects only; returns whether any
  // is left.
  bool drain_local(std::uint64_t work);
  MarkStack& stack() noexcept { return work_; }
  // Hands the ephemerons this marker found with white keys to the pool.
  void publish_ephemerons() {
    if (ephemerons_.empty()) return;
    TRICOLOR_POINT(kPublishEphemerons, nullptr);
    pool_.defer_ephemerons(ephemerons_);
  }

  // Bytes of the objects this marker turned grey or black.
  std::uint64_t marked_bytes() const noexcept { return marked_bytes_; }
  std::uint64_t work_done() const noexcept { return marked_bytes_ + slots_visited_ * sizeof(void*); }

 private:
  static constexpr unsigned kTagShift = 48;
  static constexpr std::uintptr_t kStraddles = 1;
  static constexpr std::uintptr_t kCellMask = ((std::uintptr_t{1} << kTagShift) - 1) & ~kStraddles;
  static constexpr std::uintptr_t kTypedTag = std::uintptr_t{1} << 15;
  static constexpr std::size_t kMaxChunks = kTypedTag;
  static_assert(alloc::kMaxKinds < kTypedTag);
  static constexpr std::size_t kLine = 64;
  static std::uintptr_t entry_of(const void* cell, const alloc::Span* span) noexcept {
    const std::uintptr_t kind = span->spanclass.kind();
    const auto address = reinterpret_cast<std::uintptr_t>(cell);
    // elem_size is 0 for a large object: it is scanned in chunks anyway.
    const std::uintptr_t straddles = (address % kLine + span->elem_size) > kLine ? kStraddles : 0;
    return address | straddles | (kind == 0 ? 0 : (kTypedTag | kind) << kTagShift);
  }

  void visit(const void* object) override;
  void visit_ephemeron(const WeakCell* key, const void* value) override;
  void shade_in(const void* object, alloc::Span* span);
  // Shades what visit() left in the pipeline.
  void flush_visited();
  void scan(std::uintptr_t entry);
  template <bool kFromPool>
  bool drain_impl(std::uint64_t work);

  alloc::SpanHeap& spans_;
  WorkPool& pool_;
  MarkStack work_;
  std::vector<PendingEphemeron> ephemerons_;
  // visit() does not shade a pointer at once: it prefetches the pointer's
  // span (whose first two cache lines hold what shading reads, the mark
  // bits included) and shades it kShadeAhead visits later, so that the
  // misses of several pointers overlap instead of stalling one by one.
  static constexpr std::size_t kShadeAhead = 8;
  struct Visited {
    const void* object;
    alloc::Span* span;
  };
  Visited visited_[kShadeAhead];
  std::size_t visited_head_ = 0;
  std::size_t visited_count_ = 0;
  const char* parent_ = nullptr;  // the cell being scanned, for error messages
  // Two counters, with the work derived from them: shade_in adding to a
  // second field beside marked_bytes_ had the compiler pair them into one
  // 16-byte load that the scalar store of visit() could not forward to,
  // a stall on every object marked.
  std::uint64_t marked_bytes_ = 0;
  std::uint64_t slots_visited_ = 0;
};

}  // namespace tricolor::gc
