// Optimisers, gradient clipping and learning-rate schedules against hand computations.
#include <doctest/doctest.h>

#include <cmath>

#include "lra/nn/optim.hpp"
#include "lra/nn/schedule.hpp"
#include "nn/helpers.hpp"

using namespace lra;
using namespace lra::nn;
using namespace lra::nn::test;

TEST_CASE("adam: two steps with weight decay match a hand computation") {
  Var p = Var::param(f32({1.0f, -2.0f}, {2}));
  Var frozen = Var::param(f32({3.0f}, {1}));  // never gets a gradient: untouched
  AdamConfig cfg;
  cfg.weight_decay = 0.1f;
  Adam adam({{"p", p}, {"frozen", frozen}}, cfg);
  // Step 1: mhat = g, vhat = g^2, so the update is sign(g) + wd p:
  //   p = [1 - 0.1 (1 + 0.1), -2 - 0.1 (-1 - 0.2)] = [0.89, -1.88].
  p.grad() = f32({0.5f, -1.0f}, {2});
  adam.step(0.1f);
  check_close(p.data(), {0.89f, -1.88f}, 1e-6f);
  // Step 2 with g = [1, 0.25]: m = [0.145, -0.065], v = [0.0249, 0.02085],
  //   mhat = m / (1 - 0.81), vhat = v / (1 - 0.9604),
  //   p -= 0.1 (mhat / (sqrt(vhat) + eps) + 0.1 p)  -> [0.784858514, -1.814052972].
  p.grad() = f32({1.0f, 0.25f}, {2});
  adam.step(0.1f);
  check_close(p.data(), {0.784858514f, -1.814052972f}, 1e-6f);
  CHECK(adam.steps() == 2);
  check_close(frozen.data(), {3.0f});
  auto st = adam.state();
  REQUIRE(st.size() == 4);
  CHECK(st[0].first == "m.p");
  CHECK(st[1].first == "m.frozen");
  CHECK(st[2].first == "v.p");
  check_close(st[0].second, {0.145f, -0.065f}, 1e-6f);
  check_close(st[2].second, {0.0249f, 0.02085f}, 1e-6f);
  adam.zero_grad();
  CHECK_FALSE(p.grad().defined());
}

TEST_CASE("adam: state round trip resumes identically - mismatches load nothing") {
  auto make = [] { return Var::param(f32({0.3f, -0.7f, 1.1f}, {3})); };
  Var a = make(), b = make();
  Adam oa({{"w", a}}, AdamConfig{});
  for (int s = 0; s < 3; ++s) {
    a.grad() = f32({0.1f * float(s + 1), -0.2f, 0.05f}, {3});
    oa.step(0.01f);
  }
  b.data().copy_(a.data());
  Adam ob({{"w", b}}, AdamConfig{});
  ob.load_state(oa.state(), oa.steps());
  CHECK(ob.steps() == 3);
  a.grad() = f32({0.4f, 0.4f, -0.4f}, {3});
  b.grad() = a.grad().clone();
  oa.step(0.01f);
  ob.step(0.01f);
  CHECK(a.data().to_floats() == b.data().to_floats());

  Adam fresh({{"w", make()}}, AdamConfig{});
  auto bad = oa.state();
  bad[1].second = Tensor::zeros({4});  // v.w of the wrong shape
  std::string msg = error_of<CheckpointError>([&] { fresh.load_state(bad, 9); });
  CHECK(msg.find("v.w") != std::string::npos);
  CHECK(fresh.steps() == 0);
  CHECK(fresh.state()[0].second.to_floats() == std::vector<float>{0, 0, 0});  // m untouched
  auto extra = oa.state();
  extra.emplace_back("m.other", Tensor::zeros({1}));
  msg = error_of<CheckpointError>([&] { fresh.load_state(extra, 1); });
  CHECK(msg.find("m.other") != std::string::npos);
  auto missing = oa.state();
  missing.pop_back();
  msg = error_of<CheckpointError>([&] { fresh.load_state(missing, 1); });
  CHECK(msg.find("missing 'v.w'") != std::string::npos);
  CHECK_THROWS_AS(Adam({{"w", a}, {"w", b}}, AdamConfig{}), Error);
  CHECK_THROWS_AS(Adam({{"w", a}, {"w2", a}}, AdamConfig{}), Error);
}

TEST_CASE("sgd: plain and with momentum") {
  Var p = Var::param(f32({1, 2}, {2}));
  SGD plain(std::vector<Var>{p});
  p.grad() = f32({0.5f, -1}, {2});
  plain.step(0.1f);
  check_close(p.data(), {0.95f, 2.1f});

  Var q = Var::param(f32({1, 2}, {2}));
  SGD mom(std::vector<std::pair<std::string, Var>>{{"q", q}}, 0.9f);
  q.grad() = f32({0.5f, -1}, {2});
  mom.step(0.1f);  // buf = g
  check_close(q.data(), {0.95f, 2.1f});
  mom.step(0.1f);  // buf = 0.9 g + g = [0.95, -1.9]
  check_close(q.data(), {0.855f, 2.29f});
  mom.zero_grad();
  CHECK_FALSE(q.grad().defined());
}

