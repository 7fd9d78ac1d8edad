// Shared managed types and helpers for the collector tests.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#include <tricolor/tricolor.hpp>

namespace tricolor::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// Counts live instances: constructed minus destroyed.
struct Counted : Object {
  static inline std::atomic<long> live{0};
  static inline std::atomic<long> destroyed{0};
  Member<Counted> left, right;
  long value = 0;
  explicit Counted(long v = 0) : value(v) { live.fetch_add(1, std::memory_order_relaxed); }
  ~Counted() {
    live.fetch_sub(1, std::memory_order_relaxed);
    destroyed.fetch_add(1, std::memory_order_relaxed);
  }
  void trace(Visitor& v) const {
    v(left);
    v(right);
  }
};

// A steady workload: `live` nodes held from a rooted table while `garbage`
// more are allocated and dropped, then collect(): cycles the heap
// triggered, and a forced one last.
inline void churn(Heap& heap, std::size_t live, std::size_t garbage) {
  Root<Array<Member<Counted>>> table = heap.make_array<Member<Counted>>(live);
  for (std::size_t i = 0; i < live; ++i) (*table)[i] = heap.make<Counted>(1);
  for (std::size_t i = 0; i < garbage; ++i) heap.make<Counted>(static_cast<long>(i));
  heap.collect();
}

// A heap whose options ignore the stress setting of the environment but
// keep gccheckmark, so the checkmark runs of the suite verify every test.
inline Options test_options() {
  Options o = Options::from_environment();
  o.stress_interval = 0;
  return o;
}

// test_options() at GOGC=100 and with no periodic cycle: only the heap's
// growth and collect() start one.
inline Options paced_options() {
  Options o = test_options();
  o.gc_percent = 100;
  o.forced_gc_period_ns = 0;
  return o;
}

// An attached thread that waits for others must not hold up the
// collections they need: it joins them as a blocking thread.
inline void join_all(Heap& heap, std::vector<std::thread>& threads) {
  BlockingScope blocked{heap};
  for (std::thread& t : threads) t.join();
}
template <class F>
void run_on_thread(Heap& heap, F&& f) {
  std::vector<std::thread> one;
  one.emplace_back(std::forward<F>(f));
  join_all(heap, one);
}

}  // namespace tricolor::test
