// Counter-based random numbers (Philox4x32-10). A stream is a 64-bit key; element i of a
// fill uses counter i, so a result never depends on the number of threads or on the order of
// work, and any draw can be regenerated (dropout in recomputation, resume).
//
// Keys are derived, not stateful: key = rng_key(seed, purpose, step, layer, ...).
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "lra/core/tensor.hpp"

namespace lra {

// Mixes a seed and any number of 64-bit tags (purpose, step, layer, head, ...) into a key.
uint64_t rng_key(uint64_t seed, std::initializer_list<uint64_t> tags);
// A purpose tag from a short string ("dropout", "init", "shuffle", ...).
uint64_t rng_tag(const char* purpose);

std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter);
float uniform01(uint64_t key, uint64_t index);  // in [0, 1)

// A key with its 10 round keys precomputed, for loops that draw many counters of one stream:
// inline, so such a loop vectorises (about 4x faster than uniform01(key, i) per element).
// philox4x32(PhiloxKey(key), c) == philox4x32(key, c) bit for bit: it is the one definition.
struct PhiloxKey {
  uint32_t k0[10], k1[10];
  explicit PhiloxKey(uint64_t key) {
    uint32_t a = uint32_t(key), b = uint32_t(key >> 32);
    for (int r = 0; r < 10; ++r) k0[r] = a, k1[r] = b, a += 0x9E3779B9u, b += 0xBB67AE85u;
  }
};

inline std::array<uint32_t, 4> philox4x32(const PhiloxKey& k, uint64_t counter) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k.k0[r], n2 = uint32_t(p0 >> 32) ^ c3 ^ k.k1[r];
    c1 = uint32_t(p1), c3 = uint32_t(p0), c0 = n0, c2 = n2;
  }
  return {c0, c1, c2, c3};
}

// In [0, 1): the top 24 bits of the first output word.
inline float uniform01(const PhiloxKey& k, uint64_t index) {
  return float(philox4x32(k, index)[0] >> 8) * (1.0f / 16777216.0f);
}

#if defined(__AVX512F__)
// Note [philox on 16 lanes]: uniform01(k, c + l) for the 16 counters c .. c + 15, bit for bit
// (a dropout mask drew one scalar Philox per element: half of a training step). A 32 x 32 ->
// 64-bit product of 16 lanes is two _mm512_mul_epu32 (even lanes, then odd lanes shifted
// down); the high and low halves are blended back into lane order.
inline __m512 uniform01_16(const PhiloxKey& k, uint64_t counter) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i lo = _mm512_set1_epi32(int(uint32_t(counter)));
  __m512i c0 = _mm512_add_epi32(lo, lane);
  // the high word carries where the low word wrapped past 2^32 inside the 16
  __m512i c1 = _mm512_set1_epi32(int(uint32_t(counter >> 32)));
  c1 = _mm512_mask_add_epi32(c1, _mm512_cmplt_epu32_mask(c0, lo), c1, _mm512_set1_epi32(1));
  __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
  auto mul = [](__m512i c, __m512i m, __m512i& hi, __m512i& lo32) {
    const __m512i even = _mm512_mul_epu32(c, m);                        // lanes 0, 2, ..
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(c, 32), m);  // lanes 1, 3, ..
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    lo32 = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  };
  for (int r = 0; r < 10; ++r) {
    __m512i hi0, lo0, hi1, lo1;
    mul(c0, m0, hi0, lo0);
    mul(c2, m1, hi1, lo1);
    const __m512i n0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32(int(k.k0[r])), 0x96);
    const __m512i n2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32(int(k.k1[r])), 0x96);
    c1 = lo1, c3 = lo0, c0 = n0, c2 = n2;
  }
  return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(c0, 8)),
                       _mm512_set1_ps(1.0f / 16777216.0f));
}
#endif

float standard_normal(uint64_t key, uint64_t index);
uint64_t random_below(uint64_t key, uint64_t index, uint64_t n);  // uniform in [0, n)

// Fill a tensor (any layout, f32) in row-major element order.
void fill_uniform(Tensor& t, uint64_t key, float lo, float hi);
void fill_normal(Tensor& t, uint64_t key, float mean, float stddev);
void fill_bernoulli(Tensor& t, uint64_t key, float p);  // 1 with probability p, else 0

}  // namespace lra
