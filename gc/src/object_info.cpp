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

void fatal(const std::string& message) {
  std::fprintf(stderr, "tricolor: fatal error: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tricolor::gc
