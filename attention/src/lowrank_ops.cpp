// Fused ops of the low-rank / kernel family; equations and shapes in lowrank_ops.hpp.
// Forward and backward of each op sit side by side. GEMMs go to kern::matmul (OpenBLAS, split
// over the cores by lra::parallel_for); the elementwise passes run row by row in parallel.
#include "lowrank_ops.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "lra/core/error.hpp"
#include "lra/core/fast_exp.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/rng.hpp"
#include "lra/core/rows.hpp"
#include "lra/core/threading.hpp"

namespace lra::attn::ops {
namespace {

// Valid length of every sequence, clamped to [0, n]; all n when lengths is undefined.
std::vector<int64_t> valid_lengths(const Tensor& lengths, int64_t batch, int64_t n) {
  std::vector<int64_t> out(size_t(batch), n);
  if (!lengths.defined()) return out;
  LRA_CHECK(lengths.dtype() == DType::I32 && lengths.dim() == 1 && lengths.size(0) == batch,
            ShapeError, "attention lengths must be i32 (", batch, "), got ", lengths.describe());
  std::vector<int32_t> l = lengths.to_ints();
  for (int64_t b = 0; b < batch; ++b) out[size_t(b)] = std::clamp<int64_t>(l[size_t(b)], 0, n);
  return out;
}

void check_heads(const Tensor& t, const char* what) {
  LRA_CHECK(t.dim() == 4 && t.dtype() == DType::F32, ShapeError, what,
            " must be f32 (B, H, N, ·), got ", t.describe());
}

// Rows per parallel task for a pass over rows of `width` floats (~32K floats per task).
constexpr int64_t kFavorRows = 64;  // rows per block of the fused FAVOR+ passes

int64_t row_grain(int64_t width) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, width));
}

// A zero normaliser (eps = 0 and every product underflowed; then the numerator is 0 as well)
// becomes the smallest normal float: the row's output is 0, never 0/0.
float guarded(float den, float eps, DenGuard g) {
  const float r = g == DenGuard::Add ? den + eps : std::fabs(den) <= eps ? den + 2.0f * eps : den;
  return r != 0.0f ? r : std::numeric_limits<float>::min();
}

// Max with 8 independent partials: one SIMD register without -ffast-math.
float max_of(const float* a, int64_t n) {
  float acc[8];
  std::fill(acc, acc + 8, -std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) acc[k] = a[j + k] > acc[k] ? a[j + k] : acc[k];
  float mx = -std::numeric_limits<float>::infinity();
  for (; j < n; ++j) mx = a[j] > mx ? a[j] : mx;
  for (int k = 0; k < 8; ++k) mx = acc[k] > mx ? acc[k] : mx;
  return mx;
}

}  // namespace

