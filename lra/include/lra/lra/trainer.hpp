// The training loop: data -> padded batches -> model -> loss -> backward -> clip -> Adam ->
// schedule; evaluation on validation every `eval_every` steps keeping the best parameters;
// test accuracy of the best-validation parameters at the end.
#pragma once
#include <functional>
#include <string>

#include "lra/lra/model.hpp"
#include "lra/lra/settings.hpp"
#include "lra/lra/task.hpp"

namespace lra {

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t examples = 0;
};

// Evaluates `model` on `split` (no gradients, no dropout) in batches.
EvalResult evaluate(LraModel& model, const data::Split& split, int64_t batch_size,
                    int64_t max_len, int64_t max_batches = 0);

// Model configuration from resolved settings and the task.
ModelConfig model_config(const Settings& s, const TaskInfo& task);

struct TrainResult {
  double best_val_accuracy = 0.0;
  int64_t best_step = 0;
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  double final_train_loss = 0.0;
  int64_t steps = 0;
  double wall_seconds = 0.0;
  double steps_per_second = 0.0;
  int64_t parameters = 0;
  size_t peak_bytes = 0;
};

struct TrainHooks {
  // Called with a human-readable progress line (the app prints it).
  std::function<void(const std::string&)> log;
};

// Runs a whole training job with resolved settings; writes results.json into `out_dir`.
TrainResult train(const Settings& settings, const TaskInfo& task, const TaskData& data,
                  const std::string& out_dir, const TrainHooks& hooks);

}  // namespace lra
