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
// collector in one batch. A marking heap makes each of its threads flush
// before it parks, blocks or detaches, and asks the running ones to flush
// before its mark can end, so a stopped world holds no unflushed entry of
// its own threads. A store made by any other thread (a GlobalRoot written
// by a thread that is not attached to the heap, a Member of one heap's
// object written by a thread of another) would sit in a buffer that heap
// never asks for: such a thread shades at once, unbuffered. Which kind a
// thread is depends on the heaps marking and the heaps it is attached to;
// it is worked out again whenever either changes (marking_epoch, and
// invalidate_barrier_coverage on attach and detach).
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
// Changes whenever a heap starts or stops marking. Relaxed, as the flag
// above: a thread that stores a pointer a marking heap must know about
// loaded it after that heap's marking began, through that heap's lock or
// its user's own synchronisation, which orders the change before the store.
inline std::atomic<std::uint64_t> marking_epoch{0};

inline bool barrier_enabled() noexcept { return marking_heaps.load(std::memory_order_relaxed) != 0; }

// Records the overwritten and the written pointer (either may be null).
void shade_pair(const void* old_value, const void* new_value) noexcept;
// Hands this thread's buffered pointers to the collector.
void flush_barrier_buffer() noexcept;

// The collector's receiver of flushed pointers; set once by the collector
// layer. It must accept pointers into any heap or into none it knows.
using BarrierSink = void (*)(const void* const* pointers, std::size_t count);
// Whether the calling thread may buffer: it is attached to every heap now
// marking. Sets `epoch` to the marking_epoch the answer holds for.
using BufferCheck = bool (*)(std::uint64_t& epoch);
void set_barrier_sink(BarrierSink sink, BufferCheck may_buffer) noexcept;
// The calling thread attached to a heap or detached from one: whether it
// may buffer is worked out again at its next store.
void invalidate_barrier_coverage() noexcept;

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
