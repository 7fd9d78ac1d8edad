// The pacer as pure functions: every expected number is worked out here.
#include <catch2/catch.hpp>

#include <limits>

#include "pacer.hpp"

using namespace tricolor::gc::pacer;

namespace {
constexpr std::uint64_t MiB = 1 << 20;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
}  // namespace

TEST_CASE("pacer: heap minimum is 4 MiB scaled by GOGC") {
  CHECK(heap_minimum(100) == 4 * MiB);
  CHECK(heap_minimum(50) == 2 * MiB);
  CHECK(heap_minimum(400) == 16 * MiB);
  CHECK(heap_minimum(0) == 0);
  CHECK(heap_minimum(kGcOff) == 0);
}

TEST_CASE("pacer: the GOGC goal is live + (live + roots) * GOGC/100, floored at the heap minimum") {
  CHECK(gc_percent_goal(100 * MiB, 1 * MiB, 100) == 201 * MiB);              // 100 + 101
  CHECK(gc_percent_goal(100 * MiB, 2 * MiB, 50) == 151 * MiB);               // 100 + 102/2
  CHECK(gc_percent_goal(100 * MiB, 0, 400) == 500 * MiB);                    // 100 + 400
  CHECK(gc_percent_goal(1 * MiB, 0, 100) == 4 * MiB);                        // 2 MiB < the 4 MiB minimum
  CHECK(gc_percent_goal(1 * MiB, 0, 25) == 1 * MiB + MiB / 4);               // 1.25 MiB > the 1 MiB minimum
  CHECK(gc_percent_goal(100 * MiB, 1 * MiB, kGcOff) == kNever);              // GOGC=off: no goal
  CHECK(gc_percent_goal(10 * MiB, 0, 0) == 10 * MiB);                        // GOGC=0: collect at once
}

TEST_CASE("pacer: the memory limit caps the goal, less 3 % headroom and what is not heap") {
  // 100 MiB limit; 80 MiB held, of which 10 free and 65 in spans: 5 MiB
  // is metadata. The heap may use 95 MiB less 3 % of it.
  const std::uint64_t g = memory_limit_goal(100 * MiB, 80 * MiB, 10 * MiB, 65 * MiB, 40 * MiB);
  CHECK(g == 95 * MiB - 95 * MiB / 100 * 3);
  // Over the limit by 20 MiB (and 10 MiB of metadata): the overage comes off too.
  CHECK(memory_limit_goal(100 * MiB, 120 * MiB, 0, 110 * MiB, 40 * MiB) == 70 * MiB - 70 * MiB / 100 * 3);
  // Headroom is at least 1 MiB: 3 % of 10 MiB is less.
  CHECK(memory_limit_goal(10 * MiB, 0, 0, 0, 0) == 9 * MiB);
  // Never below live: the goal cannot free what is reachable.
  CHECK(memory_limit_goal(100 * MiB, 80 * MiB, 10 * MiB, 65 * MiB, 99 * MiB) == 99 * MiB);
  // Metadata and overage alone exceed the limit: the goal is live.
  CHECK(memory_limit_goal(10 * MiB, 30 * MiB, 0, 10 * MiB, 8 * MiB) == 8 * MiB);
  CHECK(memory_limit_goal(kNoLimit, 80 * MiB, 0, 80 * MiB, 40 * MiB) == kNever);
  CHECK(heap_goal(201 * MiB, 150 * MiB) == 150 * MiB);
  // Pages to object bytes: 100 MiB of spans hold 80 MiB of objects, so a
  // 50 MiB page goal is 40 MiB of objects.
  CHECK(objects_for_pages(50 * MiB, 100 * MiB, 80 * MiB) == 40 * MiB);
  CHECK(objects_for_pages(50 * MiB, 0, 0) == 50 * MiB);
  CHECK(objects_for_pages(kNever, 100 * MiB, 80 * MiB) == kNever);
  CHECK(heap_goal(201 * MiB, kNever) == 201 * MiB);
}

TEST_CASE("pacer: the runway is 3 x cons/mark x the expected scan work") {
  CHECK(runway(1.0, 10 * MiB) == 30 * MiB);
  CHECK(runway(0.5, 10 * MiB) == 15 * MiB);
  CHECK(runway(0.0, 10 * MiB) == 0);
}

