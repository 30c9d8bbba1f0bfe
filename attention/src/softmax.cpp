// Transformer: exact softmax attention (Vaswani et al. 2017).
//
//   S = Q Kᵀ / √d                      (B, H, N, N)
//   P = softmax_j(S), P_ij = 0 for keys j ≥ len_b (padding carried as lengths, no mask tensor)
//       and, with a key mask (ctx.key_mask, mask_zero_tokens), for keys j with mask 0
//   P = dropout(P)                      (rate attn_dropout, training only)
//   O = P V                             (B, H, N, d)
// Backward: dV = Pᵀ dO; dP = dO Vᵀ; dS = P ∘ (dP − rowsum(dP ∘ P)); dQ = dS K/√d; dK = dSᵀ Q/√d.
//
// Two kernels compute the same O:
//   kernel=flash (default)  FlashAttention's tiled online softmax (Dao et al. 2022;
//   docs/mechanisms.md
//                           section 4), block_sparse.hpp with every tile pair visited. Stores
//                           O and one log-sum-exp per row; backward recomputes P tile by tile
//                           and regenerates the dropout mask from its counter-based key.
//                           Time O(B·H·N²·d), extra memory O(B·H·N) (+ O(N·d) partial sums).
//                           Padded query rows (i ≥ len_b) output 0 and cost nothing.
//   kernel=plain            matmul -> masked softmax -> dropout -> matmul with autograd: the
//                           reference. Time O(B·H·N²·d), memory O(B·H·N²) (S, P and the dropped
//                           P are kept for backward). Padded query rows attend the valid keys.
// Both draw the dropout mask of element (b, h, i, j) from the same counter, so with the same
// key they give the same result (tests/attention/test_softmax_attention.cpp holds them to it).
//
// Hyper-parameters: tile (default 64): query/key rows per tile of the flash kernel.
// LRA: every task uses it; the released code masks with a (B,1,N,N) boolean tensor and a −1e10
// bias; here the kernel reads per-sequence lengths instead.
#include <cmath>

#include "block_sparse.hpp"
#include "key_mask.hpp"
#include "lra/autograd/ops.hpp"
#include "mechanisms.hpp"

namespace lra::attn {
namespace {

// With a key mask: per entry, query tiles visit only its visible keys (hidden ones cost
// nothing); the kernel masks them too, so this is a saving, not the mask itself.
std::vector<std::shared_ptr<const bsa::BlockLayout>> visible_key_layouts(const Tensor& key_mask,
                                                                         const Tensor& lengths,
                                                                         const Var& q,
                                                                         int64_t tile) {
  const int64_t B = q.size(0), n = q.size(2);
  const Tensor km = key_mask.contiguous();
  LRA_CHECK(km.dtype() == DType::I32 && km.dim() == 2 && km.size(0) == B && km.size(1) == n,
            ShapeError, "transformer: key_mask must be i32 (", B, ", ", n, "), got ",
            km.describe());
  const std::vector<int32_t> len =
      lengths.defined() ? lengths.to_ints() : std::vector<int32_t>(size_t(B), int32_t(n));
  std::vector<std::shared_ptr<const bsa::BlockLayout>> layouts;
  for (int64_t b = 0; b < B; ++b)
    layouts.push_back(
        bsa::visible_keys_layout(n, tile, km.data<int32_t>() + b * n, len[size_t(b)]));
  return layouts;
}

class SoftmaxAttention : public MultiHeadAttention {
 public:
  explicit SoftmaxAttention(const MechanismOptions& o) : MultiHeadAttention(o) {
    const bsa::KernelChoice c = bsa::kernel_choice(o, "transformer");
    flash_ = c.flash, tile_ = c.tile;
  }
  const char* name() const override { return "transformer"; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    const float scale = 1.0f / std::sqrt(float(head_dim_));
    const uint64_t key = ctx.key(path() + ".attn_dropout");
    if (flash_) {
      bsa::Spec spec = bsa::layer_spec({bsa::dense_layout(q.size(2), tile_)}, scale, attn_dropout_,
                                       ctx, path() + ".attn_dropout");
      if (ctx.key_mask.defined())
        spec.layouts = visible_key_layouts(ctx.key_mask, lengths, q, tile_);
      spec.key_mask = ctx.key_mask;
      return bsa::attention(q, k, v, lengths, spec);
    }
    Var s = matmul(q, k, false, true);
    const Tensor km = keymask::checked(ctx, q.size(0), q.size(2), "transformer");
    if (km.defined()) s = add(s, Var(keymask::score_bias(km)));  // hidden keys: -inf
    Var p = softmax(s, lengths, scale);
    p = dropout(p, attn_dropout_, key, ctx.training, ctx.counter0(p.data().numel()));
    return matmul(p, v);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    float scale = 1.0f / std::sqrt(float(head_dim_));
    if (ctx.key_mask.defined()) {
      const Tensor km = ctx.key_mask.contiguous();
      const int32_t* ok = km.data<int32_t>();
      const int64_t n = km.size(1);
      return bsa::dense_weights(
          q, k, lengths, scale,
          [ok, n](int64_t b, int64_t, int64_t, int64_t j) { return ok[b * n + j] != 0; });
    }
    return kern::softmax(kern::matmul(q, k, false, true), lengths, scale);
  }

 private:
  bool flash_ = true;
  int64_t tile_ = 64;
};

}  // namespace

MechanismInfo softmax_mechanism() {
  return {"transformer",
          "Transformer (softmax attention)",
          "every query sees every valid key; exact; O(N^2) time; O(N) memory with kernel=flash "
          "(default), O(N^2) with kernel=plain",
          {bsa::kKernel, bsa::kTile},
          [](const MechanismOptions& o) { return std::make_unique<SoftmaxAttention>(o); }};
}

}  // namespace lra::attn
