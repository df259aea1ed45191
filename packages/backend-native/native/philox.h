// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the counter-based
// generator of cuRAND and PyTorch's CUDA dropout. The dropout masks are a pure function of (seed, stream,
// counter, element index): the backward pass and a resumed run regenerate exactly the same mask, no state.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace distillery {

/** What identifies one dropout mask: the key, the site within a pass (stream) and the pass (counter). */
struct DropoutParams {
  uint32_t seed;      // key word 0 (the run's dropout seed)
  uint32_t stream;    // counter word 1 (dropout site within one forward pass)
  uint64_t counter;   // counter words 2, 3 (forward pass number)
  uint32_t threshold; // keep element iff its 32 random bits ≥ threshold = ⌊rate·2³²⌋
  float scale;        // 1 / (1 − rate)
};

inline DropoutParams MakeDropoutParams(double rate, uint32_t seed, uint32_t stream, uint64_t counter) {
  DropoutParams p;
  p.seed = seed;
  p.stream = stream;
  p.counter = counter;
  p.threshold = static_cast<uint32_t>(std::min(4294967295.0, std::floor(rate * 4294967296.0)));
  p.scale = static_cast<float>(1.0 / (1.0 - rate));
  return p;
}

/**
 * Random words of 8 consecutive Philox blocks starting at block `first`: words[lane][j] is lane `lane` of
 * block first + j, i.e. element 4·(first + j) + lane. Written as plain loops over j so GCC vectorizes them.
 */
inline void Philox8(const DropoutParams& p, uint64_t first, uint32_t words[4][8]) {
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  uint32_t x0[8], x1[8], x2[8], x3[8];
  const uint32_t c2 = static_cast<uint32_t>(p.counter), c3 = static_cast<uint32_t>(p.counter >> 32);
  for (int j = 0; j < 8; ++j) {
    x0[j] = static_cast<uint32_t>(first + j);
    x1[j] = p.stream ^ (static_cast<uint32_t>((first + j) >> 32) << 24);  // blocks ≥ 2³²: high bits into word 1
    x2[j] = c2;
    x3[j] = c3;
  }
  uint32_t k0 = p.seed, k1 = 0x6A09E667u;  // key word 1: a fixed constant (√2's fraction)
  for (int r = 0; r < 10; ++r) {
    for (int j = 0; j < 8; ++j) {
      const uint64_t p0 = static_cast<uint64_t>(M0) * x0[j];
      const uint64_t p1 = static_cast<uint64_t>(M1) * x2[j];
      const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1[j] ^ k0;
      const uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x3[j] ^ k1;
      x1[j] = static_cast<uint32_t>(p1);
      x3[j] = static_cast<uint32_t>(p0);
      x0[j] = y0;
      x2[j] = y2;
    }
    k0 += W0;
    k1 += W1;
  }
  for (int j = 0; j < 8; ++j) {
    words[0][j] = x0[j];
    words[1][j] = x1[j];
    words[2][j] = x2[j];
    words[3][j] = x3[j];
  }
}

/** mult[i] = scale when element begin + i is kept, else 0, for i in [0, n). */
inline void DropoutMultipliers(const DropoutParams& p, size_t begin, size_t n, float* mult) {
  const size_t end = begin + n;
  uint32_t words[4][8];
  size_t i = begin;
  while (i < end) {
    const uint64_t first = i / 4;  // 8 blocks = 32 elements from block `first`
    Philox8(p, first, words);
    const size_t base = static_cast<size_t>(first) * 4;
    const size_t stop = std::min(end, base + 32);
    for (size_t e = i; e < stop; ++e) {
      const size_t off = e - base;
      mult[e - begin] = words[off & 3][off >> 2] >= p.threshold ? p.scale : 0.f;
    }
    i = stop;
  }
}

}  // namespace distillery
