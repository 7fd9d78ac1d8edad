// Everything a Heap is, behind the public facade: the span heap, the
// attached mutators and the safepoint protocol, the collector thread, the
// mark workers, the trigger and the statistics.
//
// A cycle (Go's, mgc.go), run by the heap's collector thread:
//
//   sweep termination  STW: sweeping is finished (the collector swept in
//                      the background), caches a blocked thread kept from
//                      the last cycle are emptied, the write barrier goes
//                      on and every thread is asked to grey its roots.
//   concurrent mark    each running thread greys its own roots at its next
//                      safepoint; workers grey the global roots and those of
//                      blocked threads, and drain. New objects are black.
//   mark termination   a ragged handshake makes every running thread flush
//                      its barrier buffer; when that yields no grey object,
//                      STW: check that none is left (else restart the world
//                      and keep marking), barrier off, sweepgen += 2.
//                      Roots are never rescanned.
//   concurrent sweep   the collector thread sweeps span after span; an
//                      allocating thread sweeps the spans it is about to
//                      reuse; each thread empties its cache (of spans it
//                      took before the sweep began) as it resumes.
//
// Stop-the-world: the collector sets kStop on every mutator and waits, under
// mu_, until none is kRunning. A running mutator sees kStop at its next
// safepoint, flushes its barrier buffer and parks under mu_. A blocking
// mutator is already out of the way: the collector takes it (kBlocking ->
// kBlockingHeld, a CAS) and hands it back when the world restarts, so it
// cannot slip back in halfway through. Every other transition and the
// collector's check happen under mu_; a BlockingScope's own are a release
// store and an acquire CAS of the state (enter_blocking). Either way,
// whatever a mutator did before it stopped (its roots, its cache, its
// barrier entries) happens-before the collector reads it, and whatever the
// collector did happens-before the mutator resumes.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/gc/mutator.hpp"
#include "tricolor/heap.hpp"
#include "tricolor/options.hpp"
#include "clock.hpp"
#include "event_log.hpp"
#include "finalizer_queue.hpp"
#include "pacer.hpp"
#include "pause_buckets.hpp"
#include "specials.hpp"
#include "tricolor/weak.hpp"
#include "work_pool.hpp"

namespace tricolor::gc {

class Marker;

class HeapState {
 public:
  HeapState(const Heap& heap, const Options& options);
  ~HeapState();

  const Heap& heap() const noexcept { return heap_; }
  alloc::SpanHeap& spans() noexcept { return spans_; }
  const Options& options() const noexcept { return options_; }

  // ---- The safepoint protocol (called by mutators).
  void attach(Mutator& m);
  void detach(Mutator& m);
  void respond(Mutator& m);
  void enter_blocking(Mutator& m);
  void leave_blocking(Mutator& m);

  // Runs a full cycle that starts after this call and returns once it has
  // swept. `self` is the calling thread's mutator, or nullptr.
  void collect(Mutator* self, GcReason reason);
  // The calling mutator allocated `bytes` since it last reported: starts a
  // cycle at the trigger, and during marking makes the thread assist.
  void report_allocation(Mutator& m, std::size_t bytes);
  // A large object allocated during marking: black. (Small ones are live
  // through their span's live_from, see Span.)
  void mark_new(const void* cell) noexcept;
  MemStats mem_stats(Mutator* self);
  // GOGC and GOMEMLIMIT at run time; both return the previous value and take
  // effect at once, for the cycle in progress too.
  int set_gc_percent(int percent);
  std::int64_t set_memory_limit(std::int64_t limit);
  GcStats gc_stats();
  // Heap destruction: every object dies and its destructor runs.
  void destroy_all();

  // ---- Weak handles, finalizers and cleanups (specials.hpp).
  WeakCell* weak_cell(Mutator& m, const void* object);
  const WeakCell* find_weak_cell(const void* object) { return specials_.find_weak(object); }
  const void* weak_target(const WeakCell& cell);
  void set_finalizer(const void* object, std::function<void(void*)> fn);
  bool clear_finalizer(const void* object);
  void add_cleanup(const void* object, std::function<void()> fn, const void* keep);
  void run_finalizers() { finalizers_.wait_idle(); }

