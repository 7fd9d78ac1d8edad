// The collector thread and the mark workers: one cycle after another, as
// described in heap_state.hpp.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "clock.hpp"
#include "gctrace.hpp"
#include "heap_state.hpp"
#include "marker.hpp"
#include "object_info.hpp"
#include "tricolor/interleave.hpp"

namespace tricolor::gc {
namespace {

// A mark worker checks its pace and shares its work after this much work.
constexpr std::uint64_t kSliceWork = 256 << 10;
// How long a fractional worker over its goal sits out before it looks again.
constexpr std::uint64_t kSitOutNs = 500'000;
// How fast free pages beyond the runway go back to the page source (Go
// paces its background scavenger at 1 % of a CPU instead).
constexpr std::uint64_t kScavengeBytesPerSecond = 64 << 20;


// A thread that blocks or waits for a collection cannot grey its own
// roots; the collector greys them, having taken the thread (take_stopped),
// which keeps it from running meanwhile. A thread parked for a stop that
// just ended resumes at once and greys its own, so a restart never waits
// on this.
bool roots_for_collector(const Mutator& m) {
  const Mutator::State s = m.state();
  return m.root_scan() == Mutator::RootScan::kPending &&
         (s == Mutator::State::kBlocking || s == Mutator::State::kWaiting);
}

}  // namespace

void HeapState::start_collector() {
  if (options_.mark_workers != 0) {
    dedicated_ = static_cast<unsigned>(options_.mark_workers);
  } else {
    // Go's gcControllerState.startCycle: round 25 % of the CPUs to whole
    // dedicated workers unless that is more than 30 % off, in which case
    // a fractional worker makes up the difference.
    const double goal = 0.25 * ncpu_;
    dedicated_ = static_cast<unsigned>(goal + 0.5);
    const double error = dedicated_ / goal - 1;
    if (error < -0.3 || error > 0.3) {
      if (dedicated_ > goal) --dedicated_;
      fractional_goal_ = goal - dedicated_;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_cycle_end_ns_ = now_ns();
    commit_pacer();
  }
  // The collector thread is the first worker: dedicated if there is one,
  // else the fractional one.
  const unsigned helpers = dedicated_ + (fractional_goal_ > 0 ? 1 : 0) - 1;
  collector_ = std::thread([this] { collector_main(); });
  for (unsigned i = 0; i < helpers; ++i) workers_.emplace_back([this, i] { worker_main(i + 1); });
}

void HeapState::stop_collector() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    changed_.notify_all();
  }
  // The collector finishes the cycle it is in, mark rounds and all, and
  // every round waits for every worker: the workers stop only after it.
  collector_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    collector_stopped_ = true;
    changed_.notify_all();
  }
  for (std::thread& t : workers_) t.join();
}

void HeapState::collector_main() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const auto wanted = [&] { return shutdown_ || cycles_started_ < cycles_wanted_; };
    // Go's forcegcperiod: a cycle at least every period, unless GOGC=off,
    // so that a heap that stopped growing still returns its garbage.
    const std::uint64_t period = options_.forced_gc_period_ns;
    if (period == 0) {
      changed_.wait(lock, wanted);
    } else if (!changed_.wait_for(lock, std::chrono::nanoseconds(last_cycle_end_ns_ + period - std::min(now_ns(), last_cycle_end_ns_ + period)), wanted)) {
      if (now_ns() - last_cycle_end_ns_ < period || gc_percent_.load(std::memory_order_relaxed) < 0) continue;
      cycles_wanted_ = cycles_started_ + 1;
      wanted_reason_ = GcReason::kPeriodic;
    }
    if (shutdown_) return;
    GcReason reason = wanted_reason_;
    if (reason == GcReason::kHeap && limit_bound_) reason = GcReason::kLimit;
    ++cycles_started_;
    cycle_ = CycleStats{};
    cycle_.number = num_gc_ + 1;
    cycle_.reason = reason;
    const std::uint64_t trigger_bytes = trigger_bytes_.load(std::memory_order_relaxed);
    const std::uint64_t live = live_bytes_.load(std::memory_order_relaxed);
    cycle_.trigger = trigger_bytes > UINT64_MAX - live ? UINT64_MAX : live + trigger_bytes;
    lock.unlock();
    run_cycle(reason);
    lock.lock();
    ++cycles_done_;
    last_cycle_end_ns_ = now_ns();
    changed_.notify_all();
  }
}

