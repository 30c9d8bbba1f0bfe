// Performer / FAVOR+ (attention/src/performer.cpp) and its fused feature op
// (attention/src/lowrank_ops.hpp: favor_features, gaussian_orthogonal_matrix).
#include <cmath>

#include "../../attention/src/lowrank_ops.hpp"
#include "attention_checks.hpp"

using namespace lra;

namespace {
// Mean over a few feature draws (init keys) of the worst |FAVOR+ - exact softmax| over valid rows.
float mean_error_vs_softmax(int64_t features) {
  float total = 0.0f;
  for (uint64_t key : {7, 8, 9, 10, 11, 12, 13, 14}) {
    auto o = test::small_options(32, {{"features", std::to_string(features)}});
    o.init_key = key;
    auto m = attn::make_mechanism("performer", o);
    total += test::fast_vs_dense(*m, 16, test::lengths_of({16, 11}), 3, 0.5f);
  }
  return total / 8.0f;
}
}  // namespace

TEST_CASE("performer: the fast path computes exactly the normalised phi(Q) phi(K)^T") {
  auto m = attn::make_mechanism("performer", test::small_options(32, {{"dense", "features"}}));
  CHECK(test::fast_vs_dense(*m, 12, test::lengths_of({12, 7})) < 1e-5f);
  auto m2 = attn::make_mechanism(
      "performer", test::small_options(32, {{"dense", "features"}, {"features", "12"}}));
  CHECK(test::fast_vs_dense(*m2, 12, test::lengths_of({2, 12}), 4, 1.5f) < 1e-5f);
}

TEST_CASE("performer: the error vs exact softmax attention shrinks as features grow") {
  float e16 = mean_error_vs_softmax(16), e64 = mean_error_vs_softmax(64);
  float e1024 = mean_error_vs_softmax(1024);
  MESSAGE("mean max |FAVOR+ - softmax| (d = 8, N = 16): m=16 " << e16 << ", m=64 " << e64
                                                               << ", m=1024 " << e1024);
  CHECK(e64 < e16);
  // Measured (8 draws): m=16 0.175, m=64 0.106, m=256 0.067, m=1024 0.041, m=4096 0.018,
  // m=16384 0.008: the worst-element error falls roughly like 1/sqrt(m).
  CHECK(e1024 < 0.6f * e64);
  CHECK(e1024 < 0.06f);  // stated bound at m = 1024 for these inputs (x ~ N(0, 0.5²), d = 8)
}

TEST_CASE("performer: gradients match finite differences") {
  auto m = attn::make_mechanism("performer", test::small_options(32, {{"features", "16"}}));
  auto r = test::mixer_gradcheck(*m, 6, test::lengths_of({6, 4}));
  CHECK_MESSAGE(r.ok, r.report);
}

