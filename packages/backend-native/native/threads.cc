// Thread count shared with OpenBLAS, and the fork-join pool of the addon's own parallel kernels. Two pools:
//
// - OpenMP (when oneDNN runs the large products): the kernels run as OpenMP parallel regions on the same libgomp
//   team as oneDNN's sgemm. One set of workers serves both, so a product no longer wakes threads that slept since
//   the last one, and a kernel after a product finds its workers still spinning (libgomp's own spin, then sleep;
//   OMP_WAIT_POLICY / GOMP_SPINCOUNT tune it). Two pools on 2 cores took each other's cores or slept through the
//   hand-over: one train step of the bench took 40-60 ms longer with them.
// - Our own (when OpenBLAS runs every product, whose pthread pool is not OpenMP; or DISTILLERY_POOL=own):
//   workers are created once and, between calls, first spin for a short while (DISTILLERY_POOL_SPIN_US, default
//   100 µs), then park on a condition variable. On a VM, waking a parked thread whose vCPU went idle took
//   0.1-0.5 ms, longer than most of the kernels it was woken for. A spinning libgomp pool next to OpenBLAS's
//   threads doubled the step's time, hence no OpenMP there.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <omp.h>

#include "common.h"

namespace distillery {

namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

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
      genA_.store(gen_, std::memory_order_release);
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

  /** Spinning workers park at once (the BLAS threads of a large product need the cores). */
  void Park() { parkNow_.store(true, std::memory_order_relaxed); }

  /** Runs fn(c) for chunks c = 0..chunks-1 (chunks ≤ Size() + 1): chunk 0 on the caller, the rest on workers. */
  void Run(size_t chunks, const std::function<void(size_t)>& fn) {
    std::lock_guard<std::mutex> call(callMu_);  // one parallel region at a time (kernels are called from JS)
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      chunks_ = chunks;
      pending_ = chunks - 1;
      pendingA_.store(chunks - 1, std::memory_order_relaxed);
      parkNow_.store(false, std::memory_order_relaxed);
      ++gen_;
      genA_.store(gen_, std::memory_order_release);
    }
    cv_.notify_all();
    fn(0);
    SpinUntil([this] { return pendingA_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  /** Spins (with pause) until done() or the spin time has passed. */
  template <typename Done>
  static void SpinUntil(Done done) {
    static const auto spin = std::chrono::microseconds(SpinMicros());
    if (spin.count() == 0) return;
    const auto until = std::chrono::steady_clock::now() + spin;
    while (!done()) {
      for (int i = 0; i < 64; ++i) CpuRelax();
      if (std::chrono::steady_clock::now() >= until) return;
    }
  }

  static long SpinMicros() {
    const char* env = std::getenv("DISTILLERY_POOL_SPIN_US");
    if (env == nullptr || *env == '\0') return 100;
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    return (end != env && v >= 0) ? std::min(v, 100000L) : 100;
  }

  void Loop(size_t index, uint64_t seen) {
    for (;;) {
      const std::function<void(size_t)>* fn = nullptr;
      SpinUntil([&] { return genA_.load(std::memory_order_acquire) != seen || parkNow_.load(std::memory_order_relaxed); });
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
      pendingA_.fetch_sub(1, std::memory_order_release);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex callMu_, mu_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t chunks_ = 0, pending_ = 0;
  uint64_t gen_ = 0;
  // Lock-free mirrors of gen_ and pending_ for the spinning phase (the mutex-protected ones stay authoritative).
  std::atomic<uint64_t> genA_{0};
  std::atomic<size_t> pendingA_{0};
  std::atomic<bool> parkNow_{false};
  bool stop_ = false;
};

Pool& ThePool() {
  static Pool pool;
  return pool;
}

int g_threads = 1;
int g_fusedThreads = 1;

PoolKind ChoosePool() {
  const char* env = std::getenv("DISTILLERY_POOL");
  const std::string want = env != nullptr ? env : "";
  if (want == "omp") return PoolKind::kOpenMp;
  if (want == "own") return PoolKind::kOwn;
  return GemmEngine().empty() ? PoolKind::kOwn : PoolKind::kOpenMp;  // "auto" (the JS side rejects other values)
}

/** Largest number of chunks one parallel call may use. */
size_t MaxChunks() { return static_cast<size_t>(std::max(g_threads, g_fusedThreads)); }

void ResizeOwnPool() {
  if (ThePoolKind() == PoolKind::kOwn) ThePool().Resize(MaxChunks() - 1);
}

}  // namespace

PoolKind ThePoolKind() {
  static const PoolKind kind = ChoosePool();
  return kind;
}

int Threads() { return g_threads; }
int FusedThreads() { return g_fusedThreads; }

void SetThreads(int n) {
  g_threads = std::max(1, n);
  ResizeOwnPool();
}

void SetFusedThreads(int n) {
  g_fusedThreads = std::max(1, n);
  ResizeOwnPool();
}

void ParkPool() {
  if (ThePoolKind() == PoolKind::kOwn) ThePool().Park();
}

void ParallelChunks(size_t chunks, const std::function<void(size_t)>& fn) {
  chunks = std::min(chunks, MaxChunks());
  if (chunks <= 1) {
    fn(0);
    return;
  }
  if (ThePoolKind() == PoolKind::kOwn) {
    ThePool().Run(chunks, fn);
    return;
  }
  // Signals blocked as around oneDNN's sgemm (gemm.cc): libgomp may create a worker here, and every worker
  // inherits this mask and later runs oneDNN's code.
  const SignalsBlocked blocked;
#pragma omp parallel num_threads(static_cast<int>(chunks))
  {
    // libgomp may give fewer threads than asked (thread limits): the team then shares the chunks.
    const size_t team = static_cast<size_t>(omp_get_num_threads());
    for (size_t c = static_cast<size_t>(omp_get_thread_num()); c < chunks; c += team) fn(c);
  }
}

void ParallelFor(size_t n, size_t minPerThread, const std::function<void(size_t, size_t)>& fn, int threads) {
  size_t t = static_cast<size_t>(threads > 0 ? threads : g_threads);
  if (minPerThread > 0) t = std::min(t, n / minPerThread);
  t = std::min(t, MaxChunks());
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
