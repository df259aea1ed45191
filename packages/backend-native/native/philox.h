// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the counter-based
// generator of cuRAND and PyTorch's CUDA dropout. The dropout masks are a pure function of (seed, stream,
// counter, element index): the backward pass and a resumed run regenerate exactly the same mask, no state.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#ifdef __AVX2__
#include <immintrin.h>
#endif

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

/** &p when p drops anything, nullptr at rate 0 (the kernels' "no dropout"). */
inline const DropoutParams* DropoutOrNone(const DropoutParams& p) { return p.threshold > 0 ? &p : nullptr; }

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u, kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;
constexpr uint32_t kPhiloxKey1 = 0x6A09E667u;  // key word 1: a fixed constant (√2's fraction)

/** Counter word 1 of block b: the stream, with block bits above 32 (tensors beyond 2³⁴ elements) folded in. */
inline uint32_t PhiloxWord1(const DropoutParams& p, uint64_t b) {
  return p.stream ^ (static_cast<uint32_t>(b >> 32) << 24);
}

/** One Philox-4x32-10 block, scalar (reference, and the tail of non-AVX2 builds). */
inline void PhiloxBlock(const DropoutParams& p, uint64_t b, uint32_t out[4]) {
  uint32_t x0 = static_cast<uint32_t>(b), x1 = PhiloxWord1(p, b);
  uint32_t x2 = static_cast<uint32_t>(p.counter), x3 = static_cast<uint32_t>(p.counter >> 32);
  uint32_t k0 = p.seed, k1 = kPhiloxKey1;
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = static_cast<uint64_t>(kPhiloxM0) * x0;
    const uint64_t p1 = static_cast<uint64_t>(kPhiloxM1) * x2;
    const uint32_t y0 = static_cast<uint32_t>(p1 >> 32) ^ x1 ^ k0;
    const uint32_t y2 = static_cast<uint32_t>(p0 >> 32) ^ x3 ^ k1;
    x1 = static_cast<uint32_t>(p1);
    x3 = static_cast<uint32_t>(p0);
    x0 = y0;
    x2 = y2;
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/** The random words of 8 consecutive blocks from block `first`, in element order: out[4·j + lane]. */
inline void Philox8(const DropoutParams& p, uint64_t first, uint32_t out[32]) {
#ifdef __AVX2__
  // 8 blocks side by side: x0..x3 hold one counter word of each block. _mm256_mul_epu32 multiplies the even
  // 32-bit lanes; the odd lanes go through a 64-bit shift. Bit-identical to PhiloxBlock.
  const bool sameHigh = (first >> 32) == ((first + 7) >> 32);
  if (sameHigh) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(first))), lane);
    __m256i x1 = _mm256_set1_epi32(static_cast<int>(PhiloxWord1(p, first)));
    __m256i x2 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(p.counter)));
    __m256i x3 = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(p.counter >> 32)));
    const __m256i m0 = _mm256_set1_epi64x(kPhiloxM0), m1 = _mm256_set1_epi64x(kPhiloxM1);
    uint32_t k0 = p.seed, k1 = kPhiloxKey1;
    for (int r = 0; r < 10; ++r) {
      const __m256i e0 = _mm256_mul_epu32(x0, m0), o0 = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
      const __m256i e1 = _mm256_mul_epu32(x2, m1), o1 = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
      const __m256i lo0 = _mm256_blend_epi32(e0, _mm256_slli_epi64(o0, 32), 0xAA);
      const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(e0, 32), o0, 0xAA);
      const __m256i lo1 = _mm256_blend_epi32(e1, _mm256_slli_epi64(o1, 32), 0xAA);
      const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(e1, 32), o1, 0xAA);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32(static_cast<int>(k0)));
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32(static_cast<int>(k1)));
      x1 = lo1;
      x3 = lo0;
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    // 4×8 transpose into element order (block j's four words at out[4j..4j+3]).
    const __m256i t0 = _mm256_unpacklo_epi32(x0, x1), t1 = _mm256_unpackhi_epi32(x0, x1);
    const __m256i t2 = _mm256_unpacklo_epi32(x2, x3), t3 = _mm256_unpackhi_epi32(x2, x3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 24), _mm256_permute2x128_si256(u2, u3, 0x31));
    return;
  }
#endif
  for (int j = 0; j < 8; ++j) PhiloxBlock(p, first + j, out + 4 * j);
}

/** mult[i] = scale when element begin + i is kept, else 0, for i in [0, n). */
inline void DropoutMultipliers(const DropoutParams& p, size_t begin, size_t n, float* mult) {
  const size_t end = begin + n;
  alignas(32) uint32_t words[32];
  size_t i = begin;
  while (i < end) {
    const uint64_t first = i / 4;  // 8 blocks = 32 elements from block `first`
    Philox8(p, first, words);
    const size_t base = static_cast<size_t>(first) * 4;
    const size_t stop = std::min(end, base + 32);
    const uint32_t thr = p.threshold;
    const float scale = p.scale;
    float* m = mult + (base - begin);  // may point before mult: only indices ≥ i − base are written
    for (size_t e = i - base; e < stop - base; ++e) m[e] = words[e] >= thr ? scale : 0.f;
    i = stop;
  }
}

}  // namespace distillery
