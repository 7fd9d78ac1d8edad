#include "tricolor/options.hpp"

#include <cstdlib>
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
      } else if (name == "gcstoptheworld") {
        if (value != "0" && value != "1" && value != "2") {
          throw UsageError("tricolor: GODEBUG gcstoptheworld=" + std::string(value) +
                           " is not valid; use 0 (concurrent), 1 (stop-the-world mark) or 2 (and sweep).");
        }
        options.gc_stop_the_world = static_cast<unsigned>(value[0] - '0');
      }
    }
  }
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
