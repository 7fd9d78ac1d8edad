#include "heap_state.hpp"

#include <algorithm>
#include <string>

#include "clock.hpp"
#include "marker.hpp"
#include "object_info.hpp"
#include "tricolor/barriers/write_barrier.hpp"
#include "tricolor/interleave.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor::gc {
namespace {

constexpr std::size_t kPauseLog = 4096;
constexpr std::size_t kCycleLog = 1024;

// The heaps now marking, for the write barrier's flushes. Never destroyed:
// a thread may flush during static destruction. `mu` guards `heaps` and is
// held across every flush into them, and across a heap's decision that its
// marking is over (stop_marking_if_done).
struct MarkingHeaps {
  std::mutex mu;
  std::vector<HeapState*> heaps;
};
MarkingHeaps& marking_heaps() {
  static MarkingHeaps* heaps = new MarkingHeaps();
  return *heaps;
}

}  // namespace

HeapState::HeapState(const Heap& heap, const Options& options)
    : heap_(heap),
      options_(options),
      spans_([&] {
        alloc::SpanHeapOptions o;
        o.max_heap_bytes = options.max_heap_bytes;
        o.on_dead = &HeapState::destroy_dead;
        o.on_specials = &Specials::sweep_span;
        o.on_specials_context = &specials_;  // constructed before any sweep
        return o;
      }()),
      finalizers_(*this),
      specials_(spans_, finalizers_),
      sweep_done_gen_(spans_.sweepgen()),
      ncpu_(std::max(1u, std::thread::hardware_concurrency())),
      gc_percent_(options.gc_percent),
      memory_limit_(options.memory_limit),
      limiter_(ncpu_),
      created_ns_(now_ns()),
      created_unix_ns_(unix_now_ns()),
      last_scavenge_ns_(created_ns_) {
  static std::once_flag sink_once;
  std::call_once(sink_once, [] {
    barriers::set_barrier_sink(&HeapState::shade_barrier_entries, &HeapState::may_buffer_barrier_entries);
  });
  if (!options.event_log.empty()) {
    event_log_ = std::make_unique<EventLog>(options.event_log, created_ns_, created_unix_ns_, ncpu_,
                                            options.gc_percent, options.memory_limit);
  }
  start_collector();
}

HeapState::~HeapState() = default;

// The sweeper's report of a dead object of a finalize span class: run its
// destructor, if its constructor ever returned.
void HeapState::destroy_dead(void*, void* cell) noexcept {
  const std::uintptr_t header = load_header(cell);
  if ((header & kConstructedBit) == 0) return;
  const auto* info = reinterpret_cast<const TypeInfo*>(header & ~kConstructedBit);
  info->destroy(static_cast<char*>(cell) + info->header_size);
}

void HeapState::shade_barrier_entries(const void* const* pointers, std::size_t count) {
  MarkingHeaps& marking = marking_heaps();
  std::lock_guard<std::mutex> guard(marking.mu);
  // An entry of a heap that is not marking (any more) needs no shading:
  // that heap's mark termination flushed every buffer it depends on.
  for (HeapState* heap : marking.heaps) {
    Marker marker(heap->spans_, heap->pool_);
    for (std::size_t i = 0; i < count; ++i) {
      if (heap->spans_.owns(pointers[i])) marker.shade(pointers[i]);
    }
    heap->marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
    heap->mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
  }
}

bool HeapState::may_buffer_barrier_entries(std::uint64_t& epoch) {
  MarkingHeaps& marking = marking_heaps();
  std::lock_guard<std::mutex> guard(marking.mu);
  // Under the lock that every change of the epoch is made under: the
  // answer holds for exactly this epoch.
  epoch = barriers::marking_epoch.load(std::memory_order_relaxed);
  // A blocking thread counts as flushed in every heap (it flushed on the
  // way in), so what it stores now must not wait in its buffer.
  const Mutator* top = Mutator::t_current_;
  if (top != nullptr && top->thread_blocking()) return false;
  return std::all_of(marking.heaps.begin(), marking.heaps.end(),
                     [](const HeapState* heap) { return Mutator::lookup(heap->heap_) != nullptr; });
}

