// Elementwise kernels against naive double-precision loops: unary maps and their derivatives,
// broadcasting binary ops, scalar ops, sum_to, axpy_; contiguous and strided inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "test_util.hpp"

using namespace lra;
using kern::Binary;
using kern::Unary;
using lra::test::broadcast_index;
using lra::test::randu;

namespace {

void check_close(const std::vector<float>& got, const std::vector<double>& want, double rtol = 1e-5,
                 double atol = 1e-6) {
  REQUIRE(got.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i])) continue;
    if (bad++ < 5) {
      INFO("element " << i << ": got " << got[i] << " want " << want[i]);
      CHECK(false);
    }
  }
  CHECK(bad == 0);
}

double ref_binary(Binary op, double a, double b) {
  switch (op) {
    case Binary::Add:
      return a + b;
    case Binary::Sub:
      return a - b;
    case Binary::Mul:
      return a * b;
    case Binary::Div:
      return a / b;
    case Binary::Max:
      return std::max(a, b);
    case Binary::Min:
      return std::min(a, b);
    default:
      return NAN;
  }
}

void check_binary(Binary op, const Tensor& a, const Tensor& b) {
  INFO(std::string(kern::binary_name(op)) << " " << a.describe() << " , " << b.describe());
  Tensor out = kern::binary(op, a, b);
  Dims shape = broadcast_shapes(a.shape(), b.shape());
  REQUIRE(out.shape() == shape);
  CHECK(out.is_contiguous());
  std::vector<float> va = a.to_floats(), vb = b.to_floats();
  std::vector<double> want(size_t(shape.numel()));
  for (int64_t i = 0; i < shape.numel(); ++i)
    want[size_t(i)] = ref_binary(op, va[size_t(broadcast_index(a.shape(), shape, i))],
                                 vb[size_t(broadcast_index(b.shape(), shape, i))]);
  check_close(out.to_floats(), want);
}

double ref_unary(Unary op, double x) {
  switch (op) {
    case Unary::Neg:
      return -x;
    case Unary::Exp:
      return std::exp(x);
    case Unary::Log:
      return std::log(x);
    case Unary::Sqrt:
      return std::sqrt(x);
    case Unary::Rsqrt:
      return 1.0 / std::sqrt(x);
    case Unary::Tanh:
      return std::tanh(x);
    case Unary::Relu:
      return x > 0 ? x : 0.0;
    case Unary::Gelu:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Unary::Elu:
      return x > 0 ? x : std::expm1(x);
    case Unary::Sigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Unary::Silu:
      return x / (1.0 + std::exp(-x));
    case Unary::Abs:
      return std::fabs(x);
    case Unary::Square:
      return x * x;
    default:
      return NAN;
  }
}

bool positive_domain(Unary op) {
  return op == Unary::Log || op == Unary::Sqrt || op == Unary::Rsqrt;
}

// Inputs in the op's domain, at least 0.1 away from 0 (the kinks of relu, elu, abs).
Tensor unary_input(Unary op, const Dims& shape, uint64_t seed) {
  Tensor t = randu(shape, seed, positive_domain(op) ? 0.2f : -3.0f, 3.0f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::fabs(p[i]) < 0.1f) p[i] = p[i] < 0 ? -0.1f - p[i] : 0.1f + p[i];
  return t;
}

}  // namespace

TEST_CASE("elementwise: unary ops on contiguous and strided inputs") {
  for (int o = 0; o < int(Unary::COUNT); ++o) {
    Unary op = Unary(o);
    INFO(std::string(kern::unary_name(op)));
    Tensor base = unary_input(op, {9, 7}, 10 + o);
    for (const Tensor& x : {base, base.transpose(0, 1), base.slice(1, 2, 6)}) {
      Tensor y = kern::unary(op, x);
      CHECK(y.shape() == x.shape());
      CHECK(y.is_contiguous());
      std::vector<float> vx = x.to_floats();
      std::vector<double> want(vx.size());
      for (size_t i = 0; i < vx.size(); ++i) want[i] = ref_unary(op, vx[i]);
      check_close(y.to_floats(), want, 2e-6, 1e-6);
    }
  }
  // Large enough for the parallel path.
  Tensor big = randu({300, 301}, 3, -2.0f, 2.0f);
  Tensor y = kern::unary(Unary::Tanh, big.transpose(0, 1));
  CHECK(y.at({7, 250}) == doctest::Approx(std::tanh(big.at({250, 7}))));
  CHECK(std::string(kern::unary_name(Unary::Gelu)) == "gelu");
}

