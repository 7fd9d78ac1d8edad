// Ephemerons settled at mark termination (issue 20, hole 5). An assist
// scans a pair while its key is white and hands the pair to the collector
// only after the collector's last concurrent ephemeron pass; meanwhile the
// key was marked. Nothing else is marked after that pass, so only a pass
// with the world stopped can see that the value must live.
#include <catch2/catch.hpp>

#include <thread>

#include "interleave_util.hpp"

using namespace tricolor;
using tricolor::interleave::Gate;
using tricolor::interleave::Point;

namespace {

struct Key : Object {};
struct Value : test::Tracked<Value> {};
struct Pair : Object {
  Ephemeron<Key, Value> entry;
  void trace(Visitor& v) const { v(entry); }
};

}  // namespace

TEST_CASE("a pair an assist hands over after the last concurrent ephemeron pass is settled") {
  Heap heap(test::quiet_options());
  GlobalRoot<Pair> pair;
  GlobalRoot<Key> handover;  // how the key reaches the thread that roots it
  {
    ThreadScope attach{heap};
    pair = heap.make<Pair>();
    Root<Key> key = heap.make<Key>();
    pair->entry.set(key.get(), heap.make<Value>());
    handover = key.get();
  }
  Value::destroyed = 0;

  // `keeper` roots the key; its roots are greyed late, while it runs.
  std::atomic<bool> stop{false};
  test::Signal keeper_ready;
  test::Signal key_dropped;
  test::Signal keeper_polling;
  std::thread keeper([&] {
    ThreadScope attach{heap};
    Root<Key> key = handover.get();
    keeper_ready.set();
    key_dropped.wait_blocking(heap);
    keeper_polling.set();  // running: the collector leaves its roots to it
    while (!stop.load(std::memory_order_relaxed)) heap.safepoint();
  });
  keeper_ready.wait();
  handover = nullptr;  // not marking yet: no barrier; the key is the keeper's alone

  // `assistant` allocates during marking and so assists, scanning the pair.
  test::Signal go_assist;
  std::thread assistant([&] {
    ThreadScope attach{heap};
    go_assist.wait_blocking(heap);
    for (int i = 0; i < 256; ++i) heap.make_array<char>(1024);  // 256 KiB: past one allocation report
  });

  Gate keeper_scan(Point::kBeforeThreadRootScan, &heap, keeper.get_id());
  Gate keeper_scanned(Point::kAfterThreadRootScan, &heap, keeper.get_id());
  Gate assist_publishes(Point::kPublishEphemerons, nullptr, assistant.get_id());
  Gate first_round(Point::kMarkRound, &heap);
  Gate after_pass(Point::kAfterEphemeronPass, &heap);
  key_dropped.set();
  keeper_polling.wait();

  std::thread collector([&] { heap.collect(); });
  first_round.await_arrival();  // the pair is grey (a global root); no worker has run
  keeper_scan.await_arrival();  // the key is still white
  // With the goal at zero, the assist's debt is more than all the work
  // there is: it drains the pool, the pair with it, and finds the key white.
  heap.set_gc_percent(0);
  go_assist.set();
  assist_publishes.await_arrival();
  keeper_scan.release();
  keeper_scanned.await_arrival();  // the key is marked now
  keeper_scanned.release();
  first_round.release();
  after_pass.await_arrival();  // the collector's pass saw no pair waiting
  assist_publishes.release();  // ... and now the assist hands it over
  after_pass.release();
  collector.join();
  heap.set_gc_percent(-1);
  assistant.join();

  // The key is alive (the keeper still runs), so the value must be too,
  // whatever cycles the assistant's allocations started after this one.
  CHECK(Value::destroyed == 0);
  {
    ThreadScope attach{heap};
    CHECK(pair->entry.value() != nullptr);
  }
  stop = true;
  keeper.join();
}
