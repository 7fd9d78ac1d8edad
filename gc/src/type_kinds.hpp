// The kinds of the types whose objects live in typed spans, process-wide
// (types are): kind k's TypeInfo is the k-th registered. A marker scanning
// an object of a typed span looks its type up here, where it would read
// another object's header.
#pragma once

#include <atomic>
#include <cstdint>

#include "tricolor/alloc/span_class.hpp"
#include "tricolor/gc/type_info.hpp"

namespace tricolor::gc {

extern std::atomic<const TypeInfo*> g_kind_types[alloc::kMaxKinds + 1];

// Acquire, pairing with the registration's release; the hand-over of any
// object of the kind orders the two anyway, and on x86 this is a plain load.
inline const TypeInfo* type_of_kind(std::uint32_t kind) noexcept {
  return g_kind_types[kind].load(std::memory_order_acquire);
}

}  // namespace tricolor::gc
