#include "tricolor/gc/mutator.hpp"

#include <exception>
#include <mutex>
#include <string>

#include "heap_state.hpp"
#include "object_info.hpp"
#include "tricolor/barriers/write_barrier.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor::gc {
namespace {

// How many bytes a thread allocates between reports to the heap's trigger:
// small against the 4 MiB minimum heap, large against one allocation.
constexpr std::ptrdiff_t kBudgetBytes = 64 << 10;

}  // namespace

// One thread's mutators, one per heap it is attached to: the chain from
// `top` through Mutator::outer_. Only the thread itself changes the chain;
// `mu` is what lets other heaps' collectors walk it to poke the thread
// (poke_siblings). The lock order is: a heap's lock, then this.
struct ThreadMutators {
  std::mutex mu;
  Mutator* top = nullptr;     // guarded by mu; this thread reads it without
  unsigned blocking_depth = 0;  // BlockingScopes the thread is inside (its own)
};

namespace {
// Destroyed after every mutator of the thread: one made while a
// thread_local ThreadScope is constructed finishes before that scope does.
thread_local ThreadMutators t_mutators;
}  // namespace

Mutator::Mutator(const Heap& heap, HeapState& state)
    : heap_(&heap),
      state_(state),
      cache_(state.spans()),
      budget_(state.options().stress_interval != 0 ? -1 : kBudgetBytes),
      roots_(barriers::thread_roots()),
      thread_(t_mutators),
      outer_(t_current_) {
  if (lookup(heap) != nullptr) {
    throw UsageError("tricolor: this thread is already attached to this heap; a ThreadScope for a heap "
                     "may not be nested inside another one for the same heap.");
  }
  if (thread_.blocking_depth != 0) {
    throw UsageError("tricolor: a ThreadScope was created inside a BlockingScope. A blocking thread must not "
                     "touch any heap; attach the thread before the BlockingScope begins, or after it ends.");
  }
  roots_.attach(state.spans().owner_token());
  state_.attach(*this);
  {
    std::lock_guard<std::mutex> guard(thread_.mu);
    thread_.top = this;
  }
  t_current_ = this;
  barriers::invalidate_barrier_coverage();
}

Mutator::~Mutator() {
  if (t_current_ != this) {
    fatal("ThreadScopes of one thread must end in the reverse order of their creation");
  }
  t_current_ = outer_;
  {
    std::lock_guard<std::mutex> guard(thread_.mu);
    thread_.top = outer_;
  }
  roots_.detach(state_.spans().owner_token());
  state_.detach(*this);
  barriers::invalidate_barrier_coverage();
}

bool Mutator::thread_blocking() const noexcept { return thread_.blocking_depth != 0; }

bool Mutator::has_siblings() const noexcept {
  // Before attach has made this the top, and after detach has unmade it,
  // the chain from t_current_ holds only the others. Inside a BlockingScope
  // they are all blocking already.
  return !thread_blocking() && ((t_current_ != nullptr && t_current_ != this) || outer_ != nullptr);
}

void Mutator::block_siblings() {
  for (Mutator* m = t_current_; m != nullptr; m = m->outer_) {
    if (m != this) m->state_.enter_blocking(*m);
  }
}

void Mutator::unblock_siblings() {
  for (Mutator* m = t_current_; m != nullptr; m = m->outer_) {
    if (m != this) m->state_.leave_blocking(*m);
  }
}

void Mutator::poke_siblings() {
  std::lock_guard<std::mutex> guard(thread_.mu);
  for (Mutator* m = thread_.top; m != nullptr; m = m->outer_) {
    // seq_cst, as every request: before the collector reads the state.
    if (m != this) m->attention_.fetch_or(kSibling, std::memory_order_seq_cst);
  }
}

Mutator& Mutator::find(const Heap& heap) {
  if (Mutator* m = lookup(heap)) return *m;
  throw UsageError("tricolor: this thread is not attached to the heap it is using. Create a "
                   "tricolor::ThreadScope for the heap on this thread first.");
}

