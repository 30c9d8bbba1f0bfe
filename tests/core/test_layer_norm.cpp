// kern::layer_norm / layer_norm_backward against naive loops in double, on transposed
// inputs; dgamma/dbeta must not depend on the number of threads.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::check_close;
using lra::test::randn;

namespace {

struct RefLN {
  std::vector<double> y, mean, rstd, dx, dgamma, dbeta;
};

// llm.c's layernorm_forward/backward in double on row-major data.
RefLN ref_layer_norm(const std::vector<float>& x, const std::vector<float>& g,
                     const std::vector<float>& b, const std::vector<float>& gy, int64_t d,
                     double eps) {
  int64_t rows = int64_t(x.size()) / d;
  RefLN r;
  r.y.resize(x.size());
  r.dx.resize(x.size());
  r.dgamma.assign(d, 0.0);
  r.dbeta.assign(d, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    const float* xr = &x[i * d];
    double m = 0.0, v = 0.0;
    for (int64_t j = 0; j < d; ++j) m += xr[j];
    m /= d;
    for (int64_t j = 0; j < d; ++j) v += (xr[j] - m) * (xr[j] - m);
    double rs = 1.0 / std::sqrt(v / d + eps);
    r.mean.push_back(m);
    r.rstd.push_back(rs);
    double a = 0.0, c = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      double n = (xr[j] - m) * rs;
      r.y[i * d + j] = n * g[j] + b[j];
      double dn = g[j] * gy[i * d + j];
      a += dn;
      c += dn * n;
      r.dgamma[j] += gy[i * d + j] * n;
      r.dbeta[j] += gy[i * d + j];
    }
    a /= d;
    c /= d;
    for (int64_t j = 0; j < d; ++j) {
      double n = (xr[j] - m) * rs;
      r.dx[i * d + j] = rs * (g[j] * gy[i * d + j] - a - n * c);
    }
  }
  return r;
}

}  // namespace

TEST_CASE("layer_norm forward and backward match llm.c's loops on transposed inputs") {
  const int64_t d = 13;  // not a multiple of 8: exercises the tails
  Tensor x = randn({2, d, 5}, 1, 2.0f, 0.5f).transpose(1, 2);  // (2, 5, D), last stride 5
  Tensor gy = randn({2, d, 5}, 2).transpose(1, 2);             // non-contiguous upstream gradient
  Tensor gamma = randn({d}, 3, 0.3f, 1.0f), beta = randn({d}, 4);
  REQUIRE(!x.is_contiguous());
  RefLN ref =
      ref_layer_norm(x.to_floats(), gamma.to_floats(), beta.to_floats(), gy.to_floats(), d, 1e-5);
  kern::LayerNormOut out = kern::layer_norm(x, gamma, beta, 1e-5f);
  CHECK(out.y.shape() == x.shape());
  CHECK(out.mean.shape() == Dims({10}));
  check_close(out.y.to_floats(), ref.y, 1e-5);
  check_close(out.mean.to_floats(), ref.mean, 1e-5);
  check_close(out.rstd.to_floats(), ref.rstd, 1e-5);

  kern::LayerNormGrads gr = kern::layer_norm_backward(x, gamma, out.mean, out.rstd, gy);
  check_close(gr.dx.to_floats(), ref.dx, 1e-4);
  check_close(gr.dgamma.to_floats(), ref.dgamma, 1e-4);
  check_close(gr.dbeta.to_floats(), ref.dbeta, 1e-4);
}

TEST_CASE("layer_norm without gamma and beta is plain normalisation") {
  Tensor x = randn({4, 8}, 5, 2.0f, 3.0f);
  kern::LayerNormOut out = kern::layer_norm(x, {}, {}, 1e-6f);
  for (int64_t i = 0; i < 4; ++i) {
    double m = 0.0, v = 0.0;
    for (int64_t j = 0; j < 8; ++j) m += out.y.at({i, j});
    for (int64_t j = 0; j < 8; ++j) v += out.y.at({i, j}) * out.y.at({i, j});
    CHECK(m / 8 == doctest::Approx(0.0).epsilon(1e-5));
    CHECK(v / 8 == doctest::Approx(1.0).epsilon(1e-4));
  }
  CHECK_THROWS_AS(kern::layer_norm(x, Tensor::ones({7}), {}, 1e-6f), ShapeError);
}

TEST_CASE("layer_norm_backward: dgamma and dbeta do not depend on the thread count") {
  const int64_t d = 24, rows = 6000;  // several fixed chunks of rows
  Tensor x = randn({rows, d}, 6);
  Tensor gy = randn({rows, d}, 7);
  Tensor gamma = randn({d}, 8, 0.2f, 1.0f), beta = randn({d}, 9);
  kern::LayerNormOut out = kern::layer_norm(x, gamma, beta, 1e-5f);
  set_num_threads(1);
  kern::LayerNormGrads one = kern::layer_norm_backward(x, gamma, out.mean, out.rstd, gy);
  set_num_threads(2);
  kern::LayerNormGrads two = kern::layer_norm_backward(x, gamma, out.mean, out.rstd, gy);
  set_num_threads(0);
  CHECK(one.dgamma.to_floats() == two.dgamma.to_floats());
  CHECK(one.dbeta.to_floats() == two.dbeta.to_floats());
  CHECK(one.dx.to_floats() == two.dx.to_floats());
  RefLN ref =
      ref_layer_norm(x.to_floats(), gamma.to_floats(), beta.to_floats(), gy.to_floats(), d, 1e-5);
  check_close(two.dgamma.to_floats(), ref.dgamma, 1e-4);
  check_close(two.dbeta.to_floats(), ref.dbeta, 1e-4);
}
