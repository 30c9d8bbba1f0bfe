// Differentiable ops on Var. Forward and backward of each family sit side by side in
// autograd/src/<family>.cpp; every op here has a finite-difference check in
// tests/autograd/test_gradcheck.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "lra/autograd/var.hpp"
#include "lra/core/kernels.hpp"

namespace lra {

// ---- elementwise (elementwise.cpp) -------------------------------------------------------
Var add(const Var& a, const Var& b);  // numpy broadcasting; gradients summed back to shape
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var add(const Var& a, float s);
Var mul(const Var& a, float s);
Var neg(const Var& x);
Var exp(const Var& x);
Var log(const Var& x);
Var sqrt(const Var& x);
Var rsqrt(const Var& x);
Var tanh(const Var& x);
Var relu(const Var& x);
Var gelu(const Var& x);  // erf form: x * Phi(x)
Var elu(const Var& x);   // alpha = 1
Var sigmoid(const Var& x);
Var silu(const Var& x);
Var square(const Var& x);
Var unary(kern::Unary op, const Var& x);

// ---- reductions (reduce.cpp) -------------------------------------------------------------
Var sum(const Var& x, int axis, bool keepdim = false);
Var mean(const Var& x, int axis, bool keepdim = false);
Var max(const Var& x, int axis, bool keepdim = false);  // gradient to the (first) argmax
Var logsumexp(const Var& x, int axis, bool keepdim = false);
Var sum_all(const Var& x);  // scalar
Var mean_all(const Var& x);

// ---- matrix products (matmul.cpp) --------------------------------------------------------
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);

// ---- shape (shape.cpp): views share storage; gradients flow back through the view -------
Var reshape(const Var& x, const Dims& shape);
Var permute(const Var& x, const std::vector<int>& order);
Var transpose(const Var& x, int a, int b);
Var slice(const Var& x, int axis, int64_t start, int64_t end);
Var unsqueeze(const Var& x, int axis);
Var expand(const Var& x, const Dims& shape);
Var contiguous(const Var& x);
Var concat(const std::vector<Var>& parts, int axis);

// ---- normalisation and softmax (softmax.cpp, layer_norm.cpp) -----------------------------
// Softmax over the last axis of x (B, ..., N); keys j >= lengths[b] get weight 0.
Var softmax(const Var& x, const Tensor& lengths = {}, float scale = 1.0f);
Var log_softmax(const Var& x);
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, float eps = 1e-6f);

// ---- indexing (index.cpp) ----------------------------------------------------------------
Var embedding(const Var& table, const Tensor& ids);  // (V, D), ids (...) -> (..., D)
Var index_select(const Var& x, int axis, const Tensor& index);
Var gather_rows(const Var& x, const Tensor& idx);  // (B, N, D), (B, M) -> (B, M, D)
Var cumsum(const Var& x, int axis, bool reverse = false);

// ---- regularisation and losses (loss.cpp) ------------------------------------------------
// Inverted dropout with a counter-based mask keyed by `key`: same key, same mask. Element i
// draws counter counter0 + i (counter0: where this tensor starts inside a larger batch).
Var dropout(const Var& x, float p, uint64_t key, bool training, uint64_t counter0 = 0);
// Mean softmax cross-entropy of logits (B, C) against i32 labels (B); fused backward.
Var cross_entropy(const Var& logits, const Tensor& labels);
// Mean over axis 1 of x (B, N, D) counting only positions < lengths[b] -> (B, D).
Var masked_mean(const Var& x, const Tensor& lengths);

}  // namespace lra