void HeapState::start_marking() {
  MarkingHeaps& marking = marking_heaps();
  std::lock_guard<std::mutex> guard(marking.mu);
  marking.heaps.push_back(this);
  barriers::marking_heaps.fetch_add(1, std::memory_order_relaxed);
  barriers::marking_epoch.fetch_add(1, std::memory_order_relaxed);
  marking_.store(true, std::memory_order_relaxed);
}

bool HeapState::stop_marking_if_done() {
  MarkingHeaps& marking = marking_heaps();
  std::lock_guard<std::mutex> guard(marking.mu);
  // Exact here: the world is stopped, the workers are between rounds, and
  // a flush publishes its grey objects before it lets go of marking.mu.
  if (pool_.has_work()) return false;
  marking.heaps.erase(std::find(marking.heaps.begin(), marking.heaps.end(), this));
  barriers::marking_heaps.fetch_sub(1, std::memory_order_relaxed);
  barriers::marking_epoch.fetch_add(1, std::memory_order_relaxed);
  marking_.store(false, std::memory_order_relaxed);
  return true;
}

// ---- Mutator states.

void HeapState::request(Mutator& m, std::uint32_t bits) {
  // seq_cst, before the collector reads the state (enter_blocking).
  m.attention_.fetch_or(bits, std::memory_order_seq_cst);
  m.poke_siblings();
}

