// The collector from a user's side: a small "compiler IR" of basic blocks
// whose successor edges form cycles, a function table held by a GlobalRoot,
// and a temporary graph dropped on the floor. collect() frees exactly what
// nothing reaches, destructors included, and mem_stats() shows it. Then two
// threads "compile" for a while, replacing functions in a shared cache, and
// the collector keeps up beside them; gc_stats() gives its pauses.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <tricolor/tricolor.hpp>

using tricolor::Array;
using tricolor::GlobalRoot;
using tricolor::Member;
using tricolor::Object;
using tricolor::Root;
using tricolor::ThreadScope;
using tricolor::Visitor;

// A basic block: successors (a cyclic graph) and a name (a std::string, so
// the block has a destructor that the sweeper runs when the block dies).
struct Block : Object {
  static inline std::atomic<int> destroyed{0};  // destructors run on the sweeping thread
  std::string name;
  Member<Block> taken, fallthrough;
  explicit Block(std::string n) : name(std::move(n)) {}
  ~Block() { ++destroyed; }
  void trace(Visitor& v) const {
    v(taken);
    v(fallthrough);
  }
};

struct Function : Object {
  Member<Block> entry;
  Member<Array<Member<Block>>> blocks;
  void trace(Visitor& v) const {
    v(entry);
    v(blocks);
  }
};

// A loop of n blocks: b0 -> b1 -> ... -> b(n-1) -> b0, each also branching back to b0.
Function* make_loop(tricolor::Heap& heap, const std::string& name, std::size_t n) {
  Root<Function> f = heap.make<Function>();
  f->blocks = heap.make_array<Member<Block>>(n);
  for (std::size_t i = 0; i < n; ++i) (*f->blocks)[i] = heap.make<Block>(name + ".b" + std::to_string(i));
  for (std::size_t i = 0; i < n; ++i) {
    (*f->blocks)[i]->fallthrough = (*f->blocks)[(i + 1) % n];
    (*f->blocks)[i]->taken = (*f->blocks)[0];
  }
  f->entry = (*f->blocks)[0];
  return f;
}

void print(const char* when, tricolor::Heap& heap) {
  const tricolor::MemStats s = heap.mem_stats();
  std::uint64_t longest = 0;
  for (const tricolor::Pause& p : heap.gc_stats().pauses) longest = std::max(longest, p.total_ns);
  std::printf("%-24s objects %7llu  heap %6.2f MiB  collections %3u  paused %.2f ms (longest %.0f us)  "
              "blocks destroyed %d\n",
              when, (unsigned long long)s.heap_objects, s.heap_alloc / 1048576.0, s.num_gc, s.pause_total_ns / 1e6,
              longest / 1e3, Block::destroyed.load());
}

int main() {
  tricolor::Heap heap;                 // GOGC, GOMEMLIMIT and GODEBUG are read here, as Go reads them
  tricolor::ThreadScope attach{heap};  // this thread may allocate and hold Roots

  GlobalRoot<Function> kept = make_loop(heap, "main", 1000);  // any thread may hold a GlobalRoot
  {
    Root<Function> scratch = make_loop(heap, "tmp", 50000);  // dies when the scope ends
    print("two functions built", heap);
  }
  heap.collect();
  print("after collect()", heap);

  // Churn: many short-lived functions; the heap collects by itself, beside
  // this thread, as it nears twice the live size of the last collection.
  for (int i = 0; i < 200; ++i) make_loop(heap, "f" + std::to_string(i), 500);
  print("after 200 temporaries", heap);

  std::size_t n = 0;
  const Block* b = kept->entry;
  do {
    ++n;
    b = b->fallthrough;
  } while (b != kept->entry.get());
  std::printf("the kept function still loops through %zu blocks, starting at %s\n", n, kept->entry->name.c_str());

  // Two threads compile functions of 100 to 1000 blocks into a shared cache
  // of 2048, each new one replacing an old one: some 150 MB of garbage
  // around a live set of about 70 MB.
  GlobalRoot<Array<Member<Function>>> cache = heap.make_array<Member<Function>>(2048);
  std::vector<std::thread> compilers;
  for (unsigned t = 0; t < 2; ++t) {
    compilers.emplace_back([&heap, &cache, t] {
      ThreadScope attach{heap};
      std::uint64_t rng = 0x9e3779b97f4a7c15u * (t + 1);
      for (int i = 0; i < 2500; ++i) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        (*cache)[rng % cache->size()] = make_loop(heap, "c" + std::to_string(i), 100 + rng % 900);
      }
    });
  }
  {
    tricolor::BlockingScope wait{heap};  // this thread does not touch the heap meanwhile
    for (std::thread& c : compilers) c.join();
  }
  print("after compiling 5000", heap);
  const tricolor::GcStats gs = heap.gc_stats();
  const std::vector<std::uint64_t> q = gs.pause_quantiles(5);
  std::uint64_t assist_ns = 0;
  for (const tricolor::CycleStats& c : gs.cycles) assist_ns += c.assist_cpu_ns;
  std::printf("%u cycles, %zu pauses: min %.0f us, median %.0f us, max %.0f us; assists %.1f ms of CPU\n",
              gs.num_gc, gs.pauses.size(), q[0] / 1e3, q[2] / 1e3, q[4] / 1e3, assist_ns / 1e6);
}
