// Reductions along an axis (sum, mean, max, argmax, logsumexp) and whole-tensor sum_all /
// max_abs against naive double loops, on every axis, with keepdim, on strided views.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randu;

namespace {

enum class R { Sum, Mean, Max, Argmax, Lse };

// Naive reduction of x (any layout) along axis a, in double; returns (O, I) row-major.
std::vector<double> ref_reduce(R r, const Tensor& x, int a) {
  std::vector<float> v = x.to_floats();
  int64_t O = 1, N = x.size(a), I = 1;
  for (int d = 0; d < a; ++d) O *= x.shape()[d];
  for (int d = a + 1; d < x.dim(); ++d) I *= x.shape()[d];
  std::vector<double> out(size_t(O * I));
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i) {
      auto at = [&](int64_t k) { return double(v[size_t((o * N + k) * I + i)]); };
      double s = 0.0, m = at(0);
      int64_t best = 0;
      for (int64_t k = 0; k < N; ++k) {
        s += at(k);
        if (at(k) > m) m = at(k), best = k;
      }
      double lse = 0.0;
      for (int64_t k = 0; k < N; ++k) lse += std::exp(at(k) - m);
      double res = 0.0;
      switch (r) {
        case R::Sum:
          res = s;
          break;
        case R::Mean:
          res = s / double(N);
          break;
        case R::Max:
          res = m;
          break;
        case R::Argmax:
          res = double(best);
          break;
        case R::Lse:
          res = m + std::log(lse);
          break;
      }
      out[size_t(o * I + i)] = res;
    }
  return out;
}

Tensor run(R r, const Tensor& x, int axis, bool keepdim) {
  switch (r) {
    case R::Sum:
      return kern::sum(x, axis, keepdim);
    case R::Mean:
      return kern::mean(x, axis, keepdim);
    case R::Max:
      return kern::max(x, axis, keepdim);
    case R::Argmax:
      return kern::argmax(x, axis);
    case R::Lse:
      return kern::logsumexp(x, axis, keepdim);
  }
  return {};
}

