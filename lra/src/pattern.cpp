// Attention pattern pictures, part 1: the weights (see lra/pattern.hpp). Drawing is in
// pattern_draw.cpp.
#include "lra/lra/pattern.hpp"

#include <algorithm>

#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"
#include "lra/core/rng.hpp"
#include "lra/lra/model.hpp"
#include "lra/lra/span.hpp"

namespace lra::pattern {
namespace {

constexpr int64_t kByteVocab = 257;  // 0 = padding, byte b = id b + 1
constexpr int kMaxLayers = 16;

std::string describe_params(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [name, value] : params) out += (out.empty() ? "" : ", ") + name + "=" + value;
  return out;
}

// (1, len) token ids and (1) lengths: the text's bytes + 1 then padding, or random bytes.
std::pair<Tensor, Tensor> input_tokens(const Options& opt) {
  Tensor tokens = Tensor::zeros({1, opt.len}, DType::I32);
  int32_t* ids = tokens.data<int32_t>();
  const uint64_t key = rng_key(opt.seed, {rng_tag("pattern.tokens")});
  const int64_t valid = opt.text.empty() ? opt.len : int64_t(opt.text.size());
  for (int64_t i = 0; i < valid; ++i)
    ids[i] = opt.text.empty() ? int32_t(random_below(key, uint64_t(i), 256)) + 1
                              : int32_t(static_cast<unsigned char>(opt.text[size_t(i)])) + 1;
  return {tokens, Tensor::from(std::vector<int32_t>{int32_t(valid)}, {1})};
}

}  // namespace

std::map<std::string, std::string> picture_defaults(const std::string& model, int64_t len) {
  const std::string eighth = std::to_string(std::max<int64_t>(1, len / 8));
  if (model == "local" || model == "sinkhorn") return {{"block", eighth}};
  if (model == "sparse")
    return {{"block", eighth}, {"summary", std::to_string(std::max<int64_t>(1, len / 32))}};
  if (model == "longformer") return {{"window", eighth}};
  if (model == "bigbird") return {{"block", std::to_string(std::max<int64_t>(1, len / 16))}};
  if (model == "performer") return {{"dense", "features"}};  // what its fast path computes
  return {};
}

Pattern compute(const Options& opt) {
  attn::find_mechanism(opt.model);  // ConfigError listing the valid names
  LRA_CHECK(opt.len >= 1 && opt.len <= kMaxLen, ConfigError, "--len ", opt.len, " is outside 1..",
            kMaxLen, " (the dense face holds N x N weights per head)");
  LRA_CHECK(opt.layer >= 0 && opt.layer < kMaxLayers, ConfigError, "--layer ", opt.layer,
            " is outside 0..", kMaxLayers - 1);
  LRA_CHECK(int64_t(opt.text.size()) <= opt.len, ConfigError, "--text has ", opt.text.size(),
            " bytes but --len is ", opt.len, "; pass --len ", opt.text.size(), " or more");

  ModelConfig mc;
  mc.mechanism = opt.model;
  mc.mechanism_params = picture_defaults(opt.model, opt.len);
  for (const auto& [name, value] : opt.params) mc.mechanism_params[name] = value;
  mc.vocab = kByteVocab;
  mc.max_len = opt.len;
  mc.layers = opt.layer + 1;
  mc.dropout = mc.attn_dropout = 0.0f;
  mc.seed = opt.seed;
  LRA_CHECK(opt.head >= 0 && opt.head < mc.heads, ConfigError, "--head ", opt.head,
            " is outside 0..", mc.heads - 1, " (the picture model has ", mc.heads, " heads)");
  LraModel model(mc);  // unknown or bad --attn items throw ConfigError here

  Pattern p;
  p.model = opt.model;
  p.n = opt.len;
  const auto [tokens, lengths] = input_tokens(opt);
  span::visit_layer_weights(model, tokens, lengths, [&](int layer, const Tensor& w, const Tensor&) {
    if (layer == opt.layer) p.weights = w.select(0, 0).select(0, opt.head).contiguous().to_floats();
  });
  LRA_ASSERT(int64_t(p.weights.size()) == p.n * p.n);

  const std::string params = describe_params(mc.mechanism_params);
  p.title =
      opt.model + (params.empty() ? "" : " (" + params + ")") + ": N=" + std::to_string(opt.len) +
      ", head " + std::to_string(opt.head) + ", layer " + std::to_string(opt.layer) + ", " +
      (opt.text.empty()
           ? "random bytes, seed " + std::to_string(opt.seed)
           : std::to_string(opt.text.size()) + " text bytes, seed " + std::to_string(opt.seed));
  return p;
}

}  // namespace lra::pattern
