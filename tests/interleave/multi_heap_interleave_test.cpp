// A thread attached to several heaps (issue 20, hole 2). While it waits in
// one heap it must not count as running in another, and a heap it never
// uses must still get its answers. Each test detects a hang through a gate
// at the end of the cycle that must finish (a minute, then it stops the
// program naming the point).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "interleave_util.hpp"

using namespace tricolor;
using tricolor::interleave::Gate;
using tricolor::interleave::Point;

namespace {
struct Cell : Object {};
}  // namespace

TEST_CASE("a thread that waits for a collection of one heap does not hold up another heap's stop") {
  Heap a(test::quiet_options());
  Heap b(test::quiet_options());
  Gate a_begins(Point::kSweepTermination, &a);
  test::Signal attached;
  std::thread waiter([&] {
    ThreadScope in_a{a};
    ThreadScope in_b{b};
    attached.set();
    a.collect();  // waits in heap a until the test lets a's collector go
  });
  attached.wait();
  a_begins.await_arrival();  // a's cycle is the one `waiter` waits for

  // Heap b stops its world twice a cycle; `waiter` is attached to b and
  // running nowhere: it must count as blocking in b.
  Gate b_swept(Point::kSweepDone, &b);
  std::thread collector_b([&] { b.collect(); });
  b_swept.await_arrival();
  b_swept.release();
  collector_b.join();
  CHECK(b.gc_stats().num_gc == 1);

  a_begins.release();
  waiter.join();
  CHECK(a.gc_stats().num_gc == 1);
}

TEST_CASE("two threads each attached to two heaps, each collecting its own, do not deadlock") {
  Heap a(test::quiet_options());
  Heap b(test::quiet_options());
  // Both cycles are held at their start until both threads wait in them:
  // each thread then waits in one heap while attached to the other.
  Gate a_begins(Point::kSweepTermination, &a);
  Gate b_begins(Point::kSweepTermination, &b);
  auto worker = [&](Heap& mine) {
    ThreadScope in_a{a};
    ThreadScope in_b{b};
    for (int i = 0; i < 1000; ++i) mine.make<Cell>();
    mine.collect();
  };
  std::thread on_a(worker, std::ref(a));
  std::thread on_b(worker, std::ref(b));
  a_begins.await_arrival();
  b_begins.await_arrival();
  Gate a_swept(Point::kSweepDone, &a);
  Gate b_swept(Point::kSweepDone, &b);
  a_begins.release();
  b_begins.release();
  a_swept.await_arrival();
  b_swept.await_arrival();
  a_swept.release();
  b_swept.release();
  on_a.join();
  on_b.join();
  CHECK(a.gc_stats().num_gc == 1);
  CHECK(b.gc_stats().num_gc == 1);
}

TEST_CASE("a heap that a thread is attached to but never uses still stops it") {
  Heap a(test::quiet_options());
  Heap b(test::quiet_options());
  std::atomic<bool> done{false};
  test::Signal attached;
  std::thread busy_in_a([&] {
    ThreadScope in_a{a};
    ThreadScope in_b{b};
    attached.set();
    // Polls a's safepoints only: b's requests must reach it through them.
    while (!done.load(std::memory_order_relaxed)) a.make<Cell>();
  });
  attached.wait();
  Gate b_swept(Point::kSweepDone, &b);
  std::thread collector_b([&] { b.collect(); });
  b_swept.await_arrival();
  b_swept.release();
  collector_b.join();
  done = true;
  busy_in_a.join();
  CHECK(b.gc_stats().num_gc == 1);
}