void HeapState::run_cycle(GcReason reason) {
  // The background sweep of the last cycle, if allocation has not done it.
  spans_.finish_sweep();
  TRICOLOR_POINT(kSweepTermination, &heap_);
  std::unique_lock<std::mutex> lock(mu_);
  const bool stw = options_.gc_stop_the_world != 0;
  stop_the_world(lock, nullptr, stw ? Pause::Kind::kMarkTermination : Pause::Kind::kSweepTermination);
  sweep_termination(lock);
  if (stw) {
    const std::uint64_t cpu = thread_cpu_ns();
    Marker marker(spans_, pool_);
    for_each_root([&](const void* object) { marker.mark_root(object); });
    scan_objects_in_construction(marker, /*all=*/true);
    for (Mutator* m : mutators_) age_pools(*m, marker);
    mark_special_roots(marker);
    for (Mutator* m : mutators_) {
      m->root_scan_ = Mutator::RootScan::kDone;
      m->attention_.fetch_and(~std::uint32_t{Mutator::kScanRoots}, std::memory_order_relaxed);
    }
    // A thread of another heap may shade into ours meanwhile, unbuffered
    // (write_barrier.hpp): marking ends only when that left nothing grey.
    do {
      do {
        marker.drain();  // which hands its ephemerons to the pool
      } while (resolve_ephemerons());
    } while (!stop_marking_if_done());
    marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
    mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
    const std::uint64_t spent = thread_cpu_ns() - cpu;
    worker_ns_.fetch_add(spent, std::memory_order_relaxed);
    gc_cpu_ns_.fetch_add(spent, std::memory_order_relaxed);
  } else {
    start_the_world(lock);
    concurrent_mark(lock);
  }
  mark_termination(lock);
  if (reason == GcReason::kForced) ++num_forced_gc_;
  if (options_.gc_stop_the_world >= 2) spans_.finish_sweep();
  start_the_world(lock);
  record_cycle();
  const CycleStats cycle = cycle_;
  lock.unlock();
  if (options_.gc_trace) std::fputs(gctrace_line(cycle, created_ns_, ncpu_).c_str(), stderr);
  TRICOLOR_POINT(kSweepStart, &heap_);

  // Concurrent sweep: this thread is the background sweeper.
  spans_.finish_sweep();
  TRICOLOR_POINT(kSweepDone, &heap_);
  lock.lock();
  finish_sweep_of_caches(lock);
  sweep_done_gen_.store(spans_.sweepgen(), std::memory_order_release);
  lock.unlock();
  record_sweep_end();
  const alloc::AllocStats after = spans_.stats();
  if (after.zombies != 0) fatal(zombie_message(after.zombies, after.first_zombie));
  // Keep as many free pages as the heap will grow by before the next
  // cycle, but no more than the memory limit leaves; give the rest back,
  // gradually: a heap that shrinks for a few cycles and grows again (a big
  // structure dropped, another built) should reuse its pages rather than
  // unmap them and fault them in again. The memory limit is not paced.
  const std::uint64_t now = now_ns();
  const std::uint64_t budget =
      static_cast<std::uint64_t>(static_cast<double>(now - last_scavenge_ns_) * 1e-9 * kScavengeBytesPerSecond);
  last_scavenge_ns_ = now;
  const alloc::PageHeapStats pages = spans_.stats().pages;
  std::uint64_t retain = goal_runway_.load(std::memory_order_relaxed);
  if (pages.idle_bytes > retain + budget) retain = pages.idle_bytes - budget;
  const auto limit = static_cast<std::uint64_t>(memory_limit_.load(std::memory_order_relaxed));
  const std::uint64_t held = pages.inuse_bytes + pages.metadata_bytes;
  retain = std::min(retain, limit > held ? limit - held : 0);
  spans_.scavenge(retain);
  update_limiter();
}