// favor_features alone is not a smooth function of x (its stabiliser is a max), and its backward
// treats the stabiliser as a constant by design: the constant cancels in the renormalised
// attention. So the op is checked where it is used, composed with linear_attention, with pads.
TEST_CASE("lowrank ops: favor_features + linear_attention match finite differences") {
  Tensor lens = test::lengths_of({5, 3});
  Tensor w = attn::ops::gaussian_orthogonal_matrix(10, 4, 99, 0);
  auto r = gradcheck(
      [&](const std::vector<Var>& in) {
        return attn::ops::linear_attention(attn::ops::favor_features(in[0], w, {}, true, 1e-6f),
                                           attn::ops::favor_features(in[1], w, lens, false, 1e-6f),
                                           in[2], lens, 1e-6f, attn::ops::DenGuard::Lra);
      },
      {test::randn({2, 2, 5, 4}, 41, 0.7f), test::randn({2, 2, 5, 4}, 42, 0.7f),
       test::randn({2, 2, 5, 3}, 43)},
      test::kModuleCheck);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("performer: orthogonal blocks and row norms") {
  int64_t d = 8, m = 20;  // two full blocks and a partial one
  for (int scaling : {0, 1}) {
    Tensor w = attn::ops::gaussian_orthogonal_matrix(m, d, 5, scaling);
    auto row = [&](int64_t r) { return w.select(0, r); };
    auto dotp = [&](int64_t a, int64_t b) {
      auto x = row(a).to_floats(), y = row(b).to_floats();
      double s = 0;
      for (int64_t k = 0; k < d; ++k) s += double(x[size_t(k)]) * y[size_t(k)];
      return s;
    };
    for (int64_t blk = 0; blk * d < m; ++blk)
      for (int64_t i = blk * d; i < std::min(m, (blk + 1) * d); ++i)
        for (int64_t j = blk * d; j < i; ++j) CHECK(std::fabs(dotp(i, j)) < 1e-4);
    for (int64_t r = 0; r < m; ++r) {
      double nrm = std::sqrt(dotp(r, r));
      if (scaling == 1)
        CHECK(nrm == doctest::Approx(std::sqrt(double(d))).epsilon(1e-5));
      else
        CHECK(nrm > 0.5);  // chi_8: positive, differs per row
    }
  }
  // Same key, same matrix; another key, another matrix.
  Tensor a = attn::ops::gaussian_orthogonal_matrix(16, 8, 1, 0);
  Tensor b = attn::ops::gaussian_orthogonal_matrix(16, 8, 1, 0);
  Tensor c = attn::ops::gaussian_orthogonal_matrix(16, 8, 2, 0);
  CHECK(a.to_floats() == b.to_floats());
  CHECK(a.to_floats() != c.to_floats());
}

TEST_CASE("performer: redraw gives one draw per interval, fixed draw otherwise") {
  NoGradGuard ng;
  Tensor lens = test::lengths_of({8});
  Var x(test::randn({1, 8, 16}, 3));
  auto run = [&](attn::MultiHeadAttention& m, uint64_t step) {
    return m.forward(x, lens, nn::ForwardContext{true, 1, step}).data().to_floats();
  };
  auto fixed = attn::make_mechanism("performer", test::small_options(16, {{"features", "8"}}));
  CHECK(run(*fixed, 1) == run(*fixed, 500));
  auto redraw = attn::make_mechanism(
      "performer", test::small_options(16, {{"features", "8"}, {"redraw", "10"}}));
  CHECK(fixed->named_buffers().size() == 1);  // the fixed draw, from construction
  CHECK(redraw->named_buffers().empty());     // nothing drawn before the first step
  auto s0 = run(*redraw, 0), s9 = run(*redraw, 9), s10 = run(*redraw, 10);
  REQUIRE(redraw->named_buffers().size() == 1);
  CHECK(redraw->named_buffers()[0].first == "features");
  CHECK(redraw->named_buffers()[0].second.numel() == 8 * 8);  // (features, head dim)
  CHECK(s0 == s9);
  CHECK(s0 != s10);
  CHECK(run(*redraw, 0) == s0);  // regenerated from the key, not from state
  // Evaluation (no step in its context) keeps the last training draw.
  auto eval = redraw->forward(x, lens, nn::ForwardContext{}).data().to_floats();
  CHECK(eval == s0);
}

TEST_CASE("performer: the padded tail does not change valid outputs") {
  auto m = attn::make_mechanism("performer", test::small_options(32, {{"features", "32"}}));
  CHECK(test::padding_leak(*m, 10, test::lengths_of({10, 6})) == 0.0f);
}

namespace {
bool all_finite(const Tensor& t) {
  for (float x : t.to_floats())
    if (!std::isfinite(x)) return false;
  return true;
}
}  // namespace

TEST_CASE("performer: eps = 0 gives no NaN for huge pads or a valid |q| ~ 60") {
  auto m = attn::make_mechanism("performer", test::small_options(32, {{"eps", "0"}}));
  nn::ForwardContext ctx;
  Tensor x0 = test::randn({2, 10, 16}, 51);
  for (int64_t i = 6; i < 10; ++i) {  // padded rows of sequence 1 scaled x10, then x100
    Tensor row = x0.select(0, 1).select(0, i);
    row.copy_(kern::binary(kern::Binary::Mul, row, Tensor::scalar(i < 8 ? 10.0f : 100.0f)));
  }
  Var x = Var::param(x0);
  Var y = m->forward(x, test::lengths_of({10, 6}), ctx);
  sum_all(square(y)).backward();
  CHECK(all_finite(y.data()));
  CHECK(all_finite(x.grad()));

  // One valid query of norm 60 (its |q'|²/2 = 60²/(2·√4) = 900 underflows exp): its output is
  // still the normalised phi(q)·phi(K) average of the values, finite and within their range.
  Tensor q = test::randn({1, 1, 5, 4}, 52), k = test::randn({1, 1, 5, 4}, 53);
  Tensor v = test::randn({1, 1, 5, 3}, 54);
  Tensor q0 = q.select(2, 0);
  float sq = 0.0f;
  for (float e : q0.to_floats()) sq += e * e;
  const float norm = std::sqrt(sq);
  q0.copy_(kern::binary(kern::Binary::Mul, q0, Tensor::scalar(60.0f / norm)));
  Tensor w = attn::ops::gaussian_orthogonal_matrix(16, 4, 99, 0);
  Tensor lens = test::lengths_of({5});
  Var qv = Var::param(q), kv = Var::param(k), vv = Var::param(v);
  Var o = attn::ops::linear_attention(attn::ops::favor_features(qv, w, {}, true, 0.0f),
                                      attn::ops::favor_features(kv, w, lens, false, 0.0f), vv, lens,
                                      0.0f, attn::ops::DenGuard::Lra);
  sum_all(o).backward();
  CHECK(all_finite(o.data()));
  CHECK(all_finite(qv.grad()));
  CHECK(all_finite(kv.grad()));
  CHECK(kern::max_abs(o.data()) <= kern::max_abs(v) + 1e-5f);

  // The fast path still equals its dense face with eps = 0, also for large inputs.
  auto mf = attn::make_mechanism("performer",
                                 test::small_options(32, {{"eps", "0"}, {"dense", "features"}}));
  CHECK(test::fast_vs_dense(*mf, 12, test::lengths_of({12, 7})) < 1e-5f);
  CHECK(test::fast_vs_dense(*mf, 12, test::lengths_of({12, 7}), 4, 8.0f) < 1e-4f);
}

TEST_CASE("lowrank ops: favor_features + linear_attention with eps = 0 match finite differences") {
  Tensor lens = test::lengths_of({5, 3});
  Tensor w = attn::ops::gaussian_orthogonal_matrix(10, 4, 98, 0);
  auto r = gradcheck(
      [&](const std::vector<Var>& in) {
        return attn::ops::linear_attention(attn::ops::favor_features(in[0], w, {}, true, 0.0f),
                                           attn::ops::favor_features(in[1], w, lens, false, 0.0f),
                                           in[2], lens, 0.0f, attn::ops::DenGuard::Lra);
      },
      {test::randn({2, 2, 5, 4}, 44, 0.7f), test::randn({2, 2, 5, 4}, 45, 0.7f),
       test::randn({2, 2, 5, 3}, 46)},
      test::kModuleCheck);
  CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("performer: peak memory grows linearly in N") {
  size_t a = test::peak_bytes_fwd_bwd("performer", 256);
  size_t b = test::peak_bytes_fwd_bwd("performer", 1024);
  double ratio = double(b) / double(a);
  MESSAGE("performer peak bytes N=256: " << a << ", N=1024: " << b << ", ratio " << ratio);
  CHECK(ratio < 8.0);
}

TEST_CASE("performer: a key mask (mask_zero_tokens) equals both dense faces, gradients checked") {
  Tensor km = test::random_key_mask(2, 16, 1, 0.4f, 0, 4);
  // dense=features: exact.
  auto mf = attn::make_mechanism("performer", test::small_options(32, {{"dense", "features"}}));
  CHECK(test::fast_vs_dense(*mf, 16, test::lengths_of({16, 11}), 3, 1.0f, km) < 1e-5f);
  CHECK(test::key_mask_effect(*mf, 16, test::lengths_of({16, 11}), km) > 1e-3f);
  // dense=softmax: FAVOR+ estimates the masked softmax within the unmasked test's bound.
  float total = 0.0f;
  for (uint64_t key : {7, 8, 9, 10, 11, 12, 13, 14}) {
    auto o = test::small_options(32, {{"features", "1024"}});
    o.init_key = key;
    auto m = attn::make_mechanism("performer", o);
    total += test::fast_vs_dense(*m, 16, test::lengths_of({16, 11}), 3, 0.5f, km);
  }
  MESSAGE("mean max |FAVOR+ - softmax| with a key mask, m=1024: " << total / 8.0f);
  CHECK(total / 8.0f < 0.06f);
  auto g = attn::make_mechanism("performer", test::small_options(32, {{"features", "16"}}));
  auto r = test::mixer_gradcheck(*g, 6, test::lengths_of({6, 4}), test::kModuleCheck,
                                 test::random_key_mask(2, 6, 2, 0.4f));
  CHECK_MESSAGE(r.ok, r.report);
}