TEST_CASE("pacer: the trigger is the goal less the runway, clamped to 45/64 .. 61/64 of the way") {
  // live 100, goal 200 MiB: the bounds are 100 + 100*45/64 = 170.3125 MiB
  // and the larger of 100 + 100*61/64 = 195.3125 MiB and goal - 4 MiB = 196 MiB.
  CHECK(trigger(200 * MiB, 100 * MiB, 10 * MiB) == 190 * MiB);
  CHECK(trigger(200 * MiB, 100 * MiB, 50 * MiB) == 100 * MiB + 100 * MiB / 64 * 45);
  CHECK(trigger(200 * MiB, 100 * MiB, 0) == 196 * MiB);
  // A small heap: 4 MiB of growth, so the upper bound is 61/64 of it.
  CHECK(trigger(8 * MiB, 4 * MiB, 0) == 4 * MiB + 4 * MiB / 64 * 61);
  // A goal at or below live (a hopeless limit): trigger at once.
  CHECK(trigger(40 * MiB, 40 * MiB, 0) == 40 * MiB);
}

TEST_CASE("pacer: cons/mark from one cycle's allocation, scan work and CPU") {
  const std::uint64_t second = 1'000'000'000;
  // 30 MiB allocated while 10 MiB of scan work took exactly the 25 % goal
  // of 2 CPUs for a second: 30 * 0.25 / (10 * 0.75) = 1.
  CHECK(cons_mark(30 * MiB, 10 * MiB, 0, second / 2, second, 2) == Approx(1.0));
  // Workers used half the CPU: 25 % more is idle marking, u + u_idle = 0.5.
  CHECK(cons_mark(30 * MiB, 10 * MiB, 0, second, second, 2) == Approx(2.0));
  // Assists took another 12.5 %: u = 0.375.
  CHECK(cons_mark(30 * MiB, 10 * MiB, second / 4, second / 2, second, 2) == Approx(1.5));
  CHECK(cons_mark(30 * MiB, 0, 0, second, second, 2) == 0);
  // Go keeps the largest of the last four.
  ConsMarkHistory h;
  CHECK(h.add(1) == 1);
  CHECK(h.add(3) == 3);
  CHECK(h.add(2) == 3);
  CHECK(h.add(0.5) == 3);
  CHECK(h.add(0.5) == 3);
  CHECK(h.add(0.5) == 2);
  CHECK(h.add(0.5) == 0.5);
}

TEST_CASE("pacer: the assist ratio is the work left over the heap left") {
  // 6 MiB of the expected 10 MiB left, 50 MiB of heap before the goal.
  CHECK(assist_work_per_byte(10 * MiB, 4 * MiB, 150 * MiB, 200 * MiB, 140 * MiB, 100) == Approx(6.0 / 50));
  // More work than expected: the goal extends in proportion, (200-170)/10*15
  // + 170 = 215 MiB, and the work left is bounded by 2 x the heap: 380 - 15.
  CHECK(assist_work_per_byte(10 * MiB, 15 * MiB, 190 * MiB, 200 * MiB, 170 * MiB, 100) == Approx(365.0 / 25));
  // ... but never beyond (1 + GOGC/100) x goal: with GOGC=5, 210 MiB.
  CHECK(assist_work_per_byte(10 * MiB, 15 * MiB, 190 * MiB, 200 * MiB, 170 * MiB, 5) == Approx(365.0 / 20));
  // Past the goal: 10 % more heap is allowed, 220 - 210.
  CHECK(assist_work_per_byte(10 * MiB, 5 * MiB, 210 * MiB, 200 * MiB, 170 * MiB, 100) == Approx(415.0 / 10));
  // Past even that: one byte of heap left, so every bit of the work at once.
  CHECK(assist_work_per_byte(10 * MiB, 5 * MiB, 230 * MiB, 200 * MiB, 170 * MiB, 100) ==
        Approx((460.0 - 5) * MiB));
}

TEST_CASE("pacer: the CPU limiter's bucket fills with GC time beyond the program's and drains below") {
  const std::uint64_t second = 1'000'000'000;
  CpuLimiter limiter(2);  // 2 CPU-seconds of capacity
  CHECK(limiter.capacity_ns() == 2 * second);
  limiter.update(3 * second / 2, second / 2);  // 75 % GC: +1.5 - 0.5
  CHECK(limiter.fill_ns() == second);
  CHECK_FALSE(limiter.limiting());
  limiter.update(3 * second / 2, second / 2);
  CHECK(limiter.limiting());
  limiter.update(2 * second, 0);  // full stays full
  CHECK(limiter.fill_ns() == 2 * second);
  CHECK(limiter.times_full() == 2);
  limiter.update(second, second);  // exactly half: no change
  CHECK(limiter.limiting());
  limiter.update(second / 2, 3 * second / 2);  // 25 %: drains by 1 s
  CHECK(limiter.fill_ns() == second);
  CHECK_FALSE(limiter.limiting());
  limiter.update(0, 20 * second);
  CHECK(limiter.fill_ns() == 0);
  // A program that only waits (no CPU of its own) while one CPU collects
  // fills the bucket at 1 s per second: full after 2 s of it.
  limiter.update(second, 0);
  CHECK_FALSE(limiter.limiting());
  limiter.update(second, 0);
  CHECK(limiter.limiting());
}
