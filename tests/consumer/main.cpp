// Allocates through the installed library and checks what it got.
#include <cstdio>

#include <tricolor/tricolor.hpp>

int main() {
  tricolor::alloc::SpanHeap heap;
  tricolor::alloc::ThreadCache cache(heap);
  for (int i = 0; i < 1000; ++i) {
    auto* p = static_cast<unsigned char*>(cache.alloc(100, true, false));
    for (int k = 0; k < 100; ++k) {
      if (p[k] != 0) {
        std::puts("consumer: memory not zeroed");
        return 1;
      }
    }
  }
  cache.release_all();
  heap.start_sweep_cycle();
  heap.finish_sweep();
  if (heap.stats().heap_objects != 0) {
    std::puts("consumer: unmarked objects survived the sweep");
    return 1;
  }
  std::puts("consumer: OK");
  return 0;
}
