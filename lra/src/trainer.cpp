// The training loop and its run folder (layout and file formats: lra/lra/run.hpp).
//
// Note [checkpoint write order]. Every file is replaced atomically, but a kill can fall
// between two files. So:
//   - last.state.safetensors is self-contained (weights + moments + counters): resume reads
//     only it; last.safetensors (weights only, for eval) is written after it;
//   - at an evaluation that improves on the best, best.safetensors is written before the
//     state, so a state never points at a best step whose weights are missing; a best file
//     "ahead" of the state is rewritten, identically, when the resumed run replays that step;
//   - metrics.jsonl lines after the state's step (and any test line) are dropped on resume,
//     so the log continues with no gap and no duplicate.
#include "lra/lra/trainer.hpp"

#include <fcntl.h>
#include <oneapi/tbb/version.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lra/attention/options.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/api.hpp"
#include "lra/lra/checkpoint_record.hpp"
#include "lra/lra/distributed.hpp"
#include "lra/lra/memory_check.hpp"
#include "lra/lra/run.hpp"
#include "lra/lra/run_folder.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/optim.hpp"
#include "lra/nn/schedule.hpp"

namespace lra {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

std::string iso_time() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

size_t peak_rss_bytes() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  return size_t(u.ru_maxrss) * 1024;  // Linux: kilobytes
}

// A fingerprint of the training split (sizes, labels, tokens): a resume must read the same data.
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

// Settings that may differ between a run and its resumption (they do not change the numbers,
// except threads and accumulate: bit-exactness is promised for the same thread count and
// pieces; other pieces give the same step up to float rounding).
bool resume_may_differ(const std::string& key) {
  return key == "threads" || key == "data" || key == "out" || key == "accumulate";
}

// The partial sums of the current log interval (part of the resumable state).
struct Interval {
  double loss_sum = 0.0, gnorm_sum = 0.0;
  int64_t correct = 0, seen = 0, steps = 0;
  json to_json() const {
    return {{"loss_sum", loss_sum},
            {"gnorm_sum", gnorm_sum},
            {"correct", correct},
            {"seen", seen},
            {"steps", steps}};
  }
  void from_json(const json& j) {
    loss_sum = j.at("loss_sum").get<double>();
    gnorm_sum = j.at("gnorm_sum").get<double>();
    correct = j.at("correct").get<int64_t>();
    seen = j.at("seen").get<int64_t>();
    steps = j.at("steps").get<int64_t>();
  }
};

// Appends JSON lines to metrics.jsonl (one write() per line).
class MetricsLog {
 public:
  void open(const std::string& path, bool truncate) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0644);
    LRA_CHECK(fd_ >= 0, IoError, "cannot open ", path, ": ", std::strerror(errno));
  }
  ~MetricsLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  void append(const json& record) {
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

 private:
  std::string path_;
  int fd_ = -1;
};

// Keeps the metrics lines a resumed run must continue from: steps <= `step`, no test line.
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

}  // namespace

ModelConfig model_config(const Settings& s, const TaskInfo& task) {
  ModelConfig c;
  c.mechanism = s.get("model");
  c.mechanism_params = attn::parse_param_list(s.get("attn"));
  c.vocab = task.vocab;
  int64_t max_len = s.get_int("max_len");
  c.max_len = max_len > 0 ? max_len : task.seq_len;
  c.dim = s.get_int("dim");
  c.heads = s.get_int("heads");
  c.qkv_dim = s.get_int("qkv_dim");
  c.mlp_dim = s.get_int("mlp_dim");
  c.layers = int(s.get_int("layers"));
  c.reversible = s.get_bool("reversible");
  c.dropout = float(s.get_float("dropout"));
  c.attn_dropout = float(s.get_float("attn_dropout"));
  c.pooling = nn::parse_pooling(s.get("pooling"));
  const std::string& pos = s.get("positions");
  LRA_CHECK(pos == "learned" || pos == "sinusoidal", ConfigError,
            "positions=", cut_for_message(pos), " (from ", s.source("positions"),
            "): use learned or sinusoidal");
  c.learned_positions = pos == "learned";
  c.mask_zero_tokens = s.get_bool("mask_zero_tokens");
  c.classes = task.classes;
  c.dual = task.dual;
  c.seed = uint64_t(s.get_int("seed"));
  c.validate();
  return c;
}

