// Layers against hand-computed values on tiny inputs, plus a gradient check through a
// composed Linear + LayerNorm + MLP block.
#include <doctest/doctest.h>

#include <cmath>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"
#include "lra/nn/loss.hpp"
#include "nn/helpers.hpp"

using namespace lra;
using namespace lra::nn;
using namespace lra::nn::test;

namespace {
float gelu_ref(float x) {
  return 0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)));
}
}  // namespace

TEST_CASE("linear: init is keyed xavier-bounded bias tiny") {
  Linear a(30, 20, true, 9), b(30, 20, true, 9), c(30, 20, true, 10);
  CHECK(a.weight().shape() == Dims{30, 20});
  CHECK(a.bias().shape() == Dims{20});
  CHECK(a.weight().data().to_floats() == b.weight().data().to_floats());
  CHECK(a.weight().data().to_floats() != c.weight().data().to_floats());
  float bound = std::sqrt(6.0f / 50.0f);
  for (float w : a.weight().data().to_floats()) CHECK(std::fabs(w) <= bound);
  for (float v : a.bias().data().to_floats()) CHECK(std::fabs(v) < 1e-5f);
  Linear nb(3, 2, false, 1);
  CHECK_FALSE(nb.bias().defined());
  CHECK(nb.named_parameters().size() == 1);
  CHECK(nb.named_parameters()[0].first == "weight");
}

TEST_CASE("linear: forward by hand 2-D and 3-D inputs") {
  Linear lin(2, 3, true, 1);
  lin.weight().data().copy_(f32({1, 2, 3, 4, 5, 6}, {2, 3}));
  lin.bias().data().copy_(f32({0.5f, -1, 0}, {3}));
  // [1, -1] W = [-3, -3, -3]; [2, 0.5] W = [4, 6.5, 9]
  Tensor y = lin.forward(Var(f32({1, -1, 2, 0.5f}, {2, 2}))).data();
  CHECK(y.shape() == Dims{2, 3});
  check_close(y, {-2.5f, -4, -3, 4.5f, 5.5f, 9});
  Tensor y3 = lin.forward(Var(f32({1, -1, 2, 0.5f}, {2, 1, 2}))).data();
  CHECK(y3.shape() == Dims{2, 1, 3});
  check_close(y3, {-2.5f, -4, -3, 4.5f, 5.5f, 9});
  CHECK_THROWS_AS(lin.forward(Var(Tensor::zeros({2, 3}))), ShapeError);
}

TEST_CASE("embedding: rows of the table") {
  Embedding emb(5, 2, 3);
  emb.weight().data().copy_(f32({0, 0, 1, 1, 2, 2, 3, 3, 4, 4}, {5, 2}));
  Tensor y = emb.forward(i32({4, 0, 2}, {1, 3})).data();
  CHECK(y.shape() == Dims{1, 3, 2});
  check_close(y, {4, 4, 0, 0, 2, 2});
  CHECK(emb.named_parameters()[0].first == "weight");
  CHECK_THROWS_AS(emb.forward(f32({1}, {1})), ShapeError);
}

TEST_CASE("layer norm: by hand with scale and bias") {
  LayerNorm ln(4);
  CHECK(ln.weight().data().to_floats() == std::vector<float>{1, 1, 1, 1});
  CHECK(ln.bias().data().to_floats() == std::vector<float>{0, 0, 0, 0});
  ln.weight().data().copy_(f32({1, 2, 1, 1}, {4}));
  ln.bias().data().copy_(f32({0, 0, 1, 0}, {4}));
  // x = [1, 2, 3, 4]: mean 2.5, variance 1.25.
  float r = 1.0f / std::sqrt(1.25f + 1e-6f);
  Tensor y = ln.forward(Var(f32({1, 2, 3, 4}, {1, 4}))).data();
  check_close(y, {-1.5f * r, -0.5f * r * 2, 0.5f * r + 1, 1.5f * r}, 1e-4f);
}

