// The write barrier: every store of a managed pointer into a shared slot (a
// Member<T> field of a heap object, a GlobalRoot<T>) comes through here.
//
// While some heap is marking, a store shades both the pointer it overwrites
// (Yuasa's deletion barrier: the snapshot reachable when marking began stays
// reachable for the marker) and the pointer it writes (Dijkstra's insertion
// barrier: a thread whose roots are not scanned yet may hand an object to an
// object that is already black). Go's hybrid barrier, mbarrier.go. Root<T>
// handles are a thread's own roots and, like Go's stack slots, take no
// barrier: the thread greys them itself, once per cycle, and the deletion
// half covers every pointer it loads from the heap afterwards.
//
// Shading is buffered per thread (Go's wbBuf): the barrier records both
// pointers in a thread-local buffer, and a full buffer is handed to the
// collector in one batch. The collector makes every thread flush before it
// parks, blocks or detaches, so a stopped world holds no unflushed entry.
//
// With no heap marking, the barrier is one relaxed load and a branch. The
// load is relaxed because the flag only changes while the world is stopped,
// and every thread resumes through the heap's lock, which orders the change
// before its next store.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tricolor::barriers {

// How many heaps are marking now; the barrier is on while it is not zero.
inline std::atomic<std::uint32_t> marking_heaps{0};

inline bool barrier_enabled() noexcept { return marking_heaps.load(std::memory_order_relaxed) != 0; }

// Records the overwritten and the written pointer (either may be null).
void shade_pair(const void* old_value, const void* new_value) noexcept;
// Hands this thread's buffered pointers to the collector.
void flush_barrier_buffer() noexcept;

// The collector's receiver of flushed pointers; set once by the collector
// layer. It must accept pointers into any heap or into none it knows.
using BarrierSink = void (*)(const void* const* pointers, std::size_t count);
void set_barrier_sink(BarrierSink sink) noexcept;

// Test builds only: TRICOLOR_TEST_BARRIER_HALF=1 keeps only the insertion
// half, =2 only the deletion half. The suite links the collector built this
// way to show that its stress test then loses live objects.
template <class T>
inline void store_pointer(std::atomic<T*>& slot, T* value) noexcept {
  if (barrier_enabled()) [[unlikely]] {
    // The old value is loaded with acquire: shading it reads its object's
    // span, which the thread that stored the pointer may have just set up,
    // and the store's release is what publishes that.
#if TRICOLOR_TEST_BARRIER_HALF == 1
    shade_pair(nullptr, value);
#elif TRICOLOR_TEST_BARRIER_HALF == 2
    shade_pair(slot.load(std::memory_order_acquire), nullptr);
#else
    shade_pair(slot.load(std::memory_order_acquire), value);
#endif
  }
  // Release: a marker that loads this pointer (with acquire) sees the
  // object's header and its span's metadata as this thread saw them, even
  // for an object allocated after marking began.
  slot.store(value, std::memory_order_release);
}

}  // namespace tricolor::barriers
