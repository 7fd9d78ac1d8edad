// Where segments come from. The heap asks for large aligned blocks and gives
// them back whole. The default source maps them from the operating system
// (Go's sysAlloc): pages are committed only as they are touched, a block
// given back leaves the process's RSS at once, and a fresh block is zero,
// so a large object on pages nothing has used needs no clearing.
//
// A source reports failure by returning nullptr; the page heap turns that
// into tricolor::OutOfMemory after leaving its own state untouched. Tests
// inject a failing source to exercise that path, and a dirtying one to
// check that the heap clears what a source does not.
#pragma once

#include <cstddef>

namespace tricolor::alloc {

class PageSource {
 public:
  virtual ~PageSource() = default;
  // Returns `bytes` bytes aligned to `alignment`, or nullptr. The contents
  // are zero if acquires_zeroed(), unspecified otherwise.
  virtual void* acquire(std::size_t bytes, std::size_t alignment) noexcept = 0;
  virtual void release(void* block, std::size_t bytes) noexcept = 0;
  virtual bool acquires_zeroed() const noexcept = 0;
};

// The process-wide source of anonymous memory mappings.
PageSource& os_page_source() noexcept;

}  // namespace tricolor::alloc