TEST_CASE("mlp: Dense -> GELU -> Dense by hand - dropout only in training") {
  MLP mlp(1, 2, 0.5f, 4);
  mlp.fc1().weight().data().copy_(f32({1, -1}, {1, 2}));
  mlp.fc1().bias().data().zero_();
  mlp.fc2().weight().data().copy_(f32({1, 1}, {2, 1}));
  mlp.fc2().bias().data().copy_(f32({0.5f}, {1}));
  Tensor y = mlp.forward(Var(f32({1}, {1, 1})), ForwardContext{}).data();
  check_close(y, {gelu_ref(1) + gelu_ref(-1) + 0.5f});
  std::vector<std::string> names;
  for (auto& [n, v] : mlp.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"});

  Tensor x = Tensor::empty({4, 1});
  fill_normal(x, 2, 0.0f, 1.0f);
  ForwardContext train{true, 11, 5};
  std::vector<float> t1 = mlp.forward(Var(x), train).data().to_floats();
  std::vector<float> t2 = mlp.forward(Var(x), train).data().to_floats();
  CHECK(t1 == t2);  // same (seed, step, path): same masks
  ForwardContext next{true, 11, 6};
  bool differs = false;
  for (int s = 6; s < 12 && !differs; ++s) {
    next.step = uint64_t(s);
    differs = mlp.forward(Var(x), next).data().to_floats() != t1;
  }
  CHECK(differs);
}

TEST_CASE("dropout: identity when evaluating or p = 0 scaled mask when training") {
  Tensor x = Tensor::ones({1000});
  Dropout off(0.0f);
  ForwardContext train{true, 3, 1};
  CHECK(off.forward(Var(x), train).data().to_floats() == x.to_floats());
  Dropout d(0.25f);
  CHECK(d.forward(Var(x), ForwardContext{}).data().to_floats() == x.to_floats());
  std::vector<float> y = d.forward(Var(x), train).data().to_floats();
  int kept = 0;
  for (float v : y) {
    CHECK((v == 0.0f || std::fabs(v - 1.0f / 0.75f) < 1e-5f));
    kept += v != 0.0f;
  }
  CHECK(kept > 650);
  CHECK(kept < 850);
  CHECK_THROWS_AS(Dropout(1.0f), ConfigError);
  CHECK_THROWS_AS(Dropout(-0.1f), ConfigError);
}

TEST_CASE("positions: sinusoidal table and learned table") {
  SinusoidalPositions sp(3, 4);
  CHECK(sp.num_parameters() == 0);
  // dim 4: frequencies 10000^(-0/4) = 1 and 10000^(-2/4) = 0.01.
  Tensor y = sp.forward(Var(Tensor::zeros({2, 2, 4}))).data();
  std::vector<float> row0 = {0, 1, 0, 1};
  std::vector<float> row1 = {std::sin(1.0f), std::cos(1.0f), std::sin(0.01f), std::cos(0.01f)};
  std::vector<float> want;
  for (int b = 0; b < 2; ++b) {
    want.insert(want.end(), row0.begin(), row0.end());
    want.insert(want.end(), row1.begin(), row1.end());
  }
  check_close(y, want);
  check_close(sp.table().slice(0, 2, 3),
              {std::sin(2.0f), std::cos(2.0f), std::sin(0.02f), std::cos(0.02f)});
  CHECK_THROWS_AS(sp.forward(Var(Tensor::zeros({1, 4, 4}))), ConfigError);
  CHECK_THROWS_AS(sp.forward(Var(Tensor::zeros({1, 2, 3}))), ShapeError);

  LearnedPositions lp(3, 2, 5);
  CHECK(lp.named_parameters()[0].first == "weight");
  lp.weight().data().copy_(f32({1, 2, 3, 4, 5, 6}, {3, 2}));
  Var x = Var::param(f32({10, 20, 30, 40, 50, 60, 70, 80}, {2, 2, 2}));
  Var out = lp.forward(x);
  check_close(out.data(), {11, 22, 33, 44, 51, 62, 73, 84});
  sum_all(out).backward();
  check_close(lp.weight().grad(), {2, 2, 2, 2, 0, 0});  // rows used by both sequences
  CHECK_THROWS_AS(lp.forward(Var(Tensor::zeros({1, 4, 2}))), ConfigError);
  // Init N(0, 0.02): small.
  LearnedPositions big(64, 64, 1);
  float m = 0;
  for (float v : big.weight().data().to_floats()) m = std::max(m, std::fabs(v));
  CHECK(m < 0.15f);
  CHECK(m > 0.02f);
}

TEST_CASE("positions: 2D sinusoids over a square image, zero CLS row, names") {
  // A 3 x 3 image after one CLS row, dim 4: channels 0-1 encode the row, 2-3 the column, each
  // with the 1D table of width 2 (one frequency, 1).
  SinusoidalPositions grid(10, 4, 3);
  CHECK(grid.num_parameters() == 0);
  check_close(grid.table().slice(0, 0, 1), {0, 0, 0, 0});  // CLS
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      CAPTURE(r);
      CAPTURE(c);
      const float fr = float(r), fc = float(c);
      check_close(grid.table().slice(0, 1 + 3 * r + c, 2 + 3 * r + c),
                  {std::sin(fr), std::cos(fr), std::sin(fc), std::cos(fc)});
    }
  // Without the CLS row the same image starts at row 0.
  SinusoidalPositions no_cls(9, 4, 3);
  check_close(no_cls.table().slice(0, 4, 5), grid.table().slice(0, 5, 6).to_floats());
  CHECK_THROWS_AS(SinusoidalPositions(8, 4, 3), ConfigError);  // 9 pixels do not fit
  CHECK_THROWS_AS(SinusoidalPositions(9, 1, 3), ConfigError);  // no room for two halves
  CHECK(SinusoidalPositions(9, 1).table().size(1) == 1);       // 1D: one channel is fine

  CHECK(parse_positions("Sinusoidal2D") == Positions::Sinusoidal2D);
  for (Positions p : {Positions::Learned, Positions::Sinusoidal, Positions::Sinusoidal2D})
    CHECK(parse_positions(positions_name(p)) == p);
  std::string msg = error_of<ConfigError>([] { parse_positions("rotary"); });
  CHECK(msg.find("rotary") != std::string::npos);
  CHECK(msg.find("learned, sinusoidal, sinusoidal2d") != std::string::npos);
}

