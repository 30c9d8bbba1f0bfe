// kern::matmul with a one-column result (N = 1, the cblas_sgemv path of core/src/matmul.cpp,
// Note [matrix-vector]) against a double loop: both transposes of a, a strided vector b, batches,
// row blocks, alpha/beta, and beta = 0 over garbage (NaN) output.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randu;

namespace {

// op(a) (B, M, K) times op(b) (B, K, 1), from contiguous copies, in double.
std::vector<double> reference(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const Tensor ac = a.contiguous(), bc = b.contiguous();
  std::vector<float> va = ac.to_floats(), vb = bc.to_floats();
  const int64_t B = a.dim() == 3 ? a.size(0) : 1;
  const int64_t ra = a.size(-2), ca = a.size(-1);
  const int64_t M = ta ? ca : ra, K = ta ? ra : ca;
  std::vector<double> c(size_t(B * M), 0.0);
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t m = 0; m < M; ++m) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double x =
            ta ? va[size_t(bi * ra * ca + k * ca + m)] : va[size_t(bi * ra * ca + m * ca + k)];
        s += x * double(vb[size_t(bi * K + k)]);  // b holds K values per batch either way
      }
      c[size_t(bi * M + m)] = s;
    }
  return c;
}

void check_close(const Tensor& c, const std::vector<double>& want, int64_t K) {
  std::vector<float> got = c.to_floats();
  REQUIRE(got.size() == want.size());
  const double tol = 1e-5 * std::sqrt(double(K) + 1.0) + 1e-6;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol) && bad++ < 5) {
      INFO("element " << i << ": got " << got[i] << " want " << want[i]);
      CHECK(false);
    }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("matmul: one-column results, both transposes of a, batches and row blocks") {
  for (int64_t M : {5, 4096})
    for (int64_t K : {7, 300})
      for (bool ta : {false, true}) {
        INFO("M " << M << " K " << K << " ta " << ta);
        Tensor a = ta ? randu({2, K, M}, 1) : randu({2, M, K}, 1);
        Tensor b = randu({2, K, 1}, 2);
        check_close(kern::matmul(a, b, ta, false), reference(a, b, ta, false), K);
        // b given as its transpose (2, 1, K)
        Tensor bt = randu({2, 1, K}, 3);
        check_close(kern::matmul(a, bt, ta, true), reference(a, bt, ta, true), K);
        // a strided vector: column 2 of a (2, K, 4) tensor
        Tensor wide = randu({2, K, 4}, 4);
        Tensor col = wide.slice(2, 2, 3);
        check_close(kern::matmul(a, col, ta, false), reference(a, col, ta, false), K);
      }
}

TEST_CASE("matmul_into: one-column results with alpha, beta, and beta = 0 over NaN") {
  Tensor a = randu({64, 33}, 5), b = randu({33, 1}, 6);
  std::vector<double> ab = reference(a, b, false, false);
  Tensor c = Tensor::empty({64, 1});
  std::vector<float> nan(64, NAN);
  std::copy(nan.begin(), nan.end(), c.data<float>());
  kern::matmul_into(c, a, b, false, false, 1.0f, 0.0f);
  check_close(c, ab, 33);
  Tensor c0 = randu({64, 1}, 7);
  std::vector<float> old = c0.to_floats();
  kern::matmul_into(c0, a, b, false, false, 2.0f, 0.5f);
  std::vector<double> want(64);
  for (size_t i = 0; i < 64; ++i) want[i] = 2.0 * ab[i] + 0.5 * double(old[i]);
  check_close(c0, want, 33);
}
