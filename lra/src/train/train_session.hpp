// One training run in progress, private to the trainer: what train() holds between steps.
//
//   trainer.cpp      the step loop (next batch, forward + backward, update, log, eval, save)
//                    and the test phase
//   train_state.cpp  the resumable state: last.state.safetensors written and read back, the
//                    checks a resume makes, metrics.jsonl appended and cut back
//   train_report.cpp config.json, the divergence report, results.json
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "lra/core/error.hpp"
#include "lra/core/text.hpp"
#include "lra/lra/train/distributed.hpp"
#include "lra/lra/train/engine_info.hpp"
#include "lra/lra/train/run_folder.hpp"
#include "lra/lra/train/trainer.hpp"
#include "lra/nn/optim.hpp"
#include "lra/nn/schedule.hpp"

namespace lra::train_detail {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0);
std::string iso_time();  // UTC, "2026-12-05T19:05:00Z"
// A fingerprint of the training split (sizes, labels, tokens): a resume must read the same data.
std::string data_fingerprint(const data::Split& split);

// The partial sums of the current log interval (part of the resumable state).
struct Interval {
  double loss_sum = 0.0, gnorm_sum = 0.0;
  int64_t correct = 0, seen = 0, steps = 0;
  json to_json() const;
  void from_json(const json& j);
};

// Everything last.state.safetensors holds besides the weights and Adam's moments.
struct RunState {
  int64_t step = 0;  // steps done
  uint64_t epoch = 0;
  int64_t cursor = 0;  // position in the epoch's order
  double best_acc = -1.0, best_loss = 0.0;
  int64_t best_step = 0;
  double elapsed_before = 0.0;  // seconds of earlier sessions
  float final_train_loss = 0.0f;
  Interval iv;
};

// Appends JSON lines to metrics.jsonl (one write() per line).
class MetricsLog {
 public:
  void open(const std::string& path, bool truncate);
  ~MetricsLog();
  void append(const json& record);

 private:
  std::string path_;
  int fd_ = -1;
};

// Keeps the metrics lines a resumed run must continue from: steps <= `step`, no test line.
void truncate_metrics(const std::string& dir, int64_t step);

// What one optimiser step produced.
struct StepOut {
  float loss = 0.0f, grad_norm = 0.0f, lr = 0.0f;
  int64_t correct = 0;
};

struct Session {
  Session(const Settings& s, const TaskInfo& task, const TaskData& data, const TrainOptions& opt,
          const TrainHooks& hooks);

  // ---- trainer.cpp
  void start();                                            // resume, or a fresh run folder
  data::Batch next_batch();                                // the next `batch` examples in order
  StepOut forward_backward(data::Batch& b, int64_t step);  // diverge() on NaN/Inf
  void log_step(const StepOut& o);                         // interval sums, on_step, a log line
  void record_train(int64_t at, double dt);                // the train line of metrics.jsonl
  bool eval_due(int64_t step) const;
  void evaluate_val(int64_t step);  // val accuracy, the best checkpoint kept
  bool save_due(int64_t step, bool eval_now) const;
  void checkpoint(int64_t step, bool eval_now);  // last (+ plots after an evaluation)
  bool stop_requested() const;
  void interrupt(int64_t step, bool saved);  // `last` saved, the result marked interrupted
  TrainResult finish();                      // test accuracy of the best-validation weights

  // ---- train_state.cpp
  std::map<std::string, std::string> weights_meta(int64_t step, const char* kind) const;
  void save_last(int64_t step);  // Note [checkpoint write order]
  void resume();                 // state, settings and data checked, metrics cut back

  // ---- train_report.cpp
  void write_config();
  [[noreturn]] void diverge(int64_t at, const std::string& reason, bool have_grads);
  void write_results(const EvalResult& test);

  void log(const std::string& line) const {  // rank 0 alone logs
    if (hooks.log && comm->is_root()) hooks.log(line);
  }
  double elapsed() const { return st.elapsed_before + seconds_since(t_session); }
  std::string path(const char* name) const { return dir + "/" + name; }

  const Settings& s;
  const TaskInfo& task;
  const TaskData& data;
  const TrainOptions& opt;
  const TrainHooks& hooks;
  ModelConfig mc;
  int64_t steps = 0, batch = 0, eval_every = 0, log_every = 1, save_every = 0, eval_batches = 0;
  uint64_t seed = 0;
  float clip = 0.0f;
  Communicator* comm = nullptr;  // the ranks sharing each batch (docs: "More than one machine")
  std::vector<Piece> pieces;     // this rank's micro-batches of each global batch
  std::string dir;               // the run folder ("": none)
  bool files = false;            // this process writes the run folder (rank 0 of a run with one)
  FileLock lock;                 // Note [one writer per run folder] (lra/lra/train/run_folder.hpp)
  bool resuming = false;

  std::unique_ptr<LraModel> model;
  std::vector<std::pair<std::string, Var>> named;
  std::vector<Var> params;
  std::unique_ptr<GradientSync> grad_sync;
  std::unique_ptr<nn::Adam> adam;
  nn::Schedule sched;
  int64_t n_train = 0;
  std::string fingerprint;
  json settings_json;

  RunState st;
  int64_t step0 = 0;  // where this session started
  Clock::time_point t_session, t_interval;
  double eval_seconds_in_interval = 0;  // left out of the interval's steps/s
  std::vector<int64_t> order, idx;
  std::vector<Tensor> best_in_memory;  // without a run folder
  MetricsLog metrics;
  TrainResult res;
};

}  // namespace lra::train_detail
