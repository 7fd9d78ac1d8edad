// Runs a decoded program on real heaps and threads, in the program's order:
// a baton passes from thread to thread, one operation at a time, and the
// threads that wait do so inside a BlockingScope of each heap they are
// attached to. A concurrent program passes the baton to all threads at
// once, each running its own operations up to the next check. Every operation updates the model (model.hpp) too, and reads
// and checks are compared with it; a mismatch prints what differed and
// aborts, which libFuzzer reports as a crash with its input.
#pragma once

#include "program.hpp"

namespace tricolor::fuzz {

void run(const Program& program);

}  // namespace tricolor::fuzz
