// Gather along an axis, its gradient UnsortedSegmentSum (scatter-add of rows), and Transpose by row copies.
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

namespace distillery {

void Transpose(const float* x, float* out, int rank, const int32_t* outShape, const int32_t* inStrides) {
  // Output in row-major order; the input is read through the permuted strides. When the last output axis is
  // the input's innermost axis, whole rows are copied.
  const size_t inner = rank > 0 ? static_cast<size_t>(outShape[rank - 1]) : 1;
  const size_t innerStride = rank > 0 ? static_cast<size_t>(inStrides[rank - 1]) : 1;
  if (rank == 2 && innerStride != 1 && inStrides[0] == 1) {
    // Plain matrix transpose (weights): 32x32 tiles keep both sides in cache; bands of tile rows per thread.
    const size_t rowsOut = static_cast<size_t>(outShape[0]);
    constexpr size_t kTile = 32;
    const size_t bands = (rowsOut + kTile - 1) / kTile;
    const size_t minBands = std::max<size_t>(1, kMinElementsPerThread / (kTile * std::max<size_t>(1, inner)));
    ParallelFor(bands, minBands, [&](size_t bb, size_t be) {
      for (size_t i0 = bb * kTile; i0 < std::min(rowsOut, be * kTile); i0 += kTile) {
        const size_t i1 = std::min(rowsOut, i0 + kTile);
        for (size_t j0 = 0; j0 < inner; j0 += kTile) {
          const size_t j1 = std::min(inner, j0 + kTile);
          for (size_t i = i0; i < i1; ++i) {
            for (size_t j = j0; j < j1; ++j) out[i * inner + j] = x[j * innerStride + i];
          }
        }
      }
    }, FusedThreads());
    return;
  }
  size_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= static_cast<size_t>(outShape[d]);
  ParallelFor(rows, std::max<size_t>(1, kMinElementsPerThread / std::max<size_t>(1, inner)), [&](size_t rb, size_t re) {
    for (size_t r = rb; r < re; ++r) {
      size_t rem = r, off = 0;
      for (int d = rank - 2; d >= 0; --d) {
        off += (rem % static_cast<size_t>(outShape[d])) * static_cast<size_t>(inStrides[d]);
        rem /= static_cast<size_t>(outShape[d]);
      }
      float* dst = out + r * inner;
      const float* src = x + off;
      if (innerStride == 1) {
        std::memcpy(dst, src, inner * sizeof(float));
      } else {
        for (size_t j = 0; j < inner; ++j) dst[j] = src[j * innerStride];
      }
    }
  }, FusedThreads());
}

}  // namespace distillery
