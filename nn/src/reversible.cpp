// Reversible residual layers: forward without a graph, backward by recomputation, layer by
// layer from the top (equations in lra/nn/reversible.hpp).
#include "lra/nn/reversible.hpp"

#include "lra/autograd/ops.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"

namespace lra::nn {

using kern::Binary;

// y1 = x1 + F(x2);  y2 = x2 + G(y1)
void ReversibleBlock::forward(Var& s1, Var& s2, const Tensor& lengths,
                              const ForwardContext& ctx) const {
  LRA_CHECK(s1.dim() == 3 && s1.shape() == s2.shape(), ShapeError, "ReversibleBlock '", path(),
            "': expected two (B, N, D) streams, got ", s1.data().describe(), " and ",
            s2.data().describe());
  s1 = add(s1, attend(s2, lengths, ctx));
  s2 = add(s2, feed_forward(s1, ctx));
}

// x2 = y2 − G(y1), dy1 += ∂G/∂y1ᵀ dy2;  x1 = y1 − F(x2), dx2 = dy2 + ∂F/∂x2ᵀ dy1
void ReversibleBlock::reverse(Tensor& s1, Tensor& s2, Tensor& g1, Tensor& g2, const Tensor& lengths,
                              const ForwardContext& ctx) const {
  EnableGradGuard grad_on;  // backward may run under no_grad; the local graphs need recording
  Tensor x2;
  {
    Var y1 = Var::param(s1);
    Var g = feed_forward(y1, ctx);
    if (g.requires_grad()) g.backward(g2);  // releases G's graph as it goes
    x2 = kern::binary(Binary::Sub, s2, g.data());
    if (y1.grad().defined()) g1 = kern::binary(Binary::Add, g1, y1.grad());
  }
  Var x2v = Var::param(x2);
  Var f = attend(x2v, lengths, ctx);
  if (f.requires_grad()) f.backward(g1);
  s1 = kern::binary(Binary::Sub, s1, f.data());
  s2 = x2;
  if (x2v.grad().defined()) g2 = kern::binary(Binary::Add, g2, x2v.grad());
}

ReversibleEncoder::ReversibleEncoder(int64_t dim, int64_t mlp_dim, int layers, float dropout,
                                     const MixerFactory& make_mixer, uint64_t init_key) {
  LRA_CHECK(layers > 0, ConfigError, "ReversibleEncoder: number of layers must be positive (got ",
            layers, ")");
  LRA_CHECK(bool(make_mixer), ConfigError, "ReversibleEncoder: no mixer factory given");
  for (int i = 0; i < layers; ++i) {
    uint64_t key = rng_key(init_key, {rng_tag("block"), uint64_t(i)});  // as Encoder's
    blocks_.push_back(register_module(
        "rev_blocks." + std::to_string(i),
        std::make_unique<ReversibleBlock>(dim, mlp_dim, dropout, make_mixer(i), key)));
  }
  ln_ = register_module("ln", std::make_unique<LayerNorm>(dim));
}

Var ReversibleEncoder::forward(const Var& x, const Tensor& lengths,
                               const ForwardContext& ctx) const {
  LRA_CHECK(x.dim() == 3, ShapeError, "ReversibleEncoder '", path(),
            "': expected (B, N, D) input, got ", x.data().describe());
  Tensor y1, y2;
  {
    NoGradGuard no_grad;
    Var s1(x.data()), s2(x.data());
    for (const ReversibleBlock* b : blocks_) b->forward(s1, s2, lengths, ctx);
    y1 = s1.data();
    y2 = s2.data();
  }
  Tensor mean = kern::mul_scalar(kern::binary(Binary::Add, y1, y2), 0.5f);
  // The parameters are inputs only so that the node records history when x needs no
  // gradient; reverse() accumulates their gradients directly (their slots stay empty).
  std::vector<Var> inputs{x};
  for (const ReversibleBlock* b : blocks_)
    for (Var& p : b->parameters()) inputs.push_back(p);
  Var streams = make_result(mean, "reversible", std::move(inputs),
                            [this, y1, y2, lengths, ctx](const Tensor& gy, InputGrads& out) {
                              Tensor dx = backward_streams(y1, y2, gy, lengths, ctx);
                              if (out.needs(0)) out.set(0, std::move(dx));
                            });
  return ln_->forward(streams);
}

// d(y1 + y2)/2 -> layers top down -> dx = dx1 + dx2 (x1 = x2 = x).
Tensor ReversibleEncoder::backward_streams(Tensor s1, Tensor s2, const Tensor& gy,
                                           const Tensor& lengths, const ForwardContext& ctx) const {
  Tensor g1 = kern::mul_scalar(gy, 0.5f), g2 = g1;  // never written in place
  for (auto b = blocks_.rbegin(); b != blocks_.rend(); ++b)
    (*b)->reverse(s1, s2, g1, g2, lengths, ctx);
  return kern::binary(Binary::Add, g1, g2);
}

Var ReversibleEncoder::forward_stored(const Var& x, const Tensor& lengths,
                                      const ForwardContext& ctx) const {
  Var s1 = x, s2 = x;
  for (const ReversibleBlock* b : blocks_) b->forward(s1, s2, lengths, ctx);
  return ln_->forward(mul(add(s1, s2), 0.5f));
}

ReversibleBlock& ReversibleEncoder::block(int i) {
  LRA_CHECK(i >= 0 && i < num_layers(), ConfigError, "ReversibleEncoder '", path(), "': block ", i,
            " out of range (", num_layers(), " layers)");
  return *blocks_[size_t(i)];
}

}  // namespace lra::nn
