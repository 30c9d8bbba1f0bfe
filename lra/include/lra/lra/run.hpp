// The run folder: everything one training run leaves behind, and how to read it back.
//
//   config.json             resolved settings with the source of each value, seed, threads,
//                           data folder, library versions, command line, resume history
//   metrics.jsonl           one JSON object per line: {"step", "split": "train"|"val"|"test",
//                           "loss", "accuracy", ...}; appended, and continued on resume with
//                           no gap or duplicate
//   best.safetensors        weights of the best-validation step (metadata: step, val accuracy)
//   last.safetensors        weights of the latest saved step
//   last.state.safetensors  the state sidecar: weights + Adam moments + a JSON record of the
//                           step, data position (epoch, cursor), best-val record, metric
//                           accumulators and settings; self-contained, so a kill between two
//                           file writes never pairs weights and moments of different steps
//   results.json            test accuracy of the best-validation checkpoint, its step, val
//                           accuracy, wall time (or status "diverged" with the step and
//                           parameter at fault)
//   loss.svg, accuracy.svg  curves against steps
//
// Every file is written atomically (temp file + rename). Checkpoint files carry, in their
// safetensors metadata, the format tag, task, model, step and a checksum per tensor, so a
// corrupt, truncated or foreign file is refused with a message naming what is wrong.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lra/lra/model.hpp"
#include "lra/lra/settings.hpp"
#include "lra/nn/checkpoint.hpp"

namespace lra {

namespace run_files {
inline const char* const config = "config.json";
inline const char* const metrics = "metrics.jsonl";
inline const char* const best = "best.safetensors";
inline const char* const last = "last.safetensors";
inline const char* const state = "last.state.safetensors";
inline const char* const results = "results.json";
}  // namespace run_files

// ---- checkpoint files ----------------------------------------------------------------------
// 64-bit FNV-1a of a tensor's bytes (row-major), as 16 hex digits.
std::string tensor_checksum(const Tensor& t);

// Writes tensors with metadata plus "lra.format" and "lra.checksums" (atomic).
void save_checked(const std::string& path, const nn::NamedTensors& tensors,
                  std::map<std::string, std::string> metadata);
// Reads a file written by save_checked: safetensors validation (nn::load_safetensors), then
// the format tag and every tensor's checksum. CheckpointError naming the file and tensor.
nn::NamedTensors load_checked(const std::string& path,
                              std::map<std::string, std::string>* metadata = nullptr);

// Loads weights (best/last.safetensors) into `model`: checks the file's task and model against
// `task`/model.config().mechanism, then every tensor's name, shape and dtype; loads nothing
// unless all match. Returns the file's metadata.
std::map<std::string, std::string> load_weights(LraModel& model, const std::string& path,
                                                const std::string& task);

// ---- reading a run folder ------------------------------------------------------------------
struct RunInfo {
  std::string dir;
  Settings settings;     // from config.json, with the recorded sources
  std::string data_dir;  // the data folder training read
  bool has_results = false;
  std::string status;  // results.json "status": "complete", "diverged" ("" without results)
  double test_accuracy = 0.0, best_val_accuracy = 0.0, wall_seconds = 0.0;
  int64_t best_step = 0, steps = 0;
};
// ConfigError when `dir` has no readable config.json.
RunInfo read_run(const std::string& dir);

// metrics.jsonl as raw JSON lines, each an object with an integer "step" and a string "split"
// (torn lines skipped; other valid JSON skipped with a warning on stderr).
std::vector<std::string> read_metrics_lines(const std::string& dir);

// Rewrites loss.svg and accuracy.svg from metrics.jsonl.
void write_run_plots(const std::string& dir);

// ---- eval ----------------------------------------------------------------------------------
struct RunEvalOptions {
  std::string split = "test";       // test or val
  std::string checkpoint = "best";  // best or last
  std::string data_dir;             // "" : the run's recorded data folder
  int threads = -1;                 // < 0: the run's setting
  std::function<void(size_t done, size_t total)> progress;
};
struct RunEval {
  double accuracy = 0.0, loss = 0.0;
  double majority = 0.0;  // the split's majority-class rate (data::majority_rate)
  int64_t examples = 0;
  int64_t checkpoint_step = 0;
  std::string checkpoint_path;
  bool has_recorded = false;  // a value recorded by training for this split and checkpoint
  double recorded = 0.0;
  std::string recorded_from;  // "results.json test_accuracy", "metrics.jsonl val at step 400"
  std::string note;           // e.g. "val is evaluated on its first 25 batches, as in training"
};
// Re-evaluates a saved checkpoint of a run exactly as training did (same batches, lengths and
// threads) and finds the value training recorded for it.
RunEval evaluate_run(const std::string& dir, const RunEvalOptions& opt);

}  // namespace lra