  // Greys an object's referents if the heap is marking: for a special
  // added now, which the scan of specials at mark start did not see, and
  // for an object whose constructor just returned (scan_objects_in_construction).
  void shade_children_while_marking(const void* object);
  // A ConstructionRoot whose scan was deferred has ended: the object is
  // scanned, by trace() if its constructor returned, else conservatively.
  void scan_constructed(const void* object, bool constructed);

  // ---- Pools (pool.hpp).
  PoolHandle register_pool();
  void unregister_pool(PoolHandle h);

  static HeapState& of(const Heap& heap) noexcept { return *heap.state_; }

  // Pointers a thread's write barrier recorded (barriers::BarrierSink).
  static void shade_barrier_entries(const void* const* pointers, std::size_t count);
  // Whether the calling thread is attached to every marking heap, whose
  // flush handshakes then reach its buffer (barriers::BufferCheck).
  static bool may_buffer_barrier_entries(std::uint64_t& epoch);

 private:
  enum class Phase : std::uint8_t { kIdle, kMark, kSweep };

  void set_state(Mutator& m, Mutator::State s);
  // Asks `m` for `bits` of Mutator::Attention at its next safepoint, and
  // has its thread's other heaps' polls pass the request on (mu_ held).
  void request(Mutator& m, std::uint32_t bits);
  void request_cycle(Mutator& m);
  // mu_ held: asks for a cycle unless one is marking or asked for; true if
  // this call asked.
  bool want_cycle();
  void recommit_pacer();
  // The pacer's goal and trigger from the last cycle's figures and the
  // current GOGC and limit (mu_ held).
  void commit_pacer();
  void update_limiter();
  void trace_pacer_end(std::uint64_t duration_ns, double cons_mark, std::uint64_t expected_work,
                       std::uint64_t old_goal);
  void hold_at_goal(Mutator& m);
  // Turns the write barrier and allocate-black on (world stopped).
  void start_marking();
  // With the world stopped: if no grey object is left, turns them off and
  // returns true. The check and the turning off are one step under the
  // marking heaps' lock, which every barrier flush takes: an unbuffered
  // shade from a thread this heap does not stop lands either before it
  // (and marking goes on) or after (and is not this heap's any more).
  bool stop_marking_if_done();

  // ---- Safepoints and stops (mu_ held).
  void stop_the_world(std::unique_lock<std::mutex>& lock, Mutator* self, Pause::Kind kind);
  void start_the_world(std::unique_lock<std::mutex>& lock);
  // Whether every mutator but `self` is stopped; takes those in a
  // BlockingScope (kBlockingHeld) until start_the_world hands them back.
  bool others_stopped(const Mutator* self);
  // A thread the collector may act for (grey its roots, sweep its cache):
  // one that waits (it cannot resume while we hold mu_), or one in a
  // BlockingScope, taken until hand_back. False if it is running.
  bool take_stopped(Mutator& m);
  void hand_back(Mutator& m);
  // Waits on changed_ as a stopped thread (`as`: kParked or kWaiting): the
  // collector does not wait for a mutator that waits here, nor does any
  // other heap the thread is attached to.
  template <class Pred>
  void wait_stopped(std::unique_lock<std::mutex>& lock, Mutator* self, Mutator::State as, Pred pred);
  // Waits on changed_ until `ready`, for a thread that does not count as
  // running here (stopped, or not yet or no longer in mutators_), and
  // counts as blocking in its other heaps meanwhile (Mutator::block_siblings).
  template <class Ready>
  void wait_with_siblings_blocked(std::unique_lock<std::mutex>& lock, Mutator& m, Ready ready);
  // wait_stopped for a thread the collector holds back (at the goal, or
  // for assist credit); the CPU limiter counts the time against the collector.
  template <class Pred>
  void wait_on_collector(std::unique_lock<std::mutex>& lock, Mutator& m, Pred pred);
  // After a wait, before the thread touches the heap again (Go's acquirep).
  void resume(std::unique_lock<std::mutex>& lock, Mutator& m);
  void scan_roots_of(Mutator& m, Marker& marker);
  // Part of a thread's root scan: what its pools got since the last scan
  // becomes their victims, and is greyed; the old victims are dropped.
  std::uint64_t age_pools(Mutator& m, Marker& marker);

