// Linear Transformer: attention through a positive feature map (Katharopoulos et al. 2020,
// "Transformers are RNNs"), non-causal.
//
//   φ(x) = elu(x) + 1 > 0, elementwise                      φQ, φK: (B, H, N, d)
//   φK_j = 0 for padded keys j ≥ len_b (so pads enter no sum), and for keys hidden by a key
//   mask (mask_zero_tokens): their φK rows, hence their values, enter neither KV nor z
//   KV = φKᵀ V                                              (B, H, d, d)
//   z  = Σ_j φK_j                                           (B, H, d)
//   O_i = φQ_i KV / (φQ_i · z + ε),  ε = 1e-6               (B, H, N, d)
// Because φ(q)·φ(k) > 0, this is attention with the kernel sim(q, k) = φ(q)·φ(k) in place of
// exp(q·k/√d): A_ij = φ(q_i)·φ(k_j) / Σ_j' φ(q_i)·φ(k_j'). Computing KV and z first (associativity)
// avoids the N×N matrix.
//
// Cost: time O(B·H·N·d²) (three GEMMs with d×d or N×d results), memory O(B·H·(N·d + d²)); the
// fused op (lowrank_ops.hpp: elu_features + linear_attention) keeps only φQ, φK, KV, z, O and
// the normaliser for backward.
// Dense face: A_ij above, materialised (exact: the fast path equals A V to float rounding).
//
// Hyper-parameters (LRA `linear_transformer`): ε = 1e-6 (option `eps`); no 1/√d scaling; no
// attention dropout (the weights are never formed, so there is nothing to drop: `attn_dropout`
// is ignored, as in LRA and the paper).
// Where the released LRA code differs (documented, not copied):
//   - no padding mask: pad keys enter KV and z, so valid outputs depend on padding. Here φ(K)
//     is zeroed at pads (docs/mechanisms.md section 2), so pads get no weight and no gradient.
//   - causal mode (prefix sums) exists in the paper, not needed for LRA's encoders; not built.
#include "key_mask.hpp"
#include "lowrank_ops.hpp"
#include "lra/autograd/ops.hpp"
#include "mechanisms.hpp"

namespace lra::attn {
namespace {

const ParamSpec kEps{"eps", "1e-6", "added to the normaliser phi(q).sum phi(k) (paper: 1e-6)"};

class LinearAttention : public MultiHeadAttention {
 public:
  explicit LinearAttention(const MechanismOptions& o)
      : MultiHeadAttention(o), eps_(float(o.get_float(kEps))) {
    LRA_CHECK(eps_ >= 0.0f, ConfigError, "linear: eps must be >= 0, got ", eps_);
  }
  const char* name() const override { return "linear"; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    Var fq = ops::elu_features(q, {});  // queries at pads are computed, never read
    Var fk = keymask::zero_hidden_rows(ops::elu_features(k, lengths), ctx,
                                       "linear");  // zero rows at pads, hidden keys
    return ops::linear_attention(fq, fk, v, lengths, eps_, ops::DenGuard::Add);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    NoGradGuard ng;
    Tensor fq = ops::elu_features(Var(q), {}).data();
    Tensor fk = keymask::zero_hidden_rows(ops::elu_features(Var(k), lengths), ctx, "linear").data();
    return ops::linear_attention_weights(fq, fk, eps_, ops::DenGuard::Add);
  }

 private:
  float eps_;
};

}  // namespace

MechanismInfo linear_mechanism() {
  return {"linear",
          "Linear Transformer (elu+1 feature map)",
          "every query sees every valid key through phi(q).phi(k), phi = elu+1; O(N d^2) time, "
          "O(N d) memory",
          {kEps},
          [](const MechanismOptions& o) { return std::make_unique<LinearAttention>(o); }};
}

}  // namespace lra::attn
