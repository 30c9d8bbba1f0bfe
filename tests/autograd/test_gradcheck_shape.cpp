// Finite-difference checks of the shape ops; their forwards are views of the input's storage.
#include <doctest/doctest.h>

#include <functional>
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

using Fn = std::function<Var(const std::vector<Var>&)>;

}  // namespace

TEST_CASE("gradcheck: view ops on contiguous and strided inputs") {
  Tensor x = randu({2, 3, 4}, 1);
  std::vector<Fn> fns = {
      [](const std::vector<Var>& v) {
        return reshape(v[0], {6, -1});
      },
      [](const std::vector<Var>& v) {
        return permute(v[0], {2, 0, 1});
      },
      [](const std::vector<Var>& v) {
        return permute(v[0], {-1, 1, 0});
      },
      [](const std::vector<Var>& v) { return transpose(v[0], 0, -1); },
      [](const std::vector<Var>& v) { return slice(v[0], 1, 1, 3); },
      [](const std::vector<Var>& v) { return slice(v[0], -1, 0, 2); },
      [](const std::vector<Var>& v) { return unsqueeze(v[0], 1); },
      [](const std::vector<Var>& v) { return unsqueeze(v[0], -1); },
      [](const std::vector<Var>& v) {
        return expand(unsqueeze(v[0], 0), {3, 2, 3, 4});
      },
      [](const std::vector<Var>& v) { return contiguous(v[0]); },
      // A chain of views feeding an op that reads strides.
      [](const std::vector<Var>& v) {
        return mul(transpose(slice(v[0], 2, 1, 4), 0, 1), transpose(slice(v[0], 2, 0, 3), 0, 1));
      },
  };
  for (size_t i = 0; i < fns.size(); ++i) {
    INFO("function " << i);
    expect_ok(gradcheck(fns[i], {x}, test::kOpCheck));
    expect_ok(
        gradcheck(fns[i], {x.permute({0, 2, 1}).contiguous().permute({0, 2, 1})}, test::kOpCheck));
    expect_ok(
        gradcheck(fns[i], {randu({4, 3, 2}, 2).permute({2, 1, 0})}, test::kOpCheck));  // strided
  }
  // expand of a size-1 axis inside the shape: gradient summed over it.
  expect_ok(gradcheck(
      [](const std::vector<Var>& v) {
        return expand(v[0], {2, 3, 4});
      },
      {randu({2, 1, 4}, 3)}, test::kOpCheck));
}

TEST_CASE("gradcheck: concat") {
  Tensor a = randu({2, 3}, 1), b = randu({2, 4}, 2),
         c = randu({5, 2}, 3).transpose(0, 1);  // (2, 5)
  expect_ok(
      gradcheck([](const std::vector<Var>& v) { return concat(v, 1); }, {a, b, c}, test::kOpCheck));
  expect_ok(
      gradcheck([](const std::vector<Var>& v) { return concat(v, -1); }, {a, c}, test::kOpCheck));
  expect_ok(gradcheck([](const std::vector<Var>& v) { return concat(v, 0); },
                      {randu({1, 3}, 4), a, randu({3, 2}, 5).transpose(0, 1)}, test::kOpCheck));
}

TEST_CASE("shape ops: views share storage and concat lays parts out") {
  Var x = Var::param(randu({2, 3, 4}, 1));
  CHECK(transpose(x, 0, 2).data().storage() == x.data().storage());
  CHECK(slice(x, 1, 0, 2).data().storage() == x.data().storage());
  CHECK(reshape(x, {24}).data().storage() == x.data().storage());
  CHECK(unsqueeze(x, 0).data().storage() == x.data().storage());
  CHECK(permute(x, {1, 0, 2}).shape() == Dims{3, 2, 4});

  std::vector<float> va = {1, 2, 3, 4}, vb = {5, 6};
  Var a = Var::param(Tensor::from(va, {2, 2}));
  Var b = Var::param(Tensor::from(vb, {2, 1}));
  Var c = concat({a, b}, 1);
  CHECK(c.data().to_floats() == std::vector<float>{1, 2, 5, 3, 4, 6});
  std::vector<float> g = {10, 20, 30, 40, 50, 60};
  c.backward(Tensor::from(g, {2, 3}));
  CHECK(a.grad().to_floats() == std::vector<float>{10, 20, 40, 50});
  CHECK(b.grad().to_floats() == std::vector<float>{30, 60});
  CHECK_THROWS_AS(concat({a, Var::param(randu({3, 1}, 2))}, 1), ShapeError);
}
