// Helpers every test layer (core and up) shares, one copy each: seeded random tensors, integer
// tensors, broadcast indexing, and a closeness check against a float64 reference.
//
//   randn({2, 3}, 7)              entries N(0, 1)
//   randn({4}, 2, 0.3f, 1.0f)     entries N(1, 0.3²)        (stddev, then mean)
//   randu({2, 3}, 7, -2.0f, 2.0f) entries uniform in [-2, 2)
//
// Deterministic in (shape, seed) on any thread count (counter-based generator, lra/core/rng.hpp).
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

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

// An i32 tensor of `shape` holding v (row-major).
inline Tensor ints(std::vector<int32_t> v, const Dims& shape) {
  return Tensor::from(std::span<const int32_t>(v), shape);
}

// Row-major index into shape `s` of element i of `out`, with s right-aligned against out and
// broadcast along its axes of size 1 (and the axes it lacks).
inline int64_t broadcast_index(const Dims& s, const Dims& out, int64_t i) {
  int64_t idx = 0, stride = 1;
  for (int d = out.size() - 1, j = s.size() - 1; d >= 0; --d, --j) {
    int64_t k = i % out[d];
    i /= out[d];
    if (j < 0) continue;
    if (s[j] != 1) idx += k * stride;
    stride *= s[j];
  }
  return idx;
}

// CHECKs |got - want| <= tol (1 + |want|) element by element (want: a float64 reference).
inline void check_close(const std::vector<float>& got, const std::vector<double>& want,
                        double tol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(std::fabs(got[i] - want[i]) <= tol * (1.0 + std::fabs(want[i])));
  }
}

}  // namespace lra::test
