#include "runner.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <tricolor/tricolor.hpp>

#include "model.hpp"

namespace tricolor::fuzz {
namespace {

// A traced node: what every operation builds graphs from. Its id names its
// model object; it never changes after construction, so trace() and
// finalizers may read it.
struct Node : Object {
  explicit Node(int i) : id(i) {}
  Member<Node> field[2];
  WeakMember<Node> weak;
  Ephemeron<Node, Node> pair;
  const int id;
  void trace(Visitor& v) const {
    v(field[0]);
    v(field[1]);
    v(weak);
    v(pair);
  }
};

// The objects this records are freed: it shows when the memory went back,
// where a weak handle shows when the object died (for an object with a
// finalizer, one cycle or more before).
inline std::atomic<bool> g_destroyed[kMaxOps];

// A Node with a destructor, so in spans of objects with headers, which the
// sweeper visits one object at a time (plain Nodes get typed spans).
struct Destructed final : Node {
  using Node::Node;
  ~Destructed() { g_destroyed[id].store(true, std::memory_order_relaxed); }
};

// Garbage to make the pacer start cycles of its own: unreachable at once,
// never scanned.
struct Blob final : Object {
  unsigned char bytes[240];
};

using Map = EphemeronMap<Node, Node>;

// Runs of each finalizer and cleanup, and whether one saw its object or
// argument other than it was given (written on the finalizer thread).
inline std::atomic<int> g_finalizer_runs[kMaxOps];
inline std::atomic<int> g_cleanup_runs[kMaxOps];
inline std::atomic<int> g_bad_finalizer_object{-1};

// The operation the calling thread runs, for the messages of fail().
thread_local std::size_t t_pc = 0;

[[noreturn]] void fail(const char* format, ...) {
  std::va_list args;
  va_start(args, format);
  std::fprintf(stderr, "api_fuzzer: model mismatch at operation %zu: ", t_pc);
  std::vfprintf(stderr, format, args);
  std::fprintf(stderr, "\n");
  va_end(args);
  std::abort();
}

Options heap_options() {
  // The environment's GODEBUG (gccheckmark, gcstoptheworld) applies; the
  // model needs every other cycle to come from the program.
  Options o = Options::from_environment();
  o.gc_percent = -1;
  o.forced_gc_period_ns = 0;
  o.stress_interval = 0;
  return o;
}

// One program's run. In order (the baton), one thread at a time touches the
// shared handles and the model; concurrently, each thread has handles of
// its own (own_slot), so the threads' objects never meet, and takes
// model_mu_ to change the model or read the whole of it, never while it
// calls into a heap (a thread waiting for the lock would hold up a stop of
// the world that the holder waits for).
class Run {
 public:
  explicit Run(const Program& program) : program_(program) {
    for (int h = 0; h < kHeaps; ++h) {
      heaps_[h] = std::make_unique<Heap>(heap_options());
      // Concurrent threads collect whenever they like.
      model_.automatic[h] = program.concurrent;
    }
    for (std::size_t i = 0; i < kMaxOps; ++i) {
      g_destroyed[i] = false;
      g_finalizer_runs[i] = 0;
      g_cleanup_runs[i] = 0;
    }
    g_bad_finalizer_object = -1;
  }

  void go() {
    std::vector<std::thread> threads;
    for (int t = 0; t < program_.threads; ++t) threads.emplace_back([this, t] { thread_main(t); });
    for (std::thread& t : threads) t.join();
    // Handles go before their heaps.
    for (int h = 0; h < kHeaps; ++h) {
      for (auto& g : globals_[h]) g.reset();
      for (auto& w : weak_roots_[h]) w = nullptr;
      map_[h].reset();
    }
    liveness_.reset();
    for (auto& heap : heaps_) heap.reset();
  }

 private:
  // What each thread owns: its ThreadScopes, its Roots, and the
  // BlockingScopes the program opened. Destroyed in reverse: out of the
  // BlockingScopes, then the Roots, then detached.
  struct Thread {
    int index;
    std::optional<ThreadScope> scope[kHeaps];
    std::optional<Root<Node>> local[kHeaps][kLocalSlots];
    std::optional<BlockingScope> blocking[kHeaps];
  };

