// The training loop: data -> padded batches -> model -> loss -> backward -> clip -> Adam ->
// schedule; evaluation on validation every `eval_every` steps keeping the best checkpoint;
// test accuracy of the best-validation checkpoint at the end. With a run folder (run.hpp) it
// writes config.json, metrics.jsonl, best/last checkpoints and results.json (the plots through
// TrainHooks::on_metrics), and can continue a run exactly (TrainOptions::resume).
//
// Exact resume: dropout masks are keyed by (seed, step, site) and the data order of an epoch
// by (n, seed, epoch), so the state needed to continue bit for bit is the parameters, Adam's
// moments and step count, the data position (epoch, cursor), the step, the best-validation
// record and the partial sums of the current log interval: last.state.safetensors holds all
// of them. Resuming with the same thread count reproduces the losses of the uninterrupted run
// bit for bit.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "lra/core/error.hpp"
#include "lra/lra/tasks/settings.hpp"
#include "lra/lra/tasks/task.hpp"
#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/model.hpp"

namespace lra {

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t examples = 0;
};

// One evaluated example: its place in the split, its label, the model's answer (the first
// largest logit, as the accuracy counts it) and the softmax of its logits.
struct ExamplePrediction {
  int64_t index = 0;
  int32_t label = 0, predicted = 0;
  std::vector<float> probs;  // (classes)
};

// Evaluates `model` on `split` (no gradients, no dropout) in batches of `batch_size`, in
// order; max_batches > 0 evaluates only the first max_batches batches. With `predictions`,
// also one ExamplePrediction per evaluated example, in order.
EvalResult evaluate(LraModel& model, const data::Split& split, int64_t batch_size, int64_t max_len,
                    int64_t max_batches = 0,
                    const std::function<void(size_t done, size_t total)>& progress = {},
                    std::vector<ExamplePrediction>* predictions = nullptr);

// Model configuration from resolved settings and the task.
ModelConfig model_config(const Settings& s, const TaskInfo& task);

// A run stopped because the loss or a gradient became NaN or infinite. The message names the
// step and the first parameter affected and where the evidence was saved.
struct DivergedError : Error {
  using Error::Error;
  int64_t step = 0;
  std::string parameter;
  std::string saved;  // file with the parameters and gradients of the failing step
};

struct TrainResult {
  double best_val_accuracy = 0.0;
  int64_t best_step = 0;
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  double final_train_loss = 0.0;
  int64_t steps = 0;          // steps completed
  double wall_seconds = 0.0;  // including time before a resume
  double steps_per_second = 0.0;
  int64_t parameters = 0;
  size_t peak_bytes = 0;
  bool interrupted = false;   // stopped by TrainOptions::stop; `last` holds step `steps`
  int64_t resumed_from = -1;  // the checkpoint step a resumed run started from (-1: fresh)
};

// What the app shows while training runs.
struct StepInfo {
  int64_t step = 0, total = 0;
  float loss = 0.0f;           // this step's
  double interval_loss = 0.0;  // mean since the last log line
  double interval_accuracy = 0.0;
  double lr = 0.0, grad_norm = 0.0;
  double steps_per_second = 0.0;    // since this session started
  double elapsed = 0.0, eta = 0.0;  // seconds
};

struct TrainHooks {
  // A human-readable line: settings summary, a progress line every log_every steps, eval
  // results, the final test accuracy (the app prints it).
  std::function<void(const std::string&)> log;
  // After every optimiser step (a live progress bar; tests record per-step losses here).
  std::function<void(const StepInfo&)> on_step;
  // During evaluation: what ("val", "test"), examples done, examples in total.
  std::function<void(const std::string& what, size_t done, size_t total)> on_eval_progress;
  // After metrics.jsonl of the run folder grew by an evaluation or the results (the app
  // redraws loss.svg and accuracy.svg here: lra/lra/measure/run_plots.hpp).
  std::function<void(const std::string& dir)> on_metrics;
};

struct TrainOptions {
  std::string out_dir;  // the run folder ("": nothing written, best kept in memory)
  bool resume = false;  // continue the run in out_dir from last.state.safetensors
  // Polled after every step: when true, `last` is saved and train() returns interrupted.
  const std::atomic<bool>* stop = nullptr;
  std::string data_dir;                     // recorded in config.json (for eval and resume)
  std::map<std::string, std::string> info;  // extra facts for config.json (command, version)
  Communicator* comm = nullptr;             // the ranks sharing each batch (nullptr: world())
  int64_t bucket_bytes = GradientSync::kBucketBytes;  // gradient sums per MPI call
};

// Runs a training job with resolved settings. Throws DivergedError on NaN/Inf (after saving
// the evidence and results.json with status "diverged"), CheckpointError when a resume finds
// a missing, corrupt or mismatched state.
TrainResult train(const Settings& settings, const TaskInfo& task, const TaskData& data,
                  const TrainOptions& options, const TrainHooks& hooks);
// The same with a fresh run folder `out_dir` ("" : none).
TrainResult train(const Settings& settings, const TaskInfo& task, const TaskData& data,
                  const std::string& out_dir, const TrainHooks& hooks);

}  // namespace lra
