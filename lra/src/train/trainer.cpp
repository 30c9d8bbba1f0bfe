// The training loop and its run folder (layout and file formats: lra/lra/train/run.hpp).
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
#include "lra/lra/train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "lra/attention/options.hpp"
#include "lra/autograd/ops.hpp"
#include "lra/core/allocator.hpp"
#include "lra/core/kernels.hpp"
#include "lra/core/threading.hpp"
#include "lra/lra/train/memory_check.hpp"
#include "lra/lra/train/run.hpp"
#include "lra/nn/loss.hpp"
#include "train/train_session.hpp"

namespace lra {

ModelConfig model_config(const Settings& s, const TaskInfo& task) {
  ModelConfig c;
  c.task = task.name;
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
  try {
    c.positions = nn::parse_positions(s.get("positions"));
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(e.what()) + " (from " + s.source("positions") + ")");
  }
  c.mask_zero_tokens = s.get_bool("mask_zero_tokens");
  c.classes = task.classes;
  c.dual = task.dual;
  c.seed = uint64_t(s.get_int("seed"));
  c.validate();
  return c;
}

namespace {

// Each row's softmax and answer (kern::argmax: the first largest logit, as the accuracy counts).
void add_predictions(const Tensor& logits, const Tensor& labels, const std::vector<int64_t>& idx,
                     std::vector<ExamplePrediction>& out) {
  const std::vector<float> probs = kern::softmax(logits).to_floats();
  const std::vector<int32_t> answer = kern::argmax(logits, 1).to_ints();
  const std::vector<int32_t> y = labels.to_ints();
  const auto classes = std::ptrdiff_t(logits.size(1));
  for (size_t row = 0; row < idx.size(); ++row) {
    const auto first = probs.begin() + std::ptrdiff_t(row) * classes;
    out.push_back({idx[row], y[row], answer[row], std::vector<float>(first, first + classes)});
  }
}

}  // namespace

