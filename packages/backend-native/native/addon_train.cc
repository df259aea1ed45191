// N-API entry points of the training kernels added for the distillation step: Philox dropout, fused
// dropout + residual add + LayerNorm, attention scale + mask + softmax (forward and backward each), and the
// thread count of the fused kernels. Same checked-call discipline as addon.cc (args.h).
#include <napi.h>

#include "args.h"
#include "common.h"
#include "philox.h"

namespace distillery {

namespace {
constexpr double kU32 = 4294967295.0;
constexpr double kMaxSafe = 9007199254740991.0;
}  // namespace

/** Reads (rate, seed, stream, counter) at arguments i..i+3. */
DropoutParams ReadDropout(Args& a, size_t i) {
  const double rate = a.Real(i, 0.0, 1.0);
  const size_t s = a.Size(i + 1), st = a.Size(i + 2), c = a.Size(i + 3);
  if (a.ok() && (s > kU32 || st > kU32)) a.Fail(true, "seed and stream must be 32-bit unsigned integers");
  if (a.ok() && c > kMaxSafe) a.Fail(true, "counter must be below 2^53");
  return MakeDropoutParams(rate, static_cast<uint32_t>(s), static_cast<uint32_t>(st), static_cast<uint64_t>(c));
}

namespace {

// dropout(heap, xOff, yOff, n, rate, seed, stream, counter)
Napi::Value DropoutFn(const Napi::CallbackInfo& info) {
  Args a(info, "dropout", 8);
  a.Heap(0);
  const size_t n = a.Size(3);
  const float* x = a.At<float>(1, n);
  float* y = a.At<float>(2, n);
  const DropoutParams p = ReadDropout(a, 4);
  if (!a.ok()) return a.env().Undefined();
  Dropout(x, y, n, p);
  return info.Env().Undefined();
}

// dropoutAddLayerNorm(heap, xOff, resOff, gammaOff, betaOff, yOff, meanOff, rstdOff, rows, cols, eps,
//                     rate, seed, stream, counter)   (rate 0: no dropout)
Napi::Value DropoutAddLayerNormFn(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutAddLayerNorm", 15);
  a.Heap(0);
  const size_t rows = a.Size(8), cols = a.Size(9);
  const double rc = static_cast<double>(rows) * cols;
  const float* x = a.At<float>(1, rc);
  const float* res = a.At<float>(2, rc);
  const float* gamma = a.At<float>(3, cols);
  const float* beta = a.At<float>(4, cols);
  float* y = a.At<float>(5, rc);
  float* mean = a.At<float>(6, rows);
  float* rstd = a.At<float>(7, rows);
  const float eps = a.Float(10);
  const DropoutParams p = ReadDropout(a, 11);
  if (!a.ok()) return a.env().Undefined();
  DropoutAddLayerNormForward(x, res, gamma, beta, y, mean, rstd, rows, cols, eps, DropoutOrNone(p));
  return info.Env().Undefined();
}

// dropoutAddLayerNormGrad(heap, dyOff, xOff, resOff, gammaOff, meanOff, rstdOff, dxOff, dresOff, dgammaOff,
//                         dbetaOff, rows, cols, rate, seed, stream, counter)
Napi::Value DropoutAddLayerNormGradFn(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutAddLayerNormGrad", 17);
  a.Heap(0);
  const size_t rows = a.Size(11), cols = a.Size(12);
  const double rc = static_cast<double>(rows) * cols;
  const float* dy = a.At<float>(1, rc);
  const float* x = a.At<float>(2, rc);
  const float* res = a.At<float>(3, rc);
  const float* gamma = a.At<float>(4, cols);
  const float* mean = a.At<float>(5, rows);
  const float* rstd = a.At<float>(6, rows);
  float* dx = a.At<float>(7, rc);
  float* dres = a.At<float>(8, rc);
  float* dgamma = a.At<float>(9, cols);
  float* dbeta = a.At<float>(10, cols);
  const DropoutParams p = ReadDropout(a, 13);
  if (!a.ok()) return a.env().Undefined();
  DropoutAddLayerNormBackward(dy, x, res, gamma, mean, rstd, dx, dres, dgamma, dbeta, rows, cols,
                              DropoutOrNone(p));
  return info.Env().Undefined();
}

// attentionSoftmax(heap, sOff, maskOff, outOff, rows, cols, rowsPerMask, scale)   (maskOff < 0: no mask)
Napi::Value AttentionSoftmaxFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionSoftmax", 8);
  a.Heap(0);
  const size_t rows = a.Size(4), cols = a.Size(5), rowsPerMask = a.Size(6);
  const double rc = static_cast<double>(rows) * cols;
  const float* s = a.At<float>(1, rc);
  const bool hasMask = !a.Absent(2);
  if (a.ok() && hasMask && rowsPerMask == 0) a.Fail(true, "rowsPerMask must be positive with a mask");
  const float* mask = hasMask ? a.At<float>(2, rowsPerMask == 0 ? 0 : ((rows + rowsPerMask - 1) / rowsPerMask) * static_cast<double>(cols)) : nullptr;
  float* out = a.At<float>(3, rc);
  const float scale = a.Float(7);
  if (!a.ok()) return a.env().Undefined();
  AttentionSoftmaxForward(s, mask, out, rows, cols, rowsPerMask == 0 ? 1 : rowsPerMask, scale);
  return info.Env().Undefined();
}

// sumSquares(heap, elementOffsets: Int32Array, sizes: Int32Array) → Σ_t Σ_i x_t[i]² over float32 regions
// (offsets in 4-byte elements), accumulated in double: the global gradient norm's reduction in one call.
Napi::Value SumSquaresFn(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares", 3);
  a.Heap(0);
  size_t n = 0, nSizes = 0;
  const int32_t* offs = a.Int32s(1, 0, &n);
  const int32_t* sizes = a.Int32s(2, 0, &nSizes);
  if (a.ok() && nSizes != n) a.Fail(true, "offsets and sizes differ in length");
  const size_t heapElems = a.HeapBytes() / 4;
  for (size_t t = 0; a.ok() && t < n; ++t) {
    if (offs[t] < 0 || sizes[t] < 0 || static_cast<size_t>(offs[t]) + static_cast<size_t>(sizes[t]) > heapElems)
      a.Fail(true, "region " + std::to_string(t) + " runs past the heap");
  }
  if (!a.ok()) return a.env().Undefined();
  const float* base = reinterpret_cast<const float*>(a.HeapData());
  return Napi::Number::New(info.Env(), SumSquares(base, offs, sizes, n));
}

// attentionSoftmaxGrad(heap, dyOff, probsOff, dsOff, rows, cols, scale)
Napi::Value AttentionSoftmaxGradFn(const Napi::CallbackInfo& info) {
  Args a(info, "attentionSoftmaxGrad", 7);
  a.Heap(0);
  const size_t rows = a.Size(4), cols = a.Size(5);
  const double rc = static_cast<double>(rows) * cols;
  const float* dy = a.At<float>(1, rc);
  const float* probs = a.At<float>(2, rc);
  float* ds = a.At<float>(3, rc);
  const float scale = a.Float(6);
  if (!a.ok()) return a.env().Undefined();
  AttentionSoftmaxBackward(dy, probs, ds, rows, cols, scale);
  return info.Env().Undefined();
}

// linearGelu(heap, xOff, wOff, biasOff, preOff, yOff, m, n, k): pre = x·wᵀ + bias (x [m, k], w [n, k]),
// y = GELU(pre): one BLAS product and one epilogue pass. preOff < 0: y only (inference).
Napi::Value LinearGeluFn(const Napi::CallbackInfo& info) {
  Args a(info, "linearGelu", 9);
  a.Heap(0);
  const size_t m = a.Size(6), n = a.Size(7), k = a.Size(8);
  if (a.ok() && (m > 2147483647u || n > 2147483647u || k > 2147483647u)) a.Fail(true, "m, n and k must fit in 32 bits");
  const float* x = a.At<float>(1, static_cast<double>(m) * k);
  const float* w = a.At<float>(2, static_cast<double>(n) * k);
  const float* bias = a.At<float>(3, n);
  // preOff < 0: inference, no `pre` kept: the product lands in y and GELU runs in place.
  const bool keepPre = !a.Absent(4);
  float* y = a.At<float>(5, static_cast<double>(m) * n);
  float* pre = keepPre ? a.At<float>(4, static_cast<double>(m) * n) : y;
  if (!a.ok()) return a.env().Undefined();
  if (m == 0 || n == 0) return info.Env().Undefined();
  const int32_t zero = 0;
  GemmArgs g{};
  g.a = x;
  g.b = w;
  g.c = pre;
  g.batch = 1;
  g.m = static_cast<int>(m);
  g.n = static_cast<int>(n);
  g.k = static_cast<int>(k);
  g.transA = false;
  g.transB = true;
  g.aIndex = &zero;
  g.bIndex = &zero;
  g.bias = nullptr;
  g.biasSize = 0;
  g.activation = kLinear;
  g.alpha = 0.f;
  Gemm(g);
  if (keepPre) BiasGelu(pre, bias, y, m, n);
  else BiasGeluInPlace(y, bias, m, n);
  return info.Env().Undefined();
}

// setFusedThreads(n)
Napi::Value SetFusedThreadsFn(const Napi::CallbackInfo& info) {
  Args a(info, "setFusedThreads", 1);
  const int n = a.Int(0, 1, 4096);
  if (!a.ok()) return a.env().Undefined();
  SetFusedThreads(n);
  return info.Env().Undefined();
}

// getFusedThreads()
Napi::Value GetFusedThreadsFn(const Napi::CallbackInfo& info) {
  Args a(info, "getFusedThreads", 0);
  if (!a.ok()) return a.env().Undefined();
  return Napi::Number::New(info.Env(), FusedThreads());
}

}  // namespace

void RegisterTrainKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("dropout", Napi::Function::New(env, DropoutFn));
  exports.Set("dropoutAddLayerNorm", Napi::Function::New(env, DropoutAddLayerNormFn));
  exports.Set("dropoutAddLayerNormGrad", Napi::Function::New(env, DropoutAddLayerNormGradFn));
  exports.Set("attentionSoftmax", Napi::Function::New(env, AttentionSoftmaxFn));
  exports.Set("attentionSoftmaxGrad", Napi::Function::New(env, AttentionSoftmaxGradFn));
  exports.Set("linearGelu", Napi::Function::New(env, LinearGeluFn));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquaresFn));
  exports.Set("setFusedThreads", Napi::Function::New(env, SetFusedThreadsFn));
  exports.Set("getFusedThreads", Napi::Function::New(env, GetFusedThreadsFn));
}

}  // namespace distillery
