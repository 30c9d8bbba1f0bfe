// Run folder files: checked checkpoints, reading config/results/metrics, plots, eval.
#include "lra/lra/run.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/checkpoint_record.hpp"
#include "lra/lra/svg.hpp"
#include "lra/lra/task.hpp"
#include "lra/lra/trainer.hpp"

namespace lra {
namespace {

using json = nlohmann::json;
constexpr const char* kFormat = "lra_cpu checkpoint v1";

json parse_json_file(const std::string& path, const char* what) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const IoError& e) {
    throw ConfigError(std::string(what) + ": " + e.what());
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw ConfigError(path + " is not valid JSON (" + e.what() + ")");
  }
}

// A JSON scalar as the text a flag would carry.
bool scalar_text(const json& v, std::string& out) {
  if (v.is_string())
    out = v.get<std::string>();
  else if (v.is_boolean())
    out = v.get<bool>() ? "true" : "false";
  else if (v.is_number_integer())
    out = std::to_string(v.get<int64_t>());
  else if (v.is_number())
    out = json(v.get<double>()).dump();
  else
    return false;
  return true;
}

}  // namespace

std::string tensor_checksum(const Tensor& t) {
  Tensor c = t.contiguous();
  const unsigned char* p = c.dtype() == DType::F32
                               ? reinterpret_cast<const unsigned char*>(c.data<float>())
                               : reinterpret_cast<const unsigned char*>(c.data<int32_t>());
  return bytes_checksum(std::string_view(reinterpret_cast<const char*>(p), size_t(c.numel()) * 4));
}

void save_checked(const std::string& path, const nn::NamedTensors& tensors,
                  std::map<std::string, std::string> metadata) {
  json sums = json::object();
  for (const auto& [name, t] : tensors) sums[name] = tensor_checksum(t);
  metadata["lra.format"] = kFormat;
  metadata["lra.checksums"] = sums.dump();
  add_metadata_checksums(metadata);
  nn::save_safetensors(path, tensors, metadata);
}

nn::NamedTensors load_checked(const std::string& path, std::map<std::string, std::string>* meta) {
  LRA_CHECK(std::filesystem::exists(path), CheckpointError, "checkpoint ", path, " does not exist");
  std::map<std::string, std::string> m;
  nn::NamedTensors tensors = nn::load_safetensors(path, &m);  // validates the layout
  LRA_CHECK(m.count("lra.format") && m.at("lra.format") == kFormat, CheckpointError, "checkpoint ",
            path, " is not an lra_cpu checkpoint (metadata lra.format is '",
            m.count("lra.format") ? m.at("lra.format") : std::string("missing"), "', expected '",
            kFormat, "')");
  json sums;
  try {
    sums = json::parse(m.count("lra.checksums") ? m.at("lra.checksums") : std::string("{}"));
  } catch (const json::exception&) {
    throw CheckpointError("checkpoint " + path + ": metadata lra.checksums is not valid JSON");
  }
  for (const auto& [name, t] : tensors) {
    LRA_CHECK(sums.contains(name) && sums[name].is_string(), CheckpointError, "checkpoint ", path,
              ": tensor ", name, " has no checksum in the metadata (file altered)");
    const std::string found = tensor_checksum(t), expected = sums[name].get<std::string>();
    LRA_CHECK(found == expected, CheckpointError, "checkpoint ", path, ": tensor ", name,
              " is corrupt (checksum ", found, ", expected ", expected,
              "); use another checkpoint or retrain");
  }
  LRA_CHECK(sums.size() == tensors.size(), CheckpointError, "checkpoint ", path, ": ", sums.size(),
            " checksums for ", tensors.size(), " tensors (file altered)");
  check_metadata(path, m);
  if (meta) *meta = std::move(m);
  return tensors;
}

std::map<std::string, std::string> load_weights(LraModel& model, const std::string& path,
                                                const std::string& task) {
  std::map<std::string, std::string> meta;
  nn::NamedTensors tensors = load_checked(path, &meta);
  const std::string& mech = model.config().mechanism;
  const std::string ftask = meta.count("task") ? meta.at("task") : "?";
  const std::string fmodel = meta.count("model") ? meta.at("model") : "?";
  LRA_CHECK(ftask == task && fmodel == mech, CheckpointError, "checkpoint ", path, " holds model '",
            fmodel, "' for task '", ftask, "', expected model '", mech, "' for task '", task, "'");
  nn::load_module_state(model, tensors, path);
  return meta;
}

RunInfo read_run(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string cpath = dir + "/" + run_files::config;
  LRA_CHECK(fs::exists(cpath), ConfigError, dir,
            " is not a run folder (no config.json); pass the --out folder of `lra_cpu train`");
  json j = parse_json_file(cpath, "run folder");
  LRA_CHECK(j.contains("settings") && j["settings"].is_object(), ConfigError, cpath,
            " has no \"settings\" object");
  RunInfo r;
  r.dir = dir;
  for (const auto& [k, v0] : j["settings"].items()) {
    const json v = v0.is_object() && v0.contains("value") ? v0["value"] : v0;
    std::string text;
    LRA_CHECK(scalar_text(v, text), ConfigError, cpath, ": setting ", k, " is not a scalar");
    const std::string source = v0.is_object() && v0.contains("source") && v0["source"].is_string()
                                   ? v0["source"].get<std::string>()
                                   : cpath;
    // A key this version does not know, or a value out of range, is an error naming the file.
    try {
      r.settings.set(k, text, source);
    } catch (const ConfigError& e) {
      throw ConfigError(
          detail::concat(cpath, ": key settings.", cut_for_message(k), ": ", e.what()));
    }
  }
  if (j.contains("data_dir") && j["data_dir"].is_string()) r.data_dir = j["data_dir"];
  if (r.data_dir.empty()) r.data_dir = r.settings.get("data");
  const std::string rpath = dir + "/" + run_files::results;
  if (fs::exists(rpath)) {
    json res = parse_json_file(rpath, "run folder");
    r.has_results = true;
    r.status = res.value("status", std::string("complete"));
    r.test_accuracy = res.value("test_accuracy", 0.0);
    r.best_val_accuracy = res.value("best_val_accuracy", 0.0);
    r.best_step = res.value("best_step", int64_t(0));
    r.steps = res.value("steps", int64_t(0));
    r.wall_seconds = res.value("wall_seconds", 0.0);
  }
  return r;
}

