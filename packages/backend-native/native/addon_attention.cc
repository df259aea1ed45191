// N-API entry points of the attention kernels (attention.cc): inference attention in one call, and the two halves
// of training attention (probs; dropout + context) with their gradients. Same checked-call discipline as addon.cc.
#include <napi.h>

#include "args.h"
#include "common.h"
#include "philox.h"

namespace distillery {

DropoutParams ReadDropout(Args& a, size_t i);  // addon_train.cc

namespace {

/** Reads (batch, lq, lk, heads, dh) at arguments i..i+4; sizes that BLAS takes as int must fit in 32 bits. */
AttentionShape ReadShape(Args& a, size_t i) {
  AttentionShape s{a.Size(i), a.Size(i + 1), a.Size(i + 2), a.Size(i + 3), a.Size(i + 4)};
  if (a.ok() && (static_cast<double>(s.heads) * s.dh > 2147483647.0 || s.lq > 2147483647u || s.lk > 2147483647u))
    a.Fail(true, "sizes must fit in 32 bits");
  return s;
}

double QSize(const AttentionShape& s) { return static_cast<double>(s.batch) * s.lq * s.heads * s.dh; }
double KSize(const AttentionShape& s) { return static_cast<double>(s.batch) * s.lk * s.heads * s.dh; }
double PSize(const AttentionShape& s) { return static_cast<double>(s.batch) * s.heads * s.lq * s.lk; }
bool Empty(const AttentionShape& s) { return s.batch * s.heads * s.lq * s.lk * s.dh == 0; }

// multiHeadAttention(heap, qOff, kOff, vOff, maskOff (-1: none), probsOff, ctxOff, batch, lq, lk, heads, dh, scale)
Napi::Value MultiHeadAttentionFn(const Napi::CallbackInfo& info) {
  Args a(info, "multiHeadAttention", 13);
  a.Heap(0);
  const AttentionShape s = ReadShape(a, 7);
  const float* q = a.At<float>(1, QSize(s));
  const float* k = a.At<float>(2, KSize(s));
  const float* v = a.At<float>(3, KSize(s));
  const float* mask = a.Absent(4) ? nullptr : a.At<float>(4, static_cast<double>(s.batch) * s.lk);
  float* probs = a.At<float>(5, PSize(s));
  float* ctx = a.At<float>(6, QSize(s));
  const float scale = a.Float(12);
  if (!a.ok()) return a.env().Undefined();
  if (!Empty(s)) MultiHeadAttentionForward(q, k, v, mask, probs, ctx, s, scale);
  return info.Env().Undefined();
}

// attentionProbs(heap, qOff, kOff, maskOff (-1: none), probsOff, batch, lq, lk, heads, dh, scale)
Napi::Value AttentionProbsFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionProbs", 11);
  a.Heap(0);
  const AttentionShape s = ReadShape(a, 5);
  const float* q = a.At<float>(1, QSize(s));
  const float* k = a.At<float>(2, KSize(s));
  const float* mask = a.Absent(3) ? nullptr : a.At<float>(3, static_cast<double>(s.batch) * s.lk);
  float* probs = a.At<float>(4, PSize(s));
  const float scale = a.Float(10);
  if (!a.ok()) return a.env().Undefined();
  if (!Empty(s)) AttentionProbsForward(q, k, mask, probs, s, scale);
  return info.Env().Undefined();
}

// attentionProbsGrad(heap, dprobsOff, probsOff, qOff, kOff, dqOff, dkOff, batch, lq, lk, heads, dh, scale)
Napi::Value AttentionProbsGradFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionProbsGrad", 13);
  a.Heap(0);
  const AttentionShape s = ReadShape(a, 7);
  const float* dprobs = a.At<float>(1, PSize(s));
  const float* probs = a.At<float>(2, PSize(s));
  const float* q = a.At<float>(3, QSize(s));
  const float* k = a.At<float>(4, KSize(s));
  float* dq = a.At<float>(5, QSize(s));
  float* dk = a.At<float>(6, KSize(s));
  const float scale = a.Float(12);
  if (!a.ok()) return a.env().Undefined();
  if (!Empty(s)) AttentionProbsBackward(dprobs, probs, q, k, dq, dk, s, scale);
  return info.Env().Undefined();
}

// attentionContext(heap, probsOff, vOff, ctxOff, batch, lq, lk, heads, dh, rate, seed, stream, counter)
Napi::Value AttentionContextFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionContext", 13);
  a.Heap(0);
  const AttentionShape s = ReadShape(a, 4);
  const float* probs = a.At<float>(1, PSize(s));
  const float* v = a.At<float>(2, KSize(s));
  float* ctx = a.At<float>(3, QSize(s));
  const DropoutParams p = ReadDropout(a, 9);
  if (!a.ok()) return a.env().Undefined();
  if (!Empty(s)) AttentionContextForward(probs, v, ctx, s, DropoutOrNone(p));
  return info.Env().Undefined();
}

// attentionContextGrad(heap, dctxOff, probsOff, vOff, dprobsOff, dvOff, batch, lq, lk, heads, dh,
//                      rate, seed, stream, counter)
Napi::Value AttentionContextGradFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionContextGrad", 15);
  a.Heap(0);
  const AttentionShape s = ReadShape(a, 6);
  const float* dctx = a.At<float>(1, QSize(s));
  const float* probs = a.At<float>(2, PSize(s));
  const float* v = a.At<float>(3, KSize(s));
  float* dprobs = a.At<float>(4, PSize(s));
  float* dv = a.At<float>(5, KSize(s));
  const DropoutParams p = ReadDropout(a, 11);
  if (!a.ok()) return a.env().Undefined();
  if (!Empty(s)) AttentionContextBackward(dctx, probs, v, dprobs, dv, s, DropoutOrNone(p));
  return info.Env().Undefined();
}

}  // namespace

void RegisterAttentionKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("multiHeadAttention", Napi::Function::New(env, MultiHeadAttentionFn));
  exports.Set("attentionProbs", Napi::Function::New(env, AttentionProbsFn));
  exports.Set("attentionProbsGrad", Napi::Function::New(env, AttentionProbsGradFn));
  exports.Set("attentionContext", Napi::Function::New(env, AttentionContextFn));
  exports.Set("attentionContextGrad", Napi::Function::New(env, AttentionContextGradFn));
}

}  // namespace distillery
