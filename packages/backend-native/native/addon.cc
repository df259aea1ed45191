// N-API entry points. Every kernel receives the wasm heap (an ArrayBuffer) and byte offsets into it, so tensors
// are read and written in place: no copies between the wasm backend and the native code. Every entry point checks
// its argument count, types, ranges and that each region lies inside the heap (args.h) before touching memory:
// a wrong call throws a JS error instead of corrupting memory.
#include <cblas.h>
#include <napi.h>

#include <algorithm>
#include <string>
#include <vector>

#include "args.h"
#include "common.h"

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace distillery {
void RegisterTrainKernels(Napi::Env env, Napi::Object exports);  // addon_train.cc
void RegisterAttentionKernels(Napi::Env env, Napi::Object exports);  // addon_attention.cc
}

namespace {

using distillery::Args;

using distillery::GemmArgs;

constexpr double kMaxInt = 2147483647.0;

/** Number of elements a strided view of `shape` (element strides, >= 0) reaches: 1 + sum (d_i - 1) * s_i, or 0. */
double Extent(Args& a, const int32_t* shape, const int32_t* strides, size_t rank, size_t stridesArg) {
  double reach = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (shape[i] == 0) return 0;
    if (strides[i] < 0) {
      a.Fail(true, "argument " + std::to_string(stridesArg) + " has a negative stride");
      return 0;
    }
    reach += static_cast<double>(shape[i] - 1) * strides[i];
  }
  return reach;
}

/** Product of a shape (entries must be >= 0). */
double Count(Args& a, const int32_t* shape, size_t rank, size_t shapeArg) {
  double n = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (shape[i] < 0) {
      a.Fail(true, "argument " + std::to_string(shapeArg) + " has a negative dimension");
      return 0;
    }
    n *= shape[i];
  }
  return n;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads", 1);
  const int n = a.Int(0, 1, 4096);
  if (!a.ok()) return a.env().Undefined();
  openblas_set_num_threads(n);
  distillery::SetGemmThreads(n);
  distillery::SetThreads(n);
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "getThreads", 0);
  if (!a.ok()) return a.env().Undefined();
  return Napi::Number::New(info.Env(), distillery::Threads());
}

Napi::Value GetPoolKind(const Napi::CallbackInfo& info) {
  Args a(info, "poolKind", 0);
  if (!a.ok()) return a.env().Undefined();
  return Napi::String::New(info.Env(), distillery::ThePoolKind() == distillery::PoolKind::kOpenMp ? "omp" : "own");
}

Napi::Value BlasConfig(const Napi::CallbackInfo& info) {
  Args a(info, "blasConfig", 0);
  if (!a.ok()) return a.env().Undefined();
  const char* cfg = openblas_get_config();
  std::string out = cfg != nullptr ? std::string(cfg) : std::string("OpenBLAS");
  const std::string engine = distillery::GemmEngine();
  if (!engine.empty()) out = engine + " sgemm + " + out;
  return Napi::String::New(info.Env(), out);
}

// gemm(heap, aOff, bOff, cOff, batch, m, n, k, transA, transB, aIndex, bIndex, biasOff, biasSize, act, alpha)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args a(info, "gemm", 16);
  a.Heap(0);
  GemmArgs g{};
  g.batch = a.Int(4, 0, kMaxInt);
  g.m = a.Int(5, 0, kMaxInt);
  g.n = a.Int(6, 0, kMaxInt);
  g.k = a.Int(7, 0, kMaxInt);
  g.transA = a.Bool(8);
  g.transB = a.Bool(9);
  g.aIndex = a.Int32s(10, static_cast<size_t>(g.batch));
  g.bIndex = a.Int32s(11, static_cast<size_t>(g.batch));
  // Each output batch reads matrix aIndex[i] of a and bIndex[i] of b: the regions span up to the largest index.
  double aMats = 0, bMats = 0;
  for (int i = 0; a.ok() && i < g.batch; ++i) {
    if (g.aIndex[i] < 0 || g.bIndex[i] < 0) a.Fail(true, "aIndex/bIndex must be >= 0");
    aMats = std::max(aMats, g.aIndex[i] + 1.0);
    bMats = std::max(bMats, g.bIndex[i] + 1.0);
  }
  const double mk = static_cast<double>(g.m) * g.k, kn = static_cast<double>(g.k) * g.n;
  g.a = a.At<float>(1, aMats * mk);
  g.b = a.At<float>(2, bMats * kn);
  g.c = a.At<float>(3, static_cast<double>(g.batch) * g.m * g.n);
  // A negative bias offset means "no bias"; anything else must be a valid region of biasSize floats.
  const bool hasBias = !a.Absent(12);
  g.biasSize = a.Int(13, 0, kMaxInt);
  if (hasBias) {
    if (a.ok() && g.biasSize != 1 && g.biasSize != g.n) a.Fail(true, "biasSize must be 1 or n");
    g.bias = a.At<float>(12, g.biasSize);
  } else {
    g.bias = nullptr;
  }
  g.activation = a.Int(14, distillery::kLinear, distillery::kSigmoid);
  g.alpha = a.Float(15);
  if (!a.ok()) return a.env().Undefined();
  distillery::Gemm(g);
  return info.Env().Undefined();
}

