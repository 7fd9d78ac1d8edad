// Array<T>: a managed array whose length is chosen at run time, with its
// elements stored inline after a length word. Allocate it with
// Heap::make_array<T>(n). Elements start value-initialised (Members null,
// numbers zero). An array of Member<U> (or of structs with trace()) is
// scanned in chunks, so a huge array does not hold up a marker.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

#include "tricolor/gc/type_info.hpp"
#include "tricolor/member.hpp"
#include "tricolor/object.hpp"
#include "tricolor/visitor.hpp"

namespace tricolor {

class Heap;

template <class T>
struct IsMember : std::false_type {};
template <class T>
struct IsMember<Member<T>> : std::true_type {};

// An element the collector must look into.
template <class T>
concept TracedElement = IsMember<T>::value || Traceable<T>;

template <class T>
class Array final : public Object {
 public:
  static_assert(alignof(T) <= 16, "tricolor: Array elements may be aligned to at most 16 bytes");

  std::size_t size() const noexcept { return length_; }
  T* data() noexcept { return reinterpret_cast<T*>(reinterpret_cast<char*>(this) + kDataOffset); }
  const T* data() const noexcept {
    return reinterpret_cast<const T*>(reinterpret_cast<const char*>(this) + kDataOffset);
  }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + length_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + length_; }

  void trace(Visitor& v) const
    requires TracedElement<T>
  {
    trace_range(0, length_, v);
  }
  void trace_range(std::size_t begin, std::size_t end, Visitor& v) const
    requires TracedElement<T>
  {
    for (std::size_t i = begin; i < end; ++i) v(data()[i]);
  }

  ~Array()
    requires std::is_trivially_destructible_v<T>
  = default;
  ~Array()
    requires(!std::is_trivially_destructible_v<T>)
  {
    std::destroy_n(data(), length_);
  }

  // Bytes an array of n elements occupies, header word excluded.
  static constexpr std::size_t bytes_for(std::size_t n) noexcept { return kDataOffset + n * sizeof(T); }

 private:
  friend class Heap;
  static constexpr std::size_t kDataOffset = (sizeof(std::size_t) + alignof(T) - 1) / alignof(T) * alignof(T);

  // Value-initializing a scalar (other than a pointer to member, whose null
  // is not all zero bits) is zero-initialization. In a cell the heap zeroed
  // (`zeroed`: every large array) such elements are already in place, and
  // an array of which the program writes a part costs only the pages it
  // writes; a small array of scalars is noscan, handed out as it was left,
  // and clears itself.
  Array(std::size_t n, bool zeroed) : length_(0) {
    if constexpr (!kZeroIsValue) {
      std::uninitialized_value_construct_n(data(), n);
    } else if (!zeroed) {
      std::memset(static_cast<void*>(data()), 0, n * sizeof(T));
    }
    length_ = n;
  }
  static constexpr bool kZeroIsValue = std::is_scalar_v<T> && !std::is_member_pointer_v<T>;

  std::size_t length_;
};

namespace gc {
template <class T>
  requires TracedElement<T>
struct ArrayTraits<Array<T>> {
  static constexpr std::size_t (*length)(const void*) =
      +[](const void* a) { return static_cast<const Array<T>*>(a)->size(); };
  static constexpr void (*trace_range)(const void*, std::size_t, std::size_t, Visitor&) =
      +[](const void* a, std::size_t b, std::size_t e, Visitor& v) {
        static_cast<const Array<T>*>(a)->trace_range(b, e, v);
      };
  static constexpr std::size_t element_size = sizeof(T);
};
}  // namespace gc

}  // namespace tricolor
