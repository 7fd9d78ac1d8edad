// Interner<T, Key>: one canonical managed object per value, for as long as
// anyone holds it (Go's unique.Make). An interpreter's symbols, a
// compiler's types, a graph store's labels: equal values share one object,
// so they compare by address, and the table forgets a value once its
// object has died.
//
//   Interner<Symbol, std::string> symbols{heap};
//   Root<Symbol> a = symbols.intern("x", [&] { return heap.make<Symbol>("x"); });
//   Root<Symbol> b = symbols.intern("x", ...);   // a.get() == b.get()
//
// The table maps each key to a weak handle; a cleanup on each canonical
// object removes its entry once the object is freed, so the table shrinks
// with the program's use. Thread-safe; every call is on a thread attached
// to the heap. `make` allocates (a safepoint) outside the table's lock, so
// two threads interning one new key may both make an object: one becomes
// canonical and the other is garbage.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "tricolor/heap.hpp"
#include "tricolor/root.hpp"
#include "tricolor/weak.hpp"

namespace tricolor {

template <class T, class Key, class Hash = std::hash<Key>, class Eq = std::equal_to<Key>>
class Interner {
 public:
  explicit Interner(Heap& heap) : heap_(heap), table_(std::make_shared<Table>()) {}
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  // The canonical object for `key`; `make()` returns a new T* for it when
  // none is alive.
  template <class Make>
  Root<T> intern(const Key& key, Make&& make) {
    if (Root<T> found = lookup(key)) return found;
    Root<T> fresh = make();
    // Made outside the lock: both allocate, and a thread must never wait
    // for a lock whose holder may be stopped at a safepoint.
    WeakRoot<T> weak = fresh.get();
    {
      std::lock_guard<std::mutex> lock(table_->mu);
      auto [it, inserted] = table_->entries.try_emplace(key);
      if (!inserted) {
        if (Root<T> other = it->second.lock()) return other;  // another thread won
      }
      it->second = std::move(weak);
    }
    // When the object is freed, its entry goes, unless the key has been
    // given a new object meanwhile. The table may be gone by then.
    heap_.add_cleanup(
        fresh.get(),
        [table = std::weak_ptr<Table>(table_)](const Key& k) {
          if (std::shared_ptr<Table> t = table.lock()) t->erase_if_dead(k);
        },
        key);
    return fresh;
  }

  // The canonical object for `key` if one is alive, else a null Root.
  Root<T> lookup(const Key& key) const {
    std::lock_guard<std::mutex> lock(table_->mu);
    auto it = table_->entries.find(key);
    return it != table_->entries.end() ? it->second.lock() : Root<T>();
  }

  // Entries in the table: live objects, and dead ones whose cleanup has not
  // run yet (Heap::run_finalizers waits for those).
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(table_->mu);
    return table_->entries.size();
  }

 private:
  struct Table {
    std::mutex mu;
    std::unordered_map<Key, WeakRoot<T>, Hash, Eq> entries;
    void erase_if_dead(const Key& k) {
      std::lock_guard<std::mutex> lock(mu);
      auto it = entries.find(k);
      if (it != entries.end() && it->second.get() == nullptr) entries.erase(it);
    }
  };

  Heap& heap_;
  std::shared_ptr<Table> table_;
};

}  // namespace tricolor
