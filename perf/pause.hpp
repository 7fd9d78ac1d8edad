// The pause workload, written once over a "peer" (perf/pause.cpp: tricolor;
// perf/pause_boehm.cpp: the Boehm GC): a large live heap of small linked
// objects, mutator threads replacing objects at a steady rate, and a latency
// probe. Reports every stop-the-world pause (with its time to safepoint
// where the peer knows it) and how late and how slow the probe's tiny
// operation was.
//
//   <program> [live MiB = 1024] [seconds = 20] [threads = 2] [replacements/s per thread = 2000000]
//
// The live heap is an array of slots, each holding a chain of kChain nodes.
// A replacement builds a new chain and stores it into a random slot, so the
// old chain becomes garbage: the live size stays constant while the heap
// churns. Mutators sleep between batches (in the peer's Idle scope) to hold
// their rate. The probe thread wakes every 100 µs (absolute deadlines),
// allocates one node and stores it into a slot; its lateness is how long
// after its deadline it ran, its service time how long the operation took.
//
// A peer provides: node() and chain() (a new node, a new chain, reachable
// only from the returned pointer), make_slots(n), set(i, node), collect(),
// Attach (RAII, every thread that allocates), Idle (RAII, around a sleep),
// steady() (marks the start of the steady phase), and after it:
// mode() (a word), cycles(), gc_cpu_pct(), pauses() (total and time to
// safepoint in ns, steady phase only) and mark_phases() (ns, may be empty).
#pragma once

#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

namespace pause_workload {

constexpr int kChain = 4;
constexpr std::uint64_t kProbePeriodNs = 100'000;

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline void sleep_until(std::uint64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1'000'000'000u), static_cast<long>(deadline % 1'000'000'000u)};
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

inline double quantile(std::vector<std::uint64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
  return static_cast<double>(v[i]);
}

struct Pause {
  std::uint64_t total_ns, to_safepoint_ns;
};

// argv[0..argc) are the workload's arguments (the program name excluded).
template <class P>
int run(P& p, int argc, char** argv) {
  const std::uint64_t live_mib = argc > 0 ? std::strtoull(argv[0], nullptr, 10) : 1024;
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 20;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const double rate = argc > 3 ? std::strtod(argv[3], nullptr) : 2e6;

  // tricolor's 48-byte cells: 8 header + 8 next + 24 payload.
  const std::size_t nslots = static_cast<std::size_t>(live_mib << 20) / (48 * kChain);
  p.make_slots(nslots);
  const std::uint64_t build_start = now_ns();
  for (std::size_t i = 0; i < nslots; ++i) p.set(i, p.chain());
  p.collect();
  const std::uint64_t build_ns = now_ns() - build_start;
  p.steady();

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> replaced{0};
  std::vector<std::thread> mutators;
  for (int t = 0; t < threads; ++t) {
    mutators.emplace_back([&, t] {
      typename P::Attach attach(p);
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      constexpr int kBatch = 1000;
      const std::uint64_t batch_ns = static_cast<std::uint64_t>(kBatch / rate * 1e9);
      std::uint64_t next = now_ns();
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < kBatch / kChain; ++i) p.set(rng() % nslots, p.chain());
        replaced.fetch_add(kBatch, std::memory_order_relaxed);
        next += batch_ns;
        typename P::Idle idle(p);
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
      typename P::Attach attach(p);
      std::mt19937_64 rng(99);
      const std::uint64_t start = now_ns();
      const std::uint64_t end = start + static_cast<std::uint64_t>(seconds * 1e9);
      for (std::uint64_t deadline = start + kProbePeriodNs; deadline < end; deadline += kProbePeriodNs) {
        {
          typename P::Idle idle(p);
          sleep_until(deadline);
        }
        const std::uint64_t begin = now_ns();
        p.set(rng() % nslots, p.node());
        const std::uint64_t done = now_ns();
        lateness.push_back(begin - deadline);
        service.push_back(done - begin);
        // A probe that fell behind skips the deadlines it missed.
        while (deadline + kProbePeriodNs < done) deadline += kProbePeriodNs;
      }
    });
    typename P::Idle idle(p);
    probe.join();
    stop.store(true);
    for (std::thread& t : mutators) t.join();
  }

  std::vector<std::uint64_t> pauses, ttsp;
  for (const Pause& x : p.pauses()) {
    pauses.push_back(x.total_ns);
    ttsp.push_back(x.to_safepoint_ns);
  }
  const std::vector<std::uint64_t> marks = p.mark_phases();
  std::printf("mode %s live_mib %llu build_s %.1f seconds %.0f threads %d replaced_per_s %.0f cycles %u gc_cpu_pct %.1f\n",
              p.mode(), static_cast<unsigned long long>(live_mib), build_ns / 1e9, seconds, threads,
              static_cast<double>(replaced.load()) / seconds, p.cycles(), p.gc_cpu_pct());
  std::printf("mark phases %zu  median_ms %.1f  max_ms %.1f\n", marks.size(), quantile(marks, 0.5) / 1e6,
              quantile(marks, 1.0) / 1e6);
  std::printf("pauses %zu  max_us %.1f  p99.9_us %.1f  p99_us %.1f  p50_us %.1f  max_ttsp_us %.1f\n", pauses.size(),
              quantile(pauses, 1.0) / 1e3, quantile(pauses, 0.999) / 1e3, quantile(pauses, 0.99) / 1e3,
              quantile(pauses, 0.5) / 1e3, quantile(ttsp, 1.0) / 1e3);
  std::printf("probe %zu  late_p50_us %.1f  late_p99.9_us %.1f  late_max_us %.1f  service_p99.9_us %.1f  service_max_us %.1f\n",
              lateness.size(), quantile(lateness, 0.5) / 1e3, quantile(lateness, 0.999) / 1e3,
              quantile(lateness, 1.0) / 1e3, quantile(service, 0.999) / 1e3, quantile(service, 1.0) / 1e3);
  return 0;
}

}  // namespace pause_workload
