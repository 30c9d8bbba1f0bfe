// Sort and scan.
//
//   argsort  x (..., N) -> i32 (..., N): per row, the positions that order the row, stable
//            (ties keep their original order, also when descending). NaN sorts last
//            ascending and first descending, as the largest value.
//   cumsum   y_k = sum_{i <= k} x_i along `axis` (reverse: sum_{i >= k} x_i); f32 or i32.
//            Its adjoint is the cumsum of the gradient in the other direction.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {
namespace {

// a < b with NaN above every number (a strict weak order even with NaNs).
template <typename T>
bool less_nan_last(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

template <typename T>
void argsort_rows(const Tensor& x, bool descending, Tensor& out) {
  const int64_t n = x.shape().back();
  const int64_t rows = x.numel() / n;
  const T* px = x.data<T>();
  int32_t* po = out.data<int32_t>();
  const int64_t s = x.strides().back();
  parallel_for(rows, std::max<int64_t>(1, 4096 / n), [&](int64_t r0, int64_t r1) {
    std::vector<T> row(size_t(n), T{});
    for (int64_t r = r0; r < r1; ++r) {
      int64_t off = 0, rem = r;  // offset of row r through x's strides
      for (int d = x.dim() - 2; d >= 0; --d) {
        off += (rem % x.shape()[d]) * x.strides()[d];
        rem /= x.shape()[d];
      }
      for (int64_t j = 0; j < n; ++j) row[j] = px[off + j * s];
      int32_t* order = po + r * n;
      std::iota(order, order + n, 0);
      if (descending) {
        std::stable_sort(order, order + n,
                         [&](int32_t a, int32_t b) { return less_nan_last(row[b], row[a]); });
      } else {
        std::stable_sort(order, order + n,
                         [&](int32_t a, int32_t b) { return less_nan_last(row[a], row[b]); });
      }
    }
  });
}

// x contiguous, seen as (outer, n, inner); tasks are (outer slice, column block).
template <typename T>
void cumsum_contiguous(const T* px, T* py, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  constexpr int64_t kBlock = 256;
  const int64_t nblk = (inner + kBlock - 1) / kBlock;
  parallel_for(outer * nblk, std::max<int64_t>(1, 16384 / (n * std::min(inner, kBlock))),
               [&](int64_t t0, int64_t t1) {
                 for (int64_t t = t0; t < t1; ++t) {
                   const int64_t o = t / nblk, j0 = (t % nblk) * kBlock;
                   const int64_t j1 = std::min(inner, j0 + kBlock);
                   const T* xs = px + o * n * inner;
                   T* ys = py + o * n * inner;
                   for (int64_t step = 0; step < n; ++step) {
                     const int64_t k = reverse ? n - 1 - step : step;
                     const T* xk = xs + k * inner;
                     T* yk = ys + k * inner;
                     if (step == 0) {
                       for (int64_t j = j0; j < j1; ++j) yk[j] = xk[j];
                     } else {
                       const T* prev = ys + (reverse ? k + 1 : k - 1) * inner;
                       for (int64_t j = j0; j < j1; ++j) yk[j] = prev[j] + xk[j];
                     }
                   }
                 }
               });
}

}  // namespace

// ---- argsort ------------------------------------------------------------------------------

Tensor argsort(const Tensor& x, bool descending) {
  LRA_CHECK(x.dim() >= 1, ShapeError, "argsort: needs at least one axis, got ", x.describe());
  LRA_CHECK(x.shape().back() <= INT32_MAX, ShapeError, "argsort: last axis too long for i32");
  Tensor out = Tensor::empty(x.shape(), DType::I32);
  if (x.numel() == 0) return out;
  if (x.dtype() == DType::F32) {
    argsort_rows<float>(x, descending, out);
  } else {
    argsort_rows<int32_t>(x, descending, out);
  }
  return out;
}

// ---- cumsum -------------------------------------------------------------------------------

Tensor cumsum(const Tensor& x, int axis, bool reverse) {
  const int a = wrap_axis(axis, x.dim());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  if (x.numel() == 0) return y;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < a; ++i) outer *= x.size(i);
  for (int i = a + 1; i < x.dim(); ++i) inner *= x.size(i);
  const int64_t n = x.size(a);
  const Tensor xc = x.contiguous();  // visible copy for views: the scan runs on (outer, n, inner)
  if (x.dtype() == DType::F32) {
    cumsum_contiguous(xc.data<float>(), y.data<float>(), outer, n, inner, reverse);
  } else {
    cumsum_contiguous(xc.data<int32_t>(), y.data<int32_t>(), outer, n, inner, reverse);
  }
  return y;
}

}  // namespace lra::kern