// binary(heap, op, aOff, bOff, outOff, shape, aStrides, bStrides)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Args a(info, "binary", 8);
  a.Heap(0);
  const int op = a.Int(1, 0, distillery::kBinaryOpCount - 1);
  size_t rank = 0;
  const int32_t* shape = a.Int32s(5, 0, &rank);
  const int32_t* as = a.Int32s(6, rank);
  const int32_t* bs = a.Int32s(7, rank);
  const double n = a.ok() ? Count(a, shape, rank, 5) : 0;
  const double aReach = a.ok() ? Extent(a, shape, as, rank, 6) : 0;
  const double bReach = a.ok() ? Extent(a, shape, bs, rank, 7) : 0;
  const float* x = a.At<float>(2, aReach);
  const float* y = a.At<float>(3, bReach);
  float* out = a.At<float>(4, n);
  if (!a.ok()) return a.env().Undefined();
  distillery::Binary(op, x, y, out, static_cast<int>(rank), shape, as, bs);
  return info.Env().Undefined();
}

// unary(heap, op, xOff, outOff, size)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Args a(info, "unary", 5);
  a.Heap(0);
  const int op = a.Int(1, 0, distillery::kUnaryOpCount - 1);
  const size_t n = a.Size(4);
  const float* x = a.At<float>(2, n);
  float* out = a.At<float>(3, n);
  if (!a.ok()) return a.env().Undefined();
  distillery::Unary(op, x, out, n);
  return info.Env().Undefined();
}

// reduceSum(heap, xOff, outOff, outer, reduce, inner, scale)
Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  Args a(info, "reduceSum", 7);
  a.Heap(0);
  const size_t outer = a.Size(3), reduce = a.Size(4), inner = a.Size(5);
  const float* x = a.At<float>(1, static_cast<double>(outer) * reduce * inner);
  float* out = a.At<float>(2, static_cast<double>(outer) * inner);
  const float scale = a.Float(6);
  if (!a.ok()) return a.env().Undefined();
  distillery::ReduceSum(x, out, outer, reduce, inner, scale);
  return info.Env().Undefined();
}

// softmax(heap, xOff, outOff, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Args a(info, "softmax", 5);
  a.Heap(0);
  const size_t rows = a.Size(3), cols = a.Size(4);
  const float* x = a.At<float>(1, static_cast<double>(rows) * cols);
  float* out = a.At<float>(2, static_cast<double>(rows) * cols);
  if (!a.ok()) return a.env().Undefined();
  distillery::Softmax(x, out, rows, cols);
  return info.Env().Undefined();
}

// gather(heap, xOff, idxOff, outOff, outer, axisDim, nIdx, inner)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Args a(info, "gather", 8);
  a.Heap(0);
  const size_t outer = a.Size(4), axisDim = a.Size(5), nIdx = a.Size(6), inner = a.Size(7);
  const float* x = a.At<float>(1, static_cast<double>(outer) * axisDim * inner);
  const int32_t* idx = a.At<const int32_t>(2, nIdx);
  float* out = a.At<float>(3, static_cast<double>(outer) * nIdx * inner);
  if (!a.ok()) return a.env().Undefined();
  distillery::Gather(x, idx, out, outer, axisDim, nIdx, inner);
  return info.Env().Undefined();
}

// segmentSum(heap, xOff, idsOff, outOff, rows, inner, numSegments)
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  Args a(info, "segmentSum", 7);
  a.Heap(0);
  const size_t rows = a.Size(4), inner = a.Size(5), numSegments = a.Size(6);
  const float* x = a.At<float>(1, static_cast<double>(rows) * inner);
  const int32_t* ids = a.At<const int32_t>(2, rows);
  float* out = a.At<float>(3, static_cast<double>(numSegments) * inner);
  if (!a.ok()) return a.env().Undefined();
  distillery::SegmentSum(x, ids, out, rows, inner, numSegments);
  return info.Env().Undefined();
}

