// Scavenging: wholly free segments go back to the page source, and the
// process's resident memory drops accordingly.
#include <catch2/catch.hpp>

#include <algorithm>

#include "test_util.hpp"
#include "tricolor/alloc/span_heap.hpp"
#include "tricolor/alloc/thread_cache.hpp"

using namespace tricolor::alloc;
namespace t = tricolor::alloc::test;

TEST_CASE("scavenge: 200 MiB of dead small objects go back to the source and RSS drops") {
  t::TestPageSource source;
  SpanHeapOptions options;
  options.page_source = &source;
  SpanHeap heap(options);
  const std::size_t target = std::size_t{200} << 20;
  std::uint64_t allocated = 0;
  {
    ThreadCache cache(heap);
    const std::size_t sizes[] = {64, 256, 1024, 4096, 16384};
    for (std::size_t i = 0; allocated < target; ++i) {
      const std::size_t size = sizes[i % std::size(sizes)];
      auto* p = static_cast<char*>(cache.alloc(size, true, false));
      // Every page written, so resident: fresh pages are not zeroed.
      for (std::size_t at = 0; at < size; at += 4096) p[at] = 1;
      p[size - 1] = 1;
      allocated += kSizeClasses[size_to_class(size)].size;
    }
  }  // the cache gives its spans back
  const AllocStats live = heap.stats();
  CHECK(live.heap_alloc_bytes == allocated);
  t::sweep_all(heap);  // nothing marked
  const AllocStats dead = heap.stats();
  REQUIRE(dead.heap_objects == 0);
  REQUIRE(dead.pages.inuse_bytes == 0);
  CHECK(dead.pages.idle_bytes == dead.pages.sys_bytes);
  CHECK(dead.pages.idle_bytes >= target);
  CHECK(dead.pages.released_bytes == 0);

  const std::size_t rss_before = t::resident_bytes();
  const std::size_t released = heap.scavenge(0);
  const std::size_t rss_after = t::resident_bytes();
  const AllocStats after = heap.stats();
  CHECK(released == dead.pages.sys_bytes);
  CHECK(after.pages.sys_bytes == 0);
  CHECK(after.pages.idle_bytes == 0);
  CHECK(after.pages.segments == 0);
  CHECK(after.pages.released_bytes - dead.pages.released_bytes == released);
  CHECK(source.released_blocks == source.acquired_blocks);
  CHECK(source.released_bytes == source.acquired_bytes);
  INFO("RSS " << (rss_before >> 20) << " MiB -> " << (rss_after >> 20) << " MiB, released " << (released >> 20)
              << " MiB");
  CHECK(rss_before - std::min(rss_before, rss_after) >= released / 2);

  // The heap grows again from nothing.
  ThreadCache cache(heap);
  auto* p = static_cast<char*>(cache.alloc(100, false, false));
  CHECK(t::all_zero(p, 100));
  CHECK(heap.stats().pages.segments == 1);
}
