// A user program: allocates through tricolor's allocator and its managed
// heap, checks what it got, and prints "consumer: OK" (exit 0) or the
// first thing that went wrong (exit 1).
#include <cstdio>
#include <cstring>
#include <vector>

#include <tricolor/alloc.hpp>
#include <tricolor/tricolor.hpp>

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("consumer: FAILED: %s\n", what);
    ++failures;
  }
}

bool zeroed(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

void allocator() {
  using namespace tricolor::alloc;
  SpanHeap heap;
  ThreadCache cache(heap);
  std::vector<void*> objects;
  for (int i = 0; i < 1000; ++i) {
    void* p = cache.alloc(100, /*noscan=*/true, /*finalize=*/false);
    check(zeroed(p, 100), "fresh object is zeroed");
    std::memset(p, 0xab, 100);  // dirty it, so reuse must zero it again
    objects.push_back(p);
  }
  cache.release_all();
  // Keep every tenth object, as if a collector had found it reachable.
  for (std::size_t i = 0; i < objects.size(); i += 10) {
    Span* span = Segment::span_of(objects[i]);
    check(span->try_mark(span->object_index(objects[i])), "mark a fresh object");
  }
  heap.start_sweep_cycle();
  heap.finish_sweep();
  check(heap.stats().heap_objects == 100, "the sweep keeps exactly the marked objects");

  for (int i = 0; i < 1000; ++i) check(zeroed(cache.alloc(100, true, false), 100), "reused object is zeroed");
  cache.release_all();
}

struct Node : tricolor::Object {
  tricolor::Member<Node> next;
  int value = 0;
  void trace(tricolor::Visitor& v) const { v(next); }
};

void managed_heap() {
  tricolor::Heap heap;
  tricolor::ThreadScope attach{heap};
  tricolor::Root<Node> list = heap.make<Node>();
  Node* tail = list.get();
  for (int i = 1; i < 100; ++i) {
    tail->next = heap.make<Node>();
    tail = tail->next;
    tail->value = i;
  }
  for (int i = 0; i < 1000; ++i) heap.make<Node>();  // garbage
  heap.collect();
  int n = 0;
  for (Node* p = list.get(); p != nullptr; p = p->next, ++n) check(p->value == n, "reachable list survives");
  check(n == 100, "the whole list survives a collection");
}

}  // namespace

int main() {
  allocator();
  managed_heap();
  if (failures != 0) return 1;
  std::puts("consumer: OK");
  return 0;
}