void HeapState::set_state(Mutator& m, Mutator::State s) {
  if (m.state_value_.load(std::memory_order_relaxed) == Mutator::State::kRunning) {
    running_mutators_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (s == Mutator::State::kRunning) running_mutators_.fetch_add(1, std::memory_order_relaxed);
  m.state_value_.store(s, std::memory_order_seq_cst);
  changed_.notify_all();
}

void HeapState::attach(Mutator& m) {
  std::unique_lock<std::mutex> lock(mu_);
  // Joining in the middle of a stop-the-world would add a running thread
  // to a world the collector believes stopped.
  wait_with_siblings_blocked(lock, m, [&] { return !world_stopped_; });
  m.state_value_.store(Mutator::State::kParked, std::memory_order_relaxed);  // not yet in mutators_
  mutators_.push_back(&m);
  m.cache_sweepgen_ = spans_.sweepgen();
  if (phase_ == Phase::kMark) {
    // The thread may hold Roots from an earlier attachment.
    m.root_scan_ = Mutator::RootScan::kPending;
    request(m, Mutator::kScanRoots);
  }
  set_state(m, Mutator::State::kRunning);
  m.allocate_black_ = phase_ == Phase::kMark;
  m.cache_.set_allocate_live(m.allocate_black_);
}

void HeapState::detach(Mutator& m) {
  barriers::flush_barrier_buffer();
  // The cache goes back while this thread still counts as running, so
  // that no sweep generation can pass while it holds spans.
  m.cache_.release_all();
  std::unique_lock<std::mutex> lock(mu_);
  set_state(m, Mutator::State::kWaiting);
  wait_with_siblings_blocked(
      lock, m, [&] { return (m.attention_.load(std::memory_order_relaxed) & Mutator::kStop) == 0; });
  mutators_.erase(std::find(mutators_.begin(), mutators_.end(), &m));
  changed_.notify_all();
}


void HeapState::resume(std::unique_lock<std::mutex>& lock, Mutator& m) {
  set_state(m, Mutator::State::kRunning);
  m.allocate_black_ = phase_ == Phase::kMark;
  m.cache_.set_allocate_live(m.allocate_black_);
  const std::uint32_t sg = spans_.sweepgen();
  if (m.cache_sweepgen_ != sg) {
    // Spans cached before the sweep began are unswept: give them back (and
    // so sweep them) before allocating from them again. Outside the lock:
    // sweeping runs destructors. Running, this thread holds off the next
    // stop, so the sweep generation stays `sg` meanwhile.
    lock.unlock();
    m.cache_.release_all();
    lock.lock();
    release_cache(m, sg);
  }
}

void HeapState::release_cache(Mutator& m, std::uint32_t sg) {
  m.cache_sweepgen_ = sg;
  changed_.notify_all();  // finish_sweep_of_caches may wait for this one
}

void HeapState::release_stale_cache_for(Mutator& m) {
  const std::uint32_t sg = spans_.sweepgen();
  if (m.cache_sweepgen_ == sg) return;
  m.cache_.release_all();
  release_cache(m, sg);
}

void HeapState::finish_sweep_of_caches(std::unique_lock<std::mutex>& lock) {
  const std::uint32_t sg = spans_.sweepgen();
  // A blocking or waiting thread does not resume to give its cache back, so
  // we give it back for it, having taken it (take_stopped): a waiting one
  // cannot resume while we hold the lock, a blocking one while we hold it.
  for (Mutator* m : mutators_) {
    const Mutator::State s = m->state();
    if ((s == Mutator::State::kBlocking || s == Mutator::State::kWaiting) && take_stopped(*m)) {
      release_stale_cache_for(*m);
      hand_back(*m);
    }
  }
  // The others were parked by the stop and give theirs back as they resume.
  changed_.wait(lock, [&] {
    return std::all_of(mutators_.begin(), mutators_.end(), [&](const Mutator* m) { return m->cache_sweepgen_ == sg; });
  });
}

void HeapState::respond(Mutator& m) {
  const std::uint32_t attention = m.attention_.load(std::memory_order_relaxed);
  if ((attention & Mutator::kScanRoots) != 0) {
    std::unique_lock<std::mutex> lock(mu_);
    m.attention_.fetch_and(~std::uint32_t{Mutator::kScanRoots}, std::memory_order_relaxed);
    if (m.root_scan_ == Mutator::RootScan::kPending) {
      m.root_scan_ = Mutator::RootScan::kScanning;
      lock.unlock();
      TRICOLOR_POINT(kBeforeThreadRootScan, &heap_);
      {
        Marker marker(spans_, pool_);
        scan_roots_of(m, marker);
        marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
      }  // the marker's stack goes to the pool here
      lock.lock();
      m.root_scan_ = Mutator::RootScan::kDone;
      changed_.notify_all();
      lock.unlock();
      TRICOLOR_POINT(kAfterThreadRootScan, &heap_);
    }
  }
  if ((attention & Mutator::kFlush) != 0) {
    barriers::flush_barrier_buffer();
    std::lock_guard<std::mutex> lock(mu_);
    m.attention_.fetch_and(~std::uint32_t{Mutator::kFlush}, std::memory_order_relaxed);
    m.flush_acked_ = flush_epoch_;
    changed_.notify_all();
  }
  if ((attention & Mutator::kStop) != 0) {
    barriers::flush_barrier_buffer();
    std::unique_lock<std::mutex> lock(mu_);
    wait_stopped(lock, &m, Mutator::State::kParked, [] { return true; });
  }
}

// A BlockingScope's way in and out takes no lock unless the collector wants
// something (Go's entersyscall and exitsyscall). A thread that sleeps for
// short periods would otherwise meet mu_ twice a period and wait there for
// whoever holds it, on two CPUs for as long as the holder is descheduled
// (the pause probe's lateness, perf/RESULTS.md).
//
// In: the store of kBlocking is a release (the thread's roots, and the
// barrier entries it flushed, are the collector's to read once it sees the
// state) and seq_cst against the collector's requests. The collector sets
// a bit in attention_ and then reads the state; the thread stores the state
// and then reads attention_. So either the collector sees kBlocking and
// does not wait for the thread, or the thread sees the request and wakes
// the collector, which may be waiting for its answer, under mu_.
void HeapState::enter_blocking(Mutator& m) {
  barriers::flush_barrier_buffer();
  running_mutators_.fetch_sub(1, std::memory_order_relaxed);
  m.state_value_.store(Mutator::State::kBlocking, std::memory_order_seq_cst);
  if (m.attention_.load(std::memory_order_seq_cst) != 0) [[unlikely]] {
    std::lock_guard<std::mutex> lock(mu_);
    changed_.notify_all();
  }
}

// Out: a CAS kBlocking -> kRunning, acquire: what the collector did with the
// thread held (greyed its roots, swept its cache, changed the phase while
// the world stood) happens-before, through hand_back's release. The CAS
// fails while the collector holds the thread; then the thread waits under
// mu_ to be handed back. If the world stopped while it was blocked, the
// phase or the sweep generation may have changed, and it resumes under
// mu_, as from a safepoint.
void HeapState::leave_blocking(Mutator& m) {
  Mutator::State blocking = Mutator::State::kBlocking;
  if (m.state_value_.compare_exchange_strong(blocking, Mutator::State::kRunning, std::memory_order_acquire,
                                             std::memory_order_relaxed)) [[likely]] {
    running_mutators_.fetch_add(1, std::memory_order_relaxed);
    if (m.allocate_black_ == marking_.load(std::memory_order_relaxed) && m.cache_sweepgen_ == spans_.sweepgen()) {
      return;
    }
  }
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return m.state() != Mutator::State::kBlockingHeld; });
  resume(lock, m);
}

