// Attention pattern pictures, part 1: the weights (see lra/measure/pattern.hpp). Drawing is in
// pattern_draw.cpp.
#include "lra/lra/measure/pattern.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <tuple>

#include "lra/attention/registry.hpp"
#include "lra/core/error.hpp"
#include "lra/core/rng.hpp"
#include "lra/lra/data/listops.hpp"
#include "lra/lra/measure/mechanism_facts.hpp"
#include "lra/lra/measure/span.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/model.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"

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

// What the picture reads: a model, one sequence (1, N) and its length, a label per encoder
// position (empty: none), and the input in words for the title.
struct Input {
  std::unique_ptr<LraModel> model;
  Tensor tokens, lengths;
  std::vector<std::string> labels;
  std::string description;
};

// The printed token of id in `encoding` ("listops", "bytes"), "" for pixels and padding.
std::string token_label(const std::string& encoding, int32_t id) {
  if (id == 0) return "";
  if (encoding == "listops") return id == data::kListOpsEnd ? "]" : data::listops_token_name(id);
  if (encoding != "bytes") return "";
  const int byte = id - 1;
  if (byte > 32 && byte < 127) return std::string(1, char(byte));
  if (byte == 32) return "\u2423";  // open box: a visible space
  char hex[8];
  std::snprintf(hex, sizeof hex, "\\x%02X", byte);
  return hex;
}

std::vector<std::string> labels_of(const Tensor& tokens, const std::string& encoding, bool cls) {
  std::vector<std::string> labels;
  if (encoding.empty()) return labels;
  if (cls) labels.push_back("<cls>");
  for (int32_t id : tokens.to_ints()) labels.push_back(token_label(encoding, id));
  return labels;
}

// A freshly initialised byte model reading random bytes or opt.text.
Input fresh_input(const Options& opt) {
  attn::find_mechanism(opt.model);  // ConfigError listing the valid names
  LRA_CHECK(opt.len >= 1 && opt.len <= kMaxLen, ConfigError, "--len ", opt.len, " is outside 1..",
            kMaxLen, " (the dense face holds N x N weights per head)");
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
  Input in;
  in.model = std::make_unique<LraModel>(mc);  // unknown or bad --attn items throw ConfigError
  std::tie(in.tokens, in.lengths) = input_tokens(opt);
  in.labels = labels_of(in.tokens, opt.text.empty() ? "" : "bytes", mc.uses_cls());
  in.description = opt.text.empty() ? "random bytes, seed " + std::to_string(opt.seed)
                                    : std::to_string(opt.text.size()) + " text bytes, seed " +
                                          std::to_string(opt.seed);
  return in;
}

// The trained model of a run folder reading one example of its data.
Input run_input(const Options& opt) {
  namespace fs = std::filesystem;
  const RunInfo run = read_run(opt.run);  // config.json: settings and the data folder
  const TaskInfo& task = find_task(run.settings.get("task"));
  ModelConfig mc = model_config(run.settings, task);
  mc.dropout = mc.attn_dropout = 0.0f;
  LRA_CHECK(opt.checkpoint == "best" || opt.checkpoint == "last", ConfigError, "--checkpoint ",
            opt.checkpoint, " is not one of: best, last");
  const std::string ckpt = opt.run + "/" + opt.checkpoint + ".safetensors";
  LRA_CHECK(fs::exists(ckpt), CheckpointError, "attention: no ", opt.checkpoint, ".safetensors in ",
            opt.run, " (the parameters of the trained model)");
  Input in;
  in.model = std::make_unique<LraModel>(mc);
  load_weights(*in.model, ckpt, task.name);  // checksums, task and model checked

  const std::string data_dir = opt.data.empty() ? run.data_dir : opt.data;
  LRA_CHECK(!data_dir.empty() && fs::exists(data_dir), DataError,
            "attention: the run's data folder '", data_dir,
            "' does not exist here; pass --data DIR");
  LRA_CHECK(opt.split == "val" || opt.split == "test", ConfigError, "--split ", opt.split,
            " is not one of: val, test");
  const TaskData data = task.load(data_dir, mc.max_len);
  const data::Split& split = opt.split == "val" ? data.val : data.test;
  LRA_CHECK(opt.sample >= 0 && opt.sample < int64_t(split.examples.size()), ConfigError,
            "--sample ", opt.sample, " is outside 0..", int64_t(split.examples.size()) - 1,
            " (the ", opt.split, " split of ", data_dir, ")");
  std::vector<int32_t> ids = split.examples[size_t(opt.sample)].tokens;
  if (int64_t(ids.size()) > mc.max_len) ids.resize(size_t(mc.max_len));
  LRA_CHECK(!ids.empty() && int64_t(ids.size()) + (mc.uses_cls() ? 1 : 0) <= kMaxLen, ConfigError,
            "--sample ", opt.sample, " has ", ids.size(), " tokens; the picture takes 1..", kMaxLen,
            " (pick a shorter example)");
  const int64_t len = int64_t(ids.size());
  in.tokens = Tensor::from(ids, {1, len});
  in.lengths = Tensor::from(std::vector<int32_t>{int32_t(len)}, {1});
  const std::string encoding = task.name == "listops"                            ? "listops"
                               : task.name == "text" || task.name == "retrieval" ? "bytes"
                                                                                 : "";
  in.labels = labels_of(in.tokens, encoding, mc.uses_cls());
  in.description = task.name + " " + opt.split + " example " + std::to_string(opt.sample) +
                   " (label " + std::to_string(split.examples[size_t(opt.sample)].label) + "), " +
                   opt.checkpoint + " checkpoint of " + fs::path(opt.run).filename().string();
  return in;
}

}  // namespace

