// Central-difference gradient check: compares backward() with (f(x+h) - f(x-h)) / 2h for
// every input element, through a random projection L = sum(w * f(inputs)) accumulated in
// double. Used by a test for every differentiable op.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "lra/autograd/var.hpp"

namespace lra {

// The defaults suit one op. A whole mixer or layer sums many float32 roundings into its
// outputs, which a step of 1e-3 amplifies past these bounds: check those with eps 1e-2, atol
// 2e-4, rtol 2e-3 (tests/grad_checks.hpp measures both).
struct GradcheckOptions {
  float eps = 1e-3f;   // finite-difference step (f32 data)
  float atol = 5e-4f;  // |analytic - numeric| <= atol + rtol * |numeric|
  float rtol = 5e-3f;
  uint64_t seed = 1;
};

struct GradcheckResult {
  bool ok = true;
  float max_abs_error = 0.0f;
  std::string report;  // first mismatches: input, element, analytic, numeric
};

// fn builds an output from the inputs (each a leaf that requires grad).
GradcheckResult gradcheck(const std::function<Var(const std::vector<Var>&)>& fn,
                          const std::vector<Tensor>& inputs, GradcheckOptions opt = {});

}  // namespace lra