  bool attached(int t, int h) const { return program_.attach[t] >> h & 1; }
  // Whether thread t may touch heap h now.
  // A BlockingScope blocks its thread in every heap it is attached to.
  bool usable(int t, int h) const {
    for (int b = 0; b < kHeaps; ++b) {
      if (blocking_[t][b]) return false;
    }
    return attached(t, h);
  }

  bool is_check(const Op& op) const { return op.code == OpCode::kCollect && (!program_.concurrent || (op.c & 1)); }
  // Whether thread t runs op, in a concurrent phase.
  bool runs_own(int t, const Op& op) const {
    const bool any_thread = op_only_moves_globals(op);
    return op.thread == t && (any_thread || usable(t, op.heap) || op.code == OpCode::kUnblock);
  }
  // The thread that runs op in order: its own if it may, else the first
  // that may; -1 if none may (it is skipped).
  int runner_of(const Op& op) const {
    const bool any_thread = op_only_moves_globals(op);
    if (any_thread || usable(op.thread, op.heap)) return op.thread;
    if (op.code == OpCode::kUnblock) return op.thread;
    for (int t = 0; t < program_.threads; ++t) {
      if (usable(t, op.heap)) return t;
    }
    return -1;
  }
  static bool op_only_moves_globals(const Op& op) {
    const bool moves = op.code == OpCode::kCopy || op.code == OpCode::kMove || op.code == OpCode::kDrop;
    return moves && is_global(op.a % kHandleSlots) && (op.code == OpCode::kDrop || is_global(op.b % kHandleSlots));
  }

  // Advances pc_ past skipped operations to the next one a thread runs,
  // or to the start of a concurrent phase.
  void advance() {
    while (pc_ < program_.ops.size()) {
      if (program_.concurrent && !is_check(program_.ops[pc_])) {
        turn_ = kAll;
        ++phase_;
        return;
      }
      const int t = runner_of(program_.ops[pc_]);
      if (t >= 0) {
        turn_ = t;
        return;
      }
      ++pc_;
    }
    turn_ = -1;
  }

  void thread_main(int t) {
    Thread self;
    self.index = t;
    for (int h = 0; h < kHeaps; ++h) {
      if (attached(t, h)) self.scope[h].emplace(*heaps_[h]);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (++started_ == program_.threads) {
        advance();
        cv_.notify_all();
      }
    }
    std::uint64_t ran_phase = 0;  // the last concurrent phase it ran
    while (true) {
      std::size_t begin, end;
      bool all;
      {
        // Waiting, the thread holds Roots but touches no heap: the
        // collector scans it on its behalf.
        std::optional<BlockingScope> waiting[kHeaps];
        for (int h = 0; h < kHeaps; ++h) {
          if (attached(t, h) && !self.blocking[h]) waiting[h].emplace(*heaps_[h]);
        }
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] {
          return started_ == program_.threads &&
                 (pc_ >= program_.ops.size() || turn_ == t || (turn_ == kAll && phase_ != ran_phase));
        });
        if (pc_ >= program_.ops.size()) break;
        all = turn_ == kAll;
        begin = pc_;
        end = pc_ + 1;
        if (all) {
          ran_phase = phase_;
          while (end < program_.ops.size() && !is_check(program_.ops[end])) ++end;
        }
      }
      for (std::size_t i = begin; i < end; ++i) {
        if (!all || runs_own(t, program_.ops[i])) {
          t_pc = i;
          execute(self, program_.ops[i]);
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (all && ++arrived_ < program_.threads) continue;
      arrived_ = 0;
      pc_ = end;
      advance();
      cv_.notify_all();
    }
  }

  // ---- Handles: a slot of an operation is a Root of the running thread or
  // a GlobalRoot, both of the operation's heap.

