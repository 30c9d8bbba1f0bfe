// Kernels: plain functions Tensor -> Tensor, no autograd. Each honours input strides (or
// makes a visible contiguous copy) and returns a fresh contiguous result. Parallel with TBB
// (lra::parallel_for) when the size warrants it. The *_backward kernels are the fused
// derivatives that autograd/ ops call.
#pragma once
#include <cstdint>

#include "lra/core/tensor.hpp"

namespace lra::kern {

// ---- elementwise ------------------------------------------------------------------------
enum class Unary : uint8_t {
  Neg,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Tanh,
  Relu,
  Gelu,
  Elu,
  Sigmoid,
  Silu,
  Abs,
  Square,
  COUNT
};
const char* unary_name(Unary op);
Tensor unary(Unary op, const Tensor& x);
// dL/dx given x, y = op(x) and dL/dy (each op uses whichever of x, y is cheaper).
Tensor unary_backward(Unary op, const Tensor& x, const Tensor& y, const Tensor& gy);

enum class Binary : uint8_t { Add, Sub, Mul, Div, Max, Min, COUNT };
const char* binary_name(Binary op);
Tensor binary(Binary op, const Tensor& a, const Tensor& b);  // numpy broadcasting
Tensor add_scalar(const Tensor& x, float s);
Tensor mul_scalar(const Tensor& x, float s);
Tensor pow_scalar(const Tensor& x, float p);
// y += alpha * x (same shape; y contiguous). The gradient accumulator's workhorse.
void axpy_(Tensor& y, const Tensor& x, float alpha = 1.0f);

// Sum `x` down to `shape` (the inverse of broadcasting `shape` up to x.shape()).
Tensor sum_to(const Tensor& x, const Dims& shape);

// ---- reductions along one axis ----------------------------------------------------------
Tensor sum(const Tensor& x, int axis, bool keepdim = false);
Tensor mean(const Tensor& x, int axis, bool keepdim = false);
Tensor max(const Tensor& x, int axis, bool keepdim = false);
Tensor argmax(const Tensor& x, int axis);  // i32, axis removed
Tensor logsumexp(const Tensor& x, int axis, bool keepdim = false);
float sum_all(const Tensor& x);  // accumulated in double
float max_abs(const Tensor& x);

// ---- matrix products (OpenBLAS sgemm) ---------------------------------------------------
// a: (..., M, K) or (..., K, M) with trans_a; b: (..., K, N) or (..., N, K) with trans_b.
// Batch dims broadcast (e.g. a (B, M, K) with b (K, N)). Result (..., M, N).
// Views whose last or second-last stride is 1 go to BLAS without a copy.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// Σ over the (broadcast) batch entries of op(a) op(b): one (M, N) matrix, summed entry after
// entry in order (the same sums as a product per entry added up in order), never a (..., M, N)
// temporary. The gradient of an operand broadcast over the batch (e.g. Linformer's E).
Tensor matmul_sum(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// c = alpha * op(a) op(b) + beta * c, into an existing contiguous c of the right shape.
void matmul_into(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
                 float alpha = 1.0f, float beta = 0.0f);

// Single-threaded c (m, n) = alpha op(a) op(b) + beta c on raw row-major pointers, on the
// calling thread (for kernels that tile their own work and run the tiles in parallel, e.g.
// block-sparse attention). op(a): a (m, k), or a (k, m) with trans_a; op(b): b (k, n), or
// b (n, k) with trans_b; lda/ldb/ldc are row strides. Uses the own AVX-512 kernel where it beats
// OpenBLAS on such skinny shapes (core/src/matmul.cpp, Note [own kernel]), else cblas_sgemm.
// beta = 0: c is not read (may be uninitialised).
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The machine's sgemm rate in GFLOP/s: OpenBLAS cblas_sgemm on n x n x n, its rows split over
// the engine's threads as the engine splits large products; best of `reps` (after one warm-up
// call). The reference the bench's achieved GFLOP/s is read against.
double sgemm_probe_gflops(int64_t n = 1024, int reps = 3);

// ---- softmax along the last axis --------------------------------------------------------
// x: (B, ..., N). lengths: undefined, or i32 (B): keys j >= lengths[b] get weight 0 (a row
// whose length is 0 becomes all zeros, never NaN). scale multiplies x first.
Tensor softmax(const Tensor& x, const Tensor& lengths = {}, float scale = 1.0f);
// dL/dx = scale * y * (gy - rowsum(gy * y)).
Tensor softmax_backward(const Tensor& y, const Tensor& gy, float scale = 1.0f);
Tensor log_softmax(const Tensor& x);  // last axis, no mask
// dL/dx = gy - exp(y) * rowsum(gy), given y = log_softmax(x).
Tensor log_softmax_backward(const Tensor& y, const Tensor& gy);

// ---- layer norm over the last axis ------------------------------------------------------
struct LayerNormOut {
  Tensor y;     // (..., D)
  Tensor mean;  // (rows)
  Tensor rstd;  // (rows)
};
LayerNormOut layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps);
struct LayerNormGrads {
  Tensor dx, dgamma, dbeta;
};
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& gy);

// ---- gather / scatter -------------------------------------------------------------------
// table (V, D), ids i32 any shape -> (ids..., D). Throws DataError naming the bad id.
Tensor embedding(const Tensor& table, const Tensor& ids);
// grad_table (V, D) += scatter of gy (ids..., D) by ids.
void embedding_backward_(Tensor& grad_table, const Tensor& ids, const Tensor& gy);
// out = x indexed along `axis` by i32 index (1-D): out.shape[axis] = index.numel().
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
// dst.index_select(axis, index) += src (rows repeated in index accumulate).
void index_add_(Tensor& dst, int axis, const Tensor& index, const Tensor& src);
// Per-row gather along the last-but-one axis: x (B, N, D), idx i32 (B, M) -> (B, M, D).
Tensor gather_rows(const Tensor& x, const Tensor& idx);
// dst (B, N, D) += scatter of src (B, M, D) by idx (B, M).
void scatter_add_rows_(Tensor& dst, const Tensor& idx, const Tensor& src);

// ---- sort and scan ----------------------------------------------------------------------
Tensor argsort(const Tensor& x, bool descending = false);  // last axis, stable, i32 result
Tensor cumsum(const Tensor& x, int axis, bool reverse = false);

// ---- concatenation ----------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& parts, int axis);

}  // namespace lra::kern
