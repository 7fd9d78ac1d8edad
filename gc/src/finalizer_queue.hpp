// The finalizer queue and the thread that runs it (Go's finq and fing).
//
// Sweeping queues a finalizer when its object is found unreachable (the
// object was marked again, so it survives to be finalized) and a cleanup
// when its object is freed. One thread per heap, attached to it as a
// mutator, runs them one after another, so finalizers and cleanups may
// allocate and use the heap. It is started by the first finalizer or
// cleanup set on the heap and waits as a blocking thread while the queue is
// empty, so the collector never waits for it.
//
// The queue is a root: an entry keeps its object (a finalizer's, or a
// cleanup's managed argument) alive until it has run. A mark worker greys
// the entries once per cycle, under the queue's lock; taking an entry out
// while marking shades its object (the deletion half of the write barrier,
// as for a GlobalRoot), and the running entry is held in a Root.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tricolor::gc {

class HeapState;
class Marker;

class FinalizerQueue {
 public:
  struct Entry {
    const void* keep;  // kept alive until `run` returns (may be null)
    std::function<void()> run;
  };

  explicit FinalizerQueue(HeapState& heap) noexcept : heap_(heap) {}
  ~FinalizerQueue();
  FinalizerQueue(const FinalizerQueue&) = delete;
  FinalizerQueue& operator=(const FinalizerQueue&) = delete;

  // Called by sweeping, under a specials shard lock.
  void push(Entry entry);
  // Starts the thread, once.
  void start();
  // Stops the thread; what is still queued is dropped, never run (as Go
  // does not run finalizers at exit).
  void stop();
  void mark_roots(Marker& marker);
  // `f(keep)` for each entry's object, under the queue's lock (gccheckmark).
  void for_each_root(const std::function<void(const void*)>& f);
  // Waits until the queue is empty and nothing runs. The calling thread, if
  // attached, counts as blocking meanwhile.
  void wait_idle();
  std::uint64_t completed() const;

 private:
  void run_thread();

  HeapState& heap_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Entry> entries_;
  bool running_entry_ = false;
  bool stopping_ = false;
  std::uint64_t completed_ = 0;
  std::thread thread_;
  std::once_flag started_;
};

}  // namespace tricolor::gc