EvalResult evaluate(LraModel& model, const data::Split& split, int64_t batch_size, int64_t max_len,
                    int64_t max_batches, const std::function<void(size_t, size_t)>& progress) {
  NoGradGuard no_grad;
  nn::ForwardContext ctx;  // eval: no dropout
  EvalResult r;
  double loss_sum = 0.0;
  int64_t correct = 0, n = int64_t(split.examples.size()), batches = 0;
  if (max_batches > 0) n = std::min(n, max_batches * batch_size);
  std::vector<int64_t> idx;
  for (int64_t start = 0; start < n; start += batch_size) {
    ++batches;
    idx.clear();
    for (int64_t i = start; i < std::min(n, start + batch_size); ++i) idx.push_back(i);
    data::Batch b = data::make_batch(split.examples, idx, max_len, false);
    nn::LossOut lo = nn::classification_loss(model.forward(b, ctx), b.labels);
    loss_sum += double(lo.loss.item()) * double(idx.size());
    correct += lo.correct;
    r.examples += int64_t(idx.size());
    if (progress) progress(size_t(r.examples), size_t(n));
  }
  if (r.examples > 0) {
    r.loss = loss_sum / double(r.examples);
    r.accuracy = double(correct) / double(r.examples);
  }
  return r;
}

TrainResult train(const Settings& s, const TaskInfo& task, const TaskData& data,
                  const std::string& out_dir, const TrainHooks& hooks) {
  TrainOptions o;
  o.out_dir = out_dir;
  return train(s, task, data, o, hooks);
}

