// Do weak handles and finalizers make the stop-the-world pauses longer?
// The same heap and mutator are collected twice over, in one run: once
// plain, once with a weak handle in every live node (1 000 000 weak cells
// and their specials) plus 100 000 finalizers pending in the queue. Weak
// clearing, the specials' marking and finalizer queueing all happen
// concurrently (gc/src/specials.hpp), so the pauses should not change.
//
//   build/release/perf/specials_pause [live nodes = 1000000] [cycles = 40] [pending finalizers = 100000]
//
// Prints one markdown table: per variant, the max and p99 of every pause,
// the max of each kind, and the mean mark phase (which does grow: the
// cells are marked, concurrently).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <tricolor/tricolor.hpp>

namespace {

using namespace tricolor;

struct Node : Object {
  Member<Node> next;
  WeakMember<Node> weak;
  long payload = 0;
  void trace(Visitor& v) const {
    v(next);
    v(weak);
  }
};

struct Garbage : Object {
  long payload[4] = {};
};

struct Result {
  std::uint64_t max_ns = 0, p99_ns = 0, max_sweep_term_ns = 0, max_mark_term_ns = 0, mean_mark_ns = 0;
  std::size_t pauses = 0, cycles = 0;
};

Result run(std::size_t live, int cycles, std::size_t pending, bool specials) {
  Options options = Options::from_environment();
  Heap heap(options);
  ThreadScope attach{heap};
  GlobalRoot<Array<Member<Node>>> nodes = heap.make_array<Member<Node>>(live);
  for (std::size_t i = 0; i < live; ++i) (*nodes)[i] = heap.make<Node>();
  std::atomic<bool> release{false};
  if (specials) {
    for (std::size_t i = 0; i < live; ++i) (*nodes)[i]->weak = (*nodes)[(i * 7919 + 1) % live].get();
    // Unreachable objects with finalizers: the first one to run blocks the
    // finalizer thread, so the rest stay queued (a root of every cycle).
    std::atomic<bool> first{true};
    for (std::size_t i = 0; i < pending; ++i) {
      heap.set_finalizer(heap.make<Garbage>(), [&](Garbage*) {
        if (first.exchange(false)) {
          // Waiting, it must not hold up the collector: a finalizer runs on
          // an attached thread, like any other.
          BlockingScope blocked{heap};
          while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      });
    }
  }
  heap.collect();  // queues the finalizers
  const std::uint64_t before = heap.gc_stats().num_gc;
  std::atomic<bool> done{false};
  std::thread mutator([&] {
    ThreadScope scope{heap};
    while (!done.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 1000; ++i) heap.make<Garbage>();
    }
  });
  for (int c = 0; c < cycles; ++c) heap.collect();
  done = true;
  {
    BlockingScope blocked{heap};
    mutator.join();
  }
  const GcStats gs = heap.gc_stats();
  Result r;
  std::vector<std::uint64_t> all;
  for (const Pause& p : gs.pauses) {
    if (p.cycle <= before) continue;
    all.push_back(p.total_ns);
    if (p.kind == Pause::Kind::kSweepTermination) r.max_sweep_term_ns = std::max(r.max_sweep_term_ns, p.total_ns);
    if (p.kind == Pause::Kind::kMarkTermination) r.max_mark_term_ns = std::max(r.max_mark_term_ns, p.total_ns);
  }
  std::sort(all.begin(), all.end());
  r.pauses = all.size();
  if (!all.empty()) {
    r.max_ns = all.back();
    r.p99_ns = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  std::uint64_t mark_total = 0;
  for (const CycleStats& c : gs.cycles) {
    if (c.number <= before) continue;
    mark_total += c.mark_termination_ns - c.mark_ns;
    ++r.cycles;
  }
  r.mean_mark_ns = r.cycles != 0 ? mark_total / r.cycles : 0;
  release = true;
  heap.run_finalizers();
  nodes = nullptr;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t live = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int cycles = argc > 2 ? std::atoi(argv[2]) : 40;
  const std::size_t pending = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100000;
  if (live == 0 || cycles <= 0) {
    std::fprintf(stderr, "usage: specials_pause [live nodes > 0] [cycles > 0] [pending finalizers]\n");
    return 2;
  }
  const Result plain = run(live, cycles, pending, false);
  const Result with = run(live, cycles, pending, true);
  std::printf("| heap | pauses | max STW | p99 STW | max sweep termination | max mark termination | mean mark phase |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& [name, r] : {std::pair<const char*, const Result&>{"plain", plain}, {"specials", with}}) {
    std::printf("| %s: %zu live nodes, %zu weak cells, %zu finalizers pending | %zu | %.1f µs | %.1f µs | %.1f µs | %.1f µs | %.1f ms |\n",
                name, live, std::string_view(name) == "plain" ? std::size_t{0} : live,
                std::string_view(name) == "plain" ? std::size_t{0} : pending - 1, r.pauses, r.max_ns / 1e3,
                r.p99_ns / 1e3, r.max_sweep_term_ns / 1e3, r.max_mark_term_ns / 1e3, r.mean_mark_ns / 1e6);
  }
  return 0;
}