  Node* get(Thread& self, int h, int slot) {
    if (is_global(slot)) {
      auto& g = globals_[h][slot - kLocalSlots];
      return g ? g->get() : nullptr;
    }
    auto& r = self.local[h][slot];
    return r ? r->get() : nullptr;
  }
  void put(Thread& self, int h, int slot, Node* p) {
    if (is_global(slot)) {
      auto& g = globals_[h][slot - kLocalSlots];
      if (g) {
        *g = p;
      } else {
        g.emplace(p);
      }
    } else {
      auto& r = self.local[h][slot];
      if (r) {
        *r = p;
      } else {
        r.emplace(p);
      }
    }
  }
  // Copies or moves between handle slots with the handles' own
  // constructors and assignments where both are of one kind.
  template <class Handle>
  static void transfer(std::optional<Handle>& to, std::optional<Handle>& from, bool move) {
    if (!from) {
      if (to) *to = nullptr;
      return;
    }
    if (move) {
      if (to) {
        *to = std::move(*from);
      } else {
        to.emplace(std::move(*from));
      }
    } else if (to) {
      *to = *from;
    } else {
      to.emplace(*from);
    }
  }
  void transfer(Thread& self, int h, int to, int from, bool move) {
    if (is_global(to) && is_global(from)) {
      transfer(globals_[h][to - kLocalSlots], globals_[h][from - kLocalSlots], move);
    } else if (!is_global(to) && !is_global(from)) {
      transfer(self.local[h][to], self.local[h][from], move);
    } else {
      put(self, h, to, get(self, h, from));
      if (move) put(self, h, from, nullptr);
    }
  }

  // The slot an operation's byte names: concurrent threads each have
  // global and weak slots of their own.
  int own_slot(int t, std::uint8_t raw, int slots, int first) const {
    const int s = raw % slots;
    if (!program_.concurrent || s < first) return s;
    const int n = program_.threads;
    return first + (t + n * ((s - first) / n)) % (slots - first);
  }
  // Sets a model handle (which other threads may be reading).
  void set(int& handle, int id) {
    std::lock_guard<std::mutex> lock(model_mu_);
    handle = id;
  }

  // Checks a real read against the model's object id (kNone for null).
  void expect_id(const Node* got, int want, const char* what) {
    const int id = got != nullptr ? got->id : kNone;
    if (id != want) fail("%s read object %d, the model has %d", what, id, want);
  }
  // Checks a weak read of `target` (kNone for an empty handle), which
  // returned `got`, and tells the model what it learnt.
  void expect_weak(const Node* got, int target, const char* what) {
    if (target == kNone) return expect_id(got, kNone, what);
    std::lock_guard<std::mutex> lock(model_mu_);
    switch (model_.expect_weak(target)) {
      case WeakExpect::kAlive:
        if (got == nullptr) fail("%s of object %d read null; it must be alive", what, target);
        break;
      case WeakExpect::kDead:
        if (got != nullptr) fail("%s of object %d read it; it died", what, target);
        break;
      case WeakExpect::kEither:
        if (got == nullptr) model_.read_dead(target);
        break;
    }
    if (got != nullptr) expect_id(got, target, what);
  }

  void execute(Thread& self, const Op& op);
  void check(int h);
  void compare(int h);

  const Program& program_;
  std::unique_ptr<Heap> heaps_[kHeaps];
  std::optional<GlobalRoot<Node>> globals_[kHeaps][kGlobalSlots];
  WeakRoot<Node> weak_roots_[kHeaps][kWeakSlots];
  std::optional<GlobalRoot<Map>> map_[kHeaps];
  std::unique_ptr<WeakRoot<Node>[]> liveness_ = std::make_unique<WeakRoot<Node>[]>(kMaxOps);  // by object id
  int gc_percent_[kHeaps] = {-1, -1};
  bool blocking_[kMaxThreads][kHeaps] = {};
  Model model_;
  std::mutex model_mu_;

