// The dense face of block-sparse attention (block_sparse.hpp): the (B, H, N, N) weights a
// pattern gives, computed in double from the raw scores, which the kernel's tests and the
// attention pictures compare against.
#include <algorithm>
#include <cmath>
#include <vector>

#include "block_sparse.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"

namespace lra::attn::bsa {

// ---- dense references --------------------------------------------------------------------

Tensor dense_weights(const Tensor& q, const Tensor& k, const Tensor& lengths, float scale,
                     const Pattern& allowed) {
  LRA_CHECK(q.dim() == 4 && k.shape() == q.shape(), ShapeError,
            "dense_weights: q and k must be (B, H, N, d) of one shape, got q ", q.describe(),
            ", k ", k.describe());
  const int64_t B = q.size(0), H = q.size(1), N = q.size(2);
  const std::vector<int32_t> len = checked_lengths(lengths, B, N);
  Tensor w = kern::matmul(q, k, false, true);  // (B, H, N, N) raw scores, contiguous
  float* pw = w.data<float>();
  parallel_for(
      B * H * N, std::max<int64_t>(1, 4096 / std::max<int64_t>(N, 1)), [&](int64_t r0, int64_t r1) {
        std::vector<char> ok(static_cast<size_t>(N));
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t i = r % N, h = (r / N) % H, b = r / (N * H);
          const int64_t len_b = len[size_t(b)];
          float* row = pw + r * N;
          double m = -INFINITY;
          for (int64_t j = 0; j < N; ++j) {
            ok[size_t(j)] = i < len_b && j < len_b && allowed(b, h, i, j);
            if (ok[size_t(j)]) m = std::max(m, double(row[j]) * scale);
          }
          double sum = 0.0;
          for (int64_t j = 0; j < N; ++j)
            if (ok[size_t(j)]) sum += std::exp(double(row[j]) * scale - m);
          for (int64_t j = 0; j < N; ++j)
            row[j] = ok[size_t(j)] ? float(std::exp(double(row[j]) * scale - m) / sum) : 0.0f;
        }
      });
  return w;
}

}  // namespace lra::attn::bsa