std::map<std::string, std::string> picture_defaults(const std::string& model, int64_t len) {
  return facts::picture_params(model, len);
}

Pattern compute(const Options& opt) {
  LRA_CHECK(opt.order == "positions" || opt.order == "buckets", ConfigError, "--order ", opt.order,
            " is not one of: positions, buckets");
  LRA_CHECK(opt.layer >= 0 && opt.layer < kMaxLayers, ConfigError, "--layer ", opt.layer,
            " is outside 0..", kMaxLayers - 1);
  Input in = opt.run.empty() ? fresh_input(opt) : run_input(opt);
  const ModelConfig& mc = in.model->config();
  LRA_CHECK(opt.layer < mc.layers, ConfigError, "--layer ", opt.layer, " is outside 0..",
            mc.layers - 1, " (the model has ", mc.layers, " layers)");
  LRA_CHECK(opt.head >= 0 && opt.head < mc.heads, ConfigError, "--head ", opt.head,
            " is outside 0..", mc.heads - 1, " (the model has ", mc.heads, " heads)");

  Pattern p;
  p.model = mc.mechanism;
  std::vector<float> weights;
  span::visit_layer_weights(
      *in.model, in.tokens, in.lengths,
      [&](int layer, const Tensor& w, const Tensor&, const Tensor& order) {
        if (layer != opt.layer) return;
        p.n = w.size(2);
        weights = w.select(0, 0).select(0, opt.head).contiguous().to_floats();
        if (opt.order == "buckets") {
          LRA_CHECK(order.defined(), ConfigError, "--order buckets: ", mc.mechanism,
                    " has no bucket order (reformer has); use --order positions");
          p.order = order.select(0, 0).select(0, opt.head).contiguous().to_ints();
        }
      });
  LRA_ASSERT(int64_t(weights.size()) == p.n * p.n);
  if (p.order.empty())
    for (int64_t i = 0; i < p.n; ++i) p.order.push_back(int32_t(i));
  LRA_ASSERT(int64_t(p.order.size()) == p.n);
  p.weights.resize(weights.size());
  for (int64_t s = 0; s < p.n; ++s)
    for (int64_t t = 0; t < p.n; ++t)
      p.weights[size_t(s * p.n + t)] =
          weights[size_t(p.order[size_t(s)] * p.n + p.order[size_t(t)])];
  if (!in.labels.empty()) {
    LRA_ASSERT(int64_t(in.labels.size()) == p.n);
    for (int32_t pos : p.order) p.labels.push_back(in.labels[size_t(pos)]);
  }

  const std::string params = describe_params(mc.mechanism_params);
  p.title = mc.mechanism + (params.empty() ? "" : " (" + params + ")") +
            ": N=" + std::to_string(p.n) + ", head " + std::to_string(opt.head) + ", layer " +
            std::to_string(opt.layer) + ", " + in.description +
            (opt.order == "buckets" ? ", bucket order" : "");
  return p;
}

}  // namespace lra::pattern