bool HeapState::take_stopped(Mutator& m) {
  // seq_cst: the collector set its request in attention_ before it looks
  // here (enter_blocking).
  Mutator::State s = m.state();
  if (s == Mutator::State::kBlocking &&
      m.state_value_.compare_exchange_strong(s, Mutator::State::kBlockingHeld, std::memory_order_acquire)) {
    return true;
  }
  return s != Mutator::State::kRunning;  // a failed CAS left the thread's new state in s
}

void HeapState::hand_back(Mutator& m) {
  Mutator::State held = Mutator::State::kBlockingHeld;
  if (m.state_value_.compare_exchange_strong(held, Mutator::State::kBlocking, std::memory_order_release,
                                             std::memory_order_relaxed)) {
    changed_.notify_all();  // the thread may wait in leave_blocking
  }
}

void HeapState::scan_roots_of(Mutator& m, Marker& marker) {
  std::uint64_t n = age_pools(m, marker);
  m.roots_.list.for_each([&](const barriers::RootNode& node) {
    marker.mark_root(node.object());
    ++n;
  });
  for (const Mutator::ConstructionRoot* c = m.constructing_; c != nullptr; c = c->outer_) {
    mark_in_construction(*c, marker);
    ++n;
  }
  roots_bytes_.fetch_add(n * sizeof(void*), std::memory_order_relaxed);
}

std::uint64_t HeapState::age_pools(Mutator& m, Marker& marker) {
  std::uint64_t n = 0;
  std::lock_guard<std::mutex> guard(pools_mu_);
  for (std::size_t id = 0; id < m.pool_locals_.size(); ++id) {
    PoolLocal& local = m.pool_locals_[id];
    if (local.generation_ == 0) continue;
    if (pool_generations_[id] != local.generation_) {  // its pool is gone
      local = PoolLocal();
      continue;
    }
    local.victims_.swap(local.recent_);
    local.recent_.clear();
    if (!marker_skips(RootSet::kPools)) {
      for (const void* p : local.victims_) marker.mark_root(p);
    }
    n += local.victims_.size();
  }
  return n;
}

PoolHandle HeapState::register_pool() {
  std::lock_guard<std::mutex> guard(pools_mu_);
  auto free = std::find(pool_generations_.begin(), pool_generations_.end(), 0);
  const auto id = static_cast<std::uint32_t>(free - pool_generations_.begin());
  if (free == pool_generations_.end()) pool_generations_.push_back(0);
  pool_generations_[id] = ++last_pool_generation_;
  return {id, pool_generations_[id]};
}

void HeapState::unregister_pool(PoolHandle h) {
  // Each thread's part is dropped by its next root scan, or reset when a
  // new pool with this id reaches it.
  std::lock_guard<std::mutex> guard(pools_mu_);
  pool_generations_[h.id] = 0;
}

// ---- Stopping the world.

bool HeapState::others_stopped(const Mutator* self) {
  bool stopped = true;
  for (Mutator* m : mutators_) {
    if (m != self && !take_stopped(*m)) stopped = false;
  }
  return stopped;
}

void HeapState::stop_the_world(std::unique_lock<std::mutex>& lock, Mutator* self, Pause::Kind kind) {
  // One stop at a time, in the order they were asked for: the collector's
  // and mem_stats' take turns, and one in a loop cannot starve another. And
  // not before every thread the last stop parked has resumed: stops back to
  // back would otherwise find it still parked, and it would never run again.
  const std::uint64_t ticket = stops_asked_++;
  wait_stopped(lock, self, Mutator::State::kWaiting, [&] {
    return stops_done_ == ticket && std::none_of(mutators_.begin(), mutators_.end(), [](const Mutator* m) {
             return m->state() == Mutator::State::kParked;
           });
  });
  world_stopped_ = true;
  stop_kind_ = kind;
  stop_begin_ns_ = now_ns();
  if (kind != Pause::Kind::kOther && cycle_.start_ns == 0) cycle_.start_ns = stop_begin_ns_;
  for (Mutator* m : mutators_) {
    if (m != self) request(*m, Mutator::kStop);
  }
  changed_.wait(lock, [&] { return others_stopped(self); });
  stop_to_safepoint_ns_ = now_ns() - stop_begin_ns_;
}

