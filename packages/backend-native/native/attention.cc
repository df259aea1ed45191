// Multi-head attention forward for inference (no dropout, no gradient) straight from the projections' layout:
// q [B, Lq, H·dh], k/v [B, Lk, H·dh] → probs [B, H, Lq, Lk] and ctx [B, Lq, H·dh]. Each (batch, head) pair reads
// its strided slices in place (leading dimension H·dh), so the four head transposes of the unfused path and the
// separate softmax kernel disappear, and a pair's scores stay in cache between its two products.
#include <cblas.h>

#include "common.h"
#include "fastmath.h"

namespace distillery {

void MultiHeadAttentionForward(const float* q, const float* k, const float* v, const float* mask, float* probs,
                               float* ctx, size_t batch, size_t lq, size_t lk, size_t heads, size_t dh, float scale) {
  const size_t d = heads * dh;
  const int ld = static_cast<int>(d);
  // Pairs are split across the pool; each product is small enough that OpenBLAS runs it on the calling thread.
  ParallelFor(batch * heads, 1, [&](size_t pb, size_t pe) {
    for (size_t pair = pb; pair < pe; ++pair) {
      const size_t b = pair / heads, h = pair % heads;
      const float* qp = q + b * lq * d + h * dh;
      const float* kp = k + b * lk * d + h * dh;
      const float* vp = v + b * lk * d + h * dh;
      float* p = probs + pair * lq * lk;
      // scores = (q·kᵀ)·scale, then + mask and softmax row by row (as AttentionSoftmaxForward).
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(lq), static_cast<int>(lk),
                  static_cast<int>(dh), scale, qp, ld, kp, ld, 0.f, p, static_cast<int>(lk));
      const float* mk = mask != nullptr ? mask + b * lk : nullptr;
      for (size_t r = 0; r < lq; ++r) {
        float* o = p + r * lk;
        if (mk != nullptr)
          for (size_t j = 0; j < lk; ++j) o[j] += mk[j];
        SoftmaxRow(o, o, lk);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(lq), static_cast<int>(dh),
                  static_cast<int>(lk), 1.f, p, static_cast<int>(lk), vp, ld, 0.f, ctx + b * lq * d + h * dh, ld);
    }
  });
}

}  // namespace distillery
