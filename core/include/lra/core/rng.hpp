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
float standard_normal(uint64_t key, uint64_t index);
uint64_t random_below(uint64_t key, uint64_t index, uint64_t n);  // uniform in [0, n)

// Fill a tensor (any layout, f32) in row-major element order.
void fill_uniform(Tensor& t, uint64_t key, float lo, float hi);
void fill_normal(Tensor& t, uint64_t key, float mean, float stddev);
void fill_bernoulli(Tensor& t, uint64_t key, float p);  // 1 with probability p, else 0

}  // namespace lra
