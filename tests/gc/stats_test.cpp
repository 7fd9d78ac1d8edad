// MemStats, GcStats, the pause histogram and quantiles, and the gctrace line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "gc_test_util.hpp"
#include "gctrace.hpp"
#include "pause_buckets.hpp"

using namespace tricolor;
using test::Counted;

namespace {

// No automatic cycle: only collect() runs one.
Options quiet_options() {
  Options o = test::test_options();
  o.gc_percent = -1;
  o.forced_gc_period_ns = 0;
  return o;
}

template <class T>
constexpr std::uint64_t small_cell() {
  return alloc::kSizeClasses[alloc::size_to_class(gc::kHeaderSize<T> + sizeof(T))].size;
}
template <class T>
constexpr std::uint64_t array_cell(std::size_t n) {
  const std::size_t bytes = gc::kHeaderSize<Array<T>> + Array<T>::bytes_for(n);
  if (bytes > alloc::kMaxSmallSize) return (bytes + alloc::kPageSize - 1) / alloc::kPageSize * alloc::kPageSize;
  return alloc::kSizeClasses[alloc::size_to_class(bytes)].size;
}
template <class T>
constexpr std::uint8_t array_class(std::size_t n) {
  const std::size_t bytes = gc::kHeaderSize<Array<T>> + Array<T>::bytes_for(n);
  return bytes > alloc::kMaxSmallSize ? 0 : alloc::size_to_class(bytes);
}

std::uint64_t unix_now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

TEST_CASE("stats: Mallocs, Frees, HeapObjects, TotalAlloc and BySize count a known allocation sequence exactly") {
  Heap heap(quiet_options());
  ThreadScope attach{heap};
  const MemStats before = heap.mem_stats();
  CHECK(before.mallocs == 0);
  CHECK(before.heap_objects == 0);

  constexpr std::size_t kNodes = 1000;
  constexpr std::size_t kBig = 20000;  // 8-byte elements: a large object
  const std::uint8_t node_class = alloc::size_to_class(gc::kHeaderSize<Counted> + sizeof(Counted));
  const std::uint8_t table_class = array_class<Member<Counted>>(kNodes);
  REQUIRE(node_class != table_class);
  REQUIRE(array_class<std::uint64_t>(kBig) == 0);

  Root<Array<Member<Counted>>> table = heap.make_array<Member<Counted>>(kNodes);
  for (std::size_t i = 0; i < kNodes; ++i) (*table)[i] = heap.make<Counted>(static_cast<long>(i));
  std::vector<Root<Array<std::uint64_t>>> big;
  for (int i = 0; i < 3; ++i) big.push_back(heap.make_array<std::uint64_t>(kBig));

  const std::uint64_t allocated =
      kNodes * small_cell<Counted>() + array_cell<Member<Counted>>(kNodes) + 3 * array_cell<std::uint64_t>(kBig);
  MemStats s = heap.mem_stats();
  CHECK(s.mallocs == kNodes + 1 + 3);
  CHECK(s.frees == 0);
  CHECK(s.heap_objects == kNodes + 1 + 3);
  CHECK(s.total_alloc == allocated);
  CHECK(s.heap_alloc == allocated);
  CHECK(s.by_size[node_class].size == small_cell<Counted>());
  CHECK(s.by_size[node_class].mallocs == kNodes);
  CHECK(s.by_size[table_class].mallocs == 1);
  CHECK(s.by_size[0].mallocs == 3);

  // Drop every other node and two of the large objects.
  for (std::size_t i = 1; i < kNodes; i += 2) (*table)[i] = nullptr;
  big.resize(1);
  heap.collect();
  s = heap.mem_stats();
  const std::uint64_t freed = kNodes / 2 * small_cell<Counted>() + 2 * array_cell<std::uint64_t>(kBig);
  CHECK(s.mallocs == kNodes + 1 + 3);
  CHECK(s.frees == kNodes / 2 + 2);
  CHECK(s.heap_objects == kNodes / 2 + 1 + 1);
  CHECK(s.total_alloc == allocated);
  CHECK(s.heap_alloc == allocated - freed);
  CHECK(s.by_size[node_class].frees == kNodes / 2);
  CHECK(s.by_size[0].frees == 2);
  CHECK(s.num_gc == 1);
  CHECK(s.num_forced_gc == 1);
}

TEST_CASE("stats: mem_stats taken while threads allocate and cycles run is one moment's figures") {
  Options o = test::test_options();
  o.gc_percent = 50;
  Heap heap(o);
  // Each thread allocates about 64 MiB of garbage (16 in sanitized builds):
  // many cycles, while the main thread samples.
  const int rounds = test::kSanitized ? 256 : 1024;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      ThreadScope attach{heap};
      Root<Counted> keep;
      for (int r = 0; r < rounds; ++r) {
        for (int i = 0; i < 1000; ++i) keep = heap.make<Counted>(i);
        heap.make_array<std::uint64_t>(5000);  // a large object now and then
      }
      done.fetch_add(1);
    });
  }
  ThreadScope attach{heap};
  MemStats last;
  int samples = 0;
  while (done.load() < 2) {
    const MemStats s = heap.mem_stats();
    ++samples;
    std::uint64_t by_size_mallocs = 0, by_size_frees = 0;
    for (const SizeClassStats& c : s.by_size) {
      by_size_mallocs += c.mallocs;
      by_size_frees += c.frees;
    }
    CHECK(by_size_mallocs == s.mallocs);
    CHECK(by_size_frees == s.frees);
    CHECK(s.heap_objects == s.mallocs - s.frees);
    CHECK(s.heap_alloc <= s.heap_inuse);
    CHECK(s.heap_inuse + s.heap_idle == s.heap_sys);
    CHECK(s.heap_alloc <= s.total_alloc);
    CHECK(s.mallocs >= last.mallocs);
    CHECK(s.frees >= last.frees);
    CHECK(s.total_alloc >= last.total_alloc);
    CHECK(s.num_gc >= last.num_gc);
    CHECK(s.pause_total_ns >= last.pause_total_ns);
    last = s;
    std::this_thread::yield();
  }
  {
    BlockingScope blocked(heap);
    for (std::thread& t : threads) t.join();
  }
  CHECK(samples > 0);
  CHECK(heap.mem_stats().num_gc > 0);
  CHECK(heap.mem_stats().mallocs >= 2u * rounds * 1001);
}

