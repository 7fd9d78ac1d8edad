// Objects under construction (Mutator::ConstructionRoot), as roots.
//
// The API promises that trace() runs only after the constructor returns:
// trace() may read data that the constructor has not written yet (an
// array's length, a container's size), and a mark worker would read it
// while the constructor writes it. So a root scan (on the thread itself, or
// by the collector while the thread is held) marks the object in
// construction black without queueing it, and defers its scan:
//
//   - if the constructor returns while marking goes on, the frame's end
//     scans the object (shade_children_while_marking), trace() and all
//     (conservatively if the constructor threw: the object stays
//     unconstructed, and trace() never runs on it);
//   - if marking is about to end first, the stop that ends it finds the
//     frame still deferred and scans the object's memory conservatively:
//     every word that points into an allocated object of this heap greys
//     that object. The world is stopped, so the constructor is not writing
//     meanwhile, and its later stores go through the write barrier.
//
// Either way what the object pointed to when its roots were scanned is
// greyed before marking ends; what it stores later is shaded by the
// barrier. An object allocated during this mark is black and never
// scanned: its frame needs nothing.
//
// A stop-the-world cycle has no concurrent phase: every frame is scanned
// conservatively at once.
#include "heap_state.hpp"
#include "marker.hpp"
#include "object_info.hpp"

namespace tricolor::gc {

void HeapState::mark_in_construction(const Mutator::ConstructionRoot& frame, Marker& marker) {
  const void* object = frame.object_;
  if (object == nullptr || !spans_.owns(object)) return;
  if (marker.mark_unscanned(object) && !ObjectRef::of(object).span->spanclass.noscan()) frame.scan_deferred_ = true;
}

void HeapState::scan_constructed(const void* object, bool constructed) {
  if (constructed) {
    shade_children_while_marking(object);
    return;
  }
  // As above, the thread runs and the phase cannot change meanwhile.
  if (!marking_.load(std::memory_order_relaxed)) return;
  const ObjectRef ref = ObjectRef::of(object);
  Marker marker(spans_, pool_);
  marker.scan_conservatively(ref.cell, ref.span->object_size(), spans_.segments());
  marked_bytes_.fetch_add(marker.marked_bytes(), std::memory_order_relaxed);
}

void HeapState::scan_objects_in_construction(Marker& marker, bool all) {
  std::vector<const alloc::Segment*> segments;
  for (Mutator* m : mutators_) {
    for (const Mutator::ConstructionRoot* c = m->constructing_; c != nullptr; c = c->outer_) {
      if (all) mark_in_construction(*c, marker);
      if (!c->scan_deferred_) continue;
      c->scan_deferred_ = false;
      if (segments.empty()) segments = spans_.segments();
      const ObjectRef ref = ObjectRef::of(c->object_);
      marker.scan_conservatively(ref.cell, ref.span->object_size(), segments);
    }
  }
}

}  // namespace tricolor::gc
