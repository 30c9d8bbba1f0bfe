// Pooling of the encoder output and the classifier head (LRA common_layers.classifier_head);
// the names of the pooling and position-table choices.
#include <algorithm>
#include <cctype>

#include "lra/autograd/ops.hpp"
#include "lra/core/rng.hpp"
#include "lra/nn/layers.hpp"

namespace lra::nn {

static std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Pooling parse_pooling(const std::string& name) {
  const std::string s = lowercase(name);
  if (s == "cls") return Pooling::Cls;
  if (s == "mean") return Pooling::Mean;
  throw ConfigError("unknown pooling '" + cut_for_message(name) + "'; valid: cls, mean");
}

const char* pooling_name(Pooling p) {
  return p == Pooling::Cls ? "cls" : "mean";
}

Positions parse_positions(const std::string& name) {
  const std::string s = lowercase(name);
  for (Positions p : {Positions::Learned, Positions::Sinusoidal, Positions::Sinusoidal2D})
    if (s == positions_name(p)) return p;
  throw ConfigError("unknown positions '" + cut_for_message(name) +
                    "'; valid: learned, sinusoidal, sinusoidal2d");
}

const char* positions_name(Positions p) {
  switch (p) {
    case Positions::Learned:
      return "learned";
    case Positions::Sinusoidal:
      return "sinusoidal";
    case Positions::Sinusoidal2D:
      return "sinusoidal2d";
  }
  return "?";
}

Var pool(const Var& x, const Tensor& lengths, Pooling p) {
  LRA_CHECK(x.dim() == 3, ShapeError, "pool: expected (B, N, D) input, got ", x.data().describe());
  if (p == Pooling::Cls) return reshape(slice(x, 1, 0, 1), {x.size(0), x.size(2)});
  LRA_CHECK(lengths.defined() && lengths.dtype() == DType::I32 && lengths.dim() == 1 &&
                lengths.size(0) == x.size(0),
            ShapeError, "pool: mean pooling needs i32 lengths (", x.size(0), "), got ",
            lengths.describe());
  return masked_mean(x, lengths);
}

ClassifierHead::ClassifierHead(int64_t in, int64_t hidden, int64_t classes, uint64_t init_key) {
  fc1_ = register_module(
      "fc1", std::make_unique<Linear>(in, hidden, true, rng_key(init_key, {rng_tag("fc1")})));
  fc2_ = register_module(
      "fc2", std::make_unique<Linear>(hidden, classes, true, rng_key(init_key, {rng_tag("fc2")})));
}

Var ClassifierHead::forward(const Var& pooled) const {
  return fc2_->forward(relu(fc1_->forward(pooled)));
}

}  // namespace lra::nn
