// Performer: softmax attention approximated with positive orthogonal random features (FAVOR+,
// Choromanski et al. 2021, "Rethinking Attention with Performers"), non-causal.
//
//   exp(q·k/√d) = E_w[φ(q)·φ(k)] for w ~ N(0, I_d), with positive features
//   x' = x d^(-1/4);  φ(x)_r = m^(-1/2) exp(w_r·x' − |x'|²/2)     r = 1..m      φQ, φK: (B,H,N,m)
//   W (m, d): blocks of d orthonormal rows (Gram-Schmidt of Gaussian d×d blocks), each row rescaled
//             to a χ_d-distributed norm (scaling=0) or √d (scaling=1); no gradient; shared by heads
//   Then linear attention with row renormalisation (as linear.cpp):
//   S = φKᵀ V (B,H,m,d);  z = Σ_j φK_j (B,H,m);  O_i = φQ_i S / (φQ_i·z)                (B,H,N,d)
// Numerics: inside the exponent subtract a stabiliser c, the max of the whole exponent
// w·x' − |x'|²/2 — per query row the max over features, for keys the max over features and
// valid positions (one per (b,h)); these constants cancel between numerator and denominator
// (treated as constants: no gradient). Add eps to every feature, φ = m^(-1/2)(exp(·) + eps);
// guard the normaliser with R + 2 eps [|R| <= eps], and a normaliser still exactly 0 with FLT_MIN.
// The largest feature is thus 1, so eps = 0 (allowed) gives no NaN even for |q| ~ 60 or huge pads
// (the reference subtracts only max w·x', so a large |x|²/2 underflows every feature: 0/0).
// Padding: φK rows at pads are 0 and pads are excluded from the key max, so pads get no weight and
// cannot shift valid outputs (docs/mechanisms.md section 2). A key mask (mask_zero_tokens) treats
// hidden keys the same way: φK rows 0 (their values enter neither S nor z), not in the key max.
//
// Cost: time O(B·H·N·m·d) (feature GEMMs N×d×m for Q and K, plus the two linear-attention GEMMs),
// memory O(B·H·N·m) for φQ, φK plus O(m·d) for W and S. The projection is one
// (B·H·N, d)×(d, m) GEMM per input; W is never broadcast to (B, H, m, d).
// Redraw: option `redraw` = R. R = 0 (default, like the PyTorch LRA peer): W is drawn once per
// layer from the layer's init key. R > 0: W is redrawn every R training steps from the counter key
// rng_key(seed, {"performer.features", layer, step / R}), so a draw depends on (seed, layer,
// step / R) only, never on threads; evaluation (ctx.training false) keeps the last training
// draw, as lucidrains' feature_redraw_interval does.
//
// Dense face (dense=softmax, default): the exact softmax weights softmax(QKᵀ/√d) with pads masked,
// i.e. what FAVOR+ estimates; the fast path differs from it by the approximation error, which
// shrinks as m grows (~1/√m). dense=features gives instead the exact matrix of the approximation,
// A_ij = φ(q_i)·φ(k_j) / guard(Σ_j' φ(q_i)·φ(k_j')), which the fast path equals to float rounding.
//
// Hyper-parameters (LRA FAVOR+ `make_fast_softmax_attention`): m = 256 features, orthogonal,
// scaling 0, eps = 1e-6 (feature and normaliser stabiliser), renormalised; no attention dropout
// (the weights are never formed; `attn_dropout` is ignored).
// Where the released LRA code differs (documented, not copied):
//   - the default Performer in LRA is `generalized` attention with deterministic features: for
//     Text, Retrieval, Image and Pathfinder it is φ(x) = ReLU(x) + 0.001 linear attention, with no
//     random features and no softmax kernel at all.
//   - the ListOps config does use FAVOR+ softmax features but with nb_features = 2, redrawn on
//   every
//     call with a seed derived from the query values (⌈Σ query·1e7⌉). Use `--attn features=2` to
//     see what 2 features give.
//   - no padding mask (FastAttention drops the mask) and no attention dropout.
//   - the stabiliser is the max of w·x' − |x'|²/2, not of w·x' alone (see Numerics): with
//     eps > 0 this changes how much eps weighs against the features (queries: by exp(|q'|²/2)).
//   - W is broadcast to (B, H, m, d) before the projection (also in lucidrains' PyTorch code).
//   - the Nyströmformer PyTorch LRA peer (lucidrains FastAttention, m = 256, drawn once) pre-scales
//     Q and K by d^(-1/4) on top of the kernel's own d^(-1/4) and uses eps = 1e-4.
#include <cmath>

#include "key_mask.hpp"
#include "lowrank_ops.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "mechanisms.hpp"