void HeapState::sweep_termination(std::unique_lock<std::mutex>&) {
  // Every span was swept by the collector thread, by an allocation, or as
  // its thread's cache went back (finish_sweep_of_caches), each before its
  // thread stopped: this finds nothing left to do.
  spans_.finish_sweep();
  marked_bytes_.store(0, std::memory_order_relaxed);
  mark_work_.store(0, std::memory_order_relaxed);
  fractional_busy_ns_.store(0, std::memory_order_relaxed);
  assist_ns_.store(0, std::memory_order_relaxed);
  worker_ns_.store(0, std::memory_order_relaxed);
  idle_ns_.store(0, std::memory_order_relaxed);
  bg_credit_.store(0, std::memory_order_relaxed);
  roots_bytes_.store(0, std::memory_order_relaxed);
  global_roots_bytes_.store(0, std::memory_order_relaxed);
  alloc_at_mark_start_ = allocated_since_cycle_.load(std::memory_order_relaxed);
  triggered_at_.store(live_bytes_.load(std::memory_order_relaxed) + alloc_at_mark_start_, std::memory_order_relaxed);
  cycle_.heap_start = triggered_at_.load(std::memory_order_relaxed);
  mark_start_ns_ = now_ns();
  phase_ = Phase::kMark;
  start_marking();
  if (options_.gc_stop_the_world != 0) return;
  for (Mutator* m : mutators_) {
    m->root_scan_ = Mutator::RootScan::kPending;
    request(*m, Mutator::kScanRoots);
  }
}

void HeapState::concurrent_mark(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  TRICOLOR_POINT(kMarkStart, &heap_);
  {
    Marker marker(spans_, pool_);
    mark_special_roots(marker);
    TRICOLOR_POINT(kAfterSpecialRoots, &heap_);
    TRICOLOR_POINT(kBeforeGlobalRoots, &heap_);
    // The global roots, all at once under their lock (see GlobalRoot::set).
    barriers::GlobalRoots& globals = barriers::global_roots();
    {
      std::lock_guard<std::mutex> guard(globals.mu);
      globals.list.for_each([&](const barriers::RootNode& node) {
        marker.mark_root(node.object());
        global_roots_bytes_.fetch_add(sizeof(void*), std::memory_order_relaxed);
      });
    }
    marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
  }
  lock.lock();
  while (true) {
    {
      Marker marker(spans_, pool_);
      for (Mutator* m : mutators_) {
        if (roots_for_collector(*m) && take_stopped(*m)) {
          scan_roots_of(*m, marker);
          m->root_scan_ = Mutator::RootScan::kDone;
          hand_back(*m);
        }
      }
      marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
    }
    lock.unlock();
    TRICOLOR_POINT(kMarkRound, &heap_);
    mark_round();
    const bool resolved = resolve_ephemerons();
    TRICOLOR_POINT(kAfterEphemeronPass, &heap_);
    lock.lock();
    if (resolved || pool_.has_work()) continue;
    if (!all_roots_greyed()) {
      // A running thread greys its roots at its next safepoint; its scan,
      // or its blocking or waiting, wakes us. One that blocked while we
      // marked is scanned at the top of the loop.
      if (std::none_of(mutators_.begin(), mutators_.end(), [](const Mutator* m) { return roots_for_collector(*m); })) {
        changed_.wait(lock);
      }
      continue;
    }
    if (flush_handshake(lock)) continue;
    TRICOLOR_POINT_UNLOCKED(kAfterFlushHandshake, &heap_, lock);
    // Go's gcMarkDone: stop, and if a barrier buffer flushed on the way to
    // the safepoints greyed anything, restart the world and keep marking.
    stop_the_world(lock, nullptr, Pause::Kind::kMarkTermination);
    // With the world stopped, ephemerons are settled by one more pass: a
    // marker on a mutator's thread (an assist) may have handed over a pair
    // after the last concurrent pass, with its key marked by then, and
    // nothing marked since to tell. The pass costs one mark-bit test per
    // pair still waiting; if it marks a value, marking goes on.
    const bool ephemerons_settled = !resolve_ephemerons();
    {
      Marker marker(spans_, pool_);
      scan_objects_in_construction(marker, /*all=*/false);
      marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
    }  // what it greyed is in the pool, and marking goes on
    if (ephemerons_settled && all_roots_greyed() && stop_marking_if_done()) return;
    start_the_world(lock);
  }
}

bool HeapState::resolve_ephemerons() {
  std::vector<PendingEphemeron> pending = pool_.take_ephemerons();
  std::uint64_t marked = 0;
  if (!pending.empty()) {
    Marker marker(spans_, pool_);
    std::vector<PendingEphemeron> waiting;
    for (const PendingEphemeron& e : pending) {
      const alloc::Span* span = alloc::Segment::span_of(e.key);
      if (span->is_live(span->object_index(e.key))) {
        marker.mark_root(e.value);
      } else {
        waiting.push_back(e);
      }
    }
    pool_.defer_ephemerons(waiting);
    marked = marker.marked_bytes();
    marked_bytes_.fetch_add(marked, std::memory_order_relaxed);
    mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
  }  // the marker's grey objects go to the pool here
  return marked != 0;
}

