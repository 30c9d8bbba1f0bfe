// AVX-512 helpers shared by the softmax kernels (core/src/softmax.cpp) and the block-sparse
// attention kernel (attention/src/block_sparse.cpp). Only defined when compiled with AVX-512
// (-march=native on an AVX-512 machine); callers keep a scalar fallback.
//
//   exp16_nonpos(x) = exp(x) on 16 lanes for x <= 0, 0 below -87.3 (so exp(-inf) = 0):
//   x = n ln2 + r, |r| <= ln2 / 2; exp(r) by the Cephes expf polynomial; 2^n built in the
//   exponent bits; n rounded by the 1.5 * 2^23 trick. The same steps as the scalar exp_nonpos
//   of those files (relative error < 1e-7 on [-87.3, 0]).
// Why intrinsics: GCC does not vectorise a max or a float sum without -ffast-math (they are
// order-dependent), and left the exp loops scalar where input and output rows may alias.
#pragma once
#if defined(__AVX512F__)
#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace lra::simd {

// Lanes [0, left) of a 16-lane step (all 16 when left >= 16).
inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
}

inline __m512 exp16_nonpos(__m512 x) {
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ);
  const __m512 xc = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 big = _mm512_set1_ps(12582912.0f);
  const __m512 t = _mm512_fmadd_ps(xc, _mm512_set1_ps(1.44269504f), big);
  const __m512 n = _mm512_sub_ps(t, big);
  const __m512i k = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(big));
  const __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f),
                                   _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc));
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512 two_n =
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k, _mm512_set1_epi32(127)), 23));
  return _mm512_maskz_mul_ps(__mmask16(~tiny), p, two_n);
}

// max_j s * x[j] over n elements (-inf when n = 0).
inline float scaled_max(const float* x, int64_t n, float s) {
  const __m512 vs = _mm512_set1_ps(s);
  __m512 m = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = tail_mask(n - j);
    m = _mm512_mask_max_ps(m, k, m, _mm512_mul_ps(vs, _mm512_maskz_loadu_ps(k, x + j)));
  }
  return _mm512_reduce_max_ps(m);
}

// y[j] = exp(s * x[j] - shift) for j < n (y may be x); returns the sum of the y[j].
inline float exp_scaled_sum(const float* x, float* y, int64_t n, float s, float shift) {
  const __m512 vs = _mm512_set1_ps(s), sh = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = tail_mask(n - j);
    const __m512 e =
        exp16_nonpos(_mm512_sub_ps(_mm512_mul_ps(vs, _mm512_maskz_loadu_ps(k, x + j)), sh));
    _mm512_mask_storeu_ps(y + j, k, e);
    acc = _mm512_mask_add_ps(acc, k, acc, e);
  }
  return _mm512_reduce_add_ps(acc);
}

// y[j] = exp(x[j] - shift) for j < n (y may be x).
inline void exp_shift(const float* x, float* y, int64_t n, float shift) {
  const __m512 sh = _mm512_set1_ps(shift);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = tail_mask(n - j);
    _mm512_mask_storeu_ps(y + j, k,
                          exp16_nonpos(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + j), sh)));
  }
}

}  // namespace lra::simd
#endif