namespace lra::attn {
namespace {

const ParamSpec kFeatures{"features", "256", "random features m (LRA 256; LRA ListOps config 2)"};
const ParamSpec kScaling{"scaling", "0", "row norms of W: 0 = chi_d (random), 1 = sqrt(d)"};
const ParamSpec kRedraw{"redraw", "0", "redraw W every R training steps (0 = draw once per layer)"};
const ParamSpec kEps{"eps", "1e-6", "feature and normaliser stabiliser (LRA 1e-6)"};
const ParamSpec kDense{"dense", "softmax",
                       "dense face: softmax (exact attention FAVOR+ estimates) or features "
                       "(the exact normalised phi(Q)phi(K)^T the fast path computes)"};

class Performer : public MultiHeadAttention {
 public:
  explicit Performer(const MechanismOptions& o)
      : MultiHeadAttention(o),
        m_(o.get_int(kFeatures)),
        scaling_(int(o.get_int(kScaling))),
        redraw_(o.get_int(kRedraw)),
        eps_(float(o.get_float(kEps))),
        layer_(uint64_t(o.layer)),
        fixed_key_(rng_key(o.init_key, {rng_tag("performer.features")})) {
    LRA_CHECK(m_ > 0, ConfigError, "performer: features must be positive, got ", m_);
    LRA_CHECK(redraw_ >= 0, ConfigError, "performer: redraw must be >= 0, got ", redraw_);
    LRA_CHECK(eps_ >= 0.0f, ConfigError, "performer: eps must be >= 0, got ", eps_);
    std::string dense = o.get_string(kDense);
    LRA_CHECK(dense == "softmax" || dense == "features", ConfigError,
              "performer: dense must be softmax or features, got '", dense, "'");
    dense_features_ = dense == "features";
    if (redraw_ == 0) w_ = ops::gaussian_orthogonal_matrix(m_, head_dim_, fixed_key_, scaling_);
  }
  const char* name() const override { return "performer"; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    const Tensor& w = projection(ctx);
    Var fq = ops::favor_features(q, w, {}, true, eps_);
    Var fk = ops::favor_features(k, w, lengths, false, eps_, key_mask(ctx, k.data()));
    return ops::linear_attention(fq, fk, v, lengths, eps_, ops::DenGuard::Lra);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    if (!dense_features_) {
      Tensor s = kern::matmul(q, k, false, true);
      const Tensor km = key_mask(ctx, k);
      if (km.defined()) s = kern::binary(kern::Binary::Add, s, keymask::score_bias(km));
      return kern::softmax(s, lengths, 1.0f / std::sqrt(float(head_dim_)));
    }
    NoGradGuard ng;
    const Tensor& w = projection(ctx);
    Tensor fq = ops::favor_features(Var(q), w, {}, true, eps_).data();
    Tensor fk = ops::favor_features(Var(k), w, lengths, false, eps_, key_mask(ctx, k)).data();
    return ops::linear_attention_weights(fq, fk, eps_, ops::DenGuard::Lra);
  }

 protected:
  // The projection in use (none before the first step when it is redrawn).
  std::vector<std::pair<std::string, Tensor>> own_buffers() const override {
    if (!w_.defined()) return {};
    return {{"features", w_}};
  }

 private:
  static Tensor key_mask(const nn::ForwardContext& ctx, const Tensor& k) {
    return keymask::checked(ctx, k.size(0), k.size(2), "performer");
  }
  // The (m, d) projection for this step: fixed, or redrawn when step / redraw changes in
  // training. Evaluation keeps the last training draw (its context carries no step).
  const Tensor& projection(const nn::ForwardContext& ctx) {
    if (redraw_ == 0 || (!ctx.training && w_.defined())) return w_;
    uint64_t draw = ctx.step / uint64_t(redraw_);
    if (!w_.defined() || draw != draw_) {
      uint64_t key = rng_key(ctx.seed, {rng_tag("performer.features"), layer_, draw});
      w_ = ops::gaussian_orthogonal_matrix(m_, head_dim_, key, scaling_);
      draw_ = draw;
    }
    return w_;
  }

  int64_t m_;
  int scaling_;
  int64_t redraw_;
  float eps_;
  uint64_t layer_, fixed_key_;
  bool dense_features_ = false;
  Tensor w_;           // (m, d) current projection; not a parameter
  uint64_t draw_ = 0;  // index of the draw held in w_ (redraw > 0)
};

}  // namespace

MechanismInfo performer_mechanism() {
  return {"performer",
          "Performer (FAVOR+ positive orthogonal random features)",
          "every query sees every valid key through m random features approximating softmax; "
          "O(N m d) time, O(N m) memory",
          {kFeatures, kScaling, kRedraw, kEps, kDense},
          [](const MechanismOptions& o) { return std::make_unique<Performer>(o); }};
}

}  // namespace lra::attn
