#include "tricolor/gc/mutator.hpp"

#include <string>

#include "heap_state.hpp"
#include "object_info.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor::gc {
namespace {

// How many bytes a thread allocates between reports to the heap's trigger:
// small against the 4 MiB minimum heap, large against one allocation.
constexpr std::ptrdiff_t kBudgetBytes = 64 << 10;

}  // namespace


Mutator::Mutator(const Heap& heap, HeapState& state)
    : heap_(&heap),
      state_(state),
      cache_(state.spans()),
      budget_(state.options().stress_interval != 0 ? -1 : kBudgetBytes),
      roots_(barriers::thread_roots()),
      outer_(t_current_) {
  if (lookup(heap) != nullptr) {
    throw UsageError("tricolor: this thread is already attached to this heap; a ThreadScope for a heap "
                     "may not be nested inside another one for the same heap.");
  }
  state_.attach(*this);
  ++roots_.attached_heaps;
  t_current_ = this;
}

Mutator::~Mutator() {
  if (t_current_ != this) {
    fatal("ThreadScopes of one thread must end in the reverse order of their creation");
  }
  t_current_ = outer_;
  --roots_.attached_heaps;
  state_.detach(*this);
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

void Mutator::respond() { state_.respond(*this); }
void Mutator::mark_new(void* cell) noexcept { state_.mark_new(cell); }
// Scopes nest (a blocking call made inside another); the outermost one
// changes the state.
void Mutator::enter_blocking() {
  if (blocking_depth_++ == 0) state_.enter_blocking(*this);
}
void Mutator::leave_blocking() {
  if (--blocking_depth_ == 0) state_.leave_blocking(*this);
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
