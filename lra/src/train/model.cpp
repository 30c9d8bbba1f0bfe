#include "lra/lra/train/model.hpp"

#include <cmath>
#include <cstring>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"

namespace lra {

void ModelConfig::validate() const {
  LRA_CHECK(vocab > 0, ConfigError, "model: vocab must be positive (got ", vocab, ")");
  LRA_CHECK(max_len > 0, ConfigError, "model: max_len must be positive (got ", max_len, ")");
  LRA_CHECK(dim > 0 && mlp_dim > 0 && layers > 0, ConfigError,
            "model: dim, mlp_dim and layers must be positive");
  LRA_CHECK(heads > 0 && qkv_dim % heads == 0, ConfigError, "model: qkv_dim ", qkv_dim,
            " must be a multiple of heads ", heads);
  LRA_CHECK(classes >= 2, ConfigError, "model: classes must be >= 2");
  LRA_CHECK(positions != nn::Positions::Sinusoidal2D ||
                position_grid_side() * position_grid_side() == max_len,
            ConfigError, "model: positions=sinusoidal2d needs a square image, but max_len ",
            max_len,
            " is not a square number; use it on the pixel tasks (image, pathfinder, "
            "pathx) at their full length, or use positions=learned");
  LRA_CHECK(dropout >= 0 && dropout < 1 && attn_dropout >= 0 && attn_dropout < 1, ConfigError,
            "model: dropout rates must be in [0, 1)");
}

int64_t ModelConfig::position_grid_side() const {
  if (positions != nn::Positions::Sinusoidal2D) return 0;
  auto side = int64_t(std::sqrt(double(max_len)));
  while (side * side > max_len) --side;
  while ((side + 1) * (side + 1) <= max_len) ++side;
  return side;
}

LraModel::LraModel(const ModelConfig& cfg) : cfg_(cfg) {
  cfg_.validate();
  auto key = [&](const char* what) { return rng_key(cfg.seed, {rng_tag("init"), rng_tag(what)}); };
  int64_t table = cfg.vocab + (cfg.uses_cls() ? 1 : 0);
  embedding_ = register_module("embedding",
                               std::make_unique<nn::Embedding>(table, cfg.dim, key("embedding")));
  if (cfg.positions == nn::Positions::Learned)
    learned_pos_ = register_module("positions", std::make_unique<nn::LearnedPositions>(
                                                    cfg.encoder_len(), cfg.dim, key("positions")));
  else
    fixed_pos_ =
        register_module("positions", std::make_unique<nn::SinusoidalPositions>(
                                         cfg.encoder_len(), cfg.dim, cfg.position_grid_side()));
  embed_dropout_ = register_module("embed_dropout", std::make_unique<nn::Dropout>(cfg.dropout));

  nn::MixerFactory make_mixer = [cfg, key](int layer) -> std::unique_ptr<nn::TokenMixer> {
    attn::MechanismOptions o;
    o.dim = cfg.dim;
    o.heads = cfg.heads;
    o.qkv_dim = cfg.qkv_dim;
    o.max_len = cfg.encoder_len();
    o.attn_dropout = cfg.attn_dropout;
    o.layer = layer;
    o.init_key = rng_key(key("mixer"), {uint64_t(layer)});
    o.params = cfg.mechanism_params;
    return attn::make_mechanism(cfg.mechanism, o);
  };
  if (cfg.reversible)
    rev_encoder_ = register_module(
        "encoder", std::make_unique<nn::ReversibleEncoder>(
                       cfg.dim, cfg.mlp_dim, cfg.layers, cfg.dropout, make_mixer, key("encoder")));
  else
    encoder_ = register_module(
        "encoder", std::make_unique<nn::Encoder>(cfg.dim, cfg.mlp_dim, cfg.layers, cfg.dropout,
                                                 make_mixer, key("encoder")));
  int64_t in = cfg.dual ? 2 * cfg.dim : cfg.dim;
  head1_ = register_module("head.fc1",
                           std::make_unique<nn::Linear>(in, cfg.mlp_dim, true, key("head1")));
  if (cfg.dual) {
    int64_t half = std::max<int64_t>(1, cfg.mlp_dim / 2);
    head2_ = register_module("head.fc2",
                             std::make_unique<nn::Linear>(cfg.mlp_dim, half, true, key("head2")));
    head3_ = register_module("head.fc3",
                             std::make_unique<nn::Linear>(half, cfg.classes, true, key("head3")));
  } else {
    head2_ = register_module(
        "head.fc2", std::make_unique<nn::Linear>(cfg.mlp_dim, cfg.classes, true, key("head2")));
  }
}

Var LraModel::embed(const Tensor& tokens, const Tensor& lengths, Tensor* lengths_out,
                    const nn::ForwardContext& ctx) {
  LRA_CHECK(tokens.dim() == 2 && tokens.dtype() == DType::I32, ShapeError,
            "model: tokens must be i32 (B, N), got ", tokens.describe());
  LRA_CHECK(tokens.size(1) <= cfg_.max_len, ShapeError, "model: sequence of ", tokens.size(1),
            " tokens exceeds the model's max_len ", cfg_.max_len);
  Tensor ids = tokens.contiguous();
  Tensor lens = lengths.contiguous();
  if (cfg_.uses_cls()) {  // prepend the CLS id: (B, N) -> (B, N + 1)
    int64_t b = ids.size(0), n = ids.size(1);
    Tensor with_cls = Tensor::empty({b, n + 1}, DType::I32);
    Tensor new_lens = Tensor::empty({b}, DType::I32);
    for (int64_t i = 0; i < b; ++i) {
      int32_t* row = with_cls.data<int32_t>() + i * (n + 1);
      row[0] = int32_t(cfg_.cls_id());
      std::memcpy(row + 1, ids.data<int32_t>() + i * n, size_t(n) * 4);
      new_lens.data<int32_t>()[i] = lens.data<int32_t>()[i] + 1;
    }
    ids = with_cls;
    lens = new_lens;
  }
  Var x = embedding_->forward(ids);
  x = learned_pos_ ? learned_pos_->forward(x) : fixed_pos_->forward(x);
  if (lengths_out) *lengths_out = lens;
  return embed_dropout_->forward(x, ctx);
}

// Key mask (B, N') i32 of mask_zero_tokens: 1 where the token id is not 0 (and on CLS).
static Tensor nonzero_token_mask(const Tensor& tokens, bool with_cls) {
  const Tensor ids = tokens.contiguous();
  const int64_t b = ids.size(0), n = ids.size(1), off = with_cls ? 1 : 0;
  Tensor mask = Tensor::empty({b, n + off}, DType::I32);
  const int32_t* src = ids.data<int32_t>();
  int32_t* dst = mask.data<int32_t>();
  for (int64_t i = 0; i < b; ++i) {
    if (with_cls) dst[i * (n + 1)] = 1;
    for (int64_t j = 0; j < n; ++j) dst[i * (n + off) + off + j] = src[i * n + j] != 0;
  }
  return mask;
}

Var LraModel::encode(const Tensor& tokens, const Tensor& lengths, const nn::ForwardContext& ctx) {
  Tensor lens;
  Var x = embed(tokens, lengths, &lens, ctx);
  nn::ForwardContext c = ctx;
  if (cfg_.mask_zero_tokens) c.key_mask = nonzero_token_mask(tokens, cfg_.uses_cls());
  Var h = rev_encoder_ ? rev_encoder_->forward(x, lens, c) : encoder_->forward(x, lens, c);
  return nn::pool(h, lens, cfg_.pooling);
}

Var LraModel::forward(const data::Batch& batch, const nn::ForwardContext& ctx) {
  Var pooled = encode(batch.tokens, batch.lengths, ctx);
  if (cfg_.dual) {
    LRA_CHECK(batch.tokens2.defined(), ShapeError,
              "model: a dual-tower model needs a second document per example");
    pooled = concat({pooled, encode(batch.tokens2, batch.lengths2, ctx)}, 1);
    Var h = relu(head1_->forward(pooled));
    return head3_->forward(relu(head2_->forward(h)));
  }
  return head2_->forward(relu(head1_->forward(pooled)));
}

attn::MultiHeadAttention& LraModel::attention(int layer) {
  nn::TokenMixer& m =
      rev_encoder_ ? rev_encoder_->block(layer).mixer() : encoder_->block(layer).mixer();
  return static_cast<attn::MultiHeadAttention&>(m);
}

nn::Encoder& LraModel::encoder() {
  LRA_CHECK(encoder_ != nullptr, ConfigError,
            "model: this model is reversible (reversible=true); its encoder is "
            "reversible_encoder()");
  return *encoder_;
}

nn::ReversibleEncoder& LraModel::reversible_encoder() {
  LRA_CHECK(rev_encoder_ != nullptr, ConfigError,
            "model: this model is not reversible (reversible=false); its encoder is encoder()");
  return *rev_encoder_;
}

}  // namespace lra
