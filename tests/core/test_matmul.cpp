// kern::matmul / matmul_into against a naive double loop: transposes, strided views (BLAS
// without a copy, and layouts that need one), batch broadcasting, a large GEMM split into row
// blocks, zero-size dims.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::broadcast_index;
using lra::test::randu;

namespace {

Dims batch_of(const Tensor& t) {
  Dims s = t.shape();
  s.erase(s.size() - 1);
  s.erase(s.size() - 1);
  return s;
}

// c = op(a) op(b) in double, shape (batch..., M, N) row-major.
std::vector<double> ref_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb, Dims& shape) {
  std::vector<float> va = a.to_floats(), vb = b.to_floats();
  int64_t ra = a.size(-2), ca = a.size(-1), rb = b.size(-2), cb = b.size(-1);
  int64_t M = ta ? ca : ra, K = ta ? ra : ca, N = tb ? rb : cb;
  Dims batch = broadcast_shapes(batch_of(a), batch_of(b));
  shape = batch;
  shape.push_back(M);
  shape.push_back(N);
  std::vector<double> c(size_t(shape.numel()), 0.0);
  for (int64_t bi = 0; bi < batch.numel(); ++bi) {
    const float* pa = va.data() + broadcast_index(batch_of(a), batch, bi) * ra * ca;
    const float* pb = vb.data() + broadcast_index(batch_of(b), batch, bi) * rb * cb;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0.0;
        for (int64_t k = 0; k < K; ++k)
          s += double(ta ? pa[k * ca + m] : pa[m * ca + k]) *
               double(tb ? pb[n * cb + k] : pb[k * cb + n]);
        c[size_t((bi * M + m) * N + n)] = s;
      }
  }
  return c;
}

void check_matmul(const Tensor& a, const Tensor& b, bool ta = false, bool tb = false) {
  INFO(a.describe() << std::string(ta ? "^T" : "") << " x " << b.describe()
                    << std::string(tb ? "^T" : ""));
  Dims shape;
  std::vector<double> want = ref_matmul(a, b, ta, tb, shape);
  Tensor c = kern::matmul(a, b, ta, tb);
  REQUIRE(c.shape() == shape);
  CHECK(c.is_contiguous());
  std::vector<float> got = c.to_floats();
  int64_t K = ta ? a.size(-2) : a.size(-1);
  double tol = 1e-5 * std::sqrt(double(K) + 1.0) + 1e-6;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::fabs(got[i] - want[i]) > tol && bad++ < 5) {
      INFO("element " << i << ": got " << got[i] << " want " << want[i]);
      CHECK(false);
    }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("matmul: 2-D with every transpose combination") {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Tensor a = ta ? randu({4, 3}, 1) : randu({3, 4}, 1);
      Tensor b = tb ? randu({5, 4}, 2) : randu({4, 5}, 2);
      check_matmul(a, b, ta, tb);
    }
  check_matmul(randu({1, 7}, 3), randu({7, 1}, 4));  // vector shapes
  check_matmul(randu({6, 1}, 5), randu({1, 6}, 6));  // outer product, K = 1
  CHECK_THROWS_AS(kern::matmul(randu({3, 4}, 1), randu({5, 6}, 2)), ShapeError);
  CHECK_THROWS_AS(kern::matmul(randu({4}, 1), randu({4, 2}, 2)), ShapeError);
}

