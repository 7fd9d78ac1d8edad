// The collector thread and the mark workers: one cycle after another, as
// described in heap_state.hpp.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "heap_state.hpp"
#include "marker.hpp"
#include "object_info.hpp"

namespace tricolor::gc {
namespace {

constexpr std::uint64_t kHeapMinimum = 4 << 20;  // Go's heapMinimum at GOGC=100
// A mark worker checks its pace and shares its work after this much work.
constexpr std::uint64_t kSliceWork = 256 << 10;
// How long a fractional worker over its goal sits out before it looks again.
constexpr std::uint64_t kSitOutNs = 500'000;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

std::uint64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// A thread that blocks or waits for a collection cannot grey its own
// roots; the collector greys them, holding the heap's lock, which keeps
// the thread from running meanwhile. A thread parked for a stop that just
// ended resumes at once and greys its own, so a restart never waits on this.
bool roots_for_collector(const Mutator& m) {
  return m.root_scan() == Mutator::RootScan::kPending &&
         (m.state() == Mutator::State::kBlocking || m.state() == Mutator::State::kWaiting);
}

}  // namespace

void HeapState::start_collector() {
  ncpu_ = std::max(1u, std::thread::hardware_concurrency());
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
  next_gc_ = kHeapMinimum;
  goal_runway_.store(kHeapMinimum, std::memory_order_relaxed);
  trigger_bytes_.store(options_.gc_stop_the_world != 0 ? kHeapMinimum : kHeapMinimum * 7 / 10,
                       std::memory_order_relaxed);
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
  collector_.join();
  for (std::thread& t : workers_) t.join();
}

void HeapState::collector_main() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    changed_.wait(lock, [&] { return shutdown_ || cycles_started_ < cycles_wanted_; });
    if (shutdown_) return;
    const Reason reason = wanted_reason_;
    ++cycles_started_;
    lock.unlock();
    run_cycle(reason);
    lock.lock();
    ++cycles_done_;
    changed_.notify_all();
  }
}

void HeapState::run_cycle(Reason reason) {
  // The background sweep of the last cycle, if allocation has not done it.
  spans_.finish_sweep();
  std::unique_lock<std::mutex> lock(mu_);
  const bool stw = options_.gc_stop_the_world != 0;
  stop_the_world(lock, nullptr, stw ? Pause::Kind::kMarkTermination : Pause::Kind::kSweepTermination);
  sweep_termination(lock);
  if (stw) {
    Marker marker(spans_, pool_);
    for_each_root([&](const void* object) { marker.mark_root(object); });
    for (Mutator* m : mutators_) {
      m->root_scan_ = Mutator::RootScan::kDone;
      m->attention_.fetch_and(~std::uint32_t{Mutator::kScanRoots}, std::memory_order_relaxed);
    }
    marker.drain();
    marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
    mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
  } else {
    start_the_world(lock);
    concurrent_mark(lock);
  }
  mark_termination(lock);
  if (reason == Reason::kForced) ++num_forced_gc_;
  if (options_.gc_stop_the_world >= 2) spans_.finish_sweep();
  start_the_world(lock);
  lock.unlock();

  // Concurrent sweep: this thread is the background sweeper.
  spans_.finish_sweep();
  const alloc::AllocStats after = spans_.stats();
  if (after.zombies != 0) fatal("sweep found marked objects that were never allocated (a collector bug)");
  // Keep as many free pages as the heap will grow by before the next
  // cycle; give the rest back.
  spans_.scavenge(goal_runway_.load(std::memory_order_relaxed));
}

void HeapState::sweep_termination(std::unique_lock<std::mutex>&) {
  // A thread that blocked through the whole sweep still caches spans from
  // before it: they are swept as they go back.
  const std::uint32_t sg = spans_.sweepgen();
  for (Mutator* m : mutators_) {
    if (m->cache_sweepgen_ != sg) {
      m->cache_.release_all();
      m->cache_sweepgen_ = sg;
    }
  }
  // Every other span was swept by this thread or by an allocation, which
  // finished before its thread stopped: this finds nothing left to do.
  spans_.finish_sweep();
  marked_bytes_.store(0, std::memory_order_relaxed);
  mark_work_.store(0, std::memory_order_relaxed);
  fractional_busy_ns_.store(0, std::memory_order_relaxed);
  alloc_at_mark_start_ = allocated_since_cycle_.load(std::memory_order_relaxed);
  phase_ = Phase::kMark;
  set_marking(true);
  if (options_.gc_stop_the_world != 0) return;
  for (Mutator* m : mutators_) {
    m->root_scan_ = Mutator::RootScan::kPending;
    m->attention_.fetch_or(Mutator::kScanRoots, std::memory_order_relaxed);
  }
}