TrainResult train(const Settings& s, const TaskInfo& task, const TaskData& data,
                  const TrainOptions& opt, const TrainHooks& hooks) {
  Communicator& comm = opt.comm ? *opt.comm : world();  // rank 0 alone logs and writes
  auto log = [&](const std::string& line) {
    if (hooks.log && comm.is_root()) hooks.log(line);
  };
  set_num_threads(int(s.get_int("threads")));
  ModelConfig mc = model_config(s, task);
  const int64_t steps = s.get_int("steps"), batch = s.get_int("batch");
  const int64_t eval_every = s.get_int("eval_every");
  const int64_t log_every = std::max<int64_t>(1, s.get_int("log_every"));
  const int64_t save_every = s.get_int("save_every");
  const int64_t eval_batches = s.get_int("eval_batches");
  const uint64_t seed = uint64_t(s.get_int("seed"));
  LRA_CHECK(steps > 0, ConfigError, "steps must be positive (got ", steps, ")");
  LRA_CHECK(batch > 0, ConfigError, "batch must be positive (got ", batch, ")");
  const std::vector<Piece> pieces =
      batch_pieces(batch, comm.size(), comm.rank(), s.get_int("accumulate"));
  check_memory(mc, batch);  // before building anything
  LRA_CHECK(!data.train.examples.empty(), DataError, "the training split is empty (",
            data.train.source, ")");
  LRA_CHECK(!data.val.examples.empty(), DataError, "the validation split is empty (",
            data.val.source, ")");
  LRA_CHECK(!opt.resume || !opt.out_dir.empty(), ConfigError, "resume needs the run folder");

  const std::string& dir = opt.out_dir;
  const bool files = !dir.empty() && comm.is_root();
  auto path = [&](const char* name) { return dir + "/" + name; };
  FileLock lock;  // Note [one writer per run folder] (lra/lra/run_folder.hpp)
  bool resume = false;
  if (files) {
    lock_run_folder(lock, dir, opt.resume);
    resume = prepare_run_folder(dir, opt.resume, log);
  }
  int64_t resume_flag = resume;  // the other ranks read the state rank 0 has prepared
  comm.broadcast(&resume_flag, 1);
  resume = resume_flag != 0;

  LraModel model(mc);
  auto named = model.named_parameters();
  std::vector<Var> params = model.parameters();
  GradientSync grad_sync(params, comm);
  nn::AdamConfig ac;
  ac.weight_decay = float(s.get_float("weight_decay"));
  nn::Adam adam(named, ac);
  nn::Schedule sched{nn::Schedule::parse(s.get("schedule")), float(s.get_float("lr")),
                     s.get_int("warmup"), steps};
  const float clip = float(s.get_float("clip"));
  const int64_t n_train = int64_t(data.train.examples.size());
  const std::string fingerprint = data_fingerprint(data.train);

  // ---- the resumable state ------------------------------------------------------------------
  int64_t step0 = 0;
  uint64_t epoch = 0;
  int64_t cursor = 0;
  double best_acc = -1.0, best_loss = 0.0;
  int64_t best_step = 0;
  double elapsed_before = 0.0;
  float final_train_loss = 0.0f;
  Interval iv;

  auto t_session = Clock::now();
  auto elapsed = [&] { return elapsed_before + seconds_since(t_session); };

  json settings_json = json::object();
  for (const auto& [k, e] : s.entries()) settings_json[k] = e.value;

  auto weights_meta = [&](int64_t step, const char* kind) {
    std::map<std::string, std::string> m = {{"task", task.name},
                                            {"model", mc.mechanism},
                                            {"kind", kind},
                                            {"step", std::to_string(step)},
                                            {"seed", std::to_string(seed)}};
    return m;
  };
  auto save_last = [&](int64_t step) {
    if (!files) return;
    nn::NamedTensors weights = nn::module_state(model);
    nn::NamedTensors full = weights;
    for (auto& [name, t] : adam.state()) full.emplace_back("adam." + name, t);
    json st = {{"step", step},
               {"epoch", epoch},
               {"cursor", cursor},
               {"n_train", n_train},
               {"data_fingerprint", fingerprint},
               {"adam_steps", adam.steps()},
               {"best_val_accuracy", best_acc},
               {"best_val_loss", best_loss},
               {"best_step", best_step},
               {"interval", iv.to_json()},
               {"final_train_loss", double(final_train_loss)},
               {"elapsed_seconds", elapsed()},
               {"seed", seed},
               {"rng",
                "counter-based: dropout key (seed, step, site); data order "
                "epoch_order(n_train, seed, epoch)"},
               {"settings", settings_json}};
    auto meta = weights_meta(step, "state");
    add_state_record(meta, st);
    save_checked(path(run_files::state), full, meta);  // Note [checkpoint write order]
    save_checked(path(run_files::last), weights, weights_meta(step, "last"));
  };

  std::vector<Tensor> best_in_memory;  // without a run folder
  MetricsLog metrics;

  char line[640];
  std::snprintf(line, sizeof line,
                "model %s on %s: %lld parameters, %d layers, dim %lld, heads %lld, max_len %lld, "
                "%d threads",
                mc.mechanism.c_str(), task.name.c_str(), (long long)model.num_parameters(),
                mc.layers, (long long)mc.dim, (long long)mc.heads, (long long)mc.max_len,
                num_threads());
  log(line);

  TrainResult res;
  res.parameters = model.num_parameters();

  if (resume) {
    const std::string sp = path(run_files::state);
    std::map<std::string, std::string> meta;
    nn::NamedTensors all = load_checked(sp, &meta);
    const json st = read_state_record(sp, meta);  // every field's type and range checked
    // Same settings (except where a difference cannot change the numbers)?
    std::string diffs;
    const json& rec = st.at("settings");
    for (const auto& [k, e] : s.entries()) {
      if (resume_may_differ(k)) continue;
      const std::string was = rec.contains(k) ? rec[k].get<std::string>() : std::string("(unset)");
      if (was != e.value) diffs += "\n  " + k + ": checkpoint " + was + ", now " + e.value;
    }
    LRA_CHECK(diffs.empty(), CheckpointError, "checkpoint ", sp,
              " was written with other settings (a resumed run keeps its settings):", diffs);
    LRA_CHECK(st.at("n_train").get<int64_t>() == n_train &&
                  st.at("data_fingerprint").get<std::string>() == fingerprint,
              CheckpointError, "checkpoint ", sp, " was trained on other data (",
              st.at("n_train").get<int64_t>(), " training examples, fingerprint ",
              st.at("data_fingerprint").get<std::string>(), "; now ", n_train, ", ", fingerprint,
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
    nn::load_module_state(model, weights, sp);
    adam.load_state(moments, st.at("adam_steps").get<int64_t>());
    step0 = st.at("step").get<int64_t>();
    epoch = st.at("epoch").get<uint64_t>();
    cursor = st.at("cursor").get<int64_t>();
    best_acc = st.at("best_val_accuracy").get<double>();
    best_loss = st.at("best_val_loss").get<double>();
    best_step = st.at("best_step").get<int64_t>();
    iv.from_json(st.at("interval"));
    final_train_loss = float(st.at("final_train_loss").get<double>());
    elapsed_before = st.at("elapsed_seconds").get<double>();
    LRA_CHECK(step0 >= 0 && step0 <= steps && cursor >= 0 && cursor <= n_train, CheckpointError,
              "checkpoint ", sp, ": step ", step0, " / cursor ", cursor, " out of range");
    if (files) truncate_metrics(dir, step0);
    if (files) metrics.open(path(run_files::metrics), false);
    // resume history in config.json
    if (files && fs::exists(path(run_files::config))) {
      json cfg = json::parse(read_file(path(run_files::config)));
      cfg["resumes"].push_back({{"from_step", step0},
                                {"time", iso_time()},
                                {"threads", num_threads()},
                                {"ranks", comm.size()}});
      write_file_atomic(path(run_files::config), cfg.dump(2) + "\n");
    }
    res.resumed_from = step0;
    std::snprintf(line, sizeof line,
                  "resuming %s at step %lld/%lld (epoch %llu, example %lld of %lld; best val "
                  "%.4f at step %lld)",
                  dir.c_str(), (long long)step0, (long long)steps, (unsigned long long)epoch,
                  (long long)cursor, (long long)n_train, std::max(best_acc, 0.0),
                  (long long)best_step);
    log(line);
  } else if (files) {
    api::EngineInfo ei = api::engine_info();
    json cfg = {
        {"created", iso_time()},
        {"task", task.name},
        {"model", mc.mechanism},
        {"preset", s.get("preset")},
        {"seed", seed},
        {"threads", num_threads()},
        {"ranks", comm.size()},
        {"data_dir", opt.data_dir.empty() ? s.get("data") : opt.data_dir},
        {"data",
         {{"train", data.train.examples.size()},
          {"val", data.val.examples.size()},
          {"test", data.test.examples.size()},
          {"train_fingerprint", fingerprint},
          {"notes", data.notes}}},
        {"parameters", model.num_parameters()},
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
    metrics.open(path(run_files::metrics), true);
    save_last(0);  // resumable from the first moment on
  }
  if (!files) best_in_memory.clear();

  reset_peak_memory();
  std::vector<int64_t> order = data::epoch_order(size_t(n_train), seed, epoch);
  t_session = Clock::now();
  auto t_interval = Clock::now();
  std::vector<int64_t> idx;
  int64_t step = step0;

  auto record_train = [&](int64_t at, double dt) {
    const double mean_loss = iv.loss_sum / double(iv.steps);
    const double acc = double(iv.correct) / double(iv.seen);
    const double sps = double(iv.steps) / std::max(dt, 1e-9);
    metrics.append({{"step", at},
                    {"split", "train"},
                    {"loss", mean_loss},
                    {"accuracy", acc},
                    {"lr", double(sched.at(at))},
                    {"grad_norm", iv.gnorm_sum / double(iv.steps)},
                    {"steps_per_s", sps},
                    {"elapsed_s", elapsed()},
                    {"peak_bytes", memory_stats().peak_bytes},
                    {"peak_rss_bytes", peak_rss_bytes()}});
    const double session_sps = double(at - step0) / std::max(seconds_since(t_session), 1e-9);
    const double eta = double(steps - at) / std::max(session_sps, 1e-9);
    std::snprintf(line, sizeof line,
                  "step %lld/%lld | loss %.4f | acc %.3f | lr %.2e | %.2f steps/s | %s elapsed | "
                  "eta %s",
                  (long long)at, (long long)steps, mean_loss, acc, double(sched.at(at)), sps,
                  format_duration(elapsed()).c_str(), format_duration(eta).c_str());
    log(line);
    iv = Interval{};
  };

  // NaN/Inf: name the step and the first parameter affected, save the evidence, stop.
  auto diverge = [&](int64_t at, const std::string& reason, bool have_grads) {
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
          how =
              "gradient has " + std::to_string(bad) + " non-finite of " + std::to_string(g.numel());
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
      meta["epoch"] = std::to_string(epoch);
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
      write_run_plots(dir);
    }
    std::string msg = "training diverged at step " + std::to_string(at) + ": " + reason +
                      "; first parameter affected: " + param +
                      (how.empty() ? "" : " (" + how + ")");
    if (!saved.empty())
      msg += "; parameters, gradients and batch saved to " + saved +
             "; the last good checkpoint is untouched (" + path(run_files::last) + ")";
    msg += ". Lower --lr or set --clip.";
    DivergedError e(msg);
    e.step = at;
    e.parameter = param;
    e.saved = saved;
    throw e;
  };

  bool saved_this_step = false;
  while (step < steps) {
    ++step;
    saved_this_step = false;
    idx.clear();
    while (int64_t(idx.size()) < batch) {
      if (cursor == n_train) {
        order = data::epoch_order(size_t(n_train), seed, ++epoch);
        cursor = 0;
      }
      idx.push_back(order[size_t(cursor++)]);
    }
    data::Batch b = data::make_batch(data.train.examples, idx, mc.max_len, false);
    nn::ForwardContext ctx{true, seed, uint64_t(step)};
    adam.zero_grad();
    const StepLoss lo = forward_backward(model, b, pieces, ctx, grad_sync, comm);
    const float loss = lo.loss;
    if (!std::isfinite(loss)) diverge(step, "loss is " + std::to_string(loss), true);
    const float gnorm = nn::clip_grad_norm(params, clip);
    if (!std::isfinite(gnorm)) diverge(step, "gradient norm is " + std::to_string(gnorm), true);
    const float lr = sched.at(step);
    adam.step(lr);

    iv.loss_sum += loss;
    iv.gnorm_sum += gnorm;
    iv.correct += lo.correct;
    iv.seen += int64_t(idx.size());
    ++iv.steps;
    final_train_loss = loss;

    if (hooks.on_step) {
      StepInfo si;
      si.step = step;
      si.total = steps;
      si.loss = loss;
      si.interval_loss = iv.loss_sum / double(iv.steps);
      si.interval_accuracy = double(iv.correct) / double(iv.seen);
      si.lr = lr;
      si.grad_norm = gnorm;
      si.elapsed = elapsed();
      si.steps_per_second = double(step - step0) / std::max(seconds_since(t_session), 1e-9);
      si.eta = double(steps - step) / std::max(si.steps_per_second, 1e-9);
      hooks.on_step(si);
    }

    if (step % log_every == 0 || step == steps) {
      record_train(step, seconds_since(t_interval));
      t_interval = Clock::now();
    }
    const bool eval_now = (eval_every > 0 && step % eval_every == 0) || step == steps;
    if (eval_now) {
      auto t_eval = Clock::now();
      std::function<void(size_t, size_t)> prog;
      if (hooks.on_eval_progress)
        prog = [&](size_t d, size_t t) { hooks.on_eval_progress("val", d, t); };
      EvalResult ev =
          evaluate_sharded(model, data.val, batch, mc.max_len, eval_batches, comm, prog);
      const bool better = ev.accuracy > best_acc;
      if (better) {
        best_acc = ev.accuracy;
        best_loss = ev.loss;
        best_step = step;
        if (files) {
          auto m = weights_meta(step, "best");
          m["val_accuracy"] = json(ev.accuracy).dump();
          save_checked(path(run_files::best), nn::module_state(model), m);
        } else {
          best_in_memory.clear();
          for (const Var& p : params) best_in_memory.push_back(p.data().clone());
        }
      }
      metrics.append({{"step", step},
                      {"split", "val"},
                      {"loss", ev.loss},
                      {"accuracy", ev.accuracy},
                      {"examples", ev.examples},
                      {"best", better},
                      {"eval_seconds", seconds_since(t_eval)},
                      {"elapsed_s", elapsed()}});
      std::snprintf(line, sizeof line, "eval step %lld | val loss %.4f | val acc %.4f%s",
                    (long long)step, ev.loss, ev.accuracy, better ? " (best)" : "");
      log(line);
      t_interval += Clock::now() - t_eval;  // evaluation time is not training speed
    }
    if (files && (eval_now || (save_every > 0 && step % save_every == 0))) {
      save_last(step);
      saved_this_step = true;
      if (eval_now) write_run_plots(dir);
    }
    double stop_now = opt.stop && opt.stop->load();  // every rank stops at the same step
    comm.allreduce_sum(&stop_now, 1);
    if (stop_now > 0) {
      if (files && !saved_this_step) save_last(step);
      res.interrupted = true;
      break;
    }
  }

  res.steps = step;
  res.best_val_accuracy = best_acc;
  res.best_step = best_step;
  res.final_train_loss = final_train_loss;
  res.wall_seconds = elapsed();
  res.steps_per_second = double(step) / std::max(res.wall_seconds, 1e-9);
  res.peak_bytes = memory_stats().peak_bytes;
  if (res.interrupted) {
    if (files) write_run_plots(dir);
    std::snprintf(line, sizeof line, "interrupted at step %lld/%lld: saved %s/%s", (long long)step,
                  (long long)steps, dir.c_str(), run_files::last);
    log(line);
    return res;
  }

  // ---- test accuracy of the best-validation checkpoint ---------------------------------------
  if (!dir.empty()) {
    comm.barrier();  // rank 0 has written best
    auto meta = load_weights(model, path(run_files::best), task.name);
    LRA_CHECK(std::stoll(meta.at("step")) == best_step, CheckpointError, path(run_files::best),
              " holds step ", meta.at("step"), " but the best validation step is ", best_step,
              " (the file was replaced: retrain or resume the run)");
  } else if (!best_in_memory.empty()) {
    for (size_t i = 0; i < params.size(); ++i) params[i].data().copy_(best_in_memory[i]);
  }
  std::function<void(size_t, size_t)> prog;
  if (hooks.on_eval_progress)
    prog = [&](size_t d, size_t t) { hooks.on_eval_progress("test", d, t); };
  const auto t_test = Clock::now();
  EvalResult test = evaluate_sharded(model, data.test, batch, mc.max_len, 0, comm, prog);
  res.test_accuracy = test.accuracy;
  res.test_loss = test.loss;
  metrics.append({{"step", step},
                  {"split", "test"},
                  {"checkpoint", "best"},
                  {"checkpoint_step", best_step},
                  {"loss", test.loss},
                  {"accuracy", test.accuracy},
                  {"examples", test.examples},
                  {"eval_seconds", seconds_since(t_test)},
                  {"elapsed_s", elapsed()}});
  std::snprintf(line, sizeof line,
                "test accuracy %.4f (best validation %.4f at step %lld) | %lld steps in %s, "
                "%.2f steps/s",
                res.test_accuracy, res.best_val_accuracy, (long long)res.best_step,
                (long long)steps, format_duration(res.wall_seconds).c_str(), res.steps_per_second);
  log(line);

  if (files) {
    json j = {{"status", "complete"},
              {"task", task.name},
              {"model", mc.mechanism},
              {"preset", s.get("preset")},
              {"test_accuracy", res.test_accuracy},
              {"test_loss", res.test_loss},
              {"test_examples", test.examples},
              {"checkpoint", "best"},
              {"best_val_accuracy", res.best_val_accuracy},
              {"best_val_loss", best_loss},
              {"best_step", res.best_step},
              {"steps", res.steps},
              {"final_train_loss", double(res.final_train_loss)},
              {"wall_seconds", res.wall_seconds},
              {"steps_per_second", res.steps_per_second},
              {"parameters", res.parameters},
              {"peak_bytes", res.peak_bytes},
              {"peak_rss_bytes", peak_rss_bytes()},
              {"threads", num_threads()},
              {"seed", seed}};
    json cfg = json::object();
    for (const auto& [k, e] : s.entries()) cfg[k] = {{"value", e.value}, {"source", e.source}};
    j["settings"] = cfg;
    write_file_atomic(path(run_files::results), j.dump(2) + "\n");
    write_run_plots(dir);
  }
  return res;
}

}  // namespace lra
