// Allocate N small objects of mixed sizes, touch each, then release them all,
// in the same run with tricolor's allocator and its peers:
//
//   tricolor   ThreadCache::alloc; release = one sweep with every mark bit
//              clear (how a collection frees a dead generation): the cost is
//              per span, not per object. It keeps no pointer array (a
//              collector finds the dead without one); the peers must keep
//              one to call free, and the _half variant keeps one to mark.
//   mimalloc   mi_malloc / mi_free
//   glibc      glibc's own malloc / free, looked up in libc.so.6 with
//              dlsym: Debian's libmimalloc.so (linked here through
//              tricolor::alloc) exports malloc, calloc and free and also
//              __libc_malloc, __libc_calloc and __libc_free, so both ::malloc
//              and __libc_malloc resolve to mimalloc in this binary. A check
//              at start-up aborts if the glibc peer's memory is mimalloc's.
//
// Two size mixes (fixed seed, the same arrays for everyone), chosen by the
// benchmark's second argument:
//   0 "mixed"  70 % 16-64 B, 25 % 65-512 B, 5 % 513-4096 B (~215 B average)
//   1 "small"  16-64 B only: the tree nodes, list cells and boxes that make
//              up most of a garbage-collected heap
// tricolor runs twice, chosen by its third argument: 1 allocates noscan
// objects (no pointers: handed out as they were left, as mi_malloc and
// malloc do), 0 objects with pointers, which it zeroes (a collector must
// never see a stale pointer in a fresh object); the same run also measures
// the zeroing peers mi_zalloc and glibc's calloc.
//
// The *_half variants free every other object first, then the rest, so that
// sweeping meets half-full spans and the peers fragmented free lists.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <mimalloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>
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

// glibc's allocator, bypassing the interposed one (see the top of the file).
struct Glibc {
  void* (*malloc)(std::size_t);
  void* (*calloc)(std::size_t, std::size_t);
  void (*free)(void*);
  int (*malloc_trim)(std::size_t);
};

