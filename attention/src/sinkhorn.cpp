// Sinkhorn Transformer: sparse Sinkhorn attention (Tay, Bahri, Yang, Metzler & Juan 2020,
// "Sparse Sinkhorn Attention").
//
// Idea: local block attention only sees its own block. Let every block also see one more block,
// chosen by a learned, differentiable sorting of the blocks: a soft permutation matrix obtained
// by Sinkhorn normalisation (alternately normalising rows and columns of exp(R)).
//
// Per head (q, k, v: (B, H, N, d); N padded with invalid positions to N' = N_B·b):
//   K_I, V_I  = block I of k, v with padded positions zeroed            (N_B, b, d)
//   x_I       = mean of the valid keys of block I                       (N_B, d)
//   R         = x W + c, columns [0, N_B)       SortNet, W (d, N_max), c (N_max) per head
//   log α     = (R + g) / τ,  g ~ Gumbel(0, 1) in training only          (N_B, N_B)
//   n_iters × { log α −= LSE_j(log α)   (rows sum to 1);
//               log α −= LSE_i(log α)   (columns sum to 1) }
//   S         = exp(log α)        ≈ doubly stochastic: a soft permutation of the blocks
//   K̂_I       = Σ_J S_IJ K_J,  V̂_I = Σ_J S_IJ V_J                       sorted blocks (N_B, b, d)
//   O_I       = softmax([Q_I K_Iᵀ, Q_I K̂_Iᵀ] / √d) [V_I ; V̂_I]          (b, 2b) per block
// Dense face (B, H, N, N): query i of block I gives key j = J·b + t the weight
//   [J = I]·P_i,t (own block) + S_IJ·P_i,b+t (its share of sorted slot t),  0 for padded j.
// Rows sum to 1 up to the sorted-slot weight that fell on zeroed padding (partial last block)
// and to S's row sums, ≈ 1 (the last Sinkhorn step normalises columns exactly, rows nearly).
//
// Cost: time O(N·b·d) for the block attention + O(N_B·N·d) to mix the blocks with the soft
// permutation (= N²d/b: below the first term while N_B <= 2b, i.e. N <= 2b²; a hard
// permutation would make it O(N·d)) + O(n_iters·N_B²) Sinkhorn; memory O(N·b + N·d + N_B²),
// linear in N for a fixed b. Everything is differentiable, composed from autograd ops plus one
// row copy (take_rows: heads into zero-padded blocks, with padded keys/values zeroed); the
// Sinkhorn iterations keep their (N_B, N_B) intermediates for backward. The own and sorted
// blocks come out of one product M·K_blocks, M = [e_I ; S_I] interleaved (no concat copy; it
// doubles the N_B·N·d mixing term).
//
// Hyper-parameters (overridable: --attn block=64,n_iters=8):
//   block       = 50    LRA (image configs: 64)
//   n_iters     = 7     Sinkhorn normalisations in log space (paper 5-8, lucidrains 7; LRA 1)
//   temperature = 0.75  τ (lucidrains / paper; LRA 1)
//   gumbel      = true  Gumbel noise on R in training (from a counter key: seed, step, layer)
// Learned beyond W_q,k,v,o: SortNet "sortnet_weight" (H, d, N_max), "sortnet_bias" (H, N_max),
// N_max = ceil(max_len / block) (the LRA code's max_num_blocks; 25 there).
//
// Padding (docs/mechanisms.md section 2): padded keys and values are zeroed before block means and
// sorting; the Sinkhorn runs on the valid blocks only (rows and columns of fully padded blocks are
// cut off by a −1e9 bias, so S_IJ = 0 exactly between a valid and a padded block and the valid part
// is doubly stochastic on its own); own-block padded keys get −1e9; a sorted slot t is masked only
// when no valid block has a valid position t (a single partial block).
// Key mask (mask_zero_tokens): a hidden key is treated as a pad inside its block — key and value
// zeroed before the block means and the sorting (so it enters no sorted block), −1e9 in its own
// block, its sorted slot t masked when no valid block has a visible position t; block means
// average the visible keys. The Sinkhorn problem still spans every block holding a valid position.
//
// Where the released LRA code differs (quirks, documented and not copied;
// models/sinkhorn_transformer/sinkhorn_attention.py, docs/mechanisms.md section 11):
//   - sort_activation='softmax' by default: R is only row-softmaxed, no Sinkhorn iterations
//     (its Sinkhorn path uses n_iters=1, temperature 1, logits clipped to ±1);
//   - (a) blocks are formed by a strided reshape (block = positions j, j+N_B, j+2N_B, ...)
//     while the padding mask is reshaped as contiguous blocks;
//   - (b) the sorting einsum('bskhd,bnhl->bsnhd') sums the key-block index and the
//     permutation index separately, so every "sorted" block is the sum of all blocks and, as
//     softmax rows sum to 1, the SortNet gets zero gradient (here: K̂_I = Σ_J S_IJ K_J, and a
//     test checks the SortNet is trained);
//   - (c) no padding to a multiple of b; no padding mask in the sorted part;
//   - the output is local attention + sorted attention as two separate softmaxes summed (here:
//     one softmax over the 2b concatenated keys, as the paper);
//   - SortNet is a single Dense on the per-block *sum* of keys (here: the mean, so R does not
//     grow with b; the paper suggests a small ReLU MLP on block sums of the input);
//   - (d) the encoder has no CLS token and only MEAN pooling + one Dense (model level).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "key_mask.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/error.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "mechanisms.hpp"

