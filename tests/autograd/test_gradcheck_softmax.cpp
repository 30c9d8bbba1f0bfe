// Gradient checks for softmax (plain, with lengths, with a scale) and log_softmax, also on
// transposed (non-contiguous) inputs.
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

namespace {}  // namespace

TEST_CASE("gradcheck softmax") {
  expect_ok(gradcheck([](const std::vector<Var>& in) { return softmax(in[0]); },
                      {randn({2, 3, 5}, 1)}, test::kOpCheck));
}

TEST_CASE("gradcheck softmax with a scale") {
  expect_ok(gradcheck([](const std::vector<Var>& in) { return softmax(in[0], {}, 1.7f); },
                      {randn({3, 6}, 2)}, test::kOpCheck));
}

TEST_CASE("gradcheck softmax with lengths (full, partial, zero) and a scale") {
  std::vector<int32_t> len = {5, 2, 0};
  Tensor lengths = Tensor::from(std::span<const int32_t>(len), {3});
  GradcheckResult r =
      gradcheck([&](const std::vector<Var>& in) { return softmax(in[0], lengths, 0.6f); },
                {randn({3, 2, 5}, 3)}, test::kOpCheck);
  expect_ok(r);
  // padded keys get no gradient at all
  Var x = Var::param(randn({3, 2, 5}, 4));
  Var y = softmax(x, lengths, 0.6f);
  y.backward(randn({3, 2, 5}, 5));
  CHECK(x.grad().at({1, 1, 3}) == 0.0f);
  CHECK(x.grad().at({2, 0, 0}) == 0.0f);
  CHECK(x.grad().at({0, 0, 0}) != 0.0f);
}

TEST_CASE("gradcheck softmax on a transposed view") {
  std::vector<int32_t> len = {4, 3};
  Tensor lengths = Tensor::from(std::span<const int32_t>(len), {2});
  Tensor x = randn({2, 4, 3}, 6).transpose(1, 2);  // (2, 3, 4), last stride 3
  REQUIRE(!x.is_contiguous());
  expect_ok(gradcheck([&](const std::vector<Var>& in) { return softmax(in[0], lengths, 1.3f); },
                      {x}, test::kOpCheck));
}

TEST_CASE("gradcheck log_softmax, contiguous and transposed") {
  expect_ok(gradcheck([](const std::vector<Var>& in) { return log_softmax(in[0]); },
                      {randn({4, 5}, 7)}, test::kOpCheck));
  Tensor xt = randn({6, 3}, 8).transpose(0, 1);
  expect_ok(gradcheck([](const std::vector<Var>& in) { return log_softmax(in[0]); }, {xt},
                      test::kOpCheck));
}

TEST_CASE("these tolerances catch a softmax backward that forgets the scale") {
  auto wrong = [](const std::vector<Var>& in) {
    Tensor y = kern::softmax(in[0].data(), {}, 1.7f);
    return make_result(y, "softmax_wrong", {in[0]}, [y](const Tensor& g, InputGrads& grads) {
      grads.set(0, kern::softmax_backward(y, g, 1.0f));
    });
  };
  CHECK(!gradcheck(wrong, {randn({3, 6}, 2)}, test::kOpCheck).ok);
}
