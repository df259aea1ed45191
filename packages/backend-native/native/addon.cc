// N-API entry points. Every kernel receives the wasm heap (an ArrayBuffer) and byte offsets into it, so tensors
// are read and written in place: no copies between the wasm backend and the native code.
#include <cblas.h>
#include <napi.h>

#include <string>

#include "common.h"

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace {

using distillery::GemmArgs;

uint8_t* HeapBase(const Napi::Value& v) { return static_cast<uint8_t*>(v.As<Napi::ArrayBuffer>().Data()); }
size_t Num(const Napi::Value& v) { return static_cast<size_t>(v.As<Napi::Number>().DoubleValue()); }
float* F32(uint8_t* heap, const Napi::Value& v) { return reinterpret_cast<float*>(heap + Num(v)); }
const int32_t* I32(const Napi::Value& v) { return v.As<Napi::Int32Array>().Data(); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  openblas_set_num_threads(n);
  distillery::SetThreads(n);
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), distillery::Threads());
}

Napi::Value BlasConfig(const Napi::CallbackInfo& info) {
  const char* cfg = openblas_get_config();
  return Napi::String::New(info.Env(), cfg != nullptr ? std::string(cfg) : std::string("OpenBLAS"));
}

// gemm(heap, aOff, bOff, cOff, batch, m, n, k, transA, transB, aIndex, bIndex, biasOff, biasSize, act, alpha)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  GemmArgs g{};
  g.a = F32(heap, info[1]);
  g.b = F32(heap, info[2]);
  g.c = F32(heap, info[3]);
  g.batch = info[4].As<Napi::Number>().Int32Value();
  g.m = info[5].As<Napi::Number>().Int32Value();
  g.n = info[6].As<Napi::Number>().Int32Value();
  g.k = info[7].As<Napi::Number>().Int32Value();
  g.transA = info[8].As<Napi::Boolean>().Value();
  g.transB = info[9].As<Napi::Boolean>().Value();
  g.aIndex = I32(info[10]);
  g.bIndex = I32(info[11]);
  const double biasOff = info[12].As<Napi::Number>().DoubleValue();
  g.bias = biasOff < 0 ? nullptr : reinterpret_cast<const float*>(heap + static_cast<size_t>(biasOff));
  g.biasSize = info[13].As<Napi::Number>().Int32Value();
  g.activation = info[14].As<Napi::Number>().Int32Value();
  g.alpha = info[15].As<Napi::Number>().FloatValue();
  distillery::Gemm(g);
  return info.Env().Undefined();
}

// binary(heap, op, aOff, bOff, outOff, shape, aStrides, bStrides)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  const auto shape = info[5].As<Napi::Int32Array>();
  distillery::Binary(info[1].As<Napi::Number>().Int32Value(), F32(heap, info[2]), F32(heap, info[3]),
                     F32(heap, info[4]), static_cast<int>(shape.ElementLength()), shape.Data(), I32(info[6]),
                     I32(info[7]));
  return info.Env().Undefined();
}

// unary(heap, op, xOff, outOff, size)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::Unary(info[1].As<Napi::Number>().Int32Value(), F32(heap, info[2]), F32(heap, info[3]), Num(info[4]));
  return info.Env().Undefined();
}

// reduceSum(heap, xOff, outOff, outer, reduce, inner, scale)
Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::ReduceSum(F32(heap, info[1]), F32(heap, info[2]), Num(info[3]), Num(info[4]), Num(info[5]),
                        info[6].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// softmax(heap, xOff, outOff, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::Softmax(F32(heap, info[1]), F32(heap, info[2]), Num(info[3]), Num(info[4]));
  return info.Env().Undefined();
}

// gather(heap, xOff, idxOff, outOff, outer, axisDim, nIdx, inner)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::Gather(F32(heap, info[1]), reinterpret_cast<const int32_t*>(heap + Num(info[2])), F32(heap, info[3]),
                     Num(info[4]), Num(info[5]), Num(info[6]), Num(info[7]));
  return info.Env().Undefined();
}

// segmentSum(heap, xOff, idsOff, outOff, rows, inner, numSegments)
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::SegmentSum(F32(heap, info[1]), reinterpret_cast<const int32_t*>(heap + Num(info[2])), F32(heap, info[3]),
                         Num(info[4]), Num(info[5]), Num(info[6]));
  return info.Env().Undefined();
}

// transpose(heap, xOff, outOff, outShape, inStrides)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  const auto shape = info[3].As<Napi::Int32Array>();
  distillery::Transpose(F32(heap, info[1]), F32(heap, info[2]), static_cast<int>(shape.ElementLength()), shape.Data(),
                        I32(info[4]));
  return info.Env().Undefined();
}

float F(const Napi::Value& v) { return v.As<Napi::Number>().FloatValue(); }

// adam(heap, pOff, gOff, mOff, vOff, pOutOff, mOutOff, vOutOff, n, beta1, beta2, eps, oneMinusBeta1, oneMinusBeta2,
//      l2, decay, stepSize, sqrtBc2)
Napi::Value Adam(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  const distillery::AdamParams a{F(info[9]),  F(info[10]), F(info[11]), F(info[12]), F(info[13]),
                                 F(info[14]), F(info[15]), F(info[16]), F(info[17])};
  distillery::AdamUpdate(F32(heap, info[1]), F32(heap, info[2]), F32(heap, info[3]), F32(heap, info[4]),
                         F32(heap, info[5]), F32(heap, info[6]), F32(heap, info[7]), Num(info[8]), a);
  return info.Env().Undefined();
}

// layerNorm(heap, xOff, gammaOff, betaOff, yOff, meanOff, rstdOff, rows, cols, eps)
Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::LayerNormForward(F32(heap, info[1]), F32(heap, info[2]), F32(heap, info[3]), F32(heap, info[4]),
                               F32(heap, info[5]), F32(heap, info[6]), Num(info[7]), Num(info[8]), F(info[9]));
  return info.Env().Undefined();
}

// layerNormGrad(heap, dyOff, xOff, gammaOff, meanOff, rstdOff, dxOff, dgammaOff, dbetaOff, rows, cols)
Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::LayerNormBackward(F32(heap, info[1]), F32(heap, info[2]), F32(heap, info[3]), F32(heap, info[4]),
                                F32(heap, info[5]), F32(heap, info[6]), F32(heap, info[7]), F32(heap, info[8]),
                                Num(info[9]), Num(info[10]));
  return info.Env().Undefined();
}

// gelu(heap, xOff, yOff, n)
Napi::Value Gelu(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::GeluForward(F32(heap, info[1]), F32(heap, info[2]), Num(info[3]));
  return info.Env().Undefined();
}

// geluGrad(heap, dyOff, xOff, dxOff, n)
Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  uint8_t* heap = HeapBase(info[0]);
  distillery::GeluBackward(F32(heap, info[1]), F32(heap, info[2]), F32(heap, info[3]), Num(info[4]));
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("blasConfig", Napi::Function::New(env, BlasConfig));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("segmentSum", Napi::Function::New(env, SegmentSum));
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad));
  exports.Set("gelu", Napi::Function::New(env, Gelu));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  return exports;
}

}  // namespace

NODE_API_MODULE(distillery_native, Init)