// transpose(heap, xOff, outOff, outShape, inStrides)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Args a(info, "transpose", 5);
  a.Heap(0);
  size_t rank = 0;
  const int32_t* shape = a.Int32s(3, 0, &rank);
  const int32_t* strides = a.Int32s(4, rank);
  const double n = a.ok() ? Count(a, shape, rank, 3) : 0;
  const double reach = a.ok() ? Extent(a, shape, strides, rank, 4) : 0;
  const float* x = a.At<float>(1, reach);
  float* out = a.At<float>(2, n);
  if (!a.ok()) return a.env().Undefined();
  distillery::Transpose(x, out, static_cast<int>(rank), shape, strides);
  return info.Env().Undefined();
}

// adam(heap, pOff, gOff, mOff, vOff, pOutOff, mOutOff, vOutOff, n, beta1, beta2, eps, oneMinusBeta1, oneMinusBeta2,
//      l2, decay, stepSize, sqrtBc2)
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Args a(info, "adam", 18);
  a.Heap(0);
  const size_t n = a.Size(8);
  float* ptr[7];
  for (size_t i = 0; i < 7; ++i) ptr[i] = a.At<float>(1 + i, n);
  const distillery::AdamParams p{a.Float(9),  a.Float(10), a.Float(11), a.Float(12), a.Float(13),
                                 a.Float(14), a.Float(15), a.Float(16), a.Float(17)};
  if (!a.ok()) return a.env().Undefined();
  distillery::AdamUpdate(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], n, p);
  return info.Env().Undefined();
}

// adamInPlace(heap, regions: Int32Array [4·n] (p, g, m, v element offsets per parameter), sizes: Int32Array [n],
//             scalars: Float32Array [3·n] (l2, decay, stepSize per parameter), beta1, beta2, eps, oneMinusBeta1,
//             oneMinusBeta2, sqrtBc2): every parameter's Adam step in one call, p, m and v rewritten in place.
Napi::Value AdamInPlace(const Napi::CallbackInfo& info) {
  Args a(info, "adamInPlace", 10);
  a.Heap(0);
  size_t n = 0;
  const int32_t* sizes = a.Int32s(2, 0, &n);
  const int32_t* regions = a.Int32s(1, 4 * n);
  const float* scalars = a.Float32s(3, 3 * n);
  const distillery::AdamParams p{a.Float(4), a.Float(5), a.Float(6), a.Float(7), a.Float(8), 0.f, 1.f, 0.f, a.Float(9)};
  std::vector<distillery::AdamSlot> slots(a.ok() ? n : 0);
  const size_t heapElems = a.HeapBytes() / 4;
  for (size_t t = 0; a.ok() && t < n; ++t) {
    const int32_t* r = regions + 4 * t;
    if (sizes[t] < 0) a.Fail(true, "parameter " + std::to_string(t) + " has a negative size");
    for (int k = 0; a.ok() && k < 4; ++k) {
      if (r[k] < 0 || static_cast<size_t>(r[k]) + static_cast<size_t>(sizes[t]) > heapElems)
        a.Fail(true, std::string("parameter ") + std::to_string(t) + "'s " + "pgmv"[k] + " runs past the heap");
    }
    if (a.ok()) {
      slots[t] = {static_cast<size_t>(r[0]), static_cast<size_t>(r[1]), static_cast<size_t>(r[2]),
                  static_cast<size_t>(r[3]), static_cast<size_t>(sizes[t]), scalars[3 * t], scalars[3 * t + 1],
                  scalars[3 * t + 2]};
    }
  }
  if (!a.ok()) return a.env().Undefined();
  distillery::AdamUpdateMany(reinterpret_cast<float*>(a.HeapData()), slots.data(), n, p);
  return info.Env().Undefined();
}

// layerNorm(heap, xOff, gammaOff, betaOff, yOff, meanOff, rstdOff, rows, cols, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm", 10);
  a.Heap(0);
  const size_t rows = a.Size(7), cols = a.Size(8);
  const double rc = static_cast<double>(rows) * cols;
  const float* x = a.At<float>(1, rc);
  const float* gamma = a.At<float>(2, cols);
  const float* beta = a.At<float>(3, cols);
  float* y = a.At<float>(4, rc);
  float* mean = a.At<float>(5, rows);
  float* rstd = a.At<float>(6, rows);
  const float eps = a.Float(9);
  if (!a.ok()) return a.env().Undefined();
  distillery::LayerNormForward(x, gamma, beta, y, mean, rstd, rows, cols, eps);
  return info.Env().Undefined();
}

