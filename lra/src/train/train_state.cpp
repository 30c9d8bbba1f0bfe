// The resumable state of a training run: last.state.safetensors written and read back, the
// checks a resume makes, and metrics.jsonl appended and cut back (train_session.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "lra/core/error.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/train/checkpoint_record.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/nn/checkpoint.hpp"
#include "train/train_session.hpp"

namespace lra::train_detail {
namespace {

namespace fs = std::filesystem;

// Settings that may differ between a run and its resumption (they do not change the numbers,
// except threads and accumulate: bit-exactness is promised for the same thread count and
// pieces; other pieces give the same step up to float rounding).
bool resume_may_differ(const std::string& key) {
  return key == "threads" || key == "data" || key == "out" || key == "accumulate";
}

}  // namespace

std::string data_fingerprint(const data::Split& split) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ split.examples.size();
  auto mix = [&](uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
  };
  for (const data::Example& e : split.examples) {
    mix(uint64_t(e.tokens.size()) << 32 | uint32_t(e.label));
    for (int32_t t : e.tokens) mix(uint32_t(t));
    mix(e.tokens2.size());
    for (int32_t t : e.tokens2) mix(uint32_t(t));
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

json Interval::to_json() const {
  return {{"loss_sum", loss_sum},
          {"gnorm_sum", gnorm_sum},
          {"correct", correct},
          {"seen", seen},
          {"steps", steps}};
}
void Interval::from_json(const json& j) {
  loss_sum = j.at("loss_sum").get<double>();
  gnorm_sum = j.at("gnorm_sum").get<double>();
  correct = j.at("correct").get<int64_t>();
  seen = j.at("seen").get<int64_t>();
  steps = j.at("steps").get<int64_t>();
}

void MetricsLog::open(const std::string& path, bool truncate) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0644);
  LRA_CHECK(fd_ >= 0, IoError, "cannot open ", path, ": ", std::strerror(errno));
}
MetricsLog::~MetricsLog() {
  if (fd_ >= 0) ::close(fd_);
}
void MetricsLog::append(const json& record) {
  if (fd_ < 0) return;
  std::string line = record.dump() + "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    LRA_CHECK(n > 0, IoError, "cannot append to ", path_, ": ", std::strerror(errno));
    p += n;
    left -= size_t(n);
  }
}

void truncate_metrics(const std::string& dir, int64_t step) {
  std::string kept;
  for (const std::string& line : read_metrics_lines(dir)) {
    json r = json::parse(line);
    if (r.value("split", std::string()) == "test") continue;
    if (r.value("step", int64_t(0)) > step) continue;
    kept += line + "\n";
  }
  write_file_atomic(dir + "/" + run_files::metrics, kept);
}

std::map<std::string, std::string> Session::weights_meta(int64_t step, const char* kind) const {
  std::map<std::string, std::string> m = {{"task", task.name},
                                          {"model", mc.mechanism},
                                          {"kind", kind},
                                          {"step", std::to_string(step)},
                                          {"seed", std::to_string(seed)}};
  return m;
}

void Session::save_last(int64_t step) {
  if (!files) return;
  nn::NamedTensors weights = nn::module_state(*model);
  nn::NamedTensors full = weights;
  for (auto& [name, t] : adam->state()) full.emplace_back("adam." + name, t);
  json record = {{"step", step},
                 {"epoch", st.epoch},
                 {"cursor", st.cursor},
                 {"n_train", n_train},
                 {"data_fingerprint", fingerprint},
                 {"adam_steps", adam->steps()},
                 {"best_val_accuracy", st.best_acc},
                 {"best_val_loss", st.best_loss},
                 {"best_step", st.best_step},
                 {"interval", st.iv.to_json()},
                 {"final_train_loss", double(st.final_train_loss)},
                 {"elapsed_seconds", elapsed()},
                 {"seed", seed},
                 {"rng",
                  "counter-based: dropout key (seed, step, site); data order "
                  "epoch_order(n_train, seed, epoch)"},
                 {"settings", settings_json}};
  auto meta = weights_meta(step, "state");
  add_state_record(meta, record);
  save_checked(path(run_files::state), full, meta);  // Note [checkpoint write order]
  save_checked(path(run_files::last), weights, weights_meta(step, "last"));
}

