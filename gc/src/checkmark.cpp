// GODEBUG=gccheckmark=1: after marking, mark again from the same roots with
// the world stopped, this time by a plain traversal with its own visited
// set, and require that everything it reaches was marked the first time.
// It starts from every root set the marker starts from (root_sets.hpp):
// threads' and global roots, specials, the finalizer queue and pools; the
// ephemeron rule is checked as the traversal meets ephemerons. A miss is a
// collector bug (or a pointer the collector was never told about); it is
// reported with the parent's and the child's types and the root set it
// was reached from. A pointer to a freed object is reported as what it
// most likely is: the user's pointer kept across a safepoint.
#include <string>
#include <unordered_set>
#include <vector>

#include "heap_state.hpp"
#include "object_info.hpp"
#include "root_sets.hpp"

namespace tricolor::gc {
namespace {

class CheckmarkVisitor final : public Visitor {
 public:
  explicit CheckmarkVisitor(alloc::SpanHeap& spans) : spans_(spans) {}

  // Checks `object` and what it reaches, reached from `set`.
  void root(RootSet set, const void* object) {
    if (object == nullptr || !spans_.owns(object)) return;
    set_ = set;
    parent_ = nullptr;
    check(object);
    run();
  }
  // A root whose object must be marked but may not be traced yet (an
  // object under construction: what its memory held was shaded
  // conservatively).
  void root_untraced(RootSet set, const void* object) {
    if (object == nullptr || !spans_.owns(object)) return;
    set_ = set;
    parent_ = nullptr;
    const ObjectRef ref = ObjectRef::of(object);
    if (seen_.insert(ref.cell).second) check(object);  // marked, and not pushed for tracing
  }
  // Checks what `object` reaches, but not the object itself (the children
  // of an object with a finalizer).
  void children(RootSet set, const void* object) {
    set_ = set;
    const ObjectRef ref = ObjectRef::of(object);
    if (ref.span->spanclass.noscan()) return;
    scan(ref);
    run();
  }

 private:
  void run() {
    while (!stack_.empty()) {
      const ObjectRef ref = stack_.back();
      stack_.pop_back();
      scan(ref);
    }
  }
  void scan(const ObjectRef& ref) {
    parent_ = &ref;
    const TypeInfo* info = ref.info();
    const char* object = ref.cell + info->header_size;
    if (info->length != nullptr) {
      info->trace_range(object, 0, info->length(object), *this);
    } else {
      info->trace(object, *this);
    }
  }

  void visit(const void* object) override { check(object); }
  // The ephemeron rule: a value whose key is marked must be marked.
  void visit_ephemeron(const WeakCell* key_cell, const void* value) override {
    if (key_cell == nullptr) return;
    check(key_cell);
    const void* key = key_cell->target.load(std::memory_order_acquire);
    if (key == nullptr || value == nullptr) return;
    const ObjectRef ref = ObjectRef::of(key);
    if (ref.span->is_live(ref.index)) check(value);
  }

  void check(const void* object) {
    const ObjectRef ref = ObjectRef::of(object);
    const std::string from =
        parent_ == nullptr ? std::string(root_set_name(set_))
                           : "an object of type " + type_name(*parent_) + " (reachable from " + root_set_name(set_) + ")";
    if (ref.span->state != alloc::Span::State::kInUse || !ref.span->is_allocated(ref.index)) {
      const std::string type =
          ref.span->state == alloc::Span::State::kInUse ? freed_type_name(ref, ref.span->is_marked(ref.index)) : "";
      fatal("gccheckmark: " + from + " points to a freed object" + (type.empty() ? "" : " of type " + type) +
            ". Most likely a raw pointer to it was kept across a safepoint (an allocation, heap.safepoint()) "
            "without a Root, the object was freed there, and the pointer was then stored in the heap. Keep objects "
            "in a Root (or reachable from one) across safepoints.");
    }
    if (!ref.span->is_live(ref.index)) {
      fatal("gccheckmark: marking missed a reachable object of type " + type_name(ref) + ", reached from " + from);
    }
    if (seen_.insert(ref.cell).second && !ref.span->spanclass.noscan()) stack_.push_back(ref);
  }

  alloc::SpanHeap& spans_;
  std::unordered_set<const char*> seen_;
  std::vector<ObjectRef> stack_;
  const ObjectRef* parent_ = nullptr;
  RootSet set_ = RootSet::kRoots;
};

}  // namespace

void HeapState::verify_marking() {
  CheckmarkVisitor checker(spans_);
  // Objects under construction first: once seen, no later path traces them.
  for (Mutator* m : mutators_) {
    for (const Mutator::ConstructionRoot* c = m->constructing_; c != nullptr; c = c->outer_) {
      checker.root_untraced(RootSet::kRoots, c->object_);
    }
  }
  for_each_root([&](const void* object) { checker.root(RootSet::kRoots, object); });
  specials_.for_each_root([&](RootSet set, const void* p) {
    if (set == RootSet::kFinalizerChildren) {
      checker.children(set, p);
    } else {
      checker.root(set, p);
    }
  });
  finalizers_.for_each_root([&](const void* keep) { checker.root(RootSet::kFinalizerQueue, keep); });
  // Pools. A thread's root scan made what its pools held their victims and
  // greyed them (age_pools); what the thread put since, it could reach
  // while marking, from a Root, a Member (marked by the deletion half of
  // the barrier if it was since overwritten), a new object (black) or its
  // pools themselves, and so that is marked too. Every root scan is done
  // by mark termination, so every object in a live pool must be marked.
  // (Raw pointers held across a safepoint are the user's error, and a pool
  // adds no exception.) The parts of destroyed pools are dropped by the
  // next scan and never handed out again.
  std::lock_guard<std::mutex> guard(pools_mu_);
  for (Mutator* m : mutators_) {
    for (std::size_t id = 0; id < m->pool_locals_.size(); ++id) {
      const PoolLocal& local = m->pool_locals_[id];
      if (local.generation_ == 0 || pool_generations_[id] != local.generation_) continue;
      for (const void* p : local.recent_) checker.root(RootSet::kPools, p);
      for (const void* p : local.victims_) checker.root(RootSet::kPools, p);
    }
  }
}

}  // namespace tricolor::gc