void HeapState::start_the_world(std::unique_lock<std::mutex>&) {
  for (Mutator* m : mutators_) {
    m->attention_.fetch_and(~std::uint32_t{Mutator::kStop}, std::memory_order_relaxed);
    hand_back(*m);
  }
  world_stopped_ = false;
  ++stops_done_;
  const std::uint64_t end = now_ns();
  if (stop_kind_ != Pause::Kind::kOther) {
    const Pause p{stop_kind_, cycle_.number, end, end - stop_begin_ns_, stop_to_safepoint_ns_};
    pause_total_ns_ += p.total_ns;
    if (pauses_.size() < kPauseLog) {
      pauses_.push_back(p);
    } else {
      pauses_[pauses_recorded_ % kPauseLog] = p;
    }
    ++pauses_recorded_;
    pause_buckets_.add(p.total_ns);
    if (event_log_) unlogged_pauses_.push_back(p);
    cycle_.pause_ns += p.total_ns;
    const CycleStats::Stop stop{p.total_ns, p.to_safepoint_ns};
    if (p.kind == Pause::Kind::kSweepTermination) {
      cycle_.sweep_termination = stop;
      cycle_.mark_ns = end;
    } else {
      // A stop-the-world cycle's one pause is its whole mark.
      if (cycle_.mark_ns == 0) cycle_.mark_ns = stop_begin_ns_;
      // The last of a cycle's mark termination stops is its mark termination.
      cycle_.mark_termination = stop;
      cycle_.mark_termination_ns = stop_begin_ns_;
      cycle_.end_ns = end;
      ++cycle_.mark_termination_stops;
    }
  }
  changed_.notify_all();
}

// ---- Requests from mutators.

void HeapState::collect(Mutator* self, GcReason reason) {
  if (self != nullptr) barriers::flush_barrier_buffer();
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t wanted = cycles_started_ + 1;
  if (cycles_wanted_ < wanted) {
    cycles_wanted_ = wanted;
    wanted_reason_ = reason;
  } else if (reason == GcReason::kForced) {
    wanted_reason_ = reason;
  }
  changed_.notify_all();
  wait_stopped(lock, self, Mutator::State::kWaiting, [&] { return cycles_done_ >= wanted; });
}

bool HeapState::want_cycle() {
  // A cycle that has started and not yet finished marking serves the
  // request, also before its sweep termination, while phase_ still says
  // kSweep: asked for again there, it would be followed by a second one at
  // once (binary-trees then set its goal from a mark that started at the
  // last one's end, and its heap reached 378 MiB for 204 live).
  if (cycles_started_ == num_gc_ && cycles_wanted_ <= cycles_started_) {
    cycles_wanted_ = cycles_started_ + 1;
    wanted_reason_ = GcReason::kHeap;
    changed_.notify_all();
    return true;
  }
  return false;
}

void HeapState::request_cycle(Mutator& m) {
  barriers::flush_barrier_buffer();
  std::unique_lock<std::mutex> lock(mu_);
  // The caller compared a total it counted before taking the lock; if a
  // mark termination came between, that total was the last cycle's, and a
  // cycle asked for on it would start at once, with nothing allocated.
  if (allocated_since_cycle_.load(std::memory_order_relaxed) < trigger_bytes_.load(std::memory_order_relaxed)) return;
  if (!want_cycle()) return;
  // The thread that starts a cycle waits, as stopped, until its sweep
  // termination is over (as Go's gcStart runs it on the goroutine that
  // triggers). Otherwise it runs on while the collector finishes the sweep
  // and then asks it to stop, and if it has gone into code that does not
  // allocate (a walk over a big structure), the stop waits for the whole
  // walk (binary-trees' pauses with one mutator, perf/RESULTS.md).
  const std::uint64_t cycle = cycles_wanted_;
  wait_stopped(lock, &m, Mutator::State::kWaiting, [&] {
    return num_gc_ >= cycle || (cycles_started_ >= cycle && phase_ == Phase::kMark) || shutdown_;
  });
}

