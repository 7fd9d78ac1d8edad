// Helpers for the interleaving tests: options that start no cycle of their
// own, and threads that wait for the test without holding up a collector.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <tricolor/interleave.hpp>
#include <tricolor/tricolor.hpp>

namespace tricolor::test {

// Only collect() starts a cycle: no GOGC trigger, no periodic cycle, no
// stress mode. gccheckmark stays as the environment sets it.
inline Options quiet_options() {
  Options o = Options::from_environment();
  o.gc_percent = -1;
  o.forced_gc_period_ns = 0;
  o.stress_interval = 0;
  return o;
}

// A one-shot signal between the test's threads.
class Signal {
 public:
  void set() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return set_; });
  }
  // On a thread attached to `heap`: waits as a blocking thread, so that no
  // collection waits for it meanwhile.
  void wait_blocking(Heap& heap) {
    BlockingScope blocked{heap};
    wait();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// Counts the destructions of its instances, one counter per type.
template <class Tag>
struct Tracked : Object {
  static inline std::atomic<int> destroyed{0};
  ~Tracked() { destroyed.fetch_add(1, std::memory_order_relaxed); }
};

}  // namespace tricolor::test
