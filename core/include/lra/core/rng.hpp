// Counter-based random numbers (Philox4x32-10). A stream is a 64-bit key; element i of a
// fill uses counter i, so a result never depends on the number of threads or on the order of
// work, and any draw can be regenerated (dropout in recomputation, resume).
//
// Keys are derived, not stateful: key = rng_key(seed, purpose, step, layer, ...).
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>

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
float standard_normal(uint64_t key, uint64_t index);
uint64_t random_below(uint64_t key, uint64_t index, uint64_t n);  // uniform in [0, n)

// Fill a tensor (any layout, f32) in row-major element order.
void fill_uniform(Tensor& t, uint64_t key, float lo, float hi);
void fill_normal(Tensor& t, uint64_t key, float mean, float stddev);
void fill_bernoulli(Tensor& t, uint64_t key, float p);  // 1 with probability p, else 0

}  // namespace lra