void check_reduce(R r, const Tensor& x, int axis, bool keepdim) {
  INFO("reduction " << int(r) << " of " << x.describe() << " axis " << axis << " keepdim "
                    << keepdim);
  int a = wrap_axis(axis, x.dim());
  Tensor y = run(r, x, axis, keepdim);
  Dims want_shape;
  for (int d = 0; d < x.dim(); ++d)
    if (d != a) {
      want_shape.push_back(x.shape()[d]);
    } else if (keepdim && r != R::Argmax) {
      want_shape.push_back(1);
    }
  REQUIRE(y.shape() == want_shape);
  CHECK(y.dtype() == (r == R::Argmax ? DType::I32 : DType::F32));
  std::vector<float> got = y.to_floats();
  std::vector<double> want = ref_reduce(r, x, a);
  REQUIRE(got.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (std::fabs(got[i] - want[i]) > 1e-4 + 1e-5 * std::fabs(want[i]) && bad++ < 5) {
      INFO("element " << i << ": got " << got[i] << " want " << want[i]);
      CHECK(false);
    }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("reduce: every axis, keepdim, contiguous and strided") {
  Tensor base = randu({3, 4, 5}, 1, -3.0f, 3.0f);
  std::vector<Tensor> inputs = {base, base.permute({2, 0, 1}), base.slice(2, 1, 4),
                                base.transpose(0, 1)};
  for (const Tensor& x : inputs)
    for (R r : {R::Sum, R::Mean, R::Max, R::Argmax, R::Lse})
      for (int axis = -1; axis < x.dim(); ++axis)
        for (bool keepdim : {false, true}) check_reduce(r, x, axis, keepdim);
}

TEST_CASE("reduce: large inputs take the parallel and column-block paths") {
  Tensor a = randu({64, 2000}, 2, -3.0f, 3.0f);  // axis 0: I = 2000 > one 1024-column block
  Tensor b = randu({3, 700, 33}, 3, -3.0f, 3.0f);
  for (R r : {R::Sum, R::Mean, R::Max, R::Argmax, R::Lse}) {
    check_reduce(r, a, 0, false);
    check_reduce(r, a, 1, true);
    check_reduce(r, a.transpose(0, 1), 1, false);  // strided rows
    check_reduce(r, b, 1, false);
    check_reduce(r, b.permute({2, 1, 0}), 1, true);  // strided, axis in the middle
  }
}

TEST_CASE("reduce: results do not depend on the thread count") {
  Tensor a = randu({300, 500}, 4, -3.0f, 3.0f);
  set_num_threads(1);
  std::vector<float> s1 = kern::sum(a, 0).to_floats(), l1 = kern::logsumexp(a, 1).to_floats();
  float t1 = kern::sum_all(a.transpose(0, 1));
  set_num_threads(2);
  std::vector<float> s2 = kern::sum(a, 0).to_floats(), l2 = kern::logsumexp(a, 1).to_floats();
  float t2 = kern::sum_all(a.transpose(0, 1));
  set_num_threads(0);
  CHECK(s1 == s2);
  CHECK(l1 == l2);
  CHECK(t1 == t2);
}

TEST_CASE("reduce: argmax takes the first maximum; logsumexp is stable") {
  std::vector<float> v = {1, 5, 5, 2, 7, 7, 7, 0};
  Tensor x = Tensor::from(v, {2, 4});
  CHECK(kern::argmax(x, 1).to_ints() == std::vector<int32_t>{1, 0});
  CHECK(kern::argmax(x.transpose(0, 1), 0).to_ints() == std::vector<int32_t>{1, 0});

  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> w = {1000.0f, 1000.0f, -inf, -inf, -inf, -inf, 0.0f, -1000.0f, -inf};
  Tensor l = kern::logsumexp(Tensor::from(w, {3, 3}), 1);
  std::vector<float> got = l.to_floats();
  CHECK(got[0] == doctest::Approx(1000.0 + std::log(2.0)));
  CHECK(got[1] == -inf);
  CHECK(got[2] == doctest::Approx(0.0));
  // Column-block path (axis not innermost) with the same rows transposed.
  std::vector<float> gt = kern::logsumexp(Tensor::from(w, {3, 3}).transpose(0, 1), 0).to_floats();
  CHECK(gt[0] == doctest::Approx(got[0]));
  CHECK(gt[1] == -inf);
  CHECK(gt[2] == doctest::Approx(0.0));

  CHECK_THROWS_AS(kern::max(Tensor::zeros({3, 0}), 1), ShapeError);
  CHECK_THROWS_AS(kern::sum(x, 2), ShapeError);
  CHECK(kern::sum(Tensor::zeros({3, 0}), 1).to_floats() == std::vector<float>{0, 0, 0});
  CHECK(kern::sum(Tensor::zeros({0, 4}), 1).numel() == 0);
}

TEST_CASE("reduce: sum_all accumulates in double; max_abs") {
  const int64_t n = 1000000;
  Tensor t = Tensor::full({n}, 0.1f);
  double want = double(n) * double(0.1f);
  CHECK(std::fabs(kern::sum_all(t) - want) < 0.02);  // a plain float loop drifts far further
  Tensor x = randu({37, 29}, 5, -3.0f, 3.0f);
  std::vector<float> v = x.to_floats();
  double s = 0.0, m = 0.0;
  for (float f : v) s += f, m = std::max(m, std::fabs(double(f)));
  CHECK(kern::sum_all(x.transpose(0, 1)) == doctest::Approx(s).epsilon(1e-6));
  CHECK(kern::sum_all(Tensor::zeros({0})) == 0.0f);
  CHECK(kern::max_abs(x.slice(0, 0, 37)) == float(m));

  std::vector<float> neg = {0.5f, -3.0f, 2.0f};
  CHECK(kern::max_abs(Tensor::from(neg, {3})) == 3.0f);
  neg[1] = std::nanf("");
  CHECK(std::isnan(kern::max_abs(Tensor::from(neg, {3}))));
}
