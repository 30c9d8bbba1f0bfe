#include "lra/lra/train/api.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string_view>
#include <thread>

#include "lra/core/error.hpp"
#include "lra/core/text.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/data/image.hpp"
#include "lra/lra/data/listops.hpp"
#include "lra/lra/data/text.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/nn/checkpoint.hpp"
#include "lra/version.hpp"

namespace lra::api {
namespace {

std::string join_params(const std::map<std::string, std::string>& params) {
  std::string s;
  for (const auto& [k, v] : params) s += (s.empty() ? "" : ",") + k + "=" + v;
  return s;
}

// The metadata a checkpoint carries: the whole ModelConfig, so load_model can rebuild the model.
// The seed is part of it: mechanisms draw fixed random non-parameters from it (the Performer's
// feature matrix), which a checkpoint of parameters does not hold.
std::map<std::string, std::string> model_metadata(const ModelConfig& c) {
  return {{"lra.version", LRA_VERSION_STRING},
          {"lra.model.task", c.task},
          {"lra.model.seed", std::to_string(c.seed)},
          {"lra.model.dropout", std::to_string(c.dropout)},
          {"lra.model.attn_dropout", std::to_string(c.attn_dropout)},
          {"lra.model.mechanism", c.mechanism},
          {"lra.model.mechanism_params", join_params(c.mechanism_params)},
          {"lra.model.pooling", nn::pooling_name(c.pooling)},
          {"lra.model.positions", nn::positions_name(c.positions)},
          {"lra.model.mask_zero_tokens", c.mask_zero_tokens ? "1" : "0"},
          {"lra.model.vocab", std::to_string(c.vocab)},
          {"lra.model.max_len", std::to_string(c.max_len)},
          {"lra.model.dim", std::to_string(c.dim)},
          {"lra.model.heads", std::to_string(c.heads)},
          {"lra.model.qkv_dim", std::to_string(c.qkv_dim)},
          {"lra.model.mlp_dim", std::to_string(c.mlp_dim)},
          {"lra.model.layers", std::to_string(c.layers)},
          {"lra.model.reversible", c.reversible ? "1" : "0"},
          {"lra.model.classes", std::to_string(c.classes)},
          {"lra.model.dual", c.dual ? "1" : "0"}};
}

// What load_checkpoint compares besides the parameter shapes (load_module_state checks those).
constexpr const char* kIdentityKeys[] = {
    "lra.model.task",       "lra.model.mechanism",       "lra.model.mechanism_params",
    "lra.model.pooling",    "lra.model.positions",       "lra.model.seed",
    "lra.model.reversible", "lra.model.mask_zero_tokens"};

ModelConfig config_from_metadata(const std::map<std::string, std::string>& meta,
                                 const std::string& path) {
  auto get = [&](const char* key) -> const std::string& {
    auto it = meta.find(std::string("lra.model.") + key);
    LRA_CHECK(it != meta.end(), CheckpointError, "checkpoint '", path, "' has no lra.model.", key,
              " metadata (not written by lra::api::save_checkpoint); build the model with "
              "make_model(spec) and call load_checkpoint(model, path) instead");
    return it->second;
  };
  auto number = [&](const char* key) -> double {
    const std::string& v = get(key);
    if (const std::optional<double> d = parse_number(v)) return *d;
    throw CheckpointError("checkpoint '" + path + "': lra.model." + key + " is '" + v +
                          "'; expected a number");
  };
  auto integer = [&](const char* key) -> int64_t {
    const double d = number(key);
    LRA_CHECK(d == std::floor(d) && std::fabs(d) < 1e15, CheckpointError, "checkpoint '", path,
              "': lra.model.", key, " is ", d, "; expected an integer");
    return int64_t(d);
  };
  ModelConfig c;
  auto task = meta.find("lra.model.task");  // absent in checkpoints older than the record
  if (task != meta.end()) c.task = task->second;
  c.mechanism = get("mechanism");
  c.mechanism_params = attn::parse_param_list(get("mechanism_params"));
  c.pooling = nn::parse_pooling(get("pooling"));
  c.positions = nn::parse_positions(get("positions"));
  c.vocab = integer("vocab");
  c.max_len = integer("max_len");
  c.dim = integer("dim");
  c.heads = integer("heads");
  c.qkv_dim = integer("qkv_dim");
  c.mlp_dim = integer("mlp_dim");
  c.layers = int(std::clamp<int64_t>(integer("layers"), -1, 1 << 20));
  c.classes = integer("classes");
  c.dual = get("dual") == "1";
  auto rev = meta.find("lra.model.reversible");  // absent in checkpoints older than the option
  c.reversible = rev != meta.end() && rev->second == "1";
  auto mzt = meta.find("lra.model.mask_zero_tokens");  // absent before the option
  c.mask_zero_tokens = mzt != meta.end() && mzt->second == "1";
  c.dropout = float(number("dropout"));
  c.attn_dropout = float(number("attn_dropout"));
  const std::string& seed = get("seed");
  LRA_CHECK(!seed.empty() && seed.find_first_not_of("0123456789") == std::string::npos,
            CheckpointError, "checkpoint '", path, "': lra.model.seed is '", seed,
            "'; expected an unsigned integer");
  c.seed = std::stoull(seed);
  return c;
}

// The checkpoint's model reads `task`'s tokens: same task name when recorded, else (an older
// checkpoint) the same vocabulary and classes. A recorded task must be one this build knows,
// with that vocabulary and class count.
void check_task(const ModelConfig& c, const std::string& path, const std::string& task) {
  if (!c.task.empty()) {
    const TaskInfo* known = nullptr;
    for (const TaskInfo& t : tasks())
      if (t.name == c.task) known = &t;
    LRA_CHECK(known, CheckpointError, "checkpoint '", path, "' records task '", c.task,
              "', which this build does not know (lra_cpu tasks lists them)");
    LRA_CHECK(known->vocab == c.vocab && known->classes == c.classes, CheckpointError,
              "checkpoint '", path, "' records task '", c.task, "' but a vocabulary of ", c.vocab,
              " and ", c.classes, " classes (the task has ", known->vocab, " and ", known->classes,
              "); the file was edited or is damaged");
  } else {
    std::fprintf(stderr,
                 "note: checkpoint '%s' records no task (saved before checkpoints did); its "
                 "tokens are checked by vocabulary (%lld) and classes (%lld) only\n",
                 path.c_str(), (long long)c.vocab, (long long)c.classes);
  }
  if (task.empty()) return;
  const TaskInfo& want = find_task(task);  // ConfigError for an unknown task: the caller's
  if (!c.task.empty())
    LRA_CHECK(c.task == want.name, CheckpointError, "checkpoint '", path, "' is a model for task '",
              c.task, "', not '", want.name, "': it reads ", c.task, " tokens (api::tokenize(\"",
              c.task, "\", ...)) and answers ", c.task, " classes; load a ", want.name,
              " checkpoint instead");
  else
    LRA_CHECK(c.vocab == want.vocab && c.classes == want.classes, CheckpointError, "checkpoint '",
              path, "' reads ", c.vocab, " token ids into ", c.classes, " classes, not task '",
              want.name, "' (", want.vocab, " ids, ", want.classes, " classes); load a ", want.name,
              " checkpoint instead");
}

void check_sequences(const std::vector<Sequence>& seqs, int64_t vocab, const char* what) {
  for (size_t i = 0; i < seqs.size(); ++i) {
    LRA_CHECK(!seqs[i].empty(), DataError, "predict: ", what, " ", i,
              " is empty; expected at least one token id");
    for (size_t j = 0; j < seqs[i].size(); ++j) {
      const int32_t id = seqs[i][j];
      LRA_CHECK(id >= 0 && id < vocab, DataError, "predict: ", what, " ", i, " position ", j,
                " has token id ", id, "; expected 0 <= id < ", vocab, " (the task's vocabulary)");
    }
  }
}

}  // namespace

void copy_to(const Tensor& t, std::span<float> out) {
  LRA_CHECK(t.defined(), ShapeError, "copy_to: the tensor is undefined");
  LRA_CHECK(int64_t(out.size()) == t.numel(), ShapeError, "copy_to: tensor ", t.describe(), " has ",
            t.numel(), " elements but the destination holds ", out.size());
  const std::vector<float> v = t.to_floats();
  std::copy(v.begin(), v.end(), out.begin());
}

void copy_to(const Tensor& t, std::span<int32_t> out) {
  LRA_CHECK(t.defined(), ShapeError, "copy_to: the tensor is undefined");
  LRA_CHECK(t.dtype() == DType::I32, ShapeError, "copy_to: tensor ", t.describe(),
            " is not i32; copy it into a float destination");
  LRA_CHECK(int64_t(out.size()) == t.numel(), ShapeError, "copy_to: tensor ", t.describe(), " has ",
            t.numel(), " elements but the destination holds ", out.size());
  const std::vector<int32_t> v = t.to_ints();
  std::copy(v.begin(), v.end(), out.begin());
}

Settings resolve_settings(const ModelSpec& spec) {
  Settings s;
  s.set("task", spec.task, "ModelSpec.task");
  s.set("preset", spec.preset, "ModelSpec.preset");
  const TaskInfo& task = find_task(spec.task);
  const Preset& preset = task.preset(spec.preset);
  for (const auto& [k, v] : preset.settings) s.set(k, v, "preset " + task.name + "/" + preset.name);
  s.set("model", spec.mechanism, "ModelSpec.mechanism");
  if (!spec.mechanism_params.empty())
    s.set("attn", spec.mechanism_params, "ModelSpec.mechanism_params");
  s.set("seed", std::to_string(spec.seed), "ModelSpec.seed");
  for (const auto& [k, v] : spec.settings) s.set(k, v, "ModelSpec.settings");
  return s;
}

ModelConfig model_config(const ModelSpec& spec) {
  const Settings s = resolve_settings(spec);
  ModelConfig c = lra::model_config(s, find_task(spec.task));
  attn::find_mechanism(c.mechanism);  // ConfigError listing the known ones, before any work
  return c;
}

std::unique_ptr<LraModel> make_model(const ModelSpec& spec) {
  return std::make_unique<LraModel>(model_config(spec));
}

void save_checkpoint(const LraModel& model, const std::string& path) {
  nn::save_safetensors(path, nn::module_state(model), model_metadata(model.config()));
}

void load_checkpoint(LraModel& model, const std::string& path) {
  std::map<std::string, std::string> meta;
  nn::NamedTensors state = nn::load_safetensors(path, &meta);
  // Architecture the shapes cannot tell apart (e.g. two mechanisms with the same projections).
  std::string problems;
  const std::map<std::string, std::string> mine = model_metadata(model.config());
  for (const char* key : kIdentityKeys) {
    auto it = meta.find(key);
    const bool unrecorded = std::string_view(key) == "lra.model.task" &&
                            (it == meta.end() || it->second.empty() || mine.at(key).empty());
    if (it != meta.end() && !unrecorded && it->second != mine.at(key))
      problems += std::string("\n  ") + (key + 10) + ": checkpoint '" + it->second + "', model '" +
                  mine.at(key) + "'";
  }
  LRA_CHECK(problems.empty(), CheckpointError, "checkpoint '", path,
            "' was saved from another model (nothing loaded):", problems,
            "\n  (lra::api::load_model(path) rebuilds the model the checkpoint describes)");
  nn::load_module_state(model, state, path);
}

std::unique_ptr<LraModel> load_model(const std::string& path, const std::string& task) {
  if (std::filesystem::is_directory(path)) {  // a run folder: its settings, best weights
    const RunInfo run = read_run(path);
    const TaskInfo& run_task = find_task(run.settings.get("task"));
    auto model = std::make_unique<LraModel>(lra::model_config(run.settings, run_task));
    if (!task.empty()) check_task(model->config(), path, task);
    load_weights(*model, path + "/" + run_files::best, run_task.name);
    return model;
  }
  std::map<std::string, std::string> meta;
  nn::NamedTensors state = nn::load_safetensors(path, &meta);
  ModelConfig cfg;
  try {
    cfg = config_from_metadata(meta, path);
    cfg.validate();
    attn::find_mechanism(cfg.mechanism);
  } catch (const CheckpointError&) {
    throw;
  } catch (const Error& e) {  // a ConfigError from a field: the file is at fault, not the caller
    throw CheckpointError("checkpoint '" + path +
                          "' describes a model this build cannot make: " + e.what());
  }
  check_task(cfg, path, task);
  auto model = std::make_unique<LraModel>(cfg);
  nn::load_module_state(*model, state, path);
  return model;
}

Sequence tokenize(const std::string& task, std::string_view text) {
  const TaskInfo& t = find_task(task);
  if (t.name == "listops") return data::tokenize_listops(std::string(text));
  if (t.vocab == data::kByteVocab) return data::byte_tokens(text, 0);
  LRA_CHECK(t.vocab == data::kPixelVocab, ConfigError, "tokenize: task '", t.name,
            "' has no tokenizer here");
  LRA_CHECK(int64_t(text.size()) == t.seq_len, DataError, "tokenize: a ", t.name, " image is ",
            t.seq_len, " gray pixels, one byte each, row by row; got ", text.size(), " bytes");
  Sequence s(text.size());
  for (size_t i = 0; i < text.size(); ++i) s[i] = int32_t(static_cast<unsigned char>(text[i]));
  return s;
}

const std::vector<std::string>& class_names(const std::string& task) {
  return find_task(task).class_names;
}

Prediction predict(LraModel& model, const std::vector<Sequence>& sequences,
                   const std::vector<Sequence>& second, int64_t batch_size) {
  const ModelConfig& cfg = model.config();
  LRA_CHECK(batch_size > 0, ConfigError, "predict: batch_size ", batch_size,
            "; expected a positive number");
  LRA_CHECK(!sequences.empty(), DataError, "predict: no sequences given");
  if (cfg.dual)
    LRA_CHECK(second.size() == sequences.size(), ConfigError,
              "predict: this is a dual-tower model (", "two documents per example); pass ",
              sequences.size(), " second documents, got ", second.size());
  else
    LRA_CHECK(second.empty(), ConfigError,
              "predict: second documents given, but this model reads one sequence per example");
  check_sequences(sequences, cfg.vocab, "sequence");
  check_sequences(second, cfg.vocab, "second document");

  const int64_t n = int64_t(sequences.size());
  Prediction p;
  p.logits = Tensor::empty({n, cfg.classes});
  p.labels.resize(size_t(n));
  NoGradGuard no_grad;
  const nn::ForwardContext ctx;  // evaluation: no dropout
  std::vector<data::Example> chunk;
  std::vector<int64_t> idx;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    chunk.clear();
    idx.clear();
    for (int64_t i = start; i < end; ++i) {
      data::Example ex;
      ex.tokens = sequences[size_t(i)];
      if (cfg.dual) ex.tokens2 = second[size_t(i)];
      chunk.push_back(std::move(ex));
      idx.push_back(i - start);
    }
    const data::Batch b = data::make_batch(chunk, idx, cfg.max_len, false);
    const Tensor logits = model.forward(b, ctx).data().contiguous();
    p.logits.slice(0, start, end).copy_(logits);
    const float* row = logits.data<float>();
    for (int64_t i = start; i < end; ++i, row += cfg.classes)
      p.labels[size_t(i)] = int32_t(std::max_element(row, row + cfg.classes) - row);
  }
  if (!cfg.task.empty()) {
    const std::vector<std::string>& names = class_names(cfg.task);
    for (int32_t label : p.labels)
      p.names.push_back(size_t(label) < names.size() ? names[size_t(label)]
                                                     : std::to_string(label));
  }
  return p;
}

}  // namespace lra::api
