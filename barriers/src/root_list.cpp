#include "tricolor/barriers/root_list.hpp"

namespace tricolor::barriers {

GlobalRoots& global_roots() noexcept {
  // Never destroyed: GlobalRoot handles with static storage duration may
  // unregister after every other static is gone.
  static GlobalRoots* roots = new GlobalRoots();
  return *roots;
}

}  // namespace tricolor::barriers