TEST_CASE("matmul: strided views, with and without a copy") {
  Tensor big = randu({10, 12}, 7);
  Tensor rows = big.slice(0, 2, 7).slice(1, 1, 9);  // (5, 8): row stride 12, BLAS direct
  Tensor cols = randu({8, 5}, 8).transpose(0, 1);   // (5, 8): column-major, BLAS direct
  Tensor b = randu({8, 3}, 9);
  check_matmul(rows, b);
  check_matmul(cols, b);
  check_matmul(rows, cols, false, true);
  check_matmul(cols, rows, false, true);
  check_matmul(rows.transpose(0, 1), b.slice(1, 0, 2), true, false);
  check_matmul(b, rows.transpose(0, 1), true, false);
  // Layouts BLAS cannot take: stride-0 rows (expand) and a permuted 3-D view's last two axes.
  Tensor bcast = randu({1, 8}, 10).expand({5, 8});
  check_matmul(bcast, b);
  check_matmul(randu({4, 8}, 11), bcast, false, true);
  Tensor odd = randu({5, 4, 3}, 12).select(2, 1);  // (5, 4), strides (12, 3): no unit stride
  check_matmul(odd, randu({4, 6}, 13));
  check_matmul(randu({6, 4}, 13), odd, false, true);
  Tensor offset_cols = randu({6, 20}, 14).transpose(0, 1).slice(0, 2, 18);  // (16, 6), ld 20
  check_matmul(offset_cols, randu({6, 2}, 15));
  check_matmul(offset_cols, randu({16, 2}, 16), true, false);
}

TEST_CASE("matmul: batches and batch broadcasting") {
  check_matmul(randu({3, 4, 5}, 1), randu({3, 5, 2}, 2));
  check_matmul(randu({3, 4, 5}, 1), randu({5, 2}, 2));  // folds into one (12, 5) x (5, 2)
  check_matmul(randu({3, 4, 5}, 1), randu({2, 5}, 2), false, true);
  check_matmul(randu({3, 5, 4}, 1), randu({5, 2}, 2), true, false);
  check_matmul(randu({4, 5}, 1), randu({3, 5, 2}, 2));
  check_matmul(randu({2, 1, 4, 5}, 3), randu({3, 5, 6}, 4));  // -> (2, 3, 4, 6)
  check_matmul(randu({2, 1, 4, 5}, 3), randu({1, 3, 6, 5}, 4), false, true);
  // Strided batches: permuted (B, H, N, D) like attention heads, and a batch-sliced operand.
  Tensor q = randu({2, 6, 3, 4}, 5).permute({0, 2, 1, 3});  // (2, 3, 6, 4)
  Tensor k = randu({2, 6, 3, 4}, 6).permute({0, 2, 1, 3});
  check_matmul(q, k, false, true);
  check_matmul(q, k, true, false);
  Tensor sliced = randu({5, 4, 6}, 7).slice(0, 1, 4);  // (3, 4, 6), contiguous rows
  check_matmul(sliced, randu({6, 2}, 8));
  Tensor gapped = randu({3, 5, 6}, 9).slice(1, 0, 4);  // (3, 4, 6): batch does not fold
  check_matmul(gapped, randu({6, 2}, 10));
  check_matmul(gapped.transpose(1, 2), randu({4, 3}, 11));
  // Expanded batch (stride 0).
  check_matmul(randu({4, 5}, 12).expand({3, 4, 5}), randu({3, 5, 2}, 13));
  CHECK_THROWS_AS(kern::matmul(randu({2, 3, 4}, 1), randu({3, 4, 5}, 2)), ShapeError);
}

TEST_CASE("matmul: large GEMMs split into row blocks") {
  check_matmul(randu({300, 200}, 1), randu({200, 150}, 2));
  check_matmul(randu({200, 300}, 3), randu({150, 200}, 4), true, true);
  check_matmul(randu({2, 256, 64}, 5), randu({2, 64, 128}, 6));
  check_matmul(randu({4, 100, 64}, 7), randu({64, 96}, 8));  // folded (400, 64) x (64, 96)

  Tensor a = randu({257, 130}, 9), b = randu({130, 190}, 10);
  set_num_threads(1);
  std::vector<float> c1 = kern::matmul(a, b).to_floats();
  set_num_threads(2);
  std::vector<float> c2 = kern::matmul(a, b).to_floats();
  set_num_threads(0);
  REQUIRE(c1.size() == c2.size());
  double worst = 0.0;
  for (size_t i = 0; i < c1.size(); ++i) worst = std::max(worst, double(std::fabs(c1[i] - c2[i])));
  CHECK(worst < 1e-4);
}

