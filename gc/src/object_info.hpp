// What the collector can learn about an object from its address: its span,
// its cell, its TypeInfo (if it has one), and a printable type name.
#pragma once

#include <cstdint>
#include <string>

#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/gc/type_info.hpp"
#include "type_kinds.hpp"

namespace tricolor::gc {

struct ObjectRef {
  alloc::Span* span;
  std::uint32_t index;
  char* cell;

  static ObjectRef of(const void* object) noexcept {
    alloc::Span* span = alloc::Segment::span_of(object);
    const std::uint32_t index = span->object_index(object);
    return {span, index, static_cast<char*>(span->object_at(index))};
  }
  // Objects with a trace() or a destructor have a TypeInfo: named by their
  // typed span, or by a header.
  bool has_type_info() const noexcept { return !span->spanclass.noscan() || span->spanclass.finalize(); }
  const TypeInfo* info() const noexcept {
    const std::uint32_t kind = span->spanclass.kind();
    return kind != 0 ? type_of_kind(kind) : type_info_of(cell);
  }
  const char* object() const noexcept { return has_type_info() ? cell + info()->header_size : cell; }
};

// "Node" for an object with a header, "a 48-byte object without pointers" otherwise.
std::string type_name(const ObjectRef& ref);

// The type of an object that was freed, where that can be told without
// trusting memory nobody may have written since: from its typed span or
// its size, or from its header if `marked` and its span is scanned (the
// marker has read that header already). Empty otherwise.
std::string freed_type_name(const ObjectRef& ref, bool marked);

// What the sweep says when it finds `zombies` marked objects that were
// never allocated, `first` one of them: what most likely happened, and how
// to find it.
std::string zombie_message(std::uint64_t zombies, const void* first);

// Prints `message` and aborts: the object graph is broken, and no recovery
// would leave the heap trustworthy.
[[noreturn]] void fatal(const std::string& message);

}  // namespace tricolor::gc
