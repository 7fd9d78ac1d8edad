// Interleaving points: named places in the collector and in the mutator
// paths where a test can park the thread that reaches them, and release it
// when the test has arranged the rest of the world. A concurrency test then
// forces the exact interleaving a protocol argument is about, instead of
// hoping a stress run hits it (Go's runtime tests do this with its
// lockrank/debug hooks, V8's marking tests with their own pause points).
//
// The library's sources mark a point with TRICOLOR_POINT(name, context).
// The macro is empty unless the sources are compiled with
// TRICOLOR_INTERLEAVE=1, which only the test builds of the collector do
// (tests/interleave/): the release library carries no trace of the points.
//
// A point is reached with a context, the heap it concerns (`const void*`,
// the Heap's address) or nullptr where the code does not know its heap (a
// Marker). A test arms a Gate on one point, optionally for one context and
// one thread; the first matching thread to reach the point parks there
// until the test calls release(). After that the gate only counts the
// matching threads that pass.
//
//   interleave::Gate g(interleave::Point::kBeforeGlobalRoots, &heap);
//   std::thread c([&] { heap.collect(); });
//   g.await_arrival();         // the collector is parked before the scan
//   ...                        // mutate the world as the test needs
//   g.release();
//
// A point must never be placed where its thread holds a lock that the rest
// of the protocol needs: a parked thread would stop more than the test
// means to. Points inside code that holds the heap's lock let it go around
// the point (TRICOLOR_POINT_UNLOCKED), and the code after such a point
// re-checks what it had established under the lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace tricolor::interleave {

// Where each point is; the comments name the function that reaches it.
enum class Point : unsigned {
  kSweepTermination,       // collector, before the stop that begins a cycle (run_cycle)
  kMarkStart,              // collector, world restarted, barrier on, no root greyed yet (concurrent_mark)
  kAfterSpecialRoots,      // collector, specials and finalizer queue greyed (concurrent_mark)
  kBeforeGlobalRoots,      // collector, before the GlobalRoots are greyed (concurrent_mark)
  kBeforeThreadRootScan,   // a thread greying its own roots, before it does (respond)
  kAfterThreadRootScan,    // the same, after, its scan recorded as done
  kMarkRound,              // collector, before each round of mark workers (concurrent_mark)
  kAfterEphemeronPass,     // collector, after a concurrent ephemeron pass (concurrent_mark)
  kAfterFlushHandshake,    // collector, handshake answered, before the stop that may end marking
  kSweepStart,             // collector, marking over and world restarted, before the sweep (run_cycle)
  kSweepDone,              // collector, every span swept, before weak reads go lock-free (run_cycle)
  kPublishEphemerons,      // any marker, before it hands its pending ephemerons to the pool (context null)
  kCount,
};

inline const char* name(Point p) {
  static const char* const names[] = {
      "kSweepTermination",    "kMarkStart",          "kAfterSpecialRoots", "kBeforeGlobalRoots",
      "kBeforeThreadRootScan", "kAfterThreadRootScan", "kMarkRound",         "kAfterEphemeronPass",
      "kAfterFlushHandshake", "kSweepStart",         "kSweepDone",         "kPublishEphemerons"};
  static_assert(sizeof(names) / sizeof(names[0]) == static_cast<unsigned>(Point::kCount));
  return names[static_cast<unsigned>(p)];
}

class Gate;

namespace detail {
// Every gate and every arrival meet under one lock: tests are small, and a
// single lock makes arming, parking, releasing and disarming easy to get
// right. `armed` counts the gates, so that an unarmed point costs one
// relaxed load even in test builds (relaxed: a gate is armed before the
// test starts the threads that will reach it, and that start orders it).
struct Registry {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<Gate*> gates;  // guarded by mu
};
inline Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: threads may pass points during exit
  return *r;
}
inline std::atomic<unsigned> armed{0};
void reach(Point p, const void* context);
}  // namespace detail

