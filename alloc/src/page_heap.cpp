#include "tricolor/alloc/page_heap.hpp"

#include <mimalloc.h>

#include <algorithm>
#include <bit>
#include <new>
#include <string>

#include "tricolor/alloc/out_of_memory.hpp"
#include "tricolor/alloc/poison.hpp"

namespace tricolor::alloc {
namespace {

std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

PageHeap::PageHeap(PageSource& source, std::size_t max_bytes) noexcept : source_(source), max_bytes_(max_bytes) {}

PageHeap::~PageHeap() {
  // Every usable page is covered by an in-use span or a free run, and the
  // first page of each maps to its descriptor: walking run by run visits
  // every descriptor once.
  while (segments_ != nullptr) {
    Segment* seg = segments_;
    std::size_t page = kSegmentHeaderPages;
    const std::size_t end = kSegmentHeaderPages + (seg->huge ? 1 : seg->usable_pages);
    while (page < end) {
      Span* span = seg->pagemap[page].load(std::memory_order_relaxed);
      page += seg->huge ? 1 : span->npages;
      span->release_bitmaps();
      span->~Span();
      mi_free(span);
    }
    release_segment(seg);
  }
  while (spare_descriptors_ != nullptr) {
    Span* span = spare_descriptors_;
    spare_descriptors_ = span->next;
    span->release_bitmaps();
    span->~Span();
    mi_free(span);
  }
}

Span* PageHeap::new_descriptor() {
  if (Span* span = spare_descriptors_) {
    spare_descriptors_ = span->next;
    span->next = span->prev = nullptr;
    return span;
  }
  void* memory = mi_malloc_aligned(sizeof(Span), alignof(Span));
  if (memory == nullptr) throw OutOfMemory("tricolor: out of memory for span metadata (mimalloc returned null)");
  stats_.metadata_bytes += sizeof(Span);
  return new (memory) Span();
}

void PageHeap::recycle_descriptor(Span* span) noexcept {
  span->state = Span::State::kFree;
  span->base = nullptr;
  span->npages = 0;
  span->prev = nullptr;
  span->next = spare_descriptors_;
  spare_descriptors_ = span;
}

void PageHeap::set_pages(Span* span) noexcept {
  Segment* seg = Segment::of(span->base);
  const std::size_t first = Segment::page_of(span->base);
  const std::size_t end = seg->huge ? kPagesPerSegment : first + span->npages;
  for (std::size_t p = first; p < end && p < kPagesPerSegment; ++p) {
    seg->pagemap[p].store(span, std::memory_order_relaxed);
  }
}

void PageHeap::insert_free_run(Span* run) noexcept {
  Segment* seg = Segment::of(run->base);
  const std::size_t first = Segment::page_of(run->base);
  seg->pagemap[first].store(run, std::memory_order_relaxed);
  seg->pagemap[first + run->npages - 1].store(run, std::memory_order_relaxed);
  run->state = Span::State::kFree;
  run->prev = nullptr;
  run->next = free_runs_[run->npages];
  if (run->next != nullptr) run->next->prev = run;
  free_runs_[run->npages] = run;
  nonempty_[run->npages / 64] |= std::uint64_t{1} << (run->npages % 64);
}

void PageHeap::remove_free_run(Span* run) noexcept {
  if (run->prev != nullptr) {
    run->prev->next = run->next;
  } else {
    free_runs_[run->npages] = run->next;
    if (run->next == nullptr) nonempty_[run->npages / 64] &= ~(std::uint64_t{1} << (run->npages % 64));
  }
  if (run->next != nullptr) run->next->prev = run->prev;
  run->next = run->prev = nullptr;
}

Span* PageHeap::take_run(std::size_t npages) noexcept {
  // The shortest non-empty list with runs of at least npages pages.
  for (std::size_t w = npages / 64; w < std::size(nonempty_); ++w) {
    std::uint64_t bits = nonempty_[w];
    if (w == npages / 64) bits &= ~std::uint64_t{0} << (npages % 64);
    if (bits != 0) {
      Span* run = free_runs_[w * 64 + static_cast<std::size_t>(std::countr_zero(bits))];
      remove_free_run(run);
      return run;
    }
  }
  return nullptr;
}

Segment* PageHeap::grow(std::size_t npages) {
  const bool huge = npages > kSegmentUsablePages;
  const std::size_t usable = huge ? npages : kSegmentUsablePages;
  const std::size_t block_bytes = (kSegmentHeaderPages + usable) << kPageShift;
  if (usable << kPageShift > max_bytes_ - std::min(max_bytes_, std::size_t(stats_.sys_bytes))) {
    throw OutOfMemory("tricolor: cannot grow the heap by " + mib(usable << kPageShift) +
                      ": it holds " + mib(stats_.sys_bytes) + " and its limit is " + mib(max_bytes_) +
                      ". Raise the heap's maximum size, or keep fewer objects alive.");
  }
  Span* run = new_descriptor();
  void* block = source_.acquire(block_bytes, kSegmentSize);
  if (block == nullptr) {
    recycle_descriptor(run);
    throw OutOfMemory("tricolor: the page source could not provide " + mib(block_bytes) +
                      " for a heap segment (the system is out of memory; the heap holds " +
                      mib(stats_.sys_bytes) + ")");
  }
  auto* seg = new (block) Segment();
  seg->owner = this;
  seg->block_bytes = block_bytes;
  seg->usable_pages = static_cast<std::uint32_t>(usable);
  seg->free_pages = static_cast<std::uint32_t>(usable);
  seg->huge = huge;
  seg->next = segments_;
  if (segments_ != nullptr) segments_->prev = seg;
  segments_ = seg;
  stats_.sys_bytes += usable << kPageShift;
  stats_.idle_bytes += usable << kPageShift;
  stats_.metadata_bytes += kSegmentHeaderPages << kPageShift;
  ++stats_.segments;
  run->base = seg->page_address(kSegmentHeaderPages);
  run->npages = static_cast<std::uint32_t>(usable);
  poison(run->base, usable << kPageShift);
  if (huge) {
    run->state = Span::State::kFree;
    seg->pagemap[kSegmentHeaderPages].store(run, std::memory_order_relaxed);
  } else {
    insert_free_run(run);
  }
  return seg;
}

Span* PageHeap::alloc_span(std::size_t npages) {
  std::lock_guard<std::mutex> guard(mu_);
  Span* span;
  if (npages > kSegmentUsablePages) {
    Segment* seg = grow(npages);
    span = seg->pagemap[kSegmentHeaderPages].load(std::memory_order_relaxed);
  } else {
    // A split needs a descriptor for the tail: get it before touching the
    // free lists, so that failing to get one changes nothing.
    Span* tail = new_descriptor();
    span = take_run(npages);
    if (span == nullptr) {
      try {
        grow(npages);
      } catch (...) {
        recycle_descriptor(tail);
        throw;
      }
      span = take_run(npages);
    }
    if (span->npages > npages) {
      tail->base = span->base + (npages << kPageShift);
      tail->npages = static_cast<std::uint32_t>(span->npages - npages);
      insert_free_run(tail);
      span->npages = static_cast<std::uint32_t>(npages);
    } else {
      recycle_descriptor(tail);
    }
  }
  span->state = Span::State::kInUse;
  set_pages(span);
  Segment* seg = Segment::of(span->base);
  seg->free_pages -= span->npages;
  const auto first = static_cast<std::uint32_t>(Segment::page_of(span->base));
  span->needzero = !source_.acquires_zeroed() || first < seg->unused_from;
  seg->unused_from = std::max(seg->unused_from, first + span->npages);
  stats_.inuse_bytes += span->bytes();
  stats_.idle_bytes -= span->bytes();
  return span;
}

void PageHeap::free_span(Span* span) noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  Segment* seg = Segment::of(span->base);
  stats_.inuse_bytes -= span->bytes();
  stats_.idle_bytes += span->bytes();
  seg->free_pages += span->npages;
  poison(span->base, span->bytes());
  span->state = Span::State::kFree;
  if (seg->huge) {
    // A huge segment holds one object; keeping it would pin its whole size.
    span->release_bitmaps();
    span->~Span();
    mi_free(span);
    stats_.metadata_bytes -= sizeof(Span);
    release_segment(seg);
    return;
  }
  const std::size_t first = Segment::page_of(span->base);
  if (first > kSegmentHeaderPages) {
    Span* left = seg->pagemap[first - 1].load(std::memory_order_relaxed);
    if (left->state == Span::State::kFree) {
      remove_free_run(left);
      span->base = left->base;
      span->npages += left->npages;
      recycle_descriptor(left);
    }
  }
  const std::size_t end = Segment::page_of(span->base) + span->npages;
  if (end < kPagesPerSegment) {
    Span* right = seg->pagemap[end].load(std::memory_order_relaxed);
    if (right->state == Span::State::kFree) {
      remove_free_run(right);
      span->npages += right->npages;
      recycle_descriptor(right);
    }
  }
  insert_free_run(span);
}

void PageHeap::release_segment(Segment* seg) noexcept {
  if (seg->prev != nullptr) seg->prev->next = seg->next;
  else segments_ = seg->next;
  if (seg->next != nullptr) seg->next->prev = seg->prev;
  const std::size_t usable_bytes = std::size_t{seg->usable_pages} << kPageShift;
  stats_.sys_bytes -= usable_bytes;
  stats_.idle_bytes -= usable_bytes;
  stats_.released_bytes += usable_bytes;
  stats_.metadata_bytes -= kSegmentHeaderPages << kPageShift;
  --stats_.segments;
  const std::size_t block_bytes = seg->block_bytes;
  seg->~Segment();
  // The source may hand this memory out again, to anyone: it must not stay poisoned.
  unpoison(seg, block_bytes);
  source_.release(seg, block_bytes);
}

std::size_t PageHeap::scavenge(std::size_t retain_bytes) noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  std::size_t released = 0;
  Segment* seg = segments_;
  while (seg != nullptr && stats_.idle_bytes > retain_bytes) {
    Segment* next = seg->next;
    if (!seg->huge && seg->free_pages == seg->usable_pages) {
      Span* run = seg->pagemap[kSegmentHeaderPages].load(std::memory_order_relaxed);
      remove_free_run(run);
      recycle_descriptor(run);
      released += std::size_t{seg->usable_pages} << kPageShift;
      release_segment(seg);
    }
    seg = next;
  }
  return released;
}

PageHeapStats PageHeap::stats() const noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  return stats_;
}

std::vector<const Segment*> PageHeap::segments() const {
  std::vector<const Segment*> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Segment* seg = segments_; seg != nullptr; seg = seg->next) out.push_back(seg);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tricolor::alloc
