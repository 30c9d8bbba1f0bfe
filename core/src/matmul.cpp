// Matrix products on OpenBLAS cblas_sgemm, with broadcast batch dims.
//
//   c[b] = alpha * op(a[b]) op(b[b]) + beta * c[b]      op(a): (M, K), op(b): (K, N), c: (M, N)
//   a: (..., M, K), or (..., K, M) with trans_a; b: (..., K, N), or (..., N, K) with trans_b.
//   Batch dims broadcast numpy-style: (B, M, K) x (K, N) -> (B, M, N).
//
// No copies for BLAS-shaped views: a matrix whose last stride is 1 is row-major (ld = the
// second-last stride); one whose second-last stride is 1 is column-major, i.e. the transpose of
// a row-major matrix, so BLAS gets the opposite transpose flag. Any other layout (e.g. an
// expanded axis with stride 0) is copied with contiguous() first.
//
// Threading (core/include/lra/core/threading.hpp): OpenBLAS runs with one thread; we split the
// work with lra::parallel_for over batch entries and, when there are few of them, over blocks of
// >= 64 rows of C. A (..., M, K) x (K, N) product whose leading dims fold into rows becomes one
// (B*M, K) x (K, N) GEMM, so a linear layer is split the same way.
#include <cblas.h>

#include <climits>

#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {
namespace {

// One operand as BLAS sees it: p + batch offset is element (0, 0) of the stored matrix.
struct Operand {
  const float* p = nullptr;
  Dims batch_strides;  // over the output batch dims; 0 where this operand is broadcast
  bool trans = false;  // transpose flag handed to BLAS
  int64_t ld = 1;
  Tensor hold;  // keeps a contiguous copy alive when one was needed
};

// BLAS description of a stored (r, c) matrix with strides (s0, s1) used as op = want_trans.
// Strides of size-1 axes are free, so they are normalised first. False: needs a copy.
bool blas_layout(int64_t r, int64_t c, int64_t s0, int64_t s1, bool want_trans, Operand& m) {
  int64_t rmax = std::max<int64_t>(r, 1), cmax = std::max<int64_t>(c, 1);
  if (r == 0 || c == 0) {  // never read
    m.trans = want_trans, m.ld = cmax;
    return true;
  }
  int64_t row0 = r <= 1 ? cmax : s0, row1 = c <= 1 ? 1 : s1;  // row-major reading
  if (row1 == 1 && row0 >= cmax) {
    m.trans = want_trans, m.ld = row0;
    return true;
  }
  int64_t col0 = r <= 1 ? 1 : s0, col1 = c <= 1 ? rmax : s1;  // column-major reading
  if (col0 == 1 && col1 >= rmax) {
    m.trans = !want_trans, m.ld = col1;
    return true;
  }
  return false;
}

// Batch strides of t over `batch` (the broadcast batch shape), right-aligned.
Dims batch_strides(const Tensor& t, const Dims& batch) {
  Dims s = batch;
  int lead = batch.size() - (t.dim() - 2);
  for (int d = 0; d < batch.size(); ++d) {
    int j = d - lead;
    s[d] = (j >= 0 && t.shape()[j] == batch[d]) ? t.strides()[j] : 0;
  }
  return s;
}

Operand prepare(const Tensor& t, bool trans, const Dims& batch) {
  Operand m;
  int64_t r = t.size(-2), c = t.size(-1);
  if (blas_layout(r, c, t.stride(-2), t.stride(-1), trans, m)) {
    m.p = t.data<float>();
    m.batch_strides = batch_strides(t, batch);
    return m;
  }
  m.hold = t.contiguous();
  bool ok = blas_layout(r, c, m.hold.stride(-2), m.hold.stride(-1), trans, m);
  LRA_ASSERT(ok);
  m.p = m.hold.data<float>();
  m.batch_strides = batch_strides(m.hold, batch);
  return m;
}

// If a's axes before the last fold into one strided run of rows (e.g. a contiguous (B, M, K)
// or a slice of one), describes a as a single (rows, K) matrix in `m` and returns its row count;
// else returns -1.
int64_t fold_rows(const Tensor& a, Operand& m) {
  int64_t rows = 1, row_stride = a.size(-1), expect = -1;
  for (int d = a.dim() - 2; d >= 0; --d) {
    int64_t e = a.shape()[d];
    if (e == 1) continue;
    if (expect < 0) {
      row_stride = a.strides()[d];
    } else if (a.strides()[d] != expect) {
      return -1;
    }
    expect = a.strides()[d] * e;
    rows *= e;
  }
  if (!blas_layout(rows, a.size(-1), row_stride, a.stride(-1), false, m) || m.trans) return -1;
  m.p = a.data<float>();
  return rows;
}

int blas_int(int64_t v, const char* what) {
  LRA_CHECK(v <= INT_MAX, ShapeError, "matmul: ", what, " = ", v, " exceeds the BLAS int range");
  return int(v);
}

// c (batch..., M, N) contiguous = alpha * op(a) op(b) + beta * c, batch dims already broadcast.
void gemm(float* c, const Dims& batch, int64_t M, int64_t N, int64_t K, const Operand& A,
          const Operand& B, float alpha, float beta) {
  int64_t nbatch = batch.numel();
  if (nbatch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // empty sum: c = beta * c
    for (int64_t i = 0, n = nbatch * M * N; i < n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
  blas_int(M, "M");
  int n = blas_int(N, "N"), k = blas_int(K, "K");
  int lda = blas_int(A.ld, "lda"), ldb = blas_int(B.ld, "ldb");
  // Row blocks: enough tasks for the cores when the batch alone does not provide them.
  int64_t flops = M * N * K;
  int64_t want = 4 * int64_t(num_threads());
  int64_t nblk = 1;
  if (nbatch < want && flops >= (int64_t(1) << 18))
    nblk = std::clamp<int64_t>((want + nbatch - 1) / nbatch, 1, std::max<int64_t>(1, M / 64));
  int64_t rows = (M + nblk - 1) / nblk;
  nblk = (M + rows - 1) / rows;
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, rows * N * K));
  parallel_for(nbatch * nblk, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      int64_t bi = t / nblk, r0 = (t % nblk) * rows, r1 = std::min(M, r0 + rows);
      int64_t oa = 0, ob = 0, rem = bi;
      for (int d = batch.size() - 1; d >= 0; --d) {
        int64_t i = rem % batch[d];
        rem /= batch[d];
        oa += i * A.batch_strides[d];
        ob += i * B.batch_strides[d];
      }
      // Row r0 of op(A): row r0 of a row-major A, or column r0 of a transposed one.
      const float* pa = A.p + oa + (A.trans ? r0 : r0 * A.ld);
      float* pc = c + bi * M * N + r0 * N;
      cblas_sgemm(CblasRowMajor, A.trans ? CblasTrans : CblasNoTrans,
                  B.trans ? CblasTrans : CblasNoTrans, int(r1 - r0), n, k, alpha, pa, lda, B.p + ob,
                  ldb, beta, pc, n);
    }
  });
}

