// Batched, broadcasting matrix products with a fused bias/activation epilogue: oneDNN's sgemm for the large ones when
// libdnnl.so.2 loads at run time, OpenBLAS cblas_sgemm for the rest (and for all of them without oneDNN).
#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"

namespace distillery {

namespace {

// oneDNN's sgemm, loaded at run time when libdnnl.so.2 is on the machine (Debian's libdnnl2; PyTorch's own
// matmuls go through it): on AVX-512 machines its JIT kernels run ~15 % above OpenBLAS's. Not linked, so the
// addon builds and runs without it; DISTILLERY_GEMM=openblas turns it off.
using DnnlSgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
struct DnnlVersion {
  int major, minor, patch;
  const char* hash;
  unsigned cpuRuntime, gpuRuntime;
};

struct Dnnl {
  DnnlSgemm sgemm = nullptr;
  void (*setOmpThreads)(int) = nullptr;
  std::string name;
};

Dnnl LoadDnnl() {
  Dnnl d;
  const char* want = std::getenv("DISTILLERY_GEMM");
  if (want != nullptr && std::strcmp(want, "openblas") == 0) return d;
  // The addon's parallel kernels share oneDNN's OpenMP workers (threads.cc), so they may keep spinning
  // between a kernel and the next product (libgomp loads with the addon and reads OMP_WAIT_POLICY then).
  void* h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) return d;
  auto sgemm = reinterpret_cast<DnnlSgemm>(dlsym(h, "dnnl_sgemm"));
  auto version = reinterpret_cast<const DnnlVersion* (*)()>(dlsym(h, "dnnl_version"));
  if (sgemm == nullptr || version == nullptr) return d;
  d.sgemm = sgemm;
  d.setOmpThreads = reinterpret_cast<void (*)(int)>(dlsym(h, "omp_set_num_threads"));
  const DnnlVersion* v = version();
  d.name = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  return d;
}

Dnnl& TheDnnl() {
  static Dnnl d = LoadDnnl();
  return d;
}

}  // namespace

std::string GemmEngine() { return TheDnnl().name; }

void SetGemmThreads(int n) {
  if (TheDnnl().setOmpThreads != nullptr) TheDnnl().setOmpThreads(n);
}

/** One row-major C = op(A)·op(B): oneDNN when loaded and `large`, else OpenBLAS. */
static void Sgemm(bool large, bool transA, bool transB, int m, int n, int k, const float* a, int lda, const float* b,
                  int ldb, float* c, int ldc) {
  const Dnnl& d = TheDnnl();
  if (large && d.sgemm != nullptr) {
    // A signal handled on a thread inside oneDNN 2.6's sgemm corrupts memory (reproduced with an itimer and an
    // empty handler: glibc aborts on a smashed heap). Node takes signals (SIGCHLD, SIGTERM, the profiler's
    // SIGPROF), so every call runs with all signals blocked; its OpenMP workers are created inside such a call
    // and inherit the blocked mask. Pending signals are taken when the mask is restored.
    const SignalsBlocked blocked;
    d.sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', m, n, k, 1.f, a, lda, b, ldb, 0.f, c, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, 1.f, a,
              lda, b, ldb, 0.f, c, ldc);
}

void ApplyEpilogue(float* c, size_t rows, int n, const float* bias, int biasSize, int activation, float alpha) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = c + r * static_cast<size_t>(n);
    if (bias != nullptr) {
      if (biasSize == 1) {
        const float v = bias[0];
        for (int j = 0; j < n; ++j) row[j] += v;
      } else {
        for (int j = 0; j < n; ++j) row[j] += bias[j];
      }
    }
    switch (activation) {
      case kRelu:
        for (int j = 0; j < n; ++j) row[j] = row[j] > 0.f ? row[j] : 0.f;
        break;
      case kRelu6:
        for (int j = 0; j < n; ++j) row[j] = std::min(6.f, std::max(0.f, row[j]));
        break;
      case kElu:
        for (int j = 0; j < n; ++j) row[j] = row[j] >= 0.f ? row[j] : std::expm1(row[j]);
        break;
      case kLeakyRelu:
        for (int j = 0; j < n; ++j) row[j] = row[j] >= 0.f ? row[j] : alpha * row[j];
        break;
      case kSigmoid:
        for (int j = 0; j < n; ++j) row[j] = 1.f / (1.f + std::exp(-row[j]));
        break;
      default:
        break;
    }
  }
}

