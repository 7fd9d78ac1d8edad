// The event log (GODEBUG=gclog=FILE): what it holds matches gc_stats(), and
// tools/gcstat reads it back to the same figures.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gc_test_util.hpp"

using namespace tricolor;
using test::Counted;

namespace {

// The value of "key" in one JSON line of the log (numbers and strings only,
// as the log writes them).
std::string field(const std::string& line, const std::string& key) {
  const std::string tag = "\"" + key + "\":";
  const std::size_t at = line.find(tag);
  if (at == std::string::npos) return {};
  std::size_t begin = at + tag.size();
  if (line[begin] == '"') {
    ++begin;
    return line.substr(begin, line.find('"', begin) - begin);
  }
  return line.substr(begin, line.find_first_of(",}", begin) - begin);
}
std::uint64_t number(const std::string& line, const std::string& key) { return std::stoull(field(line, key)); }

// A number from gcstat's --json object, under an optional enclosing key.
double json_number(const std::string& json, const std::string& key, const std::string& within = {}) {
  std::size_t from = 0;
  if (!within.empty()) from = json.find("\"" + within + "\"");
  REQUIRE(from != std::string::npos);
  const std::string tag = "\"" + key + "\": ";
  const std::size_t at = json.find(tag, from);
  REQUIRE(at != std::string::npos);
  return std::stod(json.substr(at + tag.size()));
}

// Nearest rank: the p-th percentile of n sorted values is x[ceil(p/100 n)].
double percentile_ms(std::vector<std::uint64_t> ns, double p) {
  std::sort(ns.begin(), ns.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(ns.size())));
  return static_cast<double>(ns[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  REQUIRE(pclose(pipe) == 0);
  return out;
}

}  // namespace

TEST_CASE("event log: every pause and cycle of gc_stats(), then read back by tools/gcstat") {
  const std::string path = "event_log_test." + std::to_string(getpid()) + ".jsonl";
  GcStats gs;
  {
    Options o = test::paced_options();
    o.event_log = path;
    Heap heap(o);
    ThreadScope attach{heap};
    test::churn(heap, 1 << 16, 1 << 20);
    heap.collect();
    gs = heap.gc_stats();
  }  // the heap's end writes the end event
  REQUIRE(gs.num_gc >= 3);

  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 2 + gs.pauses.size() + gs.cycles.size());
  CHECK(field(lines.front(), "event") == "start");
  CHECK(number(lines.front(), "version") == 1);
  CHECK(field(lines.back(), "event") == "end");

  std::vector<std::string> pauses, cycles;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::string event = field(lines[i], "event");
    REQUIRE((event == "pause" || event == "cycle"));
    (event == "pause" ? pauses : cycles).push_back(lines[i]);
    // A cycle's pauses come before its cycle event.
    if (event == "pause") CHECK(number(lines[i], "cycle") == cycles.size() + 1);
  }
  REQUIRE(cycles.size() == gs.cycles.size());
  for (std::size_t i = 0; i < cycles.size(); ++i) {
    const CycleStats& c = gs.cycles[gs.cycles.size() - 1 - i];  // gc_stats is newest first
    const std::string& line = cycles[i];
    INFO(line);
    CHECK(number(line, "cycle") == c.number);
    CHECK(field(line, "reason") == to_string(c.reason));
    CHECK(number(line, "start_ns") == c.start_ns - gs.heap_created_ns);
    CHECK(number(line, "end_ns") == c.end_ns - gs.heap_created_ns);
    CHECK(number(line, "sweep_end_ns") == c.sweep_end_ns - gs.heap_created_ns);
    CHECK(number(line, "mark_termination_stw_ns") == c.mark_termination.total_ns);
    CHECK(number(line, "sweep_termination_safepoint_ns") == c.sweep_termination.to_safepoint_ns);
    CHECK(number(line, "assist_cpu_ns") == c.assist_cpu_ns);
    CHECK(number(line, "heap_live") == c.heap_live);
    CHECK(number(line, "heap_goal") == c.heap_goal);
    CHECK(number(line, "next_goal") == c.next_goal);
  }
  REQUIRE(pauses.size() == gs.pauses.size());
  for (std::size_t i = 0; i < pauses.size(); ++i) {
    const Pause& p = gs.pauses[gs.pauses.size() - 1 - i];
    CHECK(field(pauses[i], "kind") == to_string(p.kind));
    CHECK(number(pauses[i], "total_ns") == p.total_ns);
    CHECK(number(pauses[i], "to_safepoint_ns") == p.to_safepoint_ns);
  }

  // tools/gcstat reads it to the figures gc_stats gives.
  const std::string json = run("python3 " TRICOLOR_SOURCE_DIR "/tools/gcstat --json " + path);
  std::vector<std::uint64_t> totals, safepoints;
  for (const Pause& p : gs.pauses) {
    totals.push_back(p.total_ns);
    safepoints.push_back(p.to_safepoint_ns);
  }
  CHECK(json_number(json, "cycles") == gs.num_gc);
  CHECK(json_number(json, "forced_cycles") == gs.num_forced_gc);
  CHECK(json_number(json, "pauses") == gs.pauses.size());
  CHECK(json_number(json, "total", "pause_ms") == Approx(static_cast<double>(gs.pause_total_ns) / 1e6).margin(1e-6));
  for (double p : {50.0, 90.0, 99.0}) {
    const std::string key = p == 50 ? "p50" : p == 90 ? "p90" : "p99";
    CHECK(json_number(json, key, "pause_ms") == Approx(percentile_ms(totals, p)).margin(1e-6));
  }
  CHECK(json_number(json, "max", "pause_ms") == Approx(percentile_ms(totals, 100)).margin(1e-6));
  CHECK(json_number(json, "max", "safepoint_ms") == Approx(percentile_ms(safepoints, 100)).margin(1e-6));
  std::uint64_t assist = 0;
  for (const CycleStats& c : gs.cycles) assist += c.assist_cpu_ns;
  CHECK(json_number(json, "assist_cpu_ms") == Approx(static_cast<double>(assist) / 1e6).margin(1e-6));
  std::remove(path.c_str());
}
