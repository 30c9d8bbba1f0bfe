// Synthesizer: attention weights synthesised from learned, input-independent logits
// (Tay et al. 2021, "Synthesizer: Rethinking Self-Attention in Transformer Models"), here the
// "random" family, mixed with dot-product attention as LRA runs it.
//
//   R: learned (H, max_len, max_len) logits, sliced to the current length: R_N = R[:, :N, :N]
//   mode=random (default):  P = softmax_j(Q Kᵀ / √d + R_N)              (B, H, N, N)
//   mode=random_only:       P = softmax_j(R_N)      (the paper's Random Synthesizer: the weights
//                                                    ignore the tokens; only the pad mask varies)
//   mode=factorized:        R_N = R1[:, :N] R2[:, :N]ᵀ, R1, R2 (H, max_len, k), plus Q Kᵀ / √d
//   mode=factorized_only:   P = softmax_j(R1 R2ᵀ)
//   P_ij = 0 for padded keys j ≥ len_b;  P = dropout(P);  O = P V         (B, H, N, d)
//   key mask (mask_zero_tokens): a hidden key's column of the logits is −inf before the
//   softmax, as the LRA reference's padding mask does: P_ij = 0 for it.
// R_N is added per head inside the fused softmax (lowrank_ops.hpp biased_softmax): no (B, H, N, N)
// broadcast copy of R, and only P is kept for backward (dR = Σ_b dS).
//
// Cost: QUADRATIC like the Transformer — time O(B·H·N²·d), memory O(B·H·N²) for P — plus
// O(H·max_len²) parameters for R (Retrieval: 4001²·4 heads ≈ 64M per layer) or O(H·max_len·k)
// factorized. This is a "what if the weights were not token-token dot products" baseline, not an
// efficient mechanism.
// Dense face: P itself (exact).
//
// Hyper-parameters (LRA `synthesizer`): synthesizer_mode='random' with ignore_dot_product=False,
// i.e. dot product + R (unweighted sum); R xavier-uniform with flax fans for an (H, L, L) array
// (limit √(3 / (H·L))); factorized k = 32; padding mask applied; attention dropout on P.
// Where the released LRA code differs (documented, not copied):
//   - R is broadcast to (B, H, N, N) (jax.lax.broadcast) before being added: avoided here.
//   - the Text config asks for factorized random without dot product (`synthesizer_mode`,
//     `ignore_dot_product`, `k` at the top level) but train.py does not forward them, so plain
//     random + dot product ran; we default to what ran. `--attn mode=factorized_only` gives the
//     requested variant.
//   - the attention module's own defaults are factorized_random without dot product; the encoder
//     overrides them with random + dot product (what we use). The Dense Synthesizer is not built.
#include <cmath>

#include "key_mask.hpp"
#include "lowrank_ops.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "mechanisms.hpp"

namespace lra::attn {
namespace {

const ParamSpec kMode{"mode", "random",
                      "random (QK^T/sqrt(d) + R, LRA), random_only (R), factorized "
                      "(QK^T/sqrt(d) + R1 R2^T), factorized_only (R1 R2^T)"};
const ParamSpec kFactors{"k", "32", "rank of R1 R2^T in the factorized modes (LRA 32)"};

class Synthesizer : public MultiHeadAttention {
 public:
  explicit Synthesizer(const MechanismOptions& o) : MultiHeadAttention(o), max_len_(o.max_len) {
    std::string mode = o.get_string(kMode);
    LRA_CHECK(mode == "random" || mode == "random_only" || mode == "factorized" ||
                  mode == "factorized_only",
              ConfigError,
              "synthesizer: mode must be random, random_only, factorized or "
              "factorized_only, got '",
              mode, "'");
    LRA_CHECK(max_len_ > 0, ConfigError, "synthesizer: max_len must be positive");
    factorized_ = mode.rfind("factorized", 0) == 0;
    dot_ = mode.find("_only") == std::string::npos;
    if (!factorized_) {
      float a = std::sqrt(3.0f / float(heads_ * max_len_));
      Tensor r = Tensor::empty({heads_, max_len_, max_len_});
      fill_uniform(r, rng_key(o.init_key, {rng_tag("synthesizer.R")}), -a, a);
      r_ = register_parameter("R", r);
    } else {
      int64_t k = o.get_int(kFactors);
      LRA_CHECK(k > 0, ConfigError, "synthesizer: k must be positive, got ", k);
      float a = std::sqrt(6.0f / float(heads_ * (max_len_ + k)));
      auto init = [&](const char* tag) {
        Tensor t = Tensor::empty({heads_, max_len_, k});
        fill_uniform(t, rng_key(o.init_key, {rng_tag(tag)}), -a, a);
        return t;
      };
      r1_ = register_parameter("R1", init("synthesizer.R1"));
      r2_ = register_parameter("R2", init("synthesizer.R2"));
    }
  }
  const char* name() const override { return "synthesizer"; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    int64_t n = q.size(2);
    check_len(n);
    Var r = factorized_ ? matmul(slice(r1_, 1, 0, n), slice(r2_, 1, 0, n), false, true)
                        : slice(slice(r_, 1, 0, n), 2, 0, n);  // (H, N, N), a view of R
    Var p = ops::biased_softmax(dot_ ? q : Var(), dot_ ? k : Var(), r, lengths, scale(), q.size(0),
                                heads_, n, keymask::checked(ctx, q.size(0), n, "synthesizer"));
    p = dropout(p, attn_dropout_, ctx.key(path() + ".attn_dropout"), ctx.training,
                ctx.counter0(p.data().numel()));
    return matmul(p, v);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    NoGradGuard ng;
    int64_t n = q.size(2);
    check_len(n);
    Tensor r = factorized_
                   ? kern::matmul(r1_.data().slice(1, 0, n), r2_.data().slice(1, 0, n), false, true)
                   : r_.data().slice(1, 0, n).slice(2, 0, n);
    return ops::biased_softmax(dot_ ? Var(q) : Var(), dot_ ? Var(k) : Var(), Var(r), lengths,
                               scale(), q.size(0), heads_, n,
                               keymask::checked(ctx, q.size(0), n, "synthesizer"))
        .data();
  }

 private:
  float scale() const { return 1.0f / std::sqrt(float(head_dim_)); }
  void check_len(int64_t n) const {
    LRA_CHECK(n <= max_len_, ShapeError, "synthesizer: length ", n, " exceeds max_len ", max_len_,
              " (R is (heads, max_len, max_len))");
  }

  int64_t max_len_;
  bool factorized_ = false, dot_ = true;
  Var r_, r1_, r2_;  // parameters: R (random modes) or R1, R2 (factorized modes)
};

}  // namespace

MechanismInfo synthesizer_mechanism() {
  return {"synthesizer",
          "Synthesizer (learned random logits + dot product)",
          "every query sees every valid key with weights from learned per-head logits R (+QK^T); "
          "quadratic: O(N^2) time and memory, O(H max_len^2) parameters",
          {kMode, kFactors},
          [](const MechanismOptions& o) { return std::make_unique<Synthesizer>(o); }};
}

}  // namespace lra::attn
