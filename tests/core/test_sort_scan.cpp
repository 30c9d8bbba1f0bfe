// argsort (stable, both directions) and cumsum (any axis, both directions) against naive
// loops, on transposed views.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randn;

namespace {}  // namespace

TEST_CASE("argsort is stable with ties, ascending and descending") {
  std::vector<float> v = {3, 1, 2, 1, 3, 2};
  Tensor x = Tensor::from(std::span<const float>(v), {6});
  CHECK(kern::argsort(x).to_ints() == std::vector<int32_t>{1, 3, 2, 5, 0, 4});
  CHECK(kern::argsort(x, true).to_ints() == std::vector<int32_t>{0, 4, 2, 5, 1, 3});
  CHECK(kern::argsort(x).dtype() == DType::I32);
  std::vector<int32_t> iv = {5, -2, 5, 0};
  CHECK(kern::argsort(Tensor::from(std::span<const int32_t>(iv), {4})).to_ints() ==
        std::vector<int32_t>{1, 3, 0, 2});
  std::vector<float> nan = {1.0f, NAN, -1.0f};
  CHECK(kern::argsort(Tensor::from(std::span<const float>(nan), {3})).to_ints() ==
        std::vector<int32_t>{2, 0, 1});
}

TEST_CASE("argsort matches std::stable_sort on rows of a transposed view with many ties") {
  Tensor base = randn({33, 2, 3}, 1);
  std::vector<float> v = base.to_floats();
  for (float& f : v) f = std::round(f * 2.0f);  // few distinct values: many ties
  Tensor x = Tensor::from(std::span<const float>(v), {33, 2, 3}).permute({1, 2, 0});
  REQUIRE(!x.is_contiguous());
  for (bool desc : {false, true}) {
    Tensor got = kern::argsort(x, desc);
    CHECK(got.shape() == Dims({2, 3, 33}));
    std::vector<float> rows = x.to_floats();
    std::vector<int32_t> g = got.to_ints();
    for (int64_t r = 0; r < 6; ++r) {
      std::vector<int32_t> want(33);
      std::iota(want.begin(), want.end(), 0);
      const float* row = &rows[r * 33];
      std::stable_sort(want.begin(), want.end(), [&](int32_t a, int32_t b) {
        return desc ? row[a] > row[b] : row[a] < row[b];
      });
      CHECK(std::vector<int32_t>(g.begin() + r * 33, g.begin() + (r + 1) * 33) == want);
    }
  }
}

TEST_CASE("cumsum along every axis, forward and reverse, on a transposed view") {
  Tensor x = randn({4, 3, 5}, 2).permute({2, 0, 1});  // (5, 4, 3) non-contiguous
  for (int axis = 0; axis < 3; ++axis)
    for (bool rev : {false, true}) {
      Tensor y = kern::cumsum(x, axis, rev);
      CHECK(y.shape() == x.shape());
      for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = 0; j < 4; ++j)
          for (int64_t k = 0; k < 3; ++k) {
            int64_t idx[3] = {i, j, k};
            int64_t n = x.size(axis), pos = idx[axis];
            double want = 0.0;
            for (int64_t t = rev ? pos : 0; t <= (rev ? n - 1 : pos); ++t) {
              idx[axis] = t;
              want += x.at({idx[0], idx[1], idx[2]});
            }
            CHECK(y.at({i, j, k}) == doctest::Approx(want).epsilon(1e-5));
          }
    }
  CHECK(kern::cumsum(x, -1).shape() == x.shape());
}

TEST_CASE("cumsum on i32 and a reverse scan by hand") {
  std::vector<int32_t> v = {1, 2, 3, 4};
  Tensor x = Tensor::from(std::span<const int32_t>(v), {4});
  CHECK(kern::cumsum(x, 0).to_ints() == std::vector<int32_t>{1, 3, 6, 10});
  CHECK(kern::cumsum(x, 0, true).to_ints() == std::vector<int32_t>{10, 9, 7, 4});
  std::vector<float> f = {1, 2, 3, 4, 5, 6};
  Tensor m = Tensor::from(std::span<const float>(f), {2, 3});
  CHECK(kern::cumsum(m, 1, true).to_floats() == std::vector<float>{6, 5, 3, 15, 11, 6});
  CHECK(kern::cumsum(m, 0).to_floats() == std::vector<float>{1, 2, 3, 5, 7, 9});
}