void HeapState::report_allocation(Mutator& m, std::size_t bytes) {
  if (options_.stress_interval != 0) {
    if ((stress_count_.fetch_add(1, std::memory_order_relaxed) + 1) % options_.stress_interval == 0) {
      collect(&m, GcReason::kStress);
    }
    return;
  }
  const std::uint64_t total = allocated_since_cycle_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  // Proportional sweep: pay for the growth with the sweeping it is owed.
  const auto owed = static_cast<std::uint64_t>(sweep_pages_per_byte_.load(std::memory_order_relaxed) *
                                               static_cast<double>(total));
  const std::uint64_t basis = sweep_basis_pages_.load(std::memory_order_relaxed);
  while (spans_.pages_swept() - basis < owed && spans_.sweep_one()) {
  }
  if (marking_.load(std::memory_order_relaxed)) {
    assist(m, bytes);
  } else if (total >= trigger_bytes_.load(std::memory_order_relaxed)) {
    request_cycle(m);
  }
  if (total > goal_runway_.load(std::memory_order_relaxed) && !limiting_.load(std::memory_order_relaxed)) {
    hold_at_goal(m);
  }
}

// A new GOGC or limit applies at once: to the goal the assists of a cycle in
// progress aim at, and to the trigger, which the heap may already be past.
void HeapState::recommit_pacer() {
  commit_pacer();
  if (allocated_since_cycle_.load(std::memory_order_relaxed) >= trigger_bytes_.load(std::memory_order_relaxed)) {
    want_cycle();
  }
  changed_.notify_all();
}

int HeapState::set_gc_percent(int percent) {
  std::lock_guard<std::mutex> lock(mu_);
  const int old = gc_percent_.exchange(percent < 0 ? -1 : percent, std::memory_order_relaxed);
  recommit_pacer();
  return old;
}

std::int64_t HeapState::set_memory_limit(std::int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (limit < 0) return memory_limit_.load(std::memory_order_relaxed);  // Go: a negative limit only reads it
  const std::int64_t old = memory_limit_.exchange(limit, std::memory_order_relaxed);
  recommit_pacer();
  return old;
}

// The heap reached its goal before the cycle that should have kept it
// there finished marking: the collector started late (it had no CPU) or
// the assists found too little to do. The thread waits for the mark phase
// to end, as Go parks an assist that finds no work; it counts as stopped
// meanwhile, so it holds up nothing.
void HeapState::hold_at_goal(Mutator& m) {
  barriers::flush_barrier_buffer();
  std::unique_lock<std::mutex> lock(mu_);
  // As in request_cycle: if the cycle ended since the caller counted, the
  // heap is under its new goal. Held regardless, the thread would start a
  // needless cycle and wait through all of its marking (binary-trees held
  // its program through a whole mark in one cycle of six this way).
  if (allocated_since_cycle_.load(std::memory_order_relaxed) <= goal_runway_.load(std::memory_order_relaxed)) return;
  want_cycle();
  const std::uint32_t seen = num_gc_;
  wait_on_collector(lock, m, [&] { return num_gc_ != seen || shutdown_; });
}

void HeapState::mark_new(const void* cell) noexcept {
  const ObjectRef ref = ObjectRef::of(cell);
  ref.span->try_mark(ref.index);
}

