// Barrier entries from threads that are not the marking heap's mutators
// (issue 20, hole 3). A GlobalRoot may be written by any thread; the shade
// of the value it overwrites must reach the heap before its marking ends,
// though no handshake of that heap reaches the writing thread.
#include <catch2/catch.hpp>

#include <thread>

#include "interleave_util.hpp"

using namespace tricolor;
using tricolor::interleave::Gate;
using tricolor::interleave::Point;

namespace {
struct Leaf : test::Tracked<Leaf> {};
struct Other : Object {};
}  // namespace

namespace {

// The interleaving: the thread's roots are greyed (it holds nothing), it
// then takes the object from a GlobalRoot into a Root (no barrier: a
// thread's own roots are scanned once), and `clear` empties the GlobalRoot
// before the collector scans the global roots. Only the deletion barrier
// of that clear keeps the object.
template <class Clear>
void check_overwrite_before_global_scan(Heap& heap, Clear clear) {
  ThreadScope attach{heap};
  GlobalRoot<Leaf> global = heap.make<Leaf>();
  Leaf::destroyed = 0;

  Gate globals(Point::kBeforeGlobalRoots, &heap);
  std::thread collector([&] { heap.collect(); });
  {
    BlockingScope blocked{heap};
    globals.await_arrival();
  }
  heap.safepoint();  // greys this thread's roots: none
  Root<Leaf> taken = global.get();
  clear(global);
  {
    BlockingScope blocked{heap};
    globals.release();
    collector.join();
  }
  CHECK(Leaf::destroyed == 0);  // `taken` still holds it
  CHECK(taken.get() != nullptr);
}

}  // namespace

TEST_CASE("a GlobalRoot cleared by a thread attached to no heap shades what it held") {
  Heap heap(test::quiet_options());
  check_overwrite_before_global_scan(heap, [](GlobalRoot<Leaf>& global) {
    // The thread ends with whatever its barrier buffered: nothing may wait there.
    std::thread([&] { global = nullptr; }).join();
  });
}

TEST_CASE("a GlobalRoot cleared by a thread of another heap shades what it held") {
  Heap heap(test::quiet_options());
  Heap other(test::quiet_options());
  test::Signal cleared;
  test::Signal done;
  std::thread writer;
  check_overwrite_before_global_scan(heap, [&](GlobalRoot<Leaf>& global) {
    writer = std::thread([&] {
      ThreadScope in_other{other};
      other.make<Other>();
      global = nullptr;  // `heap` has no handshake that reaches this thread
      cleared.set();
      done.wait();  // running, in a heap that does not collect: nothing flushes
    });
    cleared.wait();
  });
  done.set();
  writer.join();
}

TEST_CASE("a GlobalRoot cleared by a thread inside a BlockingScope shades what it held") {
  // The thread is attached to the heap, but blocking: it flushed on the
  // way in and the heap asks it nothing more, so it must not buffer.
  Heap heap(test::quiet_options());
  test::Signal attached;
  test::Signal cleared;
  test::Signal done;
  GlobalRoot<Leaf>* target = nullptr;
  test::Signal target_known;
  std::thread writer([&] {
    ThreadScope attach{heap};
    BlockingScope blocked{heap};
    attached.set();
    target_known.wait();
    *target = nullptr;
    cleared.set();
    done.wait();
  });
  attached.wait();
  check_overwrite_before_global_scan(heap, [&](GlobalRoot<Leaf>& global) {
    target = &global;
    target_known.set();
    cleared.wait();
  });
  done.set();
  writer.join();
}