// ---- linear attention --------------------------------------------------------------------
//
// Saved for backward: φQ, φK, V (the inputs), S (B,H,m,d), z (B,H,m), O (the output) and the
// guarded normaliser den (B,H,N). Nothing of size N×N, nothing of size N×m beyond the inputs.
Var linear_attention(const Var& phi_q, const Var& phi_k, const Var& v, const Tensor& lengths,
                     float eps, DenGuard guard) {
  const Tensor& fq = phi_q.data();
  const Tensor& fk = phi_k.data();
  check_heads(fq, "linear_attention: phi_q");
  check_heads(fk, "linear_attention: phi_k");
  check_heads(v.data(), "linear_attention: v");
  int64_t B = fq.size(0), H = fq.size(1), N = fq.size(2), m = fq.size(3), d = v.size(3);
  LRA_CHECK(fk.shape() == fq.shape() && v.size(0) == B && v.size(1) == H && v.size(2) == N,
            ShapeError, "linear_attention: phi_q ", fq.describe(), ", phi_k ", fk.describe(),
            " and v ", v.data().describe(), " disagree");
  std::vector<int64_t> lens = valid_lengths(lengths, B, N);

  Tensor S = kern::matmul(fk, v.data(), true, false);              // (B,H,m,d)
  Tensor z = kern::sum(fk, 2);                                     // (B,H,m)
  Tensor out = kern::matmul(fq, S);                                // (B,H,N,d) numerator
  Tensor den = kern::matmul(fq, z.unsqueeze(-1)).view({B, H, N});  // (B,H,N)
  float* po = out.data<float>();
  float* pd = den.data<float>();
  parallel_for(B * H * N, row_grain(d), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      pd[r] = guarded(pd[r], eps, guard);
      float inv = 1.0f / pd[r];
      for (int64_t c = 0; c < d; ++c) po[r * d + c] *= inv;
    }
  });

  Tensor vdata = v.data();
  return make_result(
      out, "linear_attention", {phi_q, phi_k, v},
      [fq, fk, vdata, S, z, out, den, lens, B, H, N, m, d](const Tensor& g_in, InputGrads& in) {
        Tensor g = g_in.contiguous();
        // G = dO / den (B,H,N,d); dden = −dO·O / den (B,H,N).
        Tensor G = Tensor::empty({B, H, N, d});
        Tensor dden = Tensor::empty({B, H, N});
        const float *pg = g.data<float>(), *po = out.data<float>(), *pd = den.data<float>();
        float *pG = G.data<float>(), *pdd = dden.data<float>();
        parallel_for(B * H * N, row_grain(d), [&](int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) {
            float inv = 1.0f / pd[r];
            for (int64_t c = 0; c < d; ++c) pG[r * d + c] = pg[r * d + c] * inv;
            pdd[r] = -kern::row_dot(pg + r * d, po + r * d, d) * inv;
          }
        });
        if (in.needs(0)) {  // dφQ = G Sᵀ + dden zᵀ
          Tensor dq = kern::matmul(G, S, false, true);
          float* p = dq.data<float>();
          const float* pz = z.data<float>();
          parallel_for(B * H * N, row_grain(m), [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; ++r) {
              const float* zr = pz + (r / N) * m;
              for (int64_t c = 0; c < m; ++c) p[r * m + c] += pdd[r] * zr[c];
            }
          });
          in.set(0, dq);
        }
        if (!in.needs(1) && !in.needs(2)) return;
        Tensor dS = kern::matmul(fq, G, true, false);  // (B,H,m,d)
        if (in.needs(1)) {  // dφK = V dSᵀ + 1 dzᵀ on valid rows, 0 on pads
          Tensor dz = kern::matmul(fq, dden.unsqueeze(-1), true, false);  // (B,H,m,1)
          Tensor dk = kern::matmul(vdata, dS, false, true);               // (B,H,N,m)
          float* p = dk.data<float>();
          const float* pz = dz.data<float>();
          parallel_for(B * H * N, row_grain(m), [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; ++r) {
              int64_t b = r / (H * N), i = r % N;
              if (i >= lens[size_t(b)]) {
                std::fill(p + r * m, p + (r + 1) * m, 0.0f);
                continue;
              }
              const float* zr = pz + (r / N) * m;
              for (int64_t c = 0; c < m; ++c) p[r * m + c] += zr[c];
            }
          });
          in.set(1, dk);
        }
        if (in.needs(2)) in.set(2, kern::matmul(fk, dS));  // dV = φK dS (0 at pads: φK = 0)
      });
}

Tensor linear_attention_weights(const Tensor& phi_q, const Tensor& phi_k, float eps,
                                DenGuard guard) {
  Tensor a = kern::matmul(phi_q, phi_k, false, true);  // (B,H,N,N)
  int64_t n = a.size(-1), rows = a.numel() / std::max<int64_t>(1, n);
  float* p = a.data<float>();
  parallel_for(rows, row_grain(n), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float inv = 1.0f / guarded(kern::row_sum(p + r * n, n), eps, guard);
      for (int64_t j = 0; j < n; ++j) p[r * n + j] *= inv;
    }
  });
  return a;
}

