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
//
// Note [own kernel]: the transformer's GEMMs are skinny — a linear layer is (B*N, D) x (D, D')
// with D, D' of 64..1024 — and OpenBLAS spends a large share of such calls packing its
// operands (and, with OPENBLAS_CORETYPE=Haswell, runs AVX2 code on an AVX-512 machine). With
// AVX-512 we use our own register-blocked kernel instead (kernel_gemm below): a 6 x 64 block of
// C lives in 24 zmm accumulators while k runs over a chunk of 128; each step broadcasts six
// elements of op(A) and loads four vectors of one row of op(B). op(A) is read in place (any
// row/column stride); op(B) is read in place when its rows are contiguous, else (trans_b) it is
// first copied once into a contiguous K x N panel. C is split into tasks of 96 x 256 (whole
// rows of k in fixed order per element), so results do not depend on the thread count.
// dW = Xᵀ G of a linear layer (M, N small, K = B*N huge) is split over its output tiles too,
// instead of running as one single-threaded sgemm. Other shapes (large K and N) keep OpenBLAS.
#include <cblas.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <algorithm>
#include <chrono>
#include <climits>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/simd.hpp"
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

// ---- Note [own kernel] ----------------------------------------------------------------------
#if defined(__AVX512F__)
constexpr int64_t kMR = 6;    // rows of C per micro-tile
constexpr int64_t kNR = 64;   // columns of C per micro-tile (4 zmm)
constexpr int64_t kKC = 128;  // k per chunk: a 128 x 64 panel of op(B) (32 KiB) stays in L1
constexpr int64_t kMB = 96;   // rows of C per task
constexpr int64_t kNB = 256;  // columns of C per task

// C[0:M, 0:NQ*16 (masked to nr)] (=|+=) alpha * op(A) op(B) over kc steps of k.
//   op(A)(i, k) = a[i * ars + k * acs];  op(B) row k = b + k * ldb (unit stride along j).
// mode 0: C = alpha acc;  1: C = alpha acc + beta C;  2: C = alpha acc + C.
template <int M, int NQ>
void micro(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb,
           float* c, int64_t ldc, int64_t nr, float alpha, float beta, int mode) {
  // Written so that GCC keeps every accumulator in a register: fully unrolled constant loops,
  // one loop body (masked loads, whose cost equals a plain load), no early exits.
  __mmask16 mask[NQ];
#pragma GCC unroll 4
  for (int q = 0; q < NQ; ++q) {
    const int64_t left = std::clamp<int64_t>(nr - 16 * q, 0, 16);
    mask[q] = __mmask16(left == 16 ? 0xFFFF : (1u << left) - 1u);
  }
  __m512 acc[M * NQ];
#pragma GCC unroll 24
  for (int x = 0; x < M * NQ; ++x) acc[x] = _mm512_setzero_ps();
  const float* a_rows[M];
#pragma GCC unroll 6
  for (int r = 0; r < M; ++r) a_rows[r] = a + r * ars;
  for (int64_t k = 0; k < kc; ++k) {
    const float* br = b + k * ldb;
    __m512 bv[NQ];
#pragma GCC unroll 4
    for (int q = 0; q < NQ; ++q) bv[q] = _mm512_maskz_loadu_ps(mask[q], br + 16 * q);
    const int64_t ka = k * acs;
#pragma GCC unroll 6
    for (int r = 0; r < M; ++r) {
      const __m512 av = _mm512_set1_ps(a_rows[r][ka]);
#pragma GCC unroll 4
      for (int q = 0; q < NQ; ++q) acc[r * NQ + q] = _mm512_fmadd_ps(av, bv[q], acc[r * NQ + q]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(mode == 2 ? 1.0f : beta);
#pragma GCC unroll 6
  for (int r = 0; r < M; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int q = 0; q < NQ; ++q) {
      __m512 out = _mm512_mul_ps(va, acc[r * NQ + q]);
      if (mode != 0) out = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[q], cr + 16 * q), out);
      _mm512_mask_storeu_ps(cr + 16 * q, mask[q], out);
    }
  }
}

using MicroFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*,
                         int64_t, int64_t, float, float, int);

template <int M>
MicroFn micro_for(int64_t nq) {
  switch (nq) {
    case 1:
      return micro<M, 1>;
    case 2:
      return micro<M, 2>;
    case 3:
      return micro<M, 3>;
    default:
      return micro<M, 4>;
  }
}

