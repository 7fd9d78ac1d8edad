// The root sets a mark phase starts from, named for gccheckmark's messages
// (checkmark.cpp), which re-marks from every one of them.
//
// Test builds only: with TRICOLOR_TEST_SKIP_ROOT_SET defined, the marker
// can be told to leave one root set out, so that a test can show that
// gccheckmark catches the objects only that set keeps and names the set
// (tests/gc/root_ablation_test.cpp). Other builds compile the check away.
#pragma once

#include <cstdint>

namespace tricolor::gc {

enum class RootSet : std::uint8_t {
  kNone,
  kRoots,              // threads' Roots, objects under construction, GlobalRoots
  kWeakCells,          // the weak cell of every object that has weak handles
  kFinalizerChildren,  // what an object with a finalizer points to
  kCleanupArguments,   // a cleanup's managed argument
  kFinalizerQueue,     // queued finalizers' objects and cleanups' arguments
  kPools,              // what threads' Pools hold
};

// "the finalizer queue", to follow "reachable from".
inline const char* root_set_name(RootSet set) noexcept {
  switch (set) {
    case RootSet::kNone:
      break;
    case RootSet::kRoots:
      return "a Root, a GlobalRoot or an object under construction";
    case RootSet::kWeakCells:
      return "the weak cells of objects with weak handles";
    case RootSet::kFinalizerChildren:
      return "the children of an object with a finalizer";
    case RootSet::kCleanupArguments:
      return "a cleanup's argument";
    case RootSet::kFinalizerQueue:
      return "the finalizer queue";
    case RootSet::kPools:
      return "a pool";
  }
  return "nothing";
}

#ifdef TRICOLOR_TEST_SKIP_ROOT_SET
// Set by a test before it makes its heap, and so before any thread of that
// heap reads it.
inline RootSet g_test_skipped_root_set = RootSet::kNone;
inline bool marker_skips(RootSet set) noexcept { return set == g_test_skipped_root_set; }
#else
constexpr bool marker_skips(RootSet) noexcept { return false; }
#endif

}  // namespace tricolor::gc
