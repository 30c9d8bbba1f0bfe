// Transformer feed-forward block: Dense -> GELU -> Dropout -> Dense -> Dropout.
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

MLP::MLP(int64_t dim, int64_t hidden, float dropout, uint64_t init_key) {
  fc1_ = register_module(
      "fc1", std::make_unique<Linear>(dim, hidden, true, rng_key(init_key, {rng_tag("fc1")})));
  drop1_ = register_module("dropout1", std::make_unique<Dropout>(dropout));
  fc2_ = register_module(
      "fc2", std::make_unique<Linear>(hidden, dim, true, rng_key(init_key, {rng_tag("fc2")})));
  drop2_ = register_module("dropout2", std::make_unique<Dropout>(dropout));
}

Var MLP::forward(const Var& x, const ForwardContext& ctx) const {
  Var h = drop1_->forward(gelu(fc1_->forward(x)), ctx);
  return drop2_->forward(fc2_->forward(h), ctx);
}

}  // namespace lra::nn
