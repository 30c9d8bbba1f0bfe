// The storage version counter: an in-place write to a tensor a node saved, between forward and
// backward, is an error naming the op (not a silently wrong gradient); writes after backward,
// as an optimiser step does, stay legal.
#include <doctest/doctest.h>

#include <string>

#include "lra/autograd/ops.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randu;

namespace {

// The message of the error backward() throws, or "" if it does not throw.
std::string backward_error(Var y) {
  try {
    sum_all(y).backward();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("version: every in-place write through the public API bumps the storage version") {
  Tensor t = randu({4, 3}, 1), other = randu({4, 3}, 2);
  Tensor view = t.slice(0, 1, 3);  // shares the storage
  uint64_t v = t.version();
  t.fill_(1.0f);
  CHECK(t.version() == ++v);
  view.zero_();
  CHECK(t.version() == ++v);
  t.copy_(other);
  CHECK(t.version() == ++v);
  kern::axpy_(t, other, 2.0f);
  CHECK(t.version() == ++v);
  fill_normal(t, 3, 0.0f, 1.0f);
  CHECK(t.version() == ++v);
  Tensor c = Tensor::empty({4, 4});
  const uint64_t vc = c.version();
  kern::matmul_into(c, t, other, false, true);
  CHECK(c.version() == vc + 1);
  Tensor r = kern::binary(kern::Binary::Add, t, other);  // out-of-place: no bump of the inputs
  CHECK(t.version() == v);
  CHECK(r.version() == 0);
}

TEST_CASE("version: modifying a saved input before backward is an error naming the op") {
  Var x = Var::param(randu({3, 4}, 4));
  Var y = mul(x, x);  // saves x for both derivatives
  x.data().fill_(2.0f);
  const std::string msg = backward_error(y);
  CHECK(msg.find("tensor saved by mul") != std::string::npos);
  CHECK(msg.find("modified in place after it was saved") != std::string::npos);
  CHECK(!x.grad().defined());  // nothing flowed into x

  // Through a view of the saved tensor, and into a saved output (softmax keeps its output).
  Var a = Var::param(randu({2, 5}, 5));
  Var b = exp(a);
  a.data().slice(1, 0, 2).copy_(randu({2, 2}, 6));
  CHECK(backward_error(b).find("tensor saved by exp") != std::string::npos);
  Var s = softmax(Var::param(randu({2, 5}, 7)));
  s.data().zero_();
  CHECK(backward_error(s).find("tensor saved by softmax (its output)") != std::string::npos);
}

TEST_CASE("version: writes after backward (an optimiser step) and before forward are legal") {
  Var w = Var::param(randu({4, 4}, 8));
  Tensor x = randu({2, 4}, 9);
  for (int step = 0; step < 3; ++step) {
    Var y = matmul(Var(x), w);
    sum_all(square(y)).backward();           // the graph is released here
    kern::axpy_(w.data(), w.grad(), -0.1f);  // update in place, as Adam and SGD do
    w.zero_grad();
    x.fill_(float(step));  // a fresh input for the next forward
  }
  CHECK(w.data().version() >= 3);
}
