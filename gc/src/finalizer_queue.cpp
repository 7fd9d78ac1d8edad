#include "finalizer_queue.hpp"

#include <cstdio>
#include <exception>

#include "heap_state.hpp"
#include "marker.hpp"
#include "root_sets.hpp"
#include "tricolor/barriers/write_barrier.hpp"
#include "tricolor/root.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor::gc {

FinalizerQueue::~FinalizerQueue() { stop(); }

void FinalizerQueue::push(Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.push_back(std::move(entry));
  changed_.notify_all();
}

void FinalizerQueue::start() {
  std::call_once(started_, [this] { thread_ = std::thread([this] { run_thread(); }); });
}

void FinalizerQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  entries_.clear();
}

void FinalizerQueue::mark_roots(Marker& marker) {
  if (marker_skips(RootSet::kFinalizerQueue)) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : entries_) marker.mark_root(e.keep);
}

void FinalizerQueue::for_each_root(const std::function<void(const void*)>& f) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : entries_) f(e.keep);
}

std::uint64_t FinalizerQueue::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

void FinalizerQueue::wait_idle() {
  Mutator* self = Mutator::lookup(heap_.heap());
  if (std::this_thread::get_id() == thread_.get_id()) {
    throw UsageError("tricolor: run_finalizers() was called from a finalizer or cleanup, which would wait for "
                     "itself. Call it from another thread.");
  }
  // A finalizer may need a collection to finish; this thread must not hold
  // one up while it waits.
  if (self != nullptr) self->enter_blocking();
  {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return (entries_.empty() && !running_entry_) || stopping_; });
  }
  if (self != nullptr) self->leave_blocking();
}

void FinalizerQueue::run_thread() {
  Mutator self(heap_.heap(), heap_);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (entries_.empty() && !stopping_) {
      // Wait as a blocking thread. The heap's lock comes before ours, so
      // ours is let go while the thread changes state.
      lock.unlock();
      self.enter_blocking();
      lock.lock();
      changed_.wait(lock, [&] { return stopping_ || !entries_.empty(); });
      lock.unlock();
      self.leave_blocking();
      lock.lock();
    }
    if (stopping_) return;
    if (entries_.empty()) continue;
    Entry entry = std::move(entries_.front());
    entries_.pop_front();
    // Out of the queue, which marking may have scanned already: the
    // deletion barrier keeps the object for this cycle, and the Root for
    // the next ones.
    if (barriers::barrier_enabled()) barriers::shade_pair(entry.keep, nullptr);
    running_entry_ = true;
    lock.unlock();
    {
      Root<Object> keep(static_cast<Object*>(const_cast<void*>(entry.keep)));
      try {
        entry.run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "tricolor: a finalizer or cleanup threw: %s\n", e.what());
        std::terminate();
      } catch (...) {
        std::fputs("tricolor: a finalizer or cleanup threw an exception\n", stderr);
        std::terminate();
      }
      entry.run = nullptr;  // its captures go before the object may
    }
    lock.lock();
    running_entry_ = false;
    ++completed_;
    changed_.notify_all();
  }
}

}  // namespace tricolor::gc
