#include "specials.hpp"

#include <utility>

#include "finalizer_queue.hpp"
#include "marker.hpp"
#include "object_info.hpp"
#include "tricolor/alloc/segment.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor::gc {

struct Specials::Special {
  enum class Kind : std::uint8_t { kWeak, kFinalizer, kCleanup };
  Special(std::uint32_t object_index, Kind k) : index(object_index), kind(k) {}
  std::uint32_t index;  // the object's index in its span
  Kind kind;
  Special* next = nullptr;
  WeakCell* cell = nullptr;     // kWeak
  const void* keep = nullptr;   // kCleanup: a managed argument it keeps alive
  std::function<void(void*)> finalizer;
  std::function<void()> cleanup;
};

struct Specials::SpanSpecials {
  alloc::Span* span = nullptr;
  Special* head = nullptr;  // sorted by index
  // The sweepgen whose sweep processed this span (or found nothing to do).
  std::uint32_t processed_gen = 0;
  SpanSpecials* prev = nullptr;  // the shard's list
  SpanSpecials* next = nullptr;
};

namespace {

template <class Special, class Record>
Special* find_special(const Record* record, std::uint32_t index, typename Special::Kind kind) {
  if (record == nullptr) return nullptr;
  for (Special* s = record->head; s != nullptr && s->index <= index; s = s->next) {
    if (s->index == index && s->kind == kind) return s;
  }
  return nullptr;
}

template <class Special>
RootSet root_set_of(typename Special::Kind kind) {
  switch (kind) {
    case Special::Kind::kWeak:
      return RootSet::kWeakCells;
    case Special::Kind::kFinalizer:
      return RootSet::kFinalizerChildren;
    case Special::Kind::kCleanup:
      return RootSet::kCleanupArguments;
  }
  return RootSet::kNone;
}

}  // namespace

Specials::~Specials() {
  for (Shard& shard : shards_) {
    while (shard.spans != nullptr) drop_record(shard, shard.spans);
  }
}

Specials::Shard& Specials::shard_of_address(Shard* shards, const void* p) noexcept {
  // By segment: every object of a span, and the span, share one shard.
  return shards[(reinterpret_cast<std::uintptr_t>(p) >> alloc::kSegmentShift) % kShards];
}

Specials::SpanSpecials* Specials::record_of(Shard& shard, alloc::Span* span, bool create) {
  auto* record = static_cast<SpanSpecials*>(span->specials.load(std::memory_order_relaxed));
  if (record != nullptr || !create) return record;
  record = new SpanSpecials;
  record->span = span;
  record->next = shard.spans;
  if (shard.spans != nullptr) shard.spans->prev = record;
  shard.spans = record;
  // The attacher's half of the handshake with sweeping (top of specials.hpp):
  // publish, then look at the sweep.
  span->specials.store(record, std::memory_order_seq_cst);
  const std::uint32_t sg = spans_.sweepgen();
  const std::uint32_t span_sg = span->sweepgen.load(std::memory_order_seq_cst);
  // h-2 (unswept) and h+1 (cached, unswept): the sweep will see the record.
  // h-1 (being swept), h, h+3 (swept): this sweep has nothing to do for
  // objects that are alive, and only live objects get specials.
  record->processed_gen = (span_sg == sg - 2 || span_sg == sg + 1) ? sg - 2 : sg;
  return record;
}

void Specials::drop_record(Shard& shard, SpanSpecials* record) noexcept {
  while (Special* s = record->head) {
    record->head = s->next;
    delete s;
  }
  if (record->prev != nullptr) record->prev->next = record->next;
  if (record->next != nullptr) record->next->prev = record->prev;
  if (shard.spans == record) shard.spans = record->next;
  record->span->specials.store(nullptr, std::memory_order_relaxed);
  delete record;
}

void Specials::insert(Shard& shard, alloc::Span* span, Special* s) {
  SpanSpecials* record = record_of(shard, span, true);
  Special** link = &record->head;
  while (*link != nullptr && (*link)->index <= s->index) link = &(*link)->next;
  s->next = *link;
  *link = s;
}

WeakCell* Specials::find_weak(const void* object) {
  const ObjectRef ref = ObjectRef::of(object);
  Shard& shard = shard_of(object);
  std::lock_guard<std::mutex> lock(shard.mu);
  const Special* s = find_special<Special>(record_of(shard, ref.span, false), ref.index, Special::Kind::kWeak);
  return s != nullptr ? s->cell : nullptr;
}

WeakCell* Specials::attach_weak(const void* object, WeakCell* cell) {
  const ObjectRef ref = ObjectRef::of(object);
  Shard& shard = shard_of(object);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (const Special* s = find_special<Special>(record_of(shard, ref.span, false), ref.index, Special::Kind::kWeak)) {
    return s->cell;
  }
  auto* s = new Special{ref.index, Special::Kind::kWeak};
  s->cell = cell;
  insert(shard, ref.span, s);
  return cell;
}

void Specials::set_finalizer(const void* object, std::function<void(void*)> fn) {
  const ObjectRef ref = ObjectRef::of(object);
  Shard& shard = shard_of(object);
  auto* s = new Special{ref.index, Special::Kind::kFinalizer};
  s->finalizer = std::move(fn);
  std::lock_guard<std::mutex> lock(shard.mu);
  if (find_special<Special>(record_of(shard, ref.span, false), ref.index, Special::Kind::kFinalizer) != nullptr) {
    delete s;
    throw UsageError("tricolor: set_finalizer on an object of type " + type_name(ref) +
                     " that has a finalizer already. Clear it first with clear_finalizer.");
  }
  insert(shard, ref.span, s);
}

