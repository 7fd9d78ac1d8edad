// Where segments come from. The heap asks for large aligned blocks and gives
// them back whole; the default source is mimalloc (mi_malloc_aligned), which
// reserves address space and commits pages only as they are touched.
//
// A source reports failure by returning nullptr; the page heap turns that
// into tricolor::OutOfMemory after leaving its own state untouched. Tests
// inject a failing source to exercise that path.
#pragma once

#include <cstddef>

namespace tricolor::alloc {

class PageSource {
 public:
  virtual ~PageSource() = default;
  // Returns `bytes` bytes aligned to `alignment`, or nullptr. Contents are unspecified.
  virtual void* acquire(std::size_t bytes, std::size_t alignment) noexcept = 0;
  virtual void release(void* block, std::size_t bytes) noexcept = 0;
};

// The process-wide mimalloc-backed source.
PageSource& mimalloc_page_source() noexcept;

}  // namespace tricolor::alloc