// layerNormGrad(heap, dyOff, xOff, gammaOff, meanOff, rstdOff, dxOff, dgammaOff, dbetaOff, rows, cols)
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormGrad", 11);
  a.Heap(0);
  const size_t rows = a.Size(9), cols = a.Size(10);
  const double rc = static_cast<double>(rows) * cols;
  const float* dy = a.At<float>(1, rc);
  const float* x = a.At<float>(2, rc);
  const float* gamma = a.At<float>(3, cols);
  const float* mean = a.At<float>(4, rows);
  const float* rstd = a.At<float>(5, rows);
  float* dx = a.At<float>(6, rc);
  float* dgamma = a.At<float>(7, cols);
  float* dbeta = a.At<float>(8, cols);
  if (!a.ok()) return a.env().Undefined();
  distillery::LayerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
  return info.Env().Undefined();
}

// gelu(heap, xOff, yOff, n)
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  Args a(info, "gelu", 4);
  a.Heap(0);
  const size_t n = a.Size(3);
  const float* x = a.At<float>(1, n);
  float* y = a.At<float>(2, n);
  if (!a.ok()) return a.env().Undefined();
  distillery::GeluForward(x, y, n);
  return info.Env().Undefined();
}

// geluGrad(heap, dyOff, xOff, dxOff, n)
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  Args a(info, "geluGrad", 5);
  a.Heap(0);
  const size_t n = a.Size(4);
  const float* dy = a.At<float>(1, n);
  const float* x = a.At<float>(2, n);
  float* dx = a.At<float>(3, n);
  if (!a.ok()) return a.env().Undefined();
  distillery::GeluBackward(dy, x, dx, n);
  return info.Env().Undefined();
}

/** The op codes of the C++ enums, exported so the TypeScript side never copies them by hand. */
Napi::Object OpCodes(Napi::Env env) {
  auto binary = Napi::Object::New(env);
  binary.Set("add", Napi::Number::New(env, distillery::kAdd));
  binary.Set("sub", Napi::Number::New(env, distillery::kSub));
  binary.Set("mul", Napi::Number::New(env, distillery::kMul));
  binary.Set("div", Napi::Number::New(env, distillery::kDiv));
  binary.Set("squaredDiff", Napi::Number::New(env, distillery::kSquaredDiff));
  binary.Set("max", Napi::Number::New(env, distillery::kMax));
  binary.Set("min", Napi::Number::New(env, distillery::kMin));
  auto unary = Napi::Object::New(env);
  unary.Set("exp", Napi::Number::New(env, distillery::kExp));
  unary.Set("erf", Napi::Number::New(env, distillery::kErf));
  unary.Set("tanh", Napi::Number::New(env, distillery::kTanh));
  unary.Set("sqrt", Napi::Number::New(env, distillery::kSqrt));
  unary.Set("rsqrt", Napi::Number::New(env, distillery::kRsqrt));
  unary.Set("neg", Napi::Number::New(env, distillery::kNeg));
  unary.Set("square", Napi::Number::New(env, distillery::kSquare));
  unary.Set("log", Napi::Number::New(env, distillery::kLog));
  unary.Set("sigmoid", Napi::Number::New(env, distillery::kSigmoidOp));
  unary.Set("relu", Napi::Number::New(env, distillery::kReluOp));
  unary.Set("abs", Napi::Number::New(env, distillery::kAbs));
  unary.Set("reciprocal", Napi::Number::New(env, distillery::kReciprocal));
  unary.Set("identity", Napi::Number::New(env, distillery::kIdentity));
  auto activation = Napi::Object::New(env);
  activation.Set("linear", Napi::Number::New(env, distillery::kLinear));
  activation.Set("relu", Napi::Number::New(env, distillery::kRelu));
  activation.Set("relu6", Napi::Number::New(env, distillery::kRelu6));
  activation.Set("elu", Napi::Number::New(env, distillery::kElu));
  activation.Set("leakyrelu", Napi::Number::New(env, distillery::kLeakyRelu));
  activation.Set("sigmoid", Napi::Number::New(env, distillery::kSigmoid));
  auto ops = Napi::Object::New(env);
  ops.Set("binary", binary);
  ops.Set("unary", unary);
  ops.Set("activation", activation);
  ops.Freeze();
  return ops;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ops", OpCodes(env));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("blasConfig", Napi::Function::New(env, BlasConfig));
  exports.Set("poolKind", Napi::Function::New(env, GetPoolKind));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("segmentSum", Napi::Function::New(env, SegmentSum));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("adamInPlace", Napi::Function::New(env, AdamInPlace));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  distillery::RegisterTrainKernels(env, exports);
  distillery::RegisterAttentionKernels(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(distillery_native, Init)
