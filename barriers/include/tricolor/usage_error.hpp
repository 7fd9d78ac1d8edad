// The error the library raises when it is used wrongly: a heap operation on
// a thread not attached to the heap, a pointer into one heap stored into
// another, a bad environment setting. what() says what was wrong and what to
// do. Nothing is changed when it is thrown.
#pragma once

#include <stdexcept>
#include <string>

namespace tricolor {

class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace tricolor
