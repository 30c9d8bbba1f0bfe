// Finite-difference checks of the reductions on every axis, with and without keepdim, on
// contiguous and strided inputs.
#include <doctest/doctest.h>

#include <numeric>
#include <string>
#include <vector>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::expect_ok;
using lra::test::randu;

namespace {

// Distinct values 0.1 apart in a shuffled order: a perturbation of eps = 0.01 never changes
// which element is the maximum.
Tensor spaced(const Dims& shape, uint64_t seed) {
  int64_t n = shape.numel();
  std::vector<float> v(static_cast<size_t>(n));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  uint64_t key = rng_key(seed, {rng_tag("spaced")});
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[size_t(i)], order[size_t(random_below(key, uint64_t(i), uint64_t(i + 1)))]);
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = 0.1f * float(order[size_t(i)]) - 1.0f;
  return Tensor::from(v, shape);
}

using Reduce = Var (*)(const Var&, int, bool);

}  // namespace

TEST_CASE("gradcheck: sum, mean, max, logsumexp on every axis") {
  struct Op {
    const char* name;
    Reduce fn;
  };
  Op ops[] = {{"sum", sum}, {"mean", mean}, {"max", max}, {"logsumexp", logsumexp}};
  Tensor base = spaced({3, 4, 2}, 1);
  for (const Op& op : ops)
    for (const Tensor& x : {base, base.permute({2, 0, 1}), base.slice(1, 1, 3)})
      for (int axis = -1; axis < 3; ++axis)
        for (bool keepdim : {false, true}) {
          INFO(std::string(op.name)
               << " " << x.describe() << " axis " << axis << " keepdim " << keepdim);
          expect_ok(gradcheck([&](const std::vector<Var>& v) { return op.fn(v[0], axis, keepdim); },
                              {x}, test::kOpCheck));
        }
}

TEST_CASE("gradcheck: sum_all and mean_all") {
  Tensor x = randu({4, 5}, 2, -2.0f, 2.0f);
  for (const Tensor& in : {x, x.transpose(0, 1), x.slice(0, 1, 3)}) {
    expect_ok(
        gradcheck([](const std::vector<Var>& v) { return sum_all(v[0]); }, {in}, test::kOpCheck));
    expect_ok(
        gradcheck([](const std::vector<Var>& v) { return mean_all(v[0]); }, {in}, test::kOpCheck));
  }
  // A composition: mean of squares (a typical loss).
  expect_ok(gradcheck([](const std::vector<Var>& v) { return mean_all(square(v[0])); }, {x},
                      test::kOpCheck));
}

TEST_CASE("reductions: values and gradients by hand") {
  std::vector<float> v = {1, 4, 2, 3, 0, 5};
  Var x = Var::param(Tensor::from(v, {2, 3}));
  Var m = max(x, 1);
  CHECK(m.data().to_floats() == std::vector<float>{4, 5});
  sum_all(m).backward();
  CHECK(x.grad().to_floats() == std::vector<float>{0, 1, 0, 0, 0, 1});

  Var y = Var::param(Tensor::from(v, {2, 3}));
  Var s = mean(y, 0, true);
  CHECK(s.shape() == Dims{1, 3});
  CHECK(s.data().to_floats() == std::vector<float>{2, 2, 3.5f});
  sum_all(s).backward();
  CHECK(y.grad().to_floats() == std::vector<float>(6, 0.5f));

  Var z = Var::param(Tensor::from(v, {2, 3}));
  mean_all(z).backward();
  CHECK(z.grad().to_floats() == std::vector<float>(6, 1.0f / 6.0f));
}
