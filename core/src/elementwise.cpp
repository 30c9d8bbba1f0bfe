// Elementwise kernels: unary maps, broadcasting binary ops, scalar ops, sum_to, axpy_.
//
//   unary      y  = f(x)                     any layout in, contiguous out
//   backward   dx = gy * f'(x)               from x or from y, whichever is cheaper (table below)
//   binary     out = a op b                  numpy broadcasting: (B,N,D) + (D) -> (B,N,D)
//   sum_to     out = sum over the axes broadcasting added or stretched: (B,N,D) -> (D) or (B,1,D)
//
// Strided walks (Note [rows]): the operands are laid over one shape (a broadcast axis gets
// stride 0), size-1 axes are dropped and adjacent axes that are contiguous in every operand are
// merged. What is left is walked as rows: the last axis is the inner loop, with separate loops
// for unit and zero strides so the compiler vectorises them. Work is split along one axis in
// chunks of ~32K elements (lra::parallel_for); the split never depends on the thread count, so
// results are bit-identical with 1 or 2 threads.
#include <bit>
#include <cmath>
#include <cstring>

#include "lra/core/fast_exp.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"
#include "merged_axes.hpp"

namespace lra::kern {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per parallel task

void check_f32(const Tensor& t, const char* op) {
  LRA_CHECK(t.defined(), ShapeError, op, ": undefined tensor");
  LRA_CHECK(t.dtype() == DType::F32, ShapeError, op, ": expected f32, got ", t.describe());
}

// ---- Note [rows]: up to three operands walked over one shape ------------------------------

using Layout = MergedAxes<3>;  // Note [merged axes]

Layout make_layout(const Dims& shape, const Dims& s0, const Dims& s1, const Dims& s2) {
  Layout L = merge_axes<3>(shape, {&s0, &s1, &s2});
  if (L.nd == 0) L.nd = 1, L.n[0] = 1;  // one element
  return L;
}

// Calls row(off, n) for every row of L with axis `split` restricted to [lo, hi): off[k] is
// operand k's offset of the row start, n the row length (the last axis).
template <typename Row>
void walk(Layout L, int split, int64_t lo, int64_t hi, Row row) {
  int64_t off[3];
  for (int k = 0; k < 3; ++k) off[k] = lo * L.st[k][split];
  L.n[split] = hi - lo;
  int last = L.nd - 1;
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= L.n[d];
  int64_t idx[kMaxDims] = {};
  for (int64_t r = 0; r < rows; ++r) {
    row(off, L.n[last]);
    for (int d = last - 1; d >= 0; --d) {
      if (++idx[d] < L.n[d]) {
        for (int k = 0; k < 3; ++k) off[k] += L.st[k][d];
        break;
      }
      for (int k = 0; k < 3; ++k) off[k] -= L.st[k][d] * (L.n[d] - 1);
      idx[d] = 0;
    }
  }
}

// Tasks of ~kGrain elements along axis `split` (of `total` elements in all).
int64_t grain_along(const Layout& L, int split, int64_t total) {
  int64_t per = total / L.n[split];  // elements per index of the split axis
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, per));
}

// ---- unary ------------------------------------------------------------------------------

// y = f(x) elementwise into a fresh contiguous tensor. A strided x is first gathered into y
// (Tensor::copy_ walks any layout) and then mapped in place.
template <typename F>
Tensor map(const Tensor& x, const char* op, F f) {
  check_f32(x, op);
  Tensor y = Tensor::empty(x.shape());
  const float* src = x.data<float>();
  if (!x.is_contiguous()) {
    y.copy_(x);
    src = y.data<float>();
  }
  float* dst = y.data<float>();
  parallel_for(y.numel(), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = f(src[i]);
  });
  return y;
}

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

// Phi(x) = 0.5 erfc(-x / sqrt(2)), the standard normal CDF, vectorisable (std::erf is a scalar
// libm call: GELU was ~30% of a tiny-model training step). erfc(z) = t exp(-z^2 + P(t)),
// t = 1 / (1 + |z| / 2), Numerical Recipes' erfcc (fractional error < 1.2e-7); computing the
// small tail directly keeps GELU's relative error small for very negative x too.
inline float normal_cdf(float x) {
  const float z = x * kInvSqrt2;
  const float az = std::fabs(z);
  const float t = 1.0f / (1.0f + 0.5f * az);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float e = p - az * az;
  e = e < 0.0f ? e : 0.0f;
  const float tail = 0.5f * t * exp_nonpos(e);  // 0.5 erfc(|z|)
  return z >= 0.0f ? 1.0f - tail : tail;
}

