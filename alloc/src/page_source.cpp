#include "tricolor/alloc/page_source.hpp"

#include <mimalloc.h>

namespace tricolor::alloc {
namespace {

// mi_malloc_aligned reserves address space for the alignment but commits
// only the pages we touch, so a segment costs RSS only as it fills.
class MimallocPageSource final : public PageSource {
 public:
  void* acquire(std::size_t bytes, std::size_t alignment) noexcept override {
    return mi_malloc_aligned(bytes, alignment);
  }
  void release(void* block, std::size_t) noexcept override { mi_free(block); }
};

}  // namespace

PageSource& mimalloc_page_source() noexcept {
  static MimallocPageSource source;
  return source;
}

}  // namespace tricolor::alloc