TEST_CASE("stats: PauseNs and PauseEnd hold each cycle's pauses at Go's indices, around the ring") {
  Heap heap(quiet_options());
  ThreadScope attach{heap};
  const std::uint64_t unix_before = unix_now_ns();
  constexpr int kCycles = 300;  // more than the 256 entries: the ring wraps
  for (int i = 0; i < kCycles; ++i) {
    Root<Counted> garbage = heap.make<Counted>(i);
    heap.collect();
  }
  const std::uint64_t unix_after = unix_now_ns();
  const MemStats ms = heap.mem_stats();
  const GcStats gs = heap.gc_stats();
  REQUIRE(ms.num_gc == kCycles);
  REQUIRE(gs.cycles.size() == kCycles);
  CHECK(ms.num_forced_gc == kCycles);
  CHECK(gs.num_forced_gc == kCycles);
  // Newest at [(NumGC + 255) % 256], older ones before it.
  for (std::size_t age = 0; age < 256; ++age) {
    const CycleStats& c = gs.cycles[age];
    const std::size_t index = (ms.num_gc + 255 - age) % 256;
    CHECK(c.number == ms.num_gc - age);
    CHECK(ms.pause_ns[index] == c.pause_ns);
    CHECK(ms.pause_end_unix_ns[index] >= unix_before);
    CHECK(ms.pause_end_unix_ns[index] <= unix_after);
  }
  CHECK(ms.last_gc_unix_ns == ms.pause_end_unix_ns[(ms.num_gc + 255) % 256]);
  CHECK(ms.pause_end_unix_ns[(ms.num_gc + 255) % 256] >= ms.pause_end_unix_ns[(ms.num_gc + 254) % 256]);
  // A cycle's pause_ns is the sum of its pauses.
  std::uint64_t total = 0;
  for (const CycleStats& c : gs.cycles) {
    std::uint64_t sum = 0;
    for (const Pause& p : gs.pauses) {
      if (p.cycle == c.number) sum += p.total_ns;
    }
    CHECK(sum == c.pause_ns);
    total += c.pause_ns;
  }
  CHECK(total == gs.pause_total_ns);
  CHECK(ms.pause_total_ns == gs.pause_total_ns);
}