// ---- elu + 1 features ----------------------------------------------------------------------
//
// Saved for backward: the output φ only (dφ/dx = 1 where x > 0, i.e. φ > 1; exp(x) = φ else).
Var elu_features(const Var& x, const Tensor& lengths) {
  const Tensor& xd = x.data();
  check_heads(xd, "elu_features: x");
  int64_t B = xd.size(0), H = xd.size(1), N = xd.size(2), d = xd.size(3);
  std::vector<int64_t> lens = valid_lengths(lengths, B, N);
  Tensor y = Tensor::empty({B, H, N, d});
  const float* px = xd.data<float>();
  float* py = y.data<float>();
  int64_t s0 = xd.stride(0), s1 = xd.stride(1), s2 = xd.stride(2), s3 = xd.stride(3);
  parallel_for(B * H * N, row_grain(d), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t b = r / (H * N), h = (r / N) % H, i = r % N;
      float* yr = py + r * d;
      if (i >= lens[size_t(b)]) {
        std::fill(yr, yr + d, 0.0f);
        continue;
      }
      const float* xr = px + b * s0 + h * s1 + i * s2;
      for (int64_t c = 0; c < d; ++c) {
        float t = xr[c * s3];
        yr[c] = t > 0.0f ? t + 1.0f : exp_nonpos(t);
      }
    }
  });
  return make_result(y, "elu_features", {x}, [y](const Tensor& g_in, InputGrads& in) {
    if (!in.needs(0)) return;
    Tensor g = g_in.contiguous();
    Tensor dx = Tensor::empty(y.shape());
    const float *pg = g.data<float>(), *py = y.data<float>();
    float* p = dx.data<float>();
    parallel_for(y.numel(), 32768, [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) p[e] = pg[e] * std::min(py[e], 1.0f);  // pads: φ = 0
    });
    in.set(0, dx);
  });
}

