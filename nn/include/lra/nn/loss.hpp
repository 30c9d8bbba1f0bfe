// Classification loss: mean softmax cross-entropy plus the number of correct argmax
// predictions (LRA's loss and accuracy metric).
#pragma once
#include <cstdint>

#include "lra/autograd/var.hpp"

namespace lra::nn {

struct LossOut {
  Var loss;         // scalar, mean over the batch
  int64_t correct;  // rows whose argmax (first maximum) equals the label
};

// logits (B, C) f32, labels i32 (B) with values in [0, C); ShapeError / DataError otherwise.
LossOut classification_loss(const Var& logits, const Tensor& labels);

}  // namespace lra::nn
