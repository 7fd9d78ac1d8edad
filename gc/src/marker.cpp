#include "marker.hpp"

#include <algorithm>
#include <string>

namespace tricolor::gc {
namespace {

constexpr unsigned kChunkShift = 48;
constexpr std::uintptr_t kCellMask = (std::uintptr_t{1} << kChunkShift) - 1;
constexpr std::size_t kMaxChunks = std::size_t{1} << (64 - kChunkShift);

}  // namespace

void Marker::visit(const void* object) {
  work_done_ += sizeof(void*);
  if (!spans_.owns(object)) {
    const ObjectRef parent = ObjectRef::of(parent_);
    fatal("an object of type " + type_name(parent) + " holds a Member pointing into another heap (to " +
          type_name(ObjectRef::of(object)) +
          "). Objects may only point into their own heap; reach another heap's objects through a GlobalRoot.");
  }
  shade(object);
}

void Marker::shade(const void* object) {
  const ObjectRef ref = ObjectRef::of(object);
  if (!ref.span->try_mark(ref.index)) return;  // already grey or black
  const std::size_t size = ref.span->object_size();
  marked_bytes_ += size;
  work_done_ += size;
  if (ref.span->spanclass.noscan()) return;  // nothing inside to scan: black at once
  work_.push(reinterpret_cast<std::uintptr_t>(ref.cell));
}

bool Marker::drain_until(std::uint64_t work) { return drain_impl<true>(work); }

bool Marker::drain_local(std::uint64_t work) { return !drain_impl<false>(work); }

template <bool kFromPool>
bool Marker::drain_impl(std::uint64_t work) {
  const std::uint64_t stop_at = work > UINT64_MAX - work_done_ ? UINT64_MAX : work_done_ + work;
  // Scanning an object starts with a cache miss on it. Entries pass through
  // a small FIFO on their way from the stack to the scanner, and are
  // prefetched as they enter it, so that each miss overlaps the scanning
  // of the kPrefetchDistance objects ahead of it.
  constexpr std::size_t kPrefetchDistance = 8;
  std::uintptr_t ring[kPrefetchDistance];
  std::size_t head = 0, count = 0;
  while (true) {
    std::uintptr_t entry;
    while (count < kPrefetchDistance && work_.pop(entry, kFromPool)) {
      __builtin_prefetch(reinterpret_cast<const void*>(entry & kCellMask));
      ring[(head + count) % kPrefetchDistance] = entry;
      ++count;
    }
    if (count == 0) return true;
    if (work_done_ >= stop_at) {
      // Out of budget: what is still in the FIFO goes back to the stack.
      for (; count != 0; --count, head = (head + 1) % kPrefetchDistance) work_.push(ring[head]);
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
  const std::size_t chunk = entry >> kChunkShift;
  const TypeInfo* info = type_info_of(cell);
  const char* object = cell + info->header_size;
  parent_ = cell;
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
    for (std::size_t c = 1; c < chunks; ++c) work_.push(entry | (std::uintptr_t{c} << kChunkShift));
  }
  const std::size_t begin = chunk * per_chunk;
  info->trace_range(object, begin, std::min(n, begin + per_chunk), *this);
}

}  // namespace tricolor::gc
