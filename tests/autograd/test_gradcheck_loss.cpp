// Gradient checks and behaviour of dropout, cross_entropy and masked_mean.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::expect_ok;
using lra::test::ints;
using lra::test::randn;

TEST_CASE("gradcheck dropout with a fixed key, contiguous and transposed") {
  const uint64_t key = rng_key(42, {rng_tag("dropout"), 3});
  auto fn = [&](const std::vector<Var>& in) { return dropout(in[0], 0.4f, key, true); };
  expect_ok(gradcheck(fn, {randn({4, 6}, 1)}, test::kOpCheck));
  expect_ok(gradcheck(fn, {randn({6, 4}, 2).transpose(0, 1)}, test::kOpCheck));
}

TEST_CASE("dropout: same key same mask, inverted scaling, rate, thread independence") {
  const float p = 0.25f;
  Tensor x = Tensor::ones({64, 256});
  const uint64_t key = rng_key(7, {rng_tag("dropout")});
  Var a = dropout(Var(x), p, key, true);
  Var b = dropout(Var(x), p, key, true);
  Var c = dropout(Var(x), p, key + 1, true);
  std::vector<float> va = a.data().to_floats();
  CHECK(va == b.data().to_floats());
  CHECK(va != c.data().to_floats());
  int64_t zeros = 0, other = 0;  // kept values are scaled by 1 / (1 - p)
  for (float v : va) {
    zeros += v == 0.0f;
    other += v != 0.0f && std::fabs(v - 1.0f / (1.0f - p)) > 1e-6f;
  }
  CHECK(other == 0);
  CHECK(double(zeros) / va.size() == doctest::Approx(p).epsilon(0.1));
  // element i uses counter i
  CHECK((va[5] == 0.0f) == (uniform01(key, 5) < p));
  set_num_threads(1);
  std::vector<float> one = dropout(Var(x), p, key, true).data().to_floats();
  set_num_threads(0);
  CHECK(one == va);
  // the gradient uses the forward's mask
  Var xv = Var::param(x);
  dropout(xv, p, key, true).backward(Tensor::ones({64, 256}));
  CHECK(xv.grad().to_floats() == va);
}

TEST_CASE("dropout: element i is kept iff uniform01(key, counter0 + i) >= p, 16 lanes and tail") {
  // counter0 just under 2^32: a 16-lane block wraps the counter's low word (its high word must
  // carry), and 1000 elements leave a tail for the scalar loop
  const float p = 0.3f;
  const uint64_t key = rng_key(11, {rng_tag("dropout")});
  for (uint64_t counter0 : {uint64_t(0), uint64_t(0xFFFFFFF7u), uint64_t(5) << 40}) {
    Tensor x = randn({1000}, 4);
    const std::vector<float> vx = x.to_floats();
    const std::vector<float> y = dropout(Var(x), p, key, true, counter0).data().to_floats();
    int64_t wrong = 0;
    for (size_t i = 0; i < vx.size(); ++i) {
      const float want = uniform01(key, counter0 + i) >= p ? vx[i] * (1.0f / (1.0f - p)) : 0.0f;
      wrong += y[i] != want;
    }
    CHECK_MESSAGE(wrong == 0, "counter0 ", counter0);
  }
#if defined(__AVX512F__)
  const PhiloxKey k(key);
  for (uint64_t c :
       {uint64_t(0), uint64_t(0xFFFFFFF0u), uint64_t(0xFFFFFFFBu), ~uint64_t(0) - 20}) {
    float lanes[16];
    _mm512_storeu_ps(lanes, uniform01_16(k, c));
    for (int l = 0; l < 16; ++l) CHECK(lanes[l] == uniform01(key, c + uint64_t(l)));
  }
#endif
}