namespace lra::attn {
namespace {

constexpr float kMasked = -1e9f;  // additive bias of a masked logit (finite: never NaN)

const ParamSpec kBlock{"block", "50", "block size b (LRA 50; image configs 64)"};
const ParamSpec kIters{"n_iters", "7", "Sinkhorn normalisations in log space (paper 5-8)"};
const ParamSpec kTemp{"temperature", "0.75", "Sinkhorn temperature tau (paper, lucidrains)"};
const ParamSpec kGumbel{"gumbel", "true", "Gumbel noise on the sort logits in training"};

// Row copy (B, H, N, d) -> (B, H, m, d), contiguous: row i of batch b is x's row i when
// i < limit[b] (and < N), else zero. x may be any view with a unit last stride (the permuted
// heads of split_heads): rows are memcpy'd, no strided element walk.
Tensor copy_rows(const Tensor& x_in, int64_t m, const std::vector<int32_t>& limit) {
  const Tensor x = x_in.stride(3) == 1 ? x_in : x_in.contiguous();
  const int64_t B = x.size(0), H = x.size(1), n = x.size(2), d = x.size(3);
  Tensor out = Tensor::empty({B, H, m, d});
  const float* px = x.data<float>();
  float* po = out.data<float>();
  parallel_for(B * H, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / H, h = t % H;
      const int64_t keep = std::min<int64_t>(std::min<int64_t>(limit[size_t(b)], n), m);
      const float* src = px + b * x.stride(0) + h * x.stride(1);
      float* dst = po + t * m * d;
      for (int64_t i = 0; i < keep; ++i)
        std::memcpy(dst + i * d, src + i * x.stride(2), size_t(d) * sizeof(float));
      std::memset(dst + keep * d, 0, size_t((m - keep) * d) * sizeof(float));
    }
  });
  return out;
}

// Differentiable copy_rows: pads to (or crops at) m rows and zeroes rows >= limit[b].
// Its adjoint is the same copy back to x's N rows.
Var take_rows(const Var& x, int64_t m, std::vector<int32_t> limit) {
  Tensor out = copy_rows(x.data(), m, limit);
  const int64_t n = x.size(2);
  return make_result(out, "take_rows", {x}, [n, limit](const Tensor& g, InputGrads& in) {
    if (in.needs(0)) in.set(0, copy_rows(g, n, limit));
  });
}

// The per-forward layout: blocks and how many of them hold a valid position.
struct BlockLayout {
  int64_t batch = 0, heads = 0, n = 0, d = 0, block = 1, blocks = 1, padded = 0;
  std::vector<int32_t> len, live;  // (B) valid positions, blocks holding one: ceil(len / b)
  std::vector<uint8_t> visible;    // (B, N') 1: a valid key the key mask does not hide
  bool masked = false;             // a key mask hides some keys
  bool seen(int64_t b, int64_t j) const { return visible[size_t(b * padded + j)] != 0; }
};

