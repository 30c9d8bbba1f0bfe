// Finite-difference checks of the elementwise ops: broadcasting binary ops, scalar ops and
// every unary op, on contiguous and strided (transposed / sliced) inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::expect_ok;
using lra::test::randu;

namespace {

// Moves values at least `gap` away from 0 (kinks of relu, abs; poles of div, log).
Tensor away_from_zero(Tensor t, float gap) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::fabs(p[i]) < gap) p[i] = p[i] < 0 ? p[i] - gap : p[i] + gap;
  return t;
}

using Binop = Var (*)(const Var&, const Var&);

}  // namespace

TEST_CASE("gradcheck: add, sub, mul, div with broadcasting") {
  struct Op {
    const char* name;
    Binop fn;
  };
  Op ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};
  struct Shapes {
    Dims a, b;
  };
  Shapes shapes[] = {{{3, 4}, {3, 4}}, {{2, 3, 4}, {4}},    {{2, 3, 4}, {3, 1}},
                     {{4}, {2, 3, 4}}, {{2, 1, 4}, {3, 1}}, {{}, {3, 2}}};
  uint64_t seed = 1;
  for (const Op& op : ops)
    for (const Shapes& s : shapes) {
      INFO(std::string(op.name) << " " << s.a.str() << " " << s.b.str());
      Tensor a = randu(s.a, seed++, -1.5f, 1.5f);
      Tensor b = away_from_zero(randu(s.b, seed++, -1.5f, 1.5f), 0.5f);
      expect_ok(gradcheck([&](const std::vector<Var>& v) { return op.fn(v[0], v[1]); }, {a, b},
                          test::kOpCheck));
    }
}

TEST_CASE("gradcheck: binary ops on strided inputs") {
  Tensor at = randu({4, 3}, 1, -1.5f, 1.5f).transpose(0, 1);  // (3, 4) column-major
  Tensor bs =
      away_from_zero(randu({3, 6}, 2, -1.5f, 1.5f), 0.5f).slice(1, 1, 5);  // (3, 4) row stride 6
  Tensor row = away_from_zero(randu({4, 2}, 3, -1.5f, 1.5f), 0.5f).select(1, 0);  // (4) stride 2
  for (Binop fn : {Binop(add), Binop(sub), Binop(mul), Binop(div)}) {
    expect_ok(gradcheck([&](const std::vector<Var>& v) { return fn(v[0], v[1]); }, {at, bs},
                        test::kOpCheck));
    expect_ok(gradcheck([&](const std::vector<Var>& v) { return fn(v[0], v[1]); }, {at, row},
                        test::kOpCheck));
  }
}

TEST_CASE("gradcheck: an input used by both operands") {
  Tensor x = away_from_zero(randu({3, 4}, 4, -1.5f, 1.5f), 0.5f);
  expect_ok(
      gradcheck([](const std::vector<Var>& v) { return mul(v[0], v[0]); }, {x}, test::kOpCheck));
  expect_ok(gradcheck([](const std::vector<Var>& v) { return div(v[0], add(v[0], 3.0f)); },
                      {x.transpose(0, 1)}, test::kOpCheck));
}

TEST_CASE("gradcheck: scalar add and mul") {
  Tensor x = randu({4, 3}, 5, -1.5f, 1.5f).transpose(0, 1);
  expect_ok(
      gradcheck([](const std::vector<Var>& v) { return add(v[0], 2.5f); }, {x}, test::kOpCheck));
  expect_ok(
      gradcheck([](const std::vector<Var>& v) { return mul(v[0], -1.75f); }, {x}, test::kOpCheck));
}

TEST_CASE("gradcheck: unary ops") {
  using Fn = Var (*)(const Var&);
  struct Op {
    const char* name;
    Fn fn;
    float lo, hi;  // input range
  };
  Op ops[] = {{"neg", neg, -2, 2},         {"exp", exp, -2, 1.5f},    {"log", log, 0.5f, 3},
              {"sqrt", sqrt, 0.5f, 3},     {"rsqrt", rsqrt, 0.5f, 3}, {"tanh", tanh, -2, 2},
              {"relu", relu, -2, 2},       {"gelu", gelu, -3, 3},     {"elu", elu, -2, 2},
              {"sigmoid", sigmoid, -3, 3}, {"silu", silu, -3, 3},     {"square", square, -2, 2}};
  uint64_t seed = 10;
  for (const Op& op : ops) {
    INFO(std::string(op.name));
    Tensor x = away_from_zero(randu({5, 4}, seed++, op.lo, op.hi), 0.2f);
    auto f = [&](const std::vector<Var>& v) { return op.fn(v[0]); };
    expect_ok(gradcheck(f, {x}, test::kOpCheck));
    expect_ok(gradcheck(f, {x.transpose(0, 1)}, test::kOpCheck));  // strided view
    expect_ok(gradcheck(f, {x.slice(1, 1, 3)}, test::kOpCheck));
  }
  // unary() covers the kernel ops without a named wrapper (abs).
  Tensor x = away_from_zero(randu({3, 5}, 30, -1.5f, 1.5f), 0.2f);
  for (int o = 0; o < int(kern::Unary::COUNT); ++o) {
    kern::Unary op = kern::Unary(o);
    INFO(std::string(kern::unary_name(op)));
    Tensor in = (op == kern::Unary::Log || op == kern::Unary::Sqrt || op == kern::Unary::Rsqrt)
                    ? randu({3, 5}, 31, 0.5f, 2.0f)
                    : x;
    expect_ok(gradcheck([&](const std::vector<Var>& v) { return unary(op, v[0]); },
                        {in.transpose(0, 1)}, test::kOpCheck));
  }
}
