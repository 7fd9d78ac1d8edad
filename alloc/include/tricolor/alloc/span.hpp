// A span is a run of pages holding objects of one span class, with two side
// bitmaps: allocation bits and mark bits, one bit per object. Nothing about
// an object's state lives in the object itself.
//
// Allocation (Go's nextFreeFast): objects below `freeindex` are allocated;
// from `freeindex` on, an object is free iff its alloc bit is clear. The span
// caches the complement of the alloc-bit word that holds `freeindex`, shifted
// so that bit 0 is `freeindex`: the next free object is one count-trailing-
// zeros away, and allocation never writes the bitmap. The alloc bits past
// `nelems` in the last word are kept set, so the cache never offers an object
// that does not exist. When the cache runs dry (the rest of the word is
// allocated, or freeindex has just crossed into the next word) the
// out-of-line alloc_slow() loads the next word.
//
// Zeroing: every object the cache word offers is zero, unless the class is
// not zeroed() (small noscan objects, which only their owner reads).
// alloc_slow() is the only place that loads the word, and it clears the
// word's free objects first (unless needzero says they are still as the
// source zeroed them), adjacent ones with one memset. Clearing them one by
// one as they were handed out cost twice the time of the whole allocation
// on a heap larger than L2: six narrow stores per cache line fill the store
// buffer, and it can then wait on only a few lines at once; a memset writes
// whole lines.
//
// Sweeping (Go's mspan.sweep): after marking, the mark bits plus the objects
// allocated since live_from (allocated black, without a bit) are exactly the
// objects that survive, so they become the new alloc bits and the old alloc
// bitmap, cleared, becomes the next cycle's mark bitmap. Dead objects are
// never touched unless the span class needs their destructors run.
//
// Sweep generations (Go's mspan.sweepgen), relative to the heap's sweepgen h,
// which advances by 2 after every mark phase:
//   h-2  the span needs sweeping
//   h-1  the span is being swept (whoever won the CAS from h-2 owns it)
//   h    the span is swept and ready to use
//   h+1  the span was cached by a thread before sweeping began; it must be
//        swept when the thread gives it back
//   h+3  the span was swept, then cached, and is still cached
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "tricolor/alloc/span_class.hpp"

namespace tricolor::alloc {

// Layout: the marker looks up a span for every pointer it follows, and an
// allocating thread reads its span for every object. Everything either reads
// (identity, the bitmap pointers, the allocation cursor) fills the first
// cache line (tests/alloc check it). The bitmaps of a span of up to 512
// objects (every class but 8 bytes) follow in the next two lines: those of
// up to 256 objects fill the second, which the CPU's adjacent-line
// prefetcher brings with the first (the span is 128-byte aligned). The rest
// comes after, in the same 256 bytes: bitmaps inline for twice as many
// objects cost no memory, where a separate block for them did.
class alignas(128) Span {
 public:
  static constexpr std::uint32_t kNoneLive = ~std::uint32_t{0};
  enum class State : std::uint8_t {
    kFree,   // a free run of pages owned by the page heap
    kInUse,  // holds objects
  };

  // ---- Identity: set by the page heap / span init, fixed while in use.
  char* base = nullptr;
  // ---- Side bitmaps, (nelems + 63) / 64 words each. Mark bits are set by
  // any number of markers at once (atomic OR); alloc bits change only during
  // sweep, by the span's owner.
  std::uint64_t* mark_bits = nullptr;
  std::uint64_t* alloc_bits = nullptr;
  std::uint32_t elem_size = 0;
  std::uint32_t divmagic = 0;  // offset * divmagic >> 32 == offset / elem_size
  std::uint32_t nelems = 0;
  std::uint32_t npages = 0;
  SpanClass spanclass;

  // ---- Allocation state: owned by the thread whose cache holds the span,
  // otherwise by whoever popped it from a central list or owns its sweep.
  std::uint32_t freeindex = 0;
  std::uint32_t alloc_count = 0;
  // Objects allocated from index live_from on, until the next sweep, are
  // live at that sweep without a mark bit (the collector's allocate-black:
  // a thread that allocates from the span during marking lowers it to the
  // span's freeindex first). kNoneLive otherwise. Written by the span's
  // owner, read by markers (relaxed: a marker only asks about an object it
  // reached through a pointer published after the store).
  std::atomic<std::uint32_t> live_from{kNoneLive};
  std::uint64_t alloc_cache = 0;

 private:
  static constexpr std::size_t kInlineWords = 8;  // per bitmap: spans of up to 512 objects (all but 8 B)
  alignas(64) std::uint64_t inline_bits_[2 * kInlineWords] = {};

 public:
  State state = State::kFree;  // the page heap's
  // Whether free objects may hold old bytes; false for pages the source gave
  // zeroed that nothing has used yet. Set by the page heap as it hands the
  // span out (Go's mspan.needzero), and by a sweep that frees an object.
  bool needzero = true;
  std::uint32_t alloc_count_at_cache = 0;  // to count Mallocs when uncached
  std::atomic<std::uint32_t> sweepgen{0};
  // Records the layer above attaches to some of the span's objects (the
  // collector's finalizers and weak handles: Go's span specials); opaque
  // here. A non-null value makes the span's sweep report the span to
  // SpanHeapOptions::on_specials before it frees anything. Sequentially
  // consistent, with the store of sweepgen that claims a sweep: see
  // SpanHeap::sweep_span.
  std::atomic<void*> specials{nullptr};