void HeapState::concurrent_mark(std::unique_lock<std::mutex>& lock) {
  mark_start_ns_ = now_ns();
  lock.unlock();
  {
    // The global roots, all at once under their lock (see GlobalRoot::set).
    Marker marker(spans_, pool_);
    barriers::GlobalRoots& globals = barriers::global_roots();
    {
      std::lock_guard<std::mutex> guard(globals.mu);
      globals.list.for_each([&](const barriers::RootNode& node) { marker.mark_root(node.object()); });
    }
    marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
  }
  lock.lock();
  while (true) {
    {
      Marker marker(spans_, pool_);
      for (Mutator* m : mutators_) {
        if (roots_for_collector(*m)) {
          scan_roots_of(*m, marker);
          m->root_scan_ = Mutator::RootScan::kDone;
        }
      }
      marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
    }
    lock.unlock();
    mark_round();
    lock.lock();
    if (pool_.has_work()) continue;
    const bool roots_pending = std::any_of(mutators_.begin(), mutators_.end(), [](const Mutator* m) {
      return m->root_scan_ != Mutator::RootScan::kDone;
    });
    if (roots_pending) {
      // A running thread greys its roots at its next safepoint; its scan,
      // or its blocking or waiting, wakes us. One that blocked while we
      // marked is scanned at the top of the loop.
      if (std::none_of(mutators_.begin(), mutators_.end(), [](const Mutator* m) { return roots_for_collector(*m); })) {
        changed_.wait(lock);
      }
      continue;
    }
    if (flush_handshake(lock)) continue;
    // Go's gcMarkDone: stop, and if a barrier buffer flushed on the way to
    // the safepoints greyed anything, restart the world and keep marking.
    stop_the_world(lock, nullptr, Pause::Kind::kMarkTermination);
    const bool roots_left = std::any_of(mutators_.begin(), mutators_.end(), [](const Mutator* m) {
      return m->root_scan_ != Mutator::RootScan::kDone;
    });
    if (!pool_.has_work() && !roots_left) return;  // with the world stopped
    start_the_world(lock);
  }
}

bool HeapState::flush_handshake(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t epoch = ++flush_epoch_;
  for (Mutator* m : mutators_) {
    if (m->state_value_ == Mutator::State::kRunning) m->attention_.fetch_or(Mutator::kFlush, std::memory_order_relaxed);
  }
  // A thread that parks or blocks has flushed on the way.
  changed_.wait(lock, [&] {
    return std::all_of(mutators_.begin(), mutators_.end(), [&](const Mutator* m) {
      return m->state_value_ != Mutator::State::kRunning || m->flush_acked_ >= epoch;
    });
  });
  return pool_.has_work();
}

void HeapState::mark_termination(std::unique_lock<std::mutex>&) {
  if (options_.checkmark) verify_marking();
  set_marking(false);
  phase_ = Phase::kSweep;
  // Live: what marking reached, plus what was allocated (black) meanwhile.
  const std::uint64_t allocated_during_mark =
      allocated_since_cycle_.load(std::memory_order_relaxed) - alloc_at_mark_start_;
  live_bytes_ = marked_bytes_.load(std::memory_order_relaxed) + allocated_during_mark;
  next_gc_ = std::max(2 * live_bytes_, kHeapMinimum);
  const std::uint64_t runway = next_gc_ - live_bytes_;
  goal_runway_.store(runway, std::memory_order_relaxed);
  // Stop-the-world cycles may run at the goal itself; concurrent ones start
  // early enough to finish marking before it (Go's minimum trigger ratio).
  trigger_bytes_.store(options_.gc_stop_the_world != 0 ? runway : runway * 7 / 10, std::memory_order_relaxed);
  expected_work_.store(mark_work_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  allocated_since_cycle_.store(0, std::memory_order_relaxed);
  ++num_gc_;
  // Every span becomes unswept; the sweep frees what marking left white.
  spans_.start_sweep_cycle();
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
    changed_.wait(lock, [&] { return shutdown_ || round_ != seen; });
    if (shutdown_) return;
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
    mark_work_.fetch_add(marker.work_done() - reported, std::memory_order_relaxed);
    reported = marker.work_done();
    if (fractional) {
      const std::uint64_t now = thread_cpu_ns();
      const std::uint64_t busy = fractional_busy_ns_.fetch_add(now - cpu, std::memory_order_relaxed) + (now - cpu);
      cpu = now;
      // Go's idle worker: if a CPU would idle without this worker (the
      // running mutators and the other workers leave one free), mark flat out.
      const bool cpu_idle = running_mutators_.load(std::memory_order_relaxed) +
                                marking_workers_.load(std::memory_order_relaxed) - 1 <
                            ncpu_;
      const double elapsed = static_cast<double>(now_ns() - mark_start_ns_);
      if (!cpu_idle && static_cast<double>(busy) > fractional_goal_ * elapsed) {
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
    if (block == nullptr) break;
    marker.stack().adopt(block);
  }
  marking_workers_.fetch_sub(1, std::memory_order_relaxed);
  marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
}

// A mutator that allocated `allocated` bytes during marking pays for them
// in mark work (Go's gcAssistAlloc): the work expected of the cycle still
// to do, spread over the heap growth still allowed before the goal.
void HeapState::assist(std::size_t allocated) {
  const std::uint64_t expected = expected_work_.load(std::memory_order_relaxed);
  const std::uint64_t done = mark_work_.load(std::memory_order_relaxed);
  const std::uint64_t runway = goal_runway_.load(std::memory_order_relaxed);
  const std::uint64_t used = allocated_since_cycle_.load(std::memory_order_relaxed);
  const std::uint64_t work_left = std::max<std::uint64_t>(expected > done ? expected - done : 0, 64 << 10);
  const std::uint64_t runway_left = std::max<std::uint64_t>(runway > used ? runway - used : 0, 256 << 10);
  const double debt = static_cast<double>(allocated) * static_cast<double>(work_left) / static_cast<double>(runway_left);
  Marker marker(spans_, pool_);
  marker.drain_until(static_cast<std::uint64_t>(std::min(debt, 1e12)));
  marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
  mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
}

}  // namespace tricolor::gc
