#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "child_process.hpp"
#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;
using test::run_child;

namespace {

// Sets an environment variable for one test and restores it after.
struct ScopedEnv {
  std::string name;
  std::string old;
  bool had;
  ScopedEnv(const char* n, const char* value) : name(n), had(std::getenv(n) != nullptr) {
    if (had) old = std::getenv(n);
    setenv(n, value, 1);
  }
  ~ScopedEnv() {
    if (had) {
      setenv(name.c_str(), old.c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }
};

}  // namespace

TEST_CASE("misuse: make on a thread not attached to the heap is a UsageError") {
  Heap heap(test::test_options());
  std::string message;
  std::thread t([&] {
    try {
      heap.make<Counted>(1);
    } catch (const UsageError& e) {
      message = e.what();
    }
  });
  t.join();
  CHECK(message.find("not attached") != std::string::npos);
  CHECK(message.find("ThreadScope") != std::string::npos);
  // Attached to another heap only: still an error for this one.
  Heap other(test::test_options());
  ThreadScope attach{other};
  CHECK_THROWS_AS(heap.make<Counted>(1), UsageError);
}

TEST_CASE("misuse: attaching a thread twice to one heap is a UsageError") {
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  CHECK_THROWS_WITH(ThreadScope{heap}, Catch::Contains("already attached"));
  CHECK(heap.make<Counted>(1) != nullptr);  // the first attachment still works
}

TEST_CASE("misuse: a GlobalRoot used after its heap died is a UsageError") {
  GlobalRoot<Counted> survivor;
  {
    Heap heap(test::test_options());
    ThreadScope attach{heap};
    survivor = heap.make<Counted>(5);
    heap.collect();
    CHECK(survivor->value == 5);  // a GlobalRoot keeps its object alive
  }
  CHECK_THROWS_WITH(survivor.get(), Catch::Contains("after the heap that owned its object was destroyed"));
  survivor = nullptr;
  CHECK(survivor.get() == nullptr);
}

TEST_CASE("misuse: a GlobalRoot left over from a dead heap keeps nothing alive in another heap") {
  // Destroying a heap leaves its GlobalRoots orphaned (allowed, as long as
  // they are not used). Other heaps scan every GlobalRoot; the orphan's
  // stale pointer must not be read: its segment may be unmapped, or reused
  // by another heap, where it would keep a stranger's object alive.
  GlobalRoot<Counted> orphan;
  const void* stale;
  {
    Heap dead(test::test_options());
    ThreadScope attach{dead};
    orphan = dead.make<Counted>(1);
    stale = orphan.get();
  }
  Heap heap(test::test_options());
  ThreadScope attach{heap};
  bool reused = false;
  {
    Root<Counted> first = heap.make<Counted>(2);  // the dead heap's memory comes back first
    reused = first.get() == stale;
  }
  heap.collect();
  CHECK(heap.mem_stats().heap_objects == 0);
  if (!reused) WARN("the dead heap's memory was not reused at the same address: only the crash case was tried");
  CHECK_THROWS_AS(orphan.get(), UsageError);
}

TEST_CASE("misuse: a Root to an object of a heap the thread is not attached to is a UsageError") {
  Heap a(test::test_options());
  Heap b(test::test_options());
  GlobalRoot<Counted> in_b;
  std::thread([&] {
    ThreadScope attach_b{b};
    in_b = b.make<Counted>(1);
  }).join();
  ThreadScope attach_a{a};
  CHECK_THROWS_WITH(Root<Counted>(in_b.get()), Catch::Contains("a heap this thread is not attached to"));
  Root<Counted> r = a.make<Counted>(2);
  CHECK_THROWS_AS(r = in_b.get(), UsageError);
  CHECK(r->value == 2);
}

TEST_CASE("misuse: a Member pointing into another heap stops the collector with both types named") {
  bool died = false;
  const std::string err = run_child(
      [] {
        Heap a(test::test_options());
        Heap b(test::test_options());
        ThreadScope attach_a{a};
        ThreadScope attach_b{b};
        Root<Counted> parent = a.make<Counted>(1);
        parent->left = b.make<Counted>(2);
        a.collect();
      },
      died);
  CHECK(died);
  CHECK(err.find("another heap") != std::string::npos);
  CHECK(err.find("tricolor::test::Counted") != std::string::npos);
}

TEST_CASE("misuse: destroying a heap while a thread is attached stops the program with an explanation") {
  bool died = false;
  const std::string err = run_child(
      [] {
        auto* heap = new Heap(test::test_options());
        new ThreadScope(*heap);  // never ended
        delete heap;
      },
      died);
  CHECK(died);
  CHECK(err.find("still attached") != std::string::npos);
}

namespace {

// The bug these tests plant: a raw pointer kept across a safepoint without
// a Root, then stored in the heap after its object was freed there.
void store_a_freed_object(bool checkmark) {
  Options options = test::test_options();
  options.checkmark = checkmark;
  Heap heap(options);
  ThreadScope attach{heap};
  Root<Counted> parent = heap.make<Counted>(1);
  Counted* unrooted = heap.make<Counted>(2);  // only a raw pointer holds it
  heap.collect();                             // so it is freed here
  parent->left = unrooted;                    // the bug: a dangling pointer in the heap
  heap.collect();
}

// AddressSanitizer stops the marker first, as it reads the freed cell.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

}  // namespace

TEST_CASE("misuse: a pointer to a freed object stored in the heap stops the sweep, which says what to do") {
  bool died = false;
  const std::string err = run_child([] { store_a_freed_object(false); }, died);
  CHECK(died);
  INFO(err);
  if (kAsan) {
    CHECK(err.find("AddressSanitizer") != std::string::npos);
    return;
  }
  CHECK(err.find("sweep found 1 marked object that had been freed (one of type tricolor::test::Counted)") !=
        std::string::npos);
  CHECK(err.find("a raw pointer was kept across a safepoint") != std::string::npos);
  CHECK(err.find("GODEBUG=gccheckmark=1") != std::string::npos);
  CHECK(err.find("keep objects in a Root") != std::string::npos);
}

TEST_CASE("misuse: gccheckmark names the holder and the type of a freed object stored in the heap") {
  bool died = false;
  const std::string err = run_child([] { store_a_freed_object(true); }, died);
  CHECK(died);
  INFO(err);
  if (kAsan) {
    CHECK(err.find("AddressSanitizer") != std::string::npos);
    return;
  }
  CHECK(err.find("gccheckmark: an object of type tricolor::test::Counted (reachable from a Root, a GlobalRoot or an "
                 "object under construction) points to a freed object of type tricolor::test::Counted") !=
        std::string::npos);
  CHECK(err.find("a raw pointer to it was kept across a safepoint") != std::string::npos);
  CHECK(err.find("Keep objects in a Root") != std::string::npos);
}

TEST_CASE("misuse: out of memory is an exception and the heap stays usable") {
  Options options = test::test_options();
  options.max_heap_bytes = std::size_t{16} << 20;
  Heap heap(options);
  ThreadScope attach{heap};
  const long before = Counted::live;
  std::string message;
  {
    Root<Array<Member<Counted>>> keep = heap.make_array<Member<Counted>>(1000000);
    try {
      for (std::size_t i = 0; i < keep->size(); ++i) (*keep)[i] = heap.make<Counted>(static_cast<long>(i));
    } catch (const OutOfMemory& e) {
      message = e.what();
    }
    CHECK(message.find("limit is 16 MiB") != std::string::npos);
    // Everything reachable is intact.
    std::size_t filled = 0;
    while (filled < keep->size() && (*keep)[filled]) ++filled;
    for (std::size_t i = 0; i < filled; ++i) REQUIRE((*keep)[i]->value == static_cast<long>(i));
  }
  heap.collect();
  CHECK(Counted::live == before);
  for (int i = 0; i < 100000; ++i) heap.make<Counted>(i);  // works again
  CHECK_THROWS_AS(heap.make_array<char>(std::size_t{64} << 20), std::bad_alloc);
}

TEST_CASE("misuse: bad environment values are rejected with what to do") {
  {
    ScopedEnv env("GODEBUG", "gccheckmark=2");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("use 0 or 1"));
  }
  {
    ScopedEnv env("TRICOLOR_GCSTRESS", "often");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("not a whole number"));
  }
  {
    ScopedEnv env("GODEBUG", "gctrace=0,gccheckmark=1,madvdontneed=1");
    CHECK(Options::from_environment().checkmark);
  }
  {
    ScopedEnv env("GODEBUG", "gctrace=2");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("gctrace=2 is not valid; use 0 or 1"));
  }
  {
    ScopedEnv env("GODEBUG", "gctrace=1,gclog=/tmp/gc.jsonl");
    const Options o = Options::from_environment();
    CHECK(o.gc_trace);
    CHECK(o.event_log == "/tmp/gc.jsonl");
  }
  {
    ScopedEnv env("GODEBUG", "gclog=");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("names no file; give a path"));
  }
  {
    ScopedEnv env("GODEBUG", "gcstoptheworld=yes");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("use 0 (concurrent), 1"));
  }
  {
    ScopedEnv env("GODEBUG", "gcstoptheworld=2");
    CHECK(Options::from_environment().gc_stop_the_world == 2);
  }
  {
    ScopedEnv env("GOGC", "abc");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("GOGC=abc is not valid") && Catch::Contains("off"));
  }
  {
    ScopedEnv env("GOGC", "off");
    CHECK(Options::from_environment().gc_percent == -1);
  }
  {
    ScopedEnv env("GOGC", "250");
    CHECK(Options::from_environment().gc_percent == 250);
  }
  {
    ScopedEnv env("GOMEMLIMIT", "12XB");
    CHECK_THROWS_WITH(Options::from_environment(),
                      Catch::Contains("GOMEMLIMIT=12XB has an unknown suffix") && Catch::Contains("KiB, MiB, GiB"));
  }
  {
    ScopedEnv env("GOMEMLIMIT", "-5MiB");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("is negative"));
  }
  {
    ScopedEnv env("GOMEMLIMIT", "99999999TiB");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("too large"));
  }
  {
    ScopedEnv env("GOMEMLIMIT", "512MiB");
    CHECK(Options::from_environment().memory_limit == std::int64_t{512} << 20);
  }
  {
    ScopedEnv env("GOMEMLIMIT", "1000");
    CHECK(Options::from_environment().memory_limit == 1000);
  }
  {
    ScopedEnv env("TRICOLOR_MARKWORKERS", "100000");
    CHECK_THROWS_WITH(Options::from_environment(), Catch::Contains("give 1 to 256"));
  }
}

TEST_CASE("misuse: an event log that cannot be written is a UsageError naming the path, and no heap is made") {
  Options o = test::test_options();
  o.event_log = "/nonexistent-directory/gc.jsonl";
  CHECK_THROWS_WITH(Heap(o), Catch::Contains("cannot write the event log /nonexistent-directory/gc.jsonl") &&
                                 Catch::Contains("No such file or directory") &&
                                 Catch::Contains("give a path in a directory that exists"));
}
