// Layer norm over the last axis (llm.c layernorm_forward / layernorm_backward).
//
//   forward   m = mean_j x_j,  rstd = 1 / sqrt(mean_j (x_j - m)^2 + eps)
//             n_j = (x_j - m) * rstd,   y_j = gamma_j * n_j + beta_j
//   backward  dbeta_j  += gy_j                       (summed over rows)
//             dgamma_j += gy_j * n_j                 (summed over rows)
//             dn_j = gamma_j * gy_j
//             dx_j = rstd * (dn_j - mean_k dn_k - n_j * mean_k (dn_k n_k))
//
// x, gy: (..., D) in any layout, seen as R rows of D; gamma, beta: (D) or undefined (1 and 0).
// Cached for backward: mean (R), rstd (R). Rows run in parallel. dgamma and dbeta are summed
// per fixed chunk of rows and the chunk partials combined in chunk order, so they do not
// depend on the number of threads.
#include <cmath>
#include <vector>

#include "lra/core/kernels.hpp"
#include "lra/core/rows.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {
namespace {

// One row of the backward's first pass: n = (x − m)·rstd, dbeta += gy, dgamma += gy·n,
// dn = gamma·gy. The rows are read in place (no copy pass); restrict: no argument overlaps
// another, so GCC vectorises without alias checks.
void norm_and_sums(const float* __restrict xr, const float* __restrict gr,
                   const float* __restrict gamma, float m, float rs, int64_t d,
                   float* __restrict nrm, float* __restrict dn, float* __restrict dgamma,
                   float* __restrict dbeta) {
  for (int64_t j = 0; j < d; ++j) {
    nrm[j] = (xr[j] - m) * rs;
    dbeta[j] += gr[j];
    dgamma[j] += gr[j] * nrm[j];
    dn[j] = gr[j] * gamma[j];
  }
}

// gamma or beta as a contiguous (D) vector, or `fill` repeated when undefined.
std::vector<float> affine_param(const Tensor& p, int64_t d, float fill, const char* name) {
  if (!p.defined()) return std::vector<float>(size_t(d), fill);
  LRA_CHECK(p.dtype() == DType::F32 && p.numel() == d, ShapeError, "layer_norm: ", name,
            " must be f32 with ", d, " elements (the last axis of x), got ", p.describe());
  return p.to_floats();
}

}  // namespace

// ---- forward ------------------------------------------------------------------------------

LayerNormOut layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  LRA_CHECK(x.dim() >= 1 && x.shape().back() > 0, ShapeError,
            "layer_norm: x needs a non-empty last axis, got ", x.describe());
  const int64_t d = x.shape().back();
  const int64_t rows = x.numel() / d;
  const std::vector<float> g = affine_param(gamma, d, 1.0f, "gamma");
  const std::vector<float> b = affine_param(beta, d, 0.0f, "beta");
  LayerNormOut out{Tensor::empty(x.shape()), Tensor::empty({rows}), Tensor::empty({rows})};
  const float* px = x.data<float>();
  float* py = out.y.data<float>();
  float* pm = out.mean.data<float>();
  float* pr = out.rstd.data<float>();
  const int64_t grain = std::max<int64_t>(1, 8192 / d);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* yr = py + r * d;  // (D) output row, used as the work buffer
      load_row(x, px, r, d, yr);
      const float m = row_sum(yr, d) / float(d);
      for (int64_t j = 0; j < d; ++j) yr[j] -= m;
      const float var = row_dot(yr, yr, d) / float(d);
      const float rs = 1.0f / std::sqrt(var + eps);
      for (int64_t j = 0; j < d; ++j) yr[j] = yr[j] * rs * g[j] + b[j];
      pm[r] = m;
      pr[r] = rs;
    }
  });
  return out;
}

// ---- backward -----------------------------------------------------------------------------

LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& gy) {
  check_same_shape(x, gy, "layer_norm_backward");
  LRA_CHECK(x.dim() >= 1 && x.shape().back() > 0, ShapeError,
            "layer_norm_backward: x needs a non-empty last axis, got ", x.describe());
  const int64_t d = x.shape().back();
  const int64_t rows = x.numel() / d;
  LRA_CHECK(mean.numel() == rows && rstd.numel() == rows, ShapeError,
            "layer_norm_backward: mean and rstd need ", rows, " elements, got ", mean.describe(),
            " and ", rstd.describe());
  const std::vector<float> g = affine_param(gamma, d, 1.0f, "gamma");
  const std::vector<float> pm = mean.to_floats(), pr = rstd.to_floats();

  LayerNormGrads out{Tensor::empty(x.shape()), Tensor::zeros({d}), Tensor::zeros({d})};
  const float* px = x.data<float>();
  const float* pg = gy.data<float>();
  float* pdx = out.dx.data<float>();

  // Fixed chunks of rows (a function of the shape only) each own a (2, D) partial sum.
  const int64_t chunk = std::max<int64_t>(1, 16384 / d);
  const int64_t nchunks = (rows + chunk - 1) / chunk;
  // (chunks, [dgamma, dbeta], D), from the caching allocator (a fresh vector would page-fault)
  Tensor partial = Tensor::zeros({nchunks, 2, d});
  float* pp = partial.data<float>();
  const bool unit = x.strides().back() == 1 && gy.strides().back() == 1;
  parallel_for(nchunks, 1, [&](int64_t c0, int64_t c1) {
    // (D) normalised row n; x and gy rows gathered here unless read in place
    std::vector<float> nrm(static_cast<size_t>(d)), xbuf, gbuf;
    if (!unit) xbuf.resize(static_cast<size_t>(d)), gbuf.resize(static_cast<size_t>(d));
    for (int64_t c = c0; c < c1; ++c) {
      float* dgamma = pp + c * 2 * d;
      float* dbeta = dgamma + d;
      for (int64_t r = c * chunk; r < std::min(rows, (c + 1) * chunk); ++r) {
        float* dr = pdx + r * d;  // (D) dx row; holds dn, then dx
        const float *xr = px + row_offset(x, r), *gr = pg + row_offset(gy, r);
        if (!unit) {
          load_row(x, px, r, d, xbuf.data()), load_row(gy, pg, r, d, gbuf.data());
          xr = xbuf.data(), gr = gbuf.data();
        }
        norm_and_sums(xr, gr, g.data(), pm[r], pr[r], d, nrm.data(), dr, dgamma, dbeta);
        const float rs = pr[r];
        const float dn_mean = row_sum(dr, d) / float(d);
        const float dn_n_mean = row_dot(dr, nrm.data(), d) / float(d);
        for (int64_t j = 0; j < d; ++j) dr[j] = rs * (dr[j] - dn_mean - nrm[j] * dn_n_mean);
      }
    }
  });
  float* dgamma = out.dgamma.data<float>();
  float* dbeta = out.dbeta.data<float>();
  for (int64_t c = 0; c < nchunks; ++c) {  // fixed order: deterministic
    const float* part = pp + c * 2 * d;
    for (int64_t j = 0; j < d; ++j) {
      dgamma[j] += part[j];
      dbeta[j] += part[d + j];
    }
  }
  return out;
}

}  // namespace lra::kern