// What one forward computes and the dense face reads.
struct SinkhornOut {
  Var out;    // (B, H, N, d) attention output
  Var probs;  // (B, H, N_B, b, 2b) weights over [own block ; sorted block]
  Var sort;   // (B, H, N_B, N_B) soft permutation S
};

class SinkhornAttention : public MultiHeadAttention {
 public:
  explicit SinkhornAttention(const MechanismOptions& o) : MultiHeadAttention(o), layer_(o.layer) {
    block_ = o.get_int(kBlock);
    iters_ = o.get_int(kIters);
    temperature_ = float(o.get_float(kTemp));
    gumbel_ = o.get_bool(kGumbel);
    LRA_CHECK(block_ >= 1, ConfigError, "sinkhorn: block=", block_, " must be >= 1");
    LRA_CHECK(iters_ >= 0, ConfigError, "sinkhorn: n_iters=", iters_, " must be >= 0");
    LRA_CHECK(temperature_ > 0.0f, ConfigError, "sinkhorn: temperature=", temperature_,
              " must be > 0");
    max_blocks_ = std::max<int64_t>(1, (o.max_len + block_ - 1) / block_);
    // SortNet: xavier-uniform weight (fan_in d, fan_out N_max), zero bias, per head.
    Tensor w = Tensor::empty({heads_, head_dim_, max_blocks_});
    const float bound = std::sqrt(6.0f / float(head_dim_ + max_blocks_));
    fill_uniform(w, rng_key(o.init_key, {rng_tag("sortnet")}), -bound, bound);
    sort_w_ = register_parameter("sortnet_weight", w);
    sort_b_ = register_parameter("sortnet_bias", Tensor::zeros({heads_, 1, max_blocks_}));
  }
  const char* name() const override { return "sinkhorn"; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    return run(q, k, v, lengths, ctx).out;
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    NoGradGuard ng;
    const BlockLayout L = layout(q, lengths, ctx);
    SinkhornOut r = run(Var(q), Var(k), Var(k), lengths, ctx);
    const Tensor p = r.probs.data().contiguous();  // (B, H, N_B, b, 2b)
    const Tensor s = r.sort.data().contiguous();   // (B, H, N_B, N_B)
    const int64_t b = L.block, nb = L.blocks, n = L.n;
    Tensor w = Tensor::zeros({L.batch, L.heads, n, n});
    const float* pp = p.data<float>();
    const float* ps = s.data<float>();
    float* pw = w.data<float>();
    for (int64_t bh = 0; bh < L.batch * L.heads; ++bh) {
      for (int64_t bi = 0; bi < nb; ++bi)
        for (int64_t u = 0; u < b && bi * b + u < n; ++u) {
          const int64_t i = bi * b + u;
          const float* prow = pp + ((bh * nb + bi) * b + u) * 2 * b;
          float* wrow = pw + (bh * n + i) * n;
          for (int64_t t = 0; t < b; ++t) {
            if (L.seen(bh / L.heads, bi * b + t)) wrow[bi * b + t] += prow[t];
            for (int64_t bj = 0; bj < nb; ++bj)
              if (L.seen(bh / L.heads, bj * b + t))
                wrow[bj * b + t] += ps[(bh * nb + bi) * nb + bj] * prow[b + t];
          }
        }
    }
    return w;
  }

