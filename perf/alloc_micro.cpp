// Allocate N small objects of mixed sizes, touch each, then release them all,
// in the same run with tricolor's allocator and its peers:
//
//   tricolor   ThreadCache::alloc; release = one sweep with every mark bit
//              clear (how a collection frees a dead generation): the cost is
//              per span, not per object
//   mimalloc   mi_malloc / mi_free
//   glibc      glibc's malloc / free, called as __libc_malloc/__libc_free:
//              Debian's libmimalloc.so exports malloc itself, so in a binary
//              linked with it plain malloc is mimalloc's
//
// Two size mixes (fixed seed, the same arrays for everyone), chosen by the
// benchmark's second argument:
//   0 "mixed"  70 % 16-64 B, 25 % 65-512 B, 5 % 513-4096 B (~215 B average)
//   1 "small"  16-64 B only: the tree nodes, list cells and boxes that make
//              up most of a garbage-collected heap
// tricolor zeroes every object it hands out (a collector must never see a
// stale pointer in a fresh object); mi_malloc and malloc do not, so the same
// run also measures the zeroing peers mi_zalloc and glibc's calloc.
//
// The *_half variants free every other object first, then the rest, so that
// sweeping meets half-full spans and the peers fragmented free lists.
#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "tricolor/alloc/segment.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

namespace {

using namespace tricolor::alloc;

const std::vector<std::uint32_t>& sizes(std::size_t n, std::int64_t mix) {
  static const std::vector<std::uint32_t> mixes[2] = {
      [] {
        std::vector<std::uint32_t> v(std::size_t{1} << 20);
        std::mt19937 rng(42);
        for (auto& size : v) {
          const unsigned r = rng() % 100;
          size = r < 70 ? 16 + rng() % 49 : r < 95 ? 65 + rng() % 448 : 513 + rng() % 3584;
        }
        return v;
      }(),
      [] {
        std::vector<std::uint32_t> v(std::size_t{1} << 20);
        std::mt19937 rng(43);
        for (auto& size : v) size = 16 + rng() % 49;
        return v;
      }(),
  };
  if (n > mixes[mix].size()) std::abort();
  return mixes[mix];
}

void check_empty(const SpanHeap& heap) {
  if (heap.stats().heap_objects != 0) {
    std::fputs("alloc_micro: objects survived a sweep with no marks\n", stderr);
    std::abort();
  }
}

void BM_tricolor(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto& sz = sizes(n, state.range(1));
  SpanHeap heap;
  ThreadCache cache(heap);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      auto* p = static_cast<std::uint64_t*>(cache.alloc(sz[i], true, false));
      *p = i;
      benchmark::DoNotOptimize(p);
    }
    cache.release_all();
    heap.start_sweep_cycle();
    heap.finish_sweep();
  }
  check_empty(heap);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_tricolor_half(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto& sz = sizes(n, state.range(1));
  std::vector<void*> ptrs(n);
  SpanHeap heap;
  ThreadCache cache(heap);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      auto* p = static_cast<std::uint64_t*>(cache.alloc(sz[i], true, false));
      *p = i;
      ptrs[i] = p;
    }
    // Half survive the first sweep (a collector marking them), none the second.
    for (std::size_t i = 0; i < n; i += 2) {
      Span* span = Segment::span_of(ptrs[i]);
      span->try_mark(span->object_index(ptrs[i]));
    }
    cache.release_all();
    heap.start_sweep_cycle();
    heap.finish_sweep();
    heap.start_sweep_cycle();
    heap.finish_sweep();
  }
  check_empty(heap);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Half: free the odd objects first, then the even ones.
template <void* (*Alloc)(std::size_t), void (*Free)(void*), bool Half>
void BM_peer(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto& sz = sizes(n, state.range(1));
  std::vector<void*> ptrs(n);
  for (auto _ : state) {
    for (std::size_t i = 0; i < n; ++i) {
      auto* p = static_cast<std::uint64_t*>(Alloc(sz[i]));
      *p = i;
      ptrs[i] = p;
    }
    if constexpr (Half) {
      for (std::size_t i = 1; i < n; i += 2) Free(ptrs[i]);
      for (std::size_t i = 0; i < n; i += 2) Free(ptrs[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) Free(ptrs[i]);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void __libc_free(void*);
void* glibc_malloc(std::size_t n) { return __libc_malloc(n); }
void* glibc_calloc(std::size_t n) { return __libc_calloc(1, n); }
void glibc_free(void* p) { __libc_free(p); }

}  // namespace

BENCHMARK(BM_tricolor)->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<mi_malloc, mi_free, false>)->Name("BM_mimalloc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_malloc, glibc_free, false>)->Name("BM_glibc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<mi_zalloc, mi_free, false>)->Name("BM_mi_zalloc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_calloc, glibc_free, false>)->Name("BM_glibc_calloc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tricolor_half)->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<mi_malloc, mi_free, true>)->Name("BM_mimalloc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_malloc, glibc_free, true>)->Name("BM_glibc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);

BENCHMARK(BM_peer<mi_zalloc, mi_free, true>)->Name("BM_mi_zalloc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_calloc, glibc_free, true>)->Name("BM_glibc_calloc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
