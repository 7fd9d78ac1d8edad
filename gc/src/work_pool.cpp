#include "work_pool.hpp"

#include <new>

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
  if (b != nullptr) full_ = b->next;
  return b;
}

void WorkPool::put_full(WorkBlock* block) noexcept {
  std::lock_guard<std::mutex> guard(mu_);
  block->next = full_;
  full_ = block;
}

}  // namespace tricolor::gc