/** Whether a large transposeB product runs faster on an explicit copy of Bᵀ (DISTILLERY_GEMM_TRANSPOSE=0: never). */
static bool TransposeFirst(const GemmArgs& g) {
  static const bool enabled = [] {
    const char* v = std::getenv("DISTILLERY_GEMM_TRANSPOSE");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  // Only where it pays: a long inner dimension (K ≥ 2N; with K ≈ N or K < N the copy costs what it saves,
  // measured on 2048×256·256² and 2048×256·(1024×256)ᵀ), the copy small next to the product (M ≥ 64 rows
  // share it) and bounded (≤ 16 MB of scratch).
  return enabled && g.m >= 64 && g.k >= 2 * g.n && static_cast<size_t>(g.n) * g.k <= (size_t{1} << 22);
}

/** `w` [rows, cols] transposed into a per-thread scratch buffer [cols, rows] (tiles of 16 × 16, on the pool). */
static const float* TransposedCopy(const float* w, int rows, int cols) {
  thread_local std::vector<float> scratch;
  const size_t n = static_cast<size_t>(rows) * cols;
  if (scratch.size() < n) scratch.resize(n);
  float* out = scratch.data();
  constexpr int kTile = 16;
  const size_t rowTiles = (static_cast<size_t>(rows) + kTile - 1) / kTile;
  ParallelFor(rowTiles, 8, [&](size_t tb, size_t te) {
    for (size_t t = tb; t < te; ++t) {
      const int r0 = static_cast<int>(t) * kTile, r1 = std::min(rows, r0 + kTile);
      for (int c0 = 0; c0 < cols; c0 += kTile) {
        const int c1 = std::min(cols, c0 + kTile);
        for (int r = r0; r < r1; ++r)
          for (int c = c0; c < c1; ++c) out[static_cast<size_t>(c) * rows + r] = w[static_cast<size_t>(r) * cols + c];
      }
    }
  });
  return out;
}

/**
 * Whether a large Aᵀ·B product (transA only: the weight gradients dW = dYᵀ·X of linear layers) runs as row blocks of
 * C, one single-threaded oneDNN call per thread of the OpenMP pool (oneDNN runs sequentially inside a parallel
 * region). oneDNN 2.6's own two-thread split of these products is uneven on some shapes: C [256, 1024] with K 2048
 * took 7.4 ms against 5.8-6.0 split by rows (the bench student's FFN-out dW, four per step); the other dW shapes of
 * the bench and of BERT-base came out equal or up to 5 % faster. DISTILLERY_GEMM_SPLIT=0 keeps oneDNN's split.
 */
static bool SplitRows(const GemmArgs& g) {
  static const bool enabled = [] {
    const char* v = std::getenv("DISTILLERY_GEMM_SPLIT");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled && TheDnnl().sgemm != nullptr && g.transA && !g.transB && ThePoolKind() == PoolKind::kOpenMp &&
         Threads() > 1 && g.m >= 64 * Threads();
}

static void GemmRange(const GemmArgs& g, size_t begin, size_t end, bool large) {
  const size_t aSize = static_cast<size_t>(g.m) * g.k;
  const size_t bSize = static_cast<size_t>(g.k) * g.n;
  const size_t cSize = static_cast<size_t>(g.m) * g.n;
  const int lda = g.transA ? g.m : g.k;
  const int ldb = g.transB ? g.k : g.n;
  for (size_t i = begin; i < end; ++i) {
    const float* a = g.a + aSize * static_cast<size_t>(g.aIndex[i]);
    const float* b = g.b + bSize * static_cast<size_t>(g.bIndex[i]);
    float* c = g.c + cSize * i;
    if (g.k == 0) {
      std::fill(c, c + cSize, 0.f);
    } else if (large && SplitRows(g)) {
      // Row blocks of C, a multiple of 16 rows each; A [K, M] is read at the block's columns (lda stays M).
      const int t = Threads();
      const int per = ((g.m + t - 1) / t + 15) / 16 * 16;
      ParallelChunks(static_cast<size_t>(t), [&](size_t chunk) {
        const int m0 = static_cast<int>(chunk) * per;
        const int rows = std::min(per, g.m - m0);
        if (rows > 0)
          Sgemm(true, true, false, rows, g.n, g.k, a + m0, lda, b, ldb, c + static_cast<size_t>(m0) * g.n, g.n);
      });
    } else if (large && g.transB && TransposeFirst(g)) {
      // x·Wᵀ with W [N, K]: both engines run it up to ~35 % slower than x·B with B = Wᵀ stored [K, N] (oneDNN
      // 2048×1024·(256×1024)ᵀ: 7.8 vs 5.8 ms), and the copy costs K·N of the product's M·K·N.
      const float* bt = TransposedCopy(b, g.n, g.k);
      Sgemm(large, g.transA, false, g.m, g.n, g.k, a, lda, bt, g.n, c, g.n);
    } else {
      Sgemm(large, g.transA, g.transB, g.m, g.n, g.k, a, lda, b, ldb, c, g.n);
    }
    if (g.bias != nullptr || g.activation != kLinear) {
      if (large) {
        // After a product that ran on every thread, the bias/activation pass runs on every thread too (one
        // thread took ~1/3 of a [2048, 384] product's time).
        ParallelFor(static_cast<size_t>(g.m), 64, [&](size_t rb, size_t re) {
          ApplyEpilogue(c + rb * static_cast<size_t>(g.n), re - rb, g.n, g.bias, g.biasSize, g.activation, g.alpha);
        });
      } else {
        ApplyEpilogue(c, static_cast<size_t>(g.m), g.n, g.bias, g.biasSize, g.activation, g.alpha);
      }
    }
  }
}

void Gemm(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;  // empty output
  const double flopsEach = 2.0 * g.m * g.n * g.k;
  // OpenBLAS runs products below ~2^18 multiply-adds on one thread; split such batches across our threads instead.
  const bool smallEach = flopsEach <= 2.0 * 262144.0;
  if (g.batch > 1 && smallEach && Threads() > 1 && flopsEach * g.batch >= 4.0e6) {
    ParallelFor(static_cast<size_t>(g.batch), 1, [&](size_t b, size_t e) { GemmRange(g, b, e, false); });
  } else {
    if (!smallEach) ParkPool();  // the engine's threads take both cores (a no-op when they are the pool)
    GemmRange(g, 0, static_cast<size_t>(g.batch), !smallEach);
  }
}

}  // namespace distillery
