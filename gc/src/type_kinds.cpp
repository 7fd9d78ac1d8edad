#include "type_kinds.hpp"

#include <string>

#include "tricolor/usage_error.hpp"

namespace tricolor::gc {

std::atomic<const TypeInfo*> g_kind_types[alloc::kMaxKinds + 1];

namespace {
std::atomic<std::uint32_t> g_kinds{0};
}  // namespace

std::uint32_t register_kind(const TypeInfo* info) {
  // Kinds are never reused, so a failed registration uses one up too; the
  // limit is far beyond any program's count of managed types.
  const std::uint32_t kind = g_kinds.fetch_add(1, std::memory_order_relaxed) + 1;
  if (kind > alloc::kMaxKinds) {
    throw UsageError("tricolor: more than " + std::to_string(alloc::kMaxKinds) +
                     " managed types with a trace() and no destructor were allocated in this process; each gets "
                     "span classes of its own. Merge some of them, or give them a destructor (such types carry a "
                     "header instead).");
  }
  g_kind_types[kind].store(info, std::memory_order_release);
  return kind;
}

}  // namespace tricolor::gc
