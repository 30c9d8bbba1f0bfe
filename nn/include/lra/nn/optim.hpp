// Optimisers and gradient clipping.
//
// Adam follows flax optim.Adam as LRA uses it (docs/lra.md section 2): with g the gradient and
// t the 1-based step,
//   m = b1 m + (1 - b1) g            mhat = m / (1 - b1^t)
//   v = b2 v + (1 - b2) g^2          vhat = v / (1 - b2^t)
//   p = p - lr (mhat / (sqrt(vhat) + eps) + wd p)      (decoupled decay on the old p)
// applied to every parameter that has a gradient; a parameter whose grad is undefined is
// left alone (its moments and value unchanged) but the step counter still advances.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lra/autograd/var.hpp"

namespace lra::nn {

struct AdamConfig {
  float beta1 = 0.9f, beta2 = 0.98f, eps = 1e-9f, weight_decay = 0.0f;
};

class Adam {
 public:
  // Names must be unique (they key the checkpointed state); each Var an f32 leaf.
  Adam(std::vector<std::pair<std::string, Var>> params, AdamConfig cfg);
  void step(float lr);
  void zero_grad();
  int64_t steps() const { return steps_; }
  const AdamConfig& config() const { return cfg_; }

  // Moments for checkpoints, "m.<param>" and "v.<param>" in parameter order (copies).
  std::vector<std::pair<std::string, Tensor>> state() const;
  // Restores moments and the step count. Every name must be present with the right shape
  // and dtype, and no unexpected name may appear; otherwise throws CheckpointError listing
  // every problem and changes nothing.
  void load_state(const std::vector<std::pair<std::string, Tensor>>& s, int64_t steps);

 private:
  struct Slot {
    std::string name;
    Var param;
    Tensor m, v;  // same shape as param, f32, contiguous
  };
  std::vector<Slot> slots_;
  AdamConfig cfg_;
  int64_t steps_ = 0;
};

// Plain SGD with optional heavy-ball momentum (PyTorch form): buf = mu buf + g; p -= lr buf.
class SGD {
 public:
  explicit SGD(std::vector<Var> params, float momentum = 0.0f);
  explicit SGD(const std::vector<std::pair<std::string, Var>>& params, float momentum = 0.0f);
  void step(float lr);
  void zero_grad();

 private:
  std::vector<Var> params_;
  std::vector<Tensor> buf_;  // momentum buffers (undefined until first used)
  float momentum_;
};

// Global L2 norm of all defined gradients (accumulated in double). A Var listed twice counts
// once.
float grad_norm(const std::vector<Var>& params);
// Scales every gradient by max_norm / norm when norm > max_norm (max_norm <= 0: no clipping).
// Returns the norm before clipping (check it for NaN/inf to detect a diverged step).
float clip_grad_norm(const std::vector<Var>& params, float max_norm);

}  // namespace lra::nn