MicroFn pick_micro(int64_t mr, int64_t nq) {
  switch (mr) {
    case 1:
      return micro_for<1>(nq);
    case 2:
      return micro_for<2>(nq);
    case 3:
      return micro_for<3>(nq);
    case 4:
      return micro_for<4>(nq);
    case 5:
      return micro_for<5>(nq);
    default:
      return micro_for<6>(nq);
  }
}

// dst (K, N) columns [j0, j1) = the transpose of src rows [j0, j1), src stored (N, K) with row
// stride ld: op(B) packed with contiguous rows. Whole 16 x 16 blocks go through registers
// (simd::transpose16); the element loop wrote 16 rows of dst one float at a time, which at
// N = 4096 (rows 16 KiB apart, one L1 set) missed L1 on every store.
void pack_transposed(const float* src, int64_t ld, int64_t j0, int64_t j1, int64_t K, float* dst,
                     int64_t N) {
  for (int64_t jb = j0; jb < j1; jb += 16) {
    const int64_t je = std::min(j1, jb + 16);
    int64_t k0 = 0;
    if (je - jb == 16) {
      const float* rows[16];
      for (int64_t j = 0; j < 16; ++j) rows[j] = src + (jb + j) * ld;
      for (; k0 + 16 <= K; k0 += 16) simd::transpose16(rows, k0, dst + k0 * N + jb, N);
    }
    for (; k0 < K; ++k0)
      for (int64_t j = jb; j < je; ++j) dst[k0 * N + j] = src[j * ld + k0];
  }
}

// One task: C rows [i0, i1), columns [j0, j1).
void kernel_block(int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t K, const float* a,
                  int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c, int64_t ldc,
                  float alpha, float beta) {
  for (int64_t k0 = 0; k0 < K; k0 += kKC) {
    const int64_t kc = std::min(kKC, K - k0);
    const int mode = k0 > 0 ? 2 : (beta == 0.0f ? 0 : 1);
    for (int64_t j = j0; j < j1; j += kNR) {
      const int64_t nr = std::min(kNR, j1 - j);
      const int64_t nq = (nr + 15) / 16;
      for (int64_t i = i0; i < i1; i += kMR) {
        const int64_t mr = std::min(kMR, i1 - i);
        pick_micro(mr, nq)(kc, a + i * ars + k0 * acs, ars, acs, b + k0 * ldb + j, ldb,
                           c + i * ldc + j, ldc, nr, alpha, beta, mode);
      }
    }
  }
}

// Shapes the own kernel takes (Note [own kernel]): anything with K <= 1024 or with a small
// output (the dW = Xᵀ G case); huge-K, huge-N products stay with OpenBLAS.
bool use_own_kernel(int64_t M, int64_t N, int64_t K) {
  if (M == 0 || N == 0 || K == 0) return false;
  if (N < 8 || K < 8) return false;  // tiny matrices: nothing to gain
  return K <= 1024 || M * N <= 1024 * 1024;
}

