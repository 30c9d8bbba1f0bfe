// exp(x) for x <= 0 as a branch-free body the compiler vectorises (a std::exp loop is not):
// x = n ln2 + r with |r| <= ln2 / 2; exp(r) by the Cephes expf polynomial; 2^n built in the
// exponent bits. n is rounded by the 1.5 * 2^23 trick (no float->int conversion, which would
// block vectorisation). Relative error < 1e-7 on [-87.3, 0]; below that (the end of the normal
// range) it returns 0, so exp(-inf) = 0 exactly; NaN stays NaN. The AVX-512 twin of these
// steps is simd::exp16_nonpos (simd.hpp). Used by the softmax kernels and the attention
// mechanisms' stabilised exponentials, where every exponent is <= 0 by construction.
#pragma once
#include <bit>
#include <cstdint>

namespace lra {

inline float exp_nonpos(float x) {
  const float xc = x < -87.3f ? -87.3f : x;
  const float t = xc * 1.44269504f + 12582912.0f;  // x / ln2 + 1.5 * 2^23: rounds to integer
  const float n = t - 12582912.0f;
  const int32_t k = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(12582912.0f);  // = n
  const float r = xc - n * 0.693359375f + n * 2.12194440e-4f;  // x - n ln2, ln2 split in two
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float two_n = std::bit_cast<float>((k + 127) << 23);
  return x < -87.3f ? 0.0f : p * two_n;
}

}  // namespace lra
