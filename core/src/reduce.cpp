// Reductions along one axis, and whole-tensor sum / max-abs.
//
//   x seen as (O, N, I): O = extents before `axis`, N = axis, I = extents after.
//   sum        out[o, i] = sum_k x[o, k, i]
//   mean       out       = sum / N
//   max        out       = max_k x[o, k, i]             (N >= 1)
//   argmax     out       = first k reaching the max     (i32, axis removed)
//   logsumexp  out       = m + log sum_k exp(x - m),    m = max_k x   (-inf for an all -inf row)
//   out: (O, I) row-major, i.e. x's shape without the axis (keepdim: with a 1 there).
//
// Two walks. I == 1 (axis innermost): every output reads one strided row of x through its
// strides, no copy. I > 1: x is made contiguous (a visible copy only for strided input) and each
// task reduces a (N, <=1024 column) block with the column loop innermost, which vectorises.
#include <cmath>
#include <limits>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements read per parallel task
constexpr int64_t kCols = 1024;      // column block of the I > 1 walk

struct Axis {
  int axis;
  int64_t O, N, I;
  Dims out_shape;
};

Axis plan(const Tensor& x, int axis, bool keepdim, const char* op) {
  LRA_CHECK(x.defined() && x.dtype() == DType::F32, ShapeError, op, ": expected f32, got ",
            x.describe());
  Axis p;
  p.axis = wrap_axis(axis, x.dim());
  p.O = 1, p.I = 1, p.N = x.shape()[p.axis];
  for (int d = 0; d < p.axis; ++d) p.O *= x.shape()[d];
  for (int d = p.axis + 1; d < x.dim(); ++d) p.I *= x.shape()[d];
  p.out_shape = x.shape();
  if (keepdim) {
    p.out_shape[p.axis] = 1;
  } else {
    p.out_shape.erase(p.axis);
  }
  return p;
}

// row(src, stride, n, o): reduce one strided row of N into output o (used when I == 1).
// block(src, n, ld, o, i0, i1): reduce columns [i0, i1) of a contiguous (N, I) block whose
// rows are ld = I apart, into outputs o*I + [i0, i1) (used when I > 1).
template <typename Row, typename Block>
void reduce_axis(const Tensor& x, const Axis& p, Row row, Block block) {
  int64_t n = std::max<int64_t>(p.N, 1);
  if (p.O * p.I == 0) return;
  if (p.I == 1) {
    Dims shape = x.shape(), strides = x.strides();
    shape.erase(p.axis);
    strides.erase(p.axis);
    const float* base = x.data<float>();
    int64_t step = x.strides()[p.axis];
    parallel_for(p.O, std::max<int64_t>(1, kGrain / n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t off = 0, rem = o;
        for (int d = shape.size() - 1; d >= 0; --d) {
          off += (rem % shape[d]) * strides[d];
          rem /= shape[d];
        }
        row(base + off, step, p.N, o);
      }
    });
    return;
  }
  Tensor xc = x.contiguous();
  const float* base = xc.data<float>();
  int64_t nblk = (p.I + kCols - 1) / kCols;
  int64_t per_item = n * std::min(p.I, kCols);
  parallel_for(p.O * nblk, std::max<int64_t>(1, kGrain / per_item), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / nblk, i0 = (t % nblk) * kCols, i1 = std::min(p.I, i0 + kCols);
      block(base + o * p.N * p.I, p.N, p.I, o, i0, i1);
    }
  });
}

// Sum of a strided row: 8 partial sums when unit-stride (vectorises without -ffast-math).
float row_sum(const float* x, int64_t s, int64_t n) {
  float acc[8] = {};
  int64_t i = 0;
  if (s == 1)
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) acc[k] += x[i + k];
  float t = 0.0f;
  for (; i < n; ++i) t += x[i * s];
  for (int k = 0; k < 8; ++k) t += acc[k];
  return t;
}

float row_max(const float* x, int64_t s, int64_t n) {
  float m = x[0];
  for (int64_t i = 1; i < n; ++i) m = x[i * s] > m ? x[i * s] : m;
  return m;
}

}  // namespace

Tensor sum(const Tensor& x, int axis, bool keepdim) {
  Axis p = plan(x, axis, keepdim, "sum");
  Tensor out = Tensor::zeros(p.out_shape);
  float* po = out.data<float>();
  reduce_axis(
      x, p, [&](const float* src, int64_t s, int64_t n, int64_t o) { po[o] = row_sum(src, s, n); },
      [&](const float* src, int64_t n, int64_t ld, int64_t o, int64_t i0, int64_t i1) {
        float* dst = po + o * ld;
        for (int64_t k = 0; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i) dst[i] += src[k * ld + i];
      });
  return out;
}

Tensor mean(const Tensor& x, int axis, bool keepdim) {
  Tensor s = sum(x, axis, keepdim);
  float inv = 1.0f / float(x.size(axis));
  float* p = s.data<float>();
  for (int64_t i = 0; i < s.numel(); ++i) p[i] *= inv;
  return s;
}