// c (batch..., M, N) = alpha op(A) op(B) + beta c with the own kernel (Note [own kernel]).
// sum_batch: c is one (M, N) matrix = the sum over the batch entries, in entry order (each
// tile task adds entry after entry with beta = 1: the same sums as one product per entry).
void own_gemm(float* c, const Dims& batch, int64_t M, int64_t N, int64_t K, const Operand& A,
              const Operand& B, float alpha, float beta, bool sum_batch = false) {
  const int64_t nbatch = batch.numel();
  auto offset = [&](const Operand& op, int64_t bi) {
    int64_t o = 0;
    for (int d = batch.size() - 1; d >= 0; --d) {
      o += (bi % batch[d]) * op.batch_strides[d];
      bi /= batch[d];
    }
    return o;
  };
  bool b_shared = true;  // one op(B) for every batch entry (a weight)
  for (int d = 0; d < batch.size(); ++d) b_shared = b_shared && B.batch_strides[d] == 0;
  // op(B) with contiguous rows: in place, or a transposed copy (K, N) per distinct entry,
  // packed in blocks of kPackCols columns as separate tasks, so that one large entry (e.g. a
  // (64, 1024) op(B) of matmul_reduced's per-entry products) is not packed by one thread.
  Tensor packed;
  const int64_t nb_b = B.trans ? (b_shared ? 1 : nbatch) : 0;
  if (B.trans) {
    packed = Tensor::empty({nb_b, K, N});
    float* pk = packed.data<float>();
    constexpr int64_t kPackCols = 256;
    const int64_t blocks = (N + kPackCols - 1) / kPackCols;
    parallel_for(nb_b * blocks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t e = t / blocks, j0 = t % blocks * kPackCols;
        const float* src = B.p + offset(B, e);  // stored (N, K), row stride ld
        pack_transposed(src, B.ld, j0, std::min(N, j0 + kPackCols), K, pk + e * K * N, N);
      }
    });
  }
  auto b_of = [&](int64_t bi) -> const float* {
    if (!B.trans) return B.p + offset(B, bi);
    return packed.data<float>() + (b_shared ? 0 : bi) * K * N;
  };
  const int64_t ldb = B.trans ? N : B.ld;
  const int64_t ars = A.trans ? 1 : A.ld, acs = A.trans ? A.ld : 1;

  // Small output, long k (dW = Xᵀ G): split k into a fixed number of chunks (a function of the
  // shape only), each into its own partial C, then add the partials in chunk order.
  if (nbatch == 1 && M * N <= 512 * 512 && K >= 4096) {
    const int64_t parts = std::min<int64_t>(16, K / 1024);
    Tensor part = Tensor::empty({parts, M, N});
    float* pp = part.data<float>();
    const float* pa = A.p + offset(A, 0);
    const float* pb = b_of(0);
    parallel_for(parts, 1, [&](int64_t s0, int64_t s1) {
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t k0 = K * s / parts, k1 = K * (s + 1) / parts;
        kernel_block(0, M, 0, N, k1 - k0, pa + k0 * acs, ars, acs, pb + k0 * ldb, ldb,
                     pp + s * M * N, N, 1.0f, 0.0f);
      }
    });
    parallel_for(M, std::max<int64_t>(1, 16384 / N), [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        float* cr = c + i * N;
        for (int64_t j = 0; j < N; ++j) {
          float sum = 0.0f;
          for (int64_t s = 0; s < parts; ++s) sum += pp[(s * M + i) * N + j];
          cr[j] = beta == 0.0f ? alpha * sum : alpha * sum + beta * cr[j];
        }
      }
    });
    return;
  }

  // Tiles of C: 96 x 256, halved (columns first) until there are a few tasks per thread. The
  // tiling never changes how an element is summed, so the result is the same for any tiling.
  int64_t mb = kMB, nb = kNB;
  const int64_t task_batch = sum_batch ? 1 : nbatch;
  auto tasks_for = [&](int64_t m, int64_t n) {
    return task_batch * ((M + m - 1) / m) * ((N + n - 1) / n);
  };
  const int64_t want = 4 * int64_t(num_threads());
  while (tasks_for(mb, nb) < want && nb > kNR) nb = std::max(kNR, nb / 2);
  while (tasks_for(mb, nb) < want && mb > kMR) mb = std::max(kMR, mb / 2 / kMR * kMR);
  const int64_t tm = (M + mb - 1) / mb, tn = (N + nb - 1) / nb;
  parallel_for(task_batch * tm * tn, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r = t % (tm * tn), im = r / tn, in = r % tn;
      const int64_t i0 = im * mb, i1 = std::min(M, i0 + mb), j0 = in * nb,
                    j1 = std::min(N, j0 + nb);
      if (sum_batch) {
        for (int64_t bi = 0; bi < nbatch; ++bi)
          kernel_block(i0, i1, j0, j1, K, A.p + offset(A, bi), ars, acs, b_of(bi), ldb, c, N, alpha,
                       bi == 0 ? beta : 1.0f);
      } else {
        const int64_t bi = t / (tm * tn);
        kernel_block(i0, i1, j0, j1, K, A.p + offset(A, bi), ars, acs, b_of(bi), ldb,
                     c + bi * M * N, N, alpha, beta);
      }
    }
  });
}
#endif

