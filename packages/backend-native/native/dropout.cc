// Dropout with Philox masks (philox.h), alone and fused with the residual add and LayerNorm of post-LN BERT
// (`LN(dropout(x) + residual)`), forward and backward. No mask is stored: the backward kernels regenerate it
// from the same (seed, stream, counter), which costs less than reading a stored mask back from memory.
#include <cmath>
#include <vector>

#include "common.h"
#include "fastmath.h"
#include "philox.h"

namespace distillery {

namespace {
constexpr size_t kTile = 1024;  // elements per mask tile (on the stack)
}

void Dropout(const float* x, float* y, size_t n, const DropoutParams& p) {
  // Tiles of kTile elements: the mask of a tile depends only on its indices, so any split gives the same result.
  const size_t tiles = (n + kTile - 1) / kTile;
  ParallelFor(tiles, 64, [&](size_t tb, size_t te) {
    float mult[kTile];
    for (size_t t = tb; t < te; ++t) {
      const size_t b = t * kTile, len = std::min(kTile, n - b);
      DropoutMultipliers(p, b, len, mult);
      for (size_t i = 0; i < len; ++i) y[b + i] = x[b + i] * mult[i];
    }
  }, FusedThreads());
}

void DropoutAddLayerNormForward(const float* x, const float* res, const float* gamma, const float* beta, float* y,
                                float* mean, float* rstd, size_t rows, size_t cols, float eps, const DropoutParams* p) {
  const float inv = 1.0f / static_cast<float>(cols);
  ParallelFor(rows, 64, [&](size_t rb, size_t re) {
    std::vector<float> mult(cols, 1.0f), s(cols);
    for (size_t r = rb; r < re; ++r) {
      const float* xr = x + r * cols;
      const float* rr = res + r * cols;
      if (p) DropoutMultipliers(*p, r * cols, cols, mult.data());  // else stays all ones
      for (size_t j = 0; j < cols; ++j) s[j] = xr[j] * mult[j] + rr[j];
      float sum = 0.f;
      for (size_t j = 0; j < cols; ++j) sum += s[j];
      const float mu = sum * inv;
      float q = 0.f;
      for (size_t j = 0; j < cols; ++j) {
        const float d = s[j] - mu;
        q += d * d;
      }
      const float rs = 1.0f / std::sqrt(q * inv + eps);
      float* yr = y + r * cols;
      for (size_t j = 0; j < cols; ++j) yr[j] = (s[j] - mu) * rs * gamma[j] + beta[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
  }, FusedThreads());
}

void DropoutAddLayerNormBackward(const float* dy, const float* x, const float* res, const float* gamma,
                                 const float* mean, const float* rstd, float* dx, float* dres, float* dgamma,
                                 float* dbeta, size_t rows, size_t cols, const DropoutParams* p) {
  const float inv = 1.0f / static_cast<float>(cols);
  // Fixed chunking (per thread count) with double partial sums for dgamma/dbeta, added in chunk order.
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(FusedThreads()), rows / 64));
  std::vector<std::vector<double>> dg(chunks, std::vector<double>(cols, 0.0)), db(chunks, std::vector<double>(cols, 0.0));
  const size_t per = (rows + chunks - 1) / chunks;
  ParallelChunks(chunks, [&](size_t c) {
    const size_t rb = c * per, re = std::min(rows, rb + per);
    std::vector<float> mult(cols, 1.0f), xhat(cols), d(cols);
    double* g = dg[c].data();
    double* bsum = db[c].data();
    for (size_t r = rb; r < re; ++r) {
      const float* xr = x + r * cols;
      const float* rr = res + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      float* drr = dres + r * cols;
      float* m = mult.data();
      float* h = xhat.data();
      float* dd = d.data();
      if (p) DropoutMultipliers(*p, r * cols, cols, m);  // else stays all ones
      const float mu = mean[r], rs = rstd[r];
      // Separate simple loops (each vectorizes): recompute x̂ from the sum, then the row sums, then dx.
      for (size_t j = 0; j < cols; ++j) h[j] = (xr[j] * m[j] + rr[j] - mu) * rs;
      float sumD = 0.f, sumDX = 0.f;
      for (size_t j = 0; j < cols; ++j) {
        const float dj = dyr[j] * gamma[j];
        dd[j] = dj;
        sumD += dj;
        sumDX += dj * h[j];
      }
      for (size_t j = 0; j < cols; ++j) {
        g[j] += static_cast<double>(dyr[j] * h[j]);
        bsum[j] += static_cast<double>(dyr[j]);
      }
      const float meanD = sumD * inv, meanDX = sumDX * inv;
      for (size_t j = 0; j < cols; ++j) {
        const float v = rs * (dd[j] - meanD - h[j] * meanDX);
        drr[j] = v;
        dxr[j] = v * m[j];
      }
    }
  });
  for (size_t j = 0; j < cols; ++j) {
    double g = 0.0, b = 0.0;
    for (size_t c = 0; c < chunks; ++c) {
      g += dg[c][j];
      b += db[c][j];
    }
    dgamma[j] = static_cast<float>(g);
    dbeta[j] = static_cast<float>(b);
  }
}

void AttentionSoftmaxForward(const float* s, const float* mask, float* out, size_t rows, size_t cols,
                             size_t rowsPerMask, float scale) {
  ParallelFor(rows, 256, [&](size_t rb, size_t re) {
    for (size_t r = rb; r < re; ++r) {
      const float* in = s + r * cols;
      const float* mk = mask ? mask + (r / rowsPerMask) * cols : nullptr;
      float* o = out + r * cols;
      if (mk) {
        for (size_t j = 0; j < cols; ++j) o[j] = in[j] * scale + mk[j];
      } else {
        for (size_t j = 0; j < cols; ++j) o[j] = in[j] * scale;
      }
      SoftmaxRow(o, o, cols);
    }
  }, FusedThreads());
}

void AttentionSoftmaxBackwardRows(const float* dy, const float* probs, float* ds, size_t rows, size_t cols,
                                  float scale) {
  for (size_t r = 0; r < rows; ++r) {
    const float* g = dy + r * cols;
    const float* pr = probs + r * cols;
    float* o = ds + r * cols;
    float dot = 0.f;
    for (size_t j = 0; j < cols; ++j) dot += g[j] * pr[j];
    for (size_t j = 0; j < cols; ++j) o[j] = scale * pr[j] * (g[j] - dot);
  }
}

void AttentionSoftmaxBackward(const float* dy, const float* probs, float* ds, size_t rows, size_t cols, float scale) {
  ParallelFor(rows, 256, [&](size_t rb, size_t re) {
    AttentionSoftmaxBackwardRows(dy + rb * cols, probs + rb * cols, ds + rb * cols, re - rb, cols, scale);
  }, FusedThreads());
}

}  // namespace distillery