bool HeapState::all_roots_greyed() const {
  return std::all_of(mutators_.begin(), mutators_.end(),
                     [](const Mutator* m) { return m->root_scan() == Mutator::RootScan::kDone; });
}

bool HeapState::flush_handshake(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t epoch = ++flush_epoch_;
  for (Mutator* m : mutators_) {
    if (m->state() == Mutator::State::kRunning) {
      request(*m, Mutator::kFlush);
    } else {
      // It flushed on its way out of running, and anything it records after
      // it resumes is after the handshake. Acknowledged now, not by its
      // state when we look again: a thread that keeps going in and out of
      // waits (mem_stats in a loop) might be running every time we look.
      m->flush_acked_ = epoch;
    }
  }
  // A thread that parks or blocks has flushed on the way.
  changed_.wait(lock, [&] {
    return std::all_of(mutators_.begin(), mutators_.end(), [&](const Mutator* m) {
      return m->state() != Mutator::State::kRunning || m->flush_acked_ >= epoch;
    });
  });
  return pool_.has_work();
}

void HeapState::mark_termination(std::unique_lock<std::mutex>&) {
  if (options_.checkmark) verify_marking();
  pool_.clear_ephemerons();
  phase_ = Phase::kSweep;
  // Live: what marking reached, plus what was allocated (black) meanwhile.
  const std::uint64_t allocated_during_mark =
      allocated_since_cycle_.load(std::memory_order_relaxed) - alloc_at_mark_start_;
  cycle_.heap_end = triggered_at_.load(std::memory_order_relaxed) + allocated_during_mark;
  live_bytes_.store(marked_bytes_.load(std::memory_order_relaxed) + allocated_during_mark, std::memory_order_relaxed);
  const std::uint64_t work = mark_work_.load(std::memory_order_relaxed);
  const std::uint64_t duration = now_ns() - mark_start_ns_;
  const double cons = pacer::cons_mark(allocated_during_mark, work, assist_ns_.load(std::memory_order_relaxed),
                                       worker_ns_.load(std::memory_order_relaxed), duration, ncpu_);
  cons_mark_.add(cons);
  const std::uint64_t expected = expected_work_.exchange(work, std::memory_order_relaxed);
  cycle_.thread_roots_bytes = roots_bytes_.load(std::memory_order_relaxed);
  cycle_.global_roots_bytes = global_roots_bytes_.load(std::memory_order_relaxed);
  last_roots_bytes_ = cycle_.thread_roots_bytes + cycle_.global_roots_bytes;
  allocated_since_cycle_.store(0, std::memory_order_relaxed);
  const std::uint64_t old_goal = next_gc_.load(std::memory_order_relaxed);
  commit_pacer();
  cycle_.heap_live = live_bytes_.load(std::memory_order_relaxed);
  cycle_.heap_goal = old_goal;
  cycle_.next_goal = next_gc_.load(std::memory_order_relaxed);
  cycle_.assist_cpu_ns = assist_ns_.load(std::memory_order_relaxed);
  cycle_.worker_cpu_ns = worker_ns_.load(std::memory_order_relaxed);
  cycle_.idle_cpu_ns = idle_ns_.load(std::memory_order_relaxed);
  if (options_.pacer_trace) trace_pacer_end(duration, cons, expected, old_goal);
  ++num_gc_;
  // Every span becomes unswept; the sweep frees what marking left white.
  // Allocation sweeps in proportion (Go's sweepPagesPerByte): every page in
  // use is swept by the time the heap has grown an eighth of the way to the
  // trigger, however slow the background sweeper is. (Halfway, as measured
  // on a loaded machine, let unswept garbage and new allocation together
  // pass the goal by up to 14 %.)
  const std::uint64_t in_use_pages = spans_.stats().pages.inuse_bytes >> alloc::kPageShift;
  const std::uint64_t distance = std::max<std::uint64_t>(trigger_bytes_.load(std::memory_order_relaxed) / 8, 1 << 20);
  sweep_pages_per_byte_.store(static_cast<double>(in_use_pages) / static_cast<double>(distance),
                              std::memory_order_relaxed);
  sweep_basis_pages_.store(spans_.pages_swept(), std::memory_order_relaxed);
  spans_.start_sweep_cycle();
}