Mutator& Mutator::of_object(const void* object) {
  for (Mutator* m = t_current_; m != nullptr; m = m->outer_) {
    if (m->cache_.heap().owns(object)) return *m;
  }
  throw UsageError("tricolor: this thread is not attached to the heap of the object it is using. Create a "
                   "tricolor::ThreadScope for the heap on this thread first.");
}

PoolHandle Mutator::register_pool() { return state_.register_pool(); }

void Mutator::unregister_pool(const Heap& heap, PoolHandle h) { HeapState::of(heap).unregister_pool(h); }

PoolLocal& Mutator::pool_local_slow(PoolHandle h) {
  if (h.id >= pool_locals_.size()) {
    // Grown while this thread runs, and so not while its roots are scanned.
    pool_locals_.resize(h.id + 1);
  }
  PoolLocal& local = pool_locals_[h.id];
  // What an earlier pool with this id left here is not this pool's.
  local.recent_.clear();
  local.victims_.clear();
  local.generation_ = h.generation;
  return local;
}

void Mutator::respond() {
  if ((attention_.load(std::memory_order_relaxed) & kSibling) != 0) {
    // Cleared first: a request posted after this is seen at the next poll.
    attention_.fetch_and(~std::uint32_t{kSibling}, std::memory_order_seq_cst);
    for (Mutator* m = t_current_; m != nullptr; m = m->outer_) {
      if (m != this) m->state_.respond(*m);
    }
  }
  state_.respond(*this);
}
void Mutator::mark_new(void* cell) noexcept { state_.mark_new(cell); }
void Mutator::scan_constructed(const void* object) {
  // A constructor that threw leaves its object unconstructed for good:
  // trace() may never run on it, and what it points to is found the way
  // the final stop would find it. (An exception in flight for another
  // reason, around a make() that succeeded, only makes the scan
  // conservative.)
  state_.scan_constructed(object, std::uncaught_exceptions() == 0);
}
// Scopes nest (a blocking call made inside another); the outermost one
// changes the state, in every heap the thread is attached to.
// A blocking thread may still write GlobalRoots, but no heap asks it to
// flush its barrier buffer: whether it may buffer changes (write_barrier.hpp).
void Mutator::enter_blocking() {
  if (thread_.blocking_depth++ != 0) return;
  for (Mutator* m = t_current_; m != nullptr; m = m->outer_) m->state_.enter_blocking(*m);
  barriers::invalidate_barrier_coverage();
}
void Mutator::leave_blocking() {
  if (--thread_.blocking_depth != 0) return;
  for (Mutator* m = t_current_; m != nullptr; m = m->outer_) m->state_.leave_blocking(*m);
  barriers::invalidate_barrier_coverage();
}

void* Mutator::allocate_out_of_line(std::size_t bytes, alloc::SpanClass sc) { return allocate(bytes, sc); }

void Mutator::budget_exhausted() {
  const bool stress = state_.options().stress_interval != 0;
  const std::size_t spent = static_cast<std::size_t>(kBudgetBytes - budget_);
  budget_ = stress ? -1 : kBudgetBytes;
  state_.report_allocation(*this, spent);
}

void* Mutator::allocate_after_collecting(std::size_t bytes, alloc::SpanClass sc) {
  // The heap is at its limit: what a collection frees may be enough.
  // Another OutOfMemory from here goes to the caller.
  state_.collect(this, GcReason::kOutOfMemory);
  return bytes <= alloc::kMaxSmallSize ? cache_.alloc(sc)
                                       : cache_.heap().alloc_large(bytes, sc.noscan(), sc.finalize());
}

void Mutator::throw_array_too_large(std::size_t n, std::size_t element_size) {
  throw OutOfMemory("tricolor: make_array of " + std::to_string(n) + " elements of " + std::to_string(element_size) +
                    " bytes is larger than any heap can hold. Check the length computation.");
}

}  // namespace tricolor::gc
