#include "event_log.hpp"

#include <cerrno>
#include <cstring>

#include "clock.hpp"
#include "tricolor/usage_error.hpp"

namespace tricolor::gc {
namespace {

// `"key":value` pairs, comma-separated; numbers only, so no escaping.
class Fields {
 public:
  explicit Fields(const char* event) { out_ = std::string("{\"event\":\"") + event + '"'; }
  Fields& num(const char* key, std::uint64_t v) { return raw(key, std::to_string(v)); }
  Fields& num(const char* key, std::int64_t v) { return raw(key, std::to_string(v)); }
  Fields& real(const char* key, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return raw(key, buf);
  }
  Fields& str(const char* key, const char* v) { return raw(key, std::string("\"") + v + '"'); }
  std::string done() { return out_ + '}'; }

 private:
  Fields& raw(const char* key, const std::string& v) {
    out_ += std::string(",\"") + key + "\":" + v;
    return *this;
  }
  std::string out_;
};

}  // namespace

EventLog::EventLog(const std::string& path, std::uint64_t heap_created_ns, std::uint64_t unix_ns, unsigned ncpu,
                   int gogc, std::int64_t memory_limit)
    : file_(std::fopen(path.c_str(), "w")), path_(path), created_ns_(heap_created_ns) {
  if (file_ == nullptr) {
    throw UsageError("tricolor: cannot write the event log " + path + " (GODEBUG gclog or Options::event_log): " +
                     std::strerror(errno) + "; give a path in a directory that exists and is writable.");
  }
  line(Fields("start")
           .num("version", std::uint64_t{1})
           .num("unix_ns", unix_ns)
           .num("ncpu", std::uint64_t{ncpu})
           .num("gogc", std::int64_t{gogc})
           .num("memory_limit", memory_limit)
           .done());
  flush();
}

EventLog::~EventLog() {
  line(Fields("end").num("t_ns", since_start(now_ns())).done());
  std::fclose(file_);
}

void EventLog::pause(const Pause& p) {
  line(Fields("pause")
           .num("cycle", std::uint64_t{p.cycle})
           .str("kind", to_string(p.kind))
           .num("t_ns", since_start(p.end_ns))
           .num("total_ns", p.total_ns)
           .num("to_safepoint_ns", p.to_safepoint_ns)
           .done());
}

void EventLog::cycle(const CycleStats& c, unsigned procs) {
  line(Fields("cycle")
           .num("cycle", std::uint64_t{c.number})
           .str("reason", to_string(c.reason))
           .num("start_ns", since_start(c.start_ns))
           .num("mark_ns", since_start(c.mark_ns))
           .num("mark_termination_ns", since_start(c.mark_termination_ns))
           .num("end_ns", since_start(c.end_ns))
           .num("sweep_end_ns", since_start(c.sweep_end_ns))
           .num("sweep_termination_ns", c.sweep_termination.total_ns)
           .num("sweep_termination_safepoint_ns", c.sweep_termination.to_safepoint_ns)
           .num("mark_termination_stw_ns", c.mark_termination.total_ns)
           .num("mark_termination_safepoint_ns", c.mark_termination.to_safepoint_ns)
           .num("mark_termination_stops", std::uint64_t{c.mark_termination_stops})
           .num("assist_cpu_ns", c.assist_cpu_ns)
           .num("worker_cpu_ns", c.worker_cpu_ns)
           .num("idle_cpu_ns", c.idle_cpu_ns)
           .num("heap_start", c.heap_start)
           .num("heap_end", c.heap_end)
           .num("heap_live", c.heap_live)
           .num("heap_goal", c.heap_goal)
           .num("trigger", c.trigger)
           .num("next_goal", c.next_goal)
           .real("gc_cpu_fraction", c.gc_cpu_fraction)
           .num("procs", std::uint64_t{procs})
           .done());
}

void EventLog::flush() {
  if (std::fflush(file_) != 0 && !failed_) {
    // The program goes on: a full disk must not take the heap down.
    failed_ = true;
    std::fprintf(stderr, "tricolor: writing the event log %s failed: %s; later events may be lost.\n",
                 path_.c_str(), std::strerror(errno));
  }
}

void EventLog::line(const std::string& json) {
  std::fputs(json.c_str(), file_);
  std::fputc('\n', file_);
}

}  // namespace tricolor::gc
