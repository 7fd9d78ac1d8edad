// What the collector knows about a managed type, and where it keeps it.
//
// A traced type without a destructor (the common managed object: a node of
// Members and plain data) has no header. Its objects live in typed spans
// (alloc/span_class.hpp): the type gets a kind when first allocated, and
// the span's class names the kind, so the span says what all of its objects
// are. A binary-tree node is two pointers, 16 bytes, as in Go.
//
// An object of any other type that has trace() or a destructor (arrays, and
// types with destructors, which share spans with other types of their size)
// is preceded, inside its cell, by a header word: a pointer to the type's
// TypeInfo, with bit 0 set once the constructor has returned. The marker
// reads the header to scan the object; the sweeper reads it to run the
// destructor, and only if bit 0 says the object was fully constructed. A
// noscan, trivially destructible object has no header: nothing ever needs
// to look at it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <typeinfo>

#include "tricolor/alloc/size_classes.hpp"
#include "tricolor/visitor.hpp"

namespace tricolor::gc {

struct TypeInfo {
  void (*trace)(const void* object, Visitor& v);  // nullptr: noscan
  void (*destroy)(void* object) noexcept;         // nullptr: trivially destructible
  const std::type_info* type;
  std::size_t header_size;  // object = cell + header_size
  // Arrays are traced range by range, so that a large one never holds a
  // marker for long (Go's oblets). nullptr: not an array.
  std::size_t (*length)(const void* object);
  void (*trace_range)(const void* object, std::size_t begin, std::size_t end, Visitor& v);
  std::size_t element_size;
};

inline constexpr std::uintptr_t kConstructedBit = 1;

// The header word: TypeInfo* | kConstructedBit. A mark worker may read it
// while the constructing thread sets the bit (an object allocated before
// marking began, still in its constructor), so both go through atomic_ref.
// Relaxed: the TypeInfo part was written before the object was published
// (see write_barrier.hpp), and the bit is only read by the sweeper, after
// a stop-the-world.
inline std::uintptr_t load_header(const void* cell) noexcept {
  return std::atomic_ref<std::uintptr_t>(*static_cast<std::uintptr_t*>(const_cast<void*>(cell)))
      .load(std::memory_order_relaxed);
}
inline const TypeInfo* type_info_of(const void* cell) noexcept {
  return reinterpret_cast<const TypeInfo*>(load_header(cell) & ~kConstructedBit);
}
// The constructing thread is the header's only writer, so setting the bit
// is a plain store of the whole word, not a read-modify-write: a locked
// instruction here would wait for the stores that zeroed the new cell to
// leave the store buffer, on every allocation.
inline void set_constructed(void* cell, const TypeInfo* info) noexcept {
  std::atomic_ref<std::uintptr_t>(*static_cast<std::uintptr_t*>(cell))
      .store(reinterpret_cast<std::uintptr_t>(info) | kConstructedBit, std::memory_order_relaxed);
}

// Arrays specialise this with their element tracing.
template <class T>
struct ArrayTraits {
  static constexpr std::size_t (*length)(const void*) = nullptr;
  static constexpr void (*trace_range)(const void*, std::size_t, std::size_t, Visitor&) = nullptr;
  static constexpr std::size_t element_size = 0;
};

// Objects in typed spans: traced, nothing to destroy, of one fixed small size.
template <class T>
inline constexpr bool kTypedSpans = Traceable<T> && std::is_trivially_destructible_v<T> &&
                                    ArrayTraits<T>::length == nullptr && sizeof(T) <= alloc::kMaxSmallSize;

template <class T>
inline constexpr bool kNeedsHeader = (Traceable<T> || !std::is_trivially_destructible_v<T>) && !kTypedSpans<T>;

template <class T>
inline constexpr std::size_t kHeaderSize = kNeedsHeader<T> ? std::max(sizeof(void*), alignof(T)) : 0;

// The kind of a type whose objects live in typed spans, given once per type
// (and process): 1, 2, ... Throws UsageError past alloc::kMaxKinds types.
std::uint32_t register_kind(const TypeInfo* info);

template <class T>
constexpr void (*trace_function())(const void*, Visitor&) {
  if constexpr (Traceable<T>) {
    return [](const void* object, Visitor& v) { static_cast<const T*>(object)->trace(v); };
  } else {
    return nullptr;
  }
}

template <class T>
constexpr void (*destroy_function())(void*) noexcept {
  if constexpr (std::is_trivially_destructible_v<T>) {
    return nullptr;
  } else {
    return [](void* object) noexcept { static_cast<T*>(object)->~T(); };
  }
}

template <class T>
inline constexpr TypeInfo kTypeInfo = {
    trace_function<T>(),
    destroy_function<T>(),
    &typeid(T),
    kHeaderSize<T>,
    ArrayTraits<T>::length,
    ArrayTraits<T>::trace_range,
    ArrayTraits<T>::element_size,
};

}  // namespace tricolor::gc