TEST_CASE("stats: each cycle's record holds its phases in order and chains its goals") {
  Heap heap(test::paced_options());
  ThreadScope attach{heap};
  // About 4 MiB live, 64 MiB of garbage: a dozen or more heap-triggered cycles.
  test::churn(heap, 1 << 17, 1 << 21);
  const GcStats gs = heap.gc_stats();
  REQUIRE(gs.cycles.size() == gs.num_gc);
  REQUIRE(gs.num_gc >= 4);
  int heap_cycles = 0;
  for (std::size_t i = 0; i < gs.cycles.size(); ++i) {
    const CycleStats& c = gs.cycles[i];
    INFO("cycle " << c.number);
    CHECK(c.number == gs.num_gc - i);
    CHECK(c.start_ns >= gs.heap_created_ns);
    CHECK(c.start_ns <= c.mark_ns);
    CHECK(c.mark_ns <= c.mark_termination_ns);
    CHECK(c.mark_termination_ns <= c.end_ns);
    CHECK(c.end_ns <= c.sweep_end_ns);  // collect() returned: every sweep is done
    CHECK(c.sweep_termination.to_safepoint_ns <= c.sweep_termination.total_ns);
    CHECK(c.mark_termination.to_safepoint_ns <= c.mark_termination.total_ns);
    CHECK(c.sweep_termination.total_ns == c.mark_ns - c.start_ns);
    CHECK(c.mark_termination.total_ns == c.end_ns - c.mark_termination_ns);
    CHECK(c.mark_termination_stops >= 1);
    CHECK(c.idle_cpu_ns <= c.worker_cpu_ns);
    CHECK(c.heap_goal > 0);
    CHECK(c.heap_live > 0);
    if (i + 1 < gs.cycles.size()) {
      const CycleStats& older = gs.cycles[i + 1];
      CHECK(older.end_ns <= c.start_ns);
      CHECK(older.next_goal == c.heap_goal);  // GOGC did not change
    }
    if (c.reason == GcReason::kHeap) ++heap_cycles;
  }
  CHECK(gs.cycles.front().reason == GcReason::kForced);
  CHECK(heap_cycles + 1 == static_cast<int>(gs.num_gc));
  CHECK(gs.last_gc_ns == gs.cycles.front().end_ns);
}

TEST_CASE("stats: pause quantiles are Go's, over known pause sets") {
  GcStats s;
  for (std::uint64_t ns : {5, 1, 4, 2, 3}) s.pauses.push_back(Pause{Pause::Kind::kMarkTermination, 1, 0, ns, 0});
  // Sorted 1..5; quantile i of 4 intervals is element 5*i/4: 0, 1, 2, 3; then the max.
  CHECK(s.pause_quantiles(5) == std::vector<std::uint64_t>{1, 2, 3, 4, 5});
  CHECK(s.pause_quantiles(1) == std::vector<std::uint64_t>{5});
  CHECK(s.pause_quantiles(0).empty());
  s.pauses.clear();
  for (std::uint64_t ns = 100; ns >= 10; ns -= 10) s.pauses.push_back(Pause{Pause::Kind::kSweepTermination, 1, 0, ns, 0});
  // Sorted 10..100; n = 3: element 0, element 10*1/2 = 5 (60), the max.
  CHECK(s.pause_quantiles(3) == std::vector<std::uint64_t>{10, 60, 100});
  // n = 11 over 10 pauses: element 10*i/10 = i, then the max.
  CHECK(s.pause_quantiles(11) == std::vector<std::uint64_t>{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 100});
  CHECK(GcStats{}.pause_quantiles(5).empty());
}

