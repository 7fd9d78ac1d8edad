// Grey objects waiting to be scanned (Go's gcWork and work.full/empty).
//
// A marker keeps its grey objects in a block of its own and trades whole
// blocks with a shared pool: a full block goes to the pool when the marker
// needs room, and a marker with nothing left takes one from the pool. This
// is how work spreads between mark workers; a worker whose block holds much
// while the pool is empty hands half of it over (Go's balance), so an idle
// worker never waits on a busy one's private stack.
//
// Mutators put work into the pool too (their root scans, barrier flushes
// and assists), but only mark workers take part in a round: a round ends,
// quiescent, when every worker of it waits for work and the pool is empty.
// Whether marking is done is decided by the collector afterwards (it asks
// the mutators to flush and checks again with the world stopped).
//
// Ephemerons wait here too: a pair scanned while its key was still white
// leaves (key, value) in the pool, and the collector marks the value once
// the key is marked (HeapState::resolve_ephemerons).
//
// An entry is an object's cell address, with the chunk index of a large
// array in the top 16 bits (user-space addresses on x86-64 and AArch64 fit
// in 48 bits).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tricolor::gc {

struct PendingEphemeron {
  const void* key;    // the key object, white when the pair was scanned
  const void* value;  // the value the pair held then
};

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
  // Relaxed: a hint for balancing and pacing; decisions that must be exact
  // are taken under the pool's lock or with the world stopped.
  bool has_work() const noexcept { return full_count_.load(std::memory_order_relaxed) != 0; }

  // ---- Ephemerons waiting for their keys.
  void defer_ephemerons(std::vector<PendingEphemeron>& batch);
  std::vector<PendingEphemeron> take_ephemerons();
  bool has_ephemerons();
  // Drops them all (at mark termination: their keys died, and their values
  // with them unless something else holds those).
  void clear_ephemerons();

  // ---- Rounds of mark workers.
  void begin_round(unsigned workers) noexcept;
  // A full block for a worker of the round, waiting while other workers may
  // still produce some; nullptr once the round is quiescent.
  WorkBlock* await_full() noexcept;
  // A throttled worker sits out up to `ns` nanoseconds, holding no work; it
  // counts as waiting, so the round may end meanwhile. False if it did.
  bool sit_out(std::uint64_t ns) noexcept;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  WorkBlock* full_ = nullptr;
  WorkBlock* empty_ = nullptr;
  std::atomic<std::size_t> full_count_{0};
  std::vector<PendingEphemeron> ephemerons_;
  unsigned round_workers_ = 0;
  unsigned waiting_ = 0;
  bool quiescent_ = true;
};

class MarkStack {
 public:
  explicit MarkStack(WorkPool& pool) : pool_(pool), block_(pool.take_empty()) {}
  ~MarkStack() {
    publish();
    pool_.put_empty(block_);
  }
  MarkStack(const MarkStack&) = delete;
  MarkStack& operator=(const MarkStack&) = delete;

  void push(std::uintptr_t entry) {
    if (block_->count == WorkBlock::kEntries) [[unlikely]] {
      pool_.put_full(block_);
      block_ = pool_.take_empty();
    }
    block_->entries[block_->count++] = entry;
  }
  // From this marker's block; then, if `from_pool`, from the pool.
  bool pop(std::uintptr_t& entry, bool from_pool = true) noexcept {
    if (block_->count == 0) [[unlikely]] {
      WorkBlock* full = from_pool ? pool_.take_full() : nullptr;
      if (full == nullptr) return false;
      adopt(full);
    }
    entry = block_->entries[--block_->count];
    return true;
  }
  bool empty() const noexcept { return block_->count == 0; }
  // Replaces the (empty) block with one from the pool.
  void adopt(WorkBlock* full) noexcept {
    pool_.put_empty(block_);
    block_ = full;
  }
  // Gives every entry this marker holds to the pool.
  void publish();
  // Hands half of the block over when the pool has none for idle workers.
  void balance();

 private:
  WorkPool& pool_;
  WorkBlock* block_;
};

}  // namespace tricolor::gc
