// Run folder files: checked checkpoints, reading config/results/metrics.
#include "lra/lra/train/run.hpp"

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
#include "lra/lra/train/checkpoint_record.hpp"

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

}  // namespace lra
