// Batched, broadcasting matrix products through OpenBLAS cblas_sgemm, with a fused bias/activation epilogue.
#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "common.h"

namespace distillery {

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

static void GemmRange(const GemmArgs& g, size_t begin, size_t end) {
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
    } else {
      cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                  g.m, g.n, g.k, 1.f, a, lda, b, ldb, 0.f, c, g.n);
    }
    if (g.bias != nullptr || g.activation != kLinear) {
      ApplyEpilogue(c, static_cast<size_t>(g.m), g.n, g.bias, g.biasSize, g.activation, g.alpha);
    }
  }
}

void Gemm(const GemmArgs& g) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;  // empty output
  const double flopsEach = 2.0 * g.m * g.n * g.k;
  // OpenBLAS runs products below ~2^18 multiply-adds on one thread; split such batches across our threads instead.
  const bool smallEach = flopsEach <= 2.0 * 262144.0;
  if (g.batch > 1 && smallEach && Threads() > 1 && flopsEach * g.batch >= 4.0e6) {
    ParallelFor(static_cast<size_t>(g.batch), 1, [&](size_t b, size_t e) { GemmRange(g, b, e); });
  } else {
    GemmRange(g, 0, static_cast<size_t>(g.batch));
  }
}

}  // namespace distillery
