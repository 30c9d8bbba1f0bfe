// Local attention: softmax attention inside non-overlapping contiguous blocks.
//
// The sequence is cut into blocks of b positions, [0, b), [b, 2b), ...; each query attends to
// the keys of its own block only:
//   allowed(i, j) = ⌊i / b⌋ = ⌊j / b⌋
//   for each block r:  O_r = softmax(Q_r K_rᵀ / √d) V_r      Q_r, K_r, V_r (B, H, b, d)
// A sequence whose length is not a multiple of b ends in a shorter block (equivalently: padded
// up to a multiple of b with invalid positions, which receive no weight).
//
// Fast path: the block-sparse online-softmax kernel (block_sparse.hpp) with query tile = key
// tile = one block and one visit per block, so nothing outside the diagonal blocks is computed
// (blocks longer than 128 are cut into 64-row tiles, masked where a tile straddles blocks).
// Cost: time O(B·H·N·b·d), memory O(B·H·N·d) (the N·b weights are recomputed in backward,
// never stored). Dense face: the (B, H, N, N) block-diagonal softmax weights.
//
// Hyper-parameters: block = 50 (LRA's encoder default, docs/mechanisms.md section 5; LRA's image
// configs use 64; the PyTorch twin of docs/performance.md section 4 uses 256).
//
// Where the released LRA code (models/local/local_attention.py) differs — documented, not
// copied (docs/mechanisms.md section 5):
//   - it pads N up with b − (N mod b) positions, i.e. a whole extra block when N is already a
//     multiple of b, and marks those pad positions valid (−1e9 boolean padding);
//   - it reshapes (B, N, H, d) row-major to (B, b, N/b, H, d) and attends over the size-b axis,
//     so each "block" is the strided set {j, j + N/b, j + 2N/b, ...}: a dilated pattern, while
//     its padding mask is reshaped as contiguous blocks (mask and groups do not match).
// Here blocks are contiguous, as the method (and the paper's description) intends, and padding
// comes from the per-sequence lengths.
#include <algorithm>
#include <cmath>

#include "mechanisms.hpp"
#include "pattern_attention.hpp"
#include "patterns.hpp"

namespace lra::attn {

// Blocks up to kMaxTile positions are tiles themselves: query tile r = block r visits key tile
// r, where every pair is allowed. Longer blocks are cut into tiles of kSubTile (the scratch of
// a task grows with tile², not with the block): a query tile visits the key tiles of its
// block(s), with an element mask (⌊i/b⌋ = ⌊j/b⌋) where a tile straddles a block edge.
std::shared_ptr<bsa::BlockLayout> pattern::Local::layout(int64_t n) const {
  constexpr int64_t kMaxTile = 128, kSubTile = 64;
  auto lay = std::make_shared<bsa::BlockLayout>();
  lay->n = n;
  if (block <= kMaxTile) {
    lay->tile_q = block;
    for (int64_t r = 0; r < lay->query_tiles(); ++r) {
      lay->visit(lay->add_key_range(r * block, std::min(n, (r + 1) * block)));
      lay->end_row();
    }
    return lay;
  }
  const int64_t t = kSubTile, b = block;
  lay->tile_q = t;
  for (int64_t k = 0; k < lay->query_tiles(); ++k)
    lay->add_key_range(k * t, std::min(n, (k + 1) * t));
  for (int64_t r = 0; r < lay->query_tiles(); ++r) {
    const int64_t a = r * t, e = std::min(n, a + t) - 1;                  // rows [a, e]
    const int64_t lo = a / b * b, hi = std::min(n, (e / b + 1) * b) - 1;  // their blocks' keys
    for (int64_t k = lo / t; k <= hi / t; ++k) {
      const int64_t k0 = k * t, k1 = std::min(n, k0 + t) - 1;
      const bool one_block = a / b == e / b && k0 / b == a / b && k1 / b == a / b;
      lay->visit(int32_t(k), one_block ? 0 : 1);
    }
    lay->end_row();
  }
  lay->mask_tile = [b](int64_t, int, int64_t i0, int64_t ni, const int32_t* kpos, int64_t nk,
                       float* s, int64_t rs, int64_t cs) {
    for (int64_t x = 0; x < ni; ++x)
      for (int64_t y = 0; y < nk; ++y)
        if ((i0 + x) / b != kpos[y] / b) s[x * rs + y * cs] = -INFINITY;
  };
  return lay;
}

namespace {

const ParamSpec kBlock{"block", "50", "positions per block (LRA: 50; image configs 64)"};

std::unique_ptr<MultiHeadAttention> make_local(const MechanismOptions& o) {
  pattern::Local pat;
  pat.block = o.get_int(kBlock);
  LRA_CHECK(pat.block >= 1, ConfigError, "local: block=", pat.block, " must be positive");
  return std::make_unique<PatternAttention<pattern::Local>>(o, "local", pat);
}

}  // namespace

MechanismInfo local_mechanism() {
  return {"local",
          "Local attention (non-overlapping blocks)",
          "each query sees the keys of its own contiguous block of `block` positions; "
          "O(N*block) time, O(N) memory",
          {kBlock},
          make_local};
}

}  // namespace lra::attn
