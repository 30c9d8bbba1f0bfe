// Linear (flax Dense): y = x W + b with W (in, out) xavier-uniform and b N(0, 1e-6).
#include <cmath>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

Linear::Linear(int64_t in, int64_t out, bool bias, uint64_t init_key) : in_(in), out_(out) {
  LRA_CHECK(in > 0 && out > 0, ConfigError, "Linear: in and out features must be positive (got ",
            in, " -> ", out, ")");
  // Xavier (Glorot) uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
  Tensor w = Tensor::empty({in, out});
  float a = std::sqrt(6.0f / float(in + out));
  fill_uniform(w, rng_key(init_key, {rng_tag("weight")}), -a, a);
  weight_ = register_parameter("weight", w);
  if (bias) {
    Tensor b = Tensor::empty({out});
    fill_normal(b, rng_key(init_key, {rng_tag("bias")}), 0.0f, 1e-6f);
    bias_ = register_parameter("bias", b);
  }
}

// Leading axes are flattened into rows so the product is one GEMM (rows, in) x (in, out).
Var Linear::forward(const Var& x) const {
  LRA_CHECK(x.dim() >= 1 && x.size(-1) == in_, ShapeError, "Linear '", path(), "': expected (..., ",
            in_, ") input, got ", x.data().describe());
  Dims lead = x.shape();
  lead.erase(lead.size() - 1);
  int64_t rows = lead.numel();
  Var y = matmul(x.dim() == 2 ? x : reshape(x, {rows, in_}), weight_);
  if (bias_.defined()) y = add(y, bias_);
  if (x.dim() == 2) return y;
  Dims out_shape = lead;
  out_shape.push_back(out_);
  return reshape(y, out_shape);
}

}  // namespace lra::nn
