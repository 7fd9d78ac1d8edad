// The allocator on its own: allocate objects through a thread cache, let a
// "collector" (here: this program) mark the ones that are still reachable,
// sweep, and give the freed memory back.
#include <cstdio>
#include <random>
#include <vector>

#include <tricolor/alloc.hpp>  // the allocator layer: SpanHeap, ThreadCache, Segment, Span

using namespace tricolor::alloc;

static void print(const char* when, const SpanHeap& heap) {
  const AllocStats s = heap.stats();
  std::printf("%-22s objects %8llu  mallocs %8llu  frees %8llu  alloc %6.1f MiB  inuse %6.1f MiB  idle %6.1f MiB"
              "  sys %6.1f MiB  segments %llu\n",
              when, (unsigned long long)s.heap_objects, (unsigned long long)s.mallocs, (unsigned long long)s.frees,
              s.heap_alloc_bytes / 1048576.0, s.pages.inuse_bytes / 1048576.0, s.pages.idle_bytes / 1048576.0,
              s.pages.sys_bytes / 1048576.0, (unsigned long long)s.pages.segments);
}

int main() {
  SpanHeap heap;
  std::vector<void*> objects;
  {
    ThreadCache cache(heap);
    std::mt19937 rng(2026);
    // 400k objects: most small, some medium, a few large (> 32 KiB, a span each).
    for (int i = 0; i < 400000; ++i) {
      const std::size_t size = i % 4000 == 0 ? 40000 + rng() % 100000 : 8 + rng() % (i % 10 == 0 ? 2048 : 96);
      objects.push_back(cache.alloc(size, /*noscan=*/true, /*finalize=*/false));
    }
    cache.release_all();  // a collector does this for every thread when it stops the world
  }
  print("after allocation", heap);

  // A collector would now mark what is reachable. Here: every seventh object
  // of the first half survives and the second half all dies, so its
  // segments empty out and can be given back.
  for (std::size_t i = 0; i < objects.size() / 2; i += 7) {
    Span* span = Segment::span_of(objects[i]);
    span->try_mark(span->object_index(objects[i]));
  }
  heap.start_sweep_cycle();  // every span becomes unswept
  heap.finish_sweep();       // survivors = marked objects; empty spans return to the page heap
  print("after sweep", heap);

  std::printf("scavenged %.1f MiB of empty segments\n", heap.scavenge(0) / 1048576.0);
  print("after scavenge", heap);
}
