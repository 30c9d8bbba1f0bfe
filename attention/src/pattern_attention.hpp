// Private: multi-head attention with one fixed pattern for every head and every sequence
// (local.cpp, sparse.cpp): the fast path runs the pattern's layout through the block-sparse
// kernel, the dense face masks the softmax weights with the pattern's allowed(i, j).
//   O = softmax over {j : allowed(i, j), j < len} of Q Kᵀ / √d, times V
// Pattern: a struct of patterns.hpp with layout(n) and allowed(i, j).
#pragma once
#include <cmath>

#include "block_sparse.hpp"
#include "key_mask.hpp"
#include "lra/attention/multihead.hpp"

namespace lra::attn {

template <class Pattern>
class PatternAttention : public MultiHeadAttention {
 public:
  // `name` must outlive the module (a string literal).
  PatternAttention(const MechanismOptions& o, const char* name, Pattern pattern)
      : MultiHeadAttention(o), name_(name), pattern_(pattern) {}
  const char* name() const override { return name_; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    bsa::Spec spec = bsa::layer_spec({pattern_.layout(q.size(2))}, scale(), attn_dropout_, ctx,
                                     path() + ".attn_dropout");
    spec.key_mask = keymask::checked(ctx, q.size(0), q.size(2), name_);
    return bsa::attention(q, k, v, lengths, spec);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    const Pattern pat = pattern_;
    return bsa::dense_weights(
        q, k, lengths, scale(),
        keymask::masked([pat](int64_t, int64_t, int64_t i, int64_t j) { return pat.allowed(i, j); },
                        keymask::checked(ctx, q.size(0), q.size(2), name_)));
  }

 private:
  float scale() const { return 1.0f / std::sqrt(float(head_dim_)); }

  const char* name_;
  Pattern pattern_;
};

}  // namespace lra::attn
