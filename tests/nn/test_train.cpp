// Smoke test: a tiny MLP classifier memorises 16 random points with Adam.
#include <doctest/doctest.h>

#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/optim.hpp"
#include "lra/nn/schedule.hpp"
#include "nn/helpers.hpp"

using namespace lra;
using namespace lra::nn;

TEST_CASE("train: MLP classifier overfits 16 random points to 100% accuracy") {
  const int64_t n = 16, dim = 4, classes = 3;
  Tensor x = Tensor::empty({n, dim});
  fill_normal(x, rng_key(1, {rng_tag("points")}), 0.0f, 1.0f);
  std::vector<int32_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[size_t(i)] = int32_t(random_below(7, uint64_t(i), classes));
  Tensor labels = Tensor::from(y, {n});

  ClassifierHead model(dim, 32, classes, rng_key(1, {rng_tag("init")}));
  Adam opt(model.named_parameters(), AdamConfig{});
  Schedule sched{Schedule::Kind::WarmupLinear, 0.02f, 10, 400};
  int64_t correct = 0;
  float first_loss = 0, last_loss = 0;
  for (int step = 0; step < 400 && correct < n; ++step) {
    opt.zero_grad();
    LossOut out = classification_loss(model.forward(Var(x)), labels);
    if (step == 0) first_loss = out.loss.item();
    last_loss = out.loss.item();
    correct = out.correct;
    out.loss.backward();
    clip_grad_norm(model.parameters(), 1.0f);
    opt.step(sched.at(step + 1));
  }
  CHECK(correct == n);
  CHECK(last_loss < first_loss);
}