TEST_CASE("elementwise: unary_backward matches numerical derivatives") {
  for (int o = 0; o < int(Unary::COUNT); ++o) {
    Unary op = Unary(o);
    INFO(std::string(kern::unary_name(op)));
    Tensor base = unary_input(op, {6, 5}, 40 + o);
    Tensor gbase = randu({6, 5}, 80 + o, -2.0f, 2.0f);
    Tensor x = base.transpose(0, 1), gy = gbase.transpose(0, 1);  // both strided
    Tensor y = kern::unary(op, x);
    Tensor dx = kern::unary_backward(op, x, y, gy);
    CHECK(dx.shape() == x.shape());
    std::vector<float> vx = x.to_floats(), vg = gy.to_floats();
    std::vector<double> want(vx.size());
    const double h = 1e-5;
    for (size_t i = 0; i < vx.size(); ++i)
      want[i] = vg[i] * (ref_unary(op, vx[i] + h) - ref_unary(op, vx[i] - h)) / (2 * h);
    check_close(dx.to_floats(), want, 1e-4, 1e-5);
  }
}

TEST_CASE("elementwise: binary ops with broadcasting") {
  struct Case {
    Dims a, b;
  };
  std::vector<Case> cases = {
      {{4, 5}, {4, 5}},       {{2, 3, 4}, {4}},   {{2, 3, 4}, {3, 1}},      {{2, 1, 4}, {3, 1}},
      {{}, {3, 4}},           {{3, 4}, {}},       {{5, 1, 1}, {1, 6, 7}},   {{1}, {1}},
      {{2, 3, 1, 5}, {4, 1}}, {{70, 600}, {600}}, {{200, 300}, {200, 300}}, {{64, 1}, {64, 700}}};
  uint64_t seed = 100;
  for (const Case& c : cases)
    for (int o = 0; o < int(Binary::COUNT); ++o) {
      Binary op = Binary(o);
      Tensor a = randu(c.a, seed++, -2.0f, 2.0f);
      Tensor b =
          op == Binary::Div ? randu(c.b, seed++, 0.5f, 2.0f) : randu(c.b, seed++, -2.0f, 2.0f);
      check_binary(op, a, b);
    }
  CHECK_THROWS_AS(
      kern::binary(Binary::Add, randu({3, 4}, 1, -2.0f, 2.0f), randu({5}, 2, -2.0f, 2.0f)),
      ShapeError);
}

TEST_CASE("elementwise: binary ops on strided views") {
  Tensor a = randu({5, 4}, 1, -2.0f, 2.0f).transpose(0, 1);        // (4, 5), column-major
  Tensor b = randu({3, 8}, 2, -2.0f, 2.0f).slice(1, 2, 7);         // (3, 5), row stride 8
  Tensor c = randu({4, 1}, 3, -2.0f, 2.0f).expand({4, 5});         // stride-0 columns
  Tensor d = randu({2, 5, 4}, 4, -2.0f, 2.0f).permute({0, 2, 1});  // (2, 4, 5)
  for (int o = 0; o < int(Binary::COUNT); ++o) {
    Binary op = Binary(o);
    check_binary(op, a, randu({5}, 10 + o, 0.5f, 2.0f));
    check_binary(op, a, c);
    check_binary(op, b.unsqueeze(0), randu({4, 1, 1}, 20 + o, 0.5f, 2.0f));
    check_binary(op, d, a);
    check_binary(op, a, d.select(0, 1));
  }
  Tensor big =
      randu({400, 300}, 5, -2.0f, 2.0f).transpose(0, 1);  // (300, 400), parallel strided path
  check_binary(Binary::Mul, big, randu({400}, 6, -2.0f, 2.0f));
  check_binary(Binary::Sub, randu({300, 1}, 7, -2.0f, 2.0f), big);
}

TEST_CASE("elementwise: results do not depend on the thread count") {
  Tensor a = randu({512, 300}, 1, -2.0f, 2.0f), b = randu({300}, 2, -2.0f, 2.0f);
  set_num_threads(1);
  std::vector<float> y1 = kern::binary(Binary::Add, a.transpose(0, 1), b.unsqueeze(1)).to_floats();
  std::vector<float> s1 = kern::sum_to(a, {300}).to_floats();
  std::vector<float> f1 = kern::sum_to(a, {1, 1}).to_floats();
  std::vector<float> c1 = kern::sum_to(a.transpose(0, 1), {300, 1}).to_floats();
  set_num_threads(2);
  std::vector<float> y2 = kern::binary(Binary::Add, a.transpose(0, 1), b.unsqueeze(1)).to_floats();
  std::vector<float> s2 = kern::sum_to(a, {300}).to_floats();
  std::vector<float> f2 = kern::sum_to(a, {1, 1}).to_floats();
  std::vector<float> c2 = kern::sum_to(a.transpose(0, 1), {300, 1}).to_floats();
  set_num_threads(0);
  CHECK(c1 == c2);
  CHECK(y1 == y2);
  CHECK(s1 == s2);
  CHECK(f1 == f2);
}

