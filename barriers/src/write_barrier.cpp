#include "tricolor/barriers/write_barrier.hpp"

namespace tricolor::barriers {
namespace {

// 256 pointers, 128 stores with both halves: a flush is rare against the
// stores, and the batch is small against what a marker drains at once.
struct BarrierBuffer {
  static constexpr std::size_t kEntries = 256;
  std::size_t count = 0;
  // The marking_epoch `buffered` was worked out for; never a real epoch
  // at first, so that the first store asks.
  std::uint64_t epoch = ~std::uint64_t{0};
  bool buffered = false;
  const void* entries[kEntries];
};

thread_local BarrierBuffer t_buffer;

// Relaxed: both are set once, before any heap marks, by a thread that then
// starts the marking through the heap's lock.
std::atomic<BarrierSink> g_sink{nullptr};
std::atomic<BufferCheck> g_may_buffer{nullptr};

void record(BarrierBuffer& b, const void* p) noexcept {
  if (p == nullptr) return;
  if (b.count == BarrierBuffer::kEntries) flush_barrier_buffer();
  b.entries[b.count++] = p;
}

// A thread no marking heap will ask to flush: the pair goes to the
// collector now (the sink takes the marking heaps' lock, which orders it
// against a heap deciding that its marking is over).
[[gnu::noinline]] void shade_unbuffered(const void* old_value, const void* new_value) noexcept {
  const void* pair[2];
  std::size_t n = 0;
  if (old_value != nullptr) pair[n++] = old_value;
  if (new_value != nullptr) pair[n++] = new_value;
  BarrierSink sink = g_sink.load(std::memory_order_relaxed);
  if (n != 0 && sink != nullptr) sink(pair, n);
}

[[gnu::noinline]] void check_buffering(BarrierBuffer& b) noexcept {
  BufferCheck check = g_may_buffer.load(std::memory_order_relaxed);
  b.buffered = check != nullptr && check(b.epoch);
  // What the thread buffered under the old answer goes now: it may be for
  // a heap that no longer would ask this thread for it.
  flush_barrier_buffer();
}

}  // namespace

void shade_pair(const void* old_value, const void* new_value) noexcept {
  BarrierBuffer& b = t_buffer;
  if (b.epoch != marking_epoch.load(std::memory_order_relaxed)) [[unlikely]] check_buffering(b);
  if (!b.buffered) [[unlikely]] {
    shade_unbuffered(old_value, new_value);
    return;
  }
  record(b, old_value);
  record(b, new_value);
}

void invalidate_barrier_coverage() noexcept { t_buffer.epoch = ~std::uint64_t{0}; }

void flush_barrier_buffer() noexcept {
  BarrierBuffer& b = t_buffer;
  if (b.count == 0) return;
  if (BarrierSink sink = g_sink.load(std::memory_order_relaxed)) sink(b.entries, b.count);
  b.count = 0;
}

void set_barrier_sink(BarrierSink sink, BufferCheck may_buffer) noexcept {
  g_sink.store(sink, std::memory_order_relaxed);
  g_may_buffer.store(may_buffer, std::memory_order_relaxed);
}

}  // namespace tricolor::barriers