// GELU's derivative Phi(x) + x phi(x).
inline float gelu_grad(float x) {
  return normal_cdf(x) + x * kInvSqrt2Pi * exp_nonpos(-0.5f * x * x);
}

float sigmoidf(float v) {
  return 1.0f / (1.0f + std::exp(-v));
}

}  // namespace

const char* unary_name(Unary op) {
  static const char* names[] = {"neg",  "exp", "log",     "sqrt", "rsqrt", "tanh",  "relu",
                                "gelu", "elu", "sigmoid", "silu", "abs",   "square"};
  static_assert(sizeof(names) / sizeof(names[0]) == size_t(Unary::COUNT));
  return op < Unary::COUNT ? names[size_t(op)] : "?";
}

Tensor unary(Unary op, const Tensor& x) {
  const char* n = unary_name(op);
  switch (op) {
    case Unary::Neg:
      return map(x, n, [](float v) { return -v; });
    case Unary::Exp:
      return map(x, n, [](float v) { return std::exp(v); });
    case Unary::Log:
      return map(x, n, [](float v) { return std::log(v); });
    case Unary::Sqrt:
      return map(x, n, [](float v) { return std::sqrt(v); });
    case Unary::Rsqrt:
      return map(x, n, [](float v) { return 1.0f / std::sqrt(v); });
    case Unary::Tanh:
      return map(x, n, [](float v) { return std::tanh(v); });
    case Unary::Relu:
      return map(x, n, [](float v) { return v < 0.0f ? 0.0f : v; });
    case Unary::Gelu:  // x * Phi(x), Phi the standard normal CDF
      return map(x, n, [](float v) { return v * normal_cdf(v); });
    case Unary::Elu:
      return map(x, n, [](float v) { return v > 0.0f ? v : std::expm1(v); });
    case Unary::Sigmoid:
      return map(x, n, sigmoidf);
    case Unary::Silu:
      return map(x, n, [](float v) { return v * sigmoidf(v); });
    case Unary::Abs:
      return map(x, n, [](float v) { return std::fabs(v); });
    case Unary::Square:
      return map(x, n, [](float v) { return v * v; });
    case Unary::COUNT:
      break;
  }
  throw Error("unary: unknown op");
}

// dx = gy * f'. Reads x for log, gelu, silu, abs, square; y for exp, sqrt, rsqrt, tanh, relu,
// elu, sigmoid; neither for neg. The input it does not read may be passed undefined.
//   exp   f' = y            sqrt  f' = 0.5 / y       rsqrt  f' = -0.5 y^3
//   tanh  f' = 1 - y^2      relu  f' = [y > 0]       elu    f' = y > 0 ? 1 : y + 1
//   sigm  f' = y (1 - y)    log   f' = 1 / x         square f' = 2x        abs f' = sign(x)
//   gelu  f' = Phi(x) + x phi(x)                     silu   f' = s (1 + x (1 - s)), s = sigm(x)
Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& gy) {
  const char* name = unary_name(op);
  check_f32(gy, name);
  bool uses_x = op == Unary::Log || op == Unary::Gelu || op == Unary::Silu || op == Unary::Abs ||
                op == Unary::Square;
  bool uses_y = !uses_x && op != Unary::Neg;
  const Tensor& in = uses_x ? x : y;
  Tensor g = gy.contiguous(), v;
  if (uses_x || uses_y) {
    check_f32(in, name);
    check_same_shape(in, gy, name);
    v = in.contiguous();
  }
  Tensor dx = Tensor::empty(gy.shape());
  const float* pg = g.data<float>();
  const float* pv = v.defined() ? v.data<float>() : nullptr;
  float* pd = dx.data<float>();
  auto run = [&](auto f) {  // dx[i] = f(gy[i], v[i])
    parallel_for(dx.numel(), kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) pd[i] = f(pg[i], pv ? pv[i] : 0.0f);
    });
  };
  switch (op) {
    case Unary::Neg:
      run([](float g, float) { return -g; });
      break;
    case Unary::Exp:
      run([](float g, float y) { return g * y; });
      break;
    case Unary::Log:
      run([](float g, float x) { return g / x; });
      break;
    case Unary::Sqrt:
      run([](float g, float y) { return 0.5f * g / y; });
      break;
    case Unary::Rsqrt:
      run([](float g, float y) { return -0.5f * g * y * y * y; });
      break;
    case Unary::Tanh:
      run([](float g, float y) { return g * (1.0f - y * y); });
      break;
    case Unary::Relu:
      run([](float g, float y) { return y > 0.0f ? g : 0.0f; });
      break;
    case Unary::Elu:
      run([](float g, float y) { return y > 0.0f ? g : g * (y + 1.0f); });
      break;
    case Unary::Sigmoid:
      run([](float g, float y) { return g * y * (1.0f - y); });
      break;
    case Unary::Abs:
      run([](float g, float x) { return x > 0.0f ? g : (x < 0.0f ? -g : 0.0f); });
      break;
    case Unary::Square:
      run([](float g, float x) { return 2.0f * g * x; });
      break;
    case Unary::Gelu:
      run([](float g, float x) { return g * gelu_grad(x); });
      break;
    case Unary::Silu:
      run([](float g, float x) {
        float s = sigmoidf(x);
        return g * s * (1.0f + x * (1.0f - s));
      });
      break;
    case Unary::COUNT:
      throw Error("unary_backward: unknown op");
  }
  return dx;
}

