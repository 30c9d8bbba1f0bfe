// Gradient checks for layer_norm with respect to x, gamma and beta, also on a transposed x.
#include <doctest/doctest.h>

#include <vector>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::expect_ok;
using lra::test::randn;

namespace {

Var ln(const std::vector<Var>& in) {
  return layer_norm(in[0], in[1], in[2], 1e-5f);
}

}  // namespace

TEST_CASE("gradcheck layer_norm for x, gamma and beta") {
  expect_ok(gradcheck(ln,
                      {randn({2, 3, 7}, 1, 1.0f, 0.0f), randn({7}, 2, 0.3f, 1.0f), randn({7}, 3)},
                      test::kOpCheck));
}

TEST_CASE("gradcheck layer_norm on a transposed x") {
  Tensor x = randn({9, 4}, 4, 1.5f, 0.5f).transpose(0, 1);  // (4, 9), last stride 4
  REQUIRE(!x.is_contiguous());
  expect_ok(gradcheck(ln, {x, randn({9}, 5, 0.3f, 1.0f), randn({9}, 6)}, test::kOpCheck));
}

TEST_CASE("layer_norm without an affine part and with a frozen gamma") {
  expect_ok(gradcheck([](const std::vector<Var>& in) { return layer_norm(in[0], Var(), Var()); },
                      {randn({3, 8}, 7)}, test::kOpCheck));
  Var x = Var::param(randn({3, 8}, 8));
  Var gamma(randn({8}, 9, 0.3f, 1.0f));  // no gradient wanted
  Var beta = Var::param(randn({8}, 10));
  Var y = layer_norm(x, gamma, beta);
  y.backward(randn({3, 8}, 11));
  CHECK(!gamma.grad().defined());
  CHECK(x.grad().shape() == x.shape());
  CHECK(beta.grad().shape() == beta.shape());
}
