#include "tricolor/heap.hpp"

#include <mutex>

#include "heap_state.hpp"
#include "object_info.hpp"
#include "tricolor/root.hpp"

namespace tricolor {

Heap::Heap(const Options& options) : state_(std::make_unique<gc::HeapState>(*this, options)) {}

Heap::~Heap() {
  // Handles that outlive the heap must not be used: mark the global ones.
  {
    barriers::GlobalRoots& globals = barriers::global_roots();
    std::lock_guard<std::mutex> guard(globals.mu);
    globals.list.for_each([&](const barriers::RootNode& node) {
      if (node.object() != nullptr && state_->spans().owns(node.object())) {
        const_cast<barriers::GlobalRootNode&>(static_cast<const barriers::GlobalRootNode&>(node)).orphan();
      }
    });
  }
  state_->destroy_all();
}

void Heap::collect() {
  // A thread that is not attached may still ask for a collection.
  state_->collect(gc::Mutator::lookup(*this), GcReason::kForced);
}

void Heap::safepoint() {
  gc::Mutator::current(*this).safepoint();
}

MemStats Heap::mem_stats() {
  return state_->mem_stats(gc::Mutator::lookup(*this));
}

GcStats Heap::gc_stats() { return state_->gc_stats(); }
int Heap::set_gc_percent(int percent) { return state_->set_gc_percent(percent); }
std::int64_t Heap::set_memory_limit(std::int64_t limit) { return state_->set_memory_limit(limit); }

void Heap::set_finalizer_erased(const void* object, std::function<void(void*)> f) {
  gc::Mutator::current(*this);
  state_->set_finalizer(object, std::move(f));
}

bool Heap::clear_finalizer_erased(const void* object) {
  gc::Mutator::current(*this);
  return state_->clear_finalizer(object);
}

void Heap::add_cleanup_erased(const void* object, std::function<void()> fn, const void* keep) {
  gc::Mutator::current(*this);
  state_->add_cleanup(object, std::move(fn), keep);
}

void Heap::run_finalizers() { state_->run_finalizers(); }

namespace gc {

WeakCell* weak_cell(const void* object) {
  Mutator& m = Mutator::of_object(object);
  return m.heap_state().weak_cell(m, object);
}

const WeakCell* find_weak_cell(const void* object) {
  return Mutator::of_object(object).heap_state().find_weak_cell(object);
}

const void* weak_target(const WeakCell* cell) {
  return cell == nullptr ? nullptr : cell->heap->weak_target(*cell);
}

}  // namespace gc

ThreadScope::ThreadScope(Heap& heap) : mutator_(std::make_unique<gc::Mutator>(heap, *heap.state_)) {}

ThreadScope::~ThreadScope() = default;

BlockingScope::BlockingScope(Heap& heap) : mutator_(gc::Mutator::current(heap)) {
  mutator_.enter_blocking();
}

BlockingScope::~BlockingScope() { mutator_.leave_blocking(); }

}  // namespace tricolor
