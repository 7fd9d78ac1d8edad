// The pause workload: a large live heap of small linked objects, mutator
// threads replacing objects at a steady rate, and a latency probe. Reports
// every stop-the-world pause (with its time to safepoint) and how late and
// how slow the probe's tiny operation was.
//
//   pause [live MiB = 1024] [seconds = 20] [threads = 2] [replacements/s per thread = 2000000]
//
// The live heap is an array of slots, each holding a chain of kChain nodes
// of 48 bytes. A replacement builds a new chain and stores it into a random
// slot, so the old chain becomes garbage: the live size stays constant while
// the heap churns. Mutators sleep between batches in a BlockingScope to hold
// their rate. The probe thread wakes every 100 µs (absolute deadlines),
// allocates one node and stores it into a slot; its lateness is how long
// after its deadline it ran, its service time how long the operation took.
//
// Run it with GODEBUG=gcstoptheworld=1 for the stop-the-world baseline.
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include <tricolor/tricolor.hpp>

namespace {

using tricolor::Member;

struct Node : tricolor::Object {
  Member<Node> next;
  std::uint64_t payload[3] = {1, 2, 3};
  void trace(tricolor::Visitor& v) const { v(next); }
};
using Slots = tricolor::Array<Member<Node>>;
constexpr int kChain = 4;
constexpr std::uint64_t kProbePeriodNs = 100'000;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void sleep_until(std::uint64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1'000'000'000u), static_cast<long>(deadline % 1'000'000'000u)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

Node* chain(tricolor::Heap& heap) {
  tricolor::Root<Node> head = heap.make<Node>();
  for (int i = 1; i < kChain; ++i) {
    Node* n = heap.make<Node>();
    n->next = head.get();
    head = n;
  }
  return head.get();
}

double quantile(std::vector<std::uint64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
  return static_cast<double>(v[i]);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t live_mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 20;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const double rate = argc > 4 ? std::strtod(argv[4], nullptr) : 2e6;

  tricolor::Heap heap;
  tricolor::ThreadScope main_scope(heap);
  // 48-byte cells: 8 header + 8 next + 24 payload, rounded to the 48 class.
  const std::size_t nslots = static_cast<std::size_t>(live_mib << 20) / (48 * kChain);
  tricolor::GlobalRoot<Slots> slots = heap.make_array<Member<Node>>(nslots);
  const std::uint64_t build_start = now_ns();
  for (std::size_t i = 0; i < nslots; ++i) (*slots)[i] = chain(heap);
  heap.collect();
  const std::uint64_t build_ns = now_ns() - build_start;
  const std::uint32_t cycles_before = heap.gc_stats().num_gc;
  const std::size_t pauses_before = heap.gc_stats().pauses.size();

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> replaced{0};
  std::vector<std::thread> mutators;
  for (int t = 0; t < threads; ++t) {
    mutators.emplace_back([&, t] {
      tricolor::ThreadScope scope(heap);
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      constexpr int kBatch = 1000;
      const std::uint64_t batch_ns = static_cast<std::uint64_t>(kBatch / rate * 1e9);
      std::uint64_t next = now_ns();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < kBatch / kChain; ++i) (*slots)[rng() % nslots] = chain(heap);
        replaced.fetch_add(kBatch, std::memory_order_relaxed);
        next += batch_ns;
        tricolor::BlockingScope idle(heap);
        sleep_until(next);
      }
    });
  }

  std::vector<std::uint64_t> lateness, service;
  lateness.reserve(static_cast<std::size_t>(seconds * 1e4) + 16);
  service.reserve(lateness.capacity());
  {
    std::thread probe([&] {
      // Linux delays timer wake-ups by 50 µs by default to batch them; the
      // probe measures lateness, so it asks for none.
      prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
      tricolor::ThreadScope scope(heap);
      std::mt19937_64 rng(99);
      const std::uint64_t start = now_ns();
      const std::uint64_t end = start + static_cast<std::uint64_t>(seconds * 1e9);
      for (std::uint64_t deadline = start + kProbePeriodNs; deadline < end; deadline += kProbePeriodNs) {
        {
          tricolor::BlockingScope idle(heap);
          sleep_until(deadline);
        }
        const std::uint64_t begin = now_ns();
        (*slots)[rng() % nslots] = heap.make<Node>();
        const std::uint64_t done = now_ns();
        lateness.push_back(begin - deadline);
        service.push_back(done - begin);
        // A probe that fell behind skips the deadlines it missed.
        while (deadline + kProbePeriodNs < done) deadline += kProbePeriodNs;
      }
    });
    tricolor::BlockingScope idle(heap);
    probe.join();
    stop.store(true);
    for (std::thread& t : mutators) t.join();
  }

  const tricolor::GcStats stats = heap.gc_stats();
  std::vector<std::uint64_t> pauses, ttsp, marks;
  const std::size_t n = stats.pauses.size() - std::min(stats.pauses.size(), pauses_before);
  for (std::size_t i = 0; i < n; ++i) {
    const tricolor::Pause& p = stats.pauses[i];
    pauses.push_back(p.total_ns);
    ttsp.push_back(p.to_safepoint_ns);
    // Newest first: a mark termination follows its cycle's sweep termination.
    if (p.kind == tricolor::Pause::Kind::kMarkTermination && i + 1 < n &&
        stats.pauses[i + 1].kind == tricolor::Pause::Kind::kSweepTermination) {
      marks.push_back(p.end_ns - p.total_ns - stats.pauses[i + 1].end_ns);
    }
  }
  const tricolor::MemStats ms = heap.mem_stats();
  const char* godebug = std::getenv("GODEBUG");
  std::printf("mode %s live_mib %llu build_s %.1f seconds %.0f threads %d replaced_per_s %.0f cycles %u gc_cpu_pct %.1f\n",
              godebug != nullptr && *godebug != 0 ? godebug : "concurrent", static_cast<unsigned long long>(live_mib),
              build_ns / 1e9, seconds, threads, static_cast<double>(replaced.load()) / seconds,
              stats.num_gc - cycles_before, 100 * ms.gc_cpu_fraction);
  std::printf("mark phases %zu  median_ms %.1f  max_ms %.1f\n", marks.size(), quantile(marks, 0.5) / 1e6,
              quantile(marks, 1.0) / 1e6);
  std::printf("pauses %zu  max_us %.1f  p99.9_us %.1f  p99_us %.1f  p50_us %.1f  max_ttsp_us %.1f\n", pauses.size(),
              quantile(pauses, 1.0) / 1e3, quantile(pauses, 0.999) / 1e3, quantile(pauses, 0.99) / 1e3,
              quantile(pauses, 0.5) / 1e3, quantile(ttsp, 1.0) / 1e3);
  std::printf("probe %zu  late_p50_us %.1f  late_p99.9_us %.1f  late_max_us %.1f  service_p99.9_us %.1f  service_max_us %.1f\n",
              lateness.size(), quantile(lateness, 0.5) / 1e3, quantile(lateness, 0.999) / 1e3,
              quantile(lateness, 1.0) / 1e3, quantile(service, 0.999) / 1e3, quantile(service, 1.0) / 1e3);
  slots = nullptr;
  return 0;
}