  // ---- Links: a central list or a page-heap free list, never both.
  Span* next = nullptr;
  Span* prev = nullptr;

  std::size_t bitmap_words() const noexcept { return (std::size_t{nelems} + 63) / 64; }
  std::size_t bytes() const noexcept { return std::size_t{npages} << kPageShift; }
  // The size of one object: the class size, or the whole span for a large one.
  std::size_t object_size() const noexcept { return spanclass.large() ? bytes() : elem_size; }
  char* limit() const noexcept { return base + bytes(); }

  // The fast path of allocation: claims the next free object of the cached
  // word. Requires alloc_cache != 0; otherwise the caller calls alloc_slow
  // (or refills from another span).
  void* alloc_cached() noexcept {
    const std::uint64_t cache = alloc_cache;
    const unsigned bit = static_cast<unsigned>(std::countr_zero(cache));
    const std::uint32_t index = freeindex + bit;
    alloc_cache = (cache >> bit) >> 1;
    freeindex = index + 1;
    ++alloc_count;
    return base + std::size_t{index} * elem_size;
  }

  // Finds the next free object at or after freeindex, reloading the cache
  // word as needed, and claims it. Returns nullptr when the span is full.
  void* alloc_slow() noexcept;

  // Object index of an address inside the span (any byte of the object).
  std::uint32_t object_index(const void* p) const noexcept {
    const auto offset = static_cast<std::uint64_t>(static_cast<const char*>(p) - base);
    return static_cast<std::uint32_t>((offset * divmagic) >> 32);
  }
  void* object_at(std::uint32_t index) const noexcept { return base + std::size_t{index} * elem_size; }

  bool is_allocated(std::uint32_t index) const noexcept {
    return index < freeindex || ((alloc_bits[index / 64] >> (index % 64)) & 1) != 0;
  }

  // Sets the object's mark bit; true if this call set it. Relaxed is enough:
  // the bit is the only thing decided here, and the read-modify-write makes
  // exactly one of several racing markers see the bit clear. Whatever the
  // marker later reads from the object reached it with the pointer, under
  // the happens-before that handed the pointer over.
  bool try_mark(std::uint32_t index) noexcept {
    const std::uint64_t bit = std::uint64_t{1} << (index % 64);
    std::atomic_ref<std::uint64_t> word(mark_bits[index / 64]);
    if ((word.load(std::memory_order_relaxed) & bit) != 0) return false;
    return (word.fetch_or(bit, std::memory_order_relaxed) & bit) == 0;
  }
  bool is_marked(std::uint32_t index) const noexcept {
    std::atomic_ref<std::uint64_t> word(mark_bits[index / 64]);
    return (word.load(std::memory_order_relaxed) >> (index % 64) & 1) != 0;
  }
  // For an allocated object: allocated since live_from (it is not among
  // the objects the last sweep left allocated). Such an object survives
  // the next sweep unmarked.
  bool allocated_live(std::uint32_t index) const noexcept {
    return index >= live_from.load(std::memory_order_relaxed) && ((alloc_bits[index / 64] >> (index % 64)) & 1) == 0;
  }
  // For an allocated object: whether the next sweep keeps it.
  bool is_live(std::uint32_t index) const noexcept { return is_marked(index) || allocated_live(index); }
  // Makes what the owner allocates from now on live at the next sweep.
  void allocate_live() noexcept {
    if (live_from.load(std::memory_order_relaxed) > freeindex) live_from.store(freeindex, std::memory_order_relaxed);
  }

  struct SweepResult {
    std::uint32_t freed = 0;      // objects that died
    std::uint32_t survivors = 0;  // objects still allocated
    std::uint32_t zombies = 0;    // marked but never allocated: a collector bug
    std::uint32_t first_zombie = 0;  // the index of one of them, if any
  };
  // Called for each dead object of a finalize span class, before its memory
  // is reused. Must not throw.
  using DeadObjectFn = void (*)(void* context, void* object) noexcept;

  // The bitmap swap. The caller owns the span's sweep (sweepgen h-1) and
  // publishes the result by storing sweepgen afterwards. Dead objects are
  // reported to `on_dead` only for finalize span classes; in sanitizer
  // builds their memory is poisoned.
  SweepResult sweep(DeadObjectFn on_dead, void* context) noexcept;

  // Prepares a span that the page heap has just handed out for objects of
  // `sc`: sizes its bitmaps and leaves every object free. A large span's
  // object is zeroed up to `large_bytes` unless its pages are still as the
  // source zeroed them (needzero); small objects are zeroed by alloc_slow.
  // Returns false if the bitmap storage could not be allocated.
  bool init_for_objects(SpanClass sc, std::size_t large_bytes) noexcept;
  // Releases bitmap storage that a free span keeps.
  void release_bitmaps() noexcept;

 private:
  // Zeroes the objects from `first` whose bits are set in `free` (bit i is
  // object first + i).
  void zero_free(std::uint32_t first, std::uint64_t free) noexcept;
  void set_padding_bits() noexcept;
  std::uint64_t* bitmap_storage_ = nullptr;  // both bitmaps, when they do not fit inline
  std::uint32_t bitmap_capacity_words_ = 0;  // per bitmap
};

// The span every thread cache slot points at when it holds nothing: its cache
// is empty, so the fast path falls into the slow path without a null check.
Span& empty_span() noexcept;

}  // namespace tricolor::alloc
