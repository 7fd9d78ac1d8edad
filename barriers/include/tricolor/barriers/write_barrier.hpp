// The write barrier's entry point. Every store of a managed pointer into a
// heap object comes through here (Member<T>), so that the collector can
// shade what the store hides and what it publishes.
//
// While no collection is marking, a store is just the store. The hybrid
// (Yuasa + Dijkstra) barrier of concurrent marking plugs in here without
// any change to the callers.
#pragma once

#include <atomic>

namespace tricolor::barriers {

template <class T>
inline void store_pointer(std::atomic<T*>& slot, T* value) noexcept {
  slot.store(value, std::memory_order_relaxed);
}

}  // namespace tricolor::barriers
