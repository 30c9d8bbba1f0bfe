#include "key_mask.hpp"

#include <cmath>

#include "lra/autograd/ops.hpp"

namespace lra::attn::keymask {

Tensor checked(const nn::ForwardContext& ctx, int64_t B, int64_t n, const char* who) {
  if (!ctx.key_mask.defined()) return {};
  const Tensor& km = ctx.key_mask;
  LRA_CHECK(km.dtype() == DType::I32 && km.dim() == 2 && km.size(0) == B && km.size(1) == n,
            ShapeError, who, ": key_mask must be i32 (", B, ", ", n, ") = (batch, tokens), got ",
            km.describe());
  return km.contiguous();
}

namespace {
Tensor per_key(const Tensor& mask, const Dims& shape, float visible, float hidden) {
  const int64_t B = mask.size(0), n = mask.size(1);
  Tensor out = Tensor::empty(shape);
  const int32_t* m = mask.data<int32_t>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < B * n; ++i) o[i] = m[i] != 0 ? visible : hidden;
  return out;
}
}  // namespace

Tensor visible_rows(const Tensor& mask) {
  return per_key(mask, {mask.size(0), 1, mask.size(1), 1}, 1.0f, 0.0f);
}

Tensor score_bias(const Tensor& mask) {
  return per_key(mask, {mask.size(0), 1, 1, mask.size(1)}, 0.0f, -INFINITY);
}

Var zero_hidden_rows(const Var& x, const nn::ForwardContext& ctx, const char* who) {
  const Tensor km = checked(ctx, x.size(0), x.size(2), who);
  return km.defined() ? mul(x, Var(visible_rows(km))) : x;
}

bsa::Pattern masked(bsa::Pattern allowed, const Tensor& mask) {
  if (!mask.defined()) return allowed;
  const int32_t* ok = mask.data<int32_t>();
  const int64_t n = mask.size(1);
  return [allowed = std::move(allowed), mask, ok, n](int64_t b, int64_t h, int64_t i, int64_t j) {
    return ok[b * n + j] != 0 && allowed(b, h, i, j);
  };
}

}  // namespace lra::attn::keymask
