// Elementwise ops on Var: forward with kern::, backward side by side.
//
//   add   c = a + b     da = sum_to(g, a)          db = sum_to(g, b)
//   sub   c = a - b     da = sum_to(g, a)          db = -sum_to(g, b)
//   mul   c = a * b     da = sum_to(g * b, a)      db = sum_to(g * a, b)
//   div   c = a / b     da = sum_to(g / b, a)      db = -sum_to(g * c / b, b)
//   unary y = f(x)      dx = g * f'(x)             (kern::unary_backward; saves x or y)
//
// Broadcasting: a (B, N, D) + b (D) gives c (B, N, D); b's gradient is g summed over B and N
// (kern::sum_to). Closures save only the tensors their derivative reads, and only when the
// input that needs them wants a gradient.
#include "lra/autograd/ops.hpp"

namespace lra {
namespace {

// g summed down to `shape` (no work when no broadcasting happened).
Tensor reduce_to(const Tensor& g, const Dims& shape) {
  return g.shape() == shape ? g : kern::sum_to(g, shape);
}

Tensor saved_if(bool keep, const Tensor& t) {
  return keep ? t : Tensor();
}

}  // namespace

Var add(const Var& a, const Var& b) {
  Tensor out = kern::binary(kern::Binary::Add, a.data(), b.data());
  return make_result(out, "add", {a, b},
                     [sa = a.shape(), sb = b.shape()](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, reduce_to(g, sa));
                       if (in.needs(1)) in.set(1, reduce_to(g, sb));
                     });
}

Var sub(const Var& a, const Var& b) {
  Tensor out = kern::binary(kern::Binary::Sub, a.data(), b.data());
  return make_result(out, "sub", {a, b},
                     [sa = a.shape(), sb = b.shape()](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, reduce_to(g, sa));
                       if (in.needs(1)) in.set(1, kern::mul_scalar(reduce_to(g, sb), -1.0f));
                     });
}

Var mul(const Var& a, const Var& b) {
  Tensor out = kern::binary(kern::Binary::Mul, a.data(), b.data());
  Tensor keep_b = saved_if(a.requires_grad(), b.data());  // da reads b
  Tensor keep_a = saved_if(b.requires_grad(), a.data());  // db reads a
  return make_result(
      out, "mul", {a, b},
      [keep_a, keep_b, sa = a.shape(), sb = b.shape()](const Tensor& g, InputGrads& in) {
        using kern::Binary;
        if (in.needs(0)) in.set(0, reduce_to(kern::binary(Binary::Mul, g, keep_b), sa));
        if (in.needs(1)) in.set(1, reduce_to(kern::binary(Binary::Mul, g, keep_a), sb));
      });
}

Var div(const Var& a, const Var& b) {
  Tensor out = kern::binary(kern::Binary::Div, a.data(), b.data());
  Tensor keep_b = b.data();  // both derivatives divide by b
  Tensor keep_c = saved_if(b.requires_grad(), out);
  return make_result(
      out, "div", {a, b},
      [keep_b, keep_c, sa = a.shape(), sb = b.shape()](const Tensor& g, InputGrads& in) {
        using kern::Binary;
        Tensor gb = kern::binary(Binary::Div, g, keep_b);  // g / b
        if (in.needs(0)) in.set(0, reduce_to(gb, sa));
        if (in.needs(1)) {
          Tensor t = kern::binary(Binary::Mul, gb, keep_c);  // g c / b
          in.set(1, kern::mul_scalar(reduce_to(t, sb), -1.0f));
        }
      });
}

Var add(const Var& a, float s) {
  return make_result(kern::add_scalar(a.data(), s), "add_scalar", {a},
                     [](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, g);
                     });
}

Var mul(const Var& a, float s) {
  return make_result(kern::mul_scalar(a.data(), s), "mul_scalar", {a},
                     [s](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, kern::mul_scalar(g, s));
                     });
}

// ---- unary: the kernel's derivative reads x for these ops, y for the others (neg: neither).
Var unary(kern::Unary op, const Var& x) {
  using kern::Unary;
  Tensor y = kern::unary(op, x.data());
  bool reads_x = op == Unary::Log || op == Unary::Gelu || op == Unary::Silu || op == Unary::Abs ||
                 op == Unary::Square;
  bool reads_y = !reads_x && op != Unary::Neg;
  Tensor keep_x = saved_if(reads_x && x.requires_grad(), x.data());
  Tensor keep_y = saved_if(reads_y && x.requires_grad(), y);
  return make_result(y, kern::unary_name(op), {x},
                     [op, keep_x, keep_y](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, kern::unary_backward(op, keep_x, keep_y, g));
                     });
}

Var neg(const Var& x) {
  return unary(kern::Unary::Neg, x);
}
Var exp(const Var& x) {
  return unary(kern::Unary::Exp, x);
}
Var log(const Var& x) {
  return unary(kern::Unary::Log, x);
}
Var sqrt(const Var& x) {
  return unary(kern::Unary::Sqrt, x);
}
Var rsqrt(const Var& x) {
  return unary(kern::Unary::Rsqrt, x);
}
Var tanh(const Var& x) {
  return unary(kern::Unary::Tanh, x);
}
Var relu(const Var& x) {
  return unary(kern::Unary::Relu, x);
}
Var gelu(const Var& x) {
  return unary(kern::Unary::Gelu, x);
}
Var elu(const Var& x) {
  return unary(kern::Unary::Elu, x);
}
Var sigmoid(const Var& x) {
  return unary(kern::Unary::Sigmoid, x);
}
Var silu(const Var& x) {
  return unary(kern::Unary::Silu, x);
}
Var square(const Var& x) {
  return unary(kern::Unary::Square, x);
}

}  // namespace lra
