// Finite-difference gradient checks for the tests: the step and tolerances of
// lra/autograd/gradcheck.hpp, chosen from measurements (the engine computes in float32 only).
//
// The central difference (f(x+h) - f(x-h)) / 2h errs by O(h² f''') (truncation) plus about
// u |L| / h (float32 rounding of the outputs, u = 6e-8, L the projected output). Measured over
// every check in tests/, the largest error / (1e-4 + 1e-3 |numeric|) is:
//                                      h = 1e-2   h = 3e-3   h = 1e-3
//   one op (tests/autograd)              0.38       0.56       2.4 (layer norm)
//   mixers and layers (nn, attention)    0.83       2.2        5.8 (Linformer)
// so rounding, not truncation, dominates below h = 1e-2. A check passes when every element has
// |analytic - numeric| <= atol + rtol |numeric|; the former default for all was h = 1e-2,
// atol 2e-3, rtol 2e-2 (a bound of 20 on the scale above).
//   kOpCheck:     h = 1e-3, bound 5 (2x over the worst): 4x tighter than before, truncation
//                 negligible.
//   kModuleCheck: h = 1e-2, bound 2 (2.4x over the worst): 10x tighter than before. At h = 1e-3
//                 the rounding noise of a whole mixer would allow only a bound near 12, no
//                 tighter than the former default.
#pragma once
#include <doctest/doctest.h>

#include "lra/autograd/gradcheck.hpp"

namespace lra::test {

inline constexpr GradcheckOptions kOpCheck{};  // gradcheck.hpp's defaults: 1e-3, 5e-4, 5e-3
inline constexpr GradcheckOptions kModuleCheck{1e-2f, 2e-4f, 2e-3f, 1};

// CHECKs a gradcheck result, showing its first mismatches when it fails.
inline void expect_ok(const GradcheckResult& r) {
  INFO(r.report);
  CHECK(r.ok);
}

}  // namespace lra::test
