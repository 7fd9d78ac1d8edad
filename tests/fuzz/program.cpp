#include "program.hpp"


namespace tricolor::fuzz {

Program decode(const std::uint8_t* data, std::size_t size) {
  Program p;
  std::size_t at = 0;
  auto next = [&]() -> std::uint8_t { return at < size ? data[at++] : 0; };
  const std::uint8_t config = next();
  p.threads = 2 + (config & 1);
  p.concurrent = config >> 7;
  for (int t = 0; t < p.threads; ++t) {
    std::uint8_t mask = (config >> (1 + 2 * t)) & 3;
    if (mask == 0) mask = static_cast<std::uint8_t>(1u << (t % kHeaps));
    p.attach[t] = mask;
  }
  // Every heap has a thread: thread h, if none chose it.
  for (int h = 0; h < kHeaps; ++h) {
    bool any = false;
    for (int t = 0; t < p.threads; ++t) any = any || (p.attach[t] >> h & 1);
    if (!any) p.attach[h] = static_cast<std::uint8_t>(1u << h);
  }
  while (at + 5 <= size && p.ops.size() < kMaxOps) {
    const std::uint8_t who = next();
    Op op{};
    op.thread = static_cast<std::uint8_t>(who % p.threads);
    op.heap = static_cast<std::uint8_t>((who >> 4) % kHeaps);
    op.code = static_cast<OpCode>(next() % static_cast<std::uint8_t>(OpCode::kCount));
    op.a = next();
    op.b = next();
    op.c = next();
    p.ops.push_back(op);
  }
  // The end: every thread leaves its BlockingScopes, then each heap is
  // collected and compared with the model.
  for (int t = 0; t < p.threads; ++t) {
    for (int h = 0; h < kHeaps; ++h) {
      if (p.attach[t] >> h & 1) p.ops.push_back({OpCode::kUnblock, static_cast<std::uint8_t>(t), static_cast<std::uint8_t>(h), 0, 0, 0});
    }
  }
  for (int h = 0; h < kHeaps; ++h) p.ops.push_back({OpCode::kCollect, 0, static_cast<std::uint8_t>(h), 0, 0, 1});
  return p;
}

}  // namespace tricolor::fuzz