TEST_CASE("matmul: zero-size dims") {
  CHECK(kern::matmul(randu({0, 4}, 1), randu({4, 3}, 2)).shape() == Dims{0, 3});
  CHECK(kern::matmul(randu({2, 4}, 1), randu({4, 0}, 2)).shape() == Dims{2, 0});
  CHECK(kern::matmul(randu({0, 2, 4}, 1), randu({4, 3}, 2)).shape() == Dims{0, 2, 3});
  Tensor z = kern::matmul(randu({2, 0}, 1), randu({0, 3}, 2));  // empty sum
  CHECK(z.shape() == Dims{2, 3});
  CHECK(z.to_floats() == std::vector<float>(6, 0.0f));
}

TEST_CASE("matmul_into: alpha, beta and checks") {
  Tensor a = randu({2, 3, 4}, 1), b = randu({2, 5, 4}, 2);
  Tensor c = randu({2, 3, 5}, 3);
  std::vector<float> c0 = c.to_floats();
  Dims shape;
  std::vector<double> ab = ref_matmul(a, b, false, true, shape);
  kern::matmul_into(c, a, b, false, true, 2.0f, 0.5f);
  std::vector<float> got = c.to_floats();
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(2.0 * ab[i] + 0.5 * c0[i]).epsilon(1e-5));

  Tensor folded = randu({2, 3, 4}, 4);  // (2, 3, 4) x (4, 5): folded path with beta
  Tensor w = randu({4, 5}, 5);
  Tensor acc = Tensor::zeros({2, 3, 5});
  kern::matmul_into(acc, folded, w, false, false, 1.0f, 1.0f);
  kern::matmul_into(acc, folded, w, false, false, 1.0f, 1.0f);
  std::vector<double> fw = ref_matmul(folded, w, false, false, shape);
  got = acc.to_floats();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(2.0 * fw[i]));

  Tensor k0 = randu({3, 5}, 6);
  kern::matmul_into(k0, randu({3, 0}, 7), randu({0, 5}, 8), false, false, 1.0f, 0.0f);
  CHECK(kern::max_abs(k0) == 0.0f);

  Tensor wrong = Tensor::zeros({2, 3, 4});
  CHECK_THROWS_AS(kern::matmul_into(wrong, a, b, false, true), ShapeError);
  Tensor strided = Tensor::zeros({2, 5, 3}).transpose(1, 2);
  CHECK_THROWS_AS(kern::matmul_into(strided, a, b, false, true), ShapeError);
}

TEST_CASE(
    "matmul: the own kernel's shapes (skinny, edges, k chunks, k split), thread-independent") {
  // rows not a multiple of 6, columns not a multiple of 16, k over several chunks of 128
  check_matmul(randu({301, 200}, 21), randu({200, 70}, 22));
  check_matmul(randu({301, 200}, 21), randu({70, 200}, 23), false, true);
  check_matmul(randu({200, 37}, 24), randu({200, 33}, 25), true, false);
  check_matmul(randu({3, 65, 40}, 26), randu({3, 40, 17}, 27));
  check_matmul(randu({2, 40, 65}, 26), randu({2, 17, 40}, 27), true, true);
  // dW = Xᵀ G of a linear layer: small output, long k (split into partial sums)
  Tensor x = randu({4100, 24}, 28), g = randu({4100, 20}, 29);
  check_matmul(x, g, true, false);
  for (bool split : {false, true}) {
    Tensor a = split ? x : randu({130, 257}, 30);
    Tensor b = split ? g : randu({257, 90}, 31);
    set_num_threads(1);
    std::vector<float> c1 = kern::matmul(a, b, split, false).to_floats();
    set_num_threads(2);
    std::vector<float> c2 = kern::matmul(a, b, split, false).to_floats();
    set_num_threads(0);
    CHECK(c1 == c2);  // bit-identical: tiling never changes an element's summation order
  }
}

