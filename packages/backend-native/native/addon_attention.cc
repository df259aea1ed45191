// N-API entry points of the attention kernels (attention.cc): self-attention on a packed [q | k | v] projection,
// forward (with dropout) and one gradient kernel for both halves. Same checked-call discipline as addon.cc.
#include <napi.h>

#include "args.h"
#include "common.h"
#include "philox.h"

namespace distillery {

DropoutParams ReadDropout(Args& a, size_t i);  // addon_train.cc

namespace {

double QSize(const AttentionShape& s) { return static_cast<double>(s.batch) * s.lq * s.heads * s.dh; }
double PSize(const AttentionShape& s) { return static_cast<double>(s.batch) * s.heads * s.lq * s.lk; }
bool Empty(const AttentionShape& s) { return s.batch * s.heads * s.lq * s.lk * s.dh == 0; }

/** Self-attention on a packed [q | k | v] projection [B, L, 3·H·dh]: shape with lq = lk = L and stride 3·H·dh. */
AttentionShape ReadPackedShape(Args& a, size_t i) {
  const size_t batch = a.Size(i), len = a.Size(i + 1), heads = a.Size(i + 2), dh = a.Size(i + 3);
  if (a.ok() && (3.0 * heads * dh > 2147483647.0 || len > 2147483647u)) a.Fail(true, "sizes must fit in 32 bits");
  return {batch, len, len, heads, dh, 3 * heads * dh};
}

double PackedSize(const AttentionShape& s) { return 3.0 * QSize(s); }

// attentionPacked(heap, qkvOff, maskOff (-1: none), probsOff, ctxOff, batch, len, heads, dh, scale,
//                 rate, seed, stream, counter)
Napi::Value AttentionPackedFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionPacked", 14);
  a.Heap(0);
  const AttentionShape s = ReadPackedShape(a, 5);
  const float* qkv = a.At<float>(1, PackedSize(s));
  const float* mask = a.Absent(2) ? nullptr : a.At<float>(2, static_cast<double>(s.batch) * s.lk);
  float* probs = a.At<float>(3, PSize(s));
  float* ctx = a.At<float>(4, QSize(s));
  const float scale = a.Float(9);
  const DropoutParams p = ReadDropout(a, 10);
  if (!a.ok()) return a.env().Undefined();
  const size_t d = s.heads * s.dh;
  if (!Empty(s)) MultiHeadAttentionForward(qkv, qkv + d, qkv + 2 * d, mask, probs, ctx, s, scale, DropoutOrNone(p));
  return info.Env().Undefined();
}

// attentionPackedGrad(heap, dctxOff, dprobsOff (-1: none), probsOff, qkvOff, dqkvOff, batch, len, heads, dh, scale,
//                     rate, seed, stream, counter)
Napi::Value AttentionPackedGradFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionPackedGrad", 15);
  a.Heap(0);
  const AttentionShape s = ReadPackedShape(a, 6);
  const float* dctx = a.At<float>(1, QSize(s));
  const float* dprobs = a.Absent(2) ? nullptr : a.At<float>(2, PSize(s));
  const float* probs = a.At<float>(3, PSize(s));
  const float* qkv = a.At<float>(4, PackedSize(s));
  float* dqkv = a.At<float>(5, PackedSize(s));
  const float scale = a.Float(10);
  const DropoutParams p = ReadDropout(a, 11);
  if (!a.ok()) return a.env().Undefined();
  const size_t d = s.heads * s.dh;
  if (!Empty(s))
    AttentionBackward(dctx, dprobs, probs, qkv, qkv + d, qkv + 2 * d, dqkv, dqkv + d, dqkv + 2 * d, s, scale,
                      DropoutOrNone(p));
  return info.Env().Undefined();
}

}  // namespace

void RegisterAttentionKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("attentionPacked", Napi::Function::New(env, AttentionPackedFn));
  exports.Set("attentionPackedGrad", Napi::Function::New(env, AttentionPackedGradFn));
}

}  // namespace distillery
