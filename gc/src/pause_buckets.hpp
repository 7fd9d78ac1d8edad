// The pause histogram's buckets (Go's timeHistogram): 16 buckets of 1 ns
// below 16 ns, then 16 equal buckets per power of two, so that a bucket's
// width is at most 1/16 of its lower bound; pauses past the last bound
// (2^48 ns, three days) fall into the last bucket.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "tricolor/stats.hpp"

namespace tricolor::gc {

class PauseBuckets {
 public:
  static constexpr unsigned kSubBits = 4;
  static constexpr std::size_t kSub = std::size_t{1} << kSubBits;
  static constexpr std::size_t kSuper = 45;
  static constexpr std::size_t kBuckets = kSuper * kSub;

  static std::size_t index(std::uint64_t ns) noexcept {
    if (ns < kSub) return static_cast<std::size_t>(ns);
    const unsigned log2 = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= kSubBits
    const std::size_t super = log2 - kSubBits + 1;
    if (super >= kSuper) return kBuckets - 1;
    return super * kSub + static_cast<std::size_t>((ns >> (log2 - kSubBits)) & (kSub - 1));
  }
  static std::uint64_t lower_bound(std::size_t i) noexcept {
    const std::size_t super = i / kSub;
    const std::uint64_t sub = i % kSub;
    return super == 0 ? sub : (kSub + sub) << (super - 1);
  }

  void add(std::uint64_t ns) noexcept { ++counts_[index(ns)]; }
  PauseHistogram snapshot() const;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
};

}  // namespace tricolor::gc
