// Gather along an axis and its gradient, UnsortedSegmentSum (scatter-add of rows).
#include <algorithm>
#include <cstring>

#include "common.h"

namespace distillery {

void Gather(const float* x, const int32_t* idx, float* out, size_t outer, size_t axisDim, size_t nIdx, size_t inner) {
  const size_t rowBytes = inner * sizeof(float);
  for (size_t o = 0; o < outer; ++o) {
    const float* src = x + o * axisDim * inner;
    float* dst = out + o * nIdx * inner;
    for (size_t i = 0; i < nIdx; ++i) {
      const int32_t k = idx[i];
      if (k < 0 || static_cast<size_t>(k) >= axisDim) {
        std::memset(dst + i * inner, 0, rowBytes);
      } else {
        std::memcpy(dst + i * inner, src + static_cast<size_t>(k) * inner, rowBytes);
      }
    }
  }
}

void SegmentSum(const float* x, const int32_t* ids, float* out, size_t rows, size_t inner, size_t numSegments) {
  std::fill(out, out + numSegments * inner, 0.f);
  for (size_t r = 0; r < rows; ++r) {
    const int32_t s = ids[r];
    if (s < 0 || static_cast<size_t>(s) >= numSegments) continue;
    float* dst = out + static_cast<size_t>(s) * inner;
    const float* src = x + r * inner;
    for (size_t j = 0; j < inner; ++j) dst[j] += src[j];
  }
}

}  // namespace distillery