template <typename F>
F libc_symbol(void* libc, const char* name) {
  void* f = libc != nullptr ? dlsym(libc, name) : nullptr;
  Dl_info info{};
  if (f == nullptr || dladdr(f, &info) == 0 || info.dli_fname == nullptr ||
      std::string_view(info.dli_fname).find("libc.so") == std::string_view::npos) {
    std::fprintf(stderr, "alloc_micro: cannot find glibc's %s in libc.so.6\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

const Glibc glibc = [] {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  const Glibc g{libc_symbol<void* (*)(std::size_t)>(libc, "malloc"),
                libc_symbol<void* (*)(std::size_t, std::size_t)>(libc, "calloc"),
                libc_symbol<void (*)(void*)>(libc, "free"), libc_symbol<int (*)(std::size_t)>(libc, "malloc_trim")};
  void* p = g.malloc(24);
  if (p == nullptr || mi_is_in_heap_region(p)) {
    std::fputs("alloc_micro: the glibc peer allocated from mimalloc's heap\n", stderr);
    std::abort();
  }
  g.free(p);
  return g;
}();

void* glibc_malloc(std::size_t n) { return glibc.malloc(n); }
void* glibc_calloc(std::size_t n) { return glibc.calloc(1, n); }
void glibc_free(void* p) { glibc.free(p); }

// Called at the start of every benchmark run, untimed: each allocator starts
// from a clean heap, as tricolor does with its new SpanHeap. Without it,
// glibc's times depend on what ran before in the process (free chunks left
// in its fast bins by an earlier run slowed a later one tenfold).
void fresh_start() {
  glibc.malloc_trim(0);
  mi_collect(true);
}

// Aborts unless the heap holds exactly `objects` objects after exactly
// `mallocs` allocations: every object the benchmark allocated was counted,
// and every one it meant to free was swept free.
void check(const SpanHeap& heap, std::uint64_t objects, std::uint64_t mallocs, const char* when) {
  const AllocStats s = heap.stats();
  if (s.heap_objects != objects || s.mallocs != mallocs || s.zombies != 0) {
    std::fprintf(stderr,
                 "alloc_micro: %s: heap_objects %llu (expected %llu), mallocs %llu (expected %llu), zombies %llu\n",
                 when, static_cast<unsigned long long>(s.heap_objects), static_cast<unsigned long long>(objects),
                 static_cast<unsigned long long>(s.mallocs), static_cast<unsigned long long>(mallocs),
                 static_cast<unsigned long long>(s.zombies));
    std::abort();
  }
}

// Releases the cache's spans and sweeps the whole heap: every object not
// marked since the last sweep dies.
void sweep(ThreadCache& cache, SpanHeap& heap) {
  cache.release_all();
  heap.start_sweep_cycle();
  heap.finish_sweep();
}

// Every benchmark starts from a clean heap (fresh_start) and runs one
// untimed round before the timed ones, so that all of them are measured in
// the steady state of this workload alone: pages mapped and touched, free
// lists holding what the workload itself left.

void BM_tricolor(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto& sz = sizes(n, state.range(1));
  const bool noscan = state.range(2) != 0;
  fresh_start();
  SpanHeap heap;
  ThreadCache cache(heap);
  const auto round = [&] {
    for (std::size_t i = 0; i < n; ++i) {
      auto* p = static_cast<std::uint64_t*>(cache.alloc(sz[i], noscan, false));
      *p = i;
      benchmark::DoNotOptimize(p);
    }
    sweep(cache, heap);
  };
  round();
  for (auto _ : state) round();
  check(heap, 0, (state.iterations() + 1) * n, "after a sweep with no marks");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Allocates n objects into `ptrs`, marks every other one (as a collector
// would mark the survivors), then sweeps twice: half survive the first
// sweep, none the second.
void alloc_sweep_half(ThreadCache& cache, SpanHeap& heap, const std::vector<std::uint32_t>& sz, bool noscan,
                      std::vector<void*>& ptrs, std::uint64_t* survivors_seen) {
  const std::size_t n = ptrs.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto* p = static_cast<std::uint64_t*>(cache.alloc(sz[i], noscan, false));
    *p = i;
    ptrs[i] = p;
  }
  for (std::size_t i = 0; i < n; i += 2) {
    Span* span = Segment::span_of(ptrs[i]);
    span->try_mark(span->object_index(ptrs[i]));
  }
  sweep(cache, heap);
  if (survivors_seen != nullptr) *survivors_seen = heap.stats().heap_objects;
  sweep(cache, heap);
}

void BM_tricolor_half(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto& sz = sizes(n, state.range(1));
  const bool noscan = state.range(2) != 0;
  std::vector<void*> ptrs(n);
  fresh_start();
  SpanHeap heap;
  ThreadCache cache(heap);
  // The untimed round also checks that the first sweep keeps exactly the
  // marked half.
  std::uint64_t survivors = 0;
  alloc_sweep_half(cache, heap, sz, noscan, ptrs, &survivors);
  if (survivors != (n + 1) / 2) {
    std::fprintf(stderr, "alloc_micro: %llu objects survived the first sweep, expected %llu\n",
                 static_cast<unsigned long long>(survivors), static_cast<unsigned long long>((n + 1) / 2));
    std::abort();
  }
  for (auto _ : state) alloc_sweep_half(cache, heap, sz, noscan, ptrs, nullptr);
  check(heap, 0, (state.iterations() + 1) * n, "after the second sweep");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// Half: free the odd objects first, then the even ones.
template <void* (*Alloc)(std::size_t), void (*Free)(void*), bool Half>
void BM_peer(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const auto& sz = sizes(n, state.range(1));
  std::vector<void*> ptrs(n);
  fresh_start();
  const auto round = [&] {
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
  };
  round();
  for (auto _ : state) round();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

}  // namespace

BENCHMARK(BM_tricolor)->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}, {1, 0}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<mi_malloc, mi_free, false>)->Name("BM_mimalloc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_malloc, glibc_free, false>)->Name("BM_glibc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<mi_zalloc, mi_free, false>)->Name("BM_mi_zalloc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_calloc, glibc_free, false>)->Name("BM_glibc_calloc")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tricolor_half)->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}, {1, 0}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<mi_malloc, mi_free, true>)->Name("BM_mimalloc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_malloc, glibc_free, true>)->Name("BM_glibc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);

BENCHMARK(BM_peer<mi_zalloc, mi_free, true>)->Name("BM_mi_zalloc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_peer<glibc_calloc, glibc_free, true>)->Name("BM_glibc_calloc_half")->ArgsProduct({{1 << 16, 1 << 20}, {0, 1}})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
