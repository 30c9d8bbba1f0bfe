// AVX-512 helpers shared by the softmax kernels (core/src/softmax.cpp), the block-sparse
// attention kernel (attention/src/block_sparse.cpp) and the GEMM's operand packing
// (core/src/matmul.cpp). Only defined when compiled with AVX-512
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

// out[c * ld + j] = rows[j][c0 + c] for j, c < 16 (a 16 x 16 block, in registers). Each output
// row gets one whole 64-byte store: a scalar transpose writes 16 rows one float at a time, and
// with a power-of-two ld (N = 1024, 4096) those rows share one L1 set and evict each other.
inline void transpose16(const float* const* rows, int64_t c0, float* out, int64_t ld) {
  __m512 u[16], t[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) u[j] = _mm512_loadu_ps(rows[j] + c0);
#pragma GCC unroll 8
  for (int j = 0; j < 16; j += 2) {  // per 128-bit lane: [a0 b0 a1 b1], [a2 b2 a3 b3]
    t[j] = _mm512_unpacklo_ps(u[j], u[j + 1]);
    t[j + 1] = _mm512_unpackhi_ps(u[j], u[j + 1]);
  }
#pragma GCC unroll 4
  for (int g = 0; g < 16; g += 4) {  // u[g + m], lane L: column 4L + m of rows g .. g + 3
    const __m512d a = _mm512_castps_pd(t[g]), b = _mm512_castps_pd(t[g + 1]);
    const __m512d c = _mm512_castps_pd(t[g + 2]), e = _mm512_castps_pd(t[g + 3]);
    u[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
    u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
  }
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {  // gather lanes L of the four row groups into column 4L + m
    const __m512 v_lo = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
    const __m512 v_hi = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
    const __m512 w_lo = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
    const __m512 w_hi = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
    _mm512_storeu_ps(out + m * ld, _mm512_shuffle_f32x4(v_lo, w_lo, 0x88));
    _mm512_storeu_ps(out + (4 + m) * ld, _mm512_shuffle_f32x4(v_hi, w_hi, 0x88));
    _mm512_storeu_ps(out + (8 + m) * ld, _mm512_shuffle_f32x4(v_lo, w_lo, 0xDD));
    _mm512_storeu_ps(out + (12 + m) * ld, _mm512_shuffle_f32x4(v_hi, w_hi, 0xDD));
  }
}

}  // namespace lra::simd
#endif
