#include "lra/attention/multihead.hpp"

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"

namespace lra::attn {

MultiHeadAttention::MultiHeadAttention(const MechanismOptions& opt)
    : heads_(opt.heads), head_dim_(opt.head_dim()), attn_dropout_(opt.attn_dropout) {
  LRA_CHECK(opt.heads > 0 && opt.qkv_dim % opt.heads == 0, ConfigError, "qkv_dim ", opt.qkv_dim,
            " must be a positive multiple of heads ", opt.heads);
  auto key = [&](const char* w) { return rng_key(opt.init_key, {rng_tag(w)}); };
  wq_ = register_module("wq", std::make_unique<nn::Linear>(opt.dim, opt.qkv_dim, false, key("wq")));
  wk_ = register_module("wk", std::make_unique<nn::Linear>(opt.dim, opt.qkv_dim, false, key("wk")));
  wv_ = register_module("wv", std::make_unique<nn::Linear>(opt.dim, opt.qkv_dim, false, key("wv")));
  wo_ = register_module("wo", std::make_unique<nn::Linear>(opt.qkv_dim, opt.dim, false, key("wo")));
}

Var MultiHeadAttention::split_heads(const Var& y) const {
  int64_t b = y.size(0), n = y.size(1);
  return permute(reshape(y, {b, n, heads_, head_dim_}), {0, 2, 1, 3});
}

Var MultiHeadAttention::merge_heads(const Var& o) const {
  int64_t b = o.size(0), n = o.size(2);
  return reshape(permute(o, {0, 2, 1, 3}), {b, n, heads_ * head_dim_});
}

void MultiHeadAttention::check_key_mask(const Var& x, const nn::ForwardContext& ctx) const {
  const Tensor& km = ctx.key_mask;
  LRA_CHECK(!km.defined() || (km.dtype() == DType::I32 && km.dim() == 2 &&
                              km.size(0) == x.size(0) && km.size(1) == x.size(1)),
            ShapeError, name(), ": key_mask (mask_zero_tokens) must be i32 (", x.size(0), ", ",
            x.size(1), ") = (batch, tokens) for input ", x.data().describe(), ", got ",
            km.describe());
}

Var MultiHeadAttention::forward(const Var& x, const Tensor& lengths,
                                const nn::ForwardContext& ctx) {
  check_key_mask(x, ctx);
  Var q = project_q(x), k = project_k(x), v = project_v(x);
  return project_out(attend(q, k, v, lengths, ctx));
}

}  // namespace lra::attn
