// Row helpers of the kernels that work row by row over the last axis (softmax, layer norm, the
// attention mechanisms' fused passes).
//
//   row r of t  = t[i0, ..., i_{k-1}, :]  with r the row-major index over all axes but the last
//   row_sum(p)  = Σ_j p_j,   row_dot(a, b) = Σ_j a_j b_j
//
// Sums run in 8 independent partials (lane j mod 8) that are added after the tail: one SIMD
// register without -ffast-math, and a fixed order of addition, so results do not depend on
// the caller or the thread count.
#pragma once
#include <cstdint>
#include <cstring>

#include "lra/core/tensor.hpp"

namespace lra::kern {

// Offset of row r (all axes but the last, row-major) from t.data().
inline int64_t row_offset(const Tensor& t, int64_t r) {
  int64_t off = 0;
  for (int d = t.dim() - 2; d >= 0; --d) {
    off += (r % t.shape()[d]) * t.strides()[d];
    r /= t.shape()[d];
  }
  return off;
}

// dst[0, n) = the first n elements of row r of t (f32, any layout).
inline void load_row(const Tensor& t, const float* base, int64_t r, int64_t n, float* dst) {
  const float* src = base + row_offset(t, r);
  const int64_t s = t.strides().back();
  if (s == 1) {
    std::memcpy(dst, src, size_t(n) * sizeof(float));
  } else {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j * s];
  }
}

// Row r of t read in place when its elements are adjacent, else gathered into dst (returned):
// a kernel then reads it once, with no copy pass first.
inline const float* unit_row(const Tensor& t, const float* base, int64_t r, int64_t n, float* dst) {
  if (t.strides().back() == 1 || n <= 1) return base + row_offset(t, r);
  load_row(t, base, r, n, dst);
  return dst;
}

inline float row_sum(const float* p, int64_t n) {
  float acc[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += p[j + k];
  float s = 0.0f;
  for (; j < n; ++j) s += p[j];
  for (int k = 0; k < 8; ++k) s += acc[k];
  return s;
}

inline float row_dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k];
  float s = 0.0f;
  for (; j < n; ++j) s += a[j] * b[j];
  for (int k = 0; k < 8; ++k) s += acc[k];
  return s;
}

}  // namespace lra::kern
