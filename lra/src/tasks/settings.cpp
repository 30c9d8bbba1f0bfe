#include "lra/lra/tasks/settings.hpp"

#include <algorithm>
#include <cstdint>

#include "lra/core/error.hpp"
#include "lra/core/text.hpp"

namespace lra {

const std::vector<SettingSpec>& setting_schema() {
  static const std::vector<SettingSpec> schema = {
      // what to run
      {"task", "listops", "LRA task (see `lra_cpu tasks`)"},
      {"model", "transformer", "attention mechanism (see `lra_cpu models`)"},
      {"preset", "cpu", "task preset: paper, cpu or tiny"},
      {"data", "", "data folder (empty: generate a small synthetic set when the task can)"},
      {"out", "", "run folder (empty: runs/<task>-<model>-<time>)"},
      {"seed", "1", "random seed (initialisation, dropout, data order)"},
      {"threads", "0", "worker threads (0: all cores)"},
      // optimisation
      {"steps", "1000", "training steps"},
      {"batch", "32", "examples per step"},
      {"accumulate", "1",
       "micro-batches per step (batch / N examples each, gradients summed; same step)"},
      {"lr", "1e-3", "base learning rate"},
      {"schedule", "warmup_cosine", "constant, warmup_rsqrt, warmup_cosine or warmup_linear"},
      {"warmup", "100", "warm-up steps"},
      {"weight_decay", "0", "decoupled weight decay"},
      {"clip", "0", "global gradient-norm clip (0: off)"},
      {"eval_every", "200", "evaluate on validation every N steps"},
      {"eval_batches", "0", "validation batches per evaluation (0: the whole split)"},
      {"log_every", "20", "progress line every N steps"},
      {"save_every", "0", "write the `last` checkpoint every N steps (0: at every evaluation)"},
      // model
      {"layers", "2", "encoder blocks"},
      {"reversible", "false",
       "reversible residual layers (Reformer's RevNet coupling): activations recomputed in "
       "backward, memory flat in depth, one extra forward per layer"},
      {"dim", "64", "model width D"},
      {"heads", "2", "attention heads"},
      {"qkv_dim", "64", "query/key/value width (all heads)"},
      {"mlp_dim", "128", "MLP hidden width"},
      {"dropout", "0.1", "dropout rate"},
      {"attn_dropout", "0.1", "attention-weight dropout rate"},
      {"pooling", "mean", "cls or mean"},
      {"positions", "learned",
       "learned, sinusoidal, or sinusoidal2d (fixed 2D sinusoids: pixel tasks at full length)"},
      {"mask_zero_tokens", "false",
       "hide keys whose token id is 0 from attention (LRA's `inputs > 0` mask; for images the "
       "black pixels); every mechanism; the Pathfinder and Path-X cpu presets set it"},
      {"max_len", "0", "tokens per sequence (0: the task's length)"},
      {"attn", "", "mechanism parameters, e.g. block=64,features=128"},
      // generated data (when no data folder is given)
      {"gen_train", "2000", "generated training examples"},
      {"gen_val", "200", "generated validation examples"},
      {"gen_test", "200", "generated test examples"},
      {"gen_min_len", "", "generated sequence length lower bound (task default when empty)"},
      {"gen_max_len", "", "generated sequence length upper bound (task default when empty)"},
  };
  return schema;
}

std::string nearest_name(const std::string& word, const std::vector<std::string>& names) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  size_t best = SIZE_MAX;
  std::string out;
  for (const std::string& name : names) {
    const size_t d = distance(word, name);
    if (d < best) {
      best = d;
      out = name;
    } else if (d == best) {
      out += " or " + name;
    }
  }
  return out;
}

std::string nearest_settings(const std::string& key) {
  std::vector<std::string> keys;
  for (const SettingSpec& s : setting_schema()) keys.push_back(s.key);
  return nearest_name(key, keys);
}

Settings::Settings() {
  for (const SettingSpec& s : setting_schema()) entries_[s.key] = {s.default_value, "default"};
}

void Settings::set(const std::string& key, const std::string& value, const std::string& source) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    std::string valid;
    for (const SettingSpec& s : setting_schema()) valid += " " + s.key;
    throw ConfigError(source + ": unknown setting '" + cut_for_message(key) + "' (did you mean " +
                      nearest_settings(key) + "?); valid settings:" + valid);
  }
  check_setting(key, value, source);
  it->second = {value, source};
}

bool Settings::has(const std::string& key) const {
  return entries_.count(key) > 0;
}

const std::string& Settings::get(const std::string& key) const {
  auto it = entries_.find(key);
  LRA_CHECK(it != entries_.end(), ConfigError, "unknown setting '", key, "'");
  return it->second.value;
}

const std::string& Settings::source(const std::string& key) const {
  get(key);
  return entries_.at(key).source;
}

int64_t Settings::get_int(const std::string& key) const {
  return to_int(get(key), source(key) + ": setting " + key);
}

double Settings::get_float(const std::string& key) const {
  return to_number(get(key), source(key) + ": setting " + key);
}

bool Settings::get_bool(const std::string& key) const {
  const std::string& s = get(key);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw ConfigError("setting " + key + "=" + s + " (from " + source(key) +
                    ") is not a boolean (use true or false)");
}

}  // namespace lra
