// LayerNorm over the last axis (flax defaults: eps 1e-6, scale 1, bias 0).
#include "lra/autograd/ops.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

LayerNorm::LayerNorm(int64_t dim, float eps) : eps_(eps) {
  LRA_CHECK(dim > 0, ConfigError, "LayerNorm: dim must be positive (got ", dim, ")");
  LRA_CHECK(eps > 0, ConfigError, "LayerNorm: eps must be positive (got ", eps, ")");
  weight_ = register_parameter("weight", Tensor::ones({dim}));
  bias_ = register_parameter("bias", Tensor::zeros({dim}));
}

Var LayerNorm::forward(const Var& x) const {
  LRA_CHECK(x.dim() >= 1 && x.size(-1) == weight_.size(0), ShapeError, "LayerNorm '", path(),
            "': expected (..., ", weight_.size(0), ") input, got ", x.data().describe());
  return layer_norm(x, weight_, bias_, eps_);
}

}  // namespace lra::nn
