// Gather/scatter kernels and concat against naive loops, on non-contiguous views, with
// repeated indices; scatter-adds must not depend on the thread count.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randn;

namespace {

Tensor ints(std::vector<int32_t> v, const Dims& shape) {
  return Tensor::from(std::span<const int32_t>(v), shape);
}

}  // namespace

TEST_CASE("embedding gathers table rows, also from a transposed table") {
  Tensor table = randn({4, 5}, 1).transpose(0, 1);  // (V=5, D=4), column stride 5
  REQUIRE(!table.is_contiguous());
  Tensor ids = ints({4, 0, 2, 2, 1, 4}, {2, 3});
  Tensor out = kern::embedding(table, ids);
  CHECK(out.shape() == Dims({2, 3, 4}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k)
        CHECK(out.at({i, j, k}) == table.at({int64_t(ids.at({i, j})), k}));
}

TEST_CASE("embedding names a bad id and the table size") {
  Tensor table = randn({5, 3}, 2);
  for (int32_t bad : {5, -1}) {
    std::string msg;
    try {
      kern::embedding(table, ints({0, 1, bad}, {3}));
    } catch (const DataError& e) {
      msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("id " + std::to_string(bad)) != std::string::npos);
    CHECK(msg.find("5") != std::string::npos);
    CHECK(msg.find("position 2") != std::string::npos);
  }
}

TEST_CASE("embedding_backward_ scatter-adds repeated ids, independently of threads") {
  const int64_t v = 7, d = 3, n = 3000;
  std::vector<int32_t> idv(n);
  for (int64_t i = 0; i < n; ++i) idv[i] = int32_t((i * 7919) % 5);  // ids 5, 6 never used
  Tensor ids = ints(idv, {3, n / 3});
  Tensor gy = randn({3, n / 3, d}, 3);
  std::vector<float> g = gy.to_floats();
  std::vector<double> want(v * d, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < d; ++k) want[idv[i] * d + k] += g[i * d + k];

  Tensor one = Tensor::full({v, d}, 1.0f);  // accumulates on top of what is there
  Tensor two = Tensor::full({v, d}, 1.0f);
  set_num_threads(1);
  kern::embedding_backward_(one, ids, gy);
  set_num_threads(2);
  kern::embedding_backward_(two, ids, gy);
  set_num_threads(0);
  CHECK(one.to_floats() == two.to_floats());
  std::vector<float> got = two.to_floats();
  for (int64_t i = 0; i < v * d; ++i) CHECK(got[i] == doctest::Approx(1.0 + want[i]).epsilon(1e-4));

  Tensor t = Tensor::zeros({d, v}).transpose(0, 1);  // non-contiguous destination
  kern::embedding_backward_(t, ids, gy);
  got = t.to_floats();
  for (int64_t i = 0; i < v * d; ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-4));
  CHECK_THROWS_AS(kern::embedding_backward_(t, ints({7}, {1}), randn({1, d}, 4)), DataError);
}

TEST_CASE("index_select and index_add_ along an inner axis of a transposed tensor") {
  Tensor x = randn({4, 3, 2}, 5).permute({1, 0, 2});  // (3, 4, 2) non-contiguous
  Tensor index = ints({3, 0, 3, 1, 3}, {5});
  Tensor out = kern::index_select(x, 1, index);
  CHECK(out.shape() == Dims({3, 5, 2}));
  std::vector<int32_t> iv = index.to_ints();
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t k = 0; k < 5; ++k)
      for (int64_t c = 0; c < 2; ++c) CHECK(out.at({a, k, c}) == x.at({a, iv[k], c}));

  Tensor dst = Tensor::full({3, 4, 2}, 0.5f);
  Tensor dst_t = Tensor::full({4, 3, 2}, 0.5f).permute({1, 0, 2});  // non-contiguous dst
  Tensor src = randn({3, 5, 2}, 6);
  kern::index_add_(dst, 1, index, src);
  kern::index_add_(dst_t, 1, index, src);
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t c = 0; c < 2; ++c) {
        double want = 0.5;
        for (int64_t k = 0; k < 5; ++k)
          if (iv[k] == r) want += src.at({a, k, c});
        CHECK(dst.at({a, r, c}) == doctest::Approx(want).epsilon(1e-6));
        CHECK(dst_t.at({a, r, c}) == doctest::Approx(want).epsilon(1e-6));
      }
  CHECK_THROWS_AS(kern::index_select(x, 1, ints({4}, {1})), DataError);
  // i32 tensors select too (e.g. labels of a batch)
  Tensor lab = ints({10, 11, 12}, {3});
  CHECK(kern::index_select(lab, 0, ints({2, 0}, {2})).to_ints() == std::vector<int32_t>{12, 10});
}

TEST_CASE("gather_rows and scatter_add_rows_ with repeated indices on views") {
  Tensor x = randn({2, 3, 5}, 7).permute({0, 2, 1});  // (B=2, N=5, D=3) non-contiguous
  Tensor idx = ints({4, 4, 0, 1, 2, 2, 2, 3}, {2, 4});
  Tensor out = kern::gather_rows(x, idx);
  CHECK(out.shape() == Dims({2, 4, 3}));
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t m = 0; m < 4; ++m)
      for (int64_t k = 0; k < 3; ++k)
        CHECK(out.at({b, m, k}) == x.at({b, int64_t(idx.at({b, m})), k}));

  Tensor src = randn({2, 4, 3}, 8);
  Tensor dst = Tensor::zeros({2, 3, 5}).permute({0, 2, 1});  // non-contiguous destination
  kern::scatter_add_rows_(dst, idx, src);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t n = 0; n < 5; ++n)
      for (int64_t k = 0; k < 3; ++k) {
        double want = 0.0;
        for (int64_t m = 0; m < 4; ++m)
          if (idx.at({b, m}) == n) want += src.at({b, m, k});
        CHECK(dst.at({b, n, k}) == doctest::Approx(want).epsilon(1e-6));
      }
  CHECK_THROWS_AS(kern::gather_rows(x, ints({5, 0, 0, 0, 0, 0, 0, 0}, {2, 4})), DataError);
}

TEST_CASE("concat along an axis, with a non-contiguous part") {
  Tensor a = randn({2, 3}, 9);
  Tensor b = randn({4, 2}, 10).transpose(0, 1);  // (2, 4) non-contiguous
  Tensor c = kern::concat({a, b}, 1);
  CHECK(c.shape() == Dims({2, 7}));
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) CHECK(c.at({i, j}) == a.at({i, j}));
    for (int64_t j = 0; j < 4; ++j) CHECK(c.at({i, 3 + j}) == b.at({i, j}));
  }
  Tensor r = kern::concat({a, randn({1, 3}, 11), a}, 0);
  CHECK(r.shape() == Dims({5, 3}));
  CHECK(r.at({4, 2}) == a.at({1, 2}));
  CHECK(kern::concat({ints({1, 2}, {2}), ints({3}, {1})}, 0).to_ints() ==
        std::vector<int32_t>{1, 2, 3});
  CHECK_THROWS_AS(kern::concat({a, b}, 0), ShapeError);
}