TEST_CASE("matmul_sum: the sum over the batch of per-entry products, bit for bit") {
  // Linformer's dE = Σ_b dY_b X_bᵀ: (3, 1, 70, 24) x (3, 1, 130, 24)ᵀ (own kernel, packed
  // op(B)); a broadcast operand ((24, 33) against a (2, 3, 24) batch); a shape under the own
  // kernel's minimum (N < 8: the per-entry fallback). Each against matmul_into with beta = 1
  // in entry order (the same sums) and against the double-precision reference.
  struct Case {
    Tensor a, b;
    bool ta, tb;
  };
  const Case cases[] = {{randu({3, 1, 70, 24}, 41), randu({3, 1, 130, 24}, 42), false, true},
                        {randu({2, 3, 24, 40}, 43), randu({24, 33}, 44), true, false},
                        {randu({4, 9, 5}, 45), randu({4, 5, 3}, 46), false, false}};
  for (const Case& c : cases) {
    Dims shape;
    const std::vector<double> ref = ref_matmul(c.a, c.b, c.ta, c.tb, shape);
    const int64_t m = shape[shape.size() - 2], n = shape[shape.size() - 1];
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      Tensor got = kern::matmul_sum(c.a, c.b, c.ta, c.tb);
      REQUIRE(got.shape() == Dims{m, n});
      Tensor full = kern::matmul(c.a, c.b, c.ta, c.tb).reshape({-1, m, n});
      Tensor want = Tensor::zeros({m, n});
      for (int64_t e = 0; e < full.size(0); ++e) kern::axpy_(want, full.select(0, e));
      const std::vector<float> g = got.to_floats(), w = want.to_floats();
      CHECK(g == w);
      for (int64_t i = 0; i < m * n; ++i) {
        double sum = 0.0;
        for (int64_t e = 0; e < full.size(0); ++e) sum += ref[size_t(e * m * n + i)];
        CHECK(g[size_t(i)] == doctest::Approx(sum).epsilon(1e-4));
      }
    }
    set_num_threads(0);
  }
}

TEST_CASE("sgemm on raw pointers: every transpose, strides, alpha and beta") {
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t k : {int64_t(0), int64_t(3), int64_t(150)}) {
        const int64_t m = 13, n = 37;
        Tensor a = ta ? randu({k, m + 2}, 40) : randu({m, k + 3}, 40);  // padded rows: lda > width
        Tensor b = tb ? randu({n, k + 1}, 41) : randu({k, n + 5}, 41);
        Tensor c = randu({m, n + 4}, 42);
        std::vector<float> c0 = c.to_floats();
        const int64_t lda = a.size(1), ldb = b.size(1), ldc = c.size(1);
        kern::sgemm(ta, tb, m, n, k, 1.5f, a.data<float>(), lda, b.data<float>(), ldb, 0.25f,
                    c.data<float>(), ldc);
        std::vector<float> va = a.to_floats(), vb = b.to_floats(), got = c.to_floats();
        int bad = 0;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n + 4; ++j) {
            double want = c0[size_t(i * ldc + j)];
            if (j < n) {
              double s = 0.0;
              for (int64_t x = 0; x < k; ++x)
                s += double(ta ? va[size_t(x * lda + i)] : va[size_t(i * lda + x)]) *
                     double(tb ? vb[size_t(j * ldb + x)] : vb[size_t(x * ldb + j)]);
              want = 1.5 * s + 0.25 * want;
            }
            if (std::fabs(got[size_t(i * ldc + j)] - want) > 1e-4 * (1.0 + std::fabs(want))) ++bad;
          }
        INFO("ta " << ta << " tb " << tb << " k " << k);
        CHECK(bad == 0);  // columns past n are untouched
      }
}
