#include "lra/lra/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "lra/attention/options.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/io.hpp"
#include "lra/core/threading.hpp"
#include "lra/nn/loss.hpp"
#include "lra/nn/optim.hpp"
#include "lra/nn/schedule.hpp"

namespace lra {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string format_duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

// Parameters as owned copies (the best-validation snapshot).
std::vector<Tensor> snapshot(const std::vector<Var>& params) {
  std::vector<Tensor> out;
  for (const Var& p : params) out.push_back(p.data().clone());
  return out;
}
void restore(std::vector<Var>& params, const std::vector<Tensor>& saved) {
  for (size_t i = 0; i < params.size(); ++i) params[i].data().copy_(saved[i]);
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
  c.dropout = float(s.get_float("dropout"));
  c.attn_dropout = float(s.get_float("attn_dropout"));
  c.pooling = nn::parse_pooling(s.get("pooling"));
  const std::string& pos = s.get("positions");
  LRA_CHECK(pos == "learned" || pos == "sinusoidal", ConfigError, "positions=", pos, " (from ",
            s.source("positions"), "): use learned or sinusoidal");
  c.learned_positions = pos == "learned";
  c.classes = task.classes;
  c.dual = task.dual;
  c.seed = uint64_t(s.get_int("seed"));
  c.validate();
  return c;
}

EvalResult evaluate(LraModel& model, const data::Split& split, int64_t batch_size,
                    int64_t max_len, int64_t max_batches) {
  NoGradGuard no_grad;
  nn::ForwardContext ctx;  // eval: no dropout
  EvalResult r;
  double loss_sum = 0.0;
  int64_t correct = 0, n = int64_t(split.examples.size()), batches = 0;
  std::vector<int64_t> idx;
  for (int64_t start = 0; start < n; start += batch_size) {
    if (max_batches > 0 && batches++ >= max_batches) break;
    idx.clear();
    for (int64_t i = start; i < std::min(n, start + batch_size); ++i) idx.push_back(i);
    data::Batch b = data::make_batch(split.examples, idx, max_len, false);
    nn::LossOut lo = nn::classification_loss(model.forward(b, ctx), b.labels);
    loss_sum += double(lo.loss.item()) * double(idx.size());
    correct += lo.correct;
    r.examples += int64_t(idx.size());
  }
  if (r.examples > 0) {
    r.loss = loss_sum / double(r.examples);
    r.accuracy = double(correct) / double(r.examples);
  }
  return r;
}

TrainResult train(const Settings& s, const TaskInfo& task, const TaskData& data,
                  const std::string& out_dir, const TrainHooks& hooks) {
  auto log = [&](const std::string& line) {
    if (hooks.log) hooks.log(line);
  };
  set_num_threads(int(s.get_int("threads")));
  ModelConfig mc = model_config(s, task);
  const int64_t steps = s.get_int("steps"), batch = s.get_int("batch");
  const int64_t eval_every = s.get_int("eval_every"), log_every = std::max<int64_t>(1, s.get_int("log_every"));
  const int64_t eval_batches = s.get_int("eval_batches");
  const uint64_t seed = uint64_t(s.get_int("seed"));
  LRA_CHECK(steps > 0, ConfigError, "steps must be positive (got ", steps, ")");
  LRA_CHECK(batch > 0, ConfigError, "batch must be positive (got ", batch, ")");
  LRA_CHECK(!data.train.examples.empty(), DataError, "the training split is empty (", data.train.source, ")");
  LRA_CHECK(!data.val.examples.empty(), DataError, "the validation split is empty (", data.val.source, ")");

  LraModel model(mc);
  auto named = model.named_parameters();
  std::vector<Var> params = model.parameters();
  nn::AdamConfig ac;
  ac.weight_decay = float(s.get_float("weight_decay"));
  nn::Adam adam(named, ac);
  nn::Schedule sched{nn::Schedule::parse(s.get("schedule")), float(s.get_float("lr")),
                     s.get_int("warmup"), steps};
  const float clip = float(s.get_float("clip"));

  char line[512];
  std::snprintf(line, sizeof line,
                "model %s on %s: %lld parameters, %d layers, dim %lld, heads %lld, max_len %lld, "
                "%d threads",
                mc.mechanism.c_str(), task.name.c_str(), (long long)model.num_parameters(),
                mc.layers, (long long)mc.dim, (long long)mc.heads, (long long)mc.max_len,
                num_threads());
  log(line);

  TrainResult res;
  res.parameters = model.num_parameters();
  std::vector<Tensor> best = snapshot(params);
  res.best_val_accuracy = -1.0;
  reset_peak_memory();

  const int64_t n_train = int64_t(data.train.examples.size());
  uint64_t epoch = 0;
  std::vector<int64_t> order = data::epoch_order(size_t(n_train), seed, epoch);
  int64_t cursor = 0;
  double interval_loss = 0.0;
  int64_t interval_correct = 0, interval_seen = 0, interval_steps = 0;
  auto t_start = Clock::now();
  auto t_interval = Clock::now();
  std::vector<int64_t> idx;

  for (int64_t step = 1; step <= steps; ++step) {
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
    nn::LossOut lo = nn::classification_loss(model.forward(b, ctx), b.labels);
    float loss = lo.loss.item();
    LRA_CHECK(std::isfinite(loss), Error, "training diverged: loss is ", loss, " at step ", step,
              " (lower --lr or set --clip)");
    adam.zero_grad();
    lo.loss.backward();
    float gnorm = nn::clip_grad_norm(params, clip);
    LRA_CHECK(std::isfinite(gnorm), Error, "training diverged: gradient norm is ", gnorm,
              " at step ", step, " (lower --lr or set --clip)");
    adam.step(sched.at(step));

    interval_loss += loss;
    interval_correct += lo.correct;
    interval_seen += int64_t(idx.size());
    ++interval_steps;
    res.final_train_loss = loss;

    if (step % log_every == 0 || step == steps) {
      double dt = seconds_since(t_interval);
      double sps = double(interval_steps) / std::max(dt, 1e-9);
      double elapsed = seconds_since(t_start);
      double eta = double(steps - step) * elapsed / double(step);
      std::snprintf(line, sizeof line,
                    "step %lld/%lld | loss %.4f | acc %.3f | lr %.2e | %.2f steps/s | %s elapsed | "
                    "eta %s",
                    (long long)step, (long long)steps, interval_loss / double(interval_steps),
                    double(interval_correct) / double(interval_seen), double(sched.at(step)), sps,
                    format_duration(elapsed).c_str(), format_duration(eta).c_str());
      log(line);
      interval_loss = 0.0;
      interval_correct = interval_seen = interval_steps = 0;
      t_interval = Clock::now();
    }
    if ((eval_every > 0 && step % eval_every == 0) || step == steps) {
      auto t_eval = Clock::now();
      EvalResult ev = evaluate(model, data.val, batch, mc.max_len, eval_batches);
      bool better = ev.accuracy > res.best_val_accuracy;
      if (better) {
        res.best_val_accuracy = ev.accuracy;
        res.best_step = step;
        best = snapshot(params);
      }
      std::snprintf(line, sizeof line, "eval step %lld | val loss %.4f | val acc %.4f%s", (long long)step,
                    ev.loss, ev.accuracy, better ? " (best)" : "");
      log(line);
      t_interval += Clock::now() - t_eval;  // evaluation time is not training speed
    }
  }
  res.steps = steps;
  res.wall_seconds = seconds_since(t_start);
  res.steps_per_second = double(steps) / res.wall_seconds;
  res.peak_bytes = memory_stats().peak_bytes;

  restore(params, best);
  EvalResult test = evaluate(model, data.test, batch, mc.max_len);
  res.test_accuracy = test.accuracy;
  res.test_loss = test.loss;
  std::snprintf(line, sizeof line,
                "test accuracy %.4f (best validation %.4f at step %lld) | %lld steps in %s, "
                "%.2f steps/s",
                res.test_accuracy, res.best_val_accuracy, (long long)res.best_step,
                (long long)steps, format_duration(res.wall_seconds).c_str(), res.steps_per_second);
  log(line);

  if (!out_dir.empty()) {
    make_dirs(out_dir);
    nlohmann::json j = {{"task", task.name},
                        {"model", mc.mechanism},
                        {"test_accuracy", res.test_accuracy},
                        {"test_loss", res.test_loss},
                        {"test_examples", test.examples},
                        {"best_val_accuracy", res.best_val_accuracy},
                        {"best_step", res.best_step},
                        {"steps", res.steps},
                        {"wall_seconds", res.wall_seconds},
                        {"steps_per_second", res.steps_per_second},
                        {"parameters", res.parameters},
                        {"peak_bytes", res.peak_bytes},
                        {"threads", num_threads()},
                        {"seed", seed}};
    nlohmann::json cfg;
    for (const auto& [k, e] : s.entries()) cfg[k] = {{"value", e.value}, {"source", e.source}};
    j["settings"] = cfg;
    write_file_atomic(out_dir + "/results.json", j.dump(2) + "\n");
  }
  return res;
}

}  // namespace lra
