// libFuzzer's entry: each input is a program of operations on the public
// API (program.hpp), run against the shadow model (model.hpp, runner.hpp).
#include <cstddef>
#include <cstdint>

#include "program.hpp"
#include "runner.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tricolor::fuzz::run(tricolor::fuzz::decode(data, size));
  return 0;
}
