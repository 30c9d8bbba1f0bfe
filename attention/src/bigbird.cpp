// BigBird: window + global + random block attention, ITC form (Zaheer et al. 2020).
//
// A sequence of len tokens is cut into nb = ⌈len / b⌉ blocks of b (the last one padded with
// invalid positions). Query block q sees the key blocks
//   global   {0, nb − 1}                          (the first and last blocks: ITC, existing tokens)
//   window   {q − ⌊w/2⌋, ..., q + ⌊w/2⌋}           (w = 3 blocks)
//   random   r blocks drawn from the others, per (head, q)
// and the global query blocks 0 and nb − 1 see every block. Within the allowed keys:
//   O_i = softmax_j(q_i·k_j / √d) v_j
// The random graph is fixed: a counter-based draw keyed by (model seed, layer, head, nb, q),
// so it never changes during training and does not depend on threads or batch composition.
// The pattern is built per sequence from its own length (nb from len, the last real block is
// the global one), so a sequence gets the same pattern whatever it is batched with.
//
// Fast path: the block-sparse online-softmax kernel (block_sparse.hpp) with tile = block: each
// query block visits its 3 + 2 + r key blocks (every pair of a visit is allowed: no element
// mask), the global rows visit all nb. One layout per head (the random blocks differ), one per
// distinct block count in the batch.
// Cost: time O(B·H·N·(w + 2 + r)·b·d) (+ O(B·H·2b·N·d) for the two global rows of blocks),
// memory O(B·H·N·d): no N x N tensor, the weights are recomputed in backward. Dense face: the
// (B, H, N, N) softmax weights over the allowed keys.
//
// Hyper-parameters: block b = 64, window w = 3 blocks, random r = 3 blocks (LRA's BigBird and
// the paper's base setting); global = first and last block.
// Attention dropout follows the model's attn_dropout like the other softmax mechanisms (the
// LRA and original BigBird block-sparse paths apply none).
//
// Where the released LRA code (models/bigbird/bigbird_attention.py) differs — documented, not
// copied (docs/mechanisms.md section 8):
//   - pads N to a multiple of b and, like local attention, adds a whole extra block when N is
//     already a multiple; the pattern is built for the padded batch length, so the "last"
//     global block of a short sequence is made of padding;
//   - random blocks are drawn with numpy seeded by the layer index at trace time and only
//     among the first min(N, 1024) / b blocks (`last_idx`), identical for the whole batch;
//   - masking is an additive −10000 from blocked validity, output rows multiplied by valid_q;
//   - it needs N / b >= 5 and falls back to dense attention for causal use.
#include <algorithm>
#include <cmath>
#include <map>

#include "key_mask.hpp"
#include "lra/core/rng.hpp"
#include "mechanisms.hpp"
#include "patterns.hpp"

