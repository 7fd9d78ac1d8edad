#include "marker.hpp"

#include <algorithm>
#include <string>

#include "type_kinds.hpp"

namespace tricolor::gc {

void Marker::visit(const void* object) {
  ++slots_visited_;
  if (!spans_.owns(object)) {
    const ObjectRef parent = ObjectRef::of(parent_);
    fatal("an object of type " + type_name(parent) + " holds a Member pointing into another heap (to " +
          type_name(ObjectRef::of(object)) +
          "). Objects may only point into their own heap; reach another heap's objects through a GlobalRoot.");
  }
  alloc::Span* span = alloc::Segment::span_of(object);
  __builtin_prefetch(span);
  if (visited_count_ == kShadeAhead) {
    const Visited oldest = visited_[visited_head_];
    visited_[visited_head_] = {object, span};
    visited_head_ = (visited_head_ + 1) % kShadeAhead;
    shade_in(oldest.object, oldest.span);
    return;
  }
  visited_[(visited_head_ + visited_count_) % kShadeAhead] = {object, span};
  ++visited_count_;
}

void Marker::visit_ephemeron(const WeakCell* key_cell, const void* value) {
  if (key_cell == nullptr) return;
  visit(key_cell);  // the pair holds its key's cell as a WeakMember does
  // Marking runs only after the last sweep has cleared the cells of dead
  // objects: a cell that names an object names an allocated one.
  const void* key = key_cell->target.load(std::memory_order_acquire);
  if (key == nullptr || value == nullptr) return;
  ++slots_visited_;
  const alloc::Span* span = alloc::Segment::span_of(key);
  if (span->is_live(span->object_index(key))) {
    visit(value);
    return;
  }
  // The key may still be marked later in this phase: the value waits for the
  // collector's ephemeron pass. (A value stored into the pair meanwhile is
  // shaded by the store's barrier.)
  ephemerons_.push_back({key, value});
  if (ephemerons_.size() >= WorkBlock::kEntries) publish_ephemerons();
}

void Marker::flush_visited() {
  for (; visited_count_ != 0; --visited_count_, visited_head_ = (visited_head_ + 1) % kShadeAhead) {
    shade_in(visited_[visited_head_].object, visited_[visited_head_].span);
  }
}

void Marker::shade_in(const void* object, alloc::Span* span) {
  const std::uint32_t index = span->object_index(object);
  // Allocated during this mark phase: black from the start (its fields
  // were stored through the write barrier), and counted as allocated.
  if (span->allocated_live(index)) return;
  if (!span->try_mark(index)) return;  // already grey or black
  const std::size_t size = span->object_size();
  marked_bytes_ += size;
  if (span->spanclass.noscan()) return;  // nothing inside to scan: black at once
  work_.push(entry_of(span->object_at(index), span));
}

void Marker::scan_conservatively(const void* from, std::size_t bytes,
                                 const std::vector<const alloc::Segment*>& segments) {
  const auto* words = static_cast<const std::uintptr_t*>(from);
  for (std::size_t i = 0; i < bytes / sizeof(std::uintptr_t); ++i) {
    const auto* p = reinterpret_cast<const void*>(words[i]);
    const alloc::Segment* seg = alloc::Segment::of(p);
    if (!std::binary_search(segments.begin(), segments.end(), seg)) continue;
    // The page map of one of our segments may be read for any page; an
    // entry of a free run may be stale, so the span must be in use and
    // hold the address.
    const alloc::Span* span = alloc::Segment::span_of(p);
    if (span == nullptr || span->state != alloc::Span::State::kInUse || p < span->base || p >= span->limit()) continue;
    const std::uint32_t index = span->object_index(p);
    if (index >= span->nelems || !span->is_allocated(index)) continue;
    shade(span->object_at(index));
  }
}

bool Marker::drain_until(std::uint64_t work) { return drain_impl<true>(work); }

bool Marker::drain_local(std::uint64_t work) { return !drain_impl<false>(work); }

template <bool kFromPool>
bool Marker::drain_impl(std::uint64_t work) {
  const std::uint64_t done = work_done();
  const std::uint64_t stop_at = work > UINT64_MAX - done ? UINT64_MAX : done + work;
  // Scanning an object starts with a cache miss on it. Entries pass through
  // a small FIFO on their way from the stack to the scanner, and are
  // prefetched as they enter it, so that each miss overlaps the scanning
  // of the kPrefetchDistance objects ahead of it.
  constexpr std::size_t kPrefetchDistance = 8;
  std::uintptr_t ring[kPrefetchDistance];
  std::size_t head = 0, count = 0;
  while (true) {
    std::uintptr_t entry;
    // What the last scans visited is grey only once shaded.
    if (work_.empty()) flush_visited();
    while (count < kPrefetchDistance && work_.pop(entry, kFromPool)) {
      const char* cell = reinterpret_cast<const char*>(entry & kCellMask);
      __builtin_prefetch(cell);
      // The next line, or this one again: cheaper than a branch that
      // mispredicts.
      __builtin_prefetch(cell + (entry & kStraddles) * kLine);
      ring[(head + count) % kPrefetchDistance] = entry;
      ++count;
    }
    // Whenever it stops, the marker hands over the ephemerons it found: an
    // assist that ran out of work waits for the collector with its marker
    // alive, and the collector's ephemeron pass must see them.
    if (count == 0) {
      publish_ephemerons();
      return true;
    }
    if (work_done() >= stop_at) {
      // Out of budget: what is still in the FIFO goes back to the stack.
      for (; count != 0; --count, head = (head + 1) % kPrefetchDistance) work_.push(ring[head]);
      flush_visited();
      publish_ephemerons();
      return false;
    }
    entry = ring[head];
    head = (head + 1) % kPrefetchDistance;
    --count;
    scan(entry);
  }
}

void Marker::scan(std::uintptr_t entry) {
  char* cell = reinterpret_cast<char*>(entry & kCellMask);
  const std::uintptr_t tag = entry >> kTagShift;
  parent_ = cell;
  if ((tag & kTypedTag) != 0) {
    type_of_kind(static_cast<std::uint32_t>(tag & ~kTypedTag))->trace(cell, *this);
    return;
  }
  const std::size_t chunk = tag;
  const TypeInfo* info = type_info_of(cell);
  const char* object = cell + info->header_size;
  if (info->length == nullptr) {
    info->trace(object, *this);
    return;
  }
  const std::size_t n = info->length(object);
  // Elements per chunk: kChunkBytes worth, more if the array would need
  // more chunks than an entry can number.
  const std::size_t per_chunk =
      std::max(std::max<std::size_t>(kChunkBytes / info->element_size, 1), (n + kMaxChunks - 1) / kMaxChunks);
  const std::size_t chunks = (n + per_chunk - 1) / per_chunk;
  if (chunk == 0) {
    for (std::size_t c = 1; c < chunks; ++c) work_.push(entry | (std::uintptr_t{c} << kTagShift));
  }
  const std::size_t begin = chunk * per_chunk;
  info->trace_range(object, begin, std::min(n, begin + per_chunk), *this);
}

}  // namespace tricolor::gc