TEST_CASE("pooling: cls row and masked mean") {
  // x (2, 3, 2)
  Tensor x = f32({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2});
  Tensor lengths = i32({2, 3}, {2});
  check_close(pool(Var(x), lengths, Pooling::Cls).data(), {1, 2, 7, 8});
  Tensor mean = pool(Var(x), lengths, Pooling::Mean).data();
  CHECK(mean.shape() == Dims{2, 2});
  check_close(mean, {2, 3, 9, 10});
  CHECK(parse_pooling("cls") == Pooling::Cls);
  CHECK(parse_pooling("MEAN") == Pooling::Mean);
  std::string msg = error_of<ConfigError>([] { parse_pooling("max"); });
  CHECK(msg.find("cls, mean") != std::string::npos);
}

TEST_CASE("classifier head: Dense -> ReLU -> Dense by hand") {
  ClassifierHead head(2, 2, 2, 8);
  head.fc1().weight().data().copy_(f32({1, 0, 0, -1}, {2, 2}));
  head.fc1().bias().data().copy_(f32({0, 1}, {2}));
  head.fc2().weight().data().copy_(f32({1, 2, 3, 4}, {2, 2}));
  head.fc2().bias().data().copy_(f32({0, -1}, {2}));
  // [2, 3] -> h = relu([2, -3 + 1]) = [2, 0] -> [2, 4] + [0, -1] = [2, 3]
  // [-1, -2] -> h = relu([-1, 3]) = [0, 3] -> [9, 12] + [0, -1] = [9, 11]
  Tensor y = head.forward(Var(f32({2, 3, -1, -2}, {2, 2}))).data();
  check_close(y, {2, 3, 9, 11});
}

TEST_CASE("loss: cross-entropy and correct count by hand") {
  Var logits = Var::param(f32({2, 1, 0, 3}, {2, 2}));
  LossOut out = classification_loss(logits, i32({0, 0}, {2}));
  CHECK(out.correct == 1);
  CHECK(out.loss.item() == doctest::Approx(1.6809245).epsilon(1e-5));
  out.loss.backward();
  CHECK(logits.grad().defined());
  CHECK_THROWS_AS(classification_loss(logits, i32({0, 2}, {2})), DataError);
  CHECK_THROWS_AS(classification_loss(logits, i32({0}, {1})), ShapeError);
}

TEST_CASE("gradcheck: Linear -> LayerNorm -> MLP composition") {
  Linear lin(3, 4, true, 1);
  LayerNorm ln(4);
  MLP mlp(4, 5, 0.0f, 2);
  std::vector<Tensor> inputs;
  Tensor x = Tensor::empty({2, 2, 3});
  fill_normal(x, 77, 0.0f, 1.0f);
  inputs.push_back(x);
  std::vector<Var*> slots = {&lin.weight(),       &lin.bias(),         &ln.weight(),
                             &ln.bias(),          &mlp.fc1().weight(), &mlp.fc1().bias(),
                             &mlp.fc2().weight(), &mlp.fc2().bias()};
  uint64_t k = 100;
  for (Var* s : slots) {
    Tensor t = s->data().clone();
    fill_normal(t, k++, 0.0f, 0.5f);  // also moves LN/bias away from the trivial 1/0 init
    inputs.push_back(t);
  }
  auto fn = [&](const std::vector<Var>& in) {
    for (size_t i = 0; i < slots.size(); ++i) *slots[i] = in[i + 1];
    return mlp.forward(ln.forward(lin.forward(in[0])), ForwardContext{});
  };
  GradcheckResult r = gradcheck(fn, inputs, lra::test::kModuleCheck);
  INFO(r.report);
  CHECK(r.ok);
}