namespace lra::attn {

std::vector<int32_t> pattern::BigBird::random_blocks(int64_t h, int64_t q, int64_t nb) const {
  if (q <= 0 || q >= nb - 1) return {};  // global query blocks see every block anyway
  const int64_t half = window / 2;
  std::vector<int32_t> candidates;  // neither global nor in the window
  for (int64_t kb = 1; kb < nb - 1; ++kb)
    if (std::abs(kb - q) > half) candidates.push_back(int32_t(kb));
  const size_t m = std::min<size_t>(size_t(std::max<int64_t>(random, 0)), candidates.size());
  const uint64_t k = rng_key(key, {uint64_t(nb), uint64_t(h), uint64_t(q)});
  for (size_t t = 0; t < m; ++t) {  // partial Fisher-Yates: the first m of a random order
    const size_t u = t + size_t(random_below(k, t, candidates.size() - t));
    std::swap(candidates[t], candidates[u]);
  }
  candidates.resize(m);
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

bool pattern::BigBird::allowed(int64_t h, int64_t i, int64_t j, int64_t len) const {
  if (i >= len || j >= len) return false;
  const int64_t nb = (len + block - 1) / block, qb = i / block, kb = j / block;
  if (qb == 0 || qb == nb - 1 || kb == 0 || kb == nb - 1) return true;
  if (std::abs(qb - kb) <= window / 2) return true;
  const std::vector<int32_t> r = random_blocks(h, qb, nb);
  return std::find(r.begin(), r.end(), int32_t(kb)) != r.end();
}

std::shared_ptr<bsa::BlockLayout> pattern::BigBird::layout(int64_t n, int64_t len) const {
  auto lay = std::make_shared<bsa::BlockLayout>();
  lay->n = n;
  lay->tile_q = block;
  lay->heads = heads;
  const int64_t tiles = lay->query_tiles();
  for (int64_t t = 0; t < tiles; ++t) lay->add_key_range(t * block, std::min(n, (t + 1) * block));
  const int64_t nb = (std::min(len, n) + block - 1) / block, half = window / 2;
  for (int64_t g = 0; g < heads; ++g)
    for (int64_t q = 0; q < tiles; ++q) {
      if (q < nb) {
        std::vector<int32_t> keys;
        if (q == 0 || q == nb - 1) {
          for (int64_t kb = 0; kb < nb; ++kb) keys.push_back(int32_t(kb));
        } else {
          keys = random_blocks(g, q, nb);
          keys.push_back(0);
          keys.push_back(int32_t(nb - 1));
          for (int64_t kb = std::max<int64_t>(0, q - half); kb <= std::min(nb - 1, q + half); ++kb)
            keys.push_back(int32_t(kb));
          std::sort(keys.begin(), keys.end());
          keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        }
        for (int32_t kb : keys) lay->visit(kb);
      }
      lay->end_row();  // blocks past the sequence: padded queries, nothing to visit
    }
  return lay;
}

namespace {

const ParamSpec kBlock{"block", "64", "block length b (LRA: 64)"};
const ParamSpec kWindow{"window", "3", "sliding window in blocks, odd (LRA: 3)"};
const ParamSpec kRandom{"random", "3", "random key blocks per query block (LRA: 3)"};

class BigBirdAttention : public MultiHeadAttention {
 public:
  explicit BigBirdAttention(const MechanismOptions& o) : MultiHeadAttention(o) {
    pattern_.block = o.get_int(kBlock);
    pattern_.window = o.get_int(kWindow);
    pattern_.random = o.get_int(kRandom);
    pattern_.heads = o.heads;
    pattern_.key = rng_key(o.init_key, {rng_tag("bigbird.random_blocks")});
    LRA_CHECK(pattern_.block >= 1, ConfigError, "bigbird: block=", pattern_.block,
              " must be positive");
    LRA_CHECK(pattern_.window >= 1 && pattern_.window % 2 == 1, ConfigError,
              "bigbird: window=", pattern_.window, " must be a positive odd number of blocks");
    LRA_CHECK(pattern_.random >= 0, ConfigError, "bigbird: random=", pattern_.random,
              " must be >= 0");
  }
  const char* name() const override { return "bigbird"; }

  Var attend(const Var& q, const Var& k, const Var& v, const Tensor& lengths,
             const nn::ForwardContext& ctx) override {
    const int64_t B = q.size(0), n = q.size(2);
    const std::vector<int32_t> len =
        lengths.defined() ? lengths.to_ints() : std::vector<int32_t>(size_t(B), int32_t(n));
    LRA_CHECK(int64_t(len.size()) == B, ShapeError, "bigbird: lengths must have B = ", B,
              " entries, got ", len.size());
    std::vector<std::shared_ptr<const bsa::BlockLayout>> layouts;
    std::map<int64_t, std::shared_ptr<const bsa::BlockLayout>> by_blocks;  // nb -> layout
    for (int32_t l : len) {
      const int64_t nb = (std::clamp<int64_t>(l, 0, n) + pattern_.block - 1) / pattern_.block;
      auto& lay = by_blocks[nb];
      if (!lay) lay = pattern_.layout(n, l);
      layouts.push_back(lay);
    }
    bsa::Spec spec = bsa::layer_spec(std::move(layouts), 1.0f / std::sqrt(float(head_dim_)),
                                     attn_dropout_, ctx, path() + ".attn_dropout");
    spec.key_mask = keymask::checked(ctx, B, n, "bigbird");
    return bsa::attention(q, k, v, lengths, spec);
  }

  Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths,
                       const nn::ForwardContext& ctx) override {
    const int64_t B = q.size(0), H = q.size(1), n = q.size(2), blk = pattern_.block;
    const std::vector<int32_t> len =
        lengths.defined() ? lengths.to_ints() : std::vector<int32_t>(size_t(B), int32_t(n));
    // seen[b][(h·nb + qb)·nb + kb]: the block pattern of each sequence, from the definition.
    std::vector<std::vector<char>> seen(static_cast<size_t>(B));
    std::vector<int64_t> blocks(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      const int64_t l = std::clamp<int64_t>(len[size_t(b)], 0, n), nb = (l + blk - 1) / blk;
      blocks[size_t(b)] = nb;
      seen[size_t(b)].assign(size_t(H * nb * nb), 0);
      for (int64_t h = 0; h < H; ++h)
        for (int64_t qb = 0; qb < nb; ++qb)
          for (int64_t kb = 0; kb < nb; ++kb)
            seen[size_t(b)][size_t((h * nb + qb) * nb + kb)] =
                pattern_.allowed(h, qb * blk, kb * blk, l);
    }
    return bsa::dense_weights(q, k, lengths, 1.0f / std::sqrt(float(head_dim_)),
                              keymask::masked(
                                  [&](int64_t b, int64_t h, int64_t i, int64_t j) {
                                    const int64_t nb = blocks[size_t(b)];
                                    const int64_t qb = i / blk, kb = j / blk;
                                    return qb < nb && kb < nb &&
                                           seen[size_t(b)][size_t((h * nb + qb) * nb + kb)] != 0;
                                  },
                                  keymask::checked(ctx, B, n, "bigbird")));
  }

 private:
  pattern::BigBird pattern_;
};

}  // namespace

MechanismInfo bigbird_mechanism() {
  return {"bigbird",
          "BigBird (window + global + random blocks)",
          "each query block sees `window` neighbouring blocks, the first and last block and "
          "`random` random blocks; O(N*(window+2+random)*block) time, O(N) memory",
          {kBlock, kWindow, kRandom},
          [](const MechanismOptions& o) { return std::make_unique<BigBirdAttention>(o); }};
}

}  // namespace lra::attn
