// Elementwise, reduction and softmax kernels over float32 buffers on the wasm heap.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"
#include "fastmath.h"

namespace distillery {

// Elementwise and reduction kernels are memory-bound: they split across the FusedThreads() pool threads only
// above kMinElementsPerThread elements each (a split waits for the slower thread, which on a loaded machine is
// often a preempted one; DISTILLERY_FUSED_THREADS=1 turns splitting off). Each output element is computed by
// the same arithmetic whatever the split, so results do not depend on the thread count.

template <typename F>
static inline void BinaryRow(F f, const float* a, const float* b, float* o, int n, int sa, int sb) {
  if (sa == 1 && sb == 1) {
    for (int j = 0; j < n; ++j) o[j] = f(a[j], b[j]);
  } else if (sa == 1 && sb == 0) {
    const float bv = b[0];
    for (int j = 0; j < n; ++j) o[j] = f(a[j], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = a[0];
    for (int j = 0; j < n; ++j) o[j] = f(av, b[j]);
  } else {
    for (int j = 0; j < n; ++j) o[j] = f(a[static_cast<size_t>(j) * sa], b[static_cast<size_t>(j) * sb]);
  }
}

template <typename F>
static void BinaryImpl(F f, const float* a, const float* b, float* out, int rank, const int32_t* shape,
                       const int32_t* as, const int32_t* bs) {
  const int inner = rank > 0 ? shape[rank - 1] : 1;
  const int sa = rank > 0 ? as[rank - 1] : 0, sb = rank > 0 ? bs[rank - 1] : 0;
  size_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= static_cast<size_t>(shape[d]);
  const size_t minRows = std::max<size_t>(1, kMinElementsPerThread / std::max(1, inner));
  ParallelFor(rows, minRows, [&](size_t rb, size_t re) {
    for (size_t r = rb; r < re; ++r) {
      size_t rem = r, offA = 0, offB = 0;
      for (int d = rank - 2; d >= 0; --d) {
        const size_t idx = rem % static_cast<size_t>(shape[d]);
        rem /= static_cast<size_t>(shape[d]);
        offA += idx * static_cast<size_t>(as[d]);
        offB += idx * static_cast<size_t>(bs[d]);
      }
      BinaryRow(f, a + offA, b + offB, out + r * static_cast<size_t>(inner), inner, sa, sb);
    }
  }, FusedThreads());
}

void Binary(int op, const float* a, const float* b, float* out, int rank, const int32_t* shape,
            const int32_t* as, const int32_t* bs) {
  switch (op) {
    case kAdd: return BinaryImpl([](float x, float y) { return x + y; }, a, b, out, rank, shape, as, bs);
    case kSub: return BinaryImpl([](float x, float y) { return x - y; }, a, b, out, rank, shape, as, bs);
    case kMul: return BinaryImpl([](float x, float y) { return x * y; }, a, b, out, rank, shape, as, bs);
    case kDiv: return BinaryImpl([](float x, float y) { return x / y; }, a, b, out, rank, shape, as, bs);
    case kSquaredDiff:
      return BinaryImpl([](float x, float y) { return (x - y) * (x - y); }, a, b, out, rank, shape, as, bs);
    case kMax:
      return BinaryImpl([](float x, float y) { return (std::isnan(x) || x > y) ? x : y; }, a, b, out, rank, shape, as, bs);
    case kMin:
      return BinaryImpl([](float x, float y) { return (std::isnan(x) || x < y) ? x : y; }, a, b, out, rank, shape, as, bs);
    default: return;
  }
}

template <typename F>
static void UnaryImpl(F f, const float* __restrict x, float* __restrict out, size_t n) {
  ParallelFor(n, kMinElementsPerThread, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) out[i] = f(x[i]);
  }, FusedThreads());
}

void Unary(int op, const float* x, float* out, size_t n) {
  switch (op) {
    case kExp: return UnaryImpl([](float v) { return FastExp(v); }, x, out, n);
    case kErf: return UnaryImpl([](float v) { return FastErf(v); }, x, out, n);
    case kTanh: return UnaryImpl([](float v) { return FastTanh(v); }, x, out, n);
    case kSqrt: return UnaryImpl([](float v) { return std::sqrt(v); }, x, out, n);
    case kRsqrt: return UnaryImpl([](float v) { return 1.f / std::sqrt(v); }, x, out, n);
    case kNeg: return UnaryImpl([](float v) { return -v; }, x, out, n);
    case kSquare: return UnaryImpl([](float v) { return v * v; }, x, out, n);
    case kLog: return UnaryImpl([](float v) { return std::log(v); }, x, out, n);
    case kSigmoidOp: return UnaryImpl([](float v) { return 1.f / (1.f + FastExp(-v)); }, x, out, n);
    case kReluOp: return UnaryImpl([](float v) { return v > 0.f ? v : (std::isnan(v) ? v : 0.f); }, x, out, n);
    case kAbs: return UnaryImpl([](float v) { return std::fabs(v); }, x, out, n);
    case kReciprocal: return UnaryImpl([](float v) { return 1.f / v; }, x, out, n);
    case kIdentity: return UnaryImpl([](float v) { return v; }, x, out, n);
    default: return;
  }
}

