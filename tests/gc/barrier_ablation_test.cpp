// Built against a collector with one half of the write barrier removed
// (TRICOLOR_TEST_BARRIER_HALF=1: no deletion half; =2: no insertion half),
// the concurrent stress workload must lose a live object, and the loss must
// be caught (by gccheckmark or by a thread reaching a freed node), within a
// bounded number of seeds. This is the evidence that each half is needed.
#include <catch2/catch.hpp>

#include <string>

#include "child_process.hpp"
#include "concurrent_stress.hpp"
#include "gc_test_util.hpp"

#ifndef TRICOLOR_TEST_BARRIER_HALF
#error "barrier_ablation_test.cpp is built only against an ablated collector"
#endif

using namespace tricolor;

TEST_CASE("barrier ablation: without this half of the barrier the stress test loses a live object") {
  constexpr int kSeeds = 30;
  int seed = 1;
  std::string err;
  for (; seed <= kSeeds; ++seed) {
    bool died = false;
    err = test::run_child(
        [seed] {
          test::stress::Config config;
          config.seed = static_cast<std::uint64_t>(seed);
          config.threads = 4;
          config.epochs = 2;
          // Sanitized builds run fewer operations per second, and so fewer
          // cycles straddle the window each half guards: more of them.
          config.ops_per_epoch = test::kSanitized ? 12000 : 20000;
          test::stress::Result result;
          test::stress::run(config, result);
        },
        died);
    if (died) break;
  }
  INFO("stderr of the last child: " << err);
  REQUIRE(seed <= kSeeds);
  const bool caught = err.find("gccheckmark: marking missed a reachable object") != std::string::npos ||
                      err.find("stress: a thread reached a node the collector had freed") != std::string::npos;
  REQUIRE(caught);
  WARN("lost a live object at seed " << seed);
}
