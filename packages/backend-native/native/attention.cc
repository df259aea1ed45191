// Multi-head attention straight from the projections' layout: q, k, v are the thirds of one packed projection
// [B, L, 3·H·dh] (row stride 3·H·dh; any stride works) → probs [B, H, Lq, Lk] and ctx [B, Lq, H·dh]. Each (batch,
// head) pair reads and writes its strided columns in place, so the head transposes of the unfused path (four
// forward, four backward), the split of the projection and the separate softmax/dropout kernels disappear, and a
// pair's scores stay in cache between its two products, forward and backward. The backward pass writes dq, dk, dv
// into one buffer of the projection's layout, which the stacked linear layer's gradient reads as it is. Pairs are
// split across the pool; each product is small enough that OpenBLAS runs it on the calling thread. A pair's
// results do not depend on the split.
#include <cblas.h>

#include <vector>

#include "common.h"
#include "fastmath.h"
#include "philox.h"

namespace distillery {

namespace {

struct Pair {
  size_t b, h;
  size_t qIn, kIn;  // offsets of the pair's q and k/v columns (and of their gradients) at the input stride
  size_t qOff;      // offset of its ctx (and dctx) columns, heads merged at stride H·dh
  size_t pOff;      // offset of its probs block
};

Pair PairAt(const AttentionShape& s, size_t pair) {
  const size_t d = s.heads * s.dh, ldi = s.ldIn;
  const size_t b = pair / s.heads, h = pair % s.heads;
  return {b, h, b * s.lq * ldi + h * s.dh, b * s.lk * ldi + h * s.dh, b * s.lq * d + h * s.dh, pair * s.lq * s.lk};
}

int I(size_t v) { return static_cast<int>(v); }

/** probs of one pair: (q·kᵀ)·scale, + mask, softmax row by row (as AttentionSoftmaxForward). */
void ProbsPair(const float* q, const float* k, const float* mask, float* p, const AttentionShape& s, const Pair& at,
               float scale) {
  const int ld = I(s.ldIn);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, I(s.lq), I(s.lk), I(s.dh), scale, q + at.qIn, ld, k + at.kIn,
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

/** dq [Lq, dh] = ds·k and dk [Lk, dh] = dsᵀ·q of one pair, each written into its head's columns. */
void QueryKeyGrads(const float* ds, const float* q, const float* k, float* dq, float* dk, const AttentionShape& s,
                   const Pair& at) {
  const int ldi = I(s.ldIn);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, I(s.lq), I(s.dh), I(s.lk), 1.f, ds, I(s.lk), k + at.kIn, ldi,
              0.f, dq + at.qIn, ldi);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I(s.lk), I(s.dh), I(s.lq), 1.f, ds, I(s.lk), q + at.qIn, ldi,
              0.f, dk + at.kIn, ldi);
}

/**
 * dv = dropout(probs)ᵀ·dctx and d(probs) = dropout(dctx·vᵀ) of one pair (`a`: its dropped probs and mask), the
 * latter into `dp` [Lq, Lk].
 */
void ContextGrads(const float* dctx, const Dropped& a, const float* v, float* dp, float* dv, const AttentionShape& s,
                  const Pair& at) {
  const int ld = I(s.heads * s.dh), ldi = I(s.ldIn);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I(s.lk), I(s.dh), I(s.lq), 1.f, a.probs, I(s.lk), dctx + at.qOff,
              ld, 0.f, dv + at.kIn, ldi);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, I(s.lq), I(s.lk), I(s.dh), 1.f, dctx + at.qOff, ld, v + at.kIn,
              ldi, 0.f, dp, I(s.lk));
  if (a.mult != nullptr)
    for (size_t i = 0; i < s.lq * s.lk; ++i) dp[i] *= a.mult[i];
}

void ForEachPair(const AttentionShape& s, const std::function<void(const Pair&)>& fn) {
  ParallelFor(s.batch * s.heads, 1, [&](size_t pb, size_t pe) {
    for (size_t pair = pb; pair < pe; ++pair) fn(PairAt(s, pair));
  });
}

}  // namespace

void MultiHeadAttentionForward(const float* q, const float* k, const float* v, const float* mask, float* probs,
                               float* ctx, const AttentionShape& s, float scale, const DropoutParams* dp) {
  const int ld = I(s.heads * s.dh), ldi = I(s.ldIn);
  ForEachPair(s, [&](const Pair& at) {
    thread_local std::vector<float> scratch;
    float* p = probs + at.pOff;
    ProbsPair(q, k, mask, p, s, at, scale);
    const Dropped a = DroppedPair(p, at, s, dp, scratch);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, I(s.lq), I(s.dh), I(s.lk), 1.f, a.probs, I(s.lk),
                v + at.kIn, ldi, 0.f, ctx + at.qOff, ld);
  });
}

void AttentionBackward(const float* dctx, const float* dprobs, const float* probs, const float* q, const float* k,
                       const float* v, float* dq, float* dk, float* dv, const AttentionShape& s, float scale,
                       const DropoutParams* p) {
  const size_t n = s.lq * s.lk;
  ForEachPair(s, [&](const Pair& at) {
    thread_local std::vector<float> scratch, grads;
    const Dropped a = DroppedPair(probs + at.pOff, at, s, p, scratch);
    grads.resize(2 * n);
    float* dp = grads.data();
    float* ds = dp + n;
    // The pair's probs stay in cache from the context half to the softmax half.
    ContextGrads(dctx, a, v, dp, dv, s, at);
    if (dprobs != nullptr)
      for (size_t i = 0; i < n; ++i) dp[i] += dprobs[at.pOff + i];
    AttentionSoftmaxBackwardRows(dp, probs + at.pOff, ds, s.lq, s.lk, scale);
    QueryKeyGrads(ds, q, k, dq, dk, s, at);
  });
}

}  // namespace distillery