TEST_CASE("clip_grad_norm: global norm scaling compute-only shared gradients") {
  Var a = Var::param(Tensor::zeros({2})), b = Var::param(Tensor::zeros({1}));
  Var none = Var::param(Tensor::zeros({3}));  // no gradient: ignored
  a.grad() = f32({3, 4}, {2});
  b.grad() = f32({12}, {1});
  CHECK(grad_norm({a, b, none}) == doctest::Approx(13.0f));
  CHECK(grad_norm({a, a, b}) == doctest::Approx(13.0f));  // listed twice, counted once
  CHECK(clip_grad_norm({a, b}, 0.0f) == doctest::Approx(13.0f));
  check_close(a.grad(), {3, 4});
  CHECK(clip_grad_norm({a, b}, 20.0f) == doctest::Approx(13.0f));  // below the limit
  check_close(a.grad(), {3, 4});
  CHECK(clip_grad_norm({a, b, none}, 6.5f) == doctest::Approx(13.0f));
  check_close(a.grad(), {1.5f, 2});
  check_close(b.grad(), {6});
  CHECK(grad_norm({a, b}) == doctest::Approx(6.5f));

  // Two parameters whose gradients share one tensor are each scaled exactly once.
  Var c = Var::param(Tensor::zeros({2})), d = Var::param(Tensor::zeros({2}));
  Tensor shared = f32({3, 4}, {2});
  c.grad() = shared;
  d.grad() = shared;
  CHECK(clip_grad_norm({c, d}, 5.0f) == doctest::Approx(std::sqrt(50.0f)));
  float s = 5.0f / std::sqrt(50.0f);
  check_close(c.grad(), {3 * s, 4 * s});
  check_close(d.grad(), {3 * s, 4 * s});
}

TEST_CASE("schedule: formulas at given steps") {
  using K = Schedule::Kind;
  Schedule c{K::Constant, 0.5f, 100, 1000};
  CHECK(c.at(0) == 0.5f);
  CHECK(c.at(5000) == 0.5f);

  Schedule r{K::WarmupRsqrt, 0.05f, 1000, 0};
  CHECK(r.at(0) == 0.0f);
  CHECK(r.at(500) == doctest::Approx(7.905694e-4).epsilon(1e-5));
  CHECK(r.at(1000) == doctest::Approx(1.5811388e-3).epsilon(1e-5));  // peak = base / sqrt(w)
  CHECK(r.at(4000) == doctest::Approx(7.905694e-4).epsilon(1e-5));

  Schedule cos{K::WarmupCosine, 1.0f, 10, 110};
  CHECK(cos.at(0) == 0.0f);
  CHECK(cos.at(5) == doctest::Approx(0.5));
  CHECK(cos.at(10) == doctest::Approx(1.0));
  CHECK(cos.at(35) == doctest::Approx(0.8535534));
  CHECK(cos.at(60) == doctest::Approx(0.5));
  CHECK(cos.at(110) == doctest::Approx(0.0));
  CHECK(cos.at(500) == doctest::Approx(0.0));

  Schedule lin{K::WarmupLinear, 2.0f, 10, 110};
  CHECK(lin.at(5) == doctest::Approx(1.0));
  CHECK(lin.at(10) == doctest::Approx(2.0));
  CHECK(lin.at(60) == doctest::Approx(1.0));
  CHECK(lin.at(110) == doctest::Approx(0.0));
  CHECK(lin.at(200) == doctest::Approx(0.0));

  Schedule nowarm{K::WarmupLinear, 1.0f, 0, 100};
  CHECK(nowarm.at(0) == doctest::Approx(1.0));
  CHECK(nowarm.at(25) == doctest::Approx(0.75));
  Schedule rs0{K::WarmupRsqrt, 1.0f, 0, 0};
  CHECK(rs0.at(0) == doctest::Approx(1.0));
  CHECK(rs0.at(4) == doctest::Approx(0.5));

  CHECK(Schedule::parse("constant") == K::Constant);
  CHECK(Schedule::parse("warmup_rsqrt") == K::WarmupRsqrt);
  CHECK(Schedule::parse("cosine") == K::WarmupCosine);
  CHECK(Schedule::parse("warmup_linear") == K::WarmupLinear);
  for (K k : {K::Constant, K::WarmupRsqrt, K::WarmupCosine, K::WarmupLinear})
    CHECK(Schedule::parse(Schedule::name(k)) == k);
  std::string msg = error_of<ConfigError>([] { Schedule::parse("step"); });
  CHECK(msg.find("warmup_cosine") != std::string::npos);
}
