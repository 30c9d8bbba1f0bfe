// softmax and log_softmax over the last axis. Both save only their output y (B, ..., N).
//
//   softmax      y = softmax(s x) with padded keys at 0    dx = s * y * (g - rowsum(g * y))
//   log_softmax  y = x - logsumexp(x)                      dx = g - exp(y) * rowsum(g)
#include "lra/autograd/ops.hpp"

namespace lra {

Var softmax(const Var& x, const Tensor& lengths, float scale) {
  Tensor y = kern::softmax(x.data(), lengths, scale);
  return make_result(y, "softmax", {x}, [y, scale](const Tensor& g, InputGrads& in) {
    if (in.needs(0)) in.set(0, kern::softmax_backward(y, g, scale));
  });
}

Var log_softmax(const Var& x) {
  Tensor y = kern::log_softmax(x.data());
  return make_result(y, "log_softmax", {x}, [y](const Tensor& g, InputGrads& in) {
    if (in.needs(0)) in.set(0, kern::log_softmax_backward(y, g));
  });
}

}  // namespace lra
