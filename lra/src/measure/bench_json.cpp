// The JSON form of bench configurations, results and whole sweeps (bench.json), and back.
#include "lra/core/error.hpp"
#include "measure/bench_util.hpp"

namespace lra::bench {
namespace {

Json twin_j(const TwinResult& t) {
  if (t.status.empty()) return nullptr;
  return {{"status", t.status},
          {"message", t.message},
          {"median_ms", t.median_ms},
          {"min_ms", t.min_ms},
          {"max_ms", t.max_ms},
          {"cpu_ms", t.cpu_ms},
          {"step_ms", t.step_ms},
          {"timed_steps", t.timed_steps},
          {"peak_rss_mb", double(t.rss_peak_bytes) / 1048576.0},
          {"wall_s", t.wall_s}};
}

Json baseline_j(const BaselineResult& b) {
  if (b.status.empty()) return nullptr;
  return {{"status", b.status},       {"message", b.message}, {"exe", b.exe},
          {"median_ms", b.median_ms}, {"step_ms", b.step_ms}, {"peak_rss_bytes", b.rss_peak_bytes},
          {"runs", b.runs},           {"cpu_ms", b.cpu_ms},   {"threads", b.threads}};
}

BaselineResult baseline_from(const Json& j) {
  BaselineResult b;
  b.status = j.value("status", std::string("error"));
  b.message = j.value("message", std::string());
  b.exe = j.value("exe", std::string());
  b.median_ms = j.value("median_ms", 0.0);
  b.cpu_ms = j.value("cpu_ms", 0.0);
  if (j.contains("step_ms")) b.step_ms = j.at("step_ms").get<std::vector<double>>();
  b.rss_peak_bytes = j.value("peak_rss_bytes", size_t(0));
  b.runs = j.value("runs", 0);
  b.threads = j.value("threads", 0);
  return b;
}

}  // namespace

Json config_j(const Config& c) {
  return {{"model", c.model},         {"params", c.params},   {"preset", c.preset},
          {"seq_len", c.seq_len},     {"batch", c.batch},     {"dim", c.dim},
          {"heads", c.heads},         {"mlp_dim", c.mlp_dim}, {"vocab", c.vocab},
          {"classes", c.classes},     {"layers", c.layers},   {"inference", c.inference},
          {"warmup", c.warmup},       {"steps", c.steps},     {"min_steps", c.min_steps},
          {"budget_s", c.budget_s},   {"threads", c.threads}, {"max_mem_bytes", c.max_mem_bytes},
          {"timeout_s", c.timeout_s}, {"seed", c.seed},       {"sgemm_n", c.sgemm_n}};
}

Config config_from(const Json& j) {
  Config c;
  c.model = j.value("model", c.model);
  if (j.contains("params")) c.params = j.at("params").get<std::map<std::string, std::string>>();
  c.preset = j.value("preset", c.preset);
  c.seq_len = j.value("seq_len", c.seq_len);
  c.batch = j.value("batch", c.batch);
  c.dim = j.value("dim", c.dim);
  c.heads = j.value("heads", c.heads);
  c.mlp_dim = j.value("mlp_dim", c.mlp_dim);
  c.vocab = j.value("vocab", c.vocab);
  c.classes = j.value("classes", c.classes);
  c.layers = j.value("layers", c.layers);
  c.inference = j.value("inference", c.inference);
  c.warmup = j.value("warmup", c.warmup);
  c.steps = j.value("steps", c.steps);
  c.min_steps = j.value("min_steps", c.min_steps);
  c.budget_s = j.value("budget_s", c.budget_s);
  c.threads = j.value("threads", c.threads);
  c.max_mem_bytes = j.value("max_mem_bytes", c.max_mem_bytes);
  c.timeout_s = j.value("timeout_s", c.timeout_s);
  c.seed = j.value("seed", c.seed);
  c.sgemm_n = j.value("sgemm_n", c.sgemm_n);
  return c;
}

Json result_j(const Result& r) {
  return {{"config", config_j(r.config)},
          {"status", r.status},
          {"message", r.message},
          {"parameters", r.parameters},
          {"warmup_steps", r.warmup_steps},
          {"timed_steps", r.timed_steps},
          {"first_step_ms", r.first_step_ms},
          {"median_ms", r.median_ms},
          {"min_ms", r.min_ms},
          {"max_ms", r.max_ms},
          {"steps_per_s", r.steps_per_s},
          {"forward_ms", r.forward_ms},
          {"backward_ms", r.backward_ms},
          {"optimizer_ms", r.optimizer_ms},
          {"cpu_ms", r.cpu_ms},
          {"page_faults", r.page_faults},
          {"step_ms", r.step_ms},
          {"alloc_peak_bytes", r.alloc_peak_bytes},
          {"alloc_held_bytes", r.alloc_held_bytes},
          {"rss_peak_bytes", r.rss_peak_bytes},
          {"rss_base_bytes", r.rss_base_bytes},
          {"wall_s", r.wall_s},
          {"flops_per_step", r.flops_per_step},
          {"gflops", r.gflops},
          {"sgemm_gflops", r.sgemm_gflops},
          {"runs", r.runs},
          {"twin", twin_j(r.twin)},
          {"baseline", baseline_j(r.baseline)}};
}

Result result_from(const Json& j) {
  Result r;
  if (j.contains("config")) r.config = config_from(j.at("config"));
  r.status = j.value("status", std::string("error"));
  r.message = j.value("message", std::string());
  r.parameters = j.value("parameters", int64_t(0));
  r.warmup_steps = j.value("warmup_steps", 0);
  r.timed_steps = j.value("timed_steps", 0);
  r.first_step_ms = j.value("first_step_ms", 0.0);
  r.median_ms = j.value("median_ms", 0.0);
  r.min_ms = j.value("min_ms", 0.0);
  r.max_ms = j.value("max_ms", 0.0);
  r.steps_per_s = j.value("steps_per_s", 0.0);
  r.forward_ms = j.value("forward_ms", 0.0);
  r.backward_ms = j.value("backward_ms", 0.0);
  r.optimizer_ms = j.value("optimizer_ms", 0.0);
  r.cpu_ms = j.value("cpu_ms", 0.0);
  r.page_faults = j.value("page_faults", 0.0);
  if (j.contains("step_ms")) r.step_ms = j.at("step_ms").get<std::vector<double>>();
  r.alloc_peak_bytes = j.value("alloc_peak_bytes", size_t(0));
  r.alloc_held_bytes = j.value("alloc_held_bytes", size_t(0));
  r.rss_peak_bytes = j.value("rss_peak_bytes", size_t(0));
  r.rss_base_bytes = j.value("rss_base_bytes", size_t(0));
  r.wall_s = j.value("wall_s", 0.0);
  r.flops_per_step = j.value("flops_per_step", 0.0);
  r.gflops = j.value("gflops", 0.0);
  r.sgemm_gflops = j.value("sgemm_gflops", 0.0);
  r.runs = j.value("runs", 1);
  if (j.contains("twin") && j.at("twin").is_object()) r.twin = twin_from_json(j.at("twin").dump());
  if (j.contains("baseline") && j.at("baseline").is_object())
    r.baseline = baseline_from(j.at("baseline"));
  return r;
}

std::string config_to_json(const Config& c) {
  return config_j(c).dump();
}

Config config_from_json(const std::string& text) {
  try {
    return config_from(Json::parse(text));
  } catch (const Json::exception& e) {
    throw ConfigError(std::string("bench: malformed configuration JSON: ") + e.what());
  }
}

std::string result_to_json(const Result& r) {
  return result_j(r).dump();
}

Result result_from_json(const std::string& text) {
  try {
    return result_from(Json::parse(text));
  } catch (const Json::exception& e) {
    throw Error(std::string("bench: malformed result JSON: ") + e.what());
  }
}

std::string json(const Sweep& s) {
  nlohmann::json j;
  j["command"] = s.command;
  j["machine"] = s.machine.empty() ? nlohmann::json::object() : nlohmann::json::parse(s.machine);
  j["base"] = config_j(s.options.base);
  j["models"] = s.options.models;
  j["lengths"] = s.options.lengths;
  j["params"] = s.options.params;
  j["wall_s"] = s.wall_s;
  j["repeats"] = s.options.repeats;
  if (!s.options.baseline_exe.empty()) j["baseline"] = s.options.baseline_exe;
  if (s.options.baseline_threads > 0) j["baseline_threads"] = s.options.baseline_threads;
  if (!s.options.twin_python.empty())
    j["twin"] = {{"python", s.options.twin_python},
                 {"script", s.options.twin_script},
                 {"environment", twin_environment()}};
  nlohmann::json rs = nlohmann::json::array();
  for (const Result& r : s.results) {
    nlohmann::json x = result_j(r);
    x["speedup_vs_transformer"] = speedup(s, r.config.model, r.config.seq_len);
    x["memory_vs_transformer"] = memory_ratio(s, r.config.model, r.config.seq_len);
    if (r.twin.ok()) {
      x["speedup_vs_twin"] = twin_speedup(r);
      x["cpu_speedup_vs_twin"] = twin_cpu_speedup(r);
      x["rss_vs_twin"] = twin_rss_ratio(r);
    }
    if (r.baseline.ok()) {
      x["speedup_vs_baseline"] = baseline_speedup(r);
      x["rss_vs_baseline"] = baseline_rss_ratio(r);
      x["cpu_speedup_vs_baseline"] = baseline_cpu_speedup(r);
    }
    rs.push_back(x);
  }
  j["results"] = rs;
  nlohmann::json cross = nlohmann::json::object();
  for (const std::string& m : sweep_models(s))
    if (m != "transformer") cross[m] = crossover_length(s, m);
  j["crossover_length"] = cross;
  return j.dump(2) + "\n";
}

Sweep sweep_from_json(const std::string& text) {
  Sweep s;
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    s.command = j.value("command", std::string());
    if (j.contains("machine")) s.machine = j.at("machine").dump();
    if (j.contains("base")) s.options.base = config_from(j.at("base"));
    if (j.contains("models")) s.options.models = j.at("models").get<std::vector<std::string>>();
    if (j.contains("lengths")) s.options.lengths = j.at("lengths").get<std::vector<int64_t>>();
    s.wall_s = j.value("wall_s", 0.0);
    s.options.repeats = j.value("repeats", 1);
    s.options.baseline_exe = j.value("baseline", std::string());
    for (const auto& r : j.at("results")) s.results.push_back(result_from(r));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("bench JSON: ") + e.what());
  }
  return s;
}

}  // namespace lra::bench
