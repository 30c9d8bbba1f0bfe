// Regularisation, pooling and the loss.
//
//   dropout       y_i = x_i * [u_i >= p] / (1 - p),  u_i = uniform01(key, c0 + i), i row-major
//                 dx_i = g_i * [u_i >= p] / (1 - p)  (the mask is regenerated from the key)
//   cross_entropy L = -1/B sum_b log softmax(z_b)[y_b]     logits z (B, C), labels y (B)
//                 dz_b = g * (softmax(z_b) - onehot(y_b)) / B
//   masked_mean   out[b] = 1/L_b sum_{n < L_b} x[b, n]     x (B, N, D) -> (B, D); L_b = 0 -> 0
//                 dx[b, n] = g[b] / L_b for n < L_b, else 0
#include <cmath>
#include <vector>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/threading.hpp"

namespace lra {
namespace {

// The dropout map itself, used by forward (on x) and backward (on g): the same key gives the
// same mask, and element i always draws counter i, whatever the number of threads.
Tensor apply_dropout(const Tensor& t, float p, uint64_t key, uint64_t counter0) {
  const Tensor tc = t.contiguous();
  Tensor y = Tensor::empty(t.shape());
  const float* px = tc.data<float>();
  float* py = y.data<float>();
  const float keep_scale = 1.0f / (1.0f - p);
  const PhiloxKey k(key);  // round keys once; 16 draws per step below
  parallel_for(t.numel(), 1 << 14, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
#if defined(__AVX512F__)  // 16 draws at a time, the same bits (Note [philox on 16 lanes])
    const __m512 vp = _mm512_set1_ps(p), vs = _mm512_set1_ps(keep_scale);
    for (; i + 16 <= i1; i += 16) {
      const __mmask16 keep =
          _mm512_cmp_ps_mask(uniform01_16(k, counter0 + uint64_t(i)), vp, _CMP_GE_OQ);
      _mm512_storeu_ps(py + i, _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(px + i), vs));
    }
#endif
    for (; i < i1; ++i)
      py[i] = uniform01(k, counter0 + uint64_t(i)) >= p ? px[i] * keep_scale : 0.0f;
  });
  return y;
}

// Lengths (B) as ints, each checked to lie in [0, n].
std::vector<int32_t> checked_lengths(const Tensor& lengths, int64_t b, int64_t n, const char* op) {
  LRA_CHECK(lengths.defined() && lengths.dtype() == DType::I32 && lengths.dim() == 1 &&
                lengths.numel() == b,
            ShapeError, op, ": lengths must be i32 (", b, "), got ", lengths.describe());
  std::vector<int32_t> len = lengths.to_ints();
  for (int64_t i = 0; i < b; ++i)
    LRA_CHECK(len[i] >= 0 && len[i] <= n, DataError, op, ": lengths[", i, "] = ", len[i],
              " is outside [0, ", n, "] (the sequence axis)");
  return len;
}

}  // namespace

// ---- dropout ------------------------------------------------------------------------------

Var dropout(const Var& x, float p, uint64_t key, bool training, uint64_t counter0) {
  LRA_CHECK(p >= 0.0f && p < 1.0f, ConfigError, "dropout: p = ", p, " must be in [0, 1)");
  if (!training || p == 0.0f) return x;
  return make_result(apply_dropout(x.data(), p, key, counter0), "dropout", {x},
                     [p, key, counter0](const Tensor& g, InputGrads& in) {
                       if (in.needs(0)) in.set(0, apply_dropout(g, p, key, counter0));
                     });
}

// ---- cross_entropy ------------------------------------------------------------------------

