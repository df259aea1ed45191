// Thread count shared with OpenBLAS, and a minimal fork-join helper for splitting batched small products.
#include <algorithm>
#include <thread>
#include <vector>

#include "common.h"

namespace distillery {

static int g_threads = 1;
int Threads() { return g_threads; }
void SetThreads(int n) { g_threads = std::max(1, n); }

void ParallelFor(size_t n, size_t minPerThread, const std::function<void(size_t, size_t)>& fn) {
  size_t t = static_cast<size_t>(g_threads);
  if (minPerThread > 0) t = std::min(t, n / minPerThread);
  if (t <= 1) {
    fn(0, n);
    return;
  }
  std::vector<std::thread> workers;
  const size_t chunk = (n + t - 1) / t;
  for (size_t i = 1; i < t; ++i) {
    const size_t b = i * chunk, e = std::min(n, b + chunk);
    if (b < e) workers.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(0, std::min(n, chunk));
  for (auto& w : workers) w.join();
}

}  // namespace distillery
