// Longformer: sliding-window attention plus optional global tokens (Beltagy et al. 2020).
//
// Window: a window of w keys around each query, `left` = w − ⌊w/2⌋ − 1 before it, the query
// itself, and `right` = ⌊w/2⌋ after it:
//   allowed(i, j) = −left ≤ j − i ≤ right            (w = 512: j − i ∈ [−255, 256])
//   O_i = softmax_{j allowed}(q_i·k_j / √d) v_j     with the window projections Q, K, V
// Global tokens (global=cls: position 0, the CLS token of a classifier): a global token
// attends to every key and every query attends to it. As in the paper, the global token's own
// row uses separate projections Q_g, K_g, V_g (x W_qg, x W_kg, x W_vg, no bias):
//   O_0 = softmax_j(q_g,0 · k_g,j / √d) v_g,j        over all valid j
// while the other queries see key 0 through the window projections (so W_kg, W_vg serve only
// the global row). Cost of the global row: O(N·d) per head.
//
// Fast path: the block-sparse online-softmax kernel (block_sparse.hpp), tiles of `tile` rows:
// query tile I visits the key tiles overlapping [start(I) − left, end(I) + right]; tiles inside
// the band are visited whole, the two edge tiles with a band mask (j − i ∈ [−left, right]);
// with global=cls a one-key tile {0} is visited by the queries whose band does not reach 0.
// The global row is computed beside the kernel (matmul, masked softmax, matmul) and replaces
// row 0 of the kernel's output.
// Cost: time O(B·H·N·(w + tile)·d), memory O(B·H·N·d); no N x N tensor (the band's N·w weights
// are recomputed in backward). Dense face: the (B, H, N, N) softmax weights over the window
// (and the global row/column); it uses the window projections for every row, global row
// included: attend() on bare heads (tests, pictures) does the same, while forward() gives the
// global row its own projections.
//
// Hyper-parameters: window = 512 (LRA's sliding_window_size), global = none (LRA passes no
// global mask); global=cls makes position 0 global, as the paper does for classification.
//
// Where the released LRA code (models/longformer/longformer_attention.py) differs — documented,
// not copied (docs/mechanisms.md section 7):
//   - it builds dense (1, 1, N, N) window and global masks and runs full N² attention, so its
//     cost is that of the Transformer (it could not benchmark the window; this kernel can);
//   - global_mask defaults to None: no global tokens, yet the global branch (three more
//     projections, a second full N² attention) is computed and discarded by
//     where(global_i, attn_global, attn_window);
//   - padding is an additive −1e10 on the masked N x N bias; here lengths clip the key tiles.
#include <cmath>

#include "key_mask.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "mechanisms.hpp"
#include "patterns.hpp"

namespace lra::attn {

namespace {
constexpr int kBandVisit = 1;    // j − i ∈ [−left, right]
constexpr int kGlobalVisit = 2;  // key 0 for the rows whose band does not reach it
}  // namespace

std::shared_ptr<bsa::BlockLayout> pattern::Window::layout(int64_t n) const {
  auto lay = std::make_shared<bsa::BlockLayout>();
  lay->n = n;
  lay->tile_q = tile;
  const int64_t tiles = lay->query_tiles();
  for (int64_t t = 0; t < tiles; ++t) lay->add_key_range(t * tile, std::min(n, (t + 1) * tile));
  const int32_t global_tile = global_first && n > 0 ? lay->add_key_range(0, 1) : -1;
  for (int64_t r = 0; r < tiles; ++r) {
    const int64_t a = r * tile, e = std::min(n, a + tile) - 1;  // rows [a, e]
    const int64_t lo = std::max<int64_t>(0, a - left), hi = std::min(n - 1, e + right);
    for (int64_t t = lo / tile; t <= hi / tile; ++t) {
      const int64_t t0 = t * tile, t1 = std::min(n, t0 + tile) - 1;
      const bool full = t0 - e >= -left && t1 - a <= right;
      lay->visit(int32_t(t), full ? 0 : kBandVisit);
    }
    // Key 0 is in the band of rows i <= left; the others get it from the one-key tile.
    if (global_tile >= 0 && e > left) lay->visit(global_tile, a > left ? 0 : kGlobalVisit);
    lay->end_row();
  }
  const int64_t l = left, rt = right;
  lay->mask_tile = [l, rt](int64_t, int kind, int64_t i0, int64_t ni, const int32_t* kpos,
                           int64_t nk, float* s, int64_t rs, int64_t cs) {
    for (int64_t x = 0; x < ni; ++x) {
      const int64_t i = i0 + x;
      for (int64_t y = 0; y < nk; ++y) {
        const int64_t off = kpos[y] - i;
        const bool ok = kind == kBandVisit ? off >= -l && off <= rt : i > l;
        if (!ok) s[x * rs + y * cs] = -INFINITY;
      }
    }
  };
  return lay;
}

namespace {

const ParamSpec kWindow{
    "window", "512", "keys per window incl. the query: w - w/2 - 1 before, w/2 after (LRA: 512)"};
const ParamSpec kGlobal{"global", "none",
                        "none (LRA) or cls: position 0 is global, with its own Q/K/V projections"};
const ParamSpec kTile{"tile", "64", "rows per query/key tile of the banded kernel"};

class LongformerAttention : public MultiHeadAttention {
 public:
  explicit LongformerAttention(const MechanismOptions& o) : MultiHeadAttention(o) {
    const int64_t w = o.get_int(kWindow);
    LRA_CHECK(w >= 1, ConfigError, "longformer: window=", w, " must be positive");
    pattern_.right = w / 2;
    pattern_.left = w - w / 2 - 1;
    const std::string g = o.get_string(kGlobal);
    LRA_CHECK(g == "none" || g == "cls", ConfigError, "longformer: global=", g,
              " is not one of none, cls");
    pattern_.global_first = g == "cls";
    pattern_.tile = o.get_int(kTile);
    LRA_CHECK(pattern_.tile >= 1 && pattern_.tile <= 1024, ConfigError,
              "longformer: tile=", pattern_.tile, " must be in [1, 1024]");
    if (pattern_.global_first) {
      auto key = [&](const char* w) { return rng_key(o.init_key, {rng_tag(w)}); };
      wq_g_ = register_module(
          "wq_global", std::make_unique<nn::Linear>(o.dim, o.qkv_dim, false, key("wq_global")));
      wk_g_ = register_module(
          "wk_global", std::make_unique<nn::Linear>(o.dim, o.qkv_dim, false, key("wk_global")));
      wv_g_ = register_module(
          "wv_global", std::make_unique<nn::Linear>(o.dim, o.qkv_dim, false, key("wv_global")));
    }
  }
  const char* name() const override { return "longformer"; }