TEST_CASE("stats: pause histogram buckets tile the line, 16 per power of two") {
  using gc::PauseBuckets;
  CHECK(PauseBuckets::lower_bound(0) == 0);
  for (std::size_t i = 0; i + 1 < PauseBuckets::kBuckets; ++i) {
    const std::uint64_t lo = PauseBuckets::lower_bound(i);
    const std::uint64_t hi = PauseBuckets::lower_bound(i + 1);
    REQUIRE(lo < hi);
    REQUIRE(PauseBuckets::index(lo) == i);
    REQUIRE(PauseBuckets::index(hi - 1) == i);
    if (lo >= 16) REQUIRE((hi - lo) * 16 <= lo);
  }
  CHECK(PauseBuckets::index(~std::uint64_t{0}) == PauseBuckets::kBuckets - 1);
  CHECK(PauseBuckets::index(1'000'000) == PauseBuckets::index(1'000'001));
}

TEST_CASE("stats: the pause histogram counts every pause in its bucket") {
  Heap heap(quiet_options());
  ThreadScope attach{heap};
  for (int i = 0; i < 50; ++i) heap.collect();
  const GcStats gs = heap.gc_stats();
  const PauseHistogram& h = gs.pause_histogram;
  REQUIRE(h.bounds_ns.size() == h.counts.size() + 1);
  CHECK(h.total() == gs.pauses.size());
  std::vector<std::uint64_t> expected(h.counts.size());
  for (const Pause& p : gs.pauses) {
    const auto upper = std::upper_bound(h.bounds_ns.begin(), h.bounds_ns.end(), p.total_ns);
    ++expected[static_cast<std::size_t>(upper - h.bounds_ns.begin()) - 1];
  }
  CHECK(expected == h.counts);
}

TEST_CASE("gctrace: a cycle's line, in Go's format to the character") {
  CycleStats c;
  const std::uint64_t created = 1'000'000'000;
  c.number = 7;
  c.reason = GcReason::kForced;
  c.start_ns = created + 2'104'000'123;   // @2.104s
  c.mark_ns = c.start_ns + 20'400;         // 0.020 ms: two significant digits, truncated
  c.mark_termination_ns = c.mark_ns + 31'700'000;  // 31 ms: whole ms from 10 ms
  c.end_ns = c.mark_termination_ns + 41'000;       // 0.041
  c.assist_cpu_ns = 2'150'000;                     // 2.1
  c.worker_cpu_ns = 37'600'000;                    // minus idle: 27.95 ms, so 27
  c.idle_cpu_ns = 9'650'000;                       // 9.6
  c.heap_start = (96u << 20) + 5;
  c.heap_end = (101u << 20) + (1u << 19);
  c.heap_live = 48u << 20;
  c.heap_goal = 100u << 20;
  c.gc_cpu_fraction = 0.047;  // 4 %, truncated
  // Sweep and mark termination CPU: wall x 2 CPUs (0.0408 and 0.082 ms).
  CHECK(gc::gctrace_line(c, created, 2) ==
        "gc 7 @2.104s 4%: 0.020+31+0.041 ms clock, 0.040+2.1/27/9.6+0.082 ms cpu, "
        "96->101->48 MB, 100 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)\n");
  c.reason = GcReason::kHeap;
  c.start_ns = created + 999;  // under a millisecond: @0.000s
  c.mark_ns = c.start_ns + 999;                    // under a microsecond: 0
  c.mark_termination_ns = c.mark_ns + 9'999'999;   // 9.9
  c.end_ns = c.mark_termination_ns + 10'000'000;   // 10
  c.assist_cpu_ns = 0;
  c.worker_cpu_ns = c.idle_cpu_ns = 1000;          // 0 and 0.001
  c.heap_start = c.heap_end = c.heap_live = c.heap_goal = (1u << 20) - 1;
  c.thread_roots_bytes = 3u << 20;
  c.gc_cpu_fraction = 1;
  CHECK(gc::gctrace_line(c, created, 16) ==
        "gc 7 @0.000s 100%: 0+9.9+10 ms clock, 0.015+0/0/0.001+160 ms cpu, "
        "0->0->0 MB, 0 MB goal, 3 MB stacks, 0 MB globals, 16 P\n");
}

