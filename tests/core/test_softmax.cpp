// kern::softmax / softmax_backward / log_softmax / log_softmax_backward against naive loops
// in double, on contiguous and transposed inputs, with per-sequence lengths.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::check_close;
using lra::test::randn;

namespace {

// Naive masked softmax of row-major rows of n; rows_per_seq rows share one length.
std::vector<double> ref_softmax(const std::vector<float>& x, int64_t n, double scale,
                                const std::vector<int32_t>& len, int64_t rows_per_seq) {
  std::vector<double> y(x.size(), 0.0);
  for (size_t r = 0; r < x.size() / n; ++r) {
    int64_t valid = len.empty() ? n : len[r / rows_per_seq];
    if (valid == 0) continue;
    double m = -1e300, s = 0.0;
    for (int64_t j = 0; j < valid; ++j) m = std::max(m, scale * x[r * n + j]);
    for (int64_t j = 0; j < valid; ++j) s += std::exp(scale * x[r * n + j] - m);
    for (int64_t j = 0; j < valid; ++j) y[r * n + j] = std::exp(scale * x[r * n + j] - m) / s;
  }
  return y;
}

}  // namespace

TEST_CASE("softmax matches a naive loop, with scale") {
  Tensor x = randn({3, 4, 7}, 1, 2.0f);
  Tensor y = kern::softmax(x, {}, 0.5f);
  CHECK(y.shape() == x.shape());
  CHECK(y.is_contiguous());
  check_close(y.to_floats(), ref_softmax(x.to_floats(), 7, 0.5, {}, 1), 1e-6);
}

TEST_CASE("softmax with lengths: padded keys get exactly 0, a length-0 row is all zeros") {
  Tensor x = randn({3, 2, 6}, 2);
  std::vector<int32_t> len = {6, 2, 0};
  Tensor lengths = Tensor::from(std::span<const int32_t>(len), {3});
  Tensor y = kern::softmax(x, lengths, 1.5f);
  std::vector<float> v = y.to_floats();
  check_close(v, ref_softmax(x.to_floats(), 6, 1.5, len, 2), 1e-6);
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t h = 0; h < 2; ++h) {
      double sum = 0.0;
      for (int64_t j = 0; j < 6; ++j) {
        float w = y.at({b, h, j});
        CHECK(!std::isnan(w));
        if (j >= len[b]) CHECK(w == 0.0f);
        sum += w;
      }
      CHECK(sum == doctest::Approx(len[b] == 0 ? 0.0 : 1.0).epsilon(1e-5));
    }
}

TEST_CASE("softmax on a transposed (non-contiguous) view equals softmax of its copy") {
  Tensor base = randn({2, 9, 5}, 3);  // (B, N, H)
  Tensor x = base.transpose(1, 2);    // (B, H, N), last-axis stride H
  REQUIRE(!x.is_contiguous());
  std::vector<int32_t> len = {9, 4};
  Tensor lengths = Tensor::from(std::span<const int32_t>(len), {2});
  Tensor y = kern::softmax(x, lengths, 0.7f);
  check_close(y.to_floats(), ref_softmax(x.to_floats(), 9, 0.7, len, 5), 1e-6);
  CHECK(y.to_floats() == kern::softmax(x.contiguous(), lengths, 0.7f).to_floats());
  // a sliced view (offset + row stride larger than N)
  Tensor s = base.slice(1, 2, 7);  // (2, 5, 5)
  check_close(kern::softmax(s).to_floats(), ref_softmax(s.to_floats(), 5, 1.0, {}, 1), 1e-6);
}

TEST_CASE("softmax is stable for large inputs and zero for all -inf rows") {
  std::vector<float> v = {1000.0f,
                          1001.0f,
                          999.0f,
                          -std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()};
  Tensor y = kern::softmax(Tensor::from(std::span<const float>(v), {2, 3}));
  std::vector<float> got = y.to_floats();
  check_close({got.begin(), got.begin() + 3},
              ref_softmax({v.begin(), v.begin() + 3}, 3, 1.0, {}, 1), 1e-6);
  for (int64_t j = 0; j < 3; ++j) CHECK(y.at({1, j}) == 0.0f);
}

TEST_CASE("softmax rejects bad lengths") {
  Tensor x = randn({2, 3, 4}, 4);
  std::vector<int32_t> too_long = {4, 5}, negative = {-1, 2}, three = {1, 2, 3};
  CHECK_THROWS_AS(kern::softmax(x, Tensor::from(std::span<const int32_t>(too_long), {2})),
                  DataError);
  CHECK_THROWS_AS(kern::softmax(x, Tensor::from(std::span<const int32_t>(negative), {2})),
                  DataError);
  CHECK_THROWS_AS(kern::softmax(x, Tensor::from(std::span<const int32_t>(three), {3})), ShapeError);
}

TEST_CASE("softmax_backward matches s * y * (g - rowsum(g * y)), g non-contiguous") {
  const float scale = 0.8f;
  Tensor x = randn({2, 3, 6}, 5);
  std::vector<int32_t> len = {4, 6};
  Tensor y = kern::softmax(x, Tensor::from(std::span<const int32_t>(len), {2}), scale);
  Tensor g = randn({2, 6, 3}, 6).transpose(1, 2);
  Tensor dx = kern::softmax_backward(y, g, scale);
  std::vector<float> yv = y.to_floats(), gv = g.to_floats();
  std::vector<double> want(yv.size());
  for (size_t r = 0; r < 6; ++r) {
    double dot = 0.0;
    for (size_t j = 0; j < 6; ++j) dot += double(gv[r * 6 + j]) * yv[r * 6 + j];
    for (size_t j = 0; j < 6; ++j) want[r * 6 + j] = scale * yv[r * 6 + j] * (gv[r * 6 + j] - dot);
  }
  check_close(dx.to_floats(), want, 1e-5);
  CHECK(dx.at({0, 1, 5}) == 0.0f);  // padded key: no gradient
}

TEST_CASE("log_softmax matches a naive loop and is stable; its backward too") {
  Tensor base = randn({6, 4}, 7, 3.0f);
  Tensor x = base.transpose(0, 1);  // (4, 6) non-contiguous
  std::vector<float> xv = x.to_floats();
  xv[0] += 500.0f;  // big logit: the naive exp would overflow in f32
  Tensor xc = Tensor::from(std::span<const float>(xv), {4, 6});
  for (const Tensor& in : {x, xc}) {
    std::vector<float> v = in.to_floats();
    std::vector<double> want(v.size());
    for (size_t r = 0; r < 4; ++r) {
      double m = -1e300, s = 0.0;
      for (size_t j = 0; j < 6; ++j) m = std::max(m, double(v[r * 6 + j]));
      for (size_t j = 0; j < 6; ++j) s += std::exp(v[r * 6 + j] - m);
      for (size_t j = 0; j < 6; ++j) want[r * 6 + j] = v[r * 6 + j] - m - std::log(s);
    }
    Tensor y = kern::log_softmax(in);
    check_close(y.to_floats(), want, 1e-5);

    Tensor g = randn({4, 6}, 8);
    Tensor dx = kern::log_softmax_backward(y, g);
    std::vector<float> gv = g.to_floats();
    std::vector<double> dwant(v.size());
    for (size_t r = 0; r < 4; ++r) {
      double gs = 0.0;
      for (size_t j = 0; j < 6; ++j) gs += gv[r * 6 + j];
      for (size_t j = 0; j < 6; ++j)
        dwant[r * 6 + j] = gv[r * 6 + j] - std::exp(want[r * 6 + j]) * gs;
    }
    check_close(dx.to_floats(), dwant, 1e-5);
  }
}
