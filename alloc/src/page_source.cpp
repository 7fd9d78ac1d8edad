#include "tricolor/alloc/page_source.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace tricolor::alloc {
namespace {

// mmap aligns to pages only: map `alignment` bytes more than asked and
// unmap the slack on either side of the aligned block. MAP_NORESERVE: the
// heap's own limit, not overcommit accounting, bounds what it holds.
class OsPageSource final : public PageSource {
 public:
  void* acquire(std::size_t bytes, std::size_t alignment) noexcept override {
    const std::size_t reserve = bytes + alignment;
    void* p = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t block = (start + alignment - 1) & ~(alignment - 1);
    const std::uintptr_t end = block + bytes;
    if (block > start) munmap(p, block - start);
    if (start + reserve > end) munmap(reinterpret_cast<void*>(end), start + reserve - end);
    return reinterpret_cast<void*>(block);
  }
  void release(void* block, std::size_t bytes) noexcept override { munmap(block, bytes); }
  bool acquires_zeroed() const noexcept override { return true; }
};

}  // namespace

PageSource& os_page_source() noexcept {
  static OsPageSource source;
  return source;
}

}  // namespace tricolor::alloc