TEST_CASE("gctrace: GODEBUG=gctrace=1 prints one line per cycle whose fields read back as the cycle's record") {
  bool died = false;
  const std::string err = test::run_child(
      [] {
        Options o = test::paced_options();
        o.gc_trace = true;
        Heap heap(o);
        ThreadScope attach{heap};
        test::churn(heap, 1 << 16, 1 << 20);
        // The records, for the parent to compare with the lines.
        for (const CycleStats& c : heap.gc_stats().cycles) {
          std::fprintf(stderr, "record %u %d %llu %llu %llu %llu %llu %llu %llu\n", c.number,
                       c.reason == GcReason::kForced ? 1 : 0, static_cast<unsigned long long>(c.heap_start),
                       static_cast<unsigned long long>(c.heap_end), static_cast<unsigned long long>(c.heap_live),
                       static_cast<unsigned long long>(c.heap_goal),
                       static_cast<unsigned long long>(c.mark_ns - c.start_ns),
                       static_cast<unsigned long long>(c.mark_termination_ns - c.mark_ns),
                       static_cast<unsigned long long>(c.end_ns - c.mark_termination_ns));
        }
      },
      died);
  REQUIRE_FALSE(died);
  struct Line {
    unsigned number;
    bool forced;
    double clock[3];
    unsigned long long mb[4];
    unsigned procs;
  };
  struct Record {
    unsigned number;
    int forced;
    unsigned long long bytes[4];
    unsigned long long wall[3];
  };
  const std::regex gctrace(
      R"(^gc (\d+) @\d+\.\d{3}s \d+%: ([0-9.]+)\+([0-9.]+)\+([0-9.]+) ms clock, [0-9.]+\+[0-9.]+/[0-9.]+/[0-9.]+\+[0-9.]+ ms cpu, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, \d+ MB stacks, \d+ MB globals, (\d+) P( \(forced\))?$)");
  std::vector<Line> lines;
  std::vector<Record> records;
  std::istringstream in(err);
  for (std::string text; std::getline(in, text);) {
    std::smatch m;
    if (std::regex_match(text, m, gctrace)) {
      Line l{};
      l.number = static_cast<unsigned>(std::stoul(m[1]));
      for (int k = 0; k < 3; ++k) l.clock[k] = std::stod(m[2 + k]);
      for (int k = 0; k < 4; ++k) l.mb[k] = std::stoull(m[5 + k]);
      l.procs = static_cast<unsigned>(std::stoul(m[9]));
      l.forced = m[10].matched;
      lines.push_back(l);
    } else if (text.rfind("record ", 0) == 0) {
      Record r{};
      std::istringstream fields(text.substr(7));
      fields >> r.number >> r.forced >> r.bytes[0] >> r.bytes[1] >> r.bytes[2] >> r.bytes[3] >> r.wall[0] >>
          r.wall[1] >> r.wall[2];
      records.push_back(r);
    } else {
      FAIL("a line on stderr that is neither gctrace nor a record: " << text);
    }
  }
  REQUIRE(lines.size() >= 3);
  REQUIRE(lines.size() == records.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const Record& r = records[records.size() - 1 - i];  // records are newest first
    INFO("gc " << l.number);
    CHECK(l.number == i + 1);
    CHECK(r.number == l.number);
    CHECK(l.forced == (r.forced == 1));
    for (int k = 0; k < 4; ++k) CHECK(l.mb[k] == r.bytes[k] >> 20);
    CHECK(l.procs == std::max(1u, std::thread::hardware_concurrency()));
    for (int k = 0; k < 3; ++k) {
      // Two significant digits, truncated (whole ms from 10 ms).
      const double ms = static_cast<double>(r.wall[k]) / 1e6;
      CHECK(l.clock[k] <= ms + 1e-9);
      CHECK(l.clock[k] >= ms * 0.89 - 0.001);
    }
  }
  CHECK(lines.back().forced);
}
