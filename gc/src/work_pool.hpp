// Grey objects waiting to be scanned (Go's gcWork and work.full/empty).
//
// A marker keeps its grey objects in a block of its own and trades whole
// blocks with a shared pool: a full block goes to the pool when the marker
// needs room, and a marker with nothing left takes one from the pool. With
// several markers this is how work spreads (issue: concurrent marking);
// with one, the pool simply bounds the marker's memory to what it holds.
//
// An entry is an object's cell address, with the chunk index of a large
// array in the top 16 bits (user-space addresses on x86-64 and AArch64 fit
// in 48 bits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace tricolor::gc {

struct WorkBlock {
  static constexpr std::size_t kEntries = 254;  // a 2 KiB block, as Go's workbuf
  WorkBlock* next = nullptr;
  std::size_t count = 0;
  std::uintptr_t entries[kEntries];
};

class WorkPool {
 public:
  WorkPool() = default;
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  WorkBlock* take_empty();
  void put_empty(WorkBlock* block) noexcept;
  WorkBlock* take_full() noexcept;  // nullptr when no work is pooled
  void put_full(WorkBlock* block) noexcept;

 private:
  std::mutex mu_;
  WorkBlock* full_ = nullptr;
  WorkBlock* empty_ = nullptr;
};

class MarkStack {
 public:
  explicit MarkStack(WorkPool& pool) : pool_(pool), block_(pool.take_empty()) {}
  ~MarkStack() { pool_.put_empty(block_); }
  MarkStack(const MarkStack&) = delete;
  MarkStack& operator=(const MarkStack&) = delete;

  void push(std::uintptr_t entry) {
    if (block_->count == WorkBlock::kEntries) [[unlikely]] {
      pool_.put_full(block_);
      block_ = pool_.take_empty();
    }
    block_->entries[block_->count++] = entry;
  }
  bool pop(std::uintptr_t& entry) noexcept {
    if (block_->count == 0) [[unlikely]] {
      WorkBlock* full = pool_.take_full();
      if (full == nullptr) return false;
      pool_.put_empty(block_);
      block_ = full;
    }
    entry = block_->entries[--block_->count];
    return true;
  }

 private:
  WorkPool& pool_;
  WorkBlock* block_;
};

}  // namespace tricolor::gc