TEST_CASE("dropout is the identity when not training or p = 0, and rejects p outside [0, 1)") {
  Var x = Var::param(randn({3, 4}, 3));
  CHECK(dropout(x, 0.5f, 1, false).impl() == x.impl());
  CHECK(dropout(x, 0.0f, 1, true).impl() == x.impl());
  CHECK_THROWS_AS(dropout(x, 1.0f, 1, true), ConfigError);
  CHECK_THROWS_AS(dropout(x, -0.1f, 1, true), ConfigError);
}

TEST_CASE("gradcheck cross_entropy, contiguous and transposed logits") {
  Tensor labels = ints({2, 0, 4, 4}, {4});
  auto fn = [&](const std::vector<Var>& in) { return cross_entropy(in[0], labels); };
  expect_ok(gradcheck(fn, {randn({4, 5}, 4, 2.0f)}, test::kOpCheck));
  expect_ok(gradcheck(fn, {randn({5, 4}, 5, 2.0f).transpose(0, 1)}, test::kOpCheck));
}

TEST_CASE("cross_entropy value, fused gradient and bad labels") {
  Tensor z = randn({3, 4}, 6, 3.0f);
  Tensor labels = ints({1, 3, 0}, {3});
  Var zv = Var::param(z);
  Var loss = cross_entropy(zv, labels);
  CHECK(loss.dim() == 0);
  double want = 0.0;
  std::vector<double> grad(12);
  for (int64_t b = 0; b < 3; ++b) {
    double m = -1e300, s = 0.0;
    for (int64_t c = 0; c < 4; ++c) m = std::max(m, double(z.at({b, c})));
    for (int64_t c = 0; c < 4; ++c) s += std::exp(z.at({b, c}) - m);
    int32_t y = labels.to_ints()[b];
    want += (m + std::log(s) - z.at({b, y})) / 3.0;
    for (int64_t c = 0; c < 4; ++c)
      grad[b * 4 + c] = (std::exp(z.at({b, c}) - m) / s - (c == y)) / 3.0;
  }
  CHECK(loss.item() == doctest::Approx(want).epsilon(1e-5));
  loss.backward();
  std::vector<float> g = zv.grad().to_floats();
  for (size_t i = 0; i < 12; ++i) CHECK(g[i] == doctest::Approx(grad[i]).epsilon(1e-5));

  std::string msg;
  try {
    cross_entropy(zv, ints({1, 4, 0}, {3}));
  } catch (const DataError& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("label 4") != std::string::npos);
  CHECK_THROWS_AS(cross_entropy(zv, ints({1, -1, 0}, {3})), DataError);
  CHECK_THROWS_AS(cross_entropy(zv, ints({1, 2}, {2})), ShapeError);
}

TEST_CASE("gradcheck masked_mean with full, partial and zero lengths, also permuted") {
  Tensor lengths = ints({5, 2, 0}, {3});
  auto fn = [&](const std::vector<Var>& in) { return masked_mean(in[0], lengths); };
  expect_ok(gradcheck(fn, {randn({3, 5, 4}, 7)}, test::kOpCheck));
  Tensor xp = randn({3, 4, 5}, 8).permute({0, 2, 1});  // (3, 5, 4) non-contiguous
  expect_ok(gradcheck(fn, {xp}, test::kOpCheck));
}

TEST_CASE("masked_mean values: padding ignored, length 0 gives zeros") {
  Tensor x = randn({2, 4, 3}, 9);
  Tensor lengths = ints({3, 0}, {2});
  Var out = masked_mean(Var(x), lengths);
  CHECK(out.shape() == Dims({2, 3}));
  for (int64_t d = 0; d < 3; ++d) {
    double want = (x.at({0, 0, d}) + x.at({0, 1, d}) + x.at({0, 2, d})) / 3.0;
    CHECK(out.data().at({0, d}) == doctest::Approx(want).epsilon(1e-6));
    CHECK(out.data().at({1, d}) == 0.0f);
  }
  CHECK_THROWS_AS(masked_mean(Var(x), ints({5, 1}, {2})), DataError);
}
