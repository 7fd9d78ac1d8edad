// What each call of tricolor's API costs, beside what the same thing costs
// without a collector, in the same run (Google Benchmark; perf/run_api_micro.sh
// prints the medians side by side):
//
//   BM_make/N            heap.make<T>() of an N-byte managed object (a Member
//                        and N - 8 bytes of payload: one size class each), 256
//                        per batch, the batch dropped at once. Includes the
//                        collections that garbage costs (GOGC=100, nothing
//                        live): what a program pays per object, amortised.
//   BM_make_plain/N      the same with an object without pointers (a word
//                        and a payload): noscan, not zeroed
//   BM_mi_malloc/N       mi_malloc of N bytes, 256 per batch, then mi_free
//   BM_mi_zalloc/N       the same zeroed, as make zeroes
//   BM_mi_zalloc_fifo/N  mi_zalloc, each object freed 4 MiB of allocation
//                        later: its memory as cold as make's, whose garbage
//                        is reused a cycle (a 4 MiB heap goal) later, where
//                        the batches above reuse the same 256 hot blocks
//   BM_member_store/B    a Member<T> assignment, the write barrier off (B = 0,
//                        no heap marking) and on (B = 1: as while a heap
//                        marks; the barrier records the old and the new
//                        pointer in the thread's buffer and hands each full
//                        buffer to the marking heaps, here none, so the
//                        shading itself, counted as mark work, is not in it)
//   BM_raw_store         a plain pointer store
//   BM_shared_ptr_store  a std::shared_ptr assignment (one count up, one down)
//   BM_root              a Root<T> made and destroyed
//   BM_shared_ptr_copy   a std::shared_ptr copied and destroyed
//   BM_blocking_scope    a BlockingScope entered and left
#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tricolor/tricolor.hpp>

#include "tricolor/barriers/write_barrier.hpp"