void HeapState::commit_pacer() {
  const int gogc = gc_percent_.load(std::memory_order_relaxed);
  const std::int64_t limit = memory_limit_.load(std::memory_order_relaxed);
  const std::uint64_t live = live_bytes_.load(std::memory_order_relaxed);
  const alloc::AllocStats stats = spans_.stats();
  const alloc::PageHeapStats& pages = stats.pages;
  const std::uint64_t percent_goal = pacer::gc_percent_goal(live, last_roots_bytes_, gogc);
  const std::uint64_t limit_goal = std::max(
      live, pacer::objects_for_pages(
                // Free pages count as held: the scavenger returns whole
                // segments only, so free pages in a used segment stay mapped.
                pacer::memory_limit_goal(static_cast<std::uint64_t>(limit), pages.sys_bytes + pages.metadata_bytes,
                                         0, pages.inuse_bytes, live),
                pages.inuse_bytes, stats.heap_alloc_bytes));
  const std::uint64_t goal = pacer::heap_goal(percent_goal, limit_goal);
  limit_bound_ = limit_goal < percent_goal;
  constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
  if (goal == kNever) {  // GOGC=off and no limit: only collect() starts a cycle
    next_gc_.store(kNever, std::memory_order_relaxed);
    goal_runway_.store(kNever, std::memory_order_relaxed);
    trigger_bytes_.store(kNever, std::memory_order_relaxed);
    return;
  }
  // A stop-the-world cycle may start at the goal itself; a concurrent one
  // leaves the runway its marking is expected to need.
  const std::uint64_t run = pacer::runway(cons_mark_.estimate(), expected_work_.load(std::memory_order_relaxed) + last_roots_bytes_);
  const std::uint64_t trigger = options_.gc_stop_the_world != 0 ? goal : pacer::trigger(goal, live, run);
  next_gc_.store(goal, std::memory_order_relaxed);
  goal_runway_.store(goal > live ? goal - live : 0, std::memory_order_relaxed);
  trigger_bytes_.store(trigger > live ? trigger - live : 0, std::memory_order_relaxed);
}

void HeapState::trace_pacer_end(std::uint64_t duration_ns, double cons_mark, std::uint64_t expected_work,
                                std::uint64_t old_goal) {
  // Go's gcpacertrace end-of-cycle line, with this collector's figures.
  const std::uint64_t cpu = worker_ns_.load(std::memory_order_relaxed) + assist_ns_.load(std::memory_order_relaxed);
  const double utilisation = duration_ns == 0 ? 0 : 100.0 * cpu / (static_cast<double>(duration_ns) * ncpu_);
  const std::uint64_t goal = next_gc_.load(std::memory_order_relaxed);
  std::fprintf(stderr,
               "pacer: %.0f%% CPU (25 exp.) for %llu+0+%llu B work (%llu B exp.) in %llu B -> %llu B "
               "(\u2206goal %lld, cons/mark %e)\n",
               utilisation, static_cast<unsigned long long>(expected_work_.load(std::memory_order_relaxed)),
               static_cast<unsigned long long>(last_roots_bytes_),
               static_cast<unsigned long long>(expected_work),
               static_cast<unsigned long long>(triggered_at_.load(std::memory_order_relaxed)),
               static_cast<unsigned long long>(live_bytes_.load(std::memory_order_relaxed)),
               static_cast<long long>(goal) - static_cast<long long>(old_goal), cons_mark);
  std::fprintf(stderr, "pacer: GOGC=%d limit=%lld goal %llu B, trigger %llu B, runway %llu B, limiter %s\n",
               gc_percent_.load(std::memory_order_relaxed),
               static_cast<long long>(memory_limit_.load(std::memory_order_relaxed)),
               static_cast<unsigned long long>(goal),
               static_cast<unsigned long long>(live_bytes_.load(std::memory_order_relaxed) +
                                               trigger_bytes_.load(std::memory_order_relaxed)),
               static_cast<unsigned long long>(goal_runway_.load(std::memory_order_relaxed)),
               limiting_.load(std::memory_order_relaxed) ? "on" : "off");
}

// ---- Mark workers.

