// Typed spans: a traced type without a destructor has no header; its
// objects live in spans of their own kind, and the span tells the marker
// (and the error messages) what they are.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "gc_test_util.hpp"
#include "tricolor/alloc/segment.hpp"

using namespace tricolor;

namespace {

struct Blue;
// Two types of one size class, linked to each other.
struct Red : Object {
  Member<Blue> next;
  long value = 0;
  void trace(Visitor& v) const { v(next); }
};
struct Blue : Object {
  Member<Red> next;
  long value = 0;
  void trace(Visitor& v) const { v(next); }
};
// Throws from its constructor after storing a pointer.
struct Fragile : Object {
  Member<Red> held;
  Fragile(Heap& heap, bool fail) {
    held = heap.make<Red>();
    if (fail) throw std::runtime_error("constructor failed");
  }
  void trace(Visitor& v) const { v(held); }
};
struct WithDestructor : Object {
  Member<Red> held;
  std::string name = "kept";
  void trace(Visitor& v) const { v(held); }
};

static_assert(gc::kHeaderSize<Red> == 0 && gc::kHeaderSize<Blue> == 0 && gc::kHeaderSize<Fragile> == 0);
static_assert(gc::kHeaderSize<WithDestructor> == sizeof(void*));
static_assert(gc::kHeaderSize<Array<Member<Red>>> == sizeof(void*));

alloc::Span* span_of(const void* p) { return alloc::Segment::span_of(p); }

// A chain of n nodes alternating Red and Blue, values 0..n-1.
Red* chain(Heap& heap, long n) {
  Root<Red> head = heap.make<Red>();  // value 0
  Root<Red> red = head;
  for (long i = 1; i < n; i += 2) {
    Root<Blue> blue = heap.make<Blue>();
    blue->value = i;
    red->next = blue;
    if (i + 1 == n) break;
    Root<Red> following = heap.make<Red>();
    following->value = i + 1;
    blue->next = following;
    red = following;
  }
  return head;
}

long check_chain(const Red* red) {
  long n = 0;
  while (red != nullptr) {
    if (red->value != n) return -1;
    const Blue* blue = red->next;
    if (blue == nullptr) return n + 1;
    if (blue->value != n + 1) return -1;
    red = blue->next;
    n += 2;
  }
  return n;
}

}  // namespace

TEST_CASE("typed spans: each headerless type has spans of its own kind, other types keep header and shared spans") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  Root<Red> red = heap.make<Red>();
  Root<Blue> blue = heap.make<Blue>();
  Root<WithDestructor> other = heap.make<WithDestructor>();
  // 8-byte Member + 8-byte long: a 16-byte cell, as in Go.
  CHECK(span_of(red.get())->elem_size == 16);
  const std::uint32_t red_kind = span_of(red.get())->spanclass.kind();
  const std::uint32_t blue_kind = span_of(blue.get())->spanclass.kind();
  CHECK(red_kind != 0);
  CHECK(blue_kind != 0);
  CHECK(red_kind != blue_kind);
  CHECK(span_of(other.get())->spanclass.kind() == 0);
  // The same type always gets the same kind.
  Root<Red> red2 = heap.make<Red>();
  CHECK(span_of(red2.get())->spanclass.kind() == red_kind);
}

TEST_CASE("typed spans: two types of one size, interleaved, are traced through collections and die when dropped") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  const long n = test::kSanitized ? 20'001 : 200'001;
  Root<Red> kept = chain(heap, n);
  chain(heap, n);  // garbage, interleaved in the same size class
  for (int i = 0; i < 3; ++i) {
    heap.collect();
    CHECK(check_chain(kept) == n);
    CHECK(heap.mem_stats().heap_objects == static_cast<std::uint64_t>(n));
    // Garbage made between collections is reused, never mixed into the chain.
    chain(heap, 1001);
  }
  kept = nullptr;
  heap.collect();
  CHECK(heap.mem_stats().heap_objects == 0);
}

TEST_CASE("typed spans: a constructor that throws leaves a collectable object and a consistent heap") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  for (int i = 0; i < 100; ++i) {
    CHECK_THROWS_AS(heap.make<Fragile>(heap, true), std::runtime_error);
  }
  Root<Fragile> ok = heap.make<Fragile>(heap, false);
  heap.collect();
  // The failed objects and what they held are gone; the good one and its Red stay.
  CHECK(heap.mem_stats().heap_objects == 2);
  CHECK(ok->held != nullptr);
}

TEST_CASE("typed spans: a Member of a headerless object pointing into another heap is reported with both types") {
  bool died = false;
  const std::string err = test::run_child(
      [] {
        Heap a(test::test_options());
        Heap b(test::test_options());
        ThreadScope attach_a{a};
        ThreadScope attach_b{b};
        Root<Red> parent = a.make<Red>();
        parent->next = b.make<Blue>();
        a.collect();
      },
      died);
  CHECK(died);
  CHECK(err.find("another heap") != std::string::npos);
  CHECK(err.find("Red") != std::string::npos);
  CHECK(err.find("Blue") != std::string::npos);
}
