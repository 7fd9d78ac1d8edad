#include "gctrace.hpp"

namespace tricolor::gc {
namespace {

// Go's itoaDiv: val / 10^dec with dec decimals ("0.012" for 12, 3).
std::string itoa_div(std::uint64_t val, int dec) {
  std::string digits = std::to_string(val);
  if (dec == 0) return digits;
  if (digits.size() <= static_cast<std::size_t>(dec)) digits.insert(0, dec + 1 - digits.size(), '0');
  digits.insert(digits.size() - dec, 1, '.');
  return digits;
}

// Go's fmtNSAsMS: whole milliseconds from 10 ms, else two significant
// digits with at most three decimals.
std::string ms(std::uint64_t ns) {
  if (ns >= 10'000'000) return itoa_div(ns / 1'000'000, 0);
  std::uint64_t x = ns / 1000;
  if (x == 0) return "0";
  int dec = 3;
  while (x >= 100) {
    x /= 10;
    --dec;
  }
  return itoa_div(x, dec);
}

}  // namespace

std::string gctrace_line(const CycleStats& c, std::uint64_t heap_created_ns, unsigned procs) {
  const std::uint64_t sweep_term_wall = c.mark_ns - c.start_ns;
  const std::uint64_t mark_wall = c.mark_termination_ns - c.mark_ns;
  const std::uint64_t mark_term_wall = c.end_ns - c.mark_termination_ns;
  std::string line = "gc " + std::to_string(c.number) + " @" +
                     itoa_div((c.start_ns - heap_created_ns) / 1'000'000, 3) + "s " +
                     std::to_string(static_cast<int>(c.gc_cpu_fraction * 100)) + "%: ";
  line += ms(sweep_term_wall) + "+" + ms(mark_wall) + "+" + ms(mark_term_wall) + " ms clock, ";
  line += ms(sweep_term_wall * procs) + "+" + ms(c.assist_cpu_ns) + "/" + ms(c.worker_cpu_ns - c.idle_cpu_ns) + "/" +
          ms(c.idle_cpu_ns) + "+" + ms(mark_term_wall * procs) + " ms cpu, ";
  line += std::to_string(c.heap_start >> 20) + "->" + std::to_string(c.heap_end >> 20) + "->" +
          std::to_string(c.heap_live >> 20) + " MB, " + std::to_string(c.heap_goal >> 20) + " MB goal, " +
          std::to_string(c.thread_roots_bytes >> 20) + " MB stacks, " + std::to_string(c.global_roots_bytes >> 20) +
          " MB globals, " + std::to_string(procs) + " P";
  if (c.reason == GcReason::kForced) line += " (forced)";
  line += '\n';
  return line;
}

}  // namespace tricolor::gc