std::vector<std::string> read_metrics_lines(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in(dir + "/" + run_files::metrics);
  std::string line;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    if (line.empty() || !json::accept(line)) continue;  // a line torn by a kill is skipped
    const json r = json::parse(line);
    if (r.is_object() && r.contains("step") && r["step"].is_number_integer() &&
        r.contains("split") && r["split"].is_string())
      out.push_back(line);
    else  // valid JSON, but not a record this program wrote: say so, and go on without it
      std::fprintf(stderr,
                   "lra_cpu: warning: %s/%s line %lld is not a record (a JSON object with an "
                   "integer step and a split); skipped\n",
                   dir.c_str(), run_files::metrics, (long long)no);
  }
  return out;
}

void write_run_plots(const std::string& dir) {
  svg::Series train_loss, val_loss, train_acc, val_acc;
  train_loss.label = train_acc.label = "train";
  val_loss.label = val_acc.label = "val";
  val_loss.markers = val_acc.markers = true;
  for (const std::string& line : read_metrics_lines(dir)) {
    json r = json::parse(line);
    if (!r.contains("step") || !r["loss"].is_number() || !r["accuracy"].is_number()) continue;
    const double step = r["step"].get<double>();
    const std::string split = r.value("split", std::string());
    if (split == "train") {
      train_loss.x.push_back(step), train_loss.y.push_back(r["loss"].get<double>());
      train_acc.x.push_back(step), train_acc.y.push_back(r["accuracy"].get<double>());
    } else if (split == "val") {
      val_loss.x.push_back(step), val_loss.y.push_back(r["loss"].get<double>());
      val_acc.x.push_back(step), val_acc.y.push_back(r["accuracy"].get<double>());
    }
  }
  std::string name = dir;
  try {
    RunInfo info = read_run(dir);
    name = info.settings.get("model") + " on " + info.settings.get("task");
  } catch (const Error&) {
  }
  svg::Plot loss{name + ": loss", "step", "cross-entropy", {train_loss, val_loss}};
  svg::Plot acc{name + ": accuracy", "step", "accuracy", {train_acc, val_acc}};
  write_file_atomic(dir + "/loss.svg", svg::render(loss));
  write_file_atomic(dir + "/accuracy.svg", svg::render(acc));
}

RunEval evaluate_run(const std::string& dir, const RunEvalOptions& opt) {
  LRA_CHECK(opt.split == "test" || opt.split == "val", ConfigError, "--split ", opt.split,
            ": use test or val");
  LRA_CHECK(opt.checkpoint == "best" || opt.checkpoint == "last", ConfigError, "--checkpoint ",
            opt.checkpoint, ": use best or last");
  RunInfo run = read_run(dir);
  const Settings& s = run.settings;
  const TaskInfo& task = find_task(s.get("task"));
  set_num_threads(opt.threads >= 0 ? opt.threads : int(s.get_int("threads")));
  ModelConfig mc = model_config(s, task);
  LraModel model(mc);
  RunEval r;
  r.checkpoint_path = dir + "/" + (opt.checkpoint == "best" ? run_files::best : run_files::last);
  auto meta = load_weights(model, r.checkpoint_path, task.name);
  r.checkpoint_step = meta.count("step") ? std::stoll(meta.at("step")) : 0;

  const std::string data_dir = opt.data_dir.empty() ? run.data_dir : opt.data_dir;
  LRA_CHECK(!data_dir.empty(), ConfigError, dir,
            "/config.json records no data folder; pass --data DIR");
  TaskData data = task.load(data_dir, mc.max_len);
  const data::Split& split = opt.split == "test" ? data.test : data.val;
  // Training evaluated val on its first eval_batches batches and test on the whole split.
  const int64_t max_batches = opt.split == "val" ? s.get_int("eval_batches") : 0;
  if (max_batches > 0)
    r.note = "val is evaluated on its first " + std::to_string(max_batches) + " batches of " +
             s.get("batch") + ", as training did (eval_batches)";
  EvalResult ev = evaluate(model, split, s.get_int("batch"), mc.max_len, max_batches, opt.progress);
  r.accuracy = ev.accuracy;
  r.majority = data::majority_rate(split);
  r.loss = ev.loss;
  r.examples = ev.examples;

  // What training recorded for this checkpoint and split.
  if (opt.checkpoint == "best" && opt.split == "test" && run.has_results &&
      run.status == "complete") {
    r.has_recorded = true;
    r.recorded = run.test_accuracy;
    r.recorded_from = "results.json test_accuracy";
  } else {
    for (const std::string& line : read_metrics_lines(dir)) {
      json m = json::parse(line);
      if (m.value("split", std::string()) == opt.split &&
          m.value("step", int64_t(-1)) == r.checkpoint_step && m["accuracy"].is_number() &&
          !(opt.split == "test" && opt.checkpoint != "best")) {
        r.has_recorded = true;
        r.recorded = m["accuracy"].get<double>();
        r.recorded_from =
            "metrics.jsonl " + opt.split + " at step " + std::to_string(r.checkpoint_step);
      }
    }
  }
  return r;
}

}  // namespace lra
