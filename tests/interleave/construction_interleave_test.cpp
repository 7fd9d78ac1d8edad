// Objects under construction as roots (issue 20, hole 6). A constructor
// that reaches a safepoint while a cycle begins has its object among its
// thread's roots; trace() must still not run before the constructor
// returns, and what the object already points to must survive.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <thread>

#include "interleave_util.hpp"

using namespace tricolor;
using tricolor::interleave::Gate;
using tricolor::interleave::Point;

namespace {

struct Part : test::Tracked<Part> {};

// What the test tells the constructor, and what the constructor shows.
struct Script {
  Gate* own_roots_scanned;    // passed once this thread greyed its roots
  test::Signal in_constructor;
  test::Signal may_return;    // waited for as a blocking thread
  test::Signal returning;
  bool block_until_told;      // else return as soon as the roots are greyed
  bool throw_instead;         // leave by an exception instead of returning
};

struct Slow : Object {
  static inline std::atomic<int> traced_unconstructed{0};
  static inline std::atomic<int> traced{0};
  Member<Part> early;  // stored before the cycle begins
  std::atomic<bool> constructed{false};

  Slow(Heap& heap, Script& script) {
    early = heap.make<Part>();
    script.in_constructor.set();
    // Safepoints until this thread has greyed its roots, this object's
    // frame among them.
    while (script.own_roots_scanned->passed() == 0) heap.safepoint();
    if (script.block_until_told) script.may_return.wait_blocking(heap);
    script.returning.set();
    if (script.throw_instead) throw std::runtime_error("constructor failed");
    constructed.store(true, std::memory_order_release);
  }
  void trace(Visitor& v) const {
    if (!constructed.load(std::memory_order_acquire)) traced_unconstructed.fetch_add(1, std::memory_order_relaxed);
    traced.fetch_add(1, std::memory_order_relaxed);
    v(early);
  }
};

enum class Ending { kAfterTheCycle, kWhileMarking, kThrowWhileMarking };

// Runs make<Slow> on an attached thread while another thread collects.
// The constructor ends after the whole cycle, or while the collector is
// held before its first mark round with the object's roots greyed, by
// returning or by throwing.
void check_construction_during_a_cycle(Ending ending) {
  const bool block_until_told = ending == Ending::kAfterTheCycle;
  const bool throws = ending == Ending::kThrowWhileMarking;
  Heap heap(test::quiet_options());
  Slow::traced_unconstructed = 0;
  Slow::traced = 0;
  Part::destroyed = 0;
  std::thread::id maker_id;
  test::Signal maker_known;
  Script script{nullptr, {}, {}, {}, block_until_told, throws};
  std::unique_ptr<Gate> scanned;
  test::Signal gate_armed;
  std::thread maker([&] {
    ThreadScope attach{heap};
    maker_id = std::this_thread::get_id();
    maker_known.set();
    gate_armed.wait_blocking(heap);
    if (throws) {
      CHECK_THROWS_AS(heap.make<Slow>(heap, script), std::runtime_error);
      return;
    }
    Root<Slow> slow = heap.make<Slow>(heap, script);
    heap.collect();  // with the object constructed, it is traced like any other
    CHECK(slow->early.get() != nullptr);
  });
  maker_known.wait();
  scanned = std::make_unique<Gate>(Point::kAfterThreadRootScan, &heap, maker_id);
  script.own_roots_scanned = scanned.get();
  gate_armed.set();
  script.in_constructor.wait();
  Gate first_round(Point::kMarkRound, &heap);
  if (block_until_told) first_round.release();
  std::thread collector([&] { heap.collect(); });
  scanned->await_arrival();
  scanned->release();
  if (!block_until_told) {
    script.returning.wait();
    first_round.release();
  }
  collector.join();
  script.may_return.set();
  maker.join();
  CHECK(Slow::traced_unconstructed == 0);
  if (throws) {
    // Never constructed, never traced; what it pointed to outlived the
    // cycle it was found in, and is garbage now.
    CHECK(Slow::traced == 0);
    CHECK(Part::destroyed == 0);
    heap.collect();
    CHECK(Part::destroyed == 1);
  } else {
    CHECK(Slow::traced > 0);
    CHECK(Part::destroyed == 0);
  }
}

}  // namespace

TEST_CASE("an object whose constructor outlasts a whole mark phase is not traced and keeps what it points to") {
  check_construction_during_a_cycle(Ending::kAfterTheCycle);
}

TEST_CASE("an object whose constructor returns during marking is traced after it returns") {
  check_construction_during_a_cycle(Ending::kWhileMarking);
}

TEST_CASE("an object whose constructor throws during marking is never traced") {
  check_construction_during_a_cycle(Ending::kThrowWhileMarking);
}
