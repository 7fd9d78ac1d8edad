// Specials: what the collector attaches to single objects (Go's span
// specials, mheap.go): the cell of an object's weak handles, a finalizer,
// cleanups. They hang off the object's span, in a list sorted by object
// index, so that sweeping a span finds the specials of its dead objects
// without a search, and an object without specials costs nothing.
//
// Locks. The spans of a heap are split into kShards shards by segment; one
// mutex per shard guards the special lists of its spans and the shard's
// list of spans that have specials. The lock order is heap lock (mu_) ->
// shard -> finalizer queue.
//
// Marking. Specials are a root set, scanned concurrently by a mark worker
// at the start of each mark phase (Go's markrootSpans):
//   - a weak cell stays alive while its object does, so that the object
//     keeps one canonical cell however many weak handles come and go;
//   - a finalizer keeps alive everything its object reaches, but not the
//     object itself (the finalizer will need what the object points to);
//   - a cleanup's managed argument stays alive.
// A special added during marking needs no scan of its own: by the hybrid
// barrier's snapshot, everything a mutator can reach while marking is
// marked by the end of it (an object it gets back from a weak handle is
// shaded by the read), and a cell made now is allocated black.
//
// Sweeping. Sweeping a span (on whichever thread sweeps it) reports it here
// before its bitmaps are swapped, and under the shard lock:
//   1. an unmarked object with a finalizer is marked again (it survives this
//      sweep), its finalizer is queued and its weak cell cleared, as Go does:
//      a weak handle reads null once the finalizer is queued;
//   2. every special of an object still unmarked goes: its weak cell is
//      cleared, its cleanups are queued;
//   3. the span's processed_gen becomes the heap's sweepgen.
// So the work grows with the specials of dead objects, and none of it
// happens while the world is stopped.
//
// Reading a weak handle (HeapState::weak_target). After mark termination,
// an object marking left white is dead, but its cell still names it until
// its span is swept. A reader in that window takes the shard lock: if the
// span's specials were processed in this sweep, the cell is the truth;
// otherwise the span's mark bits still are (the sweeper processes under
// the lock and swaps the bitmaps only after that). Holding the lock with
// the cell still naming the object also keeps the object's span from being
// freed under the reader. Once every span is swept (HeapState's
// sweep_done_gen_), a non-null cell is a live object and the read takes no
// lock.
//
// Attaching the first special to a span races with the span's sweep, which
// only reports spans that have specials. The two sides are Dekker's: the
// attacher stores `specials`, then loads `sweepgen`; a sweeper stores
// `sweepgen` (claiming the sweep), then loads `specials`, all sequentially
// consistent. An attacher that sees the sweep claimed or done marks the span
// processed for this generation itself: either the sweeper saw the special
// and will process it (the object is alive, so that changes nothing), or it
// did not and the span's mark bits are being swapped, which a reader must
// then not consult.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>

#include "root_sets.hpp"
#include "tricolor/alloc/span.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/weak.hpp"

namespace tricolor::gc {

class FinalizerQueue;
class Marker;

class Specials {
 public:
  Specials(alloc::SpanHeap& spans, FinalizerQueue& queue) noexcept : spans_(spans), queue_(queue) {}
  ~Specials();
  Specials(const Specials&) = delete;
  Specials& operator=(const Specials&) = delete;

  // The weak cell of `object`, or nullptr if it has none.
  WeakCell* find_weak(const void* object);
  // Makes `cell` the weak cell of `object` unless another thread gave it
  // one first; returns the cell the object has now.
  WeakCell* attach_weak(const void* object, WeakCell* cell);
  // Throws UsageError if the object has a finalizer already.
  void set_finalizer(const void* object, std::function<void(void*)> fn);
  // Returns whether there was one.
  bool clear_finalizer(const void* object);
  // `keep`: a managed object the cleanup needs, kept alive until it runs.
  void add_cleanup(const void* object, std::function<void()> fn, const void* keep);

  // Whether the object the cell names is alive, during the sweep window
  // (see the top of this file). `sweepgen` is the heap's.
  const void* weak_target_while_sweeping(const WeakCell& cell, std::uint32_t sweepgen);

  // Greys what specials keep alive; a mark worker calls it once per cycle.
  void mark_roots(Marker& marker);
  // What mark_roots greys, for gccheckmark: `f(set, pointer)` for each
  // weak cell (kWeakCells), object with a finalizer (kFinalizerChildren:
  // what it points to is kept, not the object) and cleanup's argument
  // (kCleanupArguments, may be null), under the specials' locks.
  void for_each_root(const std::function<void(RootSet, const void*)>& f);
  // Counts of specials now, for tests and statistics.
  std::size_t count() const;

  // SpanHeapOptions::on_specials: `context` is the Specials.
  static void sweep_span(void* context, alloc::Span* span) noexcept;
  // From now on sweeping frees every special and queues nothing: the heap
  // is being destroyed, its objects die with it, and their cells too.
  void start_destroying() noexcept { destroying_ = true; }

 private:
  struct Special;
  struct SpanSpecials;
  static constexpr std::size_t kShards = 64;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    SpanSpecials* spans = nullptr;  // spans of this shard that have specials
  };
  static Shard& shard_of_address(Shard* shards, const void* p) noexcept;
  Shard& shard_of(const void* p) noexcept { return shard_of_address(shards_, p); }

  // Under the shard's lock: the span's record, made if `create`.
  SpanSpecials* record_of(Shard& shard, alloc::Span* span, bool create);
  // Links `s` into the span's sorted list (shard lock held).
  void insert(Shard& shard, alloc::Span* span, Special* s);
  void sweep(alloc::Span* span) noexcept;
  void drop_record(Shard& shard, SpanSpecials* record) noexcept;

  alloc::SpanHeap& spans_;
  FinalizerQueue& queue_;
  Shard shards_[kShards];
  bool destroying_ = false;  // set after every other thread of the heap is gone
};

}  // namespace tricolor::gc