void HeapState::mark_round() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++round_;
    round_active_ = static_cast<unsigned>(workers_.size());
    pool_.begin_round(round_active_ + 1);
    changed_.notify_all();
  }
  mark_as_worker(dedicated_ == 0);
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return round_active_ == 0; });
}

void HeapState::worker_main(unsigned index) {
  const bool fractional = index >= dedicated_;
  std::unique_lock<std::mutex> lock(mu_);
  // Not round_: the collector may have begun the first round before this
  // thread got here, and every round waits for every worker.
  std::uint64_t seen = 0;
  while (true) {
    changed_.wait(lock, [&] { return collector_stopped_ || round_ != seen; });
    if (round_ == seen) return;
    seen = round_;
    lock.unlock();
    mark_as_worker(fractional);
    lock.lock();
    --round_active_;
    changed_.notify_all();
  }
}

void HeapState::mark_as_worker(bool fractional) {
  Marker marker(spans_, pool_);
  marking_workers_.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t cpu = thread_cpu_ns();
  std::uint64_t reported = 0;
  while (true) {
    const bool left = marker.drain_local(kSliceWork);
    const std::uint64_t earned = marker.work_done() - reported;
    mark_work_.fetch_add(earned, std::memory_order_relaxed);
    bg_credit_.fetch_add(static_cast<std::int64_t>(earned), std::memory_order_relaxed);
    reported = marker.work_done();
    if (earned != 0 && assist_waiters_.load(std::memory_order_relaxed) != 0) {
      // An assist waits only when it found no grey object to mark: hand it
      // half of ours, so that it marks on its own CPU instead of idling
      // there until this worker has earned its credit (binary-trees 20 on
      // two mutators: 8 % faster, the mutators had waited 4.3 s in all).
      if (left) marker.stack().balance();
      std::lock_guard<std::mutex> lock(mu_);  // waiters wait on changed_ under mu_
      changed_.notify_all();
    }
    const std::uint64_t now = thread_cpu_ns();
    const std::uint64_t slice = now - cpu;
    cpu = now;
    worker_ns_.fetch_add(slice, std::memory_order_relaxed);
    gc_cpu_ns_.fetch_add(slice, std::memory_order_relaxed);
    update_limiter();
    if (fractional) {
      const std::uint64_t busy = fractional_busy_ns_.fetch_add(slice, std::memory_order_relaxed) + slice;
      // Go's idle worker: if a CPU would idle without this worker (the
      // running mutators and the other workers leave one free), mark flat out.
      const bool cpu_idle = running_mutators_.load(std::memory_order_relaxed) +
                                marking_workers_.load(std::memory_order_relaxed) - 1 <
                            ncpu_;
      const double elapsed = static_cast<double>(now_ns() - mark_start_ns_);
      const bool past_share = static_cast<double>(busy) > fractional_goal_ * elapsed;
      // Past its share, what it marks is idle-CPU marking (Go's idle worker).
      if (cpu_idle && past_share) {
        idle_ns_.fetch_add(slice, std::memory_order_relaxed);
        gc_idle_ns_.fetch_add(slice, std::memory_order_release);  // after gc_cpu_ns_ (update_limiter)
      }
      if (!cpu_idle && past_share) {
        marker.stack().publish();
        marking_workers_.fetch_sub(1, std::memory_order_relaxed);
        const bool round_goes_on = pool_.sit_out(kSitOutNs);
        marking_workers_.fetch_add(1, std::memory_order_relaxed);
        cpu = thread_cpu_ns();
        if (!round_goes_on) break;
        continue;
      }
    }
    if (left) {
      marker.stack().balance();
      continue;
    }
    WorkBlock* block = pool_.await_full();
    cpu = thread_cpu_ns();  // waiting is not marking
    if (block == nullptr) break;
    marker.stack().adopt(block);
  }
  marking_workers_.fetch_sub(1, std::memory_order_relaxed);
  marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
}

