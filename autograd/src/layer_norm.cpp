// layer_norm over the last axis: y = gamma * (x - mean) * rstd + beta.
// Saves x, gamma, and the per-row mean and rstd (rows); the fused kern::layer_norm_backward
// gives dx, dgamma and dbeta in one pass. gamma or beta may be undefined Vars (1 and 0).
#include "lra/autograd/ops.hpp"

namespace lra {

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps) {
  const Tensor g = gamma.defined() ? gamma.data() : Tensor();
  const Tensor b = beta.defined() ? beta.data() : Tensor();
  kern::LayerNormOut out = kern::layer_norm(x.data(), g, b, eps);
  const Dims b_shape = b.defined() ? b.shape() : Dims();
  auto backward = [x = x.data(), g, b_shape, mean = out.mean, rstd = out.rstd](const Tensor& gy,
                                                                               InputGrads& in) {
    kern::LayerNormGrads d = kern::layer_norm_backward(x, g, mean, rstd, gy);
    if (in.needs(0)) in.set(0, d.dx);
    if (in.needs(1)) in.set(1, d.dgamma.view(g.shape()));  // gamma may be (1, D) etc.
    if (in.needs(2)) in.set(2, d.dbeta.view(b_shape));
  };
  return make_result(out.y, "layer_norm", {x, gamma, beta}, backward);
}

}  // namespace lra
