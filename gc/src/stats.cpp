#include <algorithm>
#include <limits>
#include <numeric>

#include "pause_buckets.hpp"
#include "tricolor/stats.hpp"

namespace tricolor {

const char* to_string(Pause::Kind kind) noexcept {
  switch (kind) {
    case Pause::Kind::kSweepTermination: return "sweep_termination";
    case Pause::Kind::kMarkTermination: return "mark_termination";
    case Pause::Kind::kOther: break;
  }
  return "other";
}

const char* to_string(GcReason reason) noexcept {
  switch (reason) {
    case GcReason::kHeap: return "heap";
    case GcReason::kLimit: return "limit";
    case GcReason::kForced: return "forced";
    case GcReason::kPeriodic: return "periodic";
    case GcReason::kStress: return "stress";
    case GcReason::kOutOfMemory: break;
  }
  return "out_of_memory";
}

std::uint64_t PauseHistogram::total() const noexcept {
  return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

std::vector<std::uint64_t> GcStats::pause_quantiles(std::size_t n) const {
  if (n == 0 || pauses.empty()) return {};
  std::vector<std::uint64_t> sorted;
  sorted.reserve(pauses.size());
  for (const Pause& p : pauses) sorted.push_back(p.total_ns);
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint64_t> q(n);
  // Go's debug.ReadGCStats.
  for (std::size_t i = 0; i + 1 < n; ++i) q[i] = sorted[sorted.size() * i / (n - 1)];
  q[n - 1] = sorted.back();
  return q;
}

namespace gc {

PauseHistogram PauseBuckets::snapshot() const {
  PauseHistogram h;
  h.counts.assign(counts_.begin(), counts_.end());
  h.bounds_ns.resize(kBuckets + 1);
  for (std::size_t i = 0; i < kBuckets; ++i) h.bounds_ns[i] = lower_bound(i);
  h.bounds_ns[kBuckets] = std::numeric_limits<std::uint64_t>::max();
  return h;
}

}  // namespace gc
}  // namespace tricolor
