// MultiHeadAttention: the part every LRA mechanism shares.
//
//   x (B, N, D) --Wq,Wk,Wv (no bias)--> q, k, v (B, H, N, d) --attend()--> o (B, H, N, d)
//   o --merge heads--> (B, N, H*d) --Wo (no bias)--> (B, N, D)
//
// A mechanism overrides attend() (its fast path) and dense_weights() (its dense face: the
// (B, H, N, N) weights each query gives each key, materialised for small N; tests hold the
// fast path to it, the attention-span metric and the pattern pictures read it).
#pragma once
#include <memory>
#include <string>

#include "lra/attention/options.hpp"
#include "lra/nn/layers.hpp"
#include "lra/nn/mixer.hpp"

namespace lra::attn {

class MultiHeadAttention : public nn::TokenMixer {
 public:
  explicit MultiHeadAttention(const MechanismOptions& opt);

  // ctx.key_mask (i32 (B, N), 0 = hidden key; mask_zero_tokens) is honoured by every
  // mechanism's attend() and dense_weights(), each in its own way (docs/mechanisms.md);
  // a mask of another shape is a ShapeError.
  Var forward(const Var& x, const Tensor& lengths, const nn::ForwardContext& ctx) override;

  // Fast path on projected heads q, k, v (B, H, N, d) -> (B, H, N, d).
  virtual Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
                     const nn::ForwardContext& ctx) = 0;
  // Dense face: weights (B, H, N, N) implied by the mechanism for heads q, k (and x's
  // lengths). Row i sums to 1 over the keys query i may see (or 0 for a padded query where
  // the mechanism says so).
  virtual Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                               const nn::ForwardContext& ctx) = 0;
  // The order in which a picture of the dense face should show positions so that the
  // mechanism's structure is visible: i32 (B, H, N), entry s = the position drawn s-th.
  // Undefined (the default): position order. Reformer: its first round's (bucket, position)
  // sort, in which its chunks are contiguous blocks.
  virtual Tensor display_order(const Tensor& q, const Tensor& lengths,
                               const nn::ForwardContext& ctx) {
    (void)q, (void)lengths, (void)ctx;
    return {};
  }

  // Projections for tests and inspection: (B, N, D) -> (B, H, N, d).
  Var project_q(const Var& x) const { return split_heads(wq_->forward(x)); }
  Var project_k(const Var& x) const { return split_heads(wk_->forward(x)); }
  Var project_v(const Var& x) const { return split_heads(wv_->forward(x)); }

  int64_t heads() const { return heads_; }
  int64_t head_dim() const { return head_dim_; }

 protected:
  Var split_heads(const Var& y) const;  // (B, N, H*d) -> (B, H, N, d)
  Var merge_heads(const Var& o) const;  // (B, H, N, d) -> (B, N, H*d)
  Var project_out(const Var& o) const { return wo_->forward(merge_heads(o)); }  // -> (B, N, D)
  // forward()'s check of ctx.key_mask against x (B, N, D), for mechanisms that override forward.
  void check_key_mask(const Var& x, const nn::ForwardContext& ctx) const;
  int64_t heads_, head_dim_;
  float attn_dropout_;

 private:
  nn::Linear *wq_, *wk_, *wv_, *wo_;
};

}  // namespace lra::attn
