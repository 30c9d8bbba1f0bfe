// What a training run writes for people to read: config.json at the start, the divergence
// report when the loss or a gradient is NaN/Inf, results.json at the end (train_session.hpp).
#include <oneapi/tbb/version.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>

#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/train/engine_info.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/nn/checkpoint.hpp"
#include "train/train_session.hpp"

namespace lra::train_detail {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string iso_time() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void Session::write_config() {
  api::EngineInfo ei = api::engine_info();
  json cfg = {
      {"created", iso_time()},
      {"task", task.name},
      {"model", mc.mechanism},
      {"preset", s.get("preset")},
      {"seed", seed},
      {"threads", num_threads()},
      {"ranks", comm->size()},
      {"data_dir", opt.data_dir.empty() ? s.get("data") : opt.data_dir},
      {"data",
       {{"train", data.train.examples.size()},
        {"val", data.val.examples.size()},
        {"test", data.test.examples.size()},
        {"train_fingerprint", fingerprint},
        {"notes", data.notes}}},
      {"parameters", model->num_parameters()},
      {"versions",
       {{"lra", ei.version},
        {"build_type", ei.build_type},
        {"compiler", ei.compiler},
        {"cxx_flags", ei.cxx_flags},
        {"blas", ei.blas_vendor + " " + ei.blas_version + " (" + ei.blas_core + ")"},
        {"tbb", std::to_string(TBB_VERSION_MAJOR) + "." + std::to_string(TBB_VERSION_MINOR)},
        {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                              std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                              std::to_string(NLOHMANN_JSON_VERSION_PATCH)},
        {"cpu", ei.cpu},
        {"simd", ei.simd_compiled}}},
      {"info", opt.info},
      {"resumes", json::array()}};
  json sj = json::object();
  for (const auto& [k, e] : s.entries()) sj[k] = {{"value", e.value}, {"source", e.source}};
  cfg["settings"] = sj;
  write_file_atomic(path(run_files::config), cfg.dump(2) + "\n");
}

void Session::diverge(int64_t at, const std::string& reason, bool have_grads) {
  std::string param, how;
  for (const auto& [name, p] : named) {
    Tensor v = p.data().contiguous();
    const float* d = v.data<float>();
    int64_t bad = 0;
    for (int64_t i = 0; i < v.numel(); ++i) bad += !std::isfinite(d[i]);
    if (bad) {
      param = name;
      how = "value has " + std::to_string(bad) + " non-finite of " + std::to_string(v.numel());
      break;
    }
  }
  if (param.empty() && have_grads) {
    for (const auto& [name, p] : named) {
      if (!p.grad().defined()) continue;
      Tensor g = p.grad().contiguous();
      const float* d = g.data<float>();
      int64_t bad = 0;
      for (int64_t i = 0; i < g.numel(); ++i) bad += !std::isfinite(d[i]);
      if (bad) {
        param = name;
        how = "gradient has " + std::to_string(bad) + " non-finite of " + std::to_string(g.numel());
        break;
      }
    }
  }
  if (param.empty()) {
    param = "(none: parameters and gradients are finite; the loss itself overflowed)";
    how = "";
  }
  std::string saved;
  if (files) {
    nn::NamedTensors ev;
    for (const auto& [name, p] : named) ev.emplace_back("param." + name, p.data().clone());
    if (have_grads)
      for (const auto& [name, p] : named)
        if (p.grad().defined()) ev.emplace_back("grad." + name, p.grad().clone());
    json batch_ids = idx;
    auto meta = weights_meta(at, "diverged");
    meta["reason"] = reason;
    meta["batch_indices"] = batch_ids.dump();
    meta["epoch"] = std::to_string(st.epoch);
    saved = dir + "/diverged-step" + std::to_string(at) + ".safetensors";
    save_checked(saved, ev, meta);
    metrics.append({{"step", at},
                    {"split", "train"},
                    {"event", "diverged"},
                    {"reason", reason},
                    {"parameter", param}});
    json r = {{"status", "diverged"},
              {"task", task.name},
              {"model", mc.mechanism},
              {"step", at},
              {"reason", reason},
              {"parameter", param},
              {"detail", how},
              {"evidence", saved},
              {"last_checkpoint_step", step0 == at ? step0 : -1},
              {"seed", seed}};
    // the last good checkpoint is the one in last.state.safetensors (untouched)
    std::map<std::string, std::string> m;
    try {
      nn::load_safetensors(path(run_files::last), &m);
      r["last_checkpoint_step"] = std::stoll(m.at("step"));
    } catch (const std::exception&) {
    }
    write_file_atomic(path(run_files::results), r.dump(2) + "\n");
    if (hooks.on_metrics) hooks.on_metrics(dir);
  }
  std::string msg = "training diverged at step " + std::to_string(at) + ": " + reason +
                    "; first parameter affected: " + param + (how.empty() ? "" : " (" + how + ")");
  if (!saved.empty())
    msg += "; parameters, gradients and batch saved to " + saved +
           "; the last good checkpoint is untouched (" + path(run_files::last) + ")";
  msg += ". Lower --lr or set --clip.";
  DivergedError e(msg);
  e.step = at;
  e.parameter = param;
  e.saved = saved;
  throw e;
}

void Session::write_results(const EvalResult& test) {
  json j = {{"status", "complete"},
            {"task", task.name},
            {"model", mc.mechanism},
            {"preset", s.get("preset")},
            {"test_accuracy", res.test_accuracy},
            {"test_majority_rate", data::majority_rate(data.test)},
            {"test_loss", res.test_loss},
            {"test_examples", test.examples},
            {"checkpoint", "best"},
            {"best_val_accuracy", res.best_val_accuracy},
            {"best_val_loss", st.best_loss},
            {"best_step", res.best_step},
            {"steps", res.steps},
            {"final_train_loss", double(res.final_train_loss)},
            {"wall_seconds", res.wall_seconds},
            {"steps_per_second", res.steps_per_second},
            {"parameters", res.parameters},
            {"peak_bytes", res.peak_bytes},
            {"peak_rss_bytes", peak_rss_bytes()},
            {"threads", num_threads()},
            {"seed", seed},
            {"data_notes", data.notes}};
  json cfg = json::object();
  for (const auto& [k, e] : s.entries()) cfg[k] = {{"value", e.value}, {"source", e.source}};
  j["settings"] = cfg;
  write_file_atomic(path(run_files::results), j.dump(2) + "\n");
  if (hooks.on_metrics) hooks.on_metrics(dir);
}

}  // namespace lra::train_detail
