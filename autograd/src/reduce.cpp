// Reductions on Var, forward and backward side by side. x: any shape; axis reduced to N -> 1.
//
//   sum        y = sum_k x_k              dx_k = g
//   mean       y = sum_k x_k / N          dx_k = g / N
//   max        y = x_{k*}                 dx_k = g [k == k*]   (k* the first argmax; saves k*)
//   logsumexp  y = log sum_k exp(x_k)     dx_k = g exp(x_k - y)  (softmax; saves x and y)
//   sum_all    y = sum x  (shape [])      dx = g broadcast       mean_all: dx = g / numel
//
// g arrives without the reduced axis unless keepdim; unsqueezing it back and expanding gives a
// stride-0 view over x's shape, which the engine materialises when it accumulates.
#include "lra/autograd/ops.hpp"

namespace lra {
namespace {

// g (reduced along `axis`, with or without the kept 1) as a broadcast view over `shape`.
Tensor spread(const Tensor& g, const Dims& shape, int axis, bool keepdim) {
  return (keepdim ? g : g.unsqueeze(axis)).expand(shape);
}

}  // namespace

Var sum(const Var& x, int axis, bool keepdim) {
  int a = wrap_axis(axis, x.dim());
  return make_result(kern::sum(x.data(), a, keepdim), "sum", {x},
                     [shape = x.shape(), a, keepdim](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, spread(g, shape, a, keepdim));
                     });
}

Var mean(const Var& x, int axis, bool keepdim) {
  int a = wrap_axis(axis, x.dim());
  return make_result(kern::mean(x.data(), a, keepdim), "mean", {x},
                     [shape = x.shape(), a, keepdim](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       Tensor gs = kern::mul_scalar(g, 1.0f / float(shape[a]));
                       in.set(0, spread(gs, shape, a, keepdim));
                     });
}

// dx = zeros with g scattered to the argmax along the axis: dx[o, k*[o, i], i] = g[o, i].
Var max(const Var& x, int axis, bool keepdim) {
  int a = wrap_axis(axis, x.dim());
  Tensor idx = x.requires_grad() && grad_enabled() ? kern::argmax(x.data(), a) : Tensor();
  return make_result(kern::max(x.data(), a, keepdim), "max", {x},
                     [idx, shape = x.shape(), a](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       int64_t O = 1, N = shape[a], I = 1;
                       for (int d = 0; d < a; ++d) O *= shape[d];
                       for (int d = a + 1; d < shape.size(); ++d) I *= shape[d];
                       Tensor dx = Tensor::zeros(shape);
                       Tensor gc = g.contiguous();  // (O, I) row-major with or without the kept 1
                       const float* pg = gc.data<float>();
                       const int32_t* pk = idx.data<int32_t>();
                       float* pd = dx.data<float>();
                       for (int64_t o = 0; o < O; ++o)
                         for (int64_t i = 0; i < I; ++i)
                           pd[(o * N + pk[o * I + i]) * I + i] = pg[o * I + i];
                       in.set(0, dx);
                     });
}

Var logsumexp(const Var& x, int axis, bool keepdim) {
  int a = wrap_axis(axis, x.dim());
  Tensor y = kern::logsumexp(x.data(), a, keepdim);
  Tensor keep_x = x.requires_grad() ? x.data() : Tensor();
  return make_result(y, "logsumexp", {x}, [keep_x, y, a, keepdim](const Tensor& g, InputGrads& in) {
    if (!in.needs(0)) return;
    using kern::Binary;
    Tensor yk = keepdim ? y : y.unsqueeze(a), gk = keepdim ? g : g.unsqueeze(a);
    Tensor p = kern::unary(kern::Unary::Exp, kern::binary(Binary::Sub, keep_x, yk));
    in.set(0, kern::binary(Binary::Mul, p, gk));
  });
}

Var sum_all(const Var& x) {
  return make_result(Tensor::scalar(kern::sum_all(x.data())), "sum_all", {x},
                     [shape = x.shape()](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, g.expand(shape));
                     });
}

Var mean_all(const Var& x) {
  float inv = 1.0f / float(x.data().numel());
  return make_result(Tensor::scalar(kern::sum_all(x.data()) * inv), "mean_all", {x},
                     [shape = x.shape(), inv](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, kern::mul_scalar(g, inv).expand(shape));
                     });
}

}  // namespace lra
