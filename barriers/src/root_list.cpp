#include "tricolor/barriers/root_list.hpp"

#include <string>

#include "tricolor/usage_error.hpp"

namespace tricolor::barriers {

GlobalRoots& global_roots() noexcept {
  // Never destroyed: GlobalRoot handles with static storage duration may
  // unregister after every other static is gone.
  static GlobalRoots* roots = new GlobalRoots();
  return *roots;
}

bool ThreadRoots::attached_to_another(const void* owner) const noexcept {
  for (std::size_t i = 1; i < attached_heaps; ++i) {
    if (heaps[i] == owner) return true;
  }
  return false;
}

void ThreadRoots::attach(const void* owner) {
  if (attached_heaps == kMaxHeaps) {
    throw UsageError("tricolor: a thread may be attached to at most " + std::to_string(kMaxHeaps) +
                     " heaps at once; end a ThreadScope of this thread before attaching it to another heap.");
  }
  heaps[attached_heaps++] = owner;
}

void ThreadRoots::detach(const void* owner) noexcept {
  for (std::size_t i = 0; i < attached_heaps; ++i) {
    if (heaps[i] == owner) {
      heaps[i] = heaps[--attached_heaps];
      heaps[attached_heaps] = nullptr;
      return;
    }
  }
}

void throw_root_not_attached(bool attached_to_any) {
  if (!attached_to_any) {
    throw UsageError(
        "tricolor: a Root<T> was created on a thread that is not attached to any heap, so no "
        "collector would see it. Attach the thread first with tricolor::ThreadScope, or use "
        "tricolor::GlobalRoot<T> for a handle shared between threads.");
  }
  throw UsageError(
      "tricolor: a Root<T> was created for an object of a heap this thread is not attached to, so that "
      "heap's collector would never see it and would free the object. Attach the thread to the object's "
      "heap too (another tricolor::ThreadScope), or use tricolor::GlobalRoot<T>.");
}

}  // namespace tricolor::barriers
