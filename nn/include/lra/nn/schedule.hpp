// Learning-rate schedules (docs/lra.md section 2: LRA multiplies "factors" of its
// create_learning_rate_scheduler). With s = step, w = warmup, T = total_steps, b = base_lr:
//
//   Constant       lr = b
//   WarmupRsqrt    lr = b * min(1, s / w) * 1 / sqrt(max(s, w))
//                  (LRA "constant * linear_warmup * rsqrt_decay": the rsqrt factor multiplies b
//                  directly, so the peak, at s = w, is b / sqrt(w); e.g. b 0.05, w 1000 gives
//                  0.00158)
//   WarmupCosine   lr = b * min(1, s / w) * 0.5 (1 + cos(pi * p)),  p = clamp((s - w) / (T - w))
//                  (LRA "linear_warmup * cosine_decay" with steps_per_cycle = T - w: reaches 0
//                  at s = T and stays there; LRA's frac() would restart the cycle instead)
//   WarmupLinear   lr = b * min(1, s / w) * clamp((T - s) / (T - w))
//                  (linear decay to 0 at s = T, as in the PyTorch LRA re-implementations)
//
// clamp(.) = to [0, 1]. w = 0 means no warmup (the warmup factor is 1; WarmupRsqrt then uses
// max(s, 1)). T <= w makes the decay factor 1 before T and 0 from T on.
#pragma once
#include <cstdint>
#include <string>

namespace lra::nn {

struct Schedule {
  enum class Kind { Constant, WarmupRsqrt, WarmupCosine, WarmupLinear };
  Kind kind = Kind::Constant;
  float base_lr = 0.0f;
  int64_t warmup = 0;
  int64_t total_steps = 0;

  float at(int64_t step) const;
  // "constant", "warmup_rsqrt" (or "rsqrt"), "warmup_cosine" ("cosine"), "warmup_linear"
  // ("linear"); anything else throws ConfigError listing the valid names.
  static Kind parse(const std::string& name);
  static const char* name(Kind kind);  // the canonical name parse() accepts
};

}  // namespace lra::nn