MemStats HeapState::mem_stats(Mutator* self) {
  if (self != nullptr) {
    // A safepoint: a thread that reads its statistics in a loop must still
    // answer the collector's requests. (It does wait as a stopped thread
    // below, but if its turn comes at once it never releases the lock, and
    // the collector would not see it stopped.)
    respond(*self);
    barriers::flush_barrier_buffer();
  }
  std::unique_lock<std::mutex> lock(mu_);
  // Stopped, every thread's cache holds still, so the counters add up to
  // one moment.
  stop_the_world(lock, self, Pause::Kind::kOther);
  // A cache from before the last sweep began holds unswept spans, whose
  // dead objects still count: sweep them now, as the thread will when it
  // resumes, so that the figures say what a collection freed.
  for (Mutator* m : mutators_) release_stale_cache_for(*m);
  alloc::AllocStats s = spans_.stats();
  for (Mutator* m : mutators_) m->cache_.add_cached_mallocs(s);
  MemStats out;
  out.heap_alloc = s.heap_alloc_bytes;
  out.total_alloc = s.total_alloc_bytes;
  out.heap_sys = s.pages.sys_bytes;
  out.heap_inuse = s.pages.inuse_bytes;
  out.heap_idle = s.pages.idle_bytes;
  out.heap_released = s.pages.released_bytes;
  out.heap_objects = s.heap_objects;
  out.mallocs = s.mallocs;
  out.frees = s.frees;
  out.next_gc = next_gc_.load(std::memory_order_relaxed);
  out.num_gc = num_gc_;
  out.num_forced_gc = num_forced_gc_;
  out.pause_total_ns = pause_total_ns_;
  out.gc_cpu_fraction = gc_cpu_fraction();
  for (std::size_t c = 0; c < alloc::kNumSizeClasses; ++c) {
    out.by_size[c] = {s.by_size[c].size, s.by_size[c].mallocs, s.by_size[c].frees};
  }
  // Go's PauseNs and PauseEnd: cycle k at [(k - 1) % 256].
  for (std::size_t i = 0; i < std::min<std::size_t>(cycles_.size(), 256); ++i) {
    const CycleStats& c = cycles_[(cycles_recorded_ - 1 - i) % kCycleLog];
    out.pause_ns[(c.number - 1) % 256] = c.pause_ns;
    out.pause_end_unix_ns[(c.number - 1) % 256] = to_unix_ns(c.end_ns);
    if (i == 0) out.last_gc_unix_ns = to_unix_ns(c.end_ns);
  }
  start_the_world(lock);
  return out;
}

double HeapState::gc_cpu_fraction() const {
  const double capacity = static_cast<double>(now_ns() - created_ns_) * ncpu_;
  return capacity > 0 ? static_cast<double>(gc_cpu_ns_.load(std::memory_order_relaxed)) / capacity : 0;
}

void HeapState::record_cycle() {
  cycle_.gc_cpu_fraction = gc_cpu_fraction();
  if (cycles_.size() < kCycleLog) {
    cycles_.push_back(cycle_);
  } else {
    cycles_[cycles_recorded_ % kCycleLog] = cycle_;
  }
  ++cycles_recorded_;
}

void HeapState::record_sweep_end() {
  std::unique_lock<std::mutex> lock(mu_);
  CycleStats& newest = cycles_[(cycles_recorded_ - 1) % kCycleLog];
  newest.sweep_end_ns = now_ns();
  if (!event_log_) return;
  const CycleStats cycle = newest;
  std::vector<Pause> pauses;
  pauses.swap(unlogged_pauses_);
  lock.unlock();
  // Only this thread writes the log; the file's I/O waits for no lock.
  for (const Pause& p : pauses) event_log_->pause(p);
  event_log_->cycle(cycle, ncpu_);
  event_log_->flush();
}

GcStats HeapState::gc_stats() {
  std::lock_guard<std::mutex> lock(mu_);
  GcStats out;
  out.num_gc = num_gc_;
  out.num_forced_gc = num_forced_gc_;
  out.heap_created_ns = created_ns_;
  out.pause_total_ns = pause_total_ns_;
  out.limiter_engaged = limiter_full_.load(std::memory_order_relaxed);
  out.pauses.reserve(pauses_.size());
  for (std::size_t i = 0; i < pauses_.size(); ++i) {
    out.pauses.push_back(pauses_[(pauses_recorded_ - 1 - i) % kPauseLog]);
  }
  out.cycles.reserve(cycles_.size());
  for (std::size_t i = 0; i < cycles_.size(); ++i) {
    out.cycles.push_back(cycles_[(cycles_recorded_ - 1 - i) % kCycleLog]);
  }
  if (!out.cycles.empty()) out.last_gc_ns = out.cycles.front().end_ns;
  out.pause_histogram = pause_buckets_.snapshot();
  return out;
}

void HeapState::destroy_all() {
  // The finalizer thread is attached; what it has not run yet never runs.
  finalizers_.stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!mutators_.empty()) {
      fatal("a Heap was destroyed while " + std::to_string(mutators_.size()) +
            " thread(s) were still attached to it; end every ThreadScope of a heap before destroying it");
    }
  }
  stop_collector();
  // No mark bit is set: the sweep frees every object, running destructors.
  specials_.start_destroying();
  spans_.start_sweep_cycle();
  spans_.finish_sweep();
}

