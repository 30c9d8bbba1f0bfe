// Gradient checks for embedding (w.r.t. the table), index_select, gather_rows (repeated
// indices) and cumsum (both directions), also on non-contiguous inputs.
#include <doctest/doctest.h>

#include <vector>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::expect_ok;
using lra::test::ints;
using lra::test::randn;

TEST_CASE("gradcheck embedding w.r.t. the table, repeated ids, transposed table") {
  Tensor ids = ints({1, 3, 3, 0, 5, 1, 1, 2}, {2, 4});  // id 4 unused: zero gradient
  auto fn = [&](const std::vector<Var>& in) { return embedding(in[0], ids); };
  expect_ok(gradcheck(fn, {randn({6, 3}, 1)}, test::kOpCheck));
  expect_ok(gradcheck(fn, {randn({3, 6}, 2).transpose(0, 1)}, test::kOpCheck));
  Var table = Var::param(randn({6, 3}, 3));
  embedding(table, ids).backward(Tensor::ones({2, 4, 3}));
  CHECK(table.grad().at({4, 0}) == 0.0f);
  CHECK(table.grad().at({1, 2}) == 3.0f);
}

TEST_CASE("gradcheck index_select on axes 0 and 1, repeats, transposed input") {
  Tensor index = ints({2, 0, 2, 2}, {4});
  for (int axis : {0, 1}) {
    auto fn = [&](const std::vector<Var>& in) { return index_select(in[0], axis, index); };
    expect_ok(gradcheck(fn, {randn({3, 4, 2}, 4)}, test::kOpCheck));
    expect_ok(gradcheck(fn, {randn({4, 3, 2}, 5).permute({1, 0, 2})}, test::kOpCheck));
  }
}

TEST_CASE("gradcheck gather_rows with repeated indices, contiguous and permuted") {
  Tensor idx = ints({3, 3, 0, 3, 1, 1, 2, 1, 0}, {3, 3});
  auto fn = [&](const std::vector<Var>& in) { return gather_rows(in[0], idx); };
  expect_ok(gradcheck(fn, {randn({3, 4, 2}, 6)}, test::kOpCheck));
  Tensor xp = randn({3, 2, 4}, 7).permute({0, 2, 1});  // (3, 4, 2) non-contiguous
  REQUIRE(!xp.is_contiguous());
  expect_ok(gradcheck(fn, {xp}, test::kOpCheck));
}

TEST_CASE("gradcheck cumsum on every axis, forward and reverse, transposed input") {
  for (int axis : {0, 1, -1})
    for (bool rev : {false, true}) {
      auto fn = [&](const std::vector<Var>& in) { return cumsum(in[0], axis, rev); };
      expect_ok(gradcheck(fn, {randn({2, 3, 4}, 8)}, test::kOpCheck));
      expect_ok(gradcheck(fn, {randn({4, 3, 2}, 9).permute({2, 1, 0})}, test::kOpCheck));
    }
}
