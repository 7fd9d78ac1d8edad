// gccheckmark must cover every root set the marker starts from. This suite
// links a collector built with TRICOLOR_TEST_SKIP_ROOT_SET, whose marker can
// be told to leave one root set out (root_sets.hpp). For each set, a child
// process keeps an object only through that set and collects with
// gccheckmark on: with the set left out the check must stop the program
// and name the set; with nothing left out the same program must run clean.
#include <catch2/catch.hpp>

#include <functional>
#include <future>
#include <string>

#include "child_process.hpp"
#include "gc_test_util.hpp"
#include "root_sets.hpp"

#ifndef TRICOLOR_TEST_SKIP_ROOT_SET
#error "root_ablation_test.cpp needs the collector built with TRICOLOR_TEST_SKIP_ROOT_SET"
#endif

using namespace tricolor;
using gc::RootSet;
using test::Counted;

namespace {

Options checkmark_options() {
  Options o = test::test_options();
  o.checkmark = true;
  return o;
}

// Runs `body` in a child whose marker leaves `skipped` out, and again with
// nothing left out; returns the first run's stderr.
std::string run_without(RootSet skipped, const std::function<void(Heap&)>& body) {
  const auto run = [&](RootSet set, bool& died) {
    return test::run_child(
        [&] {
          gc::g_test_skipped_root_set = set;
          Heap heap(checkmark_options());
          ThreadScope attach{heap};
          body(heap);
        },
        died);
  };
  bool died = false;
  const std::string complete = run(RootSet::kNone, died);
  INFO(complete);
  CHECK_FALSE(died);
  const std::string err = run(skipped, died);
  CHECK(died);
  return err;
}

}  // namespace

TEST_CASE("root ablation: gccheckmark catches a marker that skips the pools, and names them") {
  const std::string err = run_without(RootSet::kPools, [](Heap& heap) {
    Pool<Counted> pool{heap};
    pool.put(heap.make<Counted>(1));
    heap.collect();
  });
  CHECK_THAT(err, Catch::Contains("gccheckmark: marking missed a reachable object of type tricolor::test::Counted, "
                                  "reached from a pool"));
}

TEST_CASE("root ablation: gccheckmark catches a marker that skips weak cells, and names them") {
  const std::string err = run_without(RootSet::kWeakCells, [](Heap& heap) {
    Root<Counted> object = heap.make<Counted>(1);
    WeakRoot<Counted> weak{object.get()};
    weak = nullptr;  // the cell stays, held by its object's special only
    heap.collect();
    CHECK(object->value == 1);
  });
  // A weak cell has no pointers the collector traces, and no header.
  CHECK_THAT(err, Catch::Contains("gccheckmark: marking missed a reachable object of type a 16-byte object without "
                                  "pointers, reached from the weak cells of objects with weak handles"));
}

TEST_CASE("root ablation: gccheckmark catches a marker that skips the children of objects with finalizers") {
  const std::string err = run_without(RootSet::kFinalizerChildren, [](Heap& heap) {
    Root<Counted> object = heap.make<Counted>(1);
    object->left = heap.make<Counted>(2);
    heap.set_finalizer(object.get(), [](Counted*) {});
    object = nullptr;  // unreachable: its finalizer will need its child
    heap.collect();
  });
  CHECK_THAT(err, Catch::Contains("gccheckmark: marking missed a reachable object of type tricolor::test::Counted, "
                                  "reached from an object of type tricolor::test::Counted (reachable from the "
                                  "children of an object with a finalizer)"));
}

TEST_CASE("root ablation: gccheckmark catches a marker that skips cleanups' arguments, and names them") {
  const std::string err = run_without(RootSet::kCleanupArguments, [](Heap& heap) {
    Root<Counted> object = heap.make<Counted>(1);
    heap.add_cleanup(object.get(), [](Counted*) {}, heap.make<Counted>(2));
    heap.collect();
  });
  CHECK_THAT(err, Catch::Contains("gccheckmark: marking missed a reachable object of type tricolor::test::Counted, "
                                  "reached from a cleanup's argument"));
}

TEST_CASE("root ablation: gccheckmark catches a marker that skips the finalizer queue, and names it") {
  const std::string err = run_without(RootSet::kFinalizerQueue, [](Heap& heap) {
    // A first finalizer holds the finalizer thread, so that the next one
    // stays queued through a collection.
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    Root<Counted> gate = heap.make<Counted>(0);
    heap.set_finalizer(gate.get(), [&](Counted*) {
      started.set_value();
      BlockingScope wait{heap};
      released.wait();
    });
    gate = nullptr;
    heap.collect();
    {
      BlockingScope wait{heap};
      started.get_future().wait();
    }
    Root<Counted> object = heap.make<Counted>(1);
    heap.set_finalizer(object.get(), [](Counted*) {});
    object = nullptr;
    heap.collect();  // queues its finalizer, behind the gate's
    heap.collect();  // with it in the queue
    release.set_value();
    heap.run_finalizers();
  });
  CHECK_THAT(err, Catch::Contains("gccheckmark: marking missed a reachable object of type tricolor::test::Counted, "
                                  "reached from the finalizer queue"));
}
