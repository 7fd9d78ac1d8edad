#include "tricolor/barriers/write_barrier.hpp"

namespace tricolor::barriers {
namespace {

// 256 pointers, 128 stores with both halves: a flush is rare against the
// stores, and the batch is small against what a marker drains at once.
struct BarrierBuffer {
  static constexpr std::size_t kEntries = 256;
  std::size_t count = 0;
  const void* entries[kEntries];
};

thread_local BarrierBuffer t_buffer;

// Relaxed: the sink is set once, before any heap marks, by a thread that
// then starts the marking through the heap's lock.
std::atomic<BarrierSink> g_sink{nullptr};

void record(BarrierBuffer& b, const void* p) noexcept {
  if (p == nullptr) return;
  if (b.count == BarrierBuffer::kEntries) flush_barrier_buffer();
  b.entries[b.count++] = p;
}

}  // namespace

void shade_pair(const void* old_value, const void* new_value) noexcept {
  BarrierBuffer& b = t_buffer;
  record(b, old_value);
  record(b, new_value);
}

void flush_barrier_buffer() noexcept {
  BarrierBuffer& b = t_buffer;
  if (b.count == 0) return;
  if (BarrierSink sink = g_sink.load(std::memory_order_relaxed)) sink(b.entries, b.count);
  b.count = 0;
}

void set_barrier_sink(BarrierSink sink) noexcept { g_sink.store(sink, std::memory_order_relaxed); }

}  // namespace tricolor::barriers
