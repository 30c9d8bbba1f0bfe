// Private: the structured attention patterns that run on the block-sparse kernel.
//
// Each pattern has two faces that tests hold to each other (check_layout, pair by pair):
//   allowed(...)  the definition: may query i see key j?  (the dense faces read it)
//   layout(...)   the visits of the kernel: which key tiles each query tile computes, and
//                 which element mask trims the visits that are not tile-aligned.
// Defined next to the mechanism that uses them (local.cpp, sparse.cpp, longformer.cpp,
// bigbird.cpp).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "block_sparse.hpp"

namespace lra::attn::pattern {

// Non-overlapping contiguous blocks: i sees j iff ⌊i/b⌋ = ⌊j/b⌋.  (local.cpp)
struct Local {
  int64_t block = 50;
  bool allowed(int64_t i, int64_t j) const { return i / block == j / block; }
  std::shared_ptr<bsa::BlockLayout> layout(int64_t n) const;
};

// Sparse Transformer "fixed" pattern: own block (Fixed1) ∪ the last `summary` positions of every
// block (Fixed2), optionally ∧ causal (j ≤ i).  (sparse.cpp)
struct Fixed {
  int64_t block = 50;
  int64_t summary = 10;
  bool causal = false;
  int64_t summary_tile = 64;  // gathered summary keys per key tile
  bool is_summary(int64_t j) const { return j % block >= block - summary; }
  bool allowed(int64_t i, int64_t j) const {
    return (i / block == j / block || is_summary(j)) && (!causal || j <= i);
  }
  std::shared_ptr<bsa::BlockLayout> layout(int64_t n) const;
};

// Longformer sliding window: j − i ∈ [−left, right]; with global_first, position 0 is global:
// every query sees key 0, and query 0 sees every key.  (longformer.cpp)
struct Window {
  int64_t left = 255;
  int64_t right = 256;
  bool global_first = false;
  int64_t tile = 64;
  bool in_band(int64_t i, int64_t j) const { return j - i >= -left && j - i <= right; }
  bool allowed(int64_t i, int64_t j) const {
    return in_band(i, j) || (global_first && (i == 0 || j == 0));
  }
  // The kernel's share: the band plus the global column; the global row is computed apart.
  bool kernel_allowed(int64_t i, int64_t j) const {
    return in_band(i, j) || (global_first && j == 0);
  }
  std::shared_ptr<bsa::BlockLayout> layout(int64_t n) const;
};

// BigBird ITC: blocks of `block`; for a sequence of nb = ⌈len/block⌉ blocks, query block q sees
// key blocks {0, nb−1} (global) ∪ {q − w/2 .. q + w/2} (window) ∪ `random` blocks drawn per
// (head, q) from the rest; query blocks 0 and nb−1 see everything.  (bigbird.cpp)
struct BigBird {
  int64_t block = 64;
  int64_t window = 3;
  int64_t random = 3;
  int64_t heads = 1;
  uint64_t key = 0;  // counter key of the random graph (fixed per model seed and layer)
  // The random key blocks of query block q, head h, in a sequence of nb blocks (sorted).
  std::vector<int32_t> random_blocks(int64_t h, int64_t q, int64_t nb) const;
  bool allowed(int64_t h, int64_t i, int64_t j, int64_t len) const;
  // Layout over n positions for a sequence of valid length len (the pattern depends on len).
  std::shared_ptr<bsa::BlockLayout> layout(int64_t n, int64_t len) const;
};

}  // namespace lra::attn::pattern