TEST_CASE("elementwise: scalar ops") {
  Tensor x = randu({7, 6}, 3, 0.3f, 2.0f).transpose(0, 1);
  std::vector<float> vx = x.to_floats();
  std::vector<double> want(vx.size());
  for (size_t i = 0; i < vx.size(); ++i) want[i] = vx[i] + 1.5;
  check_close(kern::add_scalar(x, 1.5f).to_floats(), want);
  for (size_t i = 0; i < vx.size(); ++i) want[i] = vx[i] * -0.25;
  check_close(kern::mul_scalar(x, -0.25f).to_floats(), want);
  for (float p : {2.0f, 0.5f, -1.0f, 1.0f, 3.0f, 1.5f, -0.5f}) {
    INFO("p = " << p);
    for (size_t i = 0; i < vx.size(); ++i) want[i] = std::pow(double(vx[i]), double(p));
    check_close(kern::pow_scalar(x, p).to_floats(), want, 1e-5);
  }
}

TEST_CASE("elementwise: sum_to undoes broadcasting") {
  struct Case {
    Dims x, to;
  };
  std::vector<Case> cases = {{{4, 5, 6}, {6}},       {{4, 5, 6}, {5, 1}},
                             {{4, 5, 6}, {4, 1, 6}}, {{4, 5, 6}, {}},
                             {{4, 5, 6}, {1, 1, 1}}, {{4, 5, 6}, {1, 5, 6}},
                             {{3, 1, 6}, {1, 6}},    {{300, 257}, {257}},
                             {{100000}, {1}},        {{70000, 2}, {2}},
                             {{3, 40000}, {3, 1}},   {{2, 3, 4, 5, 6}, {3, 1, 5, 1}},
                             {{64, 8, 130}, {8, 1}}, {{5, 4}, {5, 4}},
                             {{40, 2000}, {2000}},   {{3, 3, 3, 3, 1000}, {3, 1, 3, 1, 1000}},
                             {{65536, 64}, {64}}};
  uint64_t seed = 200;
  for (const Case& c : cases) {
    INFO(c.x.str() << " -> " << c.to.str());
    Tensor x = randu(c.x, seed++, -2.0f, 2.0f);
    Tensor y = kern::sum_to(x, c.to);
    REQUIRE(y.shape() == c.to);
    std::vector<float> vx = x.to_floats();
    std::vector<double> want(size_t(c.to.numel()), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i)
      want[size_t(broadcast_index(c.to, c.x, i))] += vx[size_t(i)];
    check_close(y.to_floats(), want, 1e-4, 1e-4);
  }
  // Strided input.
  Tensor x = randu({6, 5, 4}, 9, -2.0f, 2.0f).permute({2, 0, 1});  // (4, 6, 5)
  std::vector<float> vx = x.to_floats();
  std::vector<double> want(5, 0.0);
  for (int64_t i = 0; i < x.numel(); ++i) want[size_t(i % 5)] += vx[size_t(i)];
  check_close(kern::sum_to(x, {5}).to_floats(), want, 1e-5, 1e-5);
  // Same shape: a fresh copy.
  Tensor same = kern::sum_to(x, x.shape());
  CHECK(same.storage() != x.storage());
  CHECK(same.to_floats() == vx);

  CHECK_THROWS_AS(kern::sum_to(x, {3}), ShapeError);
  CHECK_THROWS_AS(kern::sum_to(x, {1, 4, 6, 5}), ShapeError);
}

TEST_CASE("elementwise: axpy_") {
  Tensor y = randu({3, 4}, 1, -2.0f, 2.0f);
  std::vector<float> vy = y.to_floats();
  Tensor x = randu({4, 3}, 2, -2.0f, 2.0f).transpose(0, 1);
  std::vector<float> vx = x.to_floats();
  kern::axpy_(y, x, 0.5f);
  std::vector<double> want(vy.size());
  for (size_t i = 0; i < vy.size(); ++i) want[i] = vy[i] + 0.5 * vx[i];
  check_close(y.to_floats(), want);
  Tensor wrong = randu({4, 3}, 3, -2.0f, 2.0f);
  CHECK_THROWS_AS(kern::axpy_(y, wrong, 1.0f), ShapeError);
}
