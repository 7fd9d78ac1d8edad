// GODEBUG=gccheckmark=1: after marking, mark again from the same roots with
// the world stopped, this time by a plain traversal with its own visited
// set, and require that everything it reaches was marked the first time.
// A miss is a collector bug (or a pointer the collector was never told
// about); it is reported with the parent's and the child's types.
#include <string>
#include <unordered_set>
#include <vector>

#include "heap_state.hpp"
#include "object_info.hpp"

namespace tricolor::gc {
namespace {

class CheckmarkVisitor final : public Visitor {
 public:
  explicit CheckmarkVisitor(alloc::SpanHeap& spans) : spans_(spans) {}

  void root(const void* object) {
    if (object == nullptr || !spans_.owns(object)) return;
    parent_ = nullptr;
    check(object);
  }
  // A root whose object must be marked but may not be traced.
  void root_untraced(const void* object) {
    if (object == nullptr || !spans_.owns(object)) return;
    parent_ = nullptr;
    const ObjectRef ref = ObjectRef::of(object);
    if (seen_.insert(ref.cell).second) check(object);  // marked, and not pushed for tracing
  }
  void run() {
    while (!stack_.empty()) {
      const ObjectRef ref = stack_.back();
      stack_.pop_back();
      parent_ = &ref;
      const TypeInfo* info = ref.info();
      const char* object = ref.cell + info->header_size;
      if (info->length != nullptr) {
        info->trace_range(object, 0, info->length(object), *this);
      } else {
        info->trace(object, *this);
      }
    }
  }

 private:
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
    const std::string from = parent_ == nullptr ? std::string("a root") : "an object of type " + type_name(*parent_);
    if (ref.span->state != alloc::Span::State::kInUse || !ref.span->is_allocated(ref.index)) {
      fatal("gccheckmark: " + from + " points to a freed object (a pointer kept across a safepoint without a root?)");
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
};

}  // namespace

void HeapState::verify_marking() {
  CheckmarkVisitor checker(spans_);
  for_each_root([&](const void* object) {
    checker.root(object);
    checker.run();
  });
  // Objects under construction must be marked; what their memory holds was
  // shaded conservatively, and trace() may not run on them yet.
  for (Mutator* m : mutators_) {
    for (const Mutator::ConstructionRoot* c = m->constructing_; c != nullptr; c = c->outer_) {
      checker.root_untraced(c->object_);
    }
  }
}

}  // namespace tricolor::gc
