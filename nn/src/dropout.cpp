// Dropout keyed by (seed, step, module path): reproducible and independent of thread count.
#include "lra/autograd/ops.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

Dropout::Dropout(float p) : p_(p) {
  LRA_CHECK(p >= 0.0f && p < 1.0f, ConfigError, "Dropout: rate must be in [0, 1), got ", p);
}

Var Dropout::forward(const Var& x, const ForwardContext& ctx) const {
  if (!ctx.training || p_ == 0.0f) return x;
  return dropout(x, p_, ctx.key(path()), true, ctx.counter0(x.data().numel()));
}

}  // namespace lra::nn
