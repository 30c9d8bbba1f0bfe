// The autograd engine: gradient accumulation, inputs without gradients, NoGradGuard, graph
// release after backward, retain_graph.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randu;

namespace {

void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

}  // namespace

TEST_CASE("engine: gradients accumulate when a var is used twice") {
  Var x = Var::param(randu({2, 3}, 1));
  Var w = Var::param(randu({2, 3}, 2));
  sum_all(add(mul(x, w), x)).backward();  // d/dx = w + 1, d/dw = x
  std::vector<float> vx = x.data().to_floats(), vw = w.data().to_floats();
  std::vector<float> want(vx.size());
  for (size_t i = 0; i < vx.size(); ++i) want[i] = vw[i] + 1.0f;
  check_close(x.grad().to_floats(), want);
  check_close(w.grad().to_floats(), vx);

  Var z = Var::param(randu({4}, 3));
  Var e = exp(z);
  sum_all(add(mul(e, e), mul(z, 2.0f))).backward();  // d/dz = 2 e^2z + 2 (e used twice)
  std::vector<float> vz = z.data().to_floats();
  want.assign(vz.size(), 0.0f);
  for (size_t i = 0; i < vz.size(); ++i) want[i] = 2.0f * std::exp(2.0f * vz[i]) + 2.0f;
  check_close(z.grad().to_floats(), want);

  // A second backward on a fresh graph adds to the leaf's gradient.
  Var y = Var::param(Tensor::ones({3}));
  sum_all(mul(y, 3.0f)).backward();
  sum_all(mul(y, 3.0f)).backward();
  check_close(y.grad().to_floats(), {6, 6, 6});
  y.zero_grad();
  CHECK_FALSE(y.grad().defined());
}

TEST_CASE("engine: inputs that need no gradient get none") {
  Var x = Var::param(randu({3}, 1));
  Var c(randu({3}, 2));  // constant
  Var y = mul(x, c);
  CHECK(y.requires_grad());
  sum_all(y).backward();
  CHECK(x.grad().defined());
  CHECK_FALSE(c.grad().defined());
  Var k = mul(c, c);  // nothing requires a gradient: no history
  CHECK_FALSE(k.requires_grad());
  CHECK(k.is_leaf());
  CHECK_THROWS_AS(sum_all(k).backward(), Error);
}

TEST_CASE("engine: NoGradGuard records nothing") {
  Var x = Var::param(randu({2, 2}, 1));
  CHECK(grad_enabled());
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    Var y = matmul(x, exp(x));
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    CHECK_THROWS_AS(sum_all(y).backward(), Error);
    { NoGradGuard nested; }
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
  CHECK_FALSE(x.grad().defined());
  CHECK(mul(x, x).requires_grad());
}

TEST_CASE("engine: backward releases the graph and its saved tensors") {
  Var x = Var::param(randu({3, 4}, 1));
  Var c(randu({3, 4}, 2));
  Tensor saved = c.data();  // mul saves c to form x's gradient
  long before = saved.storage().use_count();
  Var y = mul(x, c);
  Var e = exp(y);  // exp saves its output
  CHECK(saved.storage().use_count() == before + 1);
  CHECK(e.data().storage().use_count() == 2);  // the var and the node's closure
  Var loss = sum_all(e);
  CHECK_FALSE(y.is_leaf());
  loss.backward();
  CHECK(saved.storage().use_count() == before);
  CHECK(e.data().storage().use_count() == 1);
  CHECK(y.is_leaf());  // nodes dropped
  CHECK(e.is_leaf());
  CHECK_FALSE(y.grad().defined());  // non-leaf gradients consumed
  CHECK(x.grad().defined());
}

TEST_CASE("engine: retain_graph allows a second backward pass") {
  Var x = Var::param(randu({2, 3}, 1));
  Var w = Var::param(randu({3, 2}, 2));
  Var loss = sum_all(square(matmul(x, w)));
  loss.backward(true);
  CHECK_FALSE(loss.is_leaf());  // graph kept
  std::vector<float> gx = x.grad().to_floats(), gw = w.grad().to_floats();
  x.zero_grad();
  w.zero_grad();
  loss.backward(true);
  check_close(x.grad().to_floats(), gx);
  check_close(w.grad().to_floats(), gw);
  loss.backward();  // without zero_grad: the leaf gradients add up
  std::vector<float> twice = gx;
  for (float& v : twice) v *= 2.0f;
  check_close(x.grad().to_floats(), twice);
  CHECK(loss.is_leaf());
}

TEST_CASE("engine: a permuted gradient is summed in its own layout and lands contiguous") {
  // y = xᵀ (per batch) and u = yᵀ: y gets one gradient through u's permute (a strided view,
  // kept without a copy) and one from mul (contiguous); x, a leaf, gets a contiguous sum.
  Var x = Var::param(randu({2, 3, 4}, 4));
  Tensor a = randu({2, 3, 4}, 5), b = randu({2, 4, 3}, 6);
  Var y = permute(x, {0, 2, 1});
  Var u = permute(y, {0, 2, 1});
  add(sum_all(mul(u, Var(a))), sum_all(mul(y, Var(b)))).backward();  // d/dx = a + bᵀ
  REQUIRE(x.grad().is_contiguous());
  std::vector<float> va = a.to_floats(), vb = b.to_floats(), want(va.size());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j)
        want[size_t((n * 3 + i) * 4 + j)] =
            va[size_t((n * 3 + i) * 4 + j)] + vb[size_t((n * 4 + j) * 3 + i)];
  check_close(x.grad().to_floats(), want);
}

TEST_CASE("engine: view ops mark their node layout-free, other ops do not") {
  // A var made by a view op keeps a strided gradient as it arrives; any other var (here
  // slice's and mul's) gets it contiguous, since its backward may read it row by row.
  Var x = Var::param(randu({2, 3, 4}, 7));
  Var views[] = {reshape(x, {6, 4}), permute(x, {2, 0, 1}), transpose(x, 0, 2), unsqueeze(x, 1)};
  for (const Var& v : views) CHECK(v.impl()->node->grad_layout_free);
  Var s = slice(x, 1, 0, 2), m = mul(x, x);
  CHECK_FALSE(s.impl()->node->grad_layout_free);
  CHECK_FALSE(m.impl()->node->grad_layout_free);
  Var t = transpose(x, 1, 2), w = mul(x, Var(randu({2, 3, 4}, 8)));
  Var tt = transpose(t, 1, 2), wt = transpose(w, 1, 2);  // both hand back a strided gradient
  add(sum_all(tt), sum_all(wt)).backward(/*retain_graph=*/true);
  CHECK_FALSE(t.grad().is_contiguous());
  CHECK(w.grad().is_contiguous());
}
