// Cross-entropy loss and accuracy count.
#include "lra/nn/loss.hpp"

#include "lra/autograd/ops.hpp"
#include "lra/core/kernels.hpp"

namespace lra::nn {

LossOut classification_loss(const Var& logits, const Tensor& labels) {
  LRA_CHECK(logits.dim() == 2, ShapeError, "classification_loss: logits must be (B, C), got ",
            logits.data().describe());
  LRA_CHECK(labels.defined() && labels.dtype() == DType::I32 && labels.dim() == 1 &&
                labels.size(0) == logits.size(0),
            ShapeError, "classification_loss: labels must be i32 (", logits.size(0), "), got ",
            labels.describe());
  const int64_t classes = logits.size(1);
  std::vector<int32_t> y = labels.to_ints();
  for (size_t i = 0; i < y.size(); ++i)
    LRA_CHECK(y[i] >= 0 && y[i] < classes, DataError, "classification_loss: label ", y[i],
              " of example ", i, " is outside [0, ", classes, ")");
  LossOut out;
  out.loss = cross_entropy(logits, labels);
  std::vector<int32_t> pred = kern::argmax(logits.data(), 1).to_ints();
  out.correct = 0;
  for (size_t i = 0; i < y.size(); ++i) out.correct += pred[i] == y[i] ? 1 : 0;
  return out;
}

}  // namespace lra::nn
