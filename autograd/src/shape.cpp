// Shape ops on Var. The forward is a view sharing x's storage (reshape of a strided x and
// concat copy); the backward undoes the view on the gradient.
//
//   reshape    y = x viewed as `shape`     dx = g reshaped to x's shape
//   permute    y = x with axes `order`     dx = g permuted by the inverse order
//   transpose  y = x with a <-> b          dx = g with a <-> b
//   slice      y = x[.., start:end, ..]    dx = zeros(x) with g written into the slice
//   unsqueeze  y = x with a 1 at axis      dx = g squeezed at axis
//   expand     y = x broadcast to shape    dx = sum_to(g, x's shape)
//   contiguous y = x (copied if strided)   dx = g
//   concat     y = [x0 | x1 | ..] on axis  dx_i = g[.., off_i : off_i + n_i, ..]
#include "lra/autograd/ops.hpp"

namespace lra {

Var reshape(const Var& x, const Dims& shape) {
  return make_view_result(x.data().reshape(shape), "reshape", x,
                          [sx = x.shape()](const Tensor& g, InputGrads& in) {
                            if (in.needs(0)) in.set(0, g.reshape(sx));
                          });
}

Var permute(const Var& x, const std::vector<int>& order) {
  Tensor y = x.data().permute(order);  // validates order
  std::vector<int> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[size_t(wrap_axis(order[i], x.dim()))] = int(i);
  return make_view_result(y, "permute", x, [inverse](const Tensor& g, InputGrads& in) {
    if (in.needs(0)) in.set(0, g.permute(inverse));
  });
}

Var transpose(const Var& x, int a, int b) {
  return make_view_result(x.data().transpose(a, b), "transpose", x,
                          [a, b](const Tensor& g, InputGrads& in) {
                            if (in.needs(0)) in.set(0, g.transpose(a, b));
                          });
}

Var slice(const Var& x, int axis, int64_t start, int64_t end) {
  int a = wrap_axis(axis, x.dim());
  return make_result(x.data().slice(a, start, end), "slice", {x},
                     [sx = x.shape(), a, start, end](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       Tensor dx = Tensor::zeros(sx);
                       Tensor part = dx.slice(a, start, end);
                       part.copy_(g);
                       in.set(0, dx);
                     });
}

Var unsqueeze(const Var& x, int axis) {
  int a = wrap_axis(axis, x.dim() + 1);
  return make_view_result(x.data().unsqueeze(a), "unsqueeze", x,
                          [a](const Tensor& g, InputGrads& in) {
                            if (in.needs(0)) in.set(0, g.squeeze(a));
                          });
}

Var expand(const Var& x, const Dims& shape) {
  return make_result(x.data().expand(shape), "expand", {x},
                     [sx = x.shape()](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, g.shape() == sx ? g : kern::sum_to(g, sx));
                     });
}

Var contiguous(const Var& x) {
  return make_result(x.data().contiguous(), "contiguous", {x}, [](const Tensor& g, InputGrads& in) {
    if (in.needs(0)) in.set(0, g);
  });
}

// Forward copies each part into its slice of a fresh output (any layout, Tensor::copy_);
// backward hands each part a view of g's matching slice.
Var concat(const std::vector<Var>& parts, int axis) {
  LRA_CHECK(!parts.empty(), ShapeError, "concat: no parts");
  const Dims& first = parts[0].shape();
  int a = wrap_axis(axis, first.size());
  Dims shape = first;
  shape[a] = 0;
  std::vector<int64_t> offsets;
  for (const Var& p : parts) {
    const Dims& s = p.shape();
    bool same = s.size() == first.size();
    for (int d = 0; same && d < s.size(); ++d) same = d == a || s[d] == first[d];
    LRA_CHECK(same && p.data().dtype() == DType::F32, ShapeError, "concat: part ",
              p.data().describe(), " does not match ", parts[0].data().describe(), " outside axis ",
              a);
    offsets.push_back(shape[a]);
    shape[a] += s[a];
  }
  Tensor out = Tensor::empty(shape);
  for (size_t i = 0; i < parts.size(); ++i) {
    Tensor dst = out.slice(a, offsets[i], offsets[i] + parts[i].size(a));
    dst.copy_(parts[i].data());
  }
  std::vector<int64_t> sizes;
  for (const Var& p : parts) sizes.push_back(p.size(a));
  return make_result(out, "concat", parts, [a, offsets, sizes](const Tensor& g, InputGrads& in) {
    for (size_t i = 0; i < offsets.size(); ++i)
      if (in.needs(i)) in.set(i, g.slice(a, offsets[i], offsets[i] + sizes[i]));
  });
}

}  // namespace lra
