#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <glob.h>
#include <sstream>
#include <string>
#include <vector>

#include "tricolor/alloc/size_classes.hpp"

using namespace tricolor::alloc;

namespace {

// The alignment step Go's generator uses at `size` (mksizeclasses.go).
std::size_t align_step(std::size_t size) {
  if (size >= 2048) return 256;
  if (size >= 128) return std::size_t{1} << (63 - __builtin_clzll(size)) >> 3;  // (largest power of two <= size) / 8
  if (size >= 32) return 16;
  return 8;
}

}  // namespace

TEST_CASE("size classes: 68 classes from 8 B to 32 KiB, strictly increasing") {
  REQUIRE(kNumSizeClasses == 68);
  CHECK(kSizeClasses[0].size == 0);
  CHECK(kSizeClasses[1].size == 8);
  CHECK(kSizeClasses[kNumSizeClasses - 1].size == kMaxSmallSize);
  for (std::size_t c = 2; c < kNumSizeClasses; ++c) CHECK(kSizeClasses[c].size > kSizeClasses[c - 1].size);
}

TEST_CASE("size classes: each span's tail waste is at most 1/8 of the span") {
  for (std::size_t c = 1; c < kNumSizeClasses; ++c) {
    const SizeClass& sc = kSizeClasses[c];
    const std::size_t span = std::size_t{sc.npages} * kPageSize;
    INFO("class " << c << " size " << sc.size);
    CHECK(sc.objects == span / sc.size);
    CHECK(sc.objects >= 1);
    CHECK(span - std::size_t{sc.objects} * sc.size <= span / 8);
    CHECK(sc.objects <= kMaxObjectsPerSpan);
  }
}

TEST_CASE("size classes: size_to_class gives the smallest class that fits, for every size") {
  for (std::size_t size = 1; size <= kMaxSmallSize; ++size) {
    const std::uint8_t c = size_to_class(size);
    INFO("size " << size);
    REQUIRE(c >= 1);
    REQUIRE(c < kNumSizeClasses);
    REQUIRE(kSizeClasses[c].size >= size);
    REQUIRE(kSizeClasses[c - 1].size < size);
  }
}

TEST_CASE("size classes: rounding costs at most 12.5% from 128 B on, merged classes cost no span capacity") {
  // Go's generator steps through sizes by the alignment rule (each step at
  // most 1/8 of the size from 128 B on), then merges a step into the next
  // class when both pack the same number of objects into the same span.
  // So a request may round past 12.5 % (4097 B -> 4864 B), but only where
  // the smaller cell would not have fit one more object into the span.
  std::vector<std::size_t> steps;
  for (std::size_t size = 8; size <= kMaxSmallSize; size += align_step(size)) steps.push_back(size);
  std::size_t next_step = 0;
  for (std::size_t size = 1; size <= kMaxSmallSize; ++size) {
    while (steps[next_step] < size) ++next_step;
    const SizeClass& c = kSizeClasses[size_to_class(size)];
    // The smallest generated size that fits (a class may also have grown
    // to the largest size that keeps its object count, then it is smaller).
    const std::size_t cell = std::min<std::size_t>(steps[next_step], c.size);
    INFO("size " << size << " cell " << cell << " class size " << c.size);
    REQUIRE(cell - size < align_step(cell));
    if (size >= 128) REQUIRE((cell - size) * 8 <= cell);
    REQUIRE(c.objects == std::size_t{c.npages} * kPageSize / cell);
  }
}

TEST_CASE("size classes: divmagic divides every offset inside a span exactly") {
  for (std::size_t c = 1; c < kNumSizeClasses; ++c) {
    const SizeClass& sc = kSizeClasses[c];
    const std::uint64_t span = std::uint64_t{sc.npages} * kPageSize;
    for (std::uint64_t offset = 0; offset <= span; ++offset) {
      if (((offset * sc.divmagic) >> 32) != offset / sc.size) {
        FAIL("class " << c << " offset " << offset);
      }
    }
  }
}

TEST_CASE("size classes: the table equals Go's sizeclasses.go when Go's source is installed") {
  glob_t g{};
  const bool found = glob("/usr/share/go-*/src/runtime/sizeclasses.go", 0, nullptr, &g) == 0 && g.gl_pathc > 0;
  if (!found) {
    globfree(&g);
    WARN("Go's runtime source is not installed; only the rule-based checks ran");
    return;
  }
  std::ifstream in(g.gl_pathv[0]);
  globfree(&g);
  std::string line;
  std::vector<std::vector<std::size_t>> rows;
  while (std::getline(in, line)) {
    // Rows look like "//     5         48        8192      170          32     31.52%         16".
    std::size_t cls, size, span, objects;
    if (std::sscanf(line.c_str(), "// %zu %zu %zu %zu", &cls, &size, &span, &objects) == 4 && span >= kPageSize) {
      rows.push_back({cls, size, span, objects});
    }
    if (line.rfind("// alignment", 0) == 0) break;
  }
  REQUIRE(rows.size() == kNumSizeClasses - 1);
  for (const auto& r : rows) {
    INFO("Go class " << r[0]);
    CHECK(kSizeClasses[r[0]].size == r[1]);
    CHECK(std::size_t{kSizeClasses[r[0]].npages} * kPageSize == r[2]);
    CHECK(kSizeClasses[r[0]].objects == r[3]);
  }
}