  // ---- The collector thread (collector.cpp).
  void start_collector();
  void stop_collector();
  void collector_main();
  void run_cycle(GcReason reason);
  // The cycle's record, once its mark termination is over (mu_ held).
  void record_cycle();
  // After its sweep: the cycle's end in its record, the event log written.
  void record_sweep_end();
  double gc_cpu_fraction() const;
  std::uint64_t to_unix_ns(std::uint64_t steady_ns) const { return created_unix_ns_ + (steady_ns - created_ns_); }
  void sweep_termination(std::unique_lock<std::mutex>& lock);
  void concurrent_mark(std::unique_lock<std::mutex>& lock);
  bool flush_handshake(std::unique_lock<std::mutex>& lock);
  bool all_roots_greyed() const;  // mu_ held
  void mark_termination(std::unique_lock<std::mutex>& lock);
  // Marks the values of waiting ephemerons whose keys are marked now;
  // returns whether that marked anything (then marking goes on, and the
  // pass runs again: the fixed point of ephemeron marking).
  bool resolve_ephemerons();
  void mark_round();
  void worker_main(unsigned index);
  void mark_as_worker(bool fractional);
  void assist(Mutator& m, std::size_t allocated);
  void verify_marking();
  template <class F>
  void for_each_root(F&& f);
  // Greys what specials and the finalizer queue keep alive.
  void mark_special_roots(Marker& marker);
  // A ConstructionRoot found by a root scan: its object is marked, and its
  // scan deferred (Mutator::ConstructionRoot) unless it needs none.
  void mark_in_construction(const Mutator::ConstructionRoot& frame, Marker& marker);
  // With the world stopped, before marking may end: the memory of every
  // object whose scan is still deferred is scanned conservatively, and the
  // frames forget the deferral. Also the whole treatment of objects in
  // construction in a stop-the-world cycle (`all`: every frame).
  void scan_objects_in_construction(Marker& marker, bool all);
  // After mark termination: sweeps the caches of threads that will not
  // resume soon, waits for the rest, and then publishes sweep_done_gen_.
  void finish_sweep_of_caches(std::unique_lock<std::mutex>& lock);
  // A cached span given back: its thread's cache is now of this sweepgen.
  void release_cache(Mutator& m, std::uint32_t sg);
  // Sweeps and gives back a cache from before the last sweep began, for a
  // thread that cannot run meanwhile (mu_ held).
  void release_stale_cache_for(Mutator& m);
  static void destroy_dead(void* context, void* cell) noexcept;
  // `object` must be where a managed object starts (the pointer Heap::make
  // returned); throws UsageError, naming `what` was asked, otherwise.
  static void check_object_start(const void* object, const char* what);

  const Heap& heap_;
  const Options options_;
  alloc::SpanHeap spans_;
  WorkPool pool_;
  FinalizerQueue finalizers_;
  Specials specials_;
  // The pools' registry: by id, the generation of the pool that has it
  // (0: free). Read by root scans; changed when a pool is made or destroyed.
  std::mutex pools_mu_;
  std::vector<std::uint64_t> pool_generations_;
  std::uint64_t last_pool_generation_ = 0;
  // The sweepgen whose sweep has processed every span: from then on until
  // the next mark termination, a weak cell that names an object names a
  // live one, and reading it takes no lock. Release/acquire: the clears of
  // the sweep happen before a reader that sees the generation.
  std::atomic<std::uint32_t> sweep_done_gen_;

