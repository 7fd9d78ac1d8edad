// Ephemerons: a value kept alive only while its key is (what JavaScript's
// WeakMap needs, cppgc's EphemeronPair).
//
//   Ephemeron<K, V>     a key/value pair, a field of a managed object that
//                       lists it in trace() like a Member: `v(pair)`.
//   EphemeronMap<K, V>  a managed hash map from key objects (by identity) to
//                       values, each entry an ephemeron.
//
// The key is held weakly. The value is held strongly while the key is alive
// and not at all once it is dead, so a value that points back to its own key
// does not keep the pair alive: the cycle is collected. Marking reaches the
// fixed point: when a key is marked, its value is marked, which may mark
// further keys, and so on, before any weak handle is cleared.
//
// Both read on a thread attached to the heap. Setting a key for the first
// time makes its weak cell (see weak.hpp), and EphemeronMap::set may grow
// its table: both allocate, and so are safepoints.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tricolor/array.hpp"
#include "tricolor/barriers/write_barrier.hpp"
#include "tricolor/heap.hpp"
#include "tricolor/member.hpp"
#include "tricolor/object.hpp"
#include "tricolor/visitor.hpp"
#include "tricolor/weak.hpp"

namespace tricolor {

template <class K, class V>
class EphemeronMap;

template <class K, class V>
class Ephemeron {
 public:
  Ephemeron() noexcept = default;
  Ephemeron(const Ephemeron&) = delete;
  Ephemeron& operator=(const Ephemeron&) = delete;

  // Sets both; a null key clears the pair.
  void set(K* key, V* value) {
    if (key == nullptr) {
      clear();
      return;
    }
    assign(gc::weak_cell(key), value);
  }
  void clear() { assign(nullptr, nullptr); }

  // The key, or nullptr if it died or none is set.
  K* key() const { return static_cast<K*>(const_cast<void*>(gc::weak_target(key_.get()))); }
  // The value while the key is alive, else nullptr.
  V* value() const { return key() != nullptr ? value_.load(std::memory_order_acquire) : nullptr; }

  void trace(Visitor& v) const {
    const gc::WeakCell* key_cell = key_.get();  // the key first: see assign
    v.ephemeron(key_cell, value_.load(std::memory_order_acquire));
  }

 private:
  friend class EphemeronMap<K, V>;
  const gc::WeakCell* key_cell() const noexcept { return key_.get(); }

  void assign(gc::WeakCell* key_cell, V* value) {
    if (barriers::barrier_enabled()) [[unlikely]] {
      // The deletion barrier shades the old value only while its key lives:
      // a value whose key died may have been freed with it.
      V* old = gc::weak_target(key_.get()) != nullptr ? value_.load(std::memory_order_acquire) : nullptr;
      barriers::shade_pair(old, value);
    }
    // The value before the key: a marker that reads the new key (acquire)
    // reads this value, and one that reads the old key reads a value stored
    // while it was alive, or this one, which the barrier shaded.
    value_.store(value, std::memory_order_release);
    key_ = key_cell;
  }

  Member<gc::WeakCell> key_;
  std::atomic<V*> value_{nullptr};
};

template <class K, class V>
class EphemeronMap final : public Object {
 public:
  explicit EphemeronMap(Heap& heap) : heap_(heap) {}

  // The value of `key`, or nullptr.
  V* get(K* key) const {
    const gc::WeakCell* cell = gc::find_weak_cell(key);
    if (cell == nullptr || slots_.get() == nullptr) return nullptr;
    const Slot* slot = find(cell);
    return slot != nullptr ? slot->value() : nullptr;
  }
  bool contains(K* key) const { return get(key) != nullptr; }

  // Maps `key` to `value`; a null value erases the key.
  void set(K* key, V* value) {
    if (value == nullptr) {
      erase(key);
      return;
    }
    gc::WeakCell* cell = gc::weak_cell(key);  // may allocate: before any slot is chosen
    if (slots_.get() == nullptr || 2 * (used_ + 1) > slots_->size()) grow();
    Array<Slot>& slots = *slots_;
    const std::size_t mask = slots.size() - 1;
    Slot* reuse = nullptr;
    for (std::size_t i = hash(cell) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots[i];
      if (slot.key_cell() == cell) {
        slot.assign(cell, value);
        return;
      }
      if (slot.key_cell() == nullptr) {
        if (reuse == nullptr) {
          reuse = &slot;
          ++used_;
        }
        break;
      }
      // A slot whose key died may take the new entry, once we know the key
      // is not further along the probe sequence.
      if (reuse == nullptr && slot.key() == nullptr) reuse = &slot;
    }
    reuse->assign(cell, value);
  }

  // Removes `key`; returns whether it was there (and alive).
  bool erase(K* key) {
    const gc::WeakCell* cell = gc::find_weak_cell(key);
    if (cell == nullptr || slots_.get() == nullptr) return false;
    Slot* slot = find(cell);
    if (slot == nullptr) return false;
    // Left as a tombstone (a cell that is not the key's own anymore would
    // be wrong: an absent key must never match); its value goes now.
    const bool was_alive = slot->value() != nullptr;
    slot->assign(const_cast<gc::WeakCell*>(cell), nullptr);
    return was_alive;
  }

  // Entries whose key is alive. O(capacity).
  std::size_t size() const {
    std::size_t n = 0;
    if (slots_.get() != nullptr) {
      for (const Slot& slot : *slots_) n += slot.value() != nullptr;
    }
    return n;
  }
  // Slots in use, entries whose key died included, until the next growth
  // sweeps those out.
  std::size_t slots_used() const noexcept { return used_; }

  void trace(Visitor& v) const { v(slots_); }

 private:
  using Slot = Ephemeron<K, V>;
  static std::size_t hash(const gc::WeakCell* cell) noexcept {
    // Cells are 16-byte aligned managed objects; mix the address bits.
    auto x = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(cell) >> 4);
    x *= 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(x ^ (x >> 29));
  }
  Slot* find(const gc::WeakCell* cell) const {
    Array<Slot>& slots = *slots_;
    const std::size_t mask = slots.size() - 1;
    for (std::size_t i = hash(cell) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots[i];
      if (slot.key_cell() == cell) return &slot;
      if (slot.key_cell() == nullptr) return nullptr;
    }
  }
  // A table at most a quarter full of the live entries, which are moved;
  // the entries of dead keys are left behind.
  void grow() {
    const std::size_t live = size();
    std::size_t capacity = 8;
    while (capacity < 4 * (live + 1)) capacity *= 2;
    Root<Array<Slot>> old = slots_.get();
    Root<Array<Slot>> fresh = heap_.make_array<Slot>(capacity);
    used_ = 0;
    if (old) {
      for (Slot& slot : *old) {
        if (V* value = slot.value()) {
          gc::WeakCell* cell = const_cast<gc::WeakCell*>(slot.key_cell());
          for (std::size_t i = hash(cell) & (capacity - 1);; i = (i + 1) & (capacity - 1)) {
            if ((*fresh)[i].key_cell() == nullptr) {
              (*fresh)[i].assign(cell, value);
              ++used_;
              break;
            }
          }
        }
      }
    }
    slots_ = fresh.get();
  }

  Heap& heap_;
  Member<Array<Slot>> slots_;
  std::size_t used_ = 0;
};

}  // namespace tricolor