// ---- FAVOR+ positive random features ------------------------------------------------------
//
// Saved for backward: the output φ, x (the input) and w (not a parameter).
Var favor_features(const Var& x, const Tensor& w, const Tensor& lengths, bool is_query, float eps,
                   const Tensor& key_mask) {
  const Tensor& xd = x.data();
  check_heads(xd, "favor_features: x");
  int64_t B = xd.size(0), H = xd.size(1), N = xd.size(2), d = xd.size(3), m = w.size(0);
  LRA_CHECK(w.dim() == 2 && w.size(1) == d, ShapeError, "favor_features: projection ", w.describe(),
            " does not match head dim ", d);
  std::vector<int64_t> lens = valid_lengths(lengths, B, N);
  LRA_ASSERT(!key_mask.defined() || (key_mask.dtype() == DType::I32 && key_mask.is_contiguous() &&
                                     key_mask.numel() == B * N));
  // Rows that are pads: i >= len_b, or keys the key mask hides.
  auto pad = [lens, key_mask, N](int64_t b, int64_t i) {
    return i >= lens[size_t(b)] || (key_mask.defined() && key_mask.data<int32_t>()[b * N + i] == 0);
  };
  float c = 1.0f / std::sqrt(std::sqrt(float(d)));  // data normaliser d^(-1/4)
  float ratio = 1.0f / std::sqrt(float(m));

  // Note [fused favor forward]: per block of up to kFavorRows rows of one (b, h), P = c x wᵀ
  // (kern::sgemm on a transposed copy of w: each element summed as in one whole product), then,
  // while the block is in cache, its row maxima, |x'|²/2 and (queries) the features; keys wait
  // for the maximum over their (b, h) and take their exponentials in a second pass.
  Tensor phi = Tensor::empty({B, H, N, m});
  float* pp = phi.data<float>();
  const bool in_place = xd.stride(3) == 1 && (N <= 1 || xd.stride(2) >= d);
  const Tensor xs = in_place ? xd : xd.contiguous();  // rows of x read in place
  const Tensor wt = w.transpose(0, 1).contiguous();   // (d, m)
  const float *px = xs.data<float>(), *pwt = wt.data<float>();
  const int64_t s0 = xs.stride(0), s1 = xs.stride(1), s2 = N > 1 ? xs.stride(2) : d;
  std::vector<float> rowmax(size_t(B * H * N)), half_sq(size_t(B * H * N));
  const int64_t per = (N + kFavorRows - 1) / kFavorRows;  // blocks per (b, h)
  parallel_for(B * H * per, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bh = t / per, i0 = (t % per) * kFavorRows, nr = std::min(kFavorRows, N - i0);
      const int64_t b = bh / H, h = bh % H;
      const float* x0 = px + b * s0 + h * s1 + i0 * s2;
      kern::sgemm(false, false, nr, m, d, c, x0, s2, pwt, m, 0.0f, pp + (bh * N + i0) * m, m);
      for (int64_t x = 0; x < nr; ++x) {
        const int64_t r = bh * N + i0 + x;
        float* row = pp + r * m;
        // |x'|²/2. The stabiliser is the max of the whole exponent w_r·x' − |x'|²/2, so the
        // largest feature of a query row (keys: of a (b,h)) is exactly 1 and none can all
        // underflow. Queries: exponent − (rowmax − |x'|²/2) = P − rowmax.
        const float* xr = x0 + x * s2;
        float sq = 0.0f;
        for (int64_t k = 0; k < d; ++k) sq += xr[k] * xr[k];
        half_sq[size_t(r)] = 0.5f * c * c * sq;
        rowmax[size_t(r)] = max_of(row, m);
        if (!is_query) continue;
        if (pad(b, i0 + x)) {
          std::fill(row, row + m, 0.0f);
          continue;
        }
        const float shift = rowmax[size_t(r)];
        for (int64_t j = 0; j < m; ++j) row[j] = ratio * (exp_nonpos(row[j] - shift) + eps);
      }
    }
  });
  if (!is_query) {
    std::vector<float> keymax(size_t(B * H), 0.0f);
    for (int64_t bh = 0; bh < B * H; ++bh) {
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < lens[size_t(bh / H)]; ++i)
        if (!pad(bh / H, i))
          mx = std::max(mx, rowmax[size_t(bh * N + i)] - half_sq[size_t(bh * N + i)]);
      keymax[size_t(bh)] = std::isfinite(mx) ? mx : 0.0f;
    }
    parallel_for(B * H * N, row_grain(m), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t b = r / (H * N), i = r % N;
        float* row = pp + r * m;
        if (pad(b, i)) {
          std::fill(row, row + m, 0.0f);
          continue;
        }
        // Key: P − |x'|²/2 − keymax.
        const float shift = half_sq[size_t(r)] + keymax[size_t(r / N)];
        for (int64_t j = 0; j < m; ++j) row[j] = ratio * (exp_nonpos(row[j] - shift) + eps);
      }
    });
  }

  return make_result(
      phi, "favor_features", {x},
      [phi, xd, w, pad, B, H, N, d, m, c, ratio, eps, is_query](const Tensor& g_in,
                                                                InputGrads& in) {
        if (!in.needs(0)) return;
        Tensor g = g_in.contiguous();
        const Tensor wc = w.contiguous();
        const float *pg = g.data<float>(), *pf = phi.data<float>(), *pw = wc.data<float>();
        const float* px = xd.data<float>();
        const int64_t s0 = xd.stride(0), s1 = xd.stride(1), s2 = xd.stride(2), s3 = xd.stride(3);
        const float floor = ratio * eps;
        Tensor dx = Tensor::empty({B, H, N, d});
        float* pdx = dx.data<float>();
        // Note [fused favor backward]: per block of kRows rows, dP lives in a task-local tile
        // (kRows x m, in L2) and feeds its product at once; the (B, H, N, m) dP never goes to
        // memory. kern::sgemm sums each element exactly as the whole-tensor product did.
        constexpr int64_t kRows = kFavorRows;
        const int64_t rows = B * H * N, blocks = (rows + kRows - 1) / kRows;
        parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
          Tensor hold = Tensor::empty({kRows, m});
          float* tile = hold.data<float>();
          float rs[kRows];
          for (int64_t blk = b0; blk < b1; ++blk) {
            const int64_t r0 = blk * kRows, nr = std::min(kRows, rows - r0);
            for (int64_t x = 0; x < nr; ++x) {  // dP = g ∘ (φ − ratio·eps), rs = rowsum dP
              const int64_t r = r0 + x;
              float* pr = tile + x * m;
              if (pad(r / (H * N), r % N)) {
                std::fill(pr, pr + m, 0.0f);
                rs[x] = 0.0f;
                continue;
              }
              for (int64_t j = 0; j < m; ++j) pr[j] = pg[r * m + j] * (pf[r * m + j] - floor);
              rs[x] = kern::row_sum(pr, m);
            }
            // dx = d^(-1/4) dP w
            kern::sgemm(false, false, nr, d, m, c, tile, m, pw, d, 0.0f, pdx + r0 * d, d);
            if (is_query) continue;  // the query's |x'|²/2 sits inside its stabiliser: no gradient
            for (int64_t x = 0; x < nr; ++x) {
              const int64_t r = r0 + x, b = r / (H * N), h = (r / N) % H, i = r % N;
              const float* xr = px + b * s0 + h * s1 + i * s2;
              const float a = c * c * rs[x];
              for (int64_t k = 0; k < d; ++k) pdx[r * d + k] -= a * xr[k * s3];
            }
          }
        });
        in.set(0, dx);
      });
}

