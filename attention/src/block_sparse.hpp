// Block-sparse online-softmax attention: FlashAttention's tiled algorithm (Dao et al. 2022,
// docs/mechanisms.md section 4) over a list of (query tile, key tile) pairs.
//
// One kernel serves every exact softmax pattern in this folder:
//   transformer (kernel=flash)  every query tile visits every key tile
//   local                       query block r visits key block r
//   sparse (fixed)              own block + the "summary" columns, gathered into key tiles
//   longformer                  the key tiles overlapping the band [i - left, i + right]
//   bigbird                     window, global and random key blocks, per head
//
// Forward, per (batch b, head h, query tile I) with rows Q_I (Tq, d):
//   for each key tile J of I in the layout:   K_J, V_J (Tk, d)
//     S = scale · Q_I K_Jᵀ                     (Tq, Tk)  -inf where the pattern, the layout's
//                                                       element mask or the length forbids
//     m' = max(m, rowmax S);  P = exp(S − m')  l = e^{m−m'} l + rowsum P
//     acc = e^{m−m'} acc + (P ∘ M) V_J         M = dropout multipliers (regenerated, see below)
//   O_I = acc / l;  LSE_I = m + log l           only O (B,H,N,d) and LSE (B,H,N) are stored
// Backward, per (b, h, query tile I), by recomputation:
//   D_I = rowsum(dO_I ∘ O_I)
//   for each key tile J of I:  P = exp(scale · Q_I K_Jᵀ − LSE_I)   (masked entries 0)
//     dV_J += (P ∘ M)ᵀ dO_I;  dP = (dO_I V_Jᵀ) ∘ M;  dS = P ∘ (dP − D_I)
//     dQ_I += scale · dS K_J;  dK_J += scale · dSᵀ Q_I
// Cost: time ∝ (visited tile pairs) · Tq · Tk · d, 2 tile products forward and 5 backward.
// Memory: O, LSE (B, H, N) and, during a call, O(B·H·N·d) working copies — Kᵀ (and Vᵀ in
// backward), the gathered key tiles, and when B·H is small a few partial sums of dK, dV over
// the key tiles each task visits (Note [slots] in block_sparse.cpp) — plus a few tiles per
// task. Never an N x N tensor.
//
// Padding: lengths (B) i32. Keys j >= len_b get no weight (key tiles beyond the length are
// skipped, the straddling tile is clipped); query rows i >= len_b output 0 and their tiles are
// skipped. A valid row with no allowed key outputs 0 (never NaN).
// Key mask (optional): key_mask (B, N) i32; key j of entry b gets no weight where
// key_mask[b, j] == 0 (the LRA reference's `inputs > 0` padding mask on token ids; columns of
// the score tile set to -inf, so forward and backward treat it like the length).
//
// Dropout on the attention weights (training): element (b, h, i, j) is kept with probability
// 1 − p, by uniform01(key, ((b·H + h)·N + i)·N + j) >= p, the same flat index the plain
// softmax -> dropout(P) path uses on its (B, H, N, N) weights; so flash and plain agree
// exactly, and backward regenerates the mask instead of storing it.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "lra/attention/options.hpp"
#include "lra/autograd/var.hpp"
#include "lra/nn/module.hpp"

namespace lra::attn::bsa {

// Which key positions each query tile visits, for sequences of n positions.
//
// Key tiles are lists of positions: tile t holds key_pos[key_start[t] .. key_start[t+1]).
// A tile of consecutive positions is read in place; any other tile (e.g. Sparse Transformer's
// summary columns) is gathered into a small buffer, and its gradients scattered back.
// Query tile r holds rows [r·tile_q, min(n, (r+1)·tile_q)).
// Visits of (layout head g, query tile r): entries row_start[g·Q + r] .. row_start[g·Q + r + 1)
// of `col` (key tile) and `mask` (0: every pair of the visit is allowed; k > 0: run
// mask_tile with kind k on the scores, for patterns that are not tile-aligned).
struct BlockLayout {
  int64_t n = 0;        // queries
  int64_t n_keys = -1;  // keys the positions index: -1 = n; k for a rectangular (N x k) call
  int64_t tile_q = 64;
  int64_t heads = 1;  // 1: one pattern for every head; else one per head (H)
  std::vector<int32_t> key_pos;
  std::vector<int64_t> key_start{0};
  std::vector<int64_t> row_start{0};
  std::vector<int32_t> col;
  std::vector<uint8_t> mask;
  // Sets s[x·rs + y·cs] = -inf where, under mask kind `kind`, query i0 + x may not see key
  // kpos[y] (x < ni, y < nk), for layout head g. Called once per masked visit.
  std::function<void(int64_t g, int kind, int64_t i0, int64_t ni, const int32_t* kpos, int64_t nk,
                     float* s, int64_t rs, int64_t cs)>
      mask_tile;

  int64_t query_tiles() const { return (n + tile_q - 1) / tile_q; }
  int64_t keys() const { return n_keys < 0 ? n : n_keys; }
  int64_t key_tiles() const { return int64_t(key_start.size()) - 1; }