Var cross_entropy(const Var& logits, const Tensor& labels) {
  LRA_CHECK(logits.dim() == 2 && logits.size(0) > 0, ShapeError,
            "cross_entropy: logits must be (B, C) with B > 0, got ", logits.data().describe());
  const int64_t b = logits.size(0), c = logits.size(1);
  LRA_CHECK(labels.dtype() == DType::I32 && labels.dim() == 1 && labels.numel() == b, ShapeError,
            "cross_entropy: labels must be i32 (", b, "), got ", labels.describe());
  const Tensor lab = labels.contiguous();
  const int32_t* pl = lab.data<int32_t>();
  for (int64_t i = 0; i < b; ++i)
    LRA_CHECK(pl[i] >= 0 && pl[i] < c, DataError, "cross_entropy: label ", pl[i], " at position ",
              i, " is outside [0, ", c, ") (the number of classes)");

  const Tensor logp = kern::log_softmax(logits.data());  // (B, C), contiguous
  const float* lp = logp.data<float>();
  double loss = 0.0;
  for (int64_t i = 0; i < b; ++i) loss -= lp[i * c + pl[i]];
  Tensor out = Tensor::scalar(float(loss / double(b)));

  return make_result(out, "cross_entropy", {logits}, [logp, lab](const Tensor& g, InputGrads& in) {
    if (!in.needs(0)) return;
    const int64_t b = logp.size(0), c = logp.size(1);
    const float k = g.item() / float(b);
    const float* lp = logp.data<float>();
    const int32_t* pl = lab.data<int32_t>();
    Tensor dz = Tensor::empty({b, c});
    float* pd = dz.data<float>();
    for (int64_t i = 0; i < b; ++i) {
      for (int64_t j = 0; j < c; ++j) pd[i * c + j] = k * std::exp(lp[i * c + j]);
      pd[i * c + pl[i]] -= k;
    }
    in.set(0, dz);
  });
}

// ---- masked_mean --------------------------------------------------------------------------

Var masked_mean(const Var& x, const Tensor& lengths) {
  LRA_CHECK(x.dim() == 3, ShapeError, "masked_mean: x must be (B, N, D), got ",
            x.data().describe());
  const int64_t b = x.size(0), n = x.size(1), d = x.size(2);
  const std::vector<int32_t> len = checked_lengths(lengths, b, n, "masked_mean");
  const Tensor& xt = x.data();
  const float* px = xt.data<float>();
  const int64_t s0 = xt.stride(0), s1 = xt.stride(1), s2 = xt.stride(2);
  Tensor out = Tensor::zeros({b, d});
  float* po = out.data<float>();
  parallel_for(b, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0; i < b1; ++i) {
      float* orow = po + i * d;  // (D)
      for (int64_t t = 0; t < len[i]; ++t) {
        const float* xr = px + i * s0 + t * s1;
        for (int64_t j = 0; j < d; ++j) orow[j] += xr[j * s2];
      }
      const float inv = len[i] > 0 ? 1.0f / float(len[i]) : 0.0f;
      for (int64_t j = 0; j < d; ++j) orow[j] *= inv;
    }
  });

  return make_result(out, "masked_mean", {x},
                     [lengths, shape = x.shape()](const Tensor& g, InputGrads& in) {
                       if (!in.needs(0)) return;
                       const int64_t b = shape[0], n = shape[1], d = shape[2];
                       const std::vector<int32_t> len = lengths.to_ints();
                       const Tensor gc = g.contiguous();  // (B, D)
                       const float* pg = gc.data<float>();
                       Tensor dx = Tensor::zeros(shape);  // (B, N, D)
                       float* pd = dx.data<float>();
                       parallel_for(b, 1, [&](int64_t b0, int64_t b1) {
                         for (int64_t i = b0; i < b1; ++i) {
                           if (len[i] == 0) continue;
                           const float inv = 1.0f / float(len[i]);
                           for (int64_t t = 0; t < len[i]; ++t)
                             for (int64_t j = 0; j < d; ++j)
                               pd[(i * n + t) * d + j] = pg[i * d + j] * inv;
                         }
                       });
                       in.set(0, dx);
                     });
}

}  // namespace lra