Tensor max(const Tensor& x, int axis, bool keepdim) {
  Axis p = plan(x, axis, keepdim, "max");
  LRA_CHECK(p.N > 0, ShapeError, "max: axis ", axis, " of ", x.describe(), " is empty");
  Tensor out = Tensor::empty(p.out_shape);
  float* po = out.data<float>();
  reduce_axis(
      x, p, [&](const float* src, int64_t s, int64_t n, int64_t o) { po[o] = row_max(src, s, n); },
      [&](const float* src, int64_t n, int64_t ld, int64_t o, int64_t i0, int64_t i1) {
        float* dst = po + o * ld;
        for (int64_t i = i0; i < i1; ++i) dst[i] = src[i];
        for (int64_t k = 1; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i)
            dst[i] = src[k * ld + i] > dst[i] ? src[k * ld + i] : dst[i];
      });
  return out;
}

Tensor argmax(const Tensor& x, int axis) {
  Axis p = plan(x, axis, false, "argmax");
  LRA_CHECK(p.N > 0, ShapeError, "argmax: axis ", axis, " of ", x.describe(), " is empty");
  Tensor out = Tensor::empty(p.out_shape, DType::I32);
  int32_t* po = out.data<int32_t>();
  reduce_axis(
      x, p,
      [&](const float* src, int64_t s, int64_t n, int64_t o) {
        int64_t best = 0;
        for (int64_t k = 1; k < n; ++k)
          if (src[k * s] > src[best * s]) best = k;
        po[o] = int32_t(best);
      },
      [&](const float* src, int64_t n, int64_t ld, int64_t o, int64_t i0, int64_t i1) {
        float best[kCols];
        int32_t* dst = po + o * ld;
        for (int64_t i = i0; i < i1; ++i) best[i - i0] = src[i], dst[i] = 0;
        for (int64_t k = 1; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i)
            if (src[k * ld + i] > best[i - i0]) best[i - i0] = src[k * ld + i], dst[i] = int32_t(k);
      });
  return out;
}

Tensor logsumexp(const Tensor& x, int axis, bool keepdim) {
  Axis p = plan(x, axis, keepdim, "logsumexp");
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  Tensor out = Tensor::full(p.out_shape, kNegInf);  // an empty axis sums to 0: log 0 = -inf
  if (p.N == 0) return out;
  float* po = out.data<float>();
  reduce_axis(
      x, p,
      [&](const float* src, int64_t s, int64_t n, int64_t o) {
        float m = row_max(src, s, n);
        if (!std::isfinite(m)) {  // all -inf, or an +inf / NaN present
          po[o] = m;
          return;
        }
        float acc = 0.0f;
        for (int64_t k = 0; k < n; ++k) acc += std::exp(src[k * s] - m);
        po[o] = m + std::log(acc);
      },
      [&](const float* src, int64_t n, int64_t ld, int64_t o, int64_t i0, int64_t i1) {
        float m[kCols], acc[kCols] = {};
        float* dst = po + o * ld;
        for (int64_t i = i0; i < i1; ++i) m[i - i0] = src[i];
        for (int64_t k = 1; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i)
            m[i - i0] = src[k * ld + i] > m[i - i0] ? src[k * ld + i] : m[i - i0];
        for (int64_t k = 0; k < n; ++k)
          for (int64_t i = i0; i < i1; ++i) {
            float mi = std::isfinite(m[i - i0]) ? m[i - i0] : 0.0f;
            acc[i - i0] += std::exp(src[k * ld + i] - mi);
          }
        for (int64_t i = i0; i < i1; ++i)
          dst[i] = std::isfinite(m[i - i0]) ? m[i - i0] + std::log(acc[i - i0]) : m[i - i0];
      });
  return out;
}

// ---- whole-tensor reductions: fixed chunks of kGrain, partials combined in order, so the
// result does not depend on the thread count ----------------------------------------------

float sum_all(const Tensor& x) {
  LRA_CHECK(x.defined() && x.dtype() == DType::F32, ShapeError, "sum_all: expected f32, got ",
            x.describe());
  Tensor xc = x.contiguous();
  const float* p = xc.data<float>();
  int64_t n = xc.numel(), chunks = (n + kGrain - 1) / kGrain;
  std::vector<double> part(size_t(chunks), 0.0);
  parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double acc[4] = {};
      int64_t i = c * kGrain, end = std::min(n, i + kGrain);
      for (; i + 4 <= end; i += 4)
        for (int k = 0; k < 4; ++k) acc[k] += double(p[i + k]);
      for (; i < end; ++i) acc[0] += double(p[i]);
      part[size_t(c)] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
  });
  double total = 0.0;
  for (double v : part) total += v;
  return float(total);
}

// max |x|; NaN if any element is NaN.
float max_abs(const Tensor& x) {
  LRA_CHECK(x.defined() && x.dtype() == DType::F32, ShapeError, "max_abs: expected f32, got ",
            x.describe());
  Tensor xc = x.contiguous();
  const float* p = xc.data<float>();
  int64_t n = xc.numel(), chunks = (n + kGrain - 1) / kGrain;
  std::vector<float> part(size_t(chunks), 0.0f);
  parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      float m = 0.0f;
      for (int64_t i = c * kGrain, end = std::min(n, i + kGrain); i < end; ++i) {
        float a = std::fabs(p[i]);
        m = (a > m || a != a) ? a : m;  // a NaN sticks: a non-finite tensor is not "small"
      }
      part[size_t(c)] = m;
    }
  });
  float m = 0.0f;
  for (float v : part) m = (v > m || v != v) ? v : m;
  return m;
}

}  // namespace lra::kern
