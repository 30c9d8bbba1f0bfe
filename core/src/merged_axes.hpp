// Note [merged axes]: K operands laid over one shape (a broadcast axis has stride 0) are walked
// over fewer, longer axes. Size-1 axes are dropped, and an axis is merged into the one before
// it when, in every operand, the outer stride equals the inner stride times the inner extent:
// e.g. merging heads (B, H, N, d) -> (B, N, H, d) becomes rows of d adjacent floats, and
// contiguous operands become one axis. Used by the elementwise walks (K = 3) and strided copies
// (K = 2). Internal to core/src.
#pragma once
#include <array>
#include <cstdint>

#include "lra/core/dims.hpp"

namespace lra::kern {

template <int K>
struct MergedAxes {
  int nd = 0;
  int64_t n[kMaxDims] = {};      // extent of merged axis a
  int64_t st[K][kMaxDims] = {};  // st[k][a]: operand k's stride along merged axis a (elements)
};

template <int K>
MergedAxes<K> merge_axes(const Dims& shape, const std::array<const Dims*, K>& strides) {
  MergedAxes<K> m;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 axes carry no work
    bool merge = m.nd > 0;
    for (int k = 0; k < K && merge; ++k) merge = m.st[k][m.nd - 1] == (*strides[k])[d] * shape[d];
    if (merge) {
      m.n[m.nd - 1] *= shape[d];
      for (int k = 0; k < K; ++k) m.st[k][m.nd - 1] = (*strides[k])[d];
    } else {
      m.n[m.nd] = shape[d];
      for (int k = 0; k < K; ++k) m.st[k][m.nd] = (*strides[k])[d];
      m.nd++;
    }
  }
  return m;
}

}  // namespace lra::kern
