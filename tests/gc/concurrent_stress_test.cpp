#include <catch2/catch.hpp>

#include "concurrent_stress.hpp"
#include "gc_test_util.hpp"

using namespace tricolor;

namespace {

// Three seeds of the workload, each verified at every epoch's end.
void run_seeds(bool specials) {
  // Sanitized builds run 5-15 times slower; fewer operations keep the run
  // short while still spanning many cycles.
  const int ops = test::kSanitized ? 3000 : 20000;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    test::stress::Config config;
    config.seed = seed;
    config.threads = 4;
    config.epochs = 3;
    config.ops_per_epoch = ops;
    config.specials = specials;
    test::stress::Result result;
    const std::string failure = test::stress::run(config, result);
    INFO("seed " << seed << ": " << result.cycles << " cycles, " << result.nodes << " nodes");
    REQUIRE(failure.empty());
    REQUIRE(result.epochs_verified == config.epochs);
    // Cycles overlapped the mutation: more than the epochs' own.
    REQUIRE(result.cycles > static_cast<std::uint64_t>(config.epochs) * 2);
  }
}

}  // namespace

TEST_CASE("concurrent stress: 4 mutators rewire a shared graph while cycles run back to back",
          "[concurrent]") {
  run_seeds(false);
}

TEST_CASE("concurrent stress: the same with weak handles, ephemerons, finalizers and cleanups",
          "[concurrent]") {
  run_seeds(true);
}
