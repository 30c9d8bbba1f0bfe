// Finite-difference checks of matmul: transposes, strided inputs, batched and broadcast
// batches (gradients summed over the broadcast batch dims).
#include <doctest/doctest.h>

#include <string>

#include "grad_checks.hpp"
#include "lra/autograd/gradcheck.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "test_util.hpp"

using namespace lra;
using lra::test::randu;

namespace {

void check_mm(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  INFO(a.describe() << std::string(ta ? "^T" : "") << " x " << b.describe()
                    << std::string(tb ? "^T" : ""));
  GradcheckResult r =
      gradcheck([&](const std::vector<Var>& v) { return matmul(v[0], v[1], ta, tb); }, {a, b},
                test::kOpCheck);
  INFO(r.report);
  CHECK(r.ok);
}

// a with logical matrix (M, K) stored for trans flag t; batch prefix `batch`.
Tensor operand(Dims batch, int64_t r, int64_t c, bool t, uint64_t seed) {
  batch.push_back(t ? c : r);
  batch.push_back(t ? r : c);
  return randu(batch, seed);
}

}  // namespace

TEST_CASE("gradcheck: matmul transposes, 2-D and batched") {
  struct Case {
    Dims ba, bb;
  };
  Case cases[] = {{{}, {}},      {{2}, {2}},       {{2}, {}}, {{}, {2}},
                  {{2, 1}, {3}}, {{1, 2}, {3, 1}}, {{3}, {1}}};
  uint64_t seed = 1;
  for (const Case& c : cases)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = operand(c.ba, 3, 4, ta, seed++);  // op(a): (3, 4)
        Tensor b = operand(c.bb, 4, 2, tb, seed++);  // op(b): (4, 2)
        check_mm(a, b, ta, tb);
      }
}

TEST_CASE("gradcheck: matmul on strided inputs") {
  Tensor at = randu({4, 3}, 1).transpose(0, 1);                 // (3, 4) column-major
  Tensor bs = randu({4, 5}, 2).slice(1, 1, 3);                  // (4, 2) row stride 5
  Tensor heads = randu({2, 3, 2, 4}, 3).permute({0, 2, 1, 3});  // (2, 2, 3, 4) attention-like
  check_mm(at, bs, false, false);
  Tensor at_t = randu({3, 4}, 9).transpose(0, 1);  // (4, 3) column-major; op = (3, 4)
  Tensor bs_t = randu({2, 6}, 10).slice(1, 1, 5);  // (2, 4) row stride 6; op = (4, 2)
  check_mm(at_t, bs_t, true, true);
  check_mm(at, bs_t, false, true);
  check_mm(at_t, bs, true, false);
  check_mm(heads, heads.transpose(-1, -2).contiguous(), false, false);
  check_mm(heads, randu({2, 2, 5, 4}, 4), false, true);
  check_mm(randu({3, 4, 2}, 5).transpose(1, 2), randu({4, 3}, 6), false, false);  // no fold
  // An expanded (stride-0) batch, made inside the function: gradcheck cannot perturb an input
  // whose elements alias each other.
  GradcheckResult r = gradcheck(
      [](const std::vector<Var>& v) {
        return matmul(expand(v[0], {2, 4, 3}), v[1]);
      },
      {randu({4, 3}, 7), randu({2, 3, 2}, 8)}, test::kOpCheck);
  INFO(r.report);
  CHECK(r.ok);
}