Tensor gaussian_orthogonal_matrix(int64_t m, int64_t d, uint64_t key, int scaling) {
  LRA_CHECK(m > 0 && d > 0, ConfigError, "performer: features (", m, ") and head dim (", d,
            ") must be positive");
  LRA_CHECK(scaling == 0 || scaling == 1, ConfigError,
            "performer: scaling must be 0 (chi_d row "
            "norms) or 1 (sqrt(d) row norms), got ",
            scaling);
  Tensor w = Tensor::empty({m, d});
  float* pw = w.data<float>();
  std::vector<double> q(size_t(d * d));
  for (int64_t block = 0; block * d < m; ++block) {
    Tensor g = Tensor::empty({d, d});
    fill_normal(g, rng_key(key, {uint64_t(block)}), 0.0f, 1.0f);
    const float* pg = g.data<float>();
    for (int64_t i = 0; i < d * d; ++i) q[size_t(i)] = pg[i];
    // Modified Gram-Schmidt on the rows, twice ("twice is enough") for orthogonality to ~1e-15.
    for (int64_t i = 0; i < d; ++i) {
      double* qi = q.data() + i * d;
      for (int pass = 0; pass < 2; ++pass)
        for (int64_t j = 0; j < i; ++j) {
          const double* qj = q.data() + j * d;
          double p = 0.0;
          for (int64_t k = 0; k < d; ++k) p += qi[k] * qj[k];
          for (int64_t k = 0; k < d; ++k) qi[k] -= p * qj[k];
        }
      double nrm = 0.0;
      for (int64_t k = 0; k < d; ++k) nrm += qi[k] * qi[k];
      nrm = std::sqrt(nrm);
      for (int64_t k = 0; k < d; ++k) qi[k] /= nrm;
    }
    for (int64_t i = 0; i < d && block * d + i < m; ++i)
      for (int64_t k = 0; k < d; ++k) pw[(block * d + i) * d + k] = float(q[size_t(i * d + k)]);
  }
  Tensor norms = Tensor::empty({m, d});
  fill_normal(norms, rng_key(key, {rng_tag("row_norms")}), 0.0f, 1.0f);
  const float* pn = norms.data<float>();
  for (int64_t r = 0; r < m; ++r) {
    double s = std::sqrt(double(d));
    if (scaling == 0) {
      s = 0.0;
      for (int64_t k = 0; k < d; ++k) s += double(pn[r * d + k]) * pn[r * d + k];
      s = std::sqrt(s);
    }
    for (int64_t k = 0; k < d; ++k) pw[r * d + k] = float(pw[r * d + k] * s);
  }
  return w;
}