Tensor add_scalar(const Tensor& x, float s) {
  return map(x, "add_scalar", [s](float v) { return v + s; });
}

Tensor mul_scalar(const Tensor& x, float s) {
  return map(x, "mul_scalar", [s](float v) { return v * s; });
}

Tensor pow_scalar(const Tensor& x, float p) {
  if (p == 1.0f) return map(x, "pow_scalar", [](float v) { return v; });
  if (p == 2.0f) return map(x, "pow_scalar", [](float v) { return v * v; });
  if (p == 0.5f) return map(x, "pow_scalar", [](float v) { return std::sqrt(v); });
  if (p == -1.0f) return map(x, "pow_scalar", [](float v) { return 1.0f / v; });
  return map(x, "pow_scalar", [p](float v) { return std::pow(v, p); });
}

// ---- binary -----------------------------------------------------------------------------

namespace {

// o[i] = f(a[i sa], b[i sb]) for i < n; unit and zero strides get their own loops.
template <typename F>
void binary_row(F f, float* o, const float* a, int64_t sa, const float* b, int64_t sb, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (sa == 0 && sb == 1) {
    const float av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * sa], b[i * sb]);
  }
}

template <typename F>
void binary_run(F f, Tensor& out, const Tensor& a, const Tensor& b) {
  float* po = out.data<float>();
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  int64_t n = out.numel();
  if (a.shape() == b.shape() && a.is_contiguous() && b.is_contiguous()) {  // fast path
    parallel_for(n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  // Broadcast operands become stride-0 views over the output shape (Note [rows]).
  Tensor ea = a.expand(out.shape()), eb = b.expand(out.shape());
  Layout L = make_layout(out.shape(), out.strides(), ea.strides(), eb.strides());
  int last = L.nd - 1;
  parallel_for(L.n[0], grain_along(L, 0, n), [&](int64_t lo, int64_t hi) {
    walk(L, 0, lo, hi, [&](const int64_t* off, int64_t len) {
      binary_row(f, po + off[0], pa + off[1], L.st[1][last], pb + off[2], L.st[2][last], len);
    });
  });
}

}  // namespace

const char* binary_name(Binary op) {
  static const char* names[] = {"add", "sub", "mul", "div", "max", "min"};
  static_assert(sizeof(names) / sizeof(names[0]) == size_t(Binary::COUNT));
  return op < Binary::COUNT ? names[size_t(op)] : "?";
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  check_f32(a, binary_name(op));
  check_f32(b, binary_name(op));
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape()));
  if (out.numel() == 0) return out;
  switch (op) {
    case Binary::Add:
      binary_run([](float x, float y) { return x + y; }, out, a, b);
      break;
    case Binary::Sub:
      binary_run([](float x, float y) { return x - y; }, out, a, b);
      break;
    case Binary::Mul:
      binary_run([](float x, float y) { return x * y; }, out, a, b);
      break;
    case Binary::Div:
      binary_run([](float x, float y) { return x / y; }, out, a, b);
      break;
    case Binary::Max:
      binary_run([](float x, float y) { return x < y ? y : x; }, out, a, b);
      break;
    case Binary::Min:
      binary_run([](float x, float y) { return y < x ? y : x; }, out, a, b);
      break;
    case Binary::COUNT:
      throw Error("binary: unknown op");
  }
  return out;
}

// ---- sum_to -----------------------------------------------------------------------------