  std::mutex mu_;
  std::condition_variable changed_;  // any mutator state, stop, phase or cycle change
  std::vector<Mutator*> mutators_;
  bool world_stopped_ = false;
  std::uint64_t stops_asked_ = 0;  // stop_the_world's tickets
  std::uint64_t stops_done_ = 0;
  Phase phase_ = Phase::kIdle;
  // Allocate-black and assists read this outside the lock.
  std::atomic<bool> marking_{false};
  std::uint64_t flush_epoch_ = 0;
  std::uint64_t cycles_started_ = 0;
  std::uint64_t cycles_done_ = 0;
  std::uint64_t cycles_wanted_ = 0;  // a cycle is asked for while started < wanted
  GcReason wanted_reason_ = GcReason::kHeap;
  bool shutdown_ = false;
  bool collector_stopped_ = false;  // the collector thread has ended: the workers may

  // Mark workers: sized as Go's gcBackgroundUtilization (25 % of the CPUs):
  // `dedicated_` workers mark flat out, and if that misses the goal by
  // more than 30 % one more worker marks for fractional_goal_ of its time,
  // and flat out while a CPU would otherwise idle.
  unsigned dedicated_ = 0;
  double fractional_goal_ = 0;
  unsigned ncpu_ = 1;
  std::vector<std::thread> workers_;
  std::uint64_t round_ = 0;  // under mu_: workers start round after round
  unsigned round_active_ = 0;
  std::atomic<unsigned> running_mutators_{0};
  std::atomic<unsigned> marking_workers_{0};
  std::uint64_t mark_start_ns_ = 0;
  std::atomic<std::uint64_t> fractional_busy_ns_{0};  // the fractional worker's CPU this cycle

  // Marked bytes of this cycle, summed from the markers as they finish.
  std::atomic<std::uint64_t> marked_bytes_{0};
  std::atomic<std::uint64_t> mark_work_{0};

  // The pacer's settings and what it decided. Relaxed atomics: allocating
  // threads read them on their 64 KiB reports; they change under mu_.
  std::atomic<int> gc_percent_;
  std::atomic<std::int64_t> memory_limit_;
  std::atomic<std::uint64_t> allocated_since_cycle_{0};  // heap growth since mark termination
  std::atomic<std::uint64_t> trigger_bytes_{0};   // trigger - live
  std::atomic<std::uint64_t> goal_runway_{0};     // goal - live: what may be allocated in all
  std::atomic<std::uint64_t> next_gc_{0};         // the goal
  std::atomic<std::uint64_t> live_bytes_{0};      // marked by the last cycle, with its black allocations
  std::atomic<std::uint64_t> triggered_at_{0};    // heap size when this cycle's mark began
  std::atomic<std::uint64_t> expected_work_{0};   // scan work the last cycle did
  std::atomic<double> sweep_pages_per_byte_{0};   // proportional sweep: pages owed per byte allocated
  std::atomic<std::uint64_t> sweep_basis_pages_{0};  // pages_swept() when the sweep began
  // Under mu_.
  pacer::ConsMarkHistory cons_mark_;
  std::uint64_t last_roots_bytes_ = 0;
  std::uint64_t last_cycle_end_ns_ = 0;
  // This cycle's CPU for marking, and every cycle's (for the limiter).
  std::atomic<std::uint64_t> assist_ns_{0};
  std::atomic<std::int64_t> bg_credit_{0};         // workers' scan work not yet claimed by assists
  std::atomic<unsigned> assist_waiters_{0};
  std::atomic<std::uint64_t> held_ns_{0};  // wall time threads waited in wait_on_collector
  std::atomic<std::uint64_t> worker_ns_{0};
  std::atomic<std::uint64_t> idle_ns_{0};  // of worker_ns_: a fractional worker past its share, on an idle CPU
  std::atomic<std::uint64_t> roots_bytes_{0};          // thread roots
  std::atomic<std::uint64_t> global_roots_bytes_{0};
  std::atomic<std::uint64_t> gc_cpu_ns_{0};
  std::atomic<std::uint64_t> gc_idle_ns_{0};  // of gc_cpu_ns_: idle_ns_ over every cycle
  std::mutex limiter_mu_;
  pacer::CpuLimiter limiter_;
  std::uint64_t limiter_cpu_ns_ = 0;  // process CPU at the last update
  std::uint64_t limiter_gc_ns_ = 0;
  std::uint64_t limiter_idle_ns_ = 0;
  std::uint64_t limiter_held_ns_ = 0;
  std::atomic<bool> limiting_{false};
  std::atomic<std::uint64_t> limiter_full_{0};  // updates that found the bucket full
  std::atomic<std::uint64_t> stress_count_{0};
  std::uint64_t alloc_at_mark_start_ = 0;  // allocated_since_cycle_ at sweep termination