 private:
  BlockLayout layout(const Tensor& q, const Tensor& lengths, const nn::ForwardContext& ctx) const {
    BlockLayout L;
    L.batch = q.size(0), L.heads = q.size(1), L.n = q.size(2), L.d = q.size(3);
    L.block = block_;
    L.blocks = std::max<int64_t>(1, (L.n + block_ - 1) / block_);
    L.padded = L.blocks * block_;
    LRA_CHECK(L.blocks <= max_blocks_, ConfigError, "sinkhorn: N = ", L.n, " needs ", L.blocks,
              " blocks of ", block_, " but the SortNet was built for ", max_blocks_,
              " (max_len); build the model with a larger max_len");
    LRA_CHECK(lengths.dtype() == DType::I32 && lengths.dim() == 1 && lengths.size(0) == L.batch,
              ShapeError, "sinkhorn: lengths must be i32 (B = ", L.batch, "), got ",
              lengths.describe());
    for (int32_t l : lengths.to_ints()) {
      const int32_t len = std::clamp<int32_t>(l, 0, int32_t(L.n));
      L.len.push_back(len);
      L.live.push_back(int32_t((len + block_ - 1) / block_));
    }
    const Tensor km = keymask::checked(ctx, L.batch, L.n, "sinkhorn");
    const int32_t* ok = km.defined() ? km.data<int32_t>() : nullptr;
    L.masked = ok != nullptr;
    L.visible.assign(size_t(L.batch * L.padded), 0);
    for (int64_t bi = 0; bi < L.batch; ++bi)
      for (int64_t j = 0; j < L.len[size_t(bi)]; ++j)
        L.visible[size_t(bi * L.padded + j)] = !ok || ok[bi * L.n + j] != 0;
    return L;
  }

  // The soft permutation S (B, H, N_B, N_B) from the blocks of masked keys kb (B, H, N_B, b, d).
  Var sort_matrix(const BlockLayout& L, const Var& kb, const nn::ForwardContext& ctx) const {
    const int64_t nb = L.blocks, b = L.block;
    // Block means over visible positions: sums times 1 / count (0 for a block with none).
    Tensor inv_count = Tensor::zeros({L.batch, 1, nb, 1});
    for (int64_t bi = 0; bi < L.batch; ++bi)
      for (int64_t j = 0; j < nb; ++j) {
        int64_t count = 0;
        for (int64_t t = 0; t < b; ++t) count += L.seen(bi, j * b + t);
        if (count > 0) inv_count.data<float>()[bi * nb + j] = 1.0f / float(count);
      }
    Var means = mul(sum(kb, 3), Var(inv_count));   // (B, H, N_B, d)
    Var r = add(matmul(means, sort_w_), sort_b_);  // (B, H, N_B, N_max)
    r = slice(r, 3, 0, nb);                        // (B, H, N_B, N_B)
    if (ctx.training && gumbel_) {
      // a piece of a larger batch takes its rows' draws (ForwardContext::row0)
      Tensor g = Tensor::empty({ctx.row0 + L.batch, L.heads, nb, nb});
      fill_uniform(g, rng_key(ctx.key(path() + ".gumbel"), {uint64_t(layer_)}), 0.0f, 1.0f);
      if (ctx.row0 > 0) g = g.slice(0, ctx.row0, ctx.row0 + L.batch).contiguous();
      float* pg = g.data<float>();
      for (int64_t e = 0; e < g.numel(); ++e) pg[e] = -std::log(-std::log(std::max(pg[e], 1e-10f)));
      r = add(r, Var(g));
    }
    // Valid blocks form their own Sinkhorn problem: keep (valid, valid) logits, set (padded,
    // padded) to 0 and cut the rest off with −1e9, which stays −1e9 through the normalisations.
    Tensor keep = Tensor::zeros({L.batch, 1, nb, nb}), cut = Tensor::zeros({L.batch, 1, nb, nb});
    for (int64_t bi = 0; bi < L.batch; ++bi)
      for (int64_t i = 0; i < nb; ++i)
        for (int64_t j = 0; j < nb; ++j) {
          const bool vi = i < L.live[size_t(bi)], vj = j < L.live[size_t(bi)];
          const int64_t e = (bi * nb + i) * nb + j;
          keep.data<float>()[e] = vi && vj ? 1.0f : 0.0f;
          cut.data<float>()[e] = vi == vj ? 0.0f : kMasked;
        }
    Var la = add(mul(mul(r, 1.0f / temperature_), Var(keep)), Var(cut));
    for (int64_t it = 0; it < iters_; ++it) {
      la = sub(la, logsumexp(la, 3, true));  // rows sum to 1
      la = sub(la, logsumexp(la, 2, true));  // columns sum to 1
    }
    return exp(la);
  }