namespace {

// o[i so] += x[i sx] for i < n; so == 0 sums the row into *o (8 partial sums: one register).
void sum_row(float* o, int64_t so, const float* x, int64_t sx, int64_t n) {
  if (so == 0) {
    float acc[8] = {};
    int64_t i = 0;
    if (sx == 1)
      for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) acc[k] += x[i + k];
    float s = 0.0f;
    for (; i < n; ++i) s += x[i * sx];
    for (int k = 0; k < 8; ++k) s += acc[k];
    *o += s;
  } else if (so == 1 && sx == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] += x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] += x[i * sx];
  }
}

}  // namespace

// Walks x with the output's strides laid over x's shape (0 on summed axes) and adds each row
// into the output. Parallel split, so that tasks never write the same output:
//   - along the largest kept outer axis, or along the kept inner axis in runs of >= 512
//     columns (e.g. (4, 1M) -> (1M));
//   - else, when the output is small (e.g. (B*N, D) -> (D), or a full sum), along the largest
//     axis into 16 fixed partial outputs that are summed in order afterwards;
//   - else serially.
Tensor sum_to(const Tensor& x, const Dims& shape) {
  check_f32(x, "sum_to");
  LRA_CHECK(shape.size() <= x.dim(), ShapeError, "sum_to: cannot sum ", x.describe(), " to ",
            shape.str());
  if (x.shape() == shape) return x.clone();
  Tensor out = Tensor::zeros(shape);
  Dims ostr = x.shape();  // output strides over x's axes
  int lead = x.dim() - shape.size();
  for (int d = 0; d < x.dim(); ++d) {
    int j = d - lead;
    LRA_CHECK(j < 0 || shape[j] == x.shape()[d] || shape[j] == 1, ShapeError,
              "sum_to: ", x.describe(), " does not broadcast from ", shape.str());
    ostr[d] = (j >= 0 && shape[j] == x.shape()[d]) ? out.strides()[j] : 0;
  }
  int64_t total = x.numel();
  if (total == 0) return out;
  Layout L = make_layout(x.shape(), ostr, x.strides(), ostr);
  int last = L.nd - 1;
  const float* px = x.data<float>();
  auto add_rows = [&](float* dst, int split, int64_t lo, int64_t hi) {
    walk(L, split, lo, hi, [&](const int64_t* off, int64_t n) {
      sum_row(dst + off[0], L.st[0][last], px + off[1], L.st[1][last], n);
    });
  };
  float* po = out.data<float>();
  if (total <= 2 * kGrain) {
    add_rows(po, 0, 0, L.n[0]);
    return out;
  }
  int kept = -1, widest = 0;
  for (int d = 0; d < last; ++d)
    if (L.st[0][d] != 0 && (kept < 0 || L.n[d] > L.n[kept])) kept = d;
  for (int d = 0; d < L.nd; ++d)
    if (L.n[d] > L.n[widest]) widest = d;
  if (kept >= 0 && L.n[kept] >= 4) {
    parallel_for(L.n[kept], grain_along(L, kept, total),
                 [&](int64_t lo, int64_t hi) { add_rows(po, kept, lo, hi); });
    return out;
  }
  if (L.st[0][last] != 0 && L.n[last] >= 1024) {
    parallel_for(L.n[last], std::max<int64_t>(512, grain_along(L, last, total)),
                 [&](int64_t lo, int64_t hi) { add_rows(po, last, lo, hi); });
    return out;
  }
  if (16 * out.numel() > total) {
    add_rows(po, 0, 0, L.n[0]);
    return out;
  }
  int64_t parts = std::min<int64_t>(16, L.n[widest]), m = out.numel();
  Tensor partial = Tensor::zeros({parts, m});
  float* pp = partial.data<float>();
  parallel_for(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t)
      add_rows(pp + t * m, widest, L.n[widest] * t / parts, L.n[widest] * (t + 1) / parts);
  });
  for (int64_t t = 0; t < parts; ++t)
    for (int64_t i = 0; i < m; ++i) po[i] += pp[t * m + i];
  return out;
}

// ---- axpy_ ------------------------------------------------------------------------------

void axpy_(Tensor& y, const Tensor& x, float alpha) {
  y.bump_version();
  check_same_shape(y, x, "axpy_");
  LRA_CHECK(y.is_contiguous(), ShapeError, "axpy_: destination must be contiguous");
  Tensor xc = x.contiguous();
  float* py = y.data<float>();
  const float* px = xc.data<float>();
  parallel_for(y.numel(), 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) py[i] += alpha * px[i];
  });
}

}  // namespace lra::kern