  // Statistics, under mu_ (created_* never change).
  const std::uint64_t created_ns_;
  const std::uint64_t created_unix_ns_;
  std::uint64_t last_scavenge_ns_;  // the collector thread's
  bool limit_bound_ = false;  // the memory limit, not GOGC, sets the goal
  CycleStats cycle_;          // the cycle in progress
  std::vector<CycleStats> cycles_;  // a ring of the last kCycleLog
  std::uint64_t cycles_recorded_ = 0;
  PauseBuckets pause_buckets_;
  std::uint32_t num_gc_ = 0;
  std::uint32_t num_forced_gc_ = 0;
  std::uint64_t pause_total_ns_ = 0;
  std::uint64_t stop_begin_ns_ = 0;
  Pause::Kind stop_kind_ = Pause::Kind::kOther;
  std::uint64_t stop_to_safepoint_ns_ = 0;
  std::vector<Pause> pauses_;  // a ring of the last kPauseLog
  std::uint64_t pauses_recorded_ = 0;
  // The event log, written by the collector thread outside mu_; the pauses
  // wait here for their cycle's end (under mu_).
  std::unique_ptr<EventLog> event_log_;
  std::vector<Pause> unlogged_pauses_;

  std::thread collector_;  // last: starts once everything above exists
};

template <class Pred>
void HeapState::wait_stopped(std::unique_lock<std::mutex>& lock, Mutator* self, Mutator::State as, Pred pred) {
  if (self == nullptr) {
    changed_.wait(lock, pred);
    return;
  }
  set_state(*self, as);
  wait_with_siblings_blocked(lock, *self, [&] {
    return pred() && (self->attention_.load(std::memory_order_relaxed) & Mutator::kStop) == 0;
  });
  resume(lock, *self);
}

template <class Ready>
void HeapState::wait_with_siblings_blocked(std::unique_lock<std::mutex>& lock, Mutator& m, Ready ready) {
  if (!m.has_siblings()) {
    changed_.wait(lock, ready);
    return;
  }
  // Going in and out of blocking elsewhere takes the other heaps' locks,
  // never while holding ours (no order between heaps' locks is kept). With
  // ours let go, `ready` may change meanwhile: it is checked again after.
  do {
    lock.unlock();
    m.block_siblings();
    lock.lock();
    changed_.wait(lock, ready);
    lock.unlock();
    m.unblock_siblings();
    lock.lock();
  } while (!ready());
}

template <class Pred>
void HeapState::wait_on_collector(std::unique_lock<std::mutex>& lock, Mutator& m, Pred pred) {
  const std::uint64_t start = now_ns();
  wait_stopped(lock, &m, Mutator::State::kWaiting, pred);
  held_ns_.fetch_add(now_ns() - start, std::memory_order_relaxed);
}

// Every root of this heap but the objects under construction (see
// scan_objects_in_construction): each attached thread's Root handles and
// the global roots. Called with the world stopped, so no thread is
// changing its list.
template <class F>
void HeapState::for_each_root(F&& f) {
  for (Mutator* m : mutators_) {
    m->roots_.list.for_each([&](const barriers::RootNode& node) { f(node.object()); });
  }
  barriers::GlobalRoots& globals = barriers::global_roots();
  std::lock_guard<std::mutex> guard(globals.mu);
  globals.list.for_each([&](const barriers::RootNode& node) { f(node.object()); });
}

}  // namespace tricolor::gc