  // Builders. add_key_range/add_key_list append a key tile and return its id; visit appends
  // one visit of the current query row (rows are filled in order: g = 0.., r = 0..).
  int32_t add_key_range(int64_t begin, int64_t end);
  int32_t add_key_list(const std::vector<int32_t>& positions);
  void visit(int32_t key_tile, int mask_kind = 0) {
    col.push_back(key_tile);
    mask.push_back(uint8_t(mask_kind));
  }
  void end_row() { row_start.push_back(int64_t(col.size())); }
  // Checks the shape of the lists (a bug in a builder, not a user error).
  void validate() const;
  int64_t visited_pairs() const;  // score entries computed by one pass (all heads)
};

// Every query tile visits every key tile: exact softmax attention (FlashAttention); with
// n_keys >= 0, n queries over n_keys keys (Linformer's k projected keys).
std::shared_ptr<BlockLayout> dense_layout(int64_t n, int64_t tile, int64_t n_keys = -1);

// Every query tile visits the keys j < len with visible[j] != 0, `tile` of them per key tile
// (gathered): a key mask's hidden keys cost nothing (mask_zero_tokens on images: ~85% of
// Pathfinder's pixels are black). One layout per batch entry.
std::shared_ptr<BlockLayout> visible_keys_layout(int64_t n, int64_t tile, const int32_t* visible,
                                                 int64_t len);

// The attention spec one call needs: the layout of each batch entry (one shared layout, or B
// of them), the score scale and attention dropout.
struct Spec {
  std::vector<std::shared_ptr<const BlockLayout>> layouts;
  float scale = 1.0f;
  float dropout = 0.0f;  // applied only when > 0
  uint64_t dropout_key = 0;
  int64_t row0 = 0;  // batch row b draws the counters of row row0 + b (ForwardContext::row0)
  Tensor key_mask;   // i32 (B, N): 0 = key hidden from every query; undefined: none hidden
};

// The spec of a layer's call: its layouts and score scale, and attention dropout at `rate` as
// ctx applies it (training only; the mask key from ctx for `dropout_path`, ctx's batch rows).
Spec layer_spec(std::vector<std::shared_ptr<const BlockLayout>> layouts, float scale, float rate,
                const nn::ForwardContext& ctx, const std::string& dropout_path);

// Differentiable op: q, k, v (B, H, N, d) -> o (B, H, N, d) (a view of a (B, N, H, d) buffer,
// so merging heads afterwards is free). Saves q, k, v, o and LSE for backward.
// Rectangular: k, v may have Nk != N rows (B, H, Nk, d) under a layout of n_keys = Nk; then
// lengths and key_mask must be undefined (every query and key valid), and the dropout index is
// ((b·H + h)·N + i)·Nk + j, the flat index of the (B, H, N, Nk) weights.
Var attention(const Var& q, const Var& k, const Var& v, const Tensor& lengths, const Spec& spec);

// The kernels without autograd (tests and benchmarks).
struct ForwardResult {
  Tensor o;    // (B, H, N, d)
  Tensor lse;  // (B, H, N), -inf on rows with no weight
};
ForwardResult forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& lengths,
                      const Spec& spec);
struct Gradients {
  Tensor dq, dk, dv;  // (B, H, N, d)
};
Gradients backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o,
                   const Tensor& lse, const Tensor& d_o, const Tensor& lengths, const Spec& spec);

// ---- dense references (small N: tests, pictures, the attention-span metric) ---------------

// allowed(b, h, i, j): may query i of batch b, head h see key j (lengths aside)? Called from
// several threads at once: it must not modify shared state.
using Pattern = std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>;

// (B, H, N, N) weights: softmax over keys j < len_b with allowed(b, h, i, j) of scale · q kᵀ;
// rows of padded queries (i >= len_b) and rows without an allowed key are 0.
Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths, float scale,
                     const Pattern& allowed);

// lengths (B) as ints, checked to lie in [0, N]; all N when undefined (kernel and dense face).
std::vector<int32_t> checked_lengths(const Tensor& lengths, int64_t B, int64_t N);

// Compares a layout with the pattern it implements, pair by pair (O(N²): tests only).
// Returns "" when every allowed pair is visible in exactly one visit and no other pair is
// visible; otherwise a description of the first problem.
// Pairs with i or j at or past `len` (default: n) are ignored: the kernel clips them.
std::string check_layout(const BlockLayout& layout, int64_t heads, const Pattern& allowed,
                         int64_t b = 0, int64_t len = -1);

// ---- choosing this kernel (transformer, linformer) ---------------------------------------

// Their `kernel` parameter, flash (this kernel) or plain (products and softmax with autograd,
// the reference), and `tile`, rows per query and key tile; read and checked, errors naming the
// mechanism.
extern const ParamSpec kKernel, kTile;
struct KernelChoice {
  bool flash = true;
  int64_t tile = 64;
};
KernelChoice kernel_choice(const MechanismOptions& o, const char* mechanism);

}  // namespace lra::attn::bsa
