#include "tricolor/options.hpp"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "tricolor/usage_error.hpp"

namespace tricolor {
namespace {

std::size_t parse_count(const char* variable, std::string_view value) {
  std::size_t n = 0;
  if (value.empty()) throw UsageError(std::string("tricolor: ") + variable + " is empty; give a whole number.");
  for (char c : value) {
    if (c < '0' || c > '9' || n > (SIZE_MAX - 9) / 10) {
      throw UsageError(std::string("tricolor: ") + variable + "=" + std::string(value) +
                       " is not a whole number; give one such as 1000, or unset it.");
    }
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  return n;
}

// GOMEMLIMIT: a whole number of bytes with an optional suffix B, KiB, MiB,
// GiB or TiB (Go's accepted forms), or "off".
std::int64_t parse_memory_limit(std::string_view value) {
  const auto bad = [&](const char* why) {
    return UsageError("tricolor: GOMEMLIMIT=" + std::string(value) + " " + why +
                      "; give a number of bytes with an optional suffix B, KiB, MiB, GiB or TiB (as 512MiB), "
                      "or off.");
  };
  if (value == "off") return std::numeric_limits<std::int64_t>::max();
  std::size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9') ++digits;
  if (digits == 0) throw bad(value.empty() || value[0] != '-' ? "is not a size" : "is negative");
  const std::string_view suffix = value.substr(digits);
  unsigned shift = 0;
  if (suffix.empty() || suffix == "B") {
    shift = 0;
  } else if (suffix == "KiB") {
    shift = 10;
  } else if (suffix == "MiB") {
    shift = 20;
  } else if (suffix == "GiB") {
    shift = 30;
  } else if (suffix == "TiB") {
    shift = 40;
  } else {
    throw bad("has an unknown suffix");
  }
  std::uint64_t n = 0;
  for (char c : value.substr(0, digits)) {
    if (n > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) throw bad("is too large");
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (n > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) >> shift)) throw bad("is too large");
  return static_cast<std::int64_t>(n << shift);
}

}  // namespace

Options Options::from_environment() {
  Options options;
  // GODEBUG is a comma-separated list of name=value settings; as in Go,
  // settings this library does not know are ignored.
  if (const char* godebug = std::getenv("GODEBUG")) {
    std::string_view rest(godebug);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      const std::size_t eq = item.find('=');
      const std::string_view name = item.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
      if (name == "gccheckmark") {
        if (value != "0" && value != "1") {
          throw UsageError("tricolor: GODEBUG gccheckmark=" + std::string(value) + " is not valid; use 0 or 1.");
        }
        options.checkmark = value == "1";
      } else if (name == "gcpacertrace") {
        if (value != "0" && value != "1") {
          throw UsageError("tricolor: GODEBUG gcpacertrace=" + std::string(value) + " is not valid; use 0 or 1.");
        }
        options.pacer_trace = value == "1";
      } else if (name == "gctrace") {
        if (value != "0" && value != "1") {
          throw UsageError("tricolor: GODEBUG gctrace=" + std::string(value) + " is not valid; use 0 or 1.");
        }
        options.gc_trace = value == "1";
      } else if (name == "gclog") {
        if (value.empty()) {
          throw UsageError("tricolor: GODEBUG gclog= names no file; give a path, such as gclog=/tmp/gc.jsonl.");
        }
        options.event_log = std::string(value);
      } else if (name == "gcstoptheworld") {
        if (value != "0" && value != "1" && value != "2") {
          throw UsageError("tricolor: GODEBUG gcstoptheworld=" + std::string(value) +
                           " is not valid; use 0 (concurrent), 1 (stop-the-world mark) or 2 (and sweep).");
        }
        options.gc_stop_the_world = static_cast<unsigned>(value[0] - '0');
      }
    }
  }
  if (const char* gogc = std::getenv("GOGC")) {
    const std::string_view value(gogc);
    if (value == "off") {
      options.gc_percent = -1;
    } else {
      // As Go: a whole percent (0 collects constantly) or off.
      const bool digits = !value.empty() && value.size() <= 7 &&
                          value.find_first_not_of("0123456789") == std::string_view::npos;
      if (!digits) {
        throw UsageError("tricolor: GOGC=" + std::string(value) +
                         " is not valid; give a percent from 0 to 9999999, such as 100 (the default) or 400, or off.");
      }
      options.gc_percent = static_cast<int>(parse_count("GOGC", value));
    }
  }
  if (const char* limit = std::getenv("GOMEMLIMIT")) options.memory_limit = parse_memory_limit(limit);
  if (const char* stress = std::getenv("TRICOLOR_GCSTRESS")) {
    options.stress_interval = parse_count("TRICOLOR_GCSTRESS", stress);
  }
  if (const char* workers = std::getenv("TRICOLOR_MARKWORKERS")) {
    options.mark_workers = parse_count("TRICOLOR_MARKWORKERS", workers);
    if (options.mark_workers > 256) {
      throw UsageError("tricolor: TRICOLOR_MARKWORKERS=" + std::string(workers) +
                       " is more mark workers than is sensible; give 1 to 256, or unset it for Go's sizing.");
    }
  }
  return options;
}

}  // namespace tricolor
