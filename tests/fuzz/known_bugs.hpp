// Programs that hit library bugs still being fixed are not generated while
// these are false; each goes back to true (and then away) with its fix.
#pragma once

namespace tricolor::fuzz {

// A thread attached to both heaps at once.
inline constexpr bool kThreadsOnTwoHeaps = false;
// GlobalRoots assigned, copied or dropped by a thread that is not attached
// to their heap (or is inside a BlockingScope of it).
inline constexpr bool kGlobalRootsFromOtherThreads = false;

}  // namespace tricolor::fuzz
