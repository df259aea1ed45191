// Vectorizable float math shared by the elementwise and fused kernels.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace distillery {

// exp(x) for float, vectorizable: Cephes range reduction + degree-6 polynomial (~1 ulp), no branches or selects.
// Special cases fall out of the arithmetic: the exponent field saturates to 0 (underflow → 0) or 255 (overflow
// → +inf), and NaN passes through min/max and the polynomial.
static inline float FastExp(float v) {
  const float x = std::min(std::max(v, -88.0f), 88.8f);
  const float t = x * 1.44269504088896341f;
  const int32_t ni = static_cast<int32_t>(t + std::copysign(0.5f, t));  // round to nearest
  const float n = static_cast<float>(ni);
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t bits = std::max(ni + 127, 0) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

// tanh(x), vectorizable (Cephes tanhf): odd polynomial for |x| < 0.625, 1 - 2/(exp(2|x|)+1) above.
static inline float FastTanh(float v) {
  const float a = std::fabs(v);
  const float s = std::min(std::max(v, -1.0f), 1.0f);  // keeps the unused branch finite
  const float z = s * s;
  const float small = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z +
                        1.33314422036E-1f) * z - 3.33332819422E-1f) * z * s + s;
  const float large = std::copysign(1.0f - 2.0f / (FastExp(2.0f * a) + 1.0f), v);
  const float m = static_cast<float>(a < 0.625f);  // arithmetic blend: GCC will not if-convert this select
  return m * small + (1.0f - m) * large;
}

// erf(x), vectorizable: the rational approximation x·P(x²)/Q(x²) on [-4, 4] that Eigen (`generic_fast_erf_float`)
// and XLA use for float erf; |error| < 3.4e-7 against std::erf over [-8, 8] (A&S 7.1.26, which tfjs-cpu uses and
// this replaced: 5.2e-7). One division and 12 multiply-adds, where A&S needed a division and an exp: the GELU
// epilogue of a [2048, 1536] product took 2.0 ms on one thread instead of 3.9. NaN passes through min/max and the
// polynomials; beyond |x| = 4 the result is ±1 in float.
static inline float FastErf(float v) {
  const float x = std::min(std::max(v, -4.0f), 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}

// out = softmax(in) over one row of n (in == out allowed): max, exp(x − max), sum, one multiply by 1/sum.
static inline void SoftmaxRow(const float* in, float* out, size_t n) {
  float mx = -INFINITY;
  for (size_t j = 0; j < n; ++j) mx = std::max(mx, in[j]);
  for (size_t j = 0; j < n; ++j) out[j] = FastExp(in[j] - mx);
  float sum = 0.f;
  for (size_t j = 0; j < n; ++j) sum += out[j];
  const float inv = 1.f / sum;
  for (size_t j = 0; j < n; ++j) out[j] *= inv;
}

}  // namespace distillery