  SinkhornOut run(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
                  const nn::ForwardContext& ctx) const {
    const BlockLayout L = layout(q.data(), lengths, ctx);
    const int64_t B = L.batch, H = L.heads, n = L.n, d = L.d, b = L.block, nb = L.blocks;
    const int64_t np = L.padded;
    // Blocks: queries padded with zero rows to N'; keys and values also zeroed at padding.
    const std::vector<int32_t> all(static_cast<size_t>(B), static_cast<int32_t>(n));
    Var qb = reshape(take_rows(q, np, all), {B, H, nb, b, d});
    Var kb = reshape(take_rows(k, np, L.len), {B, H, nb, b, d});
    Var vb = reshape(take_rows(v, np, L.len), {B, H, nb, b, d});
    if (L.masked) {  // hidden keys and values zeroed like pads (B, 1, N_B, b, 1)
      Tensor vis = Tensor::empty({B, 1, nb, b, 1});
      for (int64_t e = 0; e < B * np; ++e) vis.data<float>()[e] = L.visible[size_t(e)];
      kb = mul(kb, Var(vis)), vb = mul(vb, Var(vis));
    }

    SinkhornOut res;
    res.sort = sort_matrix(L, kb, ctx);
    // [K_I ; K̂_I] for every block in one product, with no copy of the blocks: the mixing
    // matrix M (B, H, 2 N_B, N_B) has row 2I = e_I and row 2I+1 = S_I, so M·K_blocks holds
    // block I's own keys then its sorted keys, contiguous: (B, H, N_B, 2b, d).
    Tensor eye = Tensor::zeros({1, 1, nb, 1, nb});
    for (int64_t i = 0; i < nb; ++i) eye.data<float>()[i * nb + i] = 1.0f;
    Var mix = reshape(concat({Var(eye.expand({B, H, nb, 1, nb})), unsqueeze(res.sort, 3)}, 3),
                      {B, H, 2 * nb, nb});
    Var keys = reshape(matmul(mix, reshape(kb, {B, H, nb, b * d})), {B, H, nb, 2 * b, d});
    Var vals = reshape(matmul(mix, reshape(vb, {B, H, nb, b * d})), {B, H, nb, 2 * b, d});

    // Key bias (B, 1, N_B, 1, 2b): own-block padding (and hidden keys); sorted slot t when no
    // valid block has a visible position t (without a key mask: only a single partial block),
    // and every sorted slot of a padded query block.
    Tensor bias = Tensor::zeros({B, 1, nb, 1, 2 * b});
    std::vector<uint8_t> slot(static_cast<size_t>(b));
    for (int64_t bi = 0; bi < B; ++bi) {
      const int64_t live = L.live[size_t(bi)];
      for (int64_t t = 0; t < b; ++t) {
        slot[size_t(t)] = 0;
        for (int64_t j = 0; j < live && !slot[size_t(t)]; ++j)
          slot[size_t(t)] = L.seen(bi, j * b + t);
      }
      for (int64_t blk = 0; blk < nb; ++blk) {
        float* row = bias.data<float>() + (bi * nb + blk) * 2 * b;
        for (int64_t t = 0; t < b; ++t) {
          if (!L.seen(bi, blk * b + t)) row[t] = kMasked;
          if (blk >= live || !slot[size_t(t)]) row[b + t] = kMasked;
        }
      }
    }
    const float scale = 1.0f / std::sqrt(float(d));
    res.probs = softmax(add(matmul(qb, keys, false, true), Var(bias)), {}, scale);
    Var p = dropout(res.probs, attn_dropout_, ctx.key(path() + ".attn_dropout"), ctx.training,
                    ctx.counter0(res.probs.data().numel()));
    res.out = take_rows(reshape(matmul(p, vals), {B, H, np, d}), n, all);
    return res;
  }

  int64_t block_, iters_, max_blocks_;
  float temperature_;
  bool gumbel_;
  int layer_;
  Var sort_w_, sort_b_;
};

}  // namespace

MechanismInfo sinkhorn_mechanism() {
  return {"sinkhorn",
          "Sinkhorn Transformer (sparse Sinkhorn attention)",
          "each block sees itself + one block mixed by a learned Sinkhorn soft permutation; "
          "O(N b d + N_B N d)",
          {kBlock, kIters, kTemp, kGumbel},
          [](const MechanismOptions& o) { return std::make_unique<SinkhornAttention>(o); }};
}

}  // namespace lra::attn