// ---- softmax with a per-head additive bias --------------------------------------------------
//
// Saved for backward: P (the output), q, k (the inputs). No logits tensor is kept.
Var biased_softmax(const Var& q, const Var& k, const Var& r, const Tensor& lengths, float scale,
                   int64_t batch, int64_t heads, int64_t n, const Tensor& key_mask) {
  bool dot = q.defined();
  LRA_CHECK(dot == k.defined(), ShapeError, "biased_softmax: give both q and k or neither");
  LRA_CHECK(dot || r.defined(), ShapeError, "biased_softmax: needs q, k or a bias");
  if (dot) {
    check_heads(q.data(), "biased_softmax: q");
    LRA_CHECK(q.size(0) == batch && q.size(1) == heads && q.size(2) == n &&
                  k.data().shape() == q.data().shape(),
              ShapeError, "biased_softmax: q ", q.data().describe(), " and k ", k.data().describe(),
              " should be (", batch, ", ", heads, ", ", n, ", d)");
  }
  Tensor rd;
  if (r.defined()) {
    rd = r.data();
    LRA_CHECK(rd.dim() == 3 && rd.size(0) == heads && rd.size(1) == n && rd.size(2) == n,
              ShapeError, "biased_softmax: bias ", rd.describe(), " should be (", heads, ", ", n,
              ", ", n, ")");
    if (rd.stride(2) != 1) rd = rd.contiguous();
  }
  std::vector<int64_t> lens = valid_lengths(lengths, batch, n);
  LRA_ASSERT(!key_mask.defined() || (key_mask.dtype() == DType::I32 && key_mask.is_contiguous() &&
                                     key_mask.numel() == batch * n));
  const int32_t* key_ok = key_mask.defined() ? key_mask.data<int32_t>() : nullptr;

  Tensor p =
      dot ? kern::matmul(q.data(), k.data(), false, true) : Tensor::empty({batch, heads, n, n});
  float* pp = p.data<float>();
  const float* pr = rd.defined() ? rd.data<float>() : nullptr;
  int64_t r0 = rd.defined() ? rd.stride(0) : 0, r1 = rd.defined() ? rd.stride(1) : 0;
  parallel_for(batch * heads * n, row_grain(n), [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      const int64_t b = row / (heads * n), h = (row / n) % heads, i = row % n;
      int64_t L = lens[size_t(b)];
      float* x = pp + row * n;
      const float* br = pr ? pr + h * r0 + i * r1 : nullptr;
      if (dot && br) {
        for (int64_t j = 0; j < L; ++j) x[j] = scale * x[j] + br[j];
      } else if (dot) {
        for (int64_t j = 0; j < L; ++j) x[j] *= scale;
      } else {
        for (int64_t j = 0; j < L; ++j) x[j] = br[j];
      }
      const int32_t* ok = key_ok ? key_ok + b * n : nullptr;
      if (ok)
        for (int64_t j = 0; j < L; ++j)
          if (!ok[j]) x[j] = -INFINITY;
      float mx = max_of(x, L);
      if (mx == -INFINITY) L = 0;  // no visible key: the row is 0
      for (int64_t j = 0; j < L; ++j) x[j] = exp_nonpos(x[j] - mx);
      if (ok)
        for (int64_t j = 0; j < L; ++j)
          if (!ok[j]) x[j] = 0.0f;  // exp_nonpos clamps -inf to e^-87.3
      float s = kern::row_sum(x, L);
      float inv = s > 0.0f ? 1.0f / s : 0.0f;
      for (int64_t j = 0; j < L; ++j) x[j] *= inv;
      std::fill(x + L, x + n, 0.0f);
    }
  });

  Tensor qd = dot ? q.data() : Tensor(), kd = dot ? k.data() : Tensor();
  return make_result(p, "biased_softmax", {q, k, r},
                     [p, qd, kd, scale, batch, heads, n](const Tensor& g, InputGrads& in) {
                       Tensor ds = kern::softmax_backward(p, g, 1.0f);  // (B,H,N,N), 0 at pads
                       if (in.needs(0)) {
                         Tensor dq = Tensor::empty(qd.shape());
                         kern::matmul_into(dq, ds, kd, false, false, scale, 0.0f);
                         in.set(0, dq);
                       }
                       if (in.needs(1)) {
                         Tensor dk = Tensor::empty(kd.shape());
                         kern::matmul_into(dk, ds, qd, true, false, scale, 0.0f);
                         in.set(1, dk);
                       }
                       if (in.needs(2))  // dR = Σ_b dS (H,N,N); a view when B = 1 (no N×N copy)
                         in.set(2, batch == 1 ? ds.view({heads, n, n}) : kern::sum(ds, 0));
                     });
}

}  // namespace lra::attn::ops
