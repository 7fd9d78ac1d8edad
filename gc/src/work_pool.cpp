#include "work_pool.hpp"

#include <chrono>
#include <new>
#include <utility>

namespace tricolor::gc {

WorkPool::~WorkPool() {
  for (WorkBlock* list : {full_, empty_}) {
    while (list != nullptr) {
      WorkBlock* next = list->next;
      delete list;
      list = next;
    }
  }
}

WorkBlock* WorkPool::take_empty() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (WorkBlock* b = empty_) {
      empty_ = b->next;
      b->count = 0;
      return b;
    }
  }
  return new WorkBlock();
}

void WorkPool::put_empty(WorkBlock* block) noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  block->next = empty_;
  empty_ = block;
}

WorkBlock* WorkPool::take_full() noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  WorkBlock* b = full_;
  if (b != nullptr) {
    full_ = b->next;
    full_count_.fetch_sub(1, std::memory_order_relaxed);
  }
  return b;
}

void WorkPool::put_full(WorkBlock* block) noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  block->next = full_;
  full_ = block;
  full_count_.fetch_add(1, std::memory_order_relaxed);
  if (waiting_ != 0) cv_.notify_one();
}

void WorkPool::begin_round(unsigned workers) noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  round_workers_ = workers;
  waiting_ = 0;
  quiescent_ = false;
}

WorkBlock* WorkPool::await_full() noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  ++waiting_;
  while (full_ == nullptr && !quiescent_) {
    // Every worker waits and none holds work: nothing can refill the pool
    // but a mutator, and the collector deals with those between rounds.
    if (waiting_ == round_workers_) {
      quiescent_ = true;
      cv_.notify_all();
      break;
    }
    cv_.wait(lock);
  }
  --waiting_;
  if (quiescent_) return nullptr;
  WorkBlock* b = full_;
  full_ = b->next;
  full_count_.fetch_sub(1, std::memory_order_relaxed);
  return b;
}

bool WorkPool::sit_out(std::uint64_t ns) noexcept {
  std::unique_lock<std::mutex> lock(mu_);
  ++waiting_;
  if (waiting_ == round_workers_ && full_ == nullptr) {
    quiescent_ = true;
    cv_.notify_all();
  }
  cv_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return quiescent_; });
  --waiting_;
  return !quiescent_;
}

void MarkStack::publish() {
  if (block_->count == 0) return;
  pool_.put_full(block_);
  block_ = pool_.take_empty();
}

void MarkStack::balance() {
  if (block_->count < 8 || pool_.has_work()) return;
  WorkBlock* half = pool_.take_empty();
  const std::size_t n = block_->count / 2;
  block_->count -= n;
  for (std::size_t i = 0; i < n; ++i) half->entries[i] = block_->entries[block_->count + i];
  half->count = n;
  pool_.put_full(half);
}

void WorkPool::defer_ephemerons(std::vector<PendingEphemeron>& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  ephemerons_.insert(ephemerons_.end(), batch.begin(), batch.end());
  batch.clear();
}

std::vector<PendingEphemeron> WorkPool::take_ephemerons() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(ephemerons_, {});
}

bool WorkPool::has_ephemerons() {
  std::lock_guard<std::mutex> lock(mu_);
  return !ephemerons_.empty();
}

void WorkPool::clear_ephemerons() {
  std::lock_guard<std::mutex> lock(mu_);
  ephemerons_.clear();
  ephemerons_.shrink_to_fit();
}

}  // namespace tricolor::gc
