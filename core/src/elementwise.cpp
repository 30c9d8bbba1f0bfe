#include <cstring>

#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"

namespace lra::kern {

void axpy_(Tensor& y, const Tensor& x, float alpha) {
  check_same_shape(y, x, "axpy_");
  LRA_CHECK(y.is_contiguous(), ShapeError, "axpy_: destination must be contiguous");
  Tensor xc = x.contiguous();
  float* py = y.data<float>();
  const float* px = xc.data<float>();
  parallel_for(y.numel(), 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) py[i] += alpha * px[i];
  });
}

}  // namespace lra::kern
