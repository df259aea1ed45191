// Multi-head attention straight from the projections' layout: q [B, Lq, H·dh], k/v [B, Lk, H·dh] → probs
// [B, H, Lq, Lk] and ctx [B, Lq, H·dh]. Each (batch, head) pair reads and writes its strided columns in place
// (leading dimension H·dh), so the head transposes of the unfused path (four forward, four backward) and the
// separate softmax/dropout kernels disappear, and a pair's scores stay in cache between its two products.
// Inference runs both halves per pair in one pass; training keeps them apart (probs is an output of its own: the
// attention losses read it and send gradients into it). Pairs are split across the pool; each product is small
// enough that OpenBLAS runs it on the calling thread. A pair's results do not depend on the split.
#include <cblas.h>

#include <vector>

#include "common.h"
#include "fastmath.h"
#include "philox.h"

namespace distillery {

namespace {

struct Pair {
  size_t b, h;
  size_t qOff, kOff, pOff;  // q/ctx offset, k/v offset, probs offset (elements)
};

Pair PairAt(const AttentionShape& s, size_t pair) {
  const size_t d = s.heads * s.dh;
  const size_t b = pair / s.heads, h = pair % s.heads;
  return {b, h, b * s.lq * d + h * s.dh, b * s.lk * d + h * s.dh, pair * s.lq * s.lk};
}

int I(size_t v) { return static_cast<int>(v); }

/** probs of one pair: (q·kᵀ)·scale, + mask, softmax row by row (as AttentionSoftmaxForward). */
void ProbsPair(const float* q, const float* k, const float* mask, float* p, const AttentionShape& s, const Pair& at,
               float scale) {
  const int ld = I(s.heads * s.dh);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, I(s.lq), I(s.lk), I(s.dh), scale, q + at.qOff, ld, k + at.kOff,
              ld, 0.f, p, I(s.lk));
  const float* mk = mask != nullptr ? mask + at.b * s.lk : nullptr;
  for (size_t r = 0; r < s.lq; ++r) {
    float* o = p + r * s.lk;
    if (mk != nullptr)
      for (size_t j = 0; j < s.lk; ++j) o[j] += mk[j];
    SoftmaxRow(o, o, s.lk);
  }
}

/** One pair's dropped probabilities and the mask multipliers they were made with (null without dropout). */
struct Dropped {
  const float* probs;
  const float* mult;
};

/** dropout(probs) of one pair into `scratch` (the mask indexes the whole probs tensor, as DistilleryDropout's). */
Dropped DroppedPair(const float* p, const Pair& at, const AttentionShape& s, const DropoutParams* dp,
                    std::vector<float>& scratch) {
  if (dp == nullptr) return {p, nullptr};
  const size_t n = s.lq * s.lk;
  scratch.resize(2 * n);
  float* mult = scratch.data() + n;
  DropoutMultipliers(*dp, at.pOff, n, mult);
  for (size_t i = 0; i < n; ++i) scratch[i] = p[i] * mult[i];
  return {scratch.data(), mult};
}

void ForEachPair(const AttentionShape& s, const std::function<void(const Pair&)>& fn) {
  ParallelFor(s.batch * s.heads, 1, [&](size_t pb, size_t pe) {
    for (size_t pair = pb; pair < pe; ++pair) fn(PairAt(s, pair));
  });
}

}  // namespace

void MultiHeadAttentionForward(const float* q, const float* k, const float* v, const float* mask, float* probs,
                               float* ctx, const AttentionShape& s, float scale) {
  const int ld = I(s.heads * s.dh);
  ForEachPair(s, [&](const Pair& at) {
    float* p = probs + at.pOff;
    ProbsPair(q, k, mask, p, s, at, scale);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, I(s.lq), I(s.dh), I(s.lk), 1.f, p, I(s.lk), v + at.kOff,
                ld, 0.f, ctx + at.qOff, ld);
  });
}

void AttentionProbsForward(const float* q, const float* k, const float* mask, float* probs, const AttentionShape& s,
                           float scale) {
  ForEachPair(s, [&](const Pair& at) { ProbsPair(q, k, mask, probs + at.pOff, s, at, scale); });
}

void AttentionProbsBackward(const float* dprobs, const float* probs, const float* q, const float* k, float* dq,
                            float* dk, const AttentionShape& s, float scale) {
  const int ld = I(s.heads * s.dh);
  ForEachPair(s, [&](const Pair& at) {
    thread_local std::vector<float> ds;
    ds.resize(s.lq * s.lk);
    AttentionSoftmaxBackwardRows(dprobs + at.pOff, probs + at.pOff, ds.data(), s.lq, s.lk, scale);
    // dq [Lq, dh] = ds·k, dk [Lk, dh] = dsᵀ·q, each written into its head's columns.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, I(s.lq), I(s.dh), I(s.lk), 1.f, ds.data(), I(s.lk),
                k + at.kOff, ld, 0.f, dq + at.qOff, ld);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I(s.lk), I(s.dh), I(s.lq), 1.f, ds.data(), I(s.lk),
                q + at.qOff, ld, 0.f, dk + at.kOff, ld);
  });
}

void AttentionContextForward(const float* probs, const float* v, float* ctx, const AttentionShape& s,
                             const DropoutParams* p) {
  const int ld = I(s.heads * s.dh);
  ForEachPair(s, [&](const Pair& at) {
    thread_local std::vector<float> scratch;
    const Dropped a = DroppedPair(probs + at.pOff, at, s, p, scratch);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, I(s.lq), I(s.dh), I(s.lk), 1.f, a.probs, I(s.lk),
                v + at.kOff, ld, 0.f, ctx + at.qOff, ld);
  });
}

void AttentionContextBackward(const float* dctx, const float* probs, const float* v, float* dprobs, float* dv,
                              const AttentionShape& s, const DropoutParams* p) {
  const int ld = I(s.heads * s.dh);
  ForEachPair(s, [&](const Pair& at) {
    thread_local std::vector<float> scratch;
    const Dropped a = DroppedPair(probs + at.pOff, at, s, p, scratch);
    // dv [Lk, dh] = dropout(probs)ᵀ·dctx; d(dropped) [Lq, Lk] = dctx·vᵀ, then through the same mask.
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I(s.lk), I(s.dh), I(s.lq), 1.f, a.probs, I(s.lk),
                dctx + at.qOff, ld, 0.f, dv + at.kOff, ld);
    float* dp = dprobs + at.pOff;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, I(s.lq), I(s.lk), I(s.dh), 1.f, dctx + at.qOff, ld,
                v + at.kOff, ld, 0.f, dp, I(s.lk));
    if (a.mult != nullptr)
      for (size_t i = 0; i < s.lq * s.lk; ++i) dp[i] *= a.mult[i];
  });
}

}  // namespace distillery
