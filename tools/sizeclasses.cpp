// Prints tricolor's size-class table in the format of the comment at the top
// of Go's runtime/sizeclasses.go, so the two can be compared with diff.
#include <bit>
#include <cstdio>

#include "tricolor/alloc/size_classes.hpp"

using namespace tricolor::alloc;

int main() {
  std::printf("// %-5s  %-9s  %-10s  %-7s  %-10s  %-9s  %-9s\n", "class", "bytes/obj", "bytes/span", "objects",
              "tail waste", "max waste", "min align");
  std::size_t prev_size = 0;
  std::size_t min_aligns[kPageShift + 1] = {};
  for (std::size_t i = 1; i < kNumSizeClasses; ++i) {
    const SizeClass& c = kSizeClasses[i];
    const std::size_t span = std::size_t{c.npages} * kPageSize;
    const std::size_t objects = span / c.size;
    const std::size_t tail = span - c.size * objects;
    // The worst case: every object one byte larger than the previous class.
    const double max_waste = static_cast<double>((c.size - prev_size - 1) * objects + tail) / static_cast<double>(span);
    std::size_t align_bits = static_cast<std::size_t>(std::countr_zero(c.size));
    if (align_bits > kPageShift) align_bits = kPageShift;
    for (std::size_t b = 0; b <= kPageShift; ++b) {
      if (b > align_bits) {
        min_aligns[b] = 0;
      } else if (min_aligns[b] == 0) {
        min_aligns[b] = c.size;
      }
    }
    prev_size = c.size;
    std::printf("// %5zu  %9u  %10zu  %7zu  %10zu  %8.2f%%  %9zu\n", i, c.size, span, objects, tail, 100 * max_waste,
                std::size_t{1} << align_bits);
  }
  std::printf("\n");
  std::printf("// %-9s  %-4s  %-12s\n", "alignment", "bits", "min obj size");
  for (std::size_t bits = 0; bits <= kPageShift; ++bits) {
    const std::size_t size = min_aligns[bits];
    if (size == 0) break;
    if (bits + 1 <= kPageShift && size == min_aligns[bits + 1]) continue;
    std::printf("// %9zu  %4zu  %12zu\n", std::size_t{1} << bits, bits, size);
  }
  std::printf("\n");  // printComment ends the block with an empty line too
}
