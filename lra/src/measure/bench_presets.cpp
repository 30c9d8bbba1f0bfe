// Bench presets (model sizes the twin also knows), the mechanism parameters a bench uses
// unless told otherwise, and the synthetic data every configuration trains on.
#include <algorithm>

#include "lra/core/error.hpp"
#include "lra/core/rng.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "measure/bench_util.hpp"

namespace lra::bench {

// ---- synthetic data (the twin's: random byte tokens, random labels, no padding) -----------

data::Batch random_batch(const Config& c, uint64_t index) {
  data::Batch b;
  b.tokens = Tensor::empty({c.batch, c.seq_len}, DType::I32);
  b.lengths = Tensor::empty({c.batch}, DType::I32);
  b.labels = Tensor::empty({c.batch}, DType::I32);
  const uint64_t key = rng_key(c.seed, {rng_tag("bench.tokens"), index});
  int32_t* t = b.tokens.data<int32_t>();
  for (int64_t i = 0; i < c.batch * c.seq_len; ++i)  // ids 1..vocab-1 (0 is padding)
    t[i] = int32_t(1 + random_below(key, uint64_t(i), uint64_t(std::max<int64_t>(1, c.vocab - 1))));
  for (int64_t i = 0; i < c.batch; ++i) {
    b.lengths.data<int32_t>()[i] = int32_t(c.seq_len);
    b.labels.data<int32_t>()[i] =
        int32_t(random_below(key, uint64_t(c.batch * c.seq_len + i), uint64_t(c.classes)));
  }
  return b;
}

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> p = {{"tiny", 2, 64, 2, 128, 8},
                                             {"text", 4, 256, 4, 1024, 4}};
  return p;
}

const ModelPreset& find_model_preset(const std::string& name) {
  std::string known;
  for (const ModelPreset& p : model_presets()) {
    if (p.name == name) return p;
    known += " " + p.name;
  }
  throw ConfigError("unknown bench preset '" + name + "'; known:" + known);
}

std::map<std::string, std::string> default_mechanism_params(const std::string& mechanism) {
  return facts::bench_params(mechanism);
}

Config preset_config(const std::string& preset, const std::string& model, int64_t seq_len) {
  const ModelPreset& p = find_model_preset(preset);
  Config c;
  c.model = model;
  c.params = default_mechanism_params(model);
  c.preset = p.name;
  c.seq_len = seq_len;
  c.layers = p.layers;
  c.dim = p.dim;
  c.heads = p.heads;
  c.mlp_dim = p.mlp_dim;
  c.batch = p.batch;
  return c;
}

}  // namespace lra::bench
