// Nested backward: a node whose backward rebuilds a local graph and runs backward() on it
// (recomputation, as nn/reversible.hpp does). Traversal state is per call, leaves shared by
// both graphs accumulate once per contribution, and EnableGradGuard restores the mode.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randu;

namespace {}  // namespace

TEST_CASE("nested backward: a node's backward differentiates a local graph") {
  Var x = Var::param(randu({2, 3}, 1));
  Var w = Var::param(randu({2, 3}, 2));
  const Tensor xd = x.data();
  // out = x w w (recomputed in backward) + 3 w (ordinary): w is a leaf of both graphs.
  Tensor saved;
  {
    NoGradGuard no_grad;
    saved = mul(mul(x, w), w).data();
  }
  int nested_calls = 0;
  Var r = make_result(saved, "recomputed", {x, w}, [&, xd](const Tensor& gy, InputGrads& in) {
    EnableGradGuard grad_on;
    ++nested_calls;
    Var xl = Var::param(xd);
    Var h = mul(mul(xl, w), w);
    h.backward(gy);  // nested: accumulates into w directly, into xl here
    in.set(0, xl.grad());
  });
  Var loss = sum_all(add(r, mul(w, 3.0f)));
  {
    NoGradGuard no_grad;  // the outer backward may run with grad off: the guard turns it on
    loss.backward();
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
  CHECK(nested_calls == 1);
  std::vector<float> vx = x.data().to_floats(), vw = w.data().to_floats();
  std::vector<float> gx = x.grad().to_floats(), gw = w.grad().to_floats();
  for (size_t i = 0; i < vx.size(); ++i) {
    CHECK(gx[i] == doctest::Approx(vw[i] * vw[i]).epsilon(1e-6));
    CHECK(gw[i] == doctest::Approx(2.0f * vx[i] * vw[i] + 3.0f).epsilon(1e-6));
  }
}

TEST_CASE("nested backward: retain_graph reruns the recomputing node; release frees it") {
  Var x = Var::param(randu({4}, 3));
  Var w = Var::param(randu({4}, 4));
  const Tensor xd = x.data();
  Tensor saved;
  {
    NoGradGuard no_grad;
    saved = mul(x, w).data();
  }
  int calls = 0;
  Var r = make_result(saved, "recomputed", {x, w}, [&, xd](const Tensor& gy, InputGrads& in) {
    EnableGradGuard grad_on;
    ++calls;
    Var xl = Var::param(xd);
    Var h = mul(xl, w);
    h.backward(gy);
    in.set(0, xl.grad());
  });
  Var loss = sum_all(r);
  loss.backward(true);
  loss.backward(false);
  CHECK(calls == 2);
  CHECK(r.is_leaf());  // the second pass released the node
  std::vector<float> vx = x.data().to_floats(), vw = w.data().to_floats();
  std::vector<float> gx = x.grad().to_floats(), gw = w.grad().to_floats();
  for (size_t i = 0; i < vx.size(); ++i) {
    CHECK(gx[i] == doctest::Approx(2.0f * vw[i]).epsilon(1e-6));
    CHECK(gw[i] == doctest::Approx(2.0f * vx[i]).epsilon(1e-6));
  }
}

TEST_CASE("EnableGradGuard: nests with NoGradGuard and restores the previous mode") {
  CHECK(grad_enabled());
  {
    NoGradGuard off;
    CHECK_FALSE(grad_enabled());
    {
      EnableGradGuard on;
      CHECK(grad_enabled());
      Var a = Var::param(Tensor::ones({2}));
      CHECK(mul(a, a).requires_grad());  // records a graph inside a no_grad scope
    }
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
}
