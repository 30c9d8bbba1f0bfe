// Softmax family over the last axis; forward and backward side by side.
//
//   softmax      y_j  = exp(s x_j - m) / sum_{k<L} exp(s x_k - m)   for j < L
//                y_j  = 0                                          for j >= L
//                with m = max_{k<L} s x_k (subtracted for stability)
//   backward     dx_j = s * y_j * (gy_j - sum_k gy_k y_k)
//   log_softmax  y_j  = x_j - m - log sum_k exp(x_k - m)
//   backward     dx_j = gy_j - exp(y_j) * sum_k gy_k
//
// x: (B, ..., N) in any layout, seen as R rows of N; s = scale; L = lengths[b] for the rows of
// batch b (N without lengths). A row with L = 0 (or whose scores are all -inf) is all zeros.
// Forward: a row with unit stride is read in place in three vectorised passes (max of s x,
// exp + sum, scale); a strided row is first copied into its contiguous output row. Note
// [vector rows]: with AVX-512 the max and exp + sum passes use lra/core/simd.hpp — GCC left
// the exp loop scalar (input and output rows may alias) and it was 11% of a Linformer step.
// Backward
// copies each gy row into dx and finishes it there, so inner loops run on contiguous memory.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lra/core/fast_exp.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rows.hpp"
#include "lra/core/simd.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {
namespace {

float row_max(const float* p, int64_t n) {
  float m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) m = p[j] > m ? p[j] : m;
  return m;
}

// max_j s * p[j] (16 partial maxima: vectorises without -ffast-math). Equal to row_max of the
// scaled row: the product is rounded the same way in both.
[[maybe_unused]] float scaled_max(const float* p, int64_t n, float s) {
  float acc[16];
  for (int k = 0; k < 16; ++k) acc[k] = -INFINITY;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16)
    for (int k = 0; k < 16; ++k) {
      const float v = s * p[j + k];
      acc[k] = v > acc[k] ? v : acc[k];
    }
  float m = -INFINITY;
  for (; j < n; ++j) m = s * p[j] > m ? s * p[j] : m;
  for (int k = 0; k < 16; ++k) m = acc[k] > m ? acc[k] : m;
  return m;
}

// Rows per parallel task: about 16K elements each.
int64_t row_grain(int64_t n) {
  return std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(n, 1));
}

// dx = row(y, gy) over the rows of the last axis, for the backward passes: each gy row is
// copied into its dx row (unit_row) and finished there by row(y_r, gy_r, dx_r, n).
template <class Row>
Tensor map_grad_rows(const Tensor& y, const Tensor& gy, const char* who, Row row) {
  check_same_shape(y, gy, who);
  LRA_CHECK(y.dim() >= 1, ShapeError, who, ": needs at least one axis");
  Tensor dx = Tensor::empty(y.shape());
  const int64_t n = y.shape().back();
  const int64_t rows = n == 0 ? 0 : y.numel() / n;
  if (rows == 0) return dx;
  const Tensor yc = y.contiguous();  // y is the forward output: contiguous in practice
  const float* py = yc.data<float>();
  const float* pg = gy.data<float>();
  float* pd = dx.data<float>();
  parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* dr = pd + r * n;
      row(py + r * n, unit_row(gy, pg, r, n, dr), dr, n);
    }
  });
  return dx;
}

}  // namespace

// ---- softmax ------------------------------------------------------------------------------

Tensor softmax(const Tensor& x, const Tensor& lengths, float scale) {
  LRA_CHECK(x.dim() >= 1, ShapeError, "softmax: needs at least one axis, got ", x.describe());
  Tensor y = Tensor::empty(x.shape());
  const int64_t n = x.shape().back();
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  if (rows == 0) return y;

  std::vector<int32_t> len;  // (B) valid keys per sequence, empty = all N
  int64_t rows_per_seq = rows;
  if (lengths.defined()) {
    LRA_CHECK(lengths.dtype() == DType::I32 && lengths.dim() == 1 && x.dim() >= 2 &&
                  lengths.numel() == x.size(0),
              ShapeError, "softmax: lengths must be i32 (B) for x (B, ..., N); got lengths ",
              lengths.describe(), " for x ", x.describe());
    len = lengths.to_ints();
    for (size_t b = 0; b < len.size(); ++b)
      LRA_CHECK(len[b] >= 0 && len[b] <= n, DataError, "softmax: lengths[", b, "] = ", len[b],
                " is outside [0, ", n, "] (the number of keys)");
    rows_per_seq = rows / x.size(0);
  }

  const float* px = x.data<float>();
  float* py = y.data<float>();
  const bool unit = x.strides().back() == 1 || n == 1;
  parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* yr = py + r * n;  // (N) output row
      const int64_t valid = len.empty() ? n : len[r / rows_per_seq];
      for (int64_t j = valid; j < n; ++j) yr[j] = 0.0f;
      if (valid == 0) continue;
      // Rows with unit stride are read in place (3 passes: max, exp + sum, scale); others are
      // first gathered into the output row.
      const float* xr = px + row_offset(x, r);
      if (!unit) {
        load_row(x, px, r, valid, yr);
        xr = yr;
      }
#if defined(__AVX512F__)  // Note [vector rows]
      const float m = simd::scaled_max(xr, valid, scale);
#else
      const float m = scaled_max(xr, valid, scale);  // max_j scale * x_j
#endif
      if (m == -INFINITY) {  // every score is -inf: no key is allowed, same as length 0
        for (int64_t j = 0; j < valid; ++j) yr[j] = 0.0f;
        continue;
      }
#if defined(__AVX512F__)
      const float inv = 1.0f / simd::exp_scaled_sum(xr, yr, valid, scale, m);
#else
      for (int64_t j = 0; j < valid; ++j) yr[j] = exp_nonpos(scale * xr[j] - m);
      const float inv = 1.0f / row_sum(yr, valid);
#endif
      for (int64_t j = 0; j < valid; ++j) yr[j] *= inv;
    }
  });
  return y;
}

Tensor softmax_backward(const Tensor& y, const Tensor& gy, float scale) {
  return map_grad_rows(y, gy, "softmax_backward",
                       [scale](const float* yr, const float* gr, float* dr, int64_t n) {
                         const float dot = row_dot(gr, yr, n);
                         for (int64_t j = 0; j < n; ++j) dr[j] = scale * yr[j] * (gr[j] - dot);
                       });
}

// ---- log_softmax --------------------------------------------------------------------------

Tensor log_softmax(const Tensor& x) {
  LRA_CHECK(x.dim() >= 1, ShapeError, "log_softmax: needs at least one axis, got ", x.describe());
  Tensor y = Tensor::empty(x.shape());
  const int64_t n = x.shape().back();
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  if (rows == 0) return y;
  const float* px = x.data<float>();
  float* py = y.data<float>();
  parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* yr = py + r * n;
      load_row(x, px, r, n, yr);
      const float m = row_max(yr, n);
      float s = 0.0f;
      for (int64_t j = 0; j < n; ++j) s += exp_nonpos(yr[j] - m);
      const float lse = m + std::log(s);
      for (int64_t j = 0; j < n; ++j) yr[j] -= lse;
    }
  });
  return y;
}

Tensor log_softmax_backward(const Tensor& y, const Tensor& gy) {
  return map_grad_rows(y, gy, "log_softmax_backward",
                       [](const float* yr, const float* gr, float* dr, int64_t n) {
                         const float gsum = row_sum(gr, n);
                         for (int64_t j = 0; j < n; ++j) dr[j] = gr[j] - exp_nonpos(yr[j]) * gsum;
                       });
}

}  // namespace lra::kern