bool Specials::clear_finalizer(const void* object) {
  const ObjectRef ref = ObjectRef::of(object);
  Shard& shard = shard_of(object);
  Special* found = nullptr;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    SpanSpecials* record = record_of(shard, ref.span, false);
    if (record == nullptr) return false;
    for (Special** link = &record->head; *link != nullptr && (*link)->index <= ref.index; link = &(*link)->next) {
      if ((*link)->index == ref.index && (*link)->kind == Special::Kind::kFinalizer) {
        found = *link;
        *link = found->next;
        break;
      }
    }
    if (record->head == nullptr) drop_record(shard, record);
  }
  delete found;  // the function's captures are destroyed outside the lock
  return found != nullptr;
}

void Specials::add_cleanup(const void* object, std::function<void()> fn, const void* keep) {
  const ObjectRef ref = ObjectRef::of(object);
  Shard& shard = shard_of(object);
  auto* s = new Special{ref.index, Special::Kind::kCleanup};
  s->cleanup = std::move(fn);
  s->keep = keep;
  std::lock_guard<std::mutex> lock(shard.mu);
  insert(shard, ref.span, s);
}

const void* Specials::weak_target_while_sweeping(const WeakCell& cell, std::uint32_t sweepgen) {
  const void* target = cell.target.load(std::memory_order_acquire);
  if (target == nullptr) return nullptr;
  Shard& shard = shard_of(target);
  std::lock_guard<std::mutex> lock(shard.mu);
  // Cleared meanwhile, or not: with the lock held the sweep cannot clear it,
  // nor free the object's span, so the span may be read.
  target = cell.target.load(std::memory_order_relaxed);
  if (target == nullptr) return nullptr;
  const ObjectRef ref = ObjectRef::of(target);
  const SpanSpecials* record = record_of(shard, ref.span, false);
  if (record->processed_gen == sweepgen) return target;
  return ref.span->is_live(ref.index) ? target : nullptr;
}

void Specials::mark_roots(Marker& marker) {
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (SpanSpecials* record = shard.spans; record != nullptr; record = record->next) {
      for (Special* s = record->head; s != nullptr; s = s->next) {
        if (marker_skips(root_set_of<Special>(s->kind))) continue;
        switch (s->kind) {
          case Special::Kind::kWeak:
            marker.shade(s->cell);
            break;
          case Special::Kind::kFinalizer:
            // What the object reaches, not the object: it must be able to
            // die, and its finalizer will need what it points to.
            marker.scan_children(record->span->object_at(s->index), record->span);
            break;
          case Special::Kind::kCleanup:
            marker.mark_root(s->keep);
            break;
        }
      }
    }
  }
}

void Specials::for_each_root(const std::function<void(RootSet, const void*)>& f) {
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (SpanSpecials* record = shard.spans; record != nullptr; record = record->next) {
      for (Special* s = record->head; s != nullptr; s = s->next) {
        const RootSet set = root_set_of<Special>(s->kind);
        switch (s->kind) {
          case Special::Kind::kWeak:
            f(set, s->cell);
            break;
          case Special::Kind::kFinalizer:
            f(set, record->span->object_at(s->index));
            break;
          case Special::Kind::kCleanup:
            f(set, s->keep);
            break;
        }
      }
    }
  }
}

std::size_t Specials::count() const {
  std::size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (const SpanSpecials* record = shard.spans; record != nullptr; record = record->next) {
      for (const Special* s = record->head; s != nullptr; s = s->next) ++n;
    }
  }
  return n;
}

void Specials::sweep_span(void* context, alloc::Span* span) noexcept { static_cast<Specials*>(context)->sweep(span); }

void Specials::sweep(alloc::Span* span) noexcept {
  Shard& shard = shard_of(span->base);
  std::lock_guard<std::mutex> lock(shard.mu);
  SpanSpecials* record = record_of(shard, span, false);
  if (record == nullptr) return;
  if (destroying_) {
    drop_record(shard, record);
    return;
  }
  // 1. An unreachable object with a finalizer survives to be finalized; its
  // weak cell is cleared now, so no handle reads it again.
  for (Special** link = &record->head; *link != nullptr;) {
    Special* s = *link;
    if (s->kind != Special::Kind::kFinalizer || span->is_live(s->index)) {
      link = &s->next;
      continue;
    }
    void* object = const_cast<char*>(ObjectRef::of(span->object_at(s->index)).object());
    span->try_mark(s->index);
    if (Special* w = find_special<Special>(record, s->index, Special::Kind::kWeak)) {
      w->cell->target.store(nullptr, std::memory_order_release);
    }
    queue_.push({object, [fn = std::move(s->finalizer), object] { fn(object); }});
    *link = s->next;
    delete s;
  }
  // 2. Every special of an object that is still unmarked goes with it.
  for (Special** link = &record->head; *link != nullptr;) {
    Special* s = *link;
    const bool marked = span->is_live(s->index);
    if (marked && !(s->kind == Special::Kind::kWeak && s->cell->target.load(std::memory_order_relaxed) == nullptr)) {
      link = &s->next;
      continue;
    }
    if (s->kind == Special::Kind::kWeak) {
      // Release: a reader that then finds the span swept sees the clear.
      s->cell->target.store(nullptr, std::memory_order_release);
    } else if (s->kind == Special::Kind::kCleanup) {
      queue_.push({s->keep, std::move(s->cleanup)});
    }
    *link = s->next;
    delete s;
  }
  record->processed_gen = spans_.sweepgen();
  if (record->head == nullptr) drop_record(shard, record);
}

}  // namespace tricolor::gc
