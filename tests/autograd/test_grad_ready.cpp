// The gradient-ready hook (lra/autograd/grad_ready.hpp): backward() reports each leaf once,
// after every node reading it has run (its gradient then equals the one after backward), top
// layer first, exactly the leaves graph_leaves() lists; nested passes do not report; the
// listener is scoped.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "lra/autograd/grad_ready.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using namespace lra::test;

namespace {

std::vector<float> values(const Tensor& t) {
  const Tensor c = t.contiguous();
  return {c.data<float>(), c.data<float>() + c.numel()};
}

}  // namespace

TEST_CASE("grad ready: each leaf once, with its final gradient, the top layer first") {
  // Two layers, w1 read twice (also by the top layer), unused never reached.
  Var x = Var::param(randu({4, 3}, 1));
  Var w1 = Var::param(randu({3, 3}, 2));
  Var w2 = Var::param(randu({3, 2}, 3));
  Var unused = Var::param(randu({2}, 4));
  Var h = tanh(matmul(x, w1));
  Var y = sum_all(add(matmul(h, w2), sum_all(w1)));
  std::vector<VarImpl*> leaves = graph_leaves(y);  // what backward will report
  std::sort(leaves.begin(), leaves.end());
  std::vector<VarImpl*> order;
  std::map<VarImpl*, std::vector<float>> at_report;
  {
    GradReadyScope scope([&](VarImpl& leaf) {
      order.push_back(&leaf);
      at_report[&leaf] = leaf.grad.defined() ? values(leaf.grad) : std::vector<float>{};
    });
    y.backward();
  }
  REQUIRE(order.size() == 3);  // x, w1, w2; not `unused`
  CHECK(at_report.count(unused.impl()) == 0);
  for (Var* v : {&x, &w1, &w2}) {
    REQUIRE(at_report.count(v->impl()) == 1);
    CHECK(at_report[v->impl()] == values(v->grad()));
  }
  std::vector<VarImpl*> reported = order;
  std::sort(reported.begin(), reported.end());
  CHECK(reported == leaves);
  CHECK(order.front() == w2.impl());  // the top layer's weight before the layer below
  Var z = sum_all(mul(x, x));         // the scope has ended: nothing reported
  z.backward();
  CHECK(order.size() == 3);
}

TEST_CASE("grad ready: a nested backward reports nothing, the outer pass reports its leaves") {
  Var x = Var::param(randu({2, 3}, 5));
  Var w = Var::param(randu({2, 3}, 6));
  const Tensor xd = x.data();
  Tensor saved;
  {
    NoGradGuard no_grad;
    saved = mul(x, w).data();
  }
  std::vector<VarImpl*> order;
  std::vector<float> w_at_report;
  Var r = make_result(saved, "recomputed", {x, w}, [&, xd](const Tensor& gy, InputGrads& in) {
    EnableGradGuard grad_on;
    Var xl = Var::param(xd);
    Var h = mul(xl, w);
    h.backward(gy);  // nested: xl and w are its leaves, but w may still receive gradient
    if (in.needs(0)) in.set(0, xl.grad());
  });
  Var y = sum_all(add(r, mul(w, 3.0f)));
  {
    GradReadyScope scope([&](VarImpl& leaf) {
      order.push_back(&leaf);
      if (&leaf == w.impl()) w_at_report = values(leaf.grad);
    });
    y.backward();
  }
  REQUIRE(order.size() == 2);
  CHECK((order[0] == x.impl() || order[1] == x.impl()));
  CHECK((order[0] == w.impl() || order[1] == w.impl()));
  // w's gradient: x (nested pass) + 3 (outer pass), reported once, after both
  const std::vector<float> gw = values(w.grad()), xs = values(x.data());
  for (size_t i = 0; i < gw.size(); ++i) CHECK(gw[i] == doctest::Approx(xs[i] + 3.0f));
  CHECK(w_at_report == gw);
}
