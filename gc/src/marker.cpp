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
  if (ref.span->spanclass.noscan()) return;    // nothing inside to scan: black at once
  work_.push(reinterpret_cast<std::uintptr_t>(ref.cell));
}

void Marker::drain() {
  // Scanning an object starts with a cache miss on it. Entries pass through
  // a small FIFO on their way from the stack to the scanner, and are
  // prefetched as they enter it, so that each miss overlaps the scanning
  // of the kPrefetchDistance objects ahead of it.
  constexpr std::size_t kPrefetchDistance = 8;
  std::uintptr_t ring[kPrefetchDistance];
  std::size_t head = 0, count = 0;
  while (true) {
    std::uintptr_t entry;
    while (count < kPrefetchDistance && work_.pop(entry)) {
      __builtin_prefetch(reinterpret_cast<const void*>(entry & kCellMask));
      ring[(head + count) % kPrefetchDistance] = entry;
      ++count;
    }
    if (count == 0) return;
    entry = ring[head];
    head = (head + 1) % kPrefetchDistance;
    --count;
    scan(entry);
  }
}

void Marker::scan(std::uintptr_t entry) {
  char* cell = reinterpret_cast<char*>(entry & kCellMask);
  const std::size_t chunk = entry >> kChunkShift;
  const TypeInfo* info =
      reinterpret_cast<const TypeInfo*>(*reinterpret_cast<const std::uintptr_t*>(cell) & ~kConstructedBit);
  const char* object = cell + info->header_size;
  parent_ = cell;
  ++scanned_;
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