  // The baton: turn_ is the thread that runs operation pc_, or kAll for a
  // concurrent phase from pc_ to the next check, which phase_ counts.
  static constexpr int kAll = -2;
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
  std::size_t pc_ = 0;
  int turn_ = -1;
  std::uint64_t phase_ = 0;
  int arrived_ = 0;  // threads done with the phase
};

void Run::execute(Thread& self, const Op& op) {
  const int t = self.index;
  const int h = op.heap;
  Heap& heap = *heaps_[h];
  const int a = own_slot(t, op.a, kHandleSlots, kLocalSlots);
  const int b = own_slot(t, op.b, kHandleSlots, kLocalSlots);
  const int c = own_slot(t, op.c, kHandleSlots, kLocalSlots);
  const int w = own_slot(t, op.c, kWeakSlots, 0);
  Node* const pa = get(self, h, a);
  Node* const pb = get(self, h, b);
  int& ma = model_.handle(t, h, a);
  int& mb = model_.handle(t, h, b);
  switch (op.code) {
    case OpCode::kMake: {
      const bool destructed = op.b & 1;
      int id;
      {
        std::lock_guard<std::mutex> lock(model_mu_);
        if (model_.objects().size() >= kMaxOps) return;
        id = model_.make(h, destructed);
      }
      put(self, h, a, destructed ? heap.make<Destructed>(id) : heap.make<Node>(id));
      liveness_[id] = get(self, h, a);  // after it is rooted: this allocates
      set(ma, id);
      return;
    }
    case OpCode::kStore:
      if (pa == nullptr) return;
      pa->field[op.c & 1] = pb;
      set(model_.object(ma).field[op.c & 1], mb);
      return;
    case OpCode::kLoad: {
      if (pb == nullptr) return;
      Node* v = pb->field[op.c & 1].get();
      const int want = model_.object(mb).field[op.c & 1];
      expect_id(v, want, "a Member");
      put(self, h, a, v);
      set(ma, want);
      return;
    }
    case OpCode::kCopy:
    case OpCode::kMove:
      if (a == b) return;
      transfer(self, h, a, b, op.code == OpCode::kMove);
      set(ma, mb);
      if (op.code == OpCode::kMove) set(mb, kNone);
      return;
    case OpCode::kDrop:
      if (op.c & 1) {
        if (is_global(a)) {
          globals_[h][a - kLocalSlots].reset();
        } else {
          self.local[h][a].reset();
        }
      } else {
        put(self, h, a, nullptr);
      }
      set(ma, kNone);
      return;
    case OpCode::kWeakStore:
      if (pa == nullptr) return;
      pa->weak = pb;
      set(model_.object(ma).weak, mb);
      return;
    case OpCode::kWeakLoad: {
      if (pb == nullptr) return;
      Node* v = pb->weak.get();
      const int target = model_.object(mb).weak;
      expect_weak(v, target, "a WeakMember");
      put(self, h, a, v);
      set(ma, v != nullptr ? target : kNone);
      return;
    }
    case OpCode::kWeakRootSet:
      weak_roots_[h][w] = pa;
      set(model_.weak_root(h, w), ma);
      return;
    case OpCode::kWeakRootLock: {
      Root<Node> v = weak_roots_[h][w].lock();
      const int target = model_.weak_root(h, w);
      expect_weak(v.get(), target, "a WeakRoot");
      put(self, h, a, v.get());
      set(ma, v ? target : kNone);
      return;
    }
    case OpCode::kEphemeronSet: {
      if (pa == nullptr) return;
      pa->pair.set(pb, get(self, h, c));
      ModelObject& o = model_.object(ma);
      std::lock_guard<std::mutex> lock(model_mu_);
      o.key = mb;
      o.value = mb != kNone ? model_.handle(t, h, c) : kNone;
      return;
    }
    case OpCode::kEphemeronRead: {
      if (pb == nullptr) return;
      const ModelObject& o = model_.object(mb);
      const int key = o.key;
      const int value = o.value;
      if (op.c & 1) {
        Node* v = pb->pair.key();
        expect_weak(v, key, "an Ephemeron's key");
        put(self, h, a, v);
        set(ma, v != nullptr ? key : kNone);
        return;
      }
      Node* v = pb->pair.value();
      if (value == kNone || key == kNone) {
        expect_id(v, kNone, "an Ephemeron's value");
      } else {
        // Its value reads null exactly when its key does.
        expect_weak(v != nullptr ? pb->pair.key() : nullptr, key, "an Ephemeron's key (through value())");
        if (v != nullptr) expect_id(v, value, "an Ephemeron's value");
      }
      put(self, h, a, v);
      set(ma, v != nullptr ? value : kNone);
      return;
    }
    // An EphemeronMap is not for concurrent use: concurrent programs skip
    // these.
    case OpCode::kMapSet:
      if (pa == nullptr || program_.concurrent) return;
      if (!map_[h]) {
        map_[h].emplace(heap.make<Map>(heap));
        model_.map_exists[h] = true;
      }
      (*map_[h])->set(pa, pb);
      if (mb == kNone) {
        model_.map[h].erase(ma);
      } else {
        model_.map[h][ma] = mb;
        model_.map_has_table[h] = true;
      }
      return;
    case OpCode::kMapGet: {
      if (!map_[h] || pb == nullptr || program_.concurrent) return;
      Node* v = (*map_[h])->get(pb);
      const auto it = model_.map[h].find(mb);
      const int want = it != model_.map[h].end() ? it->second : kNone;
      expect_id(v, want, "an EphemeronMap");
      put(self, h, a, v);
      ma = want;
      return;
    }
    case OpCode::kMapReplace:
      if (program_.concurrent) return;
      if (map_[h]) {
        *map_[h] = heap.make<Map>(heap);
      } else {
        map_[h].emplace(heap.make<Map>(heap));
      }
      model_.map_exists[h] = true;
      model_.map_has_table[h] = false;
      model_.map[h].clear();
      return;
    case OpCode::kSetFinalizer: {
      if (pa == nullptr) return;
      const int id = ma;
      if (model_.object(id).finalizer != kNone) {
        try {
          heap.set_finalizer(pa, [](Node*) {});
        } catch (const UsageError&) {
          return;
        }
        fail("a second finalizer on object %d did not throw UsageError", id);
      }
      int fid;
      {
        std::lock_guard<std::mutex> lock(model_mu_);
        fid = model_.add_finalizer(id);
      }
      heap.set_finalizer(pa, [fid, id](Node* n) {
        if (n->id != id) g_bad_finalizer_object = fid;
        g_finalizer_runs[fid].fetch_add(1);
      });
      return;
    }
    case OpCode::kClearFinalizer: {
      if (pa == nullptr) return;
      const bool had = model_.object(ma).finalizer != kNone;
      if (heap.clear_finalizer(pa) != had) fail("clear_finalizer of object %d did not return %d", ma, had);
      set(model_.object(ma).finalizer, kNone);
      return;
    }
    case OpCode::kAddCleanup: {
      if (pa == nullptr) return;
      const int id = ma;
      if (!(op.c & 1)) {
        int cid;
        {
          std::lock_guard<std::mutex> lock(model_mu_);
          cid = model_.add_cleanup(id, kNone);
        }
        heap.add_cleanup(pa, [](int n) { g_cleanup_runs[n].fetch_add(1); }, cid);
        return;
      }
      if (pa == pb) {
        try {
          heap.add_cleanup(pa, [](Node*) {}, pb);
        } catch (const UsageError&) {
          return;
        }
        fail("a cleanup of object %d with itself as argument did not throw UsageError", id);
      }
      const int keep = mb;
      int cid;
      {
        std::lock_guard<std::mutex> lock(model_mu_);
        cid = model_.add_cleanup(id, keep);
      }
      heap.add_cleanup(pa, [cid, keep](Node* arg) {
        // The argument is intact until the cleanup ran.
        if ((arg != nullptr ? arg->id : kNone) != keep) g_bad_finalizer_object = kMaxOps + cid;
        g_cleanup_runs[cid].fetch_add(1);
      }, pb);
      return;
    }
    case OpCode::kCollect:
      // Concurrent phases collect while other threads run; checks end them.
      if (is_check(op)) {
        check(h);
      } else {
        heap.collect();
      }
      return;
    case OpCode::kSetGcPercent: {
      static constexpr int kPercents[] = {-1, 1, 5, 25, 100};
      const int percent = kPercents[op.a % 5];
      const int previous = heap.set_gc_percent(percent);
      std::lock_guard<std::mutex> lock(model_mu_);
      // Concurrent threads set it in no particular order.
      if (!program_.concurrent && previous != gc_percent_[h]) {
        fail("set_gc_percent returned %d, not %d", previous, gc_percent_[h]);
      }
      gc_percent_[h] = percent;
      if (percent >= 0) model_.automatic[h] = true;
      return;
    }
    case OpCode::kGarbage:
      for (int i = 0, n = 32 * (1 + op.a % 32); i < n; ++i) heap.make<Blob>();
      return;
    case OpCode::kBlocking:
      if (!self.blocking[h]) {
        self.blocking[h].emplace(heap);
        blocking_[t][h] = true;
      }
      return;
    case OpCode::kUnblock:
      self.blocking[h].reset();
      blocking_[t][h] = false;
      return;
    case OpCode::kSafepoint:
      heap.safepoint();
      return;
    case OpCode::kCount:
      break;
  }
  std::abort();  // every code returned above
}

// collect() and run_finalizers(), then compare with the model: at once if
// the model simulated every cycle, else at the fixed point.
void Run::check(int h) {
  Heap& heap = *heaps_[h];
  if (!model_.automatic[h]) {
    heap.collect();
    heap.run_finalizers();
    model_.cycle(h);
    compare(h);
    return;
  }
  // No cycle of the heap's own while the model catches up.
  heap.set_gc_percent(-1);
  bool changed = true;
  for (int i = 0; changed; ++i) {
    if (i > static_cast<int>(kMaxOps) + 2) fail("the model found no fixed point");
    heap.collect();
    heap.run_finalizers();
    changed = model_.cycle(h);
  }
  compare(h);
  heap.set_gc_percent(gc_percent_[h]);
  if (gc_percent_[h] < 0 && !program_.concurrent) model_.automatic[h] = false;
}

void Run::compare(int h) {
  Heap& heap = *heaps_[h];
  std::uint64_t expect_objects = 0;
  for (std::size_t id = 0; id < model_.objects().size(); ++id) {
    const ModelObject& o = model_.objects()[id];
    if (o.heap != h) continue;
    ++expect_objects;  // its weak cell, which liveness_ holds
    if (!o.freed) ++expect_objects;
    const bool dead = liveness_[id].get() == nullptr;
    if (dead != o.cleared) {
      fail("heap %d: object %zu's weak handle reads %s, the model says %s", h, id, dead ? "null" : "it",
           o.cleared ? "dead" : "alive");
    }
    if (o.has_destructor && g_destroyed[id].load() != o.freed) {
      fail("heap %d: object %zu was %sfreed, the model says %sfreed", h, id, o.freed ? "not " : "",
           o.freed ? "" : "not ");
    }
  }
  for (std::size_t fid = 0; fid < model_.finalizer_runs().size(); ++fid) {
    if (model_.finalizer_heap(static_cast<int>(fid)) != h) continue;
    const int runs = g_finalizer_runs[fid].load();
    if (runs != model_.finalizer_runs()[fid]) {
      fail("heap %d: finalizer %zu ran %d times, the model says %d", h, fid, runs, model_.finalizer_runs()[fid]);
    }
  }
  for (std::size_t cid = 0; cid < model_.cleanup_runs().size(); ++cid) {
    if (model_.cleanup_heap(static_cast<int>(cid)) != h) continue;
    const int runs = g_cleanup_runs[cid].load();
    if (runs != model_.cleanup_runs()[cid]) {
      fail("heap %d: cleanup %zu ran %d times, the model says %d", h, cid, runs, model_.cleanup_runs()[cid]);
    }
  }
  if (g_bad_finalizer_object >= 0) fail("finalizer or cleanup %d saw the wrong object", g_bad_finalizer_object.load());
  if (model_.map_exists[h]) expect_objects += 1 + model_.map_has_table[h];
  const std::uint64_t objects = heap.mem_stats().heap_objects;
  if (objects != expect_objects) {
    fail("heap %d holds %llu objects, the model %llu", h, static_cast<unsigned long long>(objects),
         static_cast<unsigned long long>(expect_objects));
  }
}

}  // namespace

void run(const Program& program) { Run(program).go(); }

}  // namespace tricolor::fuzz
