// Uses the installed library the way a program does, and checks the result.
#include <cstdio>

#include <tricolor/tricolor.hpp>

struct Node : tricolor::Object {
  tricolor::Member<Node> next;
  int value = 0;
  void trace(tricolor::Visitor& v) const { v(next); }
};

int main() {
  tricolor::Heap heap;
  tricolor::ThreadScope attach{heap};
  tricolor::Root<Node> head = heap.make<Node>();
  Node* tail = head;
  for (int i = 1; i < 1000; ++i) {
    tail->next = heap.make<Node>();
    tail = tail->next;
    tail->value = i;
  }
  for (int i = 0; i < 100000; ++i) heap.make<Node>();  // garbage
  heap.collect();
  long sum = 0;
  for (const Node* n = head; n != nullptr; n = n->next) sum += n->value;
  if (sum != 999L * 1000 / 2 || heap.mem_stats().heap_objects != 1000) {
    std::puts("consumer: the collector lost or kept the wrong objects");
    return 1;
  }
  std::puts("consumer: OK");
  return 0;
}
