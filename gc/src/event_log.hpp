// GODEBUG=gclog=FILE (Options::event_log): the collector's events as JSON
// lines, for tools/gcstat and for anyone's own tools. Version 1:
//
//   {"event":"start","version":1,"unix_ns":N,"ncpu":N,"gogc":N,"memory_limit":N}
//   {"event":"pause","cycle":N,"kind":"sweep_termination"|"mark_termination",
//    "t_ns":N,"total_ns":N,"to_safepoint_ns":N}
//   {"event":"cycle","cycle":N,"reason":"heap"|"limit"|"forced"|"periodic"|
//    "stress"|"out_of_memory","start_ns":N,"mark_ns":N,
//    "mark_termination_ns":N,"end_ns":N,"sweep_end_ns":N,
//    "sweep_termination_ns":N,"sweep_termination_safepoint_ns":N,
//    "mark_termination_stw_ns":N,"mark_termination_safepoint_ns":N,
//    "mark_termination_stops":N,"assist_cpu_ns":N,"worker_cpu_ns":N,
//    "idle_cpu_ns":N,"heap_start":N,"heap_end":N,"heap_live":N,
//    "heap_goal":N,"trigger":N,"next_goal":N,"gc_cpu_fraction":F,"procs":N}
//   {"event":"end","t_ns":N}
//
// One object per line. Times are nanoseconds since the heap was made, sizes
// bytes; the fields mean what CycleStats's and Pause's do (t_ns is a pause's
// end). gogc is -1 for off; memory_limit 2^63-1 for none. A cycle's pauses
// come before its cycle event, which is written once its sweep is done.
// Readers must ignore keys they do not know; a new version may add keys.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "tricolor/stats.hpp"

namespace tricolor::gc {

class EventLog {
 public:
  // Creates (truncates) `path`; throws UsageError if it cannot.
  EventLog(const std::string& path, std::uint64_t heap_created_ns, std::uint64_t unix_ns, unsigned ncpu,
           int gogc, std::int64_t memory_limit);
  // Writes the end event.
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void pause(const Pause& p);
  void cycle(const CycleStats& c, unsigned procs);
  // Hands what was written to the file (once per cycle).
  void flush();

 private:
  void line(const std::string& json);
  std::uint64_t since_start(std::uint64_t ns) const { return ns - created_ns_; }

  std::FILE* file_;
  const std::string path_;
  const std::uint64_t created_ns_;
  bool failed_ = false;
};

}  // namespace tricolor::gc
