// Thread count shared with OpenBLAS, and a persistent fork-join pool: workers are created once (when the thread
// count is set) and parked on a condition variable between calls, instead of a std::thread per call.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace distillery {

namespace {

class Pool {
 public:
  ~Pool() { Resize(0); }

  /** Keeps `n` parked workers (the calling thread is the extra one). */
  void Resize(size_t n) {
    std::lock_guard<std::mutex> call(callMu_);
    if (n == workers_.size()) return;
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
      ++gen_;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stop_ = false;
    // The generation is read here, not in the new thread: a Run() issued before a worker first gets the lock
    // must still count as new work for it (else the caller would wait forever for that chunk).
    const uint64_t start = gen_;
    for (size_t i = 0; i < n; ++i) workers_.emplace_back([this, i, start] { Loop(i + 1, start); });
  }

  size_t Size() const { return workers_.size(); }

  /** Runs fn(c) for chunks c = 0..chunks-1 (chunks ≤ Size() + 1): chunk 0 on the caller, the rest on workers. */
  void Run(size_t chunks, const std::function<void(size_t)>& fn) {
    std::lock_guard<std::mutex> call(callMu_);  // one parallel region at a time (kernels are called from JS)
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      chunks_ = chunks;
      pending_ = chunks - 1;
      ++gen_;
    }
    cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  void Loop(size_t index, uint64_t seen) {
    for (;;) {
      const std::function<void(size_t)>* fn = nullptr;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_ != seen; });
        seen = gen_;
        if (stop_) return;
        if (index >= chunks_) continue;
        fn = fn_;
      }
      (*fn)(index);
      std::lock_guard<std::mutex> lk(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex callMu_, mu_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t chunks_ = 0, pending_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

Pool& ThePool() {
  static Pool pool;
  return pool;
}

int g_threads = 1;
int g_fusedThreads = 1;

}  // namespace

int Threads() { return g_threads; }
int FusedThreads() { return g_fusedThreads; }

void SetThreads(int n) {
  g_threads = std::max(1, n);
  ThePool().Resize(static_cast<size_t>(std::max(g_threads, g_fusedThreads) - 1));
}

void SetFusedThreads(int n) {
  g_fusedThreads = std::max(1, n);
  ThePool().Resize(static_cast<size_t>(std::max(g_threads, g_fusedThreads) - 1));
}

void ParallelChunks(size_t chunks, const std::function<void(size_t)>& fn) {
  chunks = std::min(chunks, ThePool().Size() + 1);
  if (chunks <= 1) {
    fn(0);
    return;
  }
  ThePool().Run(chunks, fn);
}

void ParallelFor(size_t n, size_t minPerThread, const std::function<void(size_t, size_t)>& fn, int threads) {
  size_t t = static_cast<size_t>(threads > 0 ? threads : g_threads);
  if (minPerThread > 0) t = std::min(t, n / minPerThread);
  t = std::min(t, ThePool().Size() + 1);
  if (t <= 1) {
    fn(0, n);
    return;
  }
  const size_t chunk = (n + t - 1) / t;
  ParallelChunks(t, [&](size_t c) {
    const size_t b = c * chunk, e = std::min(n, b + chunk);
    if (b < e) fn(b, e);
  });
}

}  // namespace distillery
