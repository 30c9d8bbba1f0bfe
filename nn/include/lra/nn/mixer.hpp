// TokenMixer: the interface the encoder block calls for its sequence-mixing sublayer.
// nn knows no attention mechanism; attention/ implements this interface, one class per
// mechanism, and registers a factory by name.
#pragma once
#include "lra/nn/module.hpp"

namespace lra::nn {

class TokenMixer : public Module {
 public:
  // x: (B, N, D) f32. lengths: i32 (B), valid positions are [0, lengths[b]); padded positions
  // must not influence valid ones. Returns (B, N, D).
  virtual Var forward(const Var& x, const Tensor& lengths, const ForwardContext& ctx) = 0;
  virtual const char* name() const = 0;
};

}  // namespace lra::nn
