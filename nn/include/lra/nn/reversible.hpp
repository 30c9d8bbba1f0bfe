// Reversible residual layers (RevNet coupling, Gomez et al. 2017, as Reformer uses them:
// Kitaev, Kaiser & Levskaya 2020, section 3): activations are recomputed in backward, so the
// activation memory of the encoder stops growing with depth.
//
//   x (B, N, D) -> x1 = x2 = x                                  two streams, (B, N, D) each
//   layer l:  y1 = x1 + F_l(x2)      F_l(h) = Dropout(mixer(LN1(h), lengths))
//             y2 = x2 + G_l(y1)      G_l(h) = MLP(LN2(h))
//   out = LN((y1 + y2) / 2)                                     (B, N, D)
//
// Combining the streams: Trax concatenates [y1; y2] (width 2D) before its final norm; here
// the mean keeps width D, so pooling and head are those of the standard encoder.
//
// Backward, top layer first, from (y1, y2) and the output gradients (dy1, dy2):
//   G = G_l(y1) recomputed on a leaf copy of y1, backward(G, dy2)  -> dθ_G, ∂y1
//   x2 = y2 − G,  dy1 += ∂y1
//   F = F_l(x2) recomputed on a leaf copy of x2, backward(F, dy1)  -> dθ_F, ∂x2
//   x1 = y1 − F,  dx1 = dy1,  dx2 = dy2 + ∂x2
// and dx = dx1 + dx2 below layer 0 (dy1 = dy2 = dout / 2 above the top layer).
//
// Memory: between forward and backward only the top (y1, y2) are kept; in backward one
// layer's local graph is alive at a time. Cost: one extra forward of every layer in backward.
// Recomputation sees the same dropout masks and random draws (LSH rotations, features): every
// draw is keyed by (ctx, module path), and backward passes the forward's ctx again. The inputs
// recovered by subtraction differ from the forward's by f32 rounding (~1e-7 relative).
//
// Parameter names: "rev_blocks.<l>.{ln1, mixer, ln2, mlp}.*" and "ln.*", unlike the standard
// Encoder's "blocks.<l>.*": a checkpoint of one kind is refused by the other (tensor names).
// Initial weights equal the standard encoder's for the same init key.
#pragma once
#include <memory>
#include <vector>

#include "lra/nn/layers.hpp"

namespace lra::nn {

// One coupling layer: the two residual branches of a pre-LN EncoderBlock (its attend() = F and
// feed_forward() = G, same children and initial weights), applied to two streams.
class ReversibleBlock : public EncoderBlock {
 public:
  using EncoderBlock::EncoderBlock;
  // (x1, x2) -> (y1, y2) in place, recording a graph when grad mode is on.
  void forward(Var& s1, Var& s2, const Tensor& lengths, const ForwardContext& ctx) const;
  // (y1, y2, dy1, dy2) -> (x1, x2, dx1, dx2) in place; parameter gradients are accumulated
  // into the parameters by local backward passes.
  void reverse(Tensor& s1, Tensor& s2, Tensor& g1, Tensor& g2, const Tensor& lengths,
               const ForwardContext& ctx) const;
};

// `layers` ReversibleBlocks, the stream mean and a final LayerNorm.
// Children "rev_blocks.0", "rev_blocks.1", ... and "ln".
class ReversibleEncoder : public Module {
 public:
  ReversibleEncoder(int64_t dim, int64_t mlp_dim, int layers, float dropout,
                    const MixerFactory& make_mixer, uint64_t init_key);
  // x (B, N, D), lengths i32 (B) -> (B, N, D). The blocks run without a graph; one node over
  // x and the blocks' parameters recomputes them in backward (the encoder must outlive it).
  Var forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) const;
  // The same equations as an ordinary stored-activation graph (memory grows with depth): the
  // reference the recomputing path is tested against.
  Var forward_stored(const Var& x, const Tensor& lengths, const ForwardContext& ctx) const;

  int num_layers() const { return int(blocks_.size()); }
  ReversibleBlock& block(int i);  // throws ConfigError when i is out of range
  LayerNorm& final_norm() { return *ln_; }

 private:
  // The node's backward: top streams (y1, y2) and d out/d mean -> dx; parameter gradients
  // are accumulated on the way.
  Tensor backward_streams(Tensor s1, Tensor s2, const Tensor& gy, const Tensor& lengths,
                          const ForwardContext& ctx) const;
  std::vector<ReversibleBlock*> blocks_;
  LayerNorm* ln_;
};

}  // namespace lra::nn
