// Seeded random tensors for every test layer (core and up): one copy of the helper.
//
//   randn({2, 3}, 7)              entries N(0, 1)
//   randn({4}, 2, 0.3f, 1.0f)     entries N(1, 0.3²)        (stddev, then mean)
//   randu({2, 3}, 7, -2.0f, 2.0f) entries uniform in [-2, 2)
//
// Deterministic in (shape, seed) on any thread count (counter-based generator, lra/core/rng.hpp).
#pragma once
#include <cstdint>

#include "lra/core/rng.hpp"
#include "lra/core/tensor.hpp"

namespace lra::test {

inline Tensor randn(const Dims& shape, uint64_t seed, float stddev = 1.0f, float mean = 0.0f) {
  Tensor t = Tensor::empty(shape);
  fill_normal(t, rng_key(seed, {rng_tag("test")}), mean, stddev);
  return t;
}

inline Tensor randu(const Dims& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::empty(shape);
  fill_uniform(t, rng_key(seed, {rng_tag("test")}), lo, hi);
  return t;
}

}  // namespace lra::test
