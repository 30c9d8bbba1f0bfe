// Sparse Transformer: the "fixed" factorised pattern (Child et al. 2019, section 4.2), merged.
//
// Positions are cut into blocks of l; the last c positions of every block are its "summary"
// columns. Query i sees
//   Fixed1  A1(i) = { j : ⌊j / l⌋ = ⌊i / l⌋ }              its own block
//   Fixed2  A2(i) = { j : j mod l ∈ {l − c, ..., l − 1} }    every block's summary columns
// in one merged head: allowed(i, j) = (j ∈ A1(i) ∪ A2(i)) [∧ j ≤ i with causal=true].
// Every head uses the same pattern. Then O = softmax over the allowed keys of Q Kᵀ/√d, times V.
//
// Fast path: the block-sparse online-softmax kernel (block_sparse.hpp). Query tile = one block
// of l rows; it visits (a) its own block (masked j ≤ i when causal) and (b) the summary
// columns, gathered into key tiles of 64 positions, with an element mask dropping the own
// block's summary columns (already in (a)) and, when causal, the keys after i. Gathered key
// tiles are packed into a small buffer per visit and their dK, dV scattered back.
// Cost: time O(B·H·(N·l + N·(N/l)·c)·d) — N·l for the blocks plus N²·c/l for the summary
// columns: with the paper's l ≈ √N that is O(N√N·d); with LRA's fixed l = 50, c = 10 it is a
// quadratic term 5x smaller than dense attention. Memory O(B·H·N·d): no N x N tensor, weights
// recomputed in backward. Dense face: the (B, H, N, N) softmax weights over allowed keys.
//
// Hyper-parameters: block l = 50 and summary c = 10 (LRA's sparse_transformer configuration;
// the module default there is 128/32, the paper's enwik8 setting); causal = false.
//
// Why non-causal by default: the paper's patterns are causal because it models sequences
// autoregressively; an LRA model is a bidirectional classifier that pools the CLS token at
// position 0, and under a causal pattern that token sees only itself. The fixed pattern is
// well defined without the causal restriction (every query sees its block and all summaries),
// and that is what a classifier needs. causal=true gives the paper's autoregressive pattern.
//
// Where the released LRA code (models/sparse_transformer/sparse_attention.py) differs —
// documented, not copied (docs/mechanisms.md section 6):
//   - Fixed2 also keeps the first column of every block (j mod l = 0, from reading the paper's
//     {t, ..., l} with l ≡ 0), so each block has c + 1 summary columns;
//   - the merged mask is ANDed with a lower-triangular (causal) mask even for classification,
//     and, to keep the CLS token useful, the mask is built for N − 1 positions and padded so
//     that row 0 and column 0 are fully open (CLS sees and is seen by everything);
//   - it materialises the dense (1, 1, N, N) mask and runs full N² attention: no saving in
//     time or memory (it could not benchmark the pattern's cost; this kernel can).
#include <algorithm>
#include <cmath>

#include "mechanisms.hpp"
#include "pattern_attention.hpp"
#include "patterns.hpp"

namespace lra::attn {

namespace {
constexpr int kSummaryVisit = 1;  // summary columns minus the own block (∧ causal)
constexpr int kCausalBlock = 2;   // own block, j ≤ i
}  // namespace

std::shared_ptr<bsa::BlockLayout> pattern::Fixed::layout(int64_t n) const {
  auto lay = std::make_shared<bsa::BlockLayout>();
  lay->n = n;
  lay->tile_q = block;
  const int64_t nb = lay->query_tiles();
  for (int64_t t = 0; t < nb; ++t) lay->add_key_range(t * block, std::min(n, (t + 1) * block));
  // Summary columns, in order, gathered into tiles: tile s covers positions [lo[s], hi[s]].
  std::vector<int32_t> summary_pos;
  for (int64_t j = 0; j < n; ++j)
    if (is_summary(j)) summary_pos.push_back(int32_t(j));
  std::vector<int32_t> tiles;
  std::vector<int64_t> lo, hi;
  for (size_t s = 0; s < summary_pos.size(); s += size_t(summary_tile)) {
    const size_t e = std::min(summary_pos.size(), s + size_t(summary_tile));
    tiles.push_back(lay->add_key_list({summary_pos.begin() + s, summary_pos.begin() + e}));
    lo.push_back(summary_pos[s]), hi.push_back(summary_pos[e - 1]);
  }
  for (int64_t r = 0; r < nb; ++r) {
    const int64_t b0 = r * block, b1 = std::min(n, b0 + block);  // own block [b0, b1)
    lay->visit(int32_t(r), causal ? kCausalBlock : 0);
    for (size_t s = 0; s < tiles.size(); ++s) {
      if (causal && lo[s] >= b0) continue;  // own block (done) or after every query of it
      const bool touches_own = hi[s] >= b0 && lo[s] < b1;
      const bool needs_mask = touches_own || (causal && hi[s] >= b0);
      lay->visit(tiles[s], needs_mask ? kSummaryVisit : 0);
    }
    lay->end_row();
  }
  const int64_t l = block;
  const bool c = causal;
  lay->mask_tile = [l, c](int64_t, int kind, int64_t i0, int64_t ni, const int32_t* kpos,
                          int64_t nk, float* s, int64_t rs, int64_t cs) {
    for (int64_t x = 0; x < ni; ++x) {
      const int64_t i = i0 + x;
      for (int64_t y = 0; y < nk; ++y) {
        const int64_t j = kpos[y];
        const bool ok = kind == kCausalBlock ? j <= i : (j / l != i / l && (!c || j <= i));
        if (!ok) s[x * rs + y * cs] = -INFINITY;
      }
    }
  };
  return lay;
}

namespace {

const ParamSpec kBlock{"block", "50", "block length l (LRA: 50)"};
const ParamSpec kSummary{"summary", "10", "summary columns c at the end of every block (LRA: 10)"};
const ParamSpec kCausal{"causal", "false",
                        "AND the pattern with j <= i (the paper's autoregressive form)"};

std::unique_ptr<MultiHeadAttention> make_sparse(const MechanismOptions& o) {
  pattern::Fixed pat;
  pat.block = o.get_int(kBlock);
  pat.summary = o.get_int(kSummary);
  pat.causal = o.get_bool(kCausal);
  LRA_CHECK(pat.block >= 1, ConfigError, "sparse: block=", pat.block, " must be positive");
  LRA_CHECK(pat.summary >= 0 && pat.summary <= pat.block, ConfigError,
            "sparse: summary=", pat.summary, " must be in [0, block=", pat.block, "]");
  return std::make_unique<PatternAttention<pattern::Fixed>>(o, "sparse", pat);
}

}  // namespace

MechanismInfo sparse_mechanism() {
  return {"sparse",
          "Sparse Transformer (fixed pattern)",
          "each query sees its block of `block` and the last `summary` positions of every block; "
          "O(N*block + N^2*summary/block) time, O(N) memory",
          {kBlock, kSummary, kCausal},
          make_sparse};
}

}  // namespace lra::attn
