#include "heap_state.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include "marker.hpp"
#include "object_info.hpp"
#include "work_pool.hpp"

namespace tricolor::gc {
namespace {

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

constexpr std::uint64_t kHeapMinimum = 4 << 20;

}  // namespace

HeapState::HeapState(const Heap& heap, const Options& options)
    : heap_(heap),
      options_(options),
      spans_([&] {
        alloc::SpanHeapOptions o;
        o.max_heap_bytes = options.max_heap_bytes;
        o.on_dead = &HeapState::destroy_dead;
        return o;
      }()) {}

HeapState::~HeapState() = default;

// The sweeper's report of a dead object of a finalize span class: run its
// destructor, if its constructor ever returned.
void HeapState::destroy_dead(void*, void* cell) noexcept {
  const std::uintptr_t header = *static_cast<const std::uintptr_t*>(cell);
  if ((header & kConstructedBit) == 0) return;
  const auto* info = reinterpret_cast<const TypeInfo*>(header & ~kConstructedBit);
  info->destroy(static_cast<char*>(cell) + info->header_size);
}

void HeapState::attach(Mutator& m) {
  std::unique_lock<std::mutex> lock(mu_);
  // Joining in the middle of a stop-the-world would add a running thread
  // to a world the collector believes stopped.
  changed_.wait(lock, [&] { return !stop_requested_.load(std::memory_order_relaxed); });
  mutators_.push_back(&m);
}

void HeapState::detach(Mutator& m) {
  std::unique_lock<std::mutex> lock(mu_);
  m.state_value_ = Mutator::State::kParked;
  changed_.notify_all();
  changed_.wait(lock, [&] { return !stop_requested_.load(std::memory_order_relaxed); });
  // The cache goes back while no collection runs: its spans return to the
  // central lists as any other thread's would.
  m.cache_.release_all();
  mutators_.erase(std::find(mutators_.begin(), mutators_.end(), &m));
}

void HeapState::park(Mutator& m) {
  std::unique_lock<std::mutex> lock(mu_);
  m.state_value_ = Mutator::State::kParked;
  changed_.notify_all();
  changed_.wait(lock, [&] { return !stop_requested_.load(std::memory_order_relaxed); });
  m.state_value_ = Mutator::State::kRunning;
}

void HeapState::enter_blocking(Mutator& m) {
  std::lock_guard<std::mutex> lock(mu_);
  m.state_value_ = Mutator::State::kBlocking;
  changed_.notify_all();
}

void HeapState::leave_blocking(Mutator& m) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return !stop_requested_.load(std::memory_order_relaxed); });
  m.state_value_ = Mutator::State::kRunning;
}

void HeapState::stop_the_world(std::unique_lock<std::mutex>& lock, Mutator* self) {
  stop_requested_.store(true, std::memory_order_relaxed);
  changed_.wait(lock, [&] {
    return std::all_of(mutators_.begin(), mutators_.end(),
                       [&](const Mutator* m) { return m == self || m->state_value_ != Mutator::State::kRunning; });
  });
}

void HeapState::start_the_world(std::unique_lock<std::mutex>&) {
  stop_requested_.store(false, std::memory_order_relaxed);
  changed_.notify_all();
}

void HeapState::collect(Mutator* self, Reason reason) {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint32_t cycles_at_call = num_gc_;
  while (cycle_running_) {
    // Another thread is collecting; this one counts as stopped meanwhile.
    if (self != nullptr) self->state_value_ = Mutator::State::kParked;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !cycle_running_; });
    if (self != nullptr) self->state_value_ = Mutator::State::kRunning;
    // A cycle that started after our call already did what a trigger asks.
    if (reason == Reason::kTrigger && num_gc_ != cycles_at_call) return;
  }
  cycle_running_ = true;
  const std::uint64_t start = now_ns();
  stop_the_world(lock, self);

  // Sweep termination: every thread's cached spans go back, so that the
  // sweep below reaches every span. The previous cycle swept everything.
  for (Mutator* m : mutators_) m->cache_.release_all();

  mark();
  if (options_.checkmark) verify_marking();

  // Mark termination, then sweep: every span becomes unswept, and sweeping
  // frees what marking left white (running destructors on the way).
  spans_.start_sweep_cycle();
  spans_.finish_sweep();

  const alloc::AllocStats after = spans_.stats();
  if (after.zombies != 0) fatal("sweep found marked objects that were never allocated (a collector bug)");
  const std::uint64_t live = after.heap_alloc_bytes;
  trigger_bytes_.store(std::max(live, kHeapMinimum), std::memory_order_relaxed);
  allocated_since_cycle_.store(0, std::memory_order_relaxed);
  next_gc_ = live + std::max(live, kHeapMinimum);
  // Keep as many free pages as the heap will grow by before the next
  // cycle; give the rest back.
  spans_.scavenge(std::max(live, kHeapMinimum));

  ++num_gc_;
  if (reason == Reason::kForced) ++num_forced_gc_;
  pause_total_ns_ += now_ns() - start;
  cycle_running_ = false;
  start_the_world(lock);
}

void HeapState::mark() {
  WorkPool pool;
  Marker marker(spans_, pool);
  for_each_root([&](const void* object) { marker.mark_root(object); });
  marker.drain();
}

void HeapState::report_allocation(Mutator& m, std::size_t bytes) {
  if (options_.stress_interval != 0) {
    if ((stress_count_.fetch_add(1, std::memory_order_relaxed) + 1) % options_.stress_interval == 0) {
      collect(&m, Reason::kTrigger);
    }
    return;
  }
  const std::uint64_t total = allocated_since_cycle_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (total >= trigger_bytes_.load(std::memory_order_relaxed)) collect(&m, Reason::kTrigger);
}

MemStats HeapState::mem_stats(Mutator* self) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return !cycle_running_; });
  cycle_running_ = true;
  stop_the_world(lock, self);
  // Mallocs of a cached span are counted when it is given back.
  for (Mutator* m : mutators_) m->cache_.release_all();
  const alloc::AllocStats s = spans_.stats();
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
  out.next_gc = next_gc_;
  out.num_gc = num_gc_;
  out.num_forced_gc = num_forced_gc_;
  out.pause_total_ns = pause_total_ns_;
  cycle_running_ = false;
  start_the_world(lock);
  return out;
}

void HeapState::destroy_all() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!mutators_.empty()) {
    fatal("a Heap was destroyed while " + std::to_string(mutators_.size()) +
          " thread(s) were still attached to it; end every ThreadScope of a heap before destroying it");
  }
  // No mark bit is set: the sweep frees every object, running destructors.
  spans_.start_sweep_cycle();
  spans_.finish_sweep();
}

}  // namespace tricolor::gc