namespace {

constexpr std::size_t kBatch = 256;

template <std::size_t N>
struct Sized : tricolor::Object {
  // User-provided, so that make's value-initialisation does not zero the
  // payload again (the cell comes zeroed): the constructor writes what the
  // peers write, a word.
  Sized() {}
  tricolor::Member<Sized> next;
  std::byte payload[N - sizeof(tricolor::Member<Sized>)];
  void trace(tricolor::Visitor& v) const { v(next); }
};

template <std::size_t N>
struct Plain : tricolor::Object {
  Plain() {}  // writes what the peers write, a word
  void* word = nullptr;
  std::byte payload[N - sizeof(void*)];
};

tricolor::Heap& heap() {
  static tricolor::Heap h;
  static tricolor::ThreadScope attach{h};  // Google Benchmark runs everything on this thread
  return h;
}

template <class T>
void BM_make(benchmark::State& state) {
  tricolor::Heap& h = heap();
  std::array<void*, kBatch> batch;
  for (auto _ : state) {
    // Raw pointers, never read again: they only keep the stores from being
    // optimised away, as the peers' arrays are needed to free.
    for (void*& p : batch) p = h.make<T>();
    benchmark::DoNotOptimize(batch.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

template <void* (*Alloc)(std::size_t)>
void BM_mimalloc(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::array<void*, kBatch> batch;
  for (auto _ : state) {
    for (void*& p : batch) {
      p = Alloc(n);
      *static_cast<void**>(p) = nullptr;  // as Sized's constructor writes its Member
    }
    benchmark::DoNotOptimize(batch.data());
    for (void* p : batch) mi_free(p);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void BM_mi_zalloc_fifo(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<void*> ring(std::max<std::size_t>((std::size_t{4} << 20) / n, kBatch), nullptr);
  std::size_t next = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      mi_free(ring[next]);
      void* p = mi_zalloc(n);
      *static_cast<void**>(p) = nullptr;
      ring[next] = p;
      next = next + 1 == ring.size() ? 0 : next + 1;
    }
    benchmark::DoNotOptimize(ring.data());
  }
  for (void* p : ring) mi_free(p);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void* mi_malloc_n(std::size_t n) { return mi_malloc(n); }
void* mi_zalloc_n(std::size_t n) { return mi_zalloc(n); }

using Node = Sized<16>;

void BM_member_store(benchmark::State& state) {
  tricolor::Heap& h = heap();
  tricolor::Root<Node> holder = h.make<Node>();
  tricolor::Root<Node> a = h.make<Node>();
  tricolor::Root<Node> b = h.make<Node>();
  const bool on = state.range(0) != 0;
  if (on) tricolor::barriers::marking_heaps.fetch_add(1, std::memory_order_relaxed);
  Node* targets[2] = {a.get(), b.get()};
  std::size_t i = 0;
  for (auto _ : state) {
    holder->next = targets[i++ & 1];
    benchmark::ClobberMemory();
  }
  if (on) {
    tricolor::barriers::marking_heaps.fetch_sub(1, std::memory_order_relaxed);
    tricolor::barriers::flush_barrier_buffer();
  }
}

void BM_raw_store(benchmark::State& state) {
  struct Raw {
    Raw* next = nullptr;
  } holder, a, b;
  Raw* targets[2] = {&a, &b};
  Raw* volatile sink = &holder;
  std::size_t i = 0;
  for (auto _ : state) {
    sink->next = targets[i++ & 1];
    benchmark::ClobberMemory();
  }
}

void BM_shared_ptr_store(benchmark::State& state) {
  struct Shared {
    std::shared_ptr<Shared> next;
  };
  auto holder = std::make_shared<Shared>();
  std::shared_ptr<Shared> targets[2] = {std::make_shared<Shared>(), std::make_shared<Shared>()};
  std::size_t i = 0;
  for (auto _ : state) {
    holder->next = targets[i++ & 1];
    benchmark::ClobberMemory();
  }
}

void BM_root(benchmark::State& state) {
  tricolor::Heap& h = heap();
  tricolor::Root<Node> keep = h.make<Node>();
  Node* const p = keep.get();
  for (auto _ : state) {
    tricolor::Root<Node> r(p);
    benchmark::DoNotOptimize(r.get());
  }
}

void BM_shared_ptr_copy(benchmark::State& state) {
  const auto keep = std::make_shared<int>(1);
  for (auto _ : state) {
    std::shared_ptr<int> copy = keep;
    benchmark::DoNotOptimize(copy.get());
  }
}

void BM_blocking_scope(benchmark::State& state) {
  tricolor::Heap& h = heap();
  for (auto _ : state) {
    tricolor::BlockingScope blocking{h};
    benchmark::ClobberMemory();
  }
}

// BM_make/N and BM_make_plain/N for every size N; the peers run at the same
// sizes.
constexpr std::size_t kMakeSizes[] = {16, 32, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 32768};
template <std::size_t... I>
bool register_make(std::index_sequence<I...>) {
  static_assert(((sizeof(Sized<kMakeSizes[I]>) == kMakeSizes[I] && sizeof(Plain<kMakeSizes[I]>) == kMakeSizes[I]) && ...));
  (benchmark::RegisterBenchmark(("BM_make/" + std::to_string(kMakeSizes[I])).c_str(), BM_make<Sized<kMakeSizes[I]>>),
   ...);
  (benchmark::RegisterBenchmark(("BM_make_plain/" + std::to_string(kMakeSizes[I])).c_str(),
                                BM_make<Plain<kMakeSizes[I]>>),
   ...);
  return true;
}
[[maybe_unused]] const bool make_registered = register_make(std::make_index_sequence<std::size(kMakeSizes)>());
void make_sizes(benchmark::internal::Benchmark* b) {
  for (std::size_t size : kMakeSizes) b->Arg(static_cast<std::int64_t>(size));
}

}  // namespace

BENCHMARK(BM_mimalloc<mi_malloc_n>)->Name("BM_mi_malloc")->Apply(make_sizes);
BENCHMARK(BM_mimalloc<mi_zalloc_n>)->Name("BM_mi_zalloc")->Apply(make_sizes);
BENCHMARK(BM_mi_zalloc_fifo)->Apply(make_sizes);
BENCHMARK(BM_member_store)->Arg(0)->Arg(1);
BENCHMARK(BM_raw_store);
BENCHMARK(BM_shared_ptr_store);
BENCHMARK(BM_root);
BENCHMARK(BM_shared_ptr_copy);
BENCHMARK(BM_blocking_scope);

BENCHMARK_MAIN();