// A mutator that allocated `allocated` bytes during marking pays for them
// in mark work at the pacer's current assist ratio (Go's gcAssistAlloc):
// first with the background workers' unclaimed credit, then by marking
// itself, and if no grey object is left to mark, by waiting (counted as
// stopped) until the workers have earned the rest, or have handed out work
// to mark again, or marking ends. While the CPU limiter is engaged, nobody
// assists.
void HeapState::assist(Mutator& m, std::size_t allocated) {
  if (limiting_.load(std::memory_order_relaxed)) return;
  // CPU, not wall time: waiting for credit below is not collecting.
  const std::uint64_t start = thread_cpu_ns();
  const double per_byte = pacer::assist_work_per_byte(
      expected_work_.load(std::memory_order_relaxed), mark_work_.load(std::memory_order_relaxed),
      live_bytes_.load(std::memory_order_relaxed) + allocated_since_cycle_.load(std::memory_order_relaxed),
      next_gc_.load(std::memory_order_relaxed), triggered_at_.load(std::memory_order_relaxed),
      gc_percent_.load(std::memory_order_relaxed));
  auto debt = static_cast<std::int64_t>(std::min(static_cast<double>(allocated) * per_byte, 1e15));
  // Stealing is racy, as Go's: the credit may dip below zero for a moment.
  const std::int64_t stolen = std::min(debt, std::max<std::int64_t>(bg_credit_.load(std::memory_order_relaxed), 0));
  if (stolen > 0) bg_credit_.fetch_sub(stolen, std::memory_order_relaxed);
  debt -= stolen;
  while (debt > 0) {
    bool ran_out;
    {
      // Gone before the wait: what it still holds (work, ephemerons) is in
      // the pool, where the workers and the collector's ephemeron pass see it.
      Marker marker(spans_, pool_);
      ran_out = marker.drain_until(static_cast<std::uint64_t>(debt));
      marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
      mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
      debt -= static_cast<std::int64_t>(marker.work_done());
    }
    if (!ran_out || debt <= 0) break;
    barriers::flush_barrier_buffer();
    std::unique_lock<std::mutex> lock(mu_);
    assist_waiters_.fetch_add(1, std::memory_order_relaxed);
    wait_on_collector(lock, m, [&] {
      return !marking_.load(std::memory_order_relaxed) || bg_credit_.load(std::memory_order_relaxed) >= debt ||
             pool_.has_work();
    });
    assist_waiters_.fetch_sub(1, std::memory_order_relaxed);
    if (!marking_.load(std::memory_order_relaxed)) break;
    if (bg_credit_.load(std::memory_order_relaxed) >= debt) {
      bg_credit_.fetch_sub(debt, std::memory_order_relaxed);
      break;
    }
  }
  const std::uint64_t spent = thread_cpu_ns() - start;
  assist_ns_.fetch_add(spent, std::memory_order_relaxed);
  gc_cpu_ns_.fetch_add(spent, std::memory_order_relaxed);
  update_limiter();
}

void HeapState::update_limiter() {
  std::lock_guard<std::mutex> guard(limiter_mu_);
  const std::uint64_t cpu = process_cpu_ns();
  // Idle first: a worker adds to gc_cpu_ns_ before it adds the same time to
  // gc_idle_ns_, so the idle time read is all in the total read after it.
  const std::uint64_t idle = gc_idle_ns_.load(std::memory_order_acquire);
  const std::uint64_t held = held_ns_.load(std::memory_order_relaxed);
  const std::uint64_t gc = gc_cpu_ns_.load(std::memory_order_relaxed);
  const std::uint64_t gc_delta = gc - limiter_gc_ns_;
  // As Go's limiter: marking on a CPU that would otherwise idle is neither
  // the collector's nor the program's time. Counted as the collector's, one
  // mutator on two CPUs beside a worker marking flat out would look like
  // half the CPU spent collecting, and the limiter would turn assists (and
  // the hold at the goal) off just when the heap needs them.
  const std::uint64_t idle_delta = std::min(idle - limiter_idle_ns_, gc_delta);
  const std::uint64_t cpu_delta = cpu - limiter_cpu_ns_;
  // Time threads were held waiting for the collector is its cost too: Go
  // charges it as assist time, since its threads mark where ours wait. A heap
  // whose live data exceeds its limit holds its threads at every allocation
  // report; this is what lets the limiter see it.
  const std::uint64_t held_delta = held - limiter_held_ns_;
  limiter_.update(gc_delta - idle_delta + held_delta, cpu_delta > gc_delta ? cpu_delta - gc_delta : 0);
  limiter_cpu_ns_ = cpu;
  limiter_gc_ns_ = gc;
  limiter_idle_ns_ = idle;
  limiter_held_ns_ = held;
  const bool limiting = limiter_.limiting();
  if (limiting) limiter_full_.fetch_add(1, std::memory_order_relaxed);
  limiting_.store(limiting, std::memory_order_relaxed);
}

}  // namespace tricolor::gc
