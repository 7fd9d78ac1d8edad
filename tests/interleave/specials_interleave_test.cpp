// Finalizers and cleanups set while a cycle marks (issue 20, hole 1). The
// specials are a root set scanned once, early in the mark phase; one added
// after that scan, by a thread whose own roots are not scanned yet and which
// then drops its last Root to the object, must still keep what it needs.
#include <catch2/catch.hpp>

#include <thread>

#include "interleave_util.hpp"

using namespace tricolor;
using tricolor::interleave::Gate;
using tricolor::interleave::Point;

namespace {

struct FinalizedLeaf : test::Tracked<FinalizedLeaf> {};
struct Holder : Object {
  Member<FinalizedLeaf> leaf;
  void trace(Visitor& v) const { v(leaf); }
};
struct CleanupArgument : test::Tracked<CleanupArgument> {};
struct Owner : Object {};

}  // namespace

TEST_CASE("a finalizer set after the specials were scanned keeps what its object reaches") {
  Heap heap(test::quiet_options());
  ThreadScope attach{heap};
  Root<Holder> holder = heap.make<Holder>();
  holder->leaf = heap.make<FinalizedLeaf>();
  FinalizedLeaf::destroyed = 0;

  Gate specials_scanned(Point::kAfterSpecialRoots, &heap);
  std::thread collector([&] { heap.collect(); });
  {
    // Blocking, so that the cycle's first stop does not wait for us; our
    // roots are not greyed yet when the collector parks.
    BlockingScope blocked{heap};
    specials_scanned.await_arrival();
  }
  std::atomic<bool> leaf_was_there{false};
  heap.set_finalizer(holder.get(), [&](Holder* h) { leaf_was_there = h->leaf.get() != nullptr; });
  holder = nullptr;  // the Holder is now reachable from nothing but its finalizer
  {
    BlockingScope blocked{heap};  // the collector greys our (empty) roots for us
    specials_scanned.release();
    collector.join();
  }
  // The Holder was found unreachable and queued for finalization; what it
  // points to must have survived with it.
  CHECK(FinalizedLeaf::destroyed == 0);
  heap.run_finalizers();
  CHECK(leaf_was_there);
  heap.collect();  // the finalized Holder is garbage now, and its leaf with it
  CHECK(FinalizedLeaf::destroyed == 1);
}

TEST_CASE("a cleanup added after the specials were scanned keeps its argument") {
  Heap heap(test::quiet_options());
  ThreadScope attach{heap};
  Root<Owner> owner = heap.make<Owner>();
  Root<CleanupArgument> argument = heap.make<CleanupArgument>();
  CleanupArgument::destroyed = 0;

  Gate specials_scanned(Point::kAfterSpecialRoots, &heap);
  std::thread collector([&] { heap.collect(); });
  {
    BlockingScope blocked{heap};
    specials_scanned.await_arrival();
  }
  std::atomic<int> runs{0};
  heap.add_cleanup(owner.get(), [&](CleanupArgument*) { ++runs; }, argument.get());
  argument = nullptr;  // kept by the cleanup alone
  {
    BlockingScope blocked{heap};
    specials_scanned.release();
    collector.join();
  }
  CHECK(CleanupArgument::destroyed == 0);
  owner = nullptr;
  heap.collect();  // the owner dies, and its cleanup runs with the argument alive
  heap.run_finalizers();
  CHECK(runs == 1);
  heap.collect();
  CHECK(CleanupArgument::destroyed == 1);
}
