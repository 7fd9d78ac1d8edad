// What the Boehm GC programs (bench_boehm, pause_boehm) share: setting the
// collector up, timing its pauses, and registering the threads it must stop.
// Pauses are timed from GC_EVENT_PRE_STOP_WORLD to GC_EVENT_POST_START_WORLD.
#pragma once

#define GC_THREADS
#include <gc/gc.h>
#include <time.h>

#include <cstdint>
#include <vector>

namespace boehm {

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Every pause so far, in ns. Written with the GC lock held, where nothing may
// be allocated: the capacity is reserved up front.
inline std::uint64_t g_stop_start;
inline std::vector<std::uint64_t> g_pauses;
inline void on_event(GC_EventType e) {
  if (e == GC_EVENT_PRE_STOP_WORLD) g_stop_start = now_ns();
  if (e == GC_EVENT_POST_START_WORLD && g_pauses.size() < g_pauses.capacity()) g_pauses.push_back(now_ns() - g_stop_start);
}

inline void init(bool incremental) {
  g_pauses.reserve(1 << 20);
  GC_INIT();
  if (incremental) GC_enable_incremental();
  GC_set_on_collection_event(on_event);
  GC_allow_register_threads();  // starts the parallel markers, if any
}

// A thread that allocates or holds pointers into the heap must be known to
// the collector, which stops it with a signal.
struct ThreadRegistration {
  ThreadRegistration() {
    GC_stack_base sb;
    GC_get_stack_base(&sb);
    GC_register_my_thread(&sb);
  }
  ~ThreadRegistration() { GC_unregister_my_thread(); }
  ThreadRegistration(const ThreadRegistration&) = delete;
  ThreadRegistration& operator=(const ThreadRegistration&) = delete;
};

}  // namespace boehm
