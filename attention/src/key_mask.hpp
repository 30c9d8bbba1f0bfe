// Private: the key mask (mask_zero_tokens) in the forms the mechanisms need.
//
// ctx.key_mask is i32 (B, N), 0 = a key no query may see (the LRA reference's `inputs > 0`
// padding mask on token ids: Pathfinder's black pixels). Each mechanism applies it in its own
// faithful way (docs/mechanisms.md section 2): block-sparse patterns drop the key columns in
// the kernel, softmax-based ones add -inf to the hidden keys' scores, low-rank and kernelised
// ones zero the hidden keys (and values) before they are summed. Never an N x N mask.
#pragma once
#include "block_sparse.hpp"
#include "lra/autograd/var.hpp"
#include "lra/nn/module.hpp"

namespace lra::attn::keymask {

// ctx.key_mask checked to be i32 (B, n) and made contiguous; undefined when there is none.
Tensor checked(const nn::ForwardContext& ctx, int64_t B, int64_t n, const char* who);

// f32 (B, 1, n, 1): 1 for a visible key, 0 for a hidden one; multiplies rows of k, v, phi(k).
Tensor visible_rows(const Tensor& mask);

// f32 (B, 1, 1, n): 0 for a visible key, -inf for a hidden one; added to (B, H, M, n) scores
// before a softmax over keys (a row with no visible key then outputs 0, as in the kernel).
Tensor score_bias(const Tensor& mask);

// Rows of x (B, H, N, m) at hidden keys set to 0 (x * visible_rows: gradient 0 there too);
// x itself when ctx carries no key mask.
Var zero_hidden_rows(const Var& x, const nn::ForwardContext& ctx, const char* who);

// The dense face's pattern with hidden keys removed (allowed unchanged when mask undefined).
bsa::Pattern masked(bsa::Pattern allowed, const Tensor& mask);

}  // namespace lra::attn::keymask