struct Problem {
  Dims batch, out_shape;
  int64_t M, N, K;
};

Problem check(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  LRA_CHECK(a.defined() && a.dtype() == DType::F32 && a.dim() >= 2, ShapeError,
            "matmul: a must be f32 with rank >= 2, got ", a.describe());
  LRA_CHECK(b.defined() && b.dtype() == DType::F32 && b.dim() >= 2, ShapeError,
            "matmul: b must be f32 with rank >= 2, got ", b.describe());
  Problem p;
  p.M = ta ? a.size(-1) : a.size(-2);
  int64_t ka = ta ? a.size(-2) : a.size(-1);
  int64_t kb = tb ? b.size(-1) : b.size(-2);
  p.N = tb ? b.size(-2) : b.size(-1);
  p.K = ka;
  LRA_CHECK(ka == kb, ShapeError, "matmul: inner dims differ: ", a.describe(),
            ta ? " (transposed)" : "", " x ", b.describe(), tb ? " (transposed)" : "", " (", ka,
            " vs ", kb, ")");
  Dims ba = a.shape(), bb = b.shape();
  ba.erase(ba.size() - 1), ba.erase(ba.size() - 1);
  bb.erase(bb.size() - 1), bb.erase(bb.size() - 1);
  p.batch = broadcast_shapes(ba, bb);
  p.out_shape = p.batch;
  p.out_shape.push_back(p.M);
  p.out_shape.push_back(p.N);
  return p;
}

// c = alpha op(a) op(b) + beta c for a contiguous c of p.out_shape.
void run(float* c, const Problem& p, const Tensor& a, const Tensor& b, bool ta, bool tb,
         float alpha, float beta) {
  // (..., M, K) x (K, N) with a's leading dims folding into rows: one (B*M, K) x (K, N) GEMM.
  if (b.dim() == 2 && a.dim() > 2 && !ta && p.batch.numel() > 1) {
    Operand A;
    int64_t rows = fold_rows(a, A);
    if (rows >= 0) {
      Dims none;
      Operand B = prepare(b, tb, none);
      gemm(c, none, rows, p.N, p.K, A, B, alpha, beta);
      return;
    }
  }
  Operand A = prepare(a, ta, p.batch), B = prepare(b, tb, p.batch);
  gemm(c, p.batch, p.M, p.N, p.K, A, B, alpha, beta);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  Problem p = check(a, b, trans_a, trans_b);
  Tensor c = Tensor::empty(p.out_shape);
  if (c.numel() > 0) run(c.data<float>(), p, a, b, trans_a, trans_b, 1.0f, 0.0f);
  return c;
}

void matmul_into(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
                 float alpha, float beta) {
  Problem p = check(a, b, trans_a, trans_b);
  LRA_CHECK(c.defined() && c.dtype() == DType::F32 && c.shape() == p.out_shape, ShapeError,
            "matmul_into: destination ", c.describe(), " should be f32", p.out_shape.str());
  LRA_CHECK(c.is_contiguous(), ShapeError, "matmul_into: destination ", c.describe(),
            " must be contiguous");
  if (c.numel() > 0) run(c.data<float>(), p, a, b, trans_a, trans_b, alpha, beta);
}

}  // namespace lra::kern
