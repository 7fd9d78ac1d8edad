// The error a heap raises when it cannot grow. It is a std::bad_alloc so
// code that already handles allocation failure keeps working; what() says
// how much was asked for, what limit was hit, and what to do about it.
#pragma once

#include <new>
#include <string>

namespace tricolor {

class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace tricolor