void Session::resume() {
  const std::string sp = path(run_files::state);
  std::map<std::string, std::string> meta;
  nn::NamedTensors all = load_checked(sp, &meta);
  const json record = read_state_record(sp, meta);  // every field's type and range checked
  // Same settings (except where a difference cannot change the numbers)?
  std::string diffs;
  const json& rec = record.at("settings");
  for (const auto& [k, e] : s.entries()) {
    if (resume_may_differ(k)) continue;
    const std::string was = rec.contains(k) ? rec[k].get<std::string>() : std::string("(unset)");
    if (was != e.value) diffs += "\n  " + k + ": checkpoint " + was + ", now " + e.value;
  }
  LRA_CHECK(diffs.empty(), CheckpointError, "checkpoint ", sp,
            " was written with other settings (a resumed run keeps its settings):", diffs);
  LRA_CHECK(record.at("n_train").get<int64_t>() == n_train &&
                record.at("data_fingerprint").get<std::string>() == fingerprint,
            CheckpointError, "checkpoint ", sp, " was trained on other data (",
            record.at("n_train").get<int64_t>(), " training examples, fingerprint ",
            record.at("data_fingerprint").get<std::string>(), "; now ", n_train, ", ", fingerprint,
            "): pass the run's data folder with --data");
  nn::NamedTensors weights, moments;
  for (auto& [name, t] : all) {
    if (name.rfind("adam.", 0) == 0)
      moments.emplace_back(name.substr(5), t);
    else
      weights.emplace_back(name, t);
  }
  LRA_CHECK(meta.count("model") && meta.at("model") == mc.mechanism && meta.count("task") &&
                meta.at("task") == task.name,
            CheckpointError, "checkpoint ", sp, " is not of model ", mc.mechanism, " on task ",
            task.name);
  nn::load_module_state(*model, weights, sp);
  adam->load_state(moments, record.at("adam_steps").get<int64_t>());
  step0 = record.at("step").get<int64_t>();
  st.epoch = record.at("epoch").get<uint64_t>();
  st.cursor = record.at("cursor").get<int64_t>();
  st.best_acc = record.at("best_val_accuracy").get<double>();
  st.best_loss = record.at("best_val_loss").get<double>();
  st.best_step = record.at("best_step").get<int64_t>();
  st.iv.from_json(record.at("interval"));
  st.final_train_loss = float(record.at("final_train_loss").get<double>());
  st.elapsed_before = record.at("elapsed_seconds").get<double>();
  LRA_CHECK(step0 >= 0 && step0 <= steps && st.cursor >= 0 && st.cursor <= n_train, CheckpointError,
            "checkpoint ", sp, ": step ", step0, " / cursor ", st.cursor, " out of range");
  if (files) truncate_metrics(dir, step0);
  if (files) metrics.open(path(run_files::metrics), false);
  // resume history in config.json
  if (files && fs::exists(path(run_files::config))) {
    json cfg = json::parse(read_file(path(run_files::config)));
    cfg["resumes"].push_back({{"from_step", step0},
                              {"time", iso_time()},
                              {"threads", num_threads()},
                              {"ranks", comm->size()}});
    write_file_atomic(path(run_files::config), cfg.dump(2) + "\n");
  }
  res.resumed_from = step0;
  char line[640];
  std::snprintf(line, sizeof line,
                "resuming %s at step %lld/%lld (epoch %llu, example %lld of %lld; best val "
                "%.4f at step %lld)",
                dir.c_str(), (long long)step0, (long long)steps, (unsigned long long)st.epoch,
                (long long)st.cursor, (long long)n_train, std::max(st.best_acc, 0.0),
                (long long)st.best_step);
  log(line);
}

}  // namespace lra::train_detail