EvalResult evaluate(LraModel& model, const data::Split& split, int64_t batch_size, int64_t max_len,
                    int64_t max_batches, const std::function<void(size_t, size_t)>& progress,
                    std::vector<ExamplePrediction>* predictions) {
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
    const Var logits = model.forward(b, ctx);
    nn::LossOut lo = nn::classification_loss(logits, b.labels);
    if (predictions) add_predictions(logits.data(), b.labels, idx, *predictions);
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

// The loop, as in llm.c: next batch, forward and backward, update, log; evaluate and save
// when due; stop when asked.
TrainResult train(const Settings& s, const TaskInfo& task, const TaskData& data,
                  const TrainOptions& opt, const TrainHooks& hooks) {
  train_detail::Session r(s, task, data, opt, hooks);  // checked, folder locked, model built
  r.start();                                           // resumed, or config.json + last at 0
  while (r.st.step < r.steps) {
    const int64_t step = ++r.st.step;
    data::Batch b = r.next_batch();
    const train_detail::StepOut o = r.forward_backward(b, step);
    r.adam->step(o.lr);
    r.log_step(o);
    const bool eval_now = r.eval_due(step);
    if (eval_now) r.evaluate_val(step);
    const bool saved = r.save_due(step, eval_now);
    if (saved) r.checkpoint(step, eval_now);
    if (r.stop_requested()) {
      r.interrupt(step, saved);
      break;
    }
  }
  return r.finish();
}

namespace train_detail {

Session::Session(const Settings& s_, const TaskInfo& task_, const TaskData& data_,
                 const TrainOptions& opt_, const TrainHooks& hooks_)
    : s(s_), task(task_), data(data_), opt(opt_), hooks(hooks_) {
  comm = opt.comm ? opt.comm : &world();
  set_num_threads(int(s.get_int("threads")));
  mc = model_config(s, task);
  steps = s.get_int("steps"), batch = s.get_int("batch");
  eval_every = s.get_int("eval_every");
  log_every = std::max<int64_t>(1, s.get_int("log_every"));
  save_every = s.get_int("save_every");
  eval_batches = s.get_int("eval_batches");
  seed = uint64_t(s.get_int("seed"));
  LRA_CHECK(steps > 0, ConfigError, "steps must be positive (got ", steps, ")");
  LRA_CHECK(batch > 0, ConfigError, "batch must be positive (got ", batch, ")");
  pieces = batch_pieces(batch, comm->size(), comm->rank(), s.get_int("accumulate"));
  check_memory(mc, batch, comm->size(), s.get_int("accumulate"));  // before building anything
  LRA_CHECK(!data.train.examples.empty(), DataError, "the training split is empty (",
            data.train.source, ")");
  LRA_CHECK(!data.val.examples.empty(), DataError, "the validation split is empty (",
            data.val.source, ")");
  LRA_CHECK(!opt.resume || !opt.out_dir.empty(), ConfigError, "resume needs the run folder");

  dir = opt.out_dir;
  files = !dir.empty() && comm->is_root();
  if (files) {
    lock_run_folder(lock, dir, opt.resume);
    resuming = prepare_run_folder(dir, opt.resume, [&](const std::string& l) { log(l); });
  }
  int64_t resume_flag = resuming;  // the other ranks read the state rank 0 has prepared
  comm->broadcast(&resume_flag, 1);
  resuming = resume_flag != 0;

  model = std::make_unique<LraModel>(mc);
  named = model->named_parameters();
  params = model->parameters();
  grad_sync = std::make_unique<GradientSync>(params, *comm, opt.bucket_bytes);
  nn::AdamConfig ac;
  ac.weight_decay = float(s.get_float("weight_decay"));
  adam = std::make_unique<nn::Adam>(named, ac);
  sched = nn::Schedule{nn::Schedule::parse(s.get("schedule")), float(s.get_float("lr")),
                       s.get_int("warmup"), steps};
  clip = float(s.get_float("clip"));
  n_train = int64_t(data.train.examples.size());
  fingerprint = data_fingerprint(data.train);
  t_session = Clock::now();
  settings_json = json::object();
  for (const auto& [k, e] : s.entries()) settings_json[k] = e.value;
}

void Session::start() {
  char line[640];
  std::snprintf(line, sizeof line,
                "model %s on %s: %lld parameters, %d layers, dim %lld, heads %lld, max_len %lld, "
                "%d threads",
                mc.mechanism.c_str(), task.name.c_str(), (long long)model->num_parameters(),
                mc.layers, (long long)mc.dim, (long long)mc.heads, (long long)mc.max_len,
                num_threads());
  log(line);
  res.parameters = model->num_parameters();
  if (resuming) {
    resume();
  } else if (files) {
    write_config();
    metrics.open(path(run_files::metrics), true);
    save_last(0);  // resumable from the first moment on
  }
  if (!files) best_in_memory.clear();

  reset_peak_memory();
  order = data::epoch_order(size_t(n_train), seed, st.epoch);
  t_session = Clock::now();
  t_interval = Clock::now();
  st.step = step0;
}

data::Batch Session::next_batch() {
  idx.clear();
  while (int64_t(idx.size()) < batch) {
    if (st.cursor == n_train) {
      order = data::epoch_order(size_t(n_train), seed, ++st.epoch);
      st.cursor = 0;
    }
    idx.push_back(order[size_t(st.cursor++)]);
  }
  return data::make_batch(data.train.examples, idx, mc.max_len, false);
}

StepOut Session::forward_backward(data::Batch& b, int64_t step) {
  nn::ForwardContext ctx{true, seed, uint64_t(step)};
  adam->zero_grad();
  // This rank's pieces of the global batch, gradients summed over the ranks.
  const StepLoss lo = lra::forward_backward(*model, b, pieces, ctx, *grad_sync, *comm);
  StepOut o;
  o.loss = lo.loss;
  o.correct = lo.correct;
  if (!std::isfinite(o.loss)) diverge(step, "loss is " + std::to_string(o.loss), true);
  o.grad_norm = nn::clip_grad_norm(params, clip);
  if (!std::isfinite(o.grad_norm))
    diverge(step, "gradient norm is " + std::to_string(o.grad_norm), true);
  o.lr = sched.at(step);
  return o;
}

void Session::log_step(const StepOut& o) {
  const int64_t step = st.step;
  Interval& iv = st.iv;
  iv.loss_sum += o.loss;
  iv.gnorm_sum += o.grad_norm;
  iv.correct += o.correct;
  iv.seen += int64_t(idx.size());
  ++iv.steps;
  st.final_train_loss = o.loss;

  if (hooks.on_step) {
    StepInfo si;
    si.step = step;
    si.total = steps;
    si.loss = o.loss;
    si.interval_loss = iv.loss_sum / double(iv.steps);
    si.interval_accuracy = double(iv.correct) / double(iv.seen);
    si.lr = o.lr;
    si.grad_norm = o.grad_norm;
    si.elapsed = elapsed();
    si.steps_per_second = double(step - step0) / std::max(seconds_since(t_session), 1e-9);
    si.eta = double(steps - step) / std::max(si.steps_per_second, 1e-9);
    hooks.on_step(si);
  }

  if (step % log_every == 0 || step == steps) {
    record_train(step, seconds_since(t_interval) - eval_seconds_in_interval);
    t_interval = Clock::now();
    eval_seconds_in_interval = 0;
  }
}

void Session::record_train(int64_t at, double dt) {
  const Interval& iv = st.iv;
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
  char line[640];
  std::snprintf(line, sizeof line,
                "step %lld/%lld | loss %.4f | acc %.3f (majority %.3f) | lr %.2e | %.2f steps/s "
                "| %s elapsed | eta %s",
                (long long)at, (long long)steps, mean_loss, acc, data::majority_rate(data.train),
                double(sched.at(at)), sps, format_duration(elapsed()).c_str(),
                format_duration(eta).c_str());
  log(line);
  st.iv = Interval{};
}

bool Session::eval_due(int64_t step) const {
  return (eval_every > 0 && step % eval_every == 0) || step == steps;
}

void Session::evaluate_val(int64_t step) {
  auto t_eval = Clock::now();
  std::function<void(size_t, size_t)> prog;
  if (hooks.on_eval_progress)
    prog = [&](size_t d, size_t t) { hooks.on_eval_progress("val", d, t); };
  EvalResult ev = evaluate_sharded(*model, data.val, batch, mc.max_len, eval_batches, *comm, prog);
  const bool better = ev.accuracy > st.best_acc;
  if (better) {
    st.best_acc = ev.accuracy;
    st.best_loss = ev.loss;
    st.best_step = step;
    if (files) {
      auto m = weights_meta(step, "best");
      m["val_accuracy"] = json(ev.accuracy).dump();
      save_checked(path(run_files::best), nn::module_state(*model), m);
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
  char line[640];
  std::snprintf(line, sizeof line,
                "eval step %lld | val loss %.4f | val acc %.4f (majority %.4f)%s", (long long)step,
                ev.loss, ev.accuracy, data::majority_rate(data.val), better ? " (best)" : "");
  log(line);
  // Evaluation time is not training speed: the next train line's steps/s leaves it out.
  eval_seconds_in_interval += seconds_since(t_eval);
}

bool Session::save_due(int64_t step, bool eval_now) const {
  return files && (eval_now || (save_every > 0 && step % save_every == 0));
}

void Session::checkpoint(int64_t step, bool eval_now) {
  save_last(step);
  if (eval_now && hooks.on_metrics) hooks.on_metrics(dir);
}

bool Session::stop_requested() const {
  double stop = opt.stop && opt.stop->load();  // every rank stops at the same step
  comm->allreduce_sum(&stop, 1);
  return stop > 0;
}

void Session::interrupt(int64_t step, bool saved) {
  if (files && !saved) save_last(step);
  res.interrupted = true;
}

TrainResult Session::finish() {
  const int64_t step = st.step;
  res.steps = step;
  res.best_val_accuracy = st.best_acc;
  res.best_step = st.best_step;
  res.final_train_loss = st.final_train_loss;
  res.wall_seconds = elapsed();
  res.steps_per_second = double(step) / std::max(res.wall_seconds, 1e-9);
  res.peak_bytes = memory_stats().peak_bytes;
  char line[640];
  if (res.interrupted) {
    if (files && hooks.on_metrics) hooks.on_metrics(dir);
    std::snprintf(line, sizeof line, "interrupted at step %lld/%lld: saved %s/%s", (long long)step,
                  (long long)steps, dir.c_str(), run_files::last);
    log(line);
    return res;
  }

  // ---- test accuracy of the best-validation checkpoint ---------------------------------------
  if (!dir.empty()) {
    comm->barrier();  // rank 0 has written best
    auto meta = load_weights(*model, path(run_files::best), task.name);
    LRA_CHECK(std::stoll(meta.at("step")) == st.best_step, CheckpointError, path(run_files::best),
              " holds step ", meta.at("step"), " but the best validation step is ", st.best_step,
              " (the file was replaced: retrain or resume the run)");
  } else if (!best_in_memory.empty()) {
    for (size_t i = 0; i < params.size(); ++i) params[i].data().copy_(best_in_memory[i]);
  }
  std::function<void(size_t, size_t)> prog;
  if (hooks.on_eval_progress)
    prog = [&](size_t d, size_t t) { hooks.on_eval_progress("test", d, t); };
  const auto t_test = Clock::now();
  EvalResult test = evaluate_sharded(*model, data.test, batch, mc.max_len, 0, *comm, prog);
  res.test_accuracy = test.accuracy;
  res.test_loss = test.loss;
  metrics.append({{"step", step},
                  {"split", "test"},
                  {"checkpoint", "best"},
                  {"checkpoint_step", st.best_step},
                  {"loss", test.loss},
                  {"accuracy", test.accuracy},
                  {"examples", test.examples},
                  {"eval_seconds", seconds_since(t_test)},
                  {"elapsed_s", elapsed()}});
  std::snprintf(line, sizeof line,
                "test accuracy %.4f (majority class %.4f; best validation %.4f at step %lld) | "
                "%lld steps in %s, %.2f steps/s",
                res.test_accuracy, data::majority_rate(data.test), res.best_val_accuracy,
                (long long)res.best_step, (long long)steps,
                format_duration(res.wall_seconds).c_str(), res.steps_per_second);
  log(line);
  if (files) write_results(test);
  return res;
}

}  // namespace train_detail
}  // namespace lra