  // With global=cls: the global projections of x, used by attend() for row 0 during this call.
  Var forward(const Var& x, const Tensor& lengths, const nn::ForwardContext& ctx) override {
    if (!pattern_.global_first) return MultiHeadAttention::forward(x, lengths, ctx);
    struct Clear {
      LongformerAttention* self;
      ~Clear() { self->global_q_ = self->global_k_ = self->global_v_ = Var(); }
    } clear{this};
    global_q_ = split_heads(wq_g_->forward(slice(x, 1, 0, 1)));  // (B, H, 1, d)
    global_k_ = split_heads(wk_g_->forward(x));                  // (B, H, N, d)
    global_v_ = split_heads(wv_g_->forward(x));
    return MultiHeadAttention::forward(x, lengths, ctx);
  }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    const int64_t n = q.size(2);
    const float scale = 1.0f / std::sqrt(float(head_dim_));
    bsa::Spec spec =
        bsa::layer_spec({pattern_.layout(n)}, scale, attn_dropout_, ctx, path() + ".attn_dropout");
    spec.key_mask = keymask::checked(ctx, q.size(0), n, "longformer");
    Var o = bsa::attention(q, k, v, lengths, spec);
    if (!pattern_.global_first || n == 0) return o;
    // Row 0: every valid key, with the global projections when forward() provided them.
    const bool own = global_q_.defined();
    Var qg = own ? global_q_ : slice(q, 2, 0, 1);
    Var s = matmul(qg, own ? global_k_ : k, false, true);  // (B, H, 1, N)
    if (spec.key_mask.defined()) s = add(s, Var(keymask::score_bias(spec.key_mask)));
    Var p = softmax(s, lengths, scale);
    p = dropout(p, attn_dropout_, ctx.key(path() + ".global_dropout"), ctx.training,
                ctx.counter0(p.data().numel()));
    Var og = matmul(p, own ? global_v_ : v);  // (B, H, 1, d)
    return n == 1 ? og : concat({og, slice(o, 2, 1, n)}, 2);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    const pattern::Window pat = pattern_;
    return bsa::dense_weights(
        q, k, lengths, 1.0f / std::sqrt(float(head_dim_)),
        keymask::masked([pat](int64_t, int64_t, int64_t i, int64_t j) { return pat.allowed(i, j); },
                        keymask::checked(ctx, q.size(0), q.size(2), "longformer")));
  }

 private:
  pattern::Window pattern_;
  nn::Linear *wq_g_ = nullptr, *wk_g_ = nullptr, *wv_g_ = nullptr;
  Var global_q_, global_k_, global_v_;  // set only inside forward()
};

}  // namespace

MechanismInfo longformer_mechanism() {
  return {"longformer",
          "Longformer (sliding window + global tokens)",
          "each query sees a window of `window` keys around it (+ global tokens with "
          "global=cls); O(N*window) time, O(N) memory",
          {kWindow, kGlobal, kTile},
          [](const MechanismOptions& o) { return std::make_unique<LongformerAttention>(o); }};
}

}  // namespace lra::attn
