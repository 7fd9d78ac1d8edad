#include <catch2/catch.hpp>

#include <string>

#include "concurrent_stress.hpp"
#include "gc_test_util.hpp"

using namespace tricolor;

namespace {

// One seed of the workload, verified at every epoch's end: "" if it held,
// else what went wrong.
std::string run_seed(std::uint64_t seed, bool specials) {
  test::stress::Config config;
  config.seed = seed;
  config.threads = 4;
  config.epochs = 3;
  // Sanitized builds run 5-15 times slower; fewer operations keep the run
  // short while still spanning many cycles.
  config.ops_per_epoch = test::kSanitized ? 3000 : 20000;
  config.specials = specials;
  test::stress::Result result;
  const std::string failure = test::stress::run(config, result);
  const std::string run = "seed " + std::to_string(seed) + ", " + std::to_string(result.cycles) + " cycles, " +
                          std::to_string(result.nodes) + " nodes: ";
  if (!failure.empty()) return run + failure;
  if (result.epochs_verified != config.epochs) return run + "not every epoch was verified";
  // Cycles overlapped the mutation: more than the epochs' own.
  if (result.cycles <= static_cast<std::uint64_t>(config.epochs) * 2) return run + "too few cycles overlapped it";
  return "";
}

}  // namespace

TEST_CASE("concurrent stress: 4 mutators rewire a shared graph while cycles run back to back",
          "[concurrent]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  CHECK(run_seed(seed, false) == "");
}

TEST_CASE("concurrent stress: the same with weak handles, ephemerons, finalizers and cleanups",
          "[concurrent]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  CHECK(run_seed(seed, true) == "");
}
