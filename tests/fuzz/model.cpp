#include "model.hpp"

#include <algorithm>

namespace tricolor::fuzz {

Model::Model() {
  objects_.reserve(kMaxOps);  // never moved: threads read their own objects unlocked
  std::fill(&local_[0][0][0], &local_[0][0][0] + sizeof(local_) / sizeof(int), kNone);
  std::fill(&global_[0][0], &global_[0][0] + sizeof(global_) / sizeof(int), kNone);
  std::fill(&weak_root_[0][0], &weak_root_[0][0] + sizeof(weak_root_) / sizeof(int), kNone);
}

int Model::make(int heap, bool has_destructor) {
  ModelObject o;
  o.heap = heap;
  o.has_destructor = has_destructor;
  objects_.push_back(o);
  return static_cast<int>(objects_.size()) - 1;
}

int Model::add_finalizer(int id) {
  const int fid = static_cast<int>(finalizer_runs_.size());
  finalizer_runs_.push_back(0);
  finalizer_heap_.push_back(objects_[id].heap);
  objects_[id].finalizer = fid;
  return fid;
}

int Model::add_cleanup(int id, int keep) {
  const int cid = static_cast<int>(cleanup_runs_.size());
  cleanup_runs_.push_back(0);
  cleanup_heap_.push_back(objects_[id].heap);
  objects_[id].cleanups.push_back({cid, keep});
  return cid;
}

std::vector<char> Model::reachable(int heap, bool specials) const {
  const std::size_t n = objects_.size();
  std::vector<char> marked(n, 0);
  std::vector<int> work;
  auto mark = [&](int id) {
    if (id != kNone && !marked[id]) {
      marked[id] = 1;
      work.push_back(id);
    }
  };
  // An object whose trace() runs: its strong fields, and (in the fixed
  // point below) its ephemeron.
  std::vector<char> traced(n, 0);
  auto trace = [&](int id) {
    traced[id] = 1;
    const ModelObject& o = objects_[id];
    mark(o.field[0]);
    mark(o.field[1]);
    // A cleanup's argument lives until the cleanup ran, which is after its
    // object is freed: while the object is reachable, certainly.
    for (const ModelCleanup& c : o.cleanups) mark(c.keep);
  };
  for (int t = 0; t < kMaxThreads; ++t) {
    for (int s = 0; s < kLocalSlots; ++s) mark(local_[t][heap][s]);
  }
  for (int s = 0; s < kGlobalSlots; ++s) mark(global_[heap][s]);
  if (specials) {
    for (std::size_t id = 0; id < n; ++id) {
      const ModelObject& o = objects_[id];
      if (o.heap != heap || o.freed) continue;
      // Unreachable objects with cleanups still hold their arguments.
      for (const ModelCleanup& c : o.cleanups) mark(c.keep);
      // Go's rule: what an object with a finalizer reaches, not itself.
      if (o.finalizer != kNone) trace(static_cast<int>(id));
    }
  }
  // Ephemerons reach their fixed point: a marked key marks its value.
  while (true) {
    while (!work.empty()) {
      const int id = work.back();
      work.pop_back();
      trace(id);
    }
    for (std::size_t id = 0; id < n; ++id) {
      const ModelObject& o = objects_[id];
      if (traced[id] && o.key != kNone && marked[o.key]) mark(o.value);
    }
    if (map_exists[heap]) {
      for (const auto& [key, value] : map[heap]) {
        if (marked[key]) mark(value);
      }
    }
    if (work.empty()) break;
  }
  return marked;
}

bool Model::cycle(int heap) {
  const std::vector<char> marked = reachable(heap, true);
  bool changed = false;
  for (std::size_t id = 0; id < objects_.size(); ++id) {
    ModelObject& o = objects_[id];
    if (o.heap != heap || o.freed || marked[id]) continue;
    changed = true;
    o.cleared = true;
    if (o.finalizer != kNone) {
      // Queued and run; the object lives until a cycle finds it again.
      ++finalizer_runs_[o.finalizer];
      o.finalizer = kNone;
      continue;
    }
    o.freed = true;
    for (const ModelCleanup& c : o.cleanups) ++cleanup_runs_[c.id];
    o.cleanups.clear();
  }
  return changed;
}

WeakExpect Model::expect_weak(int id) const {
  const ModelObject& o = objects_[id];
  if (o.cleared) return WeakExpect::kDead;
  if (!automatic[o.heap] || reachable(o.heap, false)[id]) return WeakExpect::kAlive;
  return WeakExpect::kEither;
}

}  // namespace tricolor::fuzz
