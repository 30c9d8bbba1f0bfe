// Private: fused differentiable ops of the low-rank / kernel family (linear.cpp, performer.cpp,
// synthesizer.cpp). Each op computes its forward with a few GEMMs plus one pass of plain loops
// and records a single autograd node whose closure captures only the tensors its backward needs;
// tests/attention/test_{linear,performer,synthesizer}.cpp check every one by finite differences.
//
// Shapes: B batch, H heads, N length, d head dim, m features. Padding is given as per-sequence
// lengths (i32 (B)); rows i >= lengths[b] are pads.
#pragma once
#include <cstdint>

#include "lra/autograd/var.hpp"

namespace lra::attn::ops {

// How the normaliser of linear attention is kept away from zero.
enum class DenGuard : uint8_t {
  Add,  // den + eps                       (Katharopoulos et al.; fast-transformers)
  Lra,  // den + 2 eps [|den| <= eps]       (LRA / google-research Performer)
};      // either way a normaliser that is still exactly 0 becomes FLT_MIN (output 0, not NaN)

// Non-causal linear attention with row renormalisation:
//   S = φKᵀ V (B,H,m,d)   z = Σ_j φK_j (B,H,m)   O_i = φQ_i S / guard(φQ_i · z)   (B,H,N,d)
// phi_q, phi_k: (B,H,N,m) non-negative features; the rows of phi_k at padded positions must be
// zero (elu_features / favor_features with lengths do that), so pads never enter S or z; their
// gradient is zero too. Time O(B·H·N·m·d), memory O(B·H·(N·(m+d) + m·d)): no N×N tensor.
// Backward (G = dO / den, dden_i = −dO_i·O_i / den_i):
//   dφQ = G Sᵀ + dden zᵀ    dS = φQᵀ G    dz = φQᵀ dden    dφK = V dSᵀ + 1 dzᵀ    dV = φK dS.
Var linear_attention(const Var& phi_q, const Var& phi_k, const Var& v, const Tensor& lengths,
                     float eps, DenGuard guard);

// The same attention as a dense (B,H,N,N) matrix: A_ij = φQ_i·φK_j / guard(Σ_j' φQ_i·φK_j').
// No gradient; for small N (dense faces, tests).
Tensor linear_attention_weights(const Tensor& phi_q, const Tensor& phi_k, float eps,
                                DenGuard guard);

// Linear Transformer feature map φ(x) = elu(x) + 1 > 0 on x (B,H,N,d); rows at pads are 0 when
// lengths is given (undefined lengths: no pads). dφ/dx = min(φ, 1).
Var elu_features(const Var& x, const Tensor& lengths);

// FAVOR+ positive random features of x (B,H,N,d) for the projection w (m,d), no gradient to w:
//   x' = x d^(-1/4);  φ(x)_r = m^(-1/2) (exp(w_r·x' − |x'|²/2 − c) + eps)    (B,H,N,m)
// c is the stabiliser, the max of the whole exponent w_r·x' − |x'|²/2: per row for queries
// (so their |x'|²/2 cancels and φ = m^(-1/2)(exp(w_r·x' − max_r w_r·x') + eps)), per (b,h) for
// keys (max over valid positions and r). The largest feature is then exactly 1: no row can
// underflow to all zeros, even with eps = 0 and |x| large. Constants cancel in the renormalised
// attention, so no gradient flows through them. Rows at pads are 0 (keys: pass lengths; queries:
// pass {}); so are the rows of keys a key_mask (contiguous i32 (B,N), 0 = hidden) hides, which
// are also left out of the key max. Backward: dP = dφ ∘ (φ − m^(-1/2) eps);  dx = d^(-1/4) dP w,
// keys also − d^(-1/2) (Σ_r dP_r) x.
Var favor_features(const Var& x, const Tensor& w, const Tensor& lengths, bool is_query, float eps,
                   const Tensor& key_mask = {});

// Gaussian orthogonal random matrix (m,d): rows come in blocks of d mutually orthonormal rows,
// each block the Gram-Schmidt orthonormalisation (in double) of a d×d Gaussian block; rows are
// then rescaled by the norm of a fresh Gaussian d-vector (scaling 0, i.e. χ_d distributed) or
// by √d (scaling 1). Deterministic in key (block i uses rng_key(key, {i})).
Tensor gaussian_orthogonal_matrix(int64_t m, int64_t d, uint64_t key, int scaling);

// Softmax attention weights with an additive per-head bias, fused:
//   P = softmax_j(scale · Q Kᵀ + R_h),  P_ij = 0 for keys j ≥ lengths[b]          (B,H,N,N)
// q, k: (B,H,N,d), or both undefined (no dot-product term: P = softmax(R)). r: (H,N,N), any
// layout with unit last stride (e.g. a slice of a (H, max_len, max_len) parameter) or undefined.
// R is read per head inside the kernel, never broadcast to (B,H,N,N). Only P is kept for
// backward: dS = P ∘ (dP − rowsum(dP ∘ P)); dQ = scale dS K; dK = scale dSᵀ Q; dR = Σ_b dS.
// key_mask (optional, contiguous i32 (B,N)): keys j with key_mask[b, j] = 0 get logit −inf,
// i.e. P_ij = 0 (a row with no visible key is all 0).
Var biased_softmax(const Var& q, const Var& k, const Var& r, const Tensor& lengths, float scale,
                   int64_t batch, int64_t heads, int64_t n, const Tensor& key_mask = {});

}  // namespace lra::attn::ops
