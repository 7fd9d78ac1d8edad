#include "object_info.hpp"

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace tricolor::gc {

std::string type_name(const ObjectRef& ref) {
  if (!ref.has_type_info()) {
    return "a " + std::to_string(ref.span->spanclass.large() ? ref.span->bytes() : ref.span->elem_size) +
           "-byte object without pointers";
  }
  const char* mangled = ref.info()->type->name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                    std::free);
  return status == 0 ? demangled.get() : mangled;
}

std::string freed_type_name(const ObjectRef& ref, bool marked) {
  if (ref.span->spanclass.kind() != 0 || !ref.has_type_info() || (marked && !ref.span->spanclass.noscan())) {
    return type_name(ref);
  }
  return {};
}

std::string zombie_message(std::uint64_t zombies, const void* first) {
  // The marker marked them, so the sweep's swap left them allocated: the
  // first one's span is in use, with its class, until its next sweep.
  const std::string type = first != nullptr ? freed_type_name(ObjectRef::of(first), true) : std::string();
  return "sweep found " + std::to_string(zombies) + " marked object" + (zombies == 1 ? "" : "s") +
         " that had been freed" + (type.empty() ? std::string() : " (one of type " + type + ")") +
         ". Something in the heap points to a freed object: most likely a raw pointer was kept across a safepoint "
         "(an allocation, heap.safepoint()) without a Root, the object was freed there, and the pointer was then "
         "stored in a Member. Run with GODEBUG=gccheckmark=1 to have the collector name the type of the object "
         "that holds the pointer, and keep objects in a Root (or reachable from one) across safepoints. If no such "
         "pointer exists, this is a collector bug.";
}

void fatal(const std::string& message) {
  std::fprintf(stderr, "tricolor: fatal error: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tricolor::gc