class Gate {
 public:
  // Parks the first thread that reaches `point` with `context` (any, if
  // null) on `thread` (any, if default).
  explicit Gate(Point point, const void* context = nullptr, std::thread::id thread = {})
      : point_(point), context_(context), thread_(thread) {
    detail::Registry& r = detail::registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.gates.push_back(this);
    detail::armed.fetch_add(1, std::memory_order_relaxed);
  }
  // Releases a parked thread, and waits until no thread is inside a point.
  ~Gate() {
    detail::Registry& r = detail::registry();
    std::unique_lock<std::mutex> lock(r.mu);
    released_ = true;
    r.changed.notify_all();
    std::erase(r.gates, this);
    detail::armed.fetch_sub(1, std::memory_order_relaxed);
    r.changed.wait(lock, [&] { return !parked_; });
  }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  // Blocks until a matching thread is parked at the point. A protocol that
  // never gets there is what a test is looking for: after a minute this
  // stops the program, naming the point, instead of hanging the suite.
  void await_arrival() {
    detail::Registry& r = detail::registry();
    std::unique_lock<std::mutex> lock(r.mu);
    if (!r.changed.wait_for(lock, std::chrono::seconds(60), [&] { return parked_ || released_; })) {
      std::fprintf(stderr, "interleave: no thread reached %s within 60 s: the protocol under test is stuck\n",
                   name(point_));
      std::abort();
    }
  }
  // Lets the parked thread (or the next one, if none is parked yet) go on.
  void release() {
    detail::Registry& r = detail::registry();
    std::lock_guard<std::mutex> lock(r.mu);
    released_ = true;
    r.changed.notify_all();
  }
  // Waits until `n` matching threads have passed the point (the parked one
  // counts once released), with the same stop after a minute.
  void await_passed(std::uint64_t n) {
    detail::Registry& r = detail::registry();
    std::unique_lock<std::mutex> lock(r.mu);
    if (!r.changed.wait_for(lock, std::chrono::seconds(60), [&] { return passed_ >= n; })) {
      std::fprintf(stderr, "interleave: %s was passed %llu times, not %llu, within 60 s\n", name(point_),
                   static_cast<unsigned long long>(passed_), static_cast<unsigned long long>(n));
      std::abort();
    }
  }
  std::uint64_t passed() {
    std::lock_guard<std::mutex> lock(detail::registry().mu);
    return passed_;
  }

 private:
  friend void detail::reach(Point, const void*);
  bool matches(Point p, const void* context) const {
    return p == point_ && (context_ == nullptr || context == context_) &&
           (thread_ == std::thread::id() || thread_ == std::this_thread::get_id());
  }

  const Point point_;
  const void* const context_;
  const std::thread::id thread_;
  // Guarded by the registry's lock.
  bool parked_ = false;
  bool released_ = false;
  std::uint64_t passed_ = 0;
};

namespace detail {
inline void reach(Point p, const void* context) {
  if (armed.load(std::memory_order_relaxed) == 0) return;
  Registry& r = registry();
  std::unique_lock<std::mutex> lock(r.mu);
  for (Gate* g : r.gates) {
    if (!g->matches(p, context)) continue;
    if (!g->released_ && !g->parked_) {
      g->parked_ = true;
      r.changed.notify_all();
      r.changed.wait(lock, [&] { return g->released_; });
      g->parked_ = false;
    }
    ++g->passed_;
    r.changed.notify_all();
    return;  // one gate per arrival: the first armed on the point
  }
}
}  // namespace detail

}  // namespace tricolor::interleave

#if TRICOLOR_INTERLEAVE
#define TRICOLOR_POINT(point, context) \
  ::tricolor::interleave::detail::reach(::tricolor::interleave::Point::point, context)
// For a point in code that holds `lock` (a std::unique_lock): it is let go
// around the point, in test builds only.
#define TRICOLOR_POINT_UNLOCKED(point, context, lock) \
  do {                                                \
    (lock).unlock();                                  \
    TRICOLOR_POINT(point, context);                   \
    (lock).lock();                                    \
  } while (false)
#else
#define TRICOLOR_POINT(point, context) ((void)0)
#define TRICOLOR_POINT_UNLOCKED(point, context, lock) ((void)0)
#endif