void ReduceSum(const float* x, float* out, size_t outer, size_t reduce, size_t inner, float scale) {
  if (inner == 1) {
    ParallelFor(outer, std::max<size_t>(1, kMinElementsPerThread / std::max<size_t>(1, reduce)), [&](size_t ob, size_t oe) {
      for (size_t o = ob; o < oe; ++o) {
        const float* p = x + o * reduce;
        double acc = 0.0;
        for (size_t r = 0; r < reduce; ++r) acc += p[r];
        out[o] = static_cast<float>(acc) * scale;
      }
    }, FusedThreads());
    return;
  }
  // Column sums: accumulate row by row into double buffers (vectorizes over columns). Rows go in fixed blocks of
  // kRowBlock, each summed into its own partial, and the partials are added in block order: the result depends on
  // the block size only, not on how many threads took the blocks.
  constexpr size_t kRowBlock = 256;
  const size_t blocks = (reduce + kRowBlock - 1) / kRowBlock;
  std::vector<double> part(outer * blocks * inner, 0.0);
  ParallelFor(outer * blocks, std::max<size_t>(1, kMinElementsPerThread / (kRowBlock * std::max<size_t>(1, inner))),
              [&](size_t ub, size_t ue) {
                for (size_t u = ub; u < ue; ++u) {
                  const size_t o = u / blocks, rb = (u % blocks) * kRowBlock, re = std::min(reduce, rb + kRowBlock);
                  double* acc = part.data() + u * inner;
                  for (size_t r = rb; r < re; ++r) {
                    const float* row = x + (o * reduce + r) * inner;
                    for (size_t j = 0; j < inner; ++j) acc[j] += row[j];
                  }
                }
              }, FusedThreads());
  for (size_t o = 0; o < outer; ++o) {
    double* sum = part.data() + o * blocks * inner;
    for (size_t b = 1; b < blocks; ++b)
      for (size_t j = 0; j < inner; ++j) sum[j] += sum[b * inner + j];
    float* dst = out + o * inner;
    for (size_t j = 0; j < inner; ++j) dst[j] = static_cast<float>(sum[j]) * scale;
  }
}

void Softmax(const float* x, float* out, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) SoftmaxRow(x + r * cols, out + r * cols, cols);
}

double SumSquares(const float* base, const int32_t* offs, const int32_t* sizes, size_t n) {
  size_t total = 0;
  for (size_t t = 0; t < n; ++t) total += static_cast<size_t>(sizes[t]);
  // Each thread sums a contiguous share of the concatenated elements; per-thread partials in double.
  const size_t threads = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(Threads()), total / 65536));
  std::vector<double> part(threads, 0.0);
  const size_t share = (total + threads - 1) / threads;
  ParallelChunks(threads, [&](size_t c) {
    const size_t lo = c * share, hi = std::min(total, lo + share);
    size_t pos = 0;
    double acc = 0.0;
    for (size_t t = 0; t < n && pos < hi; ++t) {
      const size_t len = static_cast<size_t>(sizes[t]);
      const size_t b = std::max(lo, pos), e = std::min(hi, pos + len);
      if (b < e) {
        const float* x = base + static_cast<size_t>(offs[t]) + (b - pos);
        // Float lanes per block of 4096, then into the double. The block is its own loop: a flush test inside
        // the element loop kept it scalar (5.4M floats: 3.0 ms, 0.4 ms as two loops; addon called directly).
        for (size_t i0 = 0; i0 < e - b; i0 += 4096) {
          const size_t i1 = std::min(e - b, i0 + 4096);
          float s = 0.f;
          for (size_t i = i0; i < i1; ++i) s += x[i] * x[i];
          acc += s;
        }
      }
      pos += len;
    }
    part[c] = acc;
  });
  double sum = 0.0;
  for (double p : part) sum += p;
  return sum;
}

}  // namespace distillery
