// Learning-rate schedules; formulas in schedule.hpp.
#include "lra/nn/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "lra/core/error.hpp"

namespace lra::nn {
namespace {
double clamp01(double x) {
  return std::clamp(x, 0.0, 1.0);
}

// Fraction of the decay phase [w, T] done at step s (1 from T on).
double decay_progress(int64_t s, int64_t w, int64_t T) {
  if (T <= w) return s >= T ? 1.0 : 0.0;
  return clamp01(double(s - w) / double(T - w));
}
}  // namespace

float Schedule::at(int64_t step) const {
  const int64_t s = std::max<int64_t>(step, 0);
  const int64_t w = std::max<int64_t>(warmup, 0);
  const double warm = w > 0 ? std::min(1.0, double(s) / double(w)) : 1.0;
  double f = 1.0;
  switch (kind) {
    case Kind::Constant:
      return base_lr;
    case Kind::WarmupRsqrt:
      f = warm / std::sqrt(double(std::max<int64_t>({s, w, 1})));
      break;
    case Kind::WarmupCosine:
      f = warm * 0.5 * (1.0 + std::cos(std::numbers::pi * decay_progress(s, w, total_steps)));
      break;
    case Kind::WarmupLinear:
      f = warm * (1.0 - decay_progress(s, w, total_steps));
      break;
  }
  return float(double(base_lr) * f);
}

Schedule::Kind Schedule::parse(const std::string& name) {
  if (name == "constant") return Kind::Constant;
  if (name == "warmup_rsqrt" || name == "rsqrt") return Kind::WarmupRsqrt;
  if (name == "warmup_cosine" || name == "cosine") return Kind::WarmupCosine;
  if (name == "warmup_linear" || name == "linear") return Kind::WarmupLinear;
  throw ConfigError("unknown learning-rate schedule '" + cut_for_message(name) +
                    "'; valid: constant, warmup_rsqrt (rsqrt), warmup_cosine (cosine), "
                    "warmup_linear (linear)");
}

const char* Schedule::name(Kind kind) {
  switch (kind) {
    case Kind::Constant:
      return "constant";
    case Kind::WarmupRsqrt:
      return "warmup_rsqrt";
    case Kind::WarmupCosine:
      return "warmup_cosine";
    case Kind::WarmupLinear:
      return "warmup_linear";
  }
  return "?";
}

}  // namespace lra::nn