// c (batch..., M, N) contiguous = alpha * op(a) op(b) + beta * c, batch dims already broadcast.
// Note [matrix-vector]: an N = 1 product (e.g. Performer's and the Linear Transformer's
// normaliser φQ·Σφ(K) and its gradients) goes to cblas_sgemv, which reads A once; cblas_sgemm
// packed all of A first (sgemm_otcopy: 5% of a Performer 4K step).
void gemm(float* c, const Dims& batch, int64_t M, int64_t N, int64_t K, const Operand& A,
          const Operand& B, float alpha, float beta) {
  int64_t nbatch = batch.numel();
  if (nbatch == 0 || M == 0 || N == 0) return;
  if (K == 0) {  // empty sum: c = beta * c
    for (int64_t i = 0, n = nbatch * M * N; i < n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
#if defined(__AVX512F__)
  if (use_own_kernel(M, N, K)) {
    own_gemm(c, batch, M, N, K, A, B, alpha, beta);
    return;
  }
#endif
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
      if (n == 1) {  // Note [matrix-vector]
        const int incx = B.trans ? 1 : ldb;
        // beta = 0 promises c is not read: clear it (a garbage NaN times 0 stays NaN)
        if (beta == 0.0f) std::fill(pc, pc + (r1 - r0), 0.0f);
        if (A.trans)
          cblas_sgemv(CblasRowMajor, CblasTrans, k, int(r1 - r0), alpha, pa, lda, B.p + ob, incx,
                      beta, pc, 1);
        else
          cblas_sgemv(CblasRowMajor, CblasNoTrans, int(r1 - r0), k, alpha, pa, lda, B.p + ob, incx,
                      beta, pc, 1);
        continue;
      }
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

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
#if defined(__AVX512F__)
  if (use_own_kernel(m, n, k)) {
    const int64_t ars = trans_a ? 1 : lda, acs = trans_a ? lda : 1;
    if (!trans_b) {
      kernel_block(0, m, 0, n, k, a, ars, acs, b, ldb, c, ldc, alpha, beta);
      return;
    }
    // op(b) rows must be contiguous: transpose b (n, k) into a per-thread (k, n) panel
    thread_local std::vector<float> panel;
    if (panel.size() < size_t(k * n)) panel.resize(size_t(k * n));
    float* pk = panel.data();
    pack_transposed(b, ldb, 0, n, k, pk, n);
    kernel_block(0, m, 0, n, k, a, ars, acs, pk, n, c, ldc, alpha, beta);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, blas_int(m, "m"), blas_int(n, "n"),
              blas_int(k, "k"), alpha, a, blas_int(lda, "lda"), b, blas_int(ldb, "ldb"), beta, c,
              blas_int(ldc, "ldc"));
}

Tensor matmul_sum(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  const Problem p = check(a, b, trans_a, trans_b);
  const int64_t nbatch = p.batch.numel();
  Tensor c = Tensor::zeros({p.M, p.N});
  if (c.numel() == 0 || nbatch == 0 || p.K == 0) return c;
  const Operand A = prepare(a, trans_a, p.batch), B = prepare(b, trans_b, p.batch);
#if defined(__AVX512F__)
  if (use_own_kernel(p.M, p.N, p.K)) {
    own_gemm(c.data<float>(), p.batch, p.M, p.N, p.K, A, B, 1.0f, 0.0f, /*sum_batch=*/true);
    return c;
  }
#endif
  // one product per entry, added in entry order
  for (int64_t bi = 0; bi < nbatch; ++bi) {
    Operand Ae = A, Be = B;
    int64_t rem = bi;
    for (int d = p.batch.size() - 1; d >= 0; --d) {
      Ae.p += (rem % p.batch[d]) * A.batch_strides[d];
      Be.p += (rem % p.batch[d]) * B.batch_strides[d];
      rem /= p.batch[d];
    }
    Ae.batch_strides = Be.batch_strides = Dims{};
    gemm(c.data<float>(), Dims{}, p.M, p.N, p.K, Ae, Be, 1.0f, bi == 0 ? 0.0f : 1.0f);
  }
  return c;
}

void matmul_into(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b,
                 float alpha, float beta) {
  c.bump_version();
  Problem p = check(a, b, trans_a, trans_b);
  LRA_CHECK(c.defined() && c.dtype() == DType::F32 && c.shape() == p.out_shape, ShapeError,
            "matmul_into: destination ", c.describe(), " should be f32", p.out_shape.str());
  LRA_CHECK(c.is_contiguous(), ShapeError, "matmul_into: destination ", c.describe(),
            " must be contiguous");
  if (c.numel() > 0) run(c.data<float>(), p, a, b, trans_a, trans_b, alpha, beta);
}

double sgemm_probe_gflops(int64_t n, int reps) {
  LRA_CHECK(n > 0 && reps > 0, ShapeError, "sgemm_probe_gflops: n and reps must be positive");
  std::vector<float> a(size_t(n * n), 0.5f), b(size_t(n * n), 0.25f), c(size_t(n * n));
  const int64_t parts = num_threads();
  auto once = [&]() {
    parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t r0 = n * p / parts, r1 = n * (p + 1) / parts;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(r1 - r0), int(n), int(n), 1.0f,
                    a.data() + r0 * n, int(n), b.data(), int(n), 0.0f, c.data() + r0 * n, int(n));
      }
    });
  };
  once();
  double best = 0.0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    once();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, 2.0 * double(n) * double(n) * double(n) / s / 1e9);
  }
  return best;
}

}  // namespace lra::kern
