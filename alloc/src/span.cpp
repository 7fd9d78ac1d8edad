#include "tricolor/alloc/span.hpp"

#include <mimalloc.h>

#include <bit>
#include <cstring>
#include <utility>

#include "tricolor/alloc/poison.hpp"

namespace tricolor::alloc {

Span& empty_span() noexcept {
  // Never written: nelems == 0 and an empty cache send every caller to the slow path.
  static Span span;
  return span;
}

void Span::set_padding_bits() noexcept {
  if (nelems % 64 != 0) alloc_bits[nelems / 64] |= ~std::uint64_t{0} << (nelems % 64);
}

void* Span::alloc_slow() noexcept {
  std::uint32_t index = freeindex;
  std::uint64_t cache = alloc_cache;
  if (cache == 0) {
    // The cached word is used up. If freeindex is at a word boundary, the
    // fast path has just crossed into that word and it is not loaded yet;
    // otherwise the rest of freeindex's word is allocated.
    for (index = (index + 63) & ~std::uint32_t{63};; index += 64) {
      if (index >= nelems) {
        freeindex = nelems;
        return nullptr;
      }
      cache = ~alloc_bits[index / 64];  // the padding bits past nelems are set
      if (cache != 0) break;
    }
    if (needzero && spanclass.zeroed()) zero_free(index, cache);
  }
  const unsigned bit = static_cast<unsigned>(std::countr_zero(cache));
  index += bit;
  alloc_cache = (cache >> bit) >> 1;
  freeindex = index + 1;
  ++alloc_count;
  return object_at(index);
}

void Span::zero_free(std::uint32_t first, std::uint64_t free) noexcept {
  // Adjacent free objects are cleared by one memset: a fresh or fully dead
  // word is one run of up to 64 objects.
  while (free != 0) {
    const unsigned start = static_cast<unsigned>(std::countr_zero(free));
    const unsigned count = static_cast<unsigned>(std::countr_zero(~(free >> start)));
    char* p = static_cast<char*>(object_at(first + start));
    const std::size_t n = std::size_t{count} * elem_size;
    unpoison(p, n);
    std::memset(p, 0, n);
    poison(p, n);  // until handed out
    free &= free + (free & -free);  // clears the run just zeroed
  }
}

// Counting bits is most of a sweep; the x86-64 baseline has no POPCNT, so
// GCC would call a libgcc routine per word. Build a POPCNT clone as well and
// let the loader pick it on CPUs that have the instruction.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && \
    !defined(__SANITIZE_ADDRESS__)
[[gnu::target_clones("popcnt", "default")]]
#endif
Span::SweepResult Span::sweep(DeadObjectFn on_dead, void* context) noexcept {
  SweepResult result;
  const std::size_t words = bitmap_words();
  const bool report = spanclass.finalize() && on_dead != nullptr;
  const std::size_t object_bytes = object_size();
  const std::uint32_t live_from_index = live_from.load(std::memory_order_relaxed);
  for (std::size_t w = 0; w < words; ++w) {
    const std::size_t first = w * 64;
    const std::uint64_t valid = (first + 64 <= nelems) ? ~std::uint64_t{0}
                                                       : (std::uint64_t{1} << (nelems - first)) - 1;
    // Objects below freeindex were allocated without touching the bitmap.
    std::uint64_t below_free = 0;
    if (freeindex >= first + 64) {
      below_free = ~std::uint64_t{0};
    } else if (freeindex > first) {
      below_free = (std::uint64_t{1} << (freeindex - first)) - 1;
    }
    const std::uint64_t allocated = (alloc_bits[w] | below_free) & valid;
    // Allocated since live_from: in [live_from, freeindex), not left
    // allocated by the last sweep.
    std::uint64_t from_live = 0;
    if (live_from_index < first + 64) {
      from_live = live_from_index <= first ? ~std::uint64_t{0} : ~((std::uint64_t{1} << (live_from_index - first)) - 1);
    }
    const std::uint64_t allocated_live = from_live & below_free & ~alloc_bits[w] & valid;
    mark_bits[w] |= allocated_live;  // the swap below makes them allocated
    const std::uint64_t marked = mark_bits[w] & valid;
    std::uint64_t dead = allocated & ~marked;
    result.survivors += static_cast<std::uint32_t>(std::popcount(marked));
    if (const std::uint64_t zombies = marked & ~allocated; zombies != 0) [[unlikely]] {
      if (result.zombies == 0) result.first_zombie = static_cast<std::uint32_t>(first + std::countr_zero(zombies));
      result.zombies += static_cast<std::uint32_t>(std::popcount(zombies));
    }
    result.freed += static_cast<std::uint32_t>(std::popcount(dead));
    if (report || kPoisonFreeMemory) {
      while (dead != 0) {
        void* object = object_at(static_cast<std::uint32_t>(first + std::countr_zero(dead)));
        if (report) on_dead(context, object);
        poison(object, object_bytes);
        dead &= dead - 1;
      }
    }
  }
  // The swap: survivors are exactly the marked objects.
  std::swap(alloc_bits, mark_bits);
  std::memset(mark_bits, 0, words * sizeof(std::uint64_t));
  set_padding_bits();
  freeindex = 0;
  alloc_count = result.survivors;
  live_from.store(kNoneLive, std::memory_order_relaxed);
  alloc_cache = 0;  // alloc_slow loads word 0, and zeroes its free objects
  if (result.freed != 0) needzero = true;  // the dead left their bytes
  return result;
}

bool Span::init_for_objects(SpanClass sc, std::size_t large_bytes) noexcept {
  // `state` is not touched here: the page heap set it to kInUse under its
  // lock, and another thread coalescing a neighbour reads it under that lock.
  spanclass = sc;
  if (sc.large()) {
    nelems = 1;
    elem_size = 0;  // a large span's object is the whole span
    divmagic = 0;   // so object_index() is always 0
  } else {
    const SizeClass& c = kSizeClasses[sc.size_class()];
    nelems = c.objects;
    elem_size = c.size;
    divmagic = c.divmagic;
  }
  const std::size_t words = bitmap_words();
  if (words <= kInlineWords) {
    alloc_bits = &inline_bits_[0];
    mark_bits = &inline_bits_[words];  // adjacent: up to 256 objects, both in one line
  } else {
    if (bitmap_capacity_words_ < words) {
      auto* storage = static_cast<std::uint64_t*>(mi_malloc(2 * words * sizeof(std::uint64_t)));
      if (storage == nullptr) return false;
      mi_free(bitmap_storage_);
      bitmap_storage_ = storage;
      bitmap_capacity_words_ = static_cast<std::uint32_t>(words);
    }
    alloc_bits = bitmap_storage_;
    mark_bits = bitmap_storage_ + words;
  }
  std::memset(alloc_bits, 0, words * sizeof(std::uint64_t));
  std::memset(mark_bits, 0, words * sizeof(std::uint64_t));
  set_padding_bits();
  freeindex = 0;
  alloc_count = 0;
  alloc_count_at_cache = 0;
  live_from.store(kNoneLive, std::memory_order_relaxed);
  alloc_cache = 0;  // alloc_slow loads word 0
  // Pages come back from the page heap holding old objects unless needzero
  // says they are as the source zeroed them. Small objects are zeroed 64 at
  // a time as alloc_slow loads their word (pages of words never loaded stay
  // untouched); a large object is zeroed here, once, up to its requested
  // size. Pages the program never writes are then never touched, and cost
  // no RSS.
  if (sc.large() && needzero) {
    unpoison(base, bytes());
    std::memset(base, 0, large_bytes);
    poison(base, bytes());
    needzero = false;  // its one object is zero now
  }
  return true;
}

void Span::release_bitmaps() noexcept {
  mi_free(bitmap_storage_);
  bitmap_storage_ = nullptr;
  bitmap_capacity_words_ = 0;
  alloc_bits = mark_bits = nullptr;
}

}  // namespace tricolor::alloc