// ---- Weak handles, finalizers and cleanups.

void HeapState::check_object_start(const void* object, const char* what) {
  const ObjectRef ref = ObjectRef::of(object);
  if (ref.object() != object) {
    throw UsageError(std::string("tricolor: ") + what + " was given a pointer into the middle of an object of type " +
                     type_name(ref) + ". Pass the pointer Heap::make returned (not one to a base class at another "
                     "address, or to a member).");
  }
}

WeakCell* HeapState::weak_cell(Mutator& m, const void* object) {
  check_object_start(object, "a weak handle");
  if (WeakCell* cell = specials_.find_weak(object)) return cell;
  void* p;
  {
    // The allocation is a safepoint: the object stays rooted over it.
    Mutator::ConstructionRoot rooted(m, object);
    p = m.allocate(sizeof(WeakCell), span_class_for<WeakCell>(sizeof(WeakCell)));
  }
  auto* cell = ::new (p) WeakCell();
  cell->target.store(object, std::memory_order_relaxed);  // published by the store of the cell
  cell->heap = this;
  // Another thread may have given the object a cell meanwhile; then ours is
  // garbage, never handed out.
  return specials_.attach_weak(object, cell);
}

const void* HeapState::weak_target(const WeakCell& cell) {
  Mutator::current(heap_);  // throws if the thread may not read this heap
  // Only a stop of the world changes sweepgen, and this thread is running.
  const std::uint32_t sg = spans_.sweepgen();
  const void* target = sweep_done_gen_.load(std::memory_order_acquire) == sg
                           ? cell.target.load(std::memory_order_acquire)
                           : specials_.weak_target_while_sweeping(cell, sg);
  // While marking, an object handed out from a weak handle is shaded, as
  // the deletion barrier shades a pointer loaded from a field that is then
  // overwritten: it may have been unreachable when marking began, and the
  // snapshot would not include it (Go's weak.Pointer.Value does the same).
  if (target != nullptr && barriers::barrier_enabled()) barriers::shade_pair(nullptr, target);
  return target;
}

void HeapState::set_finalizer(const void* object, std::function<void(void*)> fn) {
  check_object_start(object, "set_finalizer");
  finalizers_.start();
  specials_.set_finalizer(object, std::move(fn));
  // The scan of specials at mark start may have missed this one: keep
  // what its finalizer will need (Go's addfinalizer scans the object).
  shade_children_while_marking(object);
}

bool HeapState::clear_finalizer(const void* object) {
  check_object_start(object, "clear_finalizer");
  return specials_.clear_finalizer(object);
}

void HeapState::add_cleanup(const void* object, std::function<void()> fn, const void* keep) {
  check_object_start(object, "add_cleanup");
  if (keep == object) {
    throw UsageError("tricolor: add_cleanup was given the object itself as the cleanup's argument; the argument is "
                     "kept alive until the cleanup runs, so the object would never die. Pass what the cleanup needs "
                     "(a file descriptor, an ID) instead.");
  }
  finalizers_.start();
  specials_.add_cleanup(object, std::move(fn), keep);
  // As for a finalizer: the argument must outlive this cycle too, though
  // the caller may drop it before its roots are scanned (Go's addCleanup).
  if (keep != nullptr && marking_.load(std::memory_order_relaxed)) {
    Marker marker(spans_, pool_);
    marker.mark_root(keep);
    marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
  }
}

// The calling thread is attached and running, and the phase changes only
// with the world stopped: marking_ cannot change during the call, and the
// grey objects are in the pool before the thread's next safepoint, which
// mark termination waits for.
void HeapState::shade_children_while_marking(const void* object) {
  if (!marking_.load(std::memory_order_relaxed)) return;
  const ObjectRef ref = ObjectRef::of(object);
  Marker marker(spans_, pool_);
  marker.scan_children(ref.cell, ref.span);
  marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
  mark_work_.fetch_add(marker.work_done(), std::memory_order_relaxed);
}

void HeapState::mark_special_roots(Marker& marker) {
  specials_.mark_roots(marker);
  finalizers_.mark_roots(marker);
}

}  // namespace tricolor::gc
