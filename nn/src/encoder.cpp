// Pre-LN encoder blocks and the encoder stack (LRA transformer.py, every xformer copies it).
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

EncoderBlock::EncoderBlock(int64_t dim, int64_t mlp_dim, float dropout,
                           std::unique_ptr<TokenMixer> mixer, uint64_t init_key) {
  LRA_CHECK(mixer != nullptr, ConfigError, "EncoderBlock: no token mixer given");
  ln1_ = register_module("ln1", std::make_unique<LayerNorm>(dim));
  mixer_ = register_module("mixer", std::move(mixer));
  drop_ = register_module("dropout", std::make_unique<Dropout>(dropout));
  ln2_ = register_module("ln2", std::make_unique<LayerNorm>(dim));
  mlp_ = register_module(
      "mlp", std::make_unique<MLP>(dim, mlp_dim, dropout, rng_key(init_key, {rng_tag("mlp")})));
}

Var EncoderBlock::forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) const {
  LRA_CHECK(x.dim() == 3, ShapeError, "EncoderBlock '", path(), "': expected (B, N, D) input, got ",
            x.data().describe());
  Var h = add(x, attend(x, lengths, ctx));
  return add(h, feed_forward(h, ctx));
}

Var EncoderBlock::attend(const Var& h, const Tensor& lengths, const ForwardContext& ctx) const {
  return drop_->forward(mixer_->forward(ln1_->forward(h), lengths, ctx), ctx);
}

Var EncoderBlock::feed_forward(const Var& h, const ForwardContext& ctx) const {
  return mlp_->forward(ln2_->forward(h), ctx);
}

Encoder::Encoder(int64_t dim, int64_t mlp_dim, int layers, float dropout,
                 const MixerFactory& make_mixer, uint64_t init_key) {
  LRA_CHECK(layers > 0, ConfigError, "Encoder: number of layers must be positive (got ", layers,
            ")");
  LRA_CHECK(bool(make_mixer), ConfigError, "Encoder: no mixer factory given");
  for (int i = 0; i < layers; ++i) {
    uint64_t key = rng_key(init_key, {rng_tag("block"), uint64_t(i)});
    blocks_.push_back(
        register_module("blocks." + std::to_string(i),
                        std::make_unique<EncoderBlock>(dim, mlp_dim, dropout, make_mixer(i), key)));
  }
  ln_ = register_module("ln", std::make_unique<LayerNorm>(dim));
}

Var Encoder::forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) const {
  Var h = x;
  for (const EncoderBlock* b : blocks_) h = b->forward(h, lengths, ctx);
  return ln_->forward(h);
}

EncoderBlock& Encoder::block(int i) {
  LRA_CHECK(i >= 0 && i < num_layers(), ConfigError, "Encoder '", path(), "': block ", i,
            " out of range (", num_layers(), " layers)");
  return *blocks_[size_t(i)];
}

}  // namespace lra::nn
